"""Policy arrangements: NGO resource centres (BRIEF s.4) and the family-oriented cluster (s.5).

Each arrangement is expressed through mechanisms acting on the model's state,
never as a multiplier on outcomes:

* A **resource centre** (one per municipality) supports NGOs up to its staff
  capacity (overload spreads support thin), raising their capacity and helping
  them into competitions; it may keep a bank of practices that spreads among
  NGOs, reach families in small settlements, broker the administration's view
  of NGOs through personal ties, co-execute municipal programmes, develop
  charity and bridge sectors. Which of these a centre does, how it is funded
  and what can go wrong (a specialist who leaves, nominal reporting, a
  funding gap, friction with the administration) follow from its model.
* A municipal RC can become a **centre of public development** through four
  steps, each holding for ``transform_months``; losing the administration's
  trust or running out of money sends it back to the start.
* The **cluster** forms around a family resource centre on the leading family
  NGO: strategic agreements (long trilateral partnerships), local coalitions,
  quality control and a trust-culture programme that raise members'
  delivery, strategic sessions that create cross-sector ties and a burst of
  proposals, and a one-window access with three tiers (hotline, online
  consultation, crisis centre) plus routing of families to spare capacity.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.params import DOMAINS, RC_MODELS

if TYPE_CHECKING:
    from sim.model import CrossSectorModel

ADMIN, SUBORD, MUNI_RC, PDC = (RC_MODELS.index(k) for k in RC_MODELS[1:])
FAMILY_DOMAINS = (DOMAINS.index("families_children"), DOMAINS.index("at_risk_children"))

ZONES: tuple[str, ...] = ("none", "core", "main", "providing", "auxiliary")
"""Cluster zones of an organisation (the accompanying zone - universities - acts through the core's training)."""


class ResourceCentres:
    """State and monthly mechanism of the resource centres of all municipalities.

    Args:
        model: The model (the centres' organisations are ``model.rc0 + m``).
    """

    def __init__(self, model: CrossSectorModel) -> None:
        p = model.cfg.rc_model
        m = model.n_muni
        self.model = model
        self.params = p
        self.active = p.model != "none"
        self.kind = np.full(m, RC_MODELS.index(p.model), np.int8)
        self.stage = np.zeros(m, np.int8)  # steps toward a centre of public development reached
        self.stage_since = np.zeros(m, np.int32)
        self.in_network = np.full(m, p.network, bool)
        self.domain = np.where(model.plans.any(axis=1), model.plans.argmax(axis=1), 0)  # subordinate: one target group
        self.raised_year = np.zeros(m)  # money raised in the territory this year
        self.raised_last_year = np.zeros(m)
        self.short_months = np.zeros(m, np.int32)
        self.supported = np.zeros(model.n_ngo_slots, bool)  # NGOs supported this month
        self.last_supported = np.full(model.n_ngo_slots, -10_000, np.int32)
        self.practice = np.zeros(model.n_ngo_slots, bool)  # NGOs using a proven practice
        self.n_supported = 0
        self.transformations = 0
        self.bridged = 0
        self.orgs = np.arange(model.rc0, model.ngo0)
        if self.active and p.transform and p.model == "municipal_rc":
            self.stage[:] = 0

    @property
    def pdc(self) -> np.ndarray:
        """Municipalities whose centre works as a centre of public development."""
        return self.kind == PDC

    def annual_funding(self) -> float:
        """Municipal assignment per centre per year (added to each municipal budget)."""
        return self.params.funding_municipal if self.active else 0.0

    # ------------------------------------------------------------------ step
    def step(self) -> None:
        """One month of support, funding, practices, brokerage and transformation."""
        if not self.active:
            return
        mdl, p, led = self.model, self.params, self.model.ledger
        rng = mdl.streams["resource_centres"]
        m = mdl.n_muni
        orgs = self.orgs
        if mdl.t % 12 == 0:
            self.raised_last_year = self.raised_year
            self.raised_year = np.zeros(m)
            if p.funding_municipal > 0:  # the municipal assignment (stable funding)
                munis = np.arange(mdl.muni0, mdl.biz0)
                led.transfer("rc_funding", munis, orgs, np.minimum(p.funding_municipal, np.maximum(led.balance[munis], 0)))
        if mdl.t % 12 == mdl.cfg.finance.grant_month - 1 and p.funding_grant_prob > 0:
            win = np.flatnonzero(rng.random(m) < p.funding_grant_prob)
            # a centre of public development brings money from outside (federal funds); a municipal RC
            # competes for the region's budget
            outside = win[self.pdc[win]]
            inside = win[~self.pdc[win]]
            room = max(led.balance[mdl.region] - mdl._social_order_left, 0.0)
            inside = inside[: int(room // max(p.funding_grant_size, 1.0))]
            led.transfer("rc_grant", mdl.ext["federal_budget"], orgs[outside], p.funding_grant_size)
            led.transfer("rc_grant", mdl.region, orgs[inside], p.funding_grant_size)
            self.raised_year[outside] += p.funding_grant_size
            self.raised_year[inside] += p.funding_grant_size
        # staff paid from the centre's money; an unfunded centre works with the staff it can pay
        wages = p.staff * p.cost_per_staff
        paid = np.minimum(wages, np.maximum(led.balance[orgs], 0.0))
        led.transfer("rc_costs", orgs, mdl.ext["operating_costs"], paid)
        funded = paid / wages if wages > 0 else np.ones(m)
        self.short_months = np.where(funded < 1.0, self.short_months + 1, 0)
        staff = p.staff * funded * p.motivation * np.where(self.in_network, 1.0 - p.network_cost, 1.0)
        # the specialist (administrative model) or the centre's leader leaves: the ties go with the person
        if p.specialist_turnover > 0:
            leave = orgs[rng.random(m) < p.specialist_turnover]
            mdl.trust.replace_person(leave)
        self._support(staff, rng)
        self._practices(rng)
        self._friction()
        pdc = self.pdc
        if pdc.any():
            self._coexecute(pdc)
            self._bridge(pdc, rng)
        if p.network:
            self.in_network &= rng.random(m) >= p.network_exit
        if p.transform:
            self._transform()

    def _support(self, staff: np.ndarray, rng: np.random.Generator) -> None:
        """Support NGOs up to capacity; overload spreads it thin; nominal work has no effect."""
        mdl, p = self.model, self.params
        slots = np.flatnonzero(mdl.ngo_alive)
        muni = mdl.org_municipality[mdl.ngo0 + slots]
        eligible = np.ones(slots.size, bool)
        if p.single_domain:
            eligible = mdl.ngo_domain[slots] == self.domain[muni]
        n_elig = np.bincount(muni[eligible], minlength=mdl.n_muni)
        capacity = staff * p.ngos_per_staff
        share = np.minimum(1.0, capacity / np.maximum(n_elig, 1))
        got = eligible & (rng.random(slots.size) < share[muni])
        real = got & (rng.random(slots.size) < p.effectiveness)
        self.supported[:] = False
        self.supported[slots[real]] = True
        self.last_supported[slots[real]] = mdl.t
        self.n_supported = int(real.sum())
        s = slots[real]
        mdl.ngo_capacity[s] += p.consult_effect * (1.0 - mdl.ngo_capacity[s])
        # support is personal: it builds the centre's ties with the NGOs it serves (both ways)
        if got.any():
            ngo_orgs = mdl.ngo0 + slots[got]
            rc_orgs = self.orgs[muni[got]]
            e = mdl.trust.ensure_edges(np.concatenate([rc_orgs, ngo_orgs]), np.concatenate([ngo_orgs, rc_orgs]), mdl.t)
            mdl.trust.record(e, np.ones(e.size, bool), mdl.t)

    def _practices(self, rng: np.random.Generator) -> None:
        """Supported NGOs adopt practices from the bank; adopters pass them on to NGOs they are tied to."""
        mdl, p = self.model, self.params
        bank = np.full(mdl.n_muni, p.practice_bank) | self.pdc
        if not bank.any():
            return
        slots = np.flatnonzero(self.supported)
        muni = mdl.org_municipality[mdl.ngo0 + slots]
        network_boost = 1.0 + 0.5 * self.in_network[muni]  # the network's shared bank
        adopt = bank[muni] & (rng.random(slots.size) < p.practice_adoption * network_boost)
        self.practice[slots[adopt]] = True
        tr = mdl.trust
        n = tr.n
        src, dst = tr.src[:n], tr.dst[:n]
        both_ngo = (src >= mdl.ngo0) & (dst >= mdl.ngo0) & tr.active[:n]
        e = np.flatnonzero(both_ngo)
        e = e[self.practice[src[e] - mdl.ngo0] & ~self.practice[dst[e] - mdl.ngo0]]
        if e.size:
            learn = dst[e[rng.random(e.size) < p.practice_adoption * 0.5]] - mdl.ngo0
            self.practice[learn] = True
        self.practice &= mdl.ngo_alive

    def _friction(self) -> None:
        """A growing centre competes with the administration: the administration's trust in it erodes."""
        mdl, p = self.model, self.params
        if p.friction <= 0 or self.n_supported == 0:
            return
        slots = np.flatnonzero(self.supported)
        per_muni = np.bincount(mdl.org_municipality[mdl.ngo0 + slots], minlength=mdl.n_muni)
        k = np.flatnonzero(per_muni > 0)
        e = mdl.trust.ensure_edges(mdl.muni0 + k, self.orgs[k], mdl.t)
        mdl.trust.s[e] += p.friction * per_muni[k] / 10.0
        mdl.trust._cache = None

    def _coexecute(self, pdc: np.ndarray) -> None:
        """A centre of public development co-executes municipal programmes: money flows through it to NGOs."""
        mdl, p, led = self.model, self.params, self.model.ledger
        k = np.flatnonzero(pdc)
        munis = mdl.muni0 + k
        monthly = mdl.cfg.region.municipal_support_budget * p.programme_share / 12.0
        free = np.maximum(led.balance[munis] - mdl._reserved_state_inst()[k], 0.0)
        amount = np.minimum(monthly, free)
        led.transfer("rc_programme", munis, self.orgs[k], amount)
        self.raised_year[k] += amount
        # passed on to the NGOs it supports this month, in equal parts
        slots = np.flatnonzero(self.supported)
        muni = mdl.org_municipality[mdl.ngo0 + slots]
        sel = pdc[muni]
        slots, muni = slots[sel], muni[sel]
        if slots.size:
            count = np.bincount(muni, minlength=mdl.n_muni)
            each = amount_per_ngo(amount, k, count, muni)
            led.transfer("rc_programme", self.orgs[muni], mdl.ngo0 + slots, each)
            mdl.ngo_income_month[slots] += each

    def _bridge(self, pdc: np.ndarray, rng: np.random.Generator) -> None:
        """A centre of public development introduces organisations of different sectors to each other."""
        mdl, p = self.model, self.params
        if p.bridging <= 0:
            return
        k = np.flatnonzero(pdc)
        n = rng.poisson(p.bridging, k.size)
        munis = np.repeat(k, n)
        if munis.size == 0:
            return
        biz, ok_b = mdl._pick_in_municipality(mdl._biz_orgs, munis, rng.random(munis.size))
        ngo, ok_n = mdl._pick_in_municipality(None, munis, rng.random(munis.size))
        gov = mdl.muni0 + munis
        # alternate business-NGO and administration-NGO introductions
        other = np.where(np.arange(munis.size) % 2 == 0, biz, gov)
        ok = ok_n & ((np.arange(munis.size) % 2 == 1) | ok_b)
        a, b = other[ok], ngo[ok]
        if a.size:
            e = mdl.trust.ensure_edges(np.concatenate([a, b]), np.concatenate([b, a]), mdl.t)
            mdl.trust.record(e, np.ones(e.size, bool), mdl.t)
        self.bridged = int(ok.sum())

    def charity_factor(self) -> np.ndarray:
        """Multiplier on businesses' CSR budgets from charity development by centres of public development."""
        mdl = self.model
        bm = mdl.org_municipality[mdl._biz_orgs]
        return 1.0 + self.params.charity_development * self.pdc[bm]

    def _transform(self) -> None:
        """The 4-step path from a municipal RC to a centre of public development (it can fail)."""
        mdl, p = self.model, self.params
        k = np.flatnonzero(self.kind == MUNI_RC)
        if k.size == 0:
            return
        trust_admin = mdl.trust.pair_trust(mdl.muni0 + k, self.orgs[k])
        ties = mdl.trust.in_degree[self.orgs[k]]
        raised = np.maximum(self.raised_year[k], self.raised_last_year[k])
        held = mdl.t - self.stage_since[k] >= p.transform_months
        st = self.stage[k].copy()
        cond = [
            trust_admin >= p.transform_trust,  # step 1: a strategic subject, partner of the authority
            ties >= p.transform_ties,  # step 2: promotion, experience and partnerships grow
            raised >= p.transform_income,  # step 3: attracts the territory's financial resources
            np.ones(k.size, bool),  # step 4: develops charity (held for transform_months)
        ]
        nxt = np.zeros(k.size, bool)
        for step_no in range(4):
            at = st == step_no
            nxt |= at & cond[step_no] & (held | (step_no == 0))
        fail = (st > 0) & ((trust_admin < p.transform_trust) | (self.short_months[k] >= 3))
        self.stage[k[fail]] = 0
        self.stage_since[k[fail]] = mdl.t
        up = nxt & ~fail
        self.stage[k[up]] += 1
        self.stage_since[k[up]] = mdl.t
        done = k[self.stage[k] >= 4]
        self.kind[done] = PDC
        self.transformations += done.size


def amount_per_ngo(amount: np.ndarray, k: np.ndarray, count: np.ndarray, muni: np.ndarray) -> np.ndarray:
    """Split each centre's programme money equally among the NGOs it supports."""
    per = np.zeros(count.size)
    per[k] = amount
    return per[muni] / np.maximum(count[muni], 1)


class Cluster:
    """The family-oriented cluster: members, zones, agreements, coalitions, sessions and one window.

    Args:
        model: The model.
    """

    def __init__(self, model: CrossSectorModel) -> None:
        self.model = model
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
        pay = min(p.cost, max(led.balance[mdl.region] - mdl._social_order_left, 0.0))
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
        biz = mdl._biz_orgs[rng.random(mdl._biz_orgs.size) < p.joining_share]
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
            mdl._create_partnerships(
                members, members[:, 0] - mdl.muni0, dom, np.full(len(rows), p.agreement_months), 2, np.zeros(len(rows))
            )
        if p.endowment and mdl.cfg.scenario.endowments:
            # the region founds it within the money it has (it cannot be overdrawn)
            seed = min(p.endowment_seed, max(mdl.ledger.balance[mdl.region], 0.0))
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
        ngo, ok_n = mdl._pick_in_municipality(ngo_m, munis, rng.random(k)) if ngo_m.size else (np.full(k, -1), np.zeros(k, bool))
        biz, ok_b = mdl._pick_in_municipality(biz_m, munis, rng.random(k)) if biz_m.size else (np.full(k, -1), np.zeros(k, bool))
        ok = ok_n & ok_b
        if not ok.any():
            return
        members = np.stack([np.full(ok.sum(), -1), biz[ok], ngo[ok]], axis=1)
        dom = mdl.ngo_domain[members[:, 2] - mdl.ngo0]
        mdl._create_partnerships(members, munis[ok], dom, np.full(ok.sum(), p.coalition_months), 3, np.zeros(ok.sum()))
        self.coalitions += int(ok.sum())

    def member_orgs(self) -> np.ndarray:
        """Cluster membership over all organisation slots."""
        return self.member

    def commitment_boost_value(self) -> float:
        """Share of a member's delivery shortfall closed this month (see :meth:`commitment_boost`)."""
        if not self.launched:
            return 0.0
        p = self.params
        n_members = max(int(self.member.sum()), 1)
        qc = p.quality_control * min(1.0, p.coordinator_staff * 20.0 / n_members)
        return 1.0 - (1.0 - qc) * (1.0 - 0.5 * p.trust_programme)

    def commitment_boost(self, orgs: np.ndarray) -> np.ndarray:
        """Share of a member's delivery shortfall closed by quality control and the trust-culture programme.

        Quality control is limited by the core's coordinators (one per 20 members).
        """
        if not self.launched:
            return np.zeros(len(orgs))
        boost = self.commitment_boost_value()
        return np.where(self.member[np.maximum(orgs, 0)] & (orgs >= 0), boost, 0.0)

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
