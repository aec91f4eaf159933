"""NGO fairs: NGOs present their projects to local business and citizens.

Parameters: :class:`sim.params.FairParams` (``cfg.fairs``).

The concept names "ярмарки НКО, ярмарки социальных проектов и услуг" among the
combined mechanisms of interaction (s.IV.3.2) but gives no rules or numbers; the
rules here are assumptions. In each of ``months`` every municipality holds a
fair: each living NGO presents with probability ``participation``; a presenting
NGO and each local business meet and form a tie (both directions, started at the
institutional prior, as any new tie) with probability ``tie_prob`` - afterwards
the business's giving (:mod:`sim.mechanisms.giving`, the same month on) reaches
it; and citizens at the fair give it ``citizen_gift`` times its reputation
(channel ``fair_donation``). Stream ``fairs``.
"""

from __future__ import annotations

import numpy as np

from sim.mechanisms.base import Mechanism


class Fairs(Mechanism):
    """The municipalities' NGO fairs (stream ``fairs``)."""

    name = "fairs"
    group = "fairs"

    def step(self) -> None:
        """A fair in each municipality in the fair months."""
        p = self.cfg.fairs
        st = self.state
        if not p.enabled or (st.t % 12) + 1 not in p.months:
            return
        rng = self.model.streams["fairs"]
        slots = st.alive_slots()
        present = slots[rng.random(slots.size) < p.participation]
        st.counts["fair_participants"] += present.size
        if present.size == 0:
            return
        ngo = st.ngo0 + present
        # ties with local business
        biz = st.biz_orgs
        same = st.org_municipality[ngo][:, None] == st.org_municipality[biz][None, :]
        meet = same & (rng.random(same.shape) < p.tie_prob)
        ni, bi = np.nonzero(meet)
        if ni.size:
            a, b = ngo[ni], biz[bi]
            st.trust.ensure_edges(np.concatenate([b, a]), np.concatenate([a, b]), st.t)
            st.counts["fair_ties"] += ni.size
        # citizens' gifts at the fair
        gift = p.citizen_gift * st.trust.reputation[ngo]
        st.ledger.transfer("fair_donation", st.ext["citizens"], ngo, gift)
        st.ngo_income_month[present] += gift
        st.counts["fair_donations"] += float(gift.sum())
