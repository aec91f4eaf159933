"""Turnover and acquaintance: ties are carried by people.

Parameters: :class:`sim.params.OrgParams` (``cfg.org.turnover_municipal``,
``turnover_ngo``) and :class:`sim.params.TrustParams` (``cfg.trust.tie_rebuild``).

Key persons of municipalities and NGOs leave with a monthly hazard and the
ties they carried go dormant; successors renew dormant ties between living
organisations with probability ``tie_rebuild`` a month. The tie arrays and
their kernels are in :mod:`sim.mechanisms.trust`
(:meth:`~sim.mechanisms.trust.TrustNetwork.replace_person`,
:meth:`~sim.mechanisms.trust.TrustNetwork.renew`).
"""

from __future__ import annotations

import numpy as np

from sim.mechanisms.base import Mechanism


class Turnover(Mechanism):
    """People leave, ties go dormant, successors renew them (stream ``turnover``)."""

    name = "turnover"
    group = "org"

    def step(self) -> None:
        """One month of turnover and acquaintance."""
        st = self.state
        rng = self.model.streams["turnover"]
        u = rng.random(st.n_orgs)
        leave = np.flatnonzero((u < st.turnover_hazard) & st.alive)
        if leave.size:
            st.counts["ties_lost_turnover"] += st.trust.replace_person(leave)
        # acquaintance: successors renew dormant ties (lost with a person) between living organisations
        renewed = st.trust.renew(self.cfg.trust.tie_rebuild, st.alive, rng, st.t)
        st.counts["ties_formed"] += renewed
