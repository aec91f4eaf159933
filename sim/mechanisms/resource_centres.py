"""NGO resource centres (BRIEF s.4), one per municipality, in the model chosen by ``rc_model``.

Parameters: :class:`sim.params.RCParams` (``cfg.rc_model``).

Each arrangement is expressed through mechanisms acting on the model's state,
never as a multiplier on outcomes. A **resource centre** supports NGOs up to
its staff capacity (overload spreads support thin), raising their capacity
and helping them into competitions; it may keep a bank of practices that
spreads among NGOs, reach families in small settlements, broker the
administration's view of NGOs through personal ties, co-execute municipal
programmes, develop charity and bridge sectors. Which of these a centre
does, how it is funded and what can go wrong (a specialist who leaves,
nominal reporting, a funding gap, friction with the administration) follow
from its model. A municipal RC can become a **centre of public development**
through four steps, each holding for ``transform_months``; losing the
administration's trust or running out of money sends it back to the start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.mechanisms.base import Mechanism
from sim.params import RC_MODELS

if TYPE_CHECKING:
    from sim.model import CrossSectorModel

ADMIN, SUBORD, MUNI_RC, PDC = (RC_MODELS.index(k) for k in RC_MODELS[1:])


class ResourceCentres(Mechanism):
    """State and monthly mechanism of the resource centres of all municipalities.

    Args:
        model: The model (the centres' organisations are ``model.rc0 + m``).
    """

    name = "resource_centres"
    group = "rc_model"

    def __init__(self, model: CrossSectorModel) -> None:
        super().__init__(model)
        p = model.cfg.rc_model
        m = model.n_muni
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

    def reaches_settlements(self) -> np.ndarray:
        """Municipalities whose centre reaches families in small settlements (municipal RC, centre of public development)."""
        return np.isin(self.kind, (MUNI_RC, PDC))

    def annual_funding(self) -> float:
        """Municipal assignment per centre per year (added to each municipal budget)."""
        return self.params.funding_municipal if self.active else 0.0

    # ------------------------------------------------------------------ step
    def add_ngo_slots(self, old: int, add: int) -> None:
        """New NGO slots: not supported, no proven practice."""
        self.supported = np.concatenate([self.supported, np.zeros(add, bool)])
        self.last_supported = np.concatenate([self.last_supported, np.full(add, -10_000, np.int32)])
        self.practice = np.concatenate([self.practice, np.zeros(add, bool)])

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
            room = max(led.balance[mdl.region] - mdl.social_order_left, 0.0)
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
        # (money the municipality committed to partnerships stays reserved: sim/mechanisms/commitments.py)
        free = np.maximum(mdl.mechanisms["commitments"].free()[k], 0.0)  # type: ignore[attr-defined]
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
        biz, ok_b = mdl.state.pick_in_municipality(mdl.biz_orgs, munis, rng.random(munis.size))
        ngo, ok_n = mdl.state.pick_in_municipality(None, munis, rng.random(munis.size))
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
        bm = mdl.org_municipality[mdl.biz_orgs]
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
