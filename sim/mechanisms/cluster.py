"""The family-oriented cluster (concept "Семья. ЗаРождение", BRIEF s.5 corrected per Table IV.1).

Parameters: :class:`sim.params.ClusterParams` (``cfg.cluster``).

The cluster forms around a family resource centre on the leading family
NGO. Its parts, each after the concept:

* **Launch sequence** (concept VI.1, VI.5): a strategic session first, then
  the agreement of intent on a centre at the leading family NGO, the
  region's decree, the centre (members join their zones), and the
  agreements with members; one step every ``launch_step_months`` from
  ``launch_month`` (:data:`LAUNCH_STEPS`). The cluster operates from the
  agreements on.
* **Zones per Table IV.1**: core (the centre's NGO); main zone - pro-family
  NGOs (families and children, children at risk); providing zone - funds,
  small/medium/large business, investors and trade (every joining
  business); auxiliary zone - medical and social services, volunteer
  organisations, social entrepreneurs, media (here: joining NGOs of the
  other domains); accompanying zone - universities and colleges (no agents;
  they act through training). Each zone has the concept's interaction type
  (:data:`ZONE_INTERACTION`), which sets how its members act: mutual help in
  NGO-NGO coalitions (main), support as the investor bank's sponsors
  (providing), competition for places in projects (auxiliary),
  integration through training (accompanying).
* **Agreements with terms and renewal**: strategic agreements
  (trilateral: municipality, providing business, main-zone NGO) run
  ``agreement_months``; at term they are renewed when ``renewal`` is on,
  the members are alive, at least ``renewal_min_kept`` of their obligations
  were kept and the municipality has money (:meth:`Cluster.muni_can_commit`,
  a hook for the budget rules of formation); otherwise they lapse.
* **Strategic and local clustering**: projects from the banks
  (:mod:`sim.mechanisms.cluster_banks`), or random local coalitions with the
  banks off, and NGO-NGO coalitions of main-zone NGOs.
* **One window** (:mod:`sim.mechanisms.one_window`): tiers staged and paid.
* Quality control and the trust-culture programme raise members' delivery;
  strategic sessions create cross-sector ties and a burst of proposals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.mechanisms.base import Mechanism
from sim.mechanisms.cluster_banks import PROJECT_CLASSES, ProjectBanks
from sim.mechanisms.formation import create_partnerships
from sim.mechanisms.one_window import TIERS, OneWindow
from sim.params import DOMAINS

if TYPE_CHECKING:
    from sim.model import CrossSectorModel

FAMILY_DOMAINS = (DOMAINS.index("families_children"), DOMAINS.index("at_risk_children"))

ZONES: tuple[str, ...] = ("none", "core", "main", "providing", "auxiliary", "accompanying")
"""Cluster zones of an organisation (Table IV.1; the accompanying zone - universities - has no agents)."""

ZONE_INTERACTION: dict[str, str] = {
    "main": "cooperation/mutual help",
    "providing": "assistance/support",
    "auxiliary": "competition/rivalry",
    "accompanying": "cooperation/integration",
}
"""The concept's interaction type of each zone (section IV, after the project groups)."""

LAUNCH_STEPS: tuple[str, ...] = ("strategic_session", "intent_agreement", "decree", "centre", "agreements")
"""The launch sequence in the concept's order (VI.1 sessions first; VI.5 intent, decree, centre, agreements)."""

CLUSTER_METRICS: tuple[str, ...] = (
    "cluster_stage",
    "cluster_agreements_active",
    "cluster_renewals",
    "cluster_lapses",
    "cluster_ngo_coalitions",
    "cluster_ideas",
    *(f"cluster_projects_{c}" for c in PROJECT_CLASSES),
    *(f"one_window_{k}_level" for k in TIERS),
    "families_monitored",
    "sust_people_per_ngo",
    "sust_partners_per_ngo",
    "sust_registered_share",
    "sust_age_years",
    "sust_endowment_share",
)
"""Time-series columns of the cluster and of the concept's signs of NGO sustainability (VIII.2)."""


class Cluster(Mechanism):
    """The family-oriented cluster: launch sequence, zones, agreements, clustering, banks and one window.

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
        """Whether the cluster operates (its launch sequence is complete and its core is alive)."""
        self.stage = 0  # launch steps done (0..len(LAUNCH_STEPS))
        self.events: list[tuple[int, str]] = []
        """Launch steps as ``(month, step)`` in the order they happened."""
        self.core = -1
        self.coalitions = 0
        self.session_ties = 0
        self._extra_session = False
        self._session_month = -1
        self.agreements = np.zeros(0, np.int64)  # partnership ids of the strategic agreements
        self.renewals = 0
        self.lapses = 0
        self.ngo_pairs = np.zeros((0, 2), np.int64)  # NGO-NGO coalitions (organisation ids)
        self.ngo_pair_end = np.zeros(0, np.int64)
        self.ngo_coalitions = 0
        self.banks = ProjectBanks(self)
        self.window = OneWindow(model)

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

    def member_ngos(self, auxiliary: bool = False) -> np.ndarray:
        """Main-zone NGOs (and auxiliary-zone ones if ``auxiliary``), as organisation ids."""
        z = self.zone[self.model.ngo0 :]
        sel = z == ZONES.index("main")
        if auxiliary:
            sel |= z == ZONES.index("auxiliary")
        return np.flatnonzero(sel) + self.model.ngo0

    def member_businesses(self) -> np.ndarray:
        """Providing-zone businesses, as organisation ids."""
        mdl = self.model
        return np.flatnonzero(self.zone[mdl.biz0 : mdl.manager] == ZONES.index("providing")) + mdl.biz0

    # ------------------------------------------------------------ the month
    def step(self) -> None:
        """Advance the launch sequence; once operating, fund the core and run the cluster's work."""
        p, mdl = self.params, self.model
        if not p.enabled or mdl.t < p.launch_month:
            return
        if self.stage < len(LAUNCH_STEPS):
            self._launch_sequence()
            if not self.launched:
                return
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
        self.window.pay()
        # accompanying zone (cooperation/integration): the core, with universities and colleges, trains main-zone NGOs
        main = self.member_ngos() - mdl.ngo0
        mdl.ngo_capacity[main] += p.training * (1.0 - mdl.ngo_capacity[main])
        rng = mdl.streams["cluster"]
        if mdl.t in p.sessions:
            self._session(rng)
        self._renew_agreements()
        if p.banks:
            self.coalitions += self.banks.month(rng)
        else:
            self._local_coalitions(rng)
        self._ngo_coalitions(mdl.streams["cluster_ngo_coalitions"])

    def _launch_sequence(self) -> None:
        """Take the next launch step when its month has come (a step whose condition fails waits)."""
        p, mdl = self.params, self.model
        while self.stage < len(LAUNCH_STEPS) and mdl.t >= p.launch_month + self.stage * p.launch_step_months:
            step = LAUNCH_STEPS[self.stage]
            if not getattr(self, f"_step_{step}")():
                return
            self.events.append((mdl.t, step))
            self.stage += 1

    def _step_strategic_session(self) -> bool:
        """The cross-sector strategic session that starts it all: potential members, administrations and the region."""
        mdl = self.model
        fam = np.flatnonzero(mdl.ngo_alive & np.isin(mdl.ngo_domain, FAMILY_DOMAINS)) + mdl.ngo0
        if fam.size == 0:
            return False
        participants = np.concatenate([fam, mdl.biz_orgs, np.arange(mdl.muni0, mdl.biz0), [mdl.region]])
        self._session(mdl.streams["cluster"], participants)
        self._session_month = mdl.t
        return True

    def _step_intent_agreement(self) -> bool:
        """Agreement of intent to found the centre at the leading family NGO (by capacity)."""
        mdl = self.model
        slots = np.flatnonzero(mdl.ngo_alive & np.isin(mdl.ngo_domain, FAMILY_DOMAINS))
        if slots.size == 0:
            return False
        self.core = mdl.ngo0 + int(slots[np.argmax(mdl.ngo_capacity[slots])])
        return True

    def _step_decree(self) -> bool:
        """The region's decree on the centre and the cluster (needs the core NGO still alive)."""
        return bool(self.model.alive[self.core])

    def _step_centre(self) -> bool:
        """The family resource centre opens at the core; members join their zones (Table IV.1)."""
        p, mdl = self.params, self.model
        if not mdl.alive[self.core]:
            return False
        rng = mdl.streams["cluster"]
        core_slot = self.core - mdl.ngo0
        self.zone[self.core] = ZONES.index("core")
        alive = np.flatnonzero(mdl.ngo_alive)
        alive = alive[alive != core_slot]
        join = alive[rng.random(alive.size) < p.joining_share]
        family = np.isin(mdl.ngo_domain[join], FAMILY_DOMAINS)
        self.zone[mdl.ngo0 + join[family]] = ZONES.index("main")  # pro-family NGOs
        self.zone[mdl.ngo0 + join[~family]] = ZONES.index("auxiliary")  # social services, volunteers, social entrepreneurs
        biz = mdl.biz_orgs[rng.random(mdl.biz_orgs.size) < p.joining_share]
        self.zone[biz] = ZONES.index("providing")  # small sponsors, medium donors, large CSR, trade
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
        return True

    def _step_agreements(self) -> bool:
        """Agreements with members (strategic clustering): trilateral, coordinated by the core; the cluster operates."""
        p, mdl = self.params, self.model
        if not mdl.alive[self.core]:
            return False
        main = self.member_ngos()
        provs_all = self.member_businesses()
        rows = []
        for mi in range(mdl.n_muni):
            ngos = main[mdl.org_municipality[main] == mi]
            local = provs_all[mdl.org_municipality[provs_all] == mi]
            provs = local if local.size else provs_all
            if provs.size == 0:
                continue
            for j in range(min(p.strategic_agreements, ngos.size)):
                rows.append((mdl.muni0 + mi, int(provs[j % provs.size]), int(ngos[j])))
        if rows:
            members = np.array(rows, dtype=np.int64)
            dom = mdl.ngo_domain[members[:, 2] - mdl.ngo0]
            ids = create_partnerships(
                mdl.state, members, members[:, 0] - mdl.muni0, dom, np.full(len(rows), p.agreement_months), 2,
                np.zeros(len(rows)),
            )  # fmt: skip
            self.agreements = np.asarray(ids, np.int64)
        self.launched = True
        self.window.opened_at = mdl.t
        return True

    def budget_line(self, months: int) -> float:
        """Roubles the region's decree budgets for ``months`` of the centre (and of the one window if the region pays).

        The crisis centre's line is its capacity at ``crisis_service_cost`` per service.
        """
        p = self.params
        monthly = p.cost
        if p.one_window_payer == "region":
            crisis = p.crisis_capacity * float(self.model.families_per_muni.sum()) / 1000.0 * p.crisis_service_cost
            monthly += p.hotline * p.tier_costs[0] + p.online_consultation * p.tier_costs[1] + p.crisis_centre * crisis
        return monthly * months

    # ------------------------------------------------------------ agreements
    def muni_can_commit(self, muni: np.ndarray) -> np.ndarray:
        """Whether each municipality (organisation id) can commit to a renewed agreement: a month of its money is left.

        A hook for the budget rules of :mod:`sim.mechanisms.formation` (government commitments within budget).
        """
        return self.model.ledger.balance[np.asarray(muni, np.int64)] >= self.cfg.partnership.gov_money

    def _renew_agreements(self) -> None:
        """Renew the strategic agreements whose term ends this month, or let them lapse."""
        p, mdl = self.params, self.model
        parts = mdl.state.partnerships
        ids = self.agreements[parts.active[self.agreements]] if self.agreements.size else self.agreements
        ending = ids[parts.end[ids] <= mdl.t + 1]
        if ending.size == 0:
            return
        m = parts.members[ending]
        alive = np.all((m < 0) | mdl.alive[np.maximum(m, 0)], axis=1)
        done = parts.kept[ending] + parts.broken[ending]
        kept_ok = parts.kept[ending] >= p.renewal_min_kept * np.maximum(done, 1)
        gov = m[:, 0]
        money_ok = (gov < 0) | self.muni_can_commit(np.maximum(gov, 0))
        renew = p.renewal & alive & kept_ok & money_ok
        parts.end[ending[renew]] += p.agreement_months
        self.renewals += int(renew.sum())
        self.lapses += int((~renew).sum())

    # ------------------------------------------------------------ sessions
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
        if self._session_month == self.model.t:
            return p.session_proposals
        return p.session_proposals if self.launched and self.model.t in p.sessions else 0.0

    # ------------------------------------------------------------ clustering
    def _local_coalitions(self, rng: np.random.Generator) -> None:
        """Short-lived coalitions of a random member NGO and member business (the banks off), under quality control."""
        p, mdl = self.params, self.model
        k = rng.poisson(p.local_coalitions * mdl.n_muni)
        if k == 0:
            return
        munis = rng.integers(0, mdl.n_muni, k)
        ngo_m = self.member_ngos()
        biz_m = self.member_businesses()
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
        cap = mdl.ngo_capacity[members[:, 2] - mdl.ngo0]
        self.banks.log += [(mdl.t, -1, int(m[2]), int(m[1]), -1, float(x)) for m, x in zip(members, cap, strict=True)]

    def _ngo_coalitions(self, rng: np.random.Generator) -> None:
        """NGO-NGO coalitions of main-zone NGOs of a municipality; the weaker partner closes part of its capacity gap."""
        p, mdl = self.params, self.model
        keep = (self.ngo_pair_end > mdl.t) & mdl.alive[self.ngo_pairs[:, 0]] & mdl.alive[self.ngo_pairs[:, 1]]
        self.ngo_pairs, self.ngo_pair_end = self.ngo_pairs[keep], self.ngo_pair_end[keep]
        main = self.member_ngos()
        k = rng.poisson(p.ngo_coalitions * mdl.n_muni)
        if k and main.size > 1:
            munis = rng.integers(0, mdl.n_muni, k)
            pick = mdl.state.pick_in_municipality
            a, ok_a = pick(main, munis, rng.random(k))
            b, ok_b = pick(main, munis, rng.random(k))
            ok = ok_a & ok_b & (a != b)
            if ok.any():
                a, b = a[ok], b[ok]
                mdl.trust.ensure_edges(np.concatenate([a, b]), np.concatenate([b, a]), mdl.t, evidence=1.0)
                self.ngo_pairs = np.concatenate([self.ngo_pairs, np.stack([a, b], axis=1)])
                self.ngo_pair_end = np.concatenate([self.ngo_pair_end, np.full(a.size, mdl.t + p.coalition_months)])
                self.ngo_coalitions += int(a.size)
        if self.ngo_pairs.size:  # cooperation/mutual help
            cap = mdl.ngo_capacity
            a, b = self.ngo_pairs[:, 0] - mdl.ngo0, self.ngo_pairs[:, 1] - mdl.ngo0
            hi = np.maximum(cap[a], cap[b])
            for s in (a, b):
                cap[s] += p.mutual_help * (hi - cap[s])

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
        """Hotline: added monthly probability that an eligible family learns of support (at the tier's paid level)."""
        return self.params.hotline_awareness * self.window.level(0) if self.launched else 0.0

    def apply_bonus(self) -> float:
        """Online consultation: added monthly probability that an aware eligible family applies."""
        return self.params.consultation_apply * self.window.level(1) if self.launched else 0.0

    def crisis_capacity(self) -> np.ndarray | None:
        """Crisis centre: services/month per municipality reserved for families in difficulty or crisis."""
        level = self.window.level(2) if self.launched else 0.0
        if level <= 0.0:
            return None
        return self.params.crisis_capacity * level * self.model.families_per_muni / 1000.0

    def routing(self) -> bool:
        """Whether the one window routes families to spare capacity (dispatching opens at tier 1's stage)."""
        return self.launched and self.params.routing and self.window.stage_reached(0)

    # ------------------------------------------------------------ indicators
    def metric_values(self) -> list[float]:
        """Values of :data:`CLUSTER_METRICS` this month."""
        mdl = self.model
        st = mdl.state
        parts = st.partnerships
        n_agr = int(parts.active[self.agreements].sum()) if self.agreements.size else 0
        fam = st.families
        monitored = int(np.count_nonzero(fam.aware & (fam.state >= 2))) if self.window.tier_open(0) else 0
        return [
            float(self.stage),
            n_agr,
            self.renewals,
            self.lapses,
            self.ngo_coalitions,
            self.banks.ideas,
            *self.banks.formed.tolist(),
            *(self.window.level(k) if self.launched else 0.0 for k in range(len(TIERS))),
            monitored,
            *sustainability_signs(mdl),
        ]


def sustainability_signs(model: CrossSectorModel) -> tuple[float, float, float, float, float]:
    """The concept's signs of NGO sustainability (VIII.2) over alive NGOs.

    Returns:
        People giving their time (staff + volunteers) per NGO; active partnerships per NGO (loyal partners);
        share on the register (the register of providers of socially useful services); mean age in years
        (a relatively long life); share with a formed endowment (wider sources of funding).
    """
    st = model.state
    alive = st.ngo_alive
    n = int(alive.sum())
    if n == 0:
        return 0.0, 0.0, 0.0, 0.0, 0.0
    parts = st.partnerships
    act = parts.active[: parts.n]
    ngo = parts.members[: parts.n, 2][act]
    n_part = float(np.count_nonzero(ngo >= 0))
    people = float((st.ngo_staff[alive] + st.ngo_volunteers[alive]).sum()) / n
    age = max(float((st.t - np.maximum(st.ngo_born[alive], 0)).mean()) / 12.0, 0.0)
    return (
        people,
        n_part / n,
        float(st.ngo_registered[alive].mean()),
        age,
        float((st.ngo_endow_state[alive] == 2).mean()),
    )
