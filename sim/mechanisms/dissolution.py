"""Partnership dissolution: a partnership ends at its term, when a member died or when trust fell too low.

Parameters: :class:`sim.params.PartnershipParams` (``cfg.partnership.dissolve_trust``).

A partnership ends (in this order of reasons) when a member organisation
closed, when its planned end is reached, or when the mean trust between its
members fell below ``dissolve_trust`` (:func:`dissolution_reasons`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.mechanisms.base import Mechanism
from sim.mechanisms.trust import Ties, edge_trust
from sim.partnerships import PartnershipArrays
from sim.state import NGOArrays, OrgArrays

REASONS: tuple[str, ...] = ("member_died", "completed", "low_trust")
"""End reasons by code 1, 2, 3 of :func:`dissolution_reasons`."""


class Dissolution(Mechanism):
    """End of partnerships (no random draws)."""

    name = "dissolution"
    group = "partnership"

    def step(self) -> None:
        """Close the partnerships that end this month."""
        st, pp = self.state, self.cfg.partnership
        ps, tr = st.partnerships, st.trust
        ids = ps.active_ids()
        if ids.size == 0:
            return
        why = dissolution_reasons(ids, ps.arrays(), st.orgs(), st.t, pp.dissolve_trust, tr.ties(), st.ngos())
        for code, reason in enumerate(REASONS, start=1):
            mask = why == code
            if mask.any():
                ps.close(ids[mask], st.t, reason)
                st.counts["partnerships_dissolved"] += int(mask.sum())


# ----------------------------------------------------------------- kernels
@njit(cache=True, nogil=True)
def dissolution_reasons(
    ids: np.ndarray, parts: PartnershipArrays, orgs: OrgArrays, now: int, dissolve_trust: float, ties: Ties, ngos: NGOArrays
) -> np.ndarray:
    """Why each active partnership ends this month: 0 it goes on, 1 a member died, 2 its term is over, 3 low trust.

    Low trust: the mean trust along its member ties is below ``dissolve_trust``.
    A partnership that ran its term with more kept than broken obligations
    gives its NGO project experience.
    """
    members, edges, _, _, end, _, _, _, kept, broken = parts
    _, _, alive, _ = orgs
    _, _, prior_cell, _, r, s, _, _, _, _, institutional, _, w, _ = ties
    ngo0, _, _, ngo_experienced, _, _, _, _, _, _, _, _, _, _ = ngos
    inst_flat = institutional.reshape(-1)
    out = np.zeros(ids.size, np.int8)
    for k in range(ids.size):
        p = ids[k]
        dead = False
        for j in range(3):
            m = members[p, j]
            if m >= 0 and not alive[m]:
                dead = True
        ended = end[p] <= now + 1
        tsum = 0.0
        n_has = 0
        for c in range(edges.shape[1]):
            e = edges[p, c]
            if e >= 0:
                tsum += edge_trust(e, r, s, prior_cell, inst_flat, w)
                n_has += 1
        mean_t = tsum / n_has if n_has > 0 else 1.0
        if dead:
            out[k] = 1
        elif ended:
            out[k] = 2
            if kept[p] > broken[p] and members[p, 2] >= 0:
                ngo_experienced[members[p, 2] - ngo0] = True
        elif mean_t < dissolve_trust:
            out[k] = 3
    return out

