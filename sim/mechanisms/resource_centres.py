"""NGO resource centres (BRIEF s.4, Ural study, Kaluga proposal) in the model chosen by ``rc_model``.

Parameters: :class:`sim.params.RCParams` (``cfg.rc_model``).

A centre's effect on NGOs runs only through the channels the Ural study
names, each with its own parameter (all zero = no effect on NGOs):

* **training and consulting** (``consult_effect``, ``experience_help``): a
  really supported NGO gains capacity and project experience, which raise
  its grant score and its services (grants.py, services.py);
* **help with applications** (``project_help``, ``score_help``);
* **representation**: NGOs it supported within a year ask their municipality
  more often (``representation``, requests.py), and with ``personal_brokerage``
  the centre's own knowledge of the NGOs it works with weighs in the
  municipality's decisions on their requests (only then does support create
  the centre's ties);
* **bank of practices** (``practice_bank``, ``practice_adoption``): adopted
  by supported NGOs and spread along NGO-NGO ties; a network shares banks;
* **outreach** to small settlements (families.py), and for a centre of
  public development programme co-execution, charity development and
  bridging (introductions only; trust then grows from joint work).

Overload (NGOs per staff, volunteers), the specialist's turnover and
nominal reporting (``effectiveness``: reported support that did nothing)
limit what reaches NGOs. Trust moves only through real joint work: the
administration records the centre's real support of NGOs in its plan's
domains (``joint_work``) and friction (``friction``); support itself records
no obligation. Centres apply in the same grant competitions as NGOs
(:meth:`ResourceCentres.applications`, called by grants.py).

Tiers (``tier``): one centre per municipality, or one regional centre (slot
of municipality 0) serving the whole region (Kaluga). A network (``network``)
has a regional coordinator (``regional_staff``, paid by the members), shares
its banks, and members learn at meetings and internships (``network_learning``),
pay ``network_cost`` of their time and leave with ``network_exit``.

The transformation path (``transform``): an administrative specialist's
function becomes a municipal RC after ``upgrade_months`` if a capable
organisation exists in the territory (an experienced NGO with capacity
``capable_capacity``), otherwise the attempt fails and is retried yearly;
a municipal RC becomes a centre of public development through four steps,
each held for ``transform_months`` (trust of the administration; ties;
money raised in the territory; business-NGO ties for charity); losing the
administration's trust or running out of money sends it back to step 0.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.mechanisms.base import Mechanism
from sim.params import RC_MODELS

if TYPE_CHECKING:
    from sim.model import CrossSectorModel

ADMIN, SUBORD, MUNI_RC, PDC = (RC_MODELS.index(k) for k in RC_MODELS[1:])

RC_INDICATORS: tuple[str, ...] = (
    "rc_requests",
    "rc_services",
    "rc_services_reported",
    "rc_leaders_trained",
    "rc_volunteers",
    "rc_students_trained",
    "rc_level_mean",
    "rc_no_capable_org",
    "rc_grants_won",
)
"""Time-series columns of the centres (Kaluga proposal s.13 criteria and the path), see :meth:`ResourceCentres.indicators`."""


class ResourceCentres(Mechanism):
    """State and monthly mechanism of the resource centres (one slot per municipality).

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
        self.exists = np.full(m, self.active, bool)  # which slots hold a centre
        if p.tier == "regional":
            self.exists[1:] = False
        # the centre serving each municipality's NGOs
        self.serve = np.arange(m) if p.tier == "municipal" else np.zeros(m, np.int64)
        self.kind = np.full(m, RC_MODELS.index(p.model), np.int8)
        self.stage = np.zeros(m, np.int8)  # steps toward a centre of public development reached
        self.stage_since = np.zeros(m, np.int32)
        self.in_network = np.full(m, p.network, bool) & self.exists
        self.staff = np.where(self.exists, p.staff, 0.0)
        self.cost_per_staff = np.full(m, p.cost_per_staff)
        self.funding = np.where(self.exists, p.funding_municipal, 0.0)
        self.volunteers = np.where(self.exists, p.volunteers, 0.0)
        self.has_bank = np.full(m, p.practice_bank) & self.exists  # a municipal RC set up on the path gets one
        self.worked = np.zeros(m, np.int32)  # months of real support (the centre's project experience)
        self.domain = np.where(model.plans.any(axis=1), model.plans.argmax(axis=1), 0)  # subordinate: one target group
        self.raised_year = np.zeros(m)  # money raised in the territory this year
        self.raised_last_year = np.zeros(m)
        self.short_months = np.zeros(m, np.int32)
        self.supported = np.zeros(model.n_ngo_slots, bool)  # NGOs really supported this month
        self.last_supported = np.full(model.n_ngo_slots, -10_000, np.int32)
        self.trained = np.zeros(model.n_ngo_slots, bool)  # NGOs whose leader the centre has trained
        self.practice = np.zeros(model.n_ngo_slots, bool)  # NGOs using a proven practice
        self.n_supported = 0
        self.n_requests = 0  # NGOs turning to a centre this month
        self.n_reported = 0  # support acts reported (real + nominal)
        self.students = 0.0
        self.no_capable = np.zeros(m, bool)  # last upgrade attempt failed: no capable organisation
        self.grants_won = 0
        self.transformations = 0
        self.upgrades = 0
        self.bridged = 0
        self.orgs = np.arange(model.rc0, model.ngo0)

    @property
    def pdc(self) -> np.ndarray:
        """Municipalities whose centre works as a centre of public development."""
        return (self.kind == PDC) & self.exists

    def reaches_settlements(self) -> np.ndarray:
        """Municipalities served by a centre reaching small settlements (municipal RC, centre of public development)."""
        return np.isin(self.kind, (MUNI_RC, PDC))[self.serve] & self.exists[self.serve]

    def annual_funding(self) -> np.ndarray | float:
        """Municipal assignment per municipality per year (added to each municipal budget)."""
        return self.funding if self.active else 0.0

    def request_factor(self, slots: np.ndarray) -> np.ndarray | float:
        """Multiplier on NGO slots' request probability: the centre represents NGOs it supported within a year."""
        if not self.active or self.params.representation <= 0:
            return 1.0
        return 1.0 + self.params.representation * (self.last_supported[slots] > self.model.t - 12)

    def level(self) -> np.ndarray:
        """Place of each existing centre on the path: 0 administrative/subordinate, 1 municipal RC, 2 public development."""
        lv = np.select([self.kind == PDC, self.kind == MUNI_RC], [2.0, 1.0], 0.0)
        return lv[self.exists]

    def indicators(self) -> list[float]:
        """Values of :data:`RC_INDICATORS` this month."""
        if not self.active:
            return [0.0] * len(RC_INDICATORS)
        return [
            float(self.n_requests),
            float(self.n_supported),
            float(self.n_reported),
            float(np.count_nonzero(self.trained)),
            float(self.volunteers.sum()),
            float(self.students),
            float(self.level().mean()),
            float(np.count_nonzero(self.no_capable & self.exists)),
            float(self.grants_won),
        ]

    # ------------------------------------------------------------------ step
    def add_ngo_slots(self, old: int, add: int) -> None:
        """New NGO slots: not supported, not trained, no proven practice."""
        self.supported = np.concatenate([self.supported, np.zeros(add, bool)])
        self.last_supported = np.concatenate([self.last_supported, np.full(add, -10_000, np.int32)])
        self.trained = np.concatenate([self.trained, np.zeros(add, bool)])
        self.practice = np.concatenate([self.practice, np.zeros(add, bool)])

    def step(self) -> None:
        """One month of funding, support, practices, joint work, network and transformation."""
        if not self.active:
            return
        mdl, p, led = self.model, self.params, self.model.ledger
        rng = mdl.streams["resource_centres"]
        m = mdl.n_muni
        orgs = self.orgs
        ex = self.exists
        if mdl.t % 12 == 0:
            self.raised_last_year = self.raised_year
            self.raised_year = np.zeros(m)
            munis = np.arange(mdl.muni0, mdl.biz0)
            # the municipal assignment (stable funding), added to the municipal budget in budgets.py
            led.transfer("rc_funding", munis, orgs, np.minimum(self.funding, np.maximum(led.balance[munis], 0.0)))
            if p.funding_university > 0:  # the host university's own reserves (Kaluga)
                led.transfer("rc_funding", mdl.ext["university"], orgs[ex], p.funding_university)
                self.raised_year[ex] += p.funding_university
            if mdl.t > 0:
                self.volunteers = self.volunteers * (1.0 + p.volunteer_growth)
            self.students += p.students_per_year * np.count_nonzero(ex)
        # staff paid from the centre's money; an unfunded centre works with the staff it can pay
        wages = self.staff * self.cost_per_staff
        if p.network and p.regional_staff > 0 and self.in_network.any():  # the members pay the coordinator
            wages = wages + self.in_network * p.regional_staff * p.cost_per_staff / self.in_network.sum()
        paid = np.minimum(wages, np.maximum(led.balance[orgs], 0.0)) * ex
        led.transfer("rc_costs", orgs, mdl.ext["operating_costs"], paid)
        funded = np.where(wages > 0, paid / np.maximum(wages, 1e-12), 1.0)
        self.short_months = np.where(ex & (funded < 1.0), self.short_months + 1, 0)
        staff = self.staff * funded * p.motivation * np.where(self.in_network, 1.0 - p.network_cost, 1.0)
        volunteers = self.volunteers * funded
        # the specialist (administrative model) leaves: the ties go with the person
        if p.specialist_turnover > 0:
            leave = orgs[ex & (self.kind == ADMIN) & (rng.random(m) < p.specialist_turnover)]
            mdl.trust.replace_person(leave)
        self._support(staff, volunteers, rng)
        self._practices(rng)
        self._joint_work()
        pdc = self.pdc
        if pdc.any():
            self._coexecute(pdc)
            self._bridge(pdc, rng)
        if p.network:
            self.in_network &= rng.random(m) >= p.network_exit
        if p.transform:
            self._upgrade()
            self._transform()

    def _support(self, staff: np.ndarray, volunteers: np.ndarray, rng: np.random.Generator) -> None:
        """Support NGOs up to capacity; overload spreads it thin; nominal work has no effect."""
        mdl, p = self.model, self.params
        slots = np.flatnonzero(mdl.ngo_alive)
        centre = self.serve[mdl.org_municipality[mdl.ngo0 + slots]]
        eligible = self.exists[centre]
        if p.single_domain:
            eligible &= mdl.ngo_domain[slots] == self.domain[centre]
        n_elig = np.bincount(centre[eligible], minlength=mdl.n_muni)
        capacity = staff * p.ngos_per_staff + volunteers * p.ngos_per_volunteer
        share = np.minimum(1.0, capacity / np.maximum(n_elig, 1))
        got = eligible & (rng.random(slots.size) < share[centre])
        real = got & (rng.random(slots.size) < p.effectiveness)
        self.n_requests = int(eligible.sum())
        self.n_reported = int(got.sum())
        self.supported[:] = False
        self.supported[slots[real]] = True
        self.last_supported[slots[real]] = mdl.t
        self.n_supported = int(real.sum())
        self.worked += np.bincount(centre[real], minlength=mdl.n_muni) > 0
        s = slots[real]
        learn = p.consult_effect * (1.0 + p.network_learning * self.in_network[centre[real]])
        mdl.ngo_capacity[s] += learn * (1.0 - mdl.ngo_capacity[s])
        if p.consult_effect > 0:
            self.trained[s] = True
        if p.experience_help > 0:
            gain = s[~mdl.ngo_experienced[s] & (rng.random(s.size) < p.experience_help)]
            mdl.ngo_experienced[gain] = True
        # representation: the centre gets to know the NGOs it really works with (a tie without evidence);
        # only the brokerage channel uses these ties
        if p.personal_brokerage > 0 and s.size:
            e = mdl.trust.ensure_edges(self.orgs[centre[real]], mdl.ngo0 + s, mdl.t)
            mdl.trust.r[e] += 1.0  # the centre's own experience of the NGO (one direction, not gossiped)
            mdl.trust._cache = None

    def _practices(self, rng: np.random.Generator) -> None:
        """Supported NGOs adopt practices from the bank; adopters pass them on to NGOs they are tied to."""
        mdl, p = self.model, self.params
        if p.practice_adoption <= 0:
            return
        bank = (self.has_bank | self.pdc) & self.exists
        if p.network:  # the network's members exchange their banks
            bank |= self.in_network & bool((bank & self.in_network).any())
        if not bank.any():
            return
        slots = np.flatnonzero(self.supported)
        centre = self.serve[mdl.org_municipality[mdl.ngo0 + slots]]
        network_boost = 1.0 + 0.5 * self.in_network[centre]  # the network's shared bank
        adopt = bank[centre] & (rng.random(slots.size) < p.practice_adoption * network_boost)
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

    def _joint_work(self) -> None:
        """The administration's evidence about its centre: real work on its plan (kept) and friction (broken)."""
        mdl, p = self.model, self.params
        if self.n_supported == 0 or (p.joint_work <= 0 and p.friction <= 0):
            return
        slots = np.flatnonzero(self.supported)
        muni = mdl.org_municipality[mdl.ngo0 + slots]
        centre = self.serve[muni]
        per = np.bincount(centre, minlength=mdl.n_muni)
        in_plan = mdl.plans[muni, mdl.ngo_domain[slots]]
        per_plan = np.bincount(centre[in_plan], minlength=mdl.n_muni)
        k = np.flatnonzero(per > 0)
        e = mdl.trust.ensure_edges(mdl.muni0 + k, self.orgs[k], mdl.t)
        mdl.trust.r[e] += p.joint_work * per_plan[k] / 10.0
        mdl.trust.s[e] += p.friction * per[k] / 10.0
        mdl.trust._cache = None

    def _coexecute(self, pdc: np.ndarray) -> None:
        """A centre of public development co-executes municipal programmes: money flows through it to NGOs."""
        mdl, p, led = self.model, self.params, self.model.ledger
        if p.programme_share <= 0:
            return
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
        centre = self.serve[mdl.org_municipality[mdl.ngo0 + slots]]
        sel = pdc[centre]
        slots, centre = slots[sel], centre[sel]
        if slots.size:
            count = np.bincount(centre, minlength=mdl.n_muni)
            each = amount_per_ngo(amount, k, count, centre)
            led.transfer("rc_programme", self.orgs[centre], mdl.ngo0 + slots, each)
            mdl.ngo_income_month[slots] += each

    def _bridge(self, pdc: np.ndarray, rng: np.random.Generator) -> None:
        """A centre of public development introduces organisations of different sectors (new ties, no evidence)."""
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
            mdl.trust.ensure_edges(np.concatenate([a, b]), np.concatenate([b, a]), mdl.t)
        self.bridged = int(ok.sum())

    def charity_factor(self) -> np.ndarray:
        """Multiplier on businesses' CSR budgets from charity development by centres of public development."""
        mdl = self.model
        bm = mdl.org_municipality[mdl.biz_orgs]
        return 1.0 + self.params.charity_development * self.pdc[self.serve[bm]]

    # ------------------------------------------------------------- grants
    def applications(self, rng: np.random.Generator, month_budget: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Centres applying to one grant competition, scored like NGOs (grants.py merges them).

        A centre applies with probability ``funding_grant_prob``; its score is
        ``score_capacity * quality + score_experience * (12+ months of real
        work) + noise`` with quality = ``effectiveness * motivation`` (the
        share of its reported work that is real).

        Args:
            rng: The centres' grant stream (``rc_grants_<fund name>``).
            month_budget: The competition's budget (no application above it).

        Returns:
            ``(organisations, scores, sizes asked)``.
        """
        p, fp = self.params, self.model.cfg.finance
        k = np.flatnonzero(self.exists)
        if not self.active or p.funding_grant_prob <= 0 or p.funding_grant_size <= 0 or k.size == 0:
            e = np.zeros(0)
            return e.astype(np.int64), e, e
        u = rng.random(k.size)
        noise = rng.normal(0.0, fp.score_noise, k.size)
        app = u < p.funding_grant_prob
        k, noise = k[app], noise[app]
        q = p.effectiveness * p.motivation
        score = fp.score_capacity * q + fp.score_experience * (self.worked[k] >= 12) + noise
        size = np.full(k.size, min(p.funding_grant_size, month_budget))
        return self.orgs[k], score, size

    def award(self, channel: str, payer: int, orgs: np.ndarray, sizes: np.ndarray) -> None:
        """Pay grants won by centres in a competition (ledger channel ``rc_grant``)."""
        if orgs.size == 0:
            return
        self.model.ledger.transfer("rc_grant", payer, orgs, sizes)
        np.add.at(self.raised_year, orgs - self.model.rc0, sizes)
        self.grants_won += orgs.size

    # ------------------------------------------------------ transformation
    def _capable(self) -> np.ndarray:
        """Municipalities with an experienced NGO of capacity ``capable_capacity`` (able to run a centre)."""
        mdl = self.model
        slots = np.flatnonzero(mdl.ngo_alive & mdl.ngo_experienced & (mdl.ngo_capacity >= self.params.capable_capacity))
        return np.bincount(mdl.org_municipality[mdl.ngo0 + slots], minlength=mdl.n_muni) > 0

    def _upgrade(self) -> None:
        """Administrative specialist -> municipal RC after ``upgrade_months``, if a capable organisation exists."""
        mdl, p = self.model, self.params
        k = np.flatnonzero(self.exists & (self.kind == ADMIN))
        if k.size == 0:
            return
        months = mdl.t + 1 - self.stage_since[k]
        due = k[(months >= p.upgrade_months) & (months % 12 == p.upgrade_months % 12)]  # then retried yearly
        if due.size == 0:
            return
        cap = self._capable()[due]
        self.no_capable[due] = ~cap
        up = due[cap]
        if up.size == 0:
            return
        self.kind[up] = MUNI_RC
        self.has_bank[up] = True
        self.staff[up] = p.upgrade_staff
        self.cost_per_staff[up] = p.upgrade_cost_per_staff
        self.funding[up] = p.upgrade_funding
        self.stage[up] = 0
        self.stage_since[up] = mdl.t
        self.upgrades += up.size
        if p.upgrade_funding > 0:  # the first year's assignment at once
            munis = mdl.muni0 + up
            months_left = 12 - mdl.t % 12
            mdl.ledger.transfer(
                "rc_funding", munis, self.orgs[up],
                np.minimum(p.upgrade_funding * months_left / 12, np.maximum(mdl.ledger.balance[munis], 0.0)),
            )  # fmt: skip

    def _transform(self) -> None:
        """The 4-step path from a municipal RC to a centre of public development (it can fail)."""
        mdl, p = self.model, self.params
        k = np.flatnonzero(self.exists & (self.kind == MUNI_RC))
        if k.size == 0:
            return
        tr = mdl.trust
        trust_admin = tr.pair_trust(mdl.muni0 + k, self.orgs[k])
        trained = np.bincount(
            self.serve[mdl.org_municipality[mdl.ngo0 + np.flatnonzero(self.trained & mdl.ngo_alive)]], minlength=mdl.n_muni
        )[k]
        raised = np.maximum(self.raised_year[k], self.raised_last_year[k])
        n = tr.n
        src, dst = tr.src[:n], tr.dst[:n]
        bn = tr.active[:n] & (src >= mdl.biz0) & (src < mdl.manager) & (dst >= mdl.ngo0)
        charity = np.bincount(mdl.org_municipality[src[bn]], minlength=mdl.n_muni)[k]
        held = mdl.t - self.stage_since[k] >= p.transform_months
        st = self.stage[k].copy()
        cond = [
            trust_admin >= p.transform_trust,  # step 1: a strategic subject, partner of the authority
            trained >= p.transform_ties,  # step 2: promotion, experience and partnerships grow
            raised >= p.transform_income,  # step 3: attracts the territory's financial resources
            charity >= p.transform_charity_ties,  # step 4: develops charity (business giving to NGOs)
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
