"""The family-oriented cluster (BRIEF s.5).

Parameters: :class:`sim.params.ClusterParams` (``cfg.cluster``).

The cluster forms around a family resource centre on the leading family
NGO: strategic agreements (long trilateral partnerships), local coalitions,
quality control and a trust-culture programme that raise members'
delivery, strategic sessions that create cross-sector ties and a burst of
proposals, and a one-window access with three tiers (hotline, online
consultation, crisis centre) plus routing of families to spare capacity.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.mechanisms.base import Mechanism
from sim.mechanisms.formation import create_partnerships
from sim.params import DOMAINS

if TYPE_CHECKING:
    from sim.model import CrossSectorModel

FAMILY_DOMAINS = (DOMAINS.index("families_children"), DOMAINS.index("at_risk_children"))

ZONES: tuple[str, ...] = ("none", "core", "main", "providing", "auxiliary")
"""Cluster zones of an organisation (the accompanying zone - universities - acts through the core's training)."""


class Cluster(Mechanism):
    """The family-oriented cluster: members, zones, agreements, coalitions, sessions and one window.

    Args:
        model: The model.
    """

    name = "cluster"
    group = "cluster"

    def __init__(self, model: CrossSectorModel) -> None:
        super().__init__(model)
        self.params = model.cfg.cluster
        self.zone = np.zeros(model.n_orgs, np.int8)
        self.launched = False
        self.core = -1
        self.coalitions = 0
        self.session_ties = 0
        self._extra_session = False

    @property
    def member(self) -> np.ndarray:
        """Organisations in the cluster (any zone)."""
        return self.zone > 0

    @property
    def active(self) -> bool:
        """Whether the cluster runs this month."""
        return self.launched

    def add_ngo_slots(self, old: int, add: int) -> None:
        """New NGO slots (appended organisations) are in no zone."""
        self.zone = np.concatenate([self.zone, np.zeros(add, np.int8)])

    def step(self) -> None:
        """Launch at ``launch_month``; then fund the core, hold sessions and form local coalitions."""
        p, mdl = self.params, self.model
        if not p.enabled or mdl.t < p.launch_month:
            return
        if not self.launched:
            self._launch()
            if not self.launched:
                return
        led = mdl.ledger
        self.zone[~mdl.alive] = 0
        if not mdl.alive[self.core]:  # the core closed: the cluster stops
            self.launched = False
            return
        pay = min(p.cost, max(led.balance[mdl.region] - mdl.social_order_left, 0.0))
        led.transfer("cluster_funding", mdl.region, self.core, pay)
        mdl.ngo_income_month[self.core - mdl.ngo0] += pay
        # accompanying zone: the core, with universities and colleges, trains main-zone NGOs
        main = np.flatnonzero(self.zone[mdl.ngo0 :] == ZONES.index("main"))
        mdl.ngo_capacity[main] += p.training * (1.0 - mdl.ngo_capacity[main])
        rng = mdl.streams["cluster"]
        if mdl.t in p.sessions:
            self._session(rng)
        self._local_coalitions(rng)

    def _launch(self) -> None:
        """Choose the core, members and zones; sign the strategic agreements; found the endowment."""
        p, mdl = self.params, self.model
        rng = mdl.streams["cluster"]
        slots = np.flatnonzero(mdl.ngo_alive & np.isin(mdl.ngo_domain, FAMILY_DOMAINS))
        if slots.size == 0:
            return
        core_slot = int(slots[np.argmax(mdl.ngo_capacity[slots])])  # the leading family NGO
        self.core = mdl.ngo0 + core_slot
        self.launched = True
        self.zone[self.core] = ZONES.index("core")
        main = slots[(slots != core_slot) & (rng.random(slots.size) < p.joining_share)]
        self.zone[mdl.ngo0 + main] = ZONES.index("main")
        biz = mdl.biz_orgs[rng.random(mdl.biz_orgs.size) < p.joining_share]
        small = mdl.biz_size[biz - mdl.biz0] == 0
        self.zone[biz[~small]] = ZONES.index("providing")  # funds, sponsors, investors
        self.zone[biz[small]] = ZONES.index("auxiliary")  # trade, media
        # strategic clustering: long-term trilateral agreements coordinated by the core
        rows = []
        for mi in range(mdl.n_muni):
            ngos = mdl.ngo0 + main[mdl.org_municipality[mdl.ngo0 + main] == mi]
            provs = biz[~small]
            local = provs[mdl.org_municipality[provs] == mi]
            provs = local if local.size else provs
            for j in range(min(p.strategic_agreements, ngos.size)):
                if provs.size == 0:
                    break
                rows.append((mdl.muni0 + mi, int(provs[j % provs.size]), int(ngos[j])))
        if rows:
            members = np.array(rows, dtype=np.int64)
            dom = mdl.ngo_domain[members[:, 2] - mdl.ngo0]
            create_partnerships(mdl.state,
                members, members[:, 0] - mdl.muni0, dom, np.full(len(rows), p.agreement_months), 2, np.zeros(len(rows))
            )
        if p.endowment and mdl.cfg.scenario.endowments:
            # the centre founds a target capital formed from donations (concept s.VII); only as a policy option
            # (cluster.endowment_seed > 0, off by default) the region seeds it, within the money it has
            seed = min(p.endowment_seed, max(mdl.ledger.balance[mdl.region], 0.0))
            if seed > 0:
                mdl.ledger.transfer("endowment_donation", mdl.region, mdl.cap0 + core_slot, seed)
            mdl.ngo_endow_intent[core_slot] = True
            if mdl.ledger.balance[mdl.cap0 + core_slot] >= mdl.cfg.finance.endowment_min_capital:
                mdl.ngo_endow_state[core_slot] = 2
            else:
                mdl.ngo_endow_state[core_slot] = 1
                mdl.ngo_endow_first[core_slot] = mdl.t

    def _session(self, rng: np.random.Generator, participants: np.ndarray | None = None) -> None:
        """A strategic session: members, administrations and the region meet; new cross-sector ties."""
        p, mdl = self.params, self.model
        if participants is None:
            participants = np.concatenate([np.flatnonzero(self.member), np.arange(mdl.muni0, mdl.biz0), [mdl.region]])
        k = rng.poisson(p.session_ties, participants.size)
        a = np.repeat(participants, k)
        if a.size == 0:
            return
        b = participants[(rng.random(a.size) * participants.size).astype(np.int64)]
        ok = (a != b) & (mdl.trust_sector[a] != mdl.trust_sector[b])
        a, b = a[ok], b[ok]
        e = mdl.trust.ensure_edges(np.concatenate([a, b]), np.concatenate([b, a]), mdl.t, evidence=1.0)
        self.session_ties += int(ok.sum())
        mdl.trust.last_contact[e] = mdl.t

    def session_now(self) -> None:
        """Hold a strategic session now (a trainer's button): cluster members, or every organisation without a cluster.

        Partnership proposals of the next month rise by ``session_proposals`` per municipality.
        """
        mdl = self.model
        rng = mdl.streams["strategic_sessions"]
        participants = None if self.launched else np.flatnonzero(mdl.alive)
        self._session(rng, participants)
        self._extra_session = True

    def session_proposals(self) -> float:
        """Extra partnership proposals per municipality this month (a session month, or after a session held now)."""
        p = self.params
        if self._extra_session:
            self._extra_session = False
            return p.session_proposals
        return p.session_proposals if self.launched and self.model.t in p.sessions else 0.0

    def _local_coalitions(self, rng: np.random.Generator) -> None:
        """Short-lived coalitions of member NGOs and businesses, under the core's quality control."""
        p, mdl = self.params, self.model
        k = rng.poisson(p.local_coalitions * mdl.n_muni)
        if k == 0:
            return
        munis = rng.integers(0, mdl.n_muni, k)
        ngo_m = np.flatnonzero(self.zone[mdl.ngo0 :] == ZONES.index("main")) + mdl.ngo0
        biz_m = np.flatnonzero(self.member[mdl.biz0 : mdl.manager]) + mdl.biz0
        pick = mdl.state.pick_in_municipality
        ngo, ok_n = pick(ngo_m, munis, rng.random(k)) if ngo_m.size else (np.full(k, -1), np.zeros(k, bool))
        biz, ok_b = pick(biz_m, munis, rng.random(k)) if biz_m.size else (np.full(k, -1), np.zeros(k, bool))
        ok = ok_n & ok_b
        if not ok.any():
            return
        members = np.stack([np.full(ok.sum(), -1), biz[ok], ngo[ok]], axis=1)
        dom = mdl.ngo_domain[members[:, 2] - mdl.ngo0]
        create_partnerships(mdl.state, members, munis[ok], dom, np.full(ok.sum(), p.coalition_months), 3, np.zeros(ok.sum()))
        self.coalitions += int(ok.sum())

    def member_orgs(self) -> np.ndarray:
        """Cluster membership over all organisation slots."""
        return self.member

    def commitment_boost_value(self) -> float:
        """Share of a member's delivery shortfall closed this month by quality control and the trust-culture programme.

        Quality control is limited by the core's coordinators (one per 20 members); the delivery kernel applies
        it to cluster members only (:func:`sim.mechanisms.delivery.deliver_contributions`).
        """
        if not self.launched:
            return 0.0
        p = self.params
        n_members = max(int(self.member.sum()), 1)
        qc = p.quality_control * min(1.0, p.coordinator_staff * 20.0 / n_members)
        return 1.0 - (1.0 - qc) * (1.0 - 0.5 * p.trust_programme)

    # ------------------------------------------------------------ one window
    def awareness_bonus(self) -> float:
        """Hotline: added monthly probability that an eligible family learns of support."""
        p = self.params
        return p.hotline_awareness if self.launched and p.hotline else 0.0

    def apply_bonus(self) -> float:
        """Online consultation: added monthly probability that an aware eligible family applies."""
        p = self.params
        return p.consultation_apply if self.launched and p.online_consultation else 0.0

    def crisis_capacity(self) -> np.ndarray | None:
        """Crisis centre: services/month per municipality reserved for families in difficulty or crisis."""
        p = self.params
        if not (self.launched and p.crisis_centre):
            return None
        return p.crisis_capacity * self.model.families_per_muni / 1000.0

    def routing(self) -> bool:
        """Whether the one window routes families to spare capacity in their municipality."""
        return self.launched and self.params.routing
