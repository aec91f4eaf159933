"""The shared state of a run: one plain structure of arrays that every mechanism reads and writes.

:class:`State` holds the index layout of organisations and accounts, the
arrays of organisations (sector, municipality, alive flags, the ``ngo_*``
arrays of NGO slots, businesses' CSR budgets, municipalities' plans), the
month's counters, and the four shared containers: the money
(:class:`~sim.ledger.Ledger`), the trust ties
(:class:`~sim.mechanisms.trust.TrustNetwork`), the partnerships
(:class:`~sim.partnerships.Partnerships`) and the families
(:class:`~sim.mechanisms.families.Families`). State that only one mechanism
uses (a resource centre's stage, the cluster's zones) lives in that
mechanism's module instead.

Organisation index layout (``org``): region ``0``; municipalities
``muni0 + m``; businesses ``biz0 + k``; the endowment manager ``manager``;
one resource-centre slot per municipality ``rc0 + m``; NGO slots
``ngo0 + slot``. Account layout: the organisations' accounts (same index),
endowment capital ``cap0 + slot``, endowment reserve ``res0 + slot``, then
the external accounts of :data:`EXTERNAL_ACCOUNTS` (``ext[name]``).

The grouping helpers :func:`group_by_municipality` and
:func:`pick_in_municipality` (compiled) are shared by the mechanisms that
pick partners in a municipality.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import NamedTuple

import numpy as np
from numba import njit

from sim import agents as ag
from sim.ledger import Ledger
from sim.mechanisms.families import Families
from sim.mechanisms.trust import TrustNetwork
from sim.params import DOMAINS, Config, OrgParams
from sim.partnerships import Partnerships
from sim.rng import Streams

N_DOMAINS = len(DOMAINS)

EXTERNAL_ACCOUNTS: tuple[str, ...] = (
    "federal_budget",
    "regional_treasury",
    "municipal_treasury",
    "business_market",
    "citizens",
    "financial_market",
    "operating_costs",
    "state_institutions",
    "liquidation",
    "ngo_house",  # the houses of NGOs (organisational-structural mechanism; never overdrawn)
    # fund accounts (never overdrawn, see FUND_ACCOUNTS)
    "specialised_capital",
    "specialised_reserve",
    "community_foundations",
    "cf_family_funds",
    "university",  # a resource centre's host university (Kaluga)
)
"""External accounts (after organisation and endowment accounts)."""

FUND_ACCOUNTS: tuple[str, ...] = ("specialised_capital", "specialised_reserve", "community_foundations", "cf_family_funds")
"""Accounts of the region's funds among :data:`EXTERNAL_ACCOUNTS`: the specialised endowment fund's capital and
income reserve (:mod:`sim.mechanisms.endowments`), the community foundations' cash and their family funds' capital
(:mod:`sim.mechanisms.community_foundations`). Unlike the sources and sinks they hold money and are never overdrawn."""

COMBINED_COUNTERS: tuple[str, ...] = (
    "cf_donations",
    "cf_named_fund_gifts",
    "cf_named_funds_founded",
    "cf_applications",
    "cf_grants",
    "cf_grant_amount",
    "fair_participants",
    "fair_ties",
    "fair_donations",
)
"""Counters of the community foundations and fairs (issue #12), recorded as metrics of the same name."""

COUNTERS: tuple[str, ...] = (
    "ngo_births",
    "ngo_deaths",
    "partnerships_formed",
    "partnerships_dissolved",
    "ties_lost_turnover",
    "ties_formed",
    "grant_applications",
    "grants_awarded",
    "grant_effort_cost",
    "requests",
    "requests_fulfilled",
    "budget_unspent",
    "families_served",
    "partnership_services",
    "tech_adoptions",
    "tech_spread",
    "house_joined",
    "centre_services",
    *COMBINED_COUNTERS,
    "gov_refusals_budget",
    "proposals_refused_budget",
    "requests_refused_budget",
    "gov_commitments_cut",
    "gov_payments_late",
)
"""Per-step event counters (``State.counts``), reset at the start of every step and recorded as metrics."""



class Layout(NamedTuple):
    """The organisation index layout, for compiled kernels (``State.layout()``).

    This and the other groups of arrays passed to kernels are documented as
    :class:`~typing.NamedTuple` classes, but kernels receive *plain tuples*
    with these fields in this order (numba dispatches a plain tuple of arrays
    as fast as separate arguments, a named tuple several times slower) and
    unpack them by position; build one with ``tuple(Layout(...))`` or the
    builder methods.
    """

    region: int
    muni0: int
    biz0: int
    manager: int
    rc0: int
    ngo0: int
    n_orgs: int
    n_muni: int


class OrgArrays(NamedTuple):
    """Organisation arrays compiled kernels read (``State.orgs()``; index ``org``), and municipalities' plans."""

    sector: np.ndarray
    municipality: np.ndarray
    alive: np.ndarray
    plans: np.ndarray  # (municipality, domain)


class NGOArrays(NamedTuple):
    """The NGO-slot arrays compiled kernels read and write (``State.ngos()``; index ``org - ngo0``)."""

    ngo0: int
    domain: np.ndarray
    capacity: np.ndarray
    experienced: np.ndarray
    staff: np.ndarray
    volunteers: np.ndarray
    neg_months: np.ndarray
    registered: np.ndarray
    endow_intent: np.ndarray
    endow_state: np.ndarray
    endow_first: np.ndarray
    income_month: np.ndarray
    active: np.ndarray
    contact: np.ndarray


def _a() -> np.ndarray:
    return field(default_factory=lambda: np.zeros(0))  # type: ignore[return-value]


@dataclass(eq=False)
class State:
    """Arrays and containers of one run (see the module docstring for the index layout).

    Build it with :meth:`State.build`. Mechanisms change arrays in place or
    assign them; ``ngo_version`` must be increased whenever an NGO is born or
    dies (it invalidates :meth:`alive_slots` and :meth:`sorted_ngos`).
    """

    # layout
    n_muni: int = 0
    n_ngo_slots: int = 0
    region: int = 0
    muni0: int = 1
    biz0: int = 1
    manager: int = 1
    rc0: int = 1
    ngo0: int = 1
    n_orgs: int = 1
    cap0: int = 0
    res0: int = 0
    ext0: int = 0
    ext: dict[str, int] = field(default_factory=dict)
    # shared containers
    ledger: Ledger = None  # type: ignore[assignment]
    trust: TrustNetwork = None  # type: ignore[assignment]
    partnerships: Partnerships = None  # type: ignore[assignment]
    families: Families = None  # type: ignore[assignment]
    # organisations
    sector: np.ndarray = _a()
    trust_sector: np.ndarray = _a()
    org_municipality: np.ndarray = _a()
    alive: np.ndarray = _a()
    munis: np.ndarray = _a()  # organisation index of each municipality
    turnover_hazard: np.ndarray = _a()  # monthly hazard that an organisation's key person leaves
    # municipalities
    plans: np.ndarray = _a()  # (municipality, domain): domains the authority prioritises
    first_plan: np.ndarray = _a()
    muni_requests: np.ndarray = _a()
    muni_requests_fulfilled: np.ndarray = _a()  # the NGOs' yardstick: help arrived
    muni_requests_handled: np.ndarray = _a()  # the officials' yardstick: answered or passed on within the plan
    muni_satisfaction: np.ndarray = _a()  # officials' satisfaction with interaction (0..1, sim.mechanisms.perception)
    families_per_muni: np.ndarray = _a()
    state_cap: np.ndarray = _a()  # state institutions' services/month per (municipality, domain) cell
    partnership_capacity: np.ndarray = _a()  # partnerships' services this month per (municipality, domain)
    # businesses
    biz_size: np.ndarray = _a()
    biz_motivation: np.ndarray = _a()
    biz_orgs: np.ndarray = _a()
    csr_month: np.ndarray = _a()
    csr_now: np.ndarray = _a()  # CSR budget of this month (after charity development)
    # NGO slots
    ngo_domain: np.ndarray = _a()
    ngo_capacity: np.ndarray = _a()
    ngo_experienced: np.ndarray = _a()
    ngo_staff: np.ndarray = _a()
    ngo_volunteers: np.ndarray = _a()
    ngo_neg_months: np.ndarray = _a()
    ngo_registered: np.ndarray = _a()
    ngo_endow_intent: np.ndarray = _a()
    ngo_endow_state: np.ndarray = _a()  # 0 none, 1 forming, 2 formed
    ngo_endow_first: np.ndarray = _a()
    ngo_endow_spend: np.ndarray = _a()
    ngo_endow_trust_income: np.ndarray = _a()  # this year's trust-management income (net return), 275-FZ caps
    ngo_born: np.ndarray = _a()
    ngo_died: np.ndarray = _a()
    ngo_requests: np.ndarray = _a()
    ngo_request_propensity: np.ndarray = _a()  # lifelong multiplier of request_prob (0: not drawn yet; requests.py)
    ngo_apply_propensity: np.ndarray = _a()  # lifelong multiplier of the probability of applying (0: not drawn; grants.py)
    ngo_requests_fulfilled: np.ndarray = _a()  # the NGO's yardstick: help arrived
    ngo_requests_handled: np.ndarray = _a()  # the official's yardstick for the same requests
    ngo_bureaucracy: np.ndarray = _a()  # requests handled on paper but no help arrived (the NGO's runaround)
    ngo_satisfaction: np.ndarray = _a()  # NGO's satisfaction with interaction (0..1, sim.mechanisms.perception)
    ngo_refusal_run: np.ndarray = _a()  # refusals in a row (sim.mechanisms.giving_up)
    ngo_gave_up: np.ndarray = _a()  # stopped asking its municipality after refusals ("tried and failed")
    ngo_budget_refusals_month: np.ndarray = _a()  # proposals refused for lack of municipal budget, since perception read it
    ngo_late_payments_month: np.ndarray = _a()  # municipal payments owed to the NGO that came late, since perception read it
    ngo_applied: np.ndarray = _a()  # applications for municipal partnership openings (sim.mechanisms.formation)
    ngo_heard: np.ndarray = _a()  # this month: 0 not an applicant, 1 applied not heard, 2 heard refused, 3 chosen
    ngo_grants: np.ndarray = _a()
    ngo_applications: np.ndarray = _a()
    ngo_income_month: np.ndarray = _a()
    ngo_income_sum: np.ndarray = _a()
    ngo_income_sq: np.ndarray = _a()
    ngo_income_months: np.ndarray = _a()
    ngo_contacts: np.ndarray = _a()  # months with contact with the own municipality
    contact: np.ndarray = _a()  # contact with the own municipality this month
    ngo_council: np.ndarray = _a()
    ngo_voice: np.ndarray = _a()  # weight of the NGO's voice with its municipality (1: none extra; councils)
    ngo_cost_relief: np.ndarray = _a()  # roubles/month of overhead someone else covers (house of NGOs)
    active_ngo: np.ndarray = _a()  # NGOs in a running partnership this month
    judgments: list[tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    # (month, municipality, attributes, chosen, heard) of each NGO a municipality judged or left unheard
    request_month: tuple[np.ndarray, np.ndarray] = (np.zeros(0, np.int64), np.zeros(0, np.int8))
    # this month's requests: NGO slots and status (REQUEST_REFUSED / _FULFILLED / _UNPAID, sim.mechanisms.requests)
    # the month
    t: int = -1  # month index of the step being run (0-based)
    counts: dict[str, float] = field(default_factory=dict)
    social_order_left: float = 0.0
    # caches
    ngo_version: int = 0
    _alive_key: int = -1
    _alive_cache: np.ndarray = _a()
    _biz_sorted: tuple[np.ndarray, np.ndarray] | None = None
    _ngo_sorted_key: int = -1
    _ngo_sorted: tuple[np.ndarray, np.ndarray] | None = None

    _SLOT_FILL = {"ngo_endow_first": -1, "ngo_born": -1, "ngo_died": -1, "ngo_voice": 1.0, "ngo_satisfaction": 0.5}
    """Initial value of per-slot arrays that do not start at zero."""

    def add_ngo_slots(self, add: int, turnover_ngo: float) -> None:
        """Append ``add`` NGO slots: per-slot state, organisation arrays, trust network and ledger accounts.

        NGO organisations come last among organisations, so no organisation
        index changes; the endowment accounts and the external accounts that
        follow them in the ledger move, and the ledger's balances, overdraft
        flags and recorded rows are renumbered to the new layout. The new
        slots' endowment principal may not be overdrawn either.

        Args:
            add: Number of slots to add.
            turnover_ngo: Monthly hazard that a new NGO's key person leaves.
        """
        old_s = self.n_ngo_slots
        new_s = old_s + add
        for f in fields(self):
            arr = getattr(self, f.name)
            if (f.name.startswith("ngo_") or f.name in ("contact", "active_ngo")) and isinstance(arr, np.ndarray) \
                    and arr.shape == (old_s,):  # fmt: skip
                setattr(self, f.name, np.concatenate([arr, np.full(add, self._SLOT_FILL.get(f.name, 0), arr.dtype)]))
        ngo_trust_sector = int(self.trust_sector[self.ngo0])
        self.sector = np.concatenate([self.sector, np.full(add, ag.SEC_NGO, self.sector.dtype)])
        self.trust_sector = np.concatenate([self.trust_sector, np.full(add, ngo_trust_sector, self.trust_sector.dtype)])
        self.org_municipality = np.concatenate([self.org_municipality, np.full(add, -1, self.org_municipality.dtype)])
        self.alive = np.concatenate([self.alive, np.zeros(add, bool)])
        self.turnover_hazard = np.concatenate([self.turnover_hazard, np.full(add, turnover_ngo)])
        self.trust.add_orgs(self.trust_sector)
        # accounts: orgs | capital per slot | reserve per slot | externals
        old_cap0, old_res0, old_ext0 = self.cap0, self.res0, self.ext0
        self.n_ngo_slots = new_s
        self.n_orgs = self.ngo0 + new_s
        self.cap0 = self.n_orgs
        self.res0 = self.cap0 + new_s
        self.ext0 = self.res0 + new_s
        shift = (self.cap0 - old_cap0, self.res0 - old_res0, self.ext0 - old_ext0)

        def new_index(a: np.ndarray) -> np.ndarray:
            out = a.copy()
            out[(a >= old_cap0) & (a < old_res0)] += shift[0]
            out[(a >= old_res0) & (a < old_ext0)] += shift[1]
            out[a >= old_ext0] += shift[2]
            return out

        self.ext = {name: self.ext0 + k for k, name in enumerate(EXTERNAL_ACCOUNTS)}
        self.ledger.renumber(new_index, self.ext0 + len(EXTERNAL_ACCOUNTS), {v: k for k, v in self.ext.items()})
        self.ledger.forbid_overdraft(self.cap0 + np.arange(old_s, new_s))
        self.ngo_version += 1
        self._alive_key = -1
        self._ngo_sorted_key = -1

    @classmethod
    def build(cls, cfg: Config, streams: Streams) -> State:
        """The initial state of a region: organisations, families, ties, opening balances.

        Draws from the streams ``init``, ``families_init`` and ``network_init``.
        """
        self = cls()
        rp, op, fp = cfg.region, cfg.org, cfg.finance
        init = streams["init"]
        m, b = rp.municipalities, rp.businesses
        self.n_muni = m
        self.n_ngo_slots = s = int(math.ceil(rp.ngos * rp.ngo_slots_factor))
        self.region = 0
        self.muni0 = 1
        self.biz0 = 1 + m
        self.manager = 1 + m + b
        self.rc0 = self.manager + 1  # one resource-centre slot per municipality (alive only with an rc_model)
        self.ngo0 = self.rc0 + m
        self.n_orgs = self.ngo0 + s
        self.cap0 = self.n_orgs
        self.res0 = self.cap0 + s
        self.ext0 = self.res0 + s
        self.ext = {name: self.ext0 + k for k, name in enumerate(EXTERNAL_ACCOUNTS)}
        self.ledger = Ledger(self.ext0 + len(EXTERNAL_ACCOUNTS), {v: k for k, v in self.ext.items()})

        sector = np.full(self.n_orgs, ag.SEC_NGO, np.int8)
        sector[self.region] = ag.SEC_REGION
        sector[self.muni0 : self.biz0] = ag.SEC_MUNICIPAL
        sector[self.biz0 : self.manager] = ag.SEC_BUSINESS
        sector[self.manager] = ag.SEC_MANAGER
        sector[self.rc0 : self.ngo0] = ag.SEC_RC
        self.sector = sector
        # accounts that may never be negative (Ledger.check flags them; the others: see sim/ledger.py)
        no_overdraft = (ag.SEC_REGION, ag.SEC_MUNICIPAL, ag.SEC_BUSINESS, ag.SEC_MANAGER, ag.SEC_RC)
        self.ledger.forbid_overdraft(np.flatnonzero(np.isin(sector, no_overdraft)), self.cap0 + np.arange(s))
        self.ledger.forbid_overdraft(self.ext["ngo_house"])
        self.ledger.forbid_overdraft(np.array([self.ext[k] for k in FUND_ACCOUNTS], np.int64))
        rc_trust_sector = 0 if cfg.rc_model.model in ("administrative", "subordinate") else 2  # part of the administration or not
        self.trust_sector = np.array([0, 0, 1, 2, 1, rc_trust_sector], np.int64)[sector]
        self.org_municipality = np.full(self.n_orgs, -1, np.int32)
        self.org_municipality[self.muni0 : self.biz0] = np.arange(m)
        self.org_municipality[self.biz0 : self.manager] = init.integers(0, m, b)
        self.org_municipality[self.rc0 : self.ngo0] = np.arange(m)
        self.alive = np.zeros(self.n_orgs, bool)
        self.alive[: self.rc0] = True
        self.alive[self.ngo0 : self.ngo0 + rp.ngos] = True
        self.alive[self.rc0 : self.ngo0] = cfg.rc_model.model != "none"
        if cfg.rc_model.tier == "regional":  # one regional centre, in the slot of municipality 0
            self.alive[self.rc0 + 1 : self.ngo0] = False

        # municipalities: plans (domains the authority prioritises)
        self.plans = np.zeros((m, N_DOMAINS), bool)
        for k in range(m):
            self.plans[k, init.choice(N_DOMAINS, size=cfg.partnership.plan_domains, replace=False)] = True
        self.first_plan = np.where(self.plans.any(axis=1), self.plans.argmax(axis=1), 0)  # plans are fixed
        self.munis = np.arange(self.muni0, self.biz0)
        self.muni_requests = np.zeros(m, np.int32)
        self.muni_requests_fulfilled = np.zeros(m, np.int32)
        self.muni_requests_handled = np.zeros(m, np.int32)
        self.muni_satisfaction = np.full(m, cfg.perception.satisfaction_initial)

        # businesses
        self.biz_size = init.choice(3, size=b, p=op.business_size_shares).astype(np.int8)
        self.biz_motivation = init.uniform(0.3, 1.0, b)
        self.biz_orgs = np.arange(self.biz0, self.manager)
        self.csr_month = (
            np.asarray(op.business_profit)[self.biz_size] * np.asarray(op.csr_share)[self.biz_size] * self.biz_motivation
        )
        self.csr_now = self.csr_month

        # NGOs (slots; only the first rp.ngos alive at start)
        self.ngo_domain = np.zeros(s, np.int8)
        self.ngo_capacity = np.zeros(s, np.float64)
        self.ngo_experienced = np.zeros(s, bool)
        self.ngo_staff = np.zeros(s, np.int32)
        self.ngo_volunteers = np.zeros(s, np.float64)
        self.ngo_neg_months = np.zeros(s, np.int32)
        self.ngo_registered = np.zeros(s, bool)
        self.ngo_endow_intent = np.zeros(s, bool)
        self.ngo_endow_state = np.zeros(s, np.int8)
        self.ngo_endow_first = np.full(s, -1, np.int32)
        self.ngo_endow_spend = np.zeros(s, np.float64)
        self.ngo_endow_trust_income = np.zeros(s, np.float64)
        self.ngo_born = np.full(s, -1, np.int32)
        self.ngo_died = np.full(s, -1, np.int32)
        self.ngo_requests = np.zeros(s, np.int32)
        self.ngo_request_propensity = np.zeros(s, np.float64)
        self.ngo_apply_propensity = np.zeros(s, np.float64)
        self.ngo_requests_fulfilled = np.zeros(s, np.int32)
        self.ngo_requests_handled = np.zeros(s, np.int32)
        self.ngo_bureaucracy = np.zeros(s, np.int32)
        self.ngo_satisfaction = np.full(s, cfg.perception.satisfaction_initial)
        self.ngo_refusal_run = np.zeros(s, np.int32)
        self.ngo_gave_up = np.zeros(s, bool)
        self.ngo_heard = np.zeros(s, np.int8)
        self.ngo_budget_refusals_month = np.zeros(s, np.int32)
        self.ngo_late_payments_month = np.zeros(s, np.int32)
        self.ngo_applied = np.zeros(s, np.int32)
        self.ngo_grants = np.zeros(s, np.int32)
        self.ngo_applications = np.zeros(s, np.int32)
        self.ngo_income_month = np.zeros(s, np.float64)
        self.ngo_income_sum = np.zeros(s, np.float64)
        self.ngo_income_sq = np.zeros(s, np.float64)
        self.ngo_income_months = np.zeros(s, np.int32)
        self.ngo_contacts = np.zeros(s, np.int32)
        self.contact = np.zeros(s, bool)
        self.ngo_council = np.zeros(s, bool)
        self.ngo_voice = np.ones(s, np.float64)
        self.ngo_cost_relief = np.zeros(s, np.float64)
        self.active_ngo = np.zeros(s, bool)
        self.init_ngos(np.arange(rp.ngos), init, born=0, ngo_params=op)
        self.ngo_endow_intent[: rp.ngos] = init.random(rp.ngos) < fp.endowment_share
        self.ngo_staff[: rp.ngos] = init.poisson(op.ngo_staff_mean, rp.ngos)
        self.ngo_experienced[: rp.ngos] = init.random(rp.ngos) < op.ngo_project_experience_share
        self.ngo_registered[: rp.ngos] = self.ngo_experienced[: rp.ngos] & (
            self.ngo_capacity[: rp.ngos] >= op.register_capacity_threshold
        )
        self.turnover_hazard = np.zeros(self.n_orgs)
        self.turnover_hazard[self.muni0 : self.biz0] = op.turnover_municipal
        self.turnover_hazard[self.ngo0 :] = op.turnover_ngo

        # families
        self.families = Families(rp.families, m, cfg.families, streams["families_init"])
        self.families_per_muni = np.bincount(self.families.municipality, minlength=m)
        self.state_cap = np.repeat(rp.state_institution_capacity * self.families_per_muni / 1000.0 / N_DOMAINS, N_DOMAINS)
        self.partnership_capacity = np.zeros((m, N_DOMAINS))

        # trust network
        self.trust = TrustNetwork(
            self.n_orgs, self.trust_sector, cfg.trust, capacity=max(1024, int(rp.mean_degree * self.n_orgs * 1.5))
        )
        # resource centres are neither the administration nor NGOs in the trust metrics (issue #13)
        self.trust.exclude_from_metrics(np.arange(self.rc0, self.ngo0))
        live = np.flatnonzero(self.alive)
        self.trust.build_initial(
            live, self.org_municipality[live], rp.mean_degree, rp.cross_municipality_tie_share, streams["network_init"]
        )
        self.partnerships = Partnerships(capacity=256)

        # opening balances (from outside the region)
        ngo_cost = self.ngo_staff[: rp.ngos] * op.staff_cost + op.overhead_cost
        opening = ngo_cost * op.initial_cash_months + op.initial_cash_reserve
        self.ledger.transfer("opening_balance", self.ext["citizens"], self.ngo0 + np.arange(rp.ngos), opening)
        # endowments already formed at start (opening balance of their principal)
        if cfg.scenario.endowments:
            intent = np.flatnonzero(self.ngo_endow_intent)
            has = intent[init.random(intent.size) < fp.endowment_initial_share]
            lo, hi = fp.endowment_initial_capital
            self.ledger.transfer("opening_balance", self.ext["citizens"], self.cap0 + has, init.uniform(lo, hi, has.size))
            self.ngo_endow_state[has] = 2
        self.counts = dict.fromkeys(COUNTERS, 0.0)
        return self

    def init_ngos(self, slots: np.ndarray, rng: np.random.Generator, born: int, ngo_params: OrgParams) -> None:
        """Draw domain, capacity, volunteers and municipality of new NGOs in ``slots`` (born in month ``born``)."""
        op = ngo_params
        n = len(slots)
        self.ngo_domain[slots] = rng.choice(N_DOMAINS, size=n, p=op.ngo_domain_shares)
        a, bb = op.ngo_capacity_beta
        self.ngo_capacity[slots] = rng.beta(a, bb, n)
        self.ngo_volunteers[slots] = rng.poisson(op.ngo_volunteers_mean, n) + 1.0
        self.ngo_born[slots] = born
        self.org_municipality[self.ngo0 + slots] = rng.integers(0, self.n_muni, n)

    # ----------------------------------------------------------- views
    def layout(self) -> tuple:
        """The index layout: a plain tuple with the fields of :class:`Layout`."""
        return (self.region, self.muni0, self.biz0, self.manager, self.rc0, self.ngo0, self.n_orgs, self.n_muni)

    def orgs(self) -> tuple:
        """Sector, municipality and alive flag of every organisation, and the plans (fields of :class:`OrgArrays`)."""
        return (self.sector, self.org_municipality, self.alive, self.plans)

    def ngos(self) -> tuple:
        """The NGO-slot arrays, a plain tuple with the fields of :class:`NGOArrays` (build it anew each call)."""
        return (
            self.ngo0, self.ngo_domain, self.ngo_capacity, self.ngo_experienced, self.ngo_staff, self.ngo_volunteers,
            self.ngo_neg_months, self.ngo_registered, self.ngo_endow_intent, self.ngo_endow_state, self.ngo_endow_first,
            self.ngo_income_month, self.active_ngo, self.contact,
        )  # fmt: skip

    @property
    def ngo_alive(self) -> np.ndarray:
        """Alive mask over NGO slots (a view on ``alive``)."""
        return self.alive[self.ngo0 :]

    def alive_slots(self) -> np.ndarray:
        """Slots of the alive NGOs, ascending (cached until the next birth or death; do not modify)."""
        if self._alive_key != self.ngo_version:
            self._alive_cache = np.flatnonzero(self.ngo_alive)
            self._alive_key = self.ngo_version
        return self._alive_cache

    def sorted_ngos(self) -> tuple[np.ndarray, np.ndarray]:
        """Alive NGOs sorted by municipality, and their municipalities (rebuilt after births and deaths)."""
        if self._ngo_sorted_key != self.ngo_version or self._ngo_sorted is None:
            alive = self.ngo0 + self.alive_slots()
            self._ngo_sorted = group_by_municipality(alive, self.org_municipality, self.n_muni)
            self._ngo_sorted_key = self.ngo_version
        return self._ngo_sorted

    def sorted_businesses(self) -> tuple[np.ndarray, np.ndarray]:
        """Businesses sorted by municipality, and their municipalities (businesses never move: sorted once)."""
        if self._biz_sorted is None:
            self._biz_sorted = group_by_municipality(self.biz_orgs, self.org_municipality, self.n_muni)
        return self._biz_sorted

    def pick_in_municipality(self, orgs: np.ndarray | None, munis: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pick one of ``orgs`` (alive NGOs if None) uniformly in each requested municipality (``u`` in [0, 1)).

        Returns:
            The picked organisation (-1 where the municipality has none) and whether there was one.
        """
        if orgs is None:
            sorted_orgs, sorted_m = self.sorted_ngos()
        elif orgs is self.biz_orgs:
            sorted_orgs, sorted_m = self.sorted_businesses()
        else:
            sorted_orgs, sorted_m = group_by_municipality(np.asarray(orgs), self.org_municipality, self.n_muni)
        picked = pick_in_municipality(sorted_orgs, sorted_m, np.asarray(munis), np.asarray(u, dtype=np.float64))
        return picked, picked >= 0


SHARED: tuple[str, ...] = tuple(f.name for f in fields(State) if not f.name.startswith("_")) + ("ngo_alive",)
"""State attributes the model exposes under the same name (``model.ngo_capacity`` is ``model.state.ngo_capacity``)."""


# ----------------------------------------------------------------- kernels
@njit(cache=True, nogil=True)
def group_by_municipality(orgs: np.ndarray, municipality: np.ndarray, n_muni: int) -> tuple[np.ndarray, np.ndarray]:
    """``orgs`` sorted by their municipality (stable: a counting sort), and those municipalities.

    Organisations without a municipality (-1) come first.
    """
    count = np.zeros(n_muni + 2, np.int64)
    for k in range(orgs.size):
        count[municipality[orgs[k]] + 2] += 1
    for m in range(1, n_muni + 2):
        count[m] += count[m - 1]
    out = np.empty(orgs.size, orgs.dtype)
    out_m = np.empty(orgs.size, municipality.dtype)
    for k in range(orgs.size):
        m = municipality[orgs[k]]
        pos = count[m + 1]
        out[pos] = orgs[k]
        out_m[pos] = m
        count[m + 1] += 1
    return out, out_m


@njit(cache=True, nogil=True)
def pick_in_municipality(sorted_orgs: np.ndarray, sorted_m: np.ndarray, munis: np.ndarray, u: np.ndarray) -> np.ndarray:
    """One of the organisations of each requested municipality, uniformly by ``u`` in [0, 1) (-1 if it has none).

    ``sorted_orgs`` are the candidates sorted by their municipality ``sorted_m``.
    """
    n = sorted_m.size
    out = np.full(munis.size, -1, np.int64)
    for k in range(munis.size):
        m = munis[k]
        lo, hi = 0, n
        while lo < hi:
            mid = (lo + hi) >> 1
            if sorted_m[mid] < m:
                lo = mid + 1
            else:
                hi = mid
        start = lo
        hi = n
        while lo < hi:
            mid = (lo + hi) >> 1
            if sorted_m[mid] <= m:
                lo = mid + 1
            else:
                hi = mid
        count = lo - start
        if count > 0:
            out[k] = sorted_orgs[min(start + int(u[k] * count), n - 1)]
    return out

