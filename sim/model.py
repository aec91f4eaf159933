"""The cross-sector interaction model of one region in monthly steps."""

from __future__ import annotations

import math
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import mesa
import numpy as np
import pandas as pd

from sim import agents as ag
from sim.families import Families
from sim.kernels import (
    acceptance_terms,
    business_giving,
    deliver_contributions,
    deliver_outcomes,
    dissolution_reasons,
    endowment_gifts,
    endowment_month,
    group_by_municipality,
    judgment_attributes,
    ngo_costs,
    ngo_month_end,
    ngo_people,
    ngo_service_capacity,
    ngo_staffing,
    pair_evidence,
    pick_in_municipality,
    proposal_members,
    requests_month,
    service_attribution,
    stale_pairs,
)
from sim.ledger import CHANNELS, Ledger
from sim.params import DOMAINS, FAMILY_STATES, Config
from sim.partnerships import BIZ, FORMS, GOV, NGOS, PAIRS, Partnerships, ces_output
from sim.policies import MUNI_RC, PDC, Cluster, ResourceCentres
from sim.rng import Streams
from sim.trust import TRUST_SECTOR_NAMES, TrustNetwork

N_DOMAINS = len(DOMAINS)
FAMILY_THREAD_MIN = 20_000
"""Fewest families for which ``output.family_thread`` runs the families' passes in a second thread."""
BUSINESS_TO_NGO = 1 * 3 + 2  # trust pair cell: business sector -> ngo sector
PAIR_A = np.array([a for a, _ in PAIRS])
PAIR_B = np.array([b for _, b in PAIRS])
_NO_ORGS = np.zeros(0, bool)
FORM_MEMBERS = np.array([[1, 1, 0], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=bool)
"""Which member slots (gov, business, NGO) each partnership form fills."""

# External accounts (after organisation and endowment accounts).
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
)


def _metric_names() -> list[str]:
    names = [
        "step",
        "year",
        "month",
        "wellbeing_mean",
        *(f"share_{s}" for s in FAMILY_STATES),
        "families_served",
        "reached_in_difficulty",
        "aware_share",
        "ngos_alive",
        "ngo_births",
        "ngo_deaths",
        "ngos_registered",
        "ngos_experienced",
        "ngo_capacity_mean",
        "ngo_cash_total",
        *(f"partnerships_{f}" for f in FORMS),
        "partnerships_formed",
        "partnerships_dissolved",
        "partnership_services",
        *(f"trust_{a}_{b}" for a in TRUST_SECTOR_NAMES for b in TRUST_SECTOR_NAMES),
        "ties_active",
        "ties_lost_turnover",
        "ties_formed",
        "grant_applications",
        "grants_awarded",
        "grant_effort_cost",
        "requests",
        "requests_fulfilled",
        "budget_unspent",
        "endowments_formed",
        "endowment_capital",
        "endowment_market_value",
        "rc_supported",
        "rc_public_development_centres",
        "rc_stage_mean",
        "ngos_with_practice",
        "cluster_members",
        "cluster_coalitions",
        "families_served_crisis_centre",
        *(f"flow_{c}" for c in CHANNELS),
        "ledger_imbalance",
    ]
    return names


METRICS: tuple[str, ...] = tuple(_metric_names())
"""Columns of the time series, in the order :meth:`CrossSectorModel._record` writes them."""

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
)
"""Per-step event counters, reset at the start of every step and recorded as metrics."""


class CrossSectorModel(mesa.Model):
    """Government, business, NGOs and families in one region.

    Organisations are Mesa agents (:mod:`sim.agents`) whose state lives in
    arrays; families live in a :class:`~sim.families.Families` population;
    trust ties in a :class:`~sim.trust.TrustNetwork`; money in a
    :class:`~sim.ledger.Ledger`. Every random draw comes from a named stream
    of :class:`~sim.rng.Streams` derived from ``cfg.seed``.

    Args:
        cfg: Validated configuration (see :func:`sim.params.build_config`).
    """

    def __init__(self, cfg: Config) -> None:
        super().__init__(rng=cfg.seed)
        self.cfg = cfg
        self.streams = Streams(cfg.seed)
        rp, op, fp = cfg.region, cfg.org, cfg.finance
        init = self.streams["init"]

        m, b = rp.municipalities, rp.businesses
        self.n_muni = m
        self.n_ngo_slots = int(math.ceil(rp.ngos * rp.ngo_slots_factor))
        # organisation index layout
        self.region = 0
        self.muni0 = 1
        self.biz0 = 1 + m
        self.manager = 1 + m + b
        self.rc0 = self.manager + 1  # one resource-centre slot per municipality (alive only with an rc_model)
        self.ngo0 = self.rc0 + m
        self.n_orgs = self.ngo0 + self.n_ngo_slots
        s = self.n_ngo_slots
        # account layout: orgs, endowment capital per NGO slot, endowment reserve per slot, externals
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

        # municipalities: plans (domains the authority prioritises)
        self.plans = np.zeros((m, N_DOMAINS), bool)
        for k in range(m):
            self.plans[k, init.choice(N_DOMAINS, size=cfg.partnership.plan_domains, replace=False)] = True

        self._first_plan = np.where(self.plans.any(axis=1), self.plans.argmax(axis=1), 0)  # plans are fixed

        # businesses
        self.biz_size = init.choice(3, size=b, p=op.business_size_shares).astype(np.int8)
        self.biz_motivation = init.uniform(0.3, 1.0, b)
        self._biz_orgs = np.arange(self.biz0, self.manager)
        self.csr_month = (
            np.asarray(op.business_profit)[self.biz_size] * np.asarray(op.csr_share)[self.biz_size] * self.biz_motivation
        )
        self._csr_now = self.csr_month

        # NGOs (slots; only the first rp.ngos alive at start)
        self.ngo_domain = np.zeros(s, np.int8)
        self.ngo_capacity = np.zeros(s, np.float64)
        self.ngo_experienced = np.zeros(s, bool)
        self.ngo_staff = np.zeros(s, np.int32)
        self.ngo_volunteers = np.zeros(s, np.float64)
        self.ngo_neg_months = np.zeros(s, np.int32)
        self.ngo_registered = np.zeros(s, bool)
        self.ngo_endow_intent = np.zeros(s, bool)
        self.ngo_endow_state = np.zeros(s, np.int8)  # 0 none, 1 forming, 2 formed
        self.ngo_endow_first = np.full(s, -1, np.int32)
        self.ngo_endow_spend = np.zeros(s, np.float64)
        self.ngo_born = np.full(s, -1, np.int32)
        self.ngo_died = np.full(s, -1, np.int32)
        self.ngo_requests = np.zeros(s, np.int32)
        self.ngo_requests_fulfilled = np.zeros(s, np.int32)
        self.ngo_grants = np.zeros(s, np.int32)
        self.ngo_applications = np.zeros(s, np.int32)
        self.ngo_income_month = np.zeros(s, np.float64)
        self.ngo_income_sum = np.zeros(s, np.float64)
        self.ngo_income_sq = np.zeros(s, np.float64)
        self.ngo_income_months = np.zeros(s, np.int32)
        self.ngo_contacts = np.zeros(s, np.int32)  # months with contact with the own municipality
        self._contact = np.zeros(s, bool)
        self.ngo_council = np.zeros(s, bool)
        self.judgments: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = []
        self.muni_requests = np.zeros(m, np.int32)
        self.muni_requests_fulfilled = np.zeros(m, np.int32)
        self._init_ngos(np.arange(rp.ngos), init, born=0)
        self.ngo_endow_intent[: rp.ngos] = init.random(rp.ngos) < fp.endowment_share
        self.ngo_staff[: rp.ngos] = init.poisson(op.ngo_staff_mean, rp.ngos)
        self.ngo_experienced[: rp.ngos] = init.random(rp.ngos) < op.ngo_project_experience_share
        self.ngo_registered[: rp.ngos] = self.ngo_experienced[: rp.ngos] & (
            self.ngo_capacity[: rp.ngos] >= op.register_capacity_threshold
        )

        # Mesa agents (views on the arrays)
        self.org_agent: dict[int, ag.Organisation] = {}
        self._make_agent(ag.RegionalGovernment, self.region)
        for k in range(m):
            self._make_agent(ag.MunicipalGovernment, self.muni0 + k)
        for k in range(b):
            self._make_agent(ag.Business, self.biz0 + k)
        self._make_agent(ag.ManagementCompany, self.manager)
        if cfg.rc_model.model != "none":
            for k in range(m):
                self._make_agent(ag.ResourceCentre, self.rc0 + k)
        for k in range(rp.ngos):
            self._make_agent(ag.NGO, self.ngo0 + k)

        # families
        self.families = Families(rp.families, m, cfg.families, self.streams["families_init"])
        self.families_per_muni = np.bincount(self.families.municipality, minlength=m)
        self._state_cap = np.repeat(rp.state_institution_capacity * self.families_per_muni / 1000.0 / N_DOMAINS, N_DOMAINS)
        self.partnership_capacity = np.zeros((m, N_DOMAINS))

        # trust network
        self.trust = TrustNetwork(
            self.n_orgs, self.trust_sector, cfg.trust, capacity=max(1024, int(rp.mean_degree * self.n_orgs * 1.5))
        )
        live = np.flatnonzero(self.alive)
        self.trust.build_initial(
            live, self.org_municipality[live], rp.mean_degree, rp.cross_municipality_tie_share, self.streams["network_init"]
        )

        self.partnerships = Partnerships(capacity=256)
        pp = cfg.partnership
        self._commitment = np.array([pp.commitment_gov, pp.commitment_business, pp.commitment_ngo_base])
        self._resource_scale = np.asarray(pp.resource_scale, dtype=np.float64)
        weights = np.asarray(pp.form_weights, dtype=np.float64)
        self._form_cdf = np.cumsum(weights) / weights.sum() if weights.sum() > 0 else None
        self._accept_coef = np.array(
            [pp.accept_intercept, pp.accept_trust, pp.accept_capacity, pp.accept_plan_fit, pp.accept_personal_tie]
        )
        self.rc = ResourceCentres(self)
        self.cluster = Cluster(self)

        # opening balances (from outside the region)
        ngo_cost = self._ngo_monthly_cost(np.arange(rp.ngos))
        self.ledger.transfer(
            "opening_balance", self.ext["citizens"], self.ngo0 + np.arange(rp.ngos), ngo_cost * op.initial_cash_months + 10_000.0
        )

        # endowments already formed at start (opening balance of their principal)
        if cfg.scenario.endowments:
            intent = np.flatnonzero(self.ngo_endow_intent)
            has = intent[init.random(intent.size) < fp.endowment_initial_share]
            lo, hi = fp.endowment_initial_capital
            self.ledger.transfer("opening_balance", self.ext["citizens"], self.cap0 + has, init.uniform(lo, hi, has.size))
            self.ngo_endow_state[has] = 2

        # per-step bookkeeping
        self.t = -1  # month index of the step being run (0-based)
        self.records = np.full((cfg.steps + 1, len(METRICS)), np.nan)
        self.history: dict[str, list[np.ndarray]] = {k: [] for k in self._history_sources()}
        self.n_records = 0
        self._step_counts: dict[str, float] = dict.fromkeys(COUNTERS, 0.0)
        self._social_order_left = 0.0
        self._families_jobs: list[Future[None]] = []
        # a second thread pays for itself only with many families
        self._family_thread = cfg.output.family_thread and rp.families >= FAMILY_THREAD_MIN
        self._active_ngo = np.zeros(s, bool)  # NGOs in a running partnership this month
        self._munis = np.arange(self.muni0, self.biz0)
        self._turnover_hazard = np.zeros(self.n_orgs)  # monthly hazard that an organisation's key person leaves
        self._turnover_hazard[self.muni0 : self.biz0] = op.turnover_municipal
        self._turnover_hazard[self.ngo0 :] = op.turnover_ngo
        self._ngo_version = 0
        self._alive_key = -1
        self._alive_cache = np.zeros(0, np.int64)
        self._biz_sorted: tuple[np.ndarray, np.ndarray] | None = None
        self._ngo_sorted_key: tuple[int, ...] = (-1,)
        self._ngo_sorted: tuple[np.ndarray, np.ndarray] = (np.zeros(0, np.int64), np.zeros(0, np.int32))
        self.running = True
        self._record()

    # ------------------------------------------------------------------ setup
    def _make_agent(self, cls: type[ag.Organisation], org: int) -> None:
        self.org_agent[org] = cls(self, org)

    def _init_ngos(self, slots: np.ndarray, rng: np.random.Generator, born: int) -> None:
        op = self.cfg.org
        n = len(slots)
        self.ngo_domain[slots] = rng.choice(N_DOMAINS, size=n, p=op.ngo_domain_shares)
        a, bb = op.ngo_capacity_beta
        self.ngo_capacity[slots] = rng.beta(a, bb, n)
        self.ngo_volunteers[slots] = rng.poisson(op.ngo_volunteers_mean, n) + 1.0
        self.ngo_born[slots] = born
        self.org_municipality[self.ngo0 + slots] = rng.integers(0, self.n_muni, n)

    def _ngo_monthly_cost(self, slots: np.ndarray) -> np.ndarray:
        op = self.cfg.org
        return self.ngo_staff[slots] * op.staff_cost + op.overhead_cost

    # ------------------------------------------------------------ properties
    @property
    def ngo_alive(self) -> np.ndarray:
        """Alive mask over NGO slots."""
        return self.alive[self.ngo0 :]

    def alive_slots(self) -> np.ndarray:
        """Slots of the alive NGOs, ascending (cached until the next birth or death; do not modify)."""
        if self._alive_key != self._ngo_version:
            self._alive_cache = np.flatnonzero(self.ngo_alive)
            self._alive_key = self._ngo_version
        return self._alive_cache

    def ngo_agents(self) -> list[ag.NGO]:
        """Alive NGO agents."""
        return [a for a in self.agents_by_type.get(ag.NGO, [])]  # type: ignore[misc]

    # ------------------------------------------------------------------ step
    def step(self) -> None:
        """Advance the region by one month.

        Step order (each mechanism draws from its own named stream):

        1. Budgets: in January the regional and municipal budgets arrive and
           last year's unspent balances return to the treasuries; every
           month businesses receive their CSR budget.
        2. Turnover and acquaintance: key persons of municipalities and NGOs
           leave with a monthly hazard and the ties they carried go dormant;
           successors renew dormant ties between living organisations.
        3. Giving: businesses donate to NGOs they trust (part to
           endowments of NGOs forming one); citizens donate by reputation.
        4. Resource centres (``rc_model``): funding and staff costs, support
           of NGOs up to capacity, practices, friction, programmes, bridging,
           transformation, network.
        5. Cluster: launch (core, zones, strategic agreements, endowment),
           funding of the core, strategic sessions, local coalitions.
        6. Grants: in ``grant_month`` the federal and regional competitions
           score applications (quality + noise + tie bias + centre's help)
           and fund the best within budget; each award starts a competitive
           gov-NGO project.
        7. Requests: NGOs ask their municipality for support; fulfilled
           requests become subsidies.
        8. Partnership formation: proposals are accepted or refused by each
           invited member (trust, capacity, plan fit, personal tie).
        9. Partnership delivery: members deliver or fail; money moves;
           output is produced (CES); kept and broken obligations feed trust.
        10. Services and families: families' vulnerability moves and
            wellbeing follow last month's services; families learn of support
            and apply; they are served up to the capacity of NGOs,
            partnerships and state institutions in their municipality and need
            domain (the cluster's one window adds a hotline, online
            consultation, a crisis centre and routing); social orders pay
            registered NGOs. Steps 1-9 never touch family state, so the moves
            are computed at the start of the step and awareness and
            applications after step 5 (their inputs are settled then), in a
            second thread with ``output.family_thread``.
        11. Trust: gossip heard this month, forgetting, institutional trust,
            reputation; in December the ties of dead organisations are
            compacted away if they are a third of the edge arrays. The trust
            update reads and changes only trust state, so with the second
            thread it runs while steps 10 and 12 run (same results).
        12. Endowments: market return; formation deadline; December payout.
        13. NGO life: costs, volunteers, capacity, register, insolvency and
            volunteer-loss deaths, births.
        14. Partnership dissolution: end of term, low trust, dead member.
        15. Record metrics and check that the ledger balances.
        """
        self.t = self.steps - 1
        self._begin_families()
        self._step_counts = dict.fromkeys(COUNTERS, 0.0)
        self.ngo_income_month[:] = 0.0
        self._budgets()
        self._turnover()
        self._giving()
        self.rc.step()
        self.cluster.step()
        self._start_families()
        if self.t % 12 == self.cfg.finance.grant_month - 1:
            self._grant_competitions()
        self._requests()
        self._form_partnerships()
        self._deliver_partnerships()
        if self._family_thread:  # the trust update touches only trust state: it runs beside steps 10 and 12
            trust_job = _family_executor().submit(self.trust.monthly_update)
            self._services()
            if self.cfg.scenario.endowments:
                self._endowments()
            trust_job.result()
            if self.t % 12 == 11:
                self._compact_ties()
        else:
            self._services()
            self.trust.monthly_update()
            if self.t % 12 == 11:
                self._compact_ties()
            if self.cfg.scenario.endowments:
                self._endowments()
        self._ngo_life()
        self._dissolve_partnerships()
        self._record()
        if self.steps >= self.cfg.steps:
            self.running = False

    # ---------------------------------------------------------- 1. budgets
    def _budgets(self) -> None:
        rp, sc, led = self.cfg.region, self.cfg.scenario, self.ledger
        munis = self._munis
        if self.t % 12 == 0:
            # unspent money of last year goes back to the treasuries
            if self.t > 0:
                left = max(led.balance[self.region], 0.0)
                led.transfer("budget_regional", self.region, self.ext["regional_treasury"], left)
                left_m = np.maximum(led.balance[munis], 0.0)
                led.transfer("budget_municipal", munis, self.ext["municipal_treasury"], left_m)
                self._step_counts["budget_unspent"] = left + float(left_m.sum())
            reg = (rp.regional_grant_budget * sc.grant_budget_scale) + rp.social_order_budget * sc.social_order_scale
            cl = self.cfg.cluster
            if cl.enabled:  # the regional decree gives the family resource centre a budget line
                months = sum(1 for mo in range(self.t, self.t + 12) if mo >= cl.launch_month)
                reg += cl.cost * months
            led.transfer("budget_regional", self.ext["regional_treasury"], self.region, reg)
            state_inst = rp.state_institution_capacity * self.families_per_muni / 1000.0 * self.cfg.finance.unit_price * 12
            rc_assignment = self.rc.annual_funding() if hasattr(self, "rc") else 0.0
            led.transfer(
                "budget_municipal",
                self.ext["municipal_treasury"],
                munis,
                rp.municipal_support_budget + state_inst + rc_assignment,
            )
            self._social_order_left = rp.social_order_budget * sc.social_order_scale
            self._councils()
        csr = self.csr_month * self.rc.charity_factor() if self.rc.active else self.csr_month
        self._csr_now = csr
        led.transfer("business_profit", self.ext["business_market"], self._biz_orgs, csr)

    # --------------------------------------------------------- 2. turnover
    def _turnover(self) -> None:
        rng = self.streams["turnover"]
        u = rng.random(self.n_orgs)
        leave = np.flatnonzero((u < self._turnover_hazard) & self.alive)
        if leave.size:
            self._step_counts["ties_lost_turnover"] += self.trust.replace_person(leave)
        # acquaintance: successors renew dormant ties (lost with a person) between living organisations
        renewed = self.trust.renew(self.cfg.trust.tie_rebuild, self.alive, rng, self.t)
        self._step_counts["ties_formed"] += renewed

    # ----------------------------------------------------------- 3. giving
    def _giving(self) -> None:
        op, fp, led, tr = self.cfg.org, self.cfg.finance, self.ledger, self.trust
        # a business keeps the share it will put into partnerships this month
        give = np.maximum(led.balance[self.biz0 : self.manager], 0.0) * (1.0 - self.cfg.partnership.business_money_share)
        bsrc, bdst, cash_amt, e_amt = business_giving(
            tr.edges_in_cell(BUSINESS_TO_NGO), tr.src, tr.dst, tr.active, self.alive, self.sector, ag.SEC_BUSINESS,
            ag.SEC_NGO, tr.r, tr.s, tr.prior_cell, tr.institutional, tr.params.prior_weight, self.biz0, give,
            self.ngo0, self.cfg.scenario.endowments, self.ngo_endow_intent, self.ngo_endow_state,
            fp.endowment_donation_share, self.ngo_income_month,
        )  # fmt: skip
        if bsrc.size:
            slot = bdst - self.ngo0
            led.transfer("donation_business", bsrc, bdst, cash_amt)
            if e_amt.any():
                led.transfer("endowment_donation", bsrc, self.cap0 + slot, e_amt)
                match = endowment_gifts(
                    slot, e_amt, self.ngo_endow_state, self.ngo_endow_intent, self.ngo_endow_first, self.t,
                    fp.endowment_match,
                )  # fmt: skip
                room = max(led.balance[self.region] - self._social_order_left, 0.0)
                if match.sum() > room:  # the region matches within what the social orders leave
                    match *= room / match.sum()
                ms = np.flatnonzero(match > 0)
                led.transfer("endowment_match", self.region, self.cap0 + ms, match[ms])
        # citizens give by reputation (mean incoming trust)
        alive_slots = self.alive_slots()
        rep = self.trust.reputation[self.ngo0 + alive_slots]
        amt = op.citizen_donation_mean * rep
        led.transfer("donation_citizens", self.ext["citizens"], self.ngo0 + alive_slots, amt)
        self.ngo_income_month[alive_slots] += amt

    # ----------------------------------------------------------- 4. grants
    def _grant_competitions(self) -> None:
        rp, sc = self.cfg.region, self.cfg.scenario
        self._competition(
            "grant_federal", self.ext["federal_budget"], rp.federal_grant_budget * sc.grant_budget_scale, bias=False
        )
        self._competition("grant_regional", self.region, rp.regional_grant_budget * sc.grant_budget_scale, bias=True)

    def _competition(self, channel: str, payer: int, budget: float, bias: bool) -> None:
        fp, led = self.cfg.finance, self.ledger
        rng = self.streams[f"competition_{channel}"]
        slots = self.alive_slots()
        p_apply = np.where(self.ngo_experienced[slots], fp.apply_prob_experienced, fp.apply_prob_novice)
        helped = self.rc.last_supported[slots] > self.t - 12  # supported by a resource centre within a year
        p_apply = np.minimum(1.0, p_apply + self.cfg.rc_model.project_help * helped)
        u = rng.random(slots.size)
        noise = rng.normal(0.0, fp.score_noise, slots.size)
        apps = slots[u < p_apply]
        noise = noise[u < p_apply]
        self._step_counts["grant_applications"] += apps.size
        self._step_counts["grant_effort_cost"] += apps.size * fp.effort_cost
        self.ngo_applications[apps] += 1
        if apps.size == 0 or budget <= 0 or fp.grant_size <= 0:
            return
        if payer == self.region:
            budget = min(budget, max(led.balance[self.region] - self._social_order_left, 0.0))
        score = fp.score_capacity * self.ngo_capacity[apps] + fp.score_experience * self.ngo_experienced[apps] + noise
        score += self.cfg.rc_model.score_help * (self.rc.last_supported[apps] > self.t - 12)
        if bias and fp.score_bias_tie > 0:
            score += fp.score_bias_tie * self.trust.pair_trust(np.full(apps.size, self.region), self.ngo0 + apps)
        order = apps[np.argsort(-score, kind="stable")]
        n_awards = int(budget // fp.grant_size)
        winners = order[:n_awards]
        if winners.size == 0:
            return
        led.transfer(channel, payer, self.ngo0 + winners, fp.grant_size)
        self.ngo_income_month[winners] += fp.grant_size
        self.ngo_grants[winners] += 1
        self._step_counts["grants_awarded"] += winners.size
        orgs = self.ngo0 + winners
        members = np.stack([np.full(winners.size, self.region), np.full(winners.size, -1), orgs], axis=1)
        self._create_partnerships(
            members,
            self.org_municipality[orgs],
            self.ngo_domain[winners],
            np.full(winners.size, fp.grant_duration),
            1,
            np.full(winners.size, fp.grant_size / fp.grant_duration),
        )

    # --------------------------------------------------------- 5. requests
    def _requests(self) -> None:
        fp, led, tr = self.cfg.finance, self.ledger, self.trust
        rng = self.streams["requests"]
        slots = self.alive_slots()
        req = slots[rng.random(slots.size) < fp.request_prob]
        if req.size == 0:
            return
        v = rng.random(req.size)
        # budget-limited: each municipality fulfils, in order, as many as its free money allows
        free = np.maximum(led.balance[self.muni0 : self.biz0] - self._reserved_state_inst(), 0.0)
        can = np.floor(free / fp.subsidy_size) if fp.subsidy_size > 0 else np.full(self.n_muni, np.inf)
        w = self.cfg.rc_model.personal_brokerage if self.rc.active else 0.0  # the specialist vouches for NGOs it knows
        counters = (self.ngo_requests, self.ngo_requests_fulfilled, self.muni_requests, self.muni_requests_fulfilled,
                    self._contact)  # fmt: skip
        ok = requests_month(
            req, v, self.ngo0, self.muni0, self.rc0, self.org_municipality, w, fp.request_fulfil_base,
            fp.request_fulfil_trust, can, tr.n_orgs, tr.tables(), fp.subsidy_size, self.ngo_income_month, counters,
        )  # fmt: skip
        self._step_counts["requests"] += req.size
        if ok.any():
            orgs = self.ngo0 + req[ok]
            munis = self.muni0 + self.org_municipality[orgs]
            led.transfer("subsidy", munis, orgs, fp.subsidy_size)
            self._step_counts["requests_fulfilled"] += int(ok.sum())
            edges = tr.ensure_edges(orgs, munis, self.t)
            tr.record(edges, np.ones(edges.size, bool), self.t)

    def _begin_families(self) -> None:
        """Start the families' transitions of this month (they depend on nothing of this month).

        With ``output.family_thread`` (and :data:`FAMILY_THREAD_MIN` families
        or more) they run in a second thread while the organisations act (no
        mechanism before :meth:`_services` touches family state); results are
        the same either way.
        """
        args = (self.streams["family_transitions"], self.t)
        if self._family_thread:
            self._families_jobs.append(_family_executor().submit(self.families.transitions, *args))
        else:
            self.families.transitions(*args)

    def _start_families(self) -> None:
        """Start the families' awareness and applications of this month.

        Their inputs (NGOs per municipality, resource centres, cluster) are
        settled at this point of the step; with ``output.family_thread`` they
        follow the transitions in the second thread.
        """
        fpar, m, fam = self.cfg.families, self.n_muni, self.families
        slots = self.alive_slots()
        providers = np.bincount(self.org_municipality[self.ngo0 + slots], minlength=m) / np.maximum(
            self.families_per_muni / 1000.0, 1e-9
        )
        p_aware = fpar.awareness_base + fpar.awareness_per_provider * providers + self.cluster.awareness_bonus()
        if self.rc.active:  # centres reaching small settlements (municipal RC, centre of public development)
            p_aware = p_aware + self.cfg.rc_model.outreach * np.isin(self.rc.kind, (MUNI_RC, PDC))
        args = (self.streams["uptake"], np.minimum(p_aware, 1.0), self.t, self.cluster.apply_bonus())
        if self._family_thread:  # one worker: runs after the transitions
            self._families_jobs.append(_family_executor().submit(fam.uptake, *args))
        else:
            fam.uptake(*args)

    def _reserved_state_inst(self) -> np.ndarray:
        """Municipal money still reserved for state-institution services this year, per municipality."""
        months_left = 12 - (self.t % 12)
        rp = self.cfg.region
        return rp.state_institution_capacity * self.families_per_muni / 1000.0 * self.cfg.finance.unit_price * months_left

    # ---------------------------------------------- 6. partnership formation
    def _form_partnerships(self) -> None:
        pp = self.cfg.partnership
        rng = self.streams["partnership_formation"]
        k = rng.poisson((pp.proposal_rate + self.cluster.session_proposals()) * self.n_muni)
        if k == 0 or self._form_cdf is None:
            return
        forms = np.searchsorted(self._form_cdf, rng.random(k), side="right").clip(0, 3)
        munis = rng.integers(0, self.n_muni, size=k)
        picks = rng.random((k, 4))
        gov, biz, ngo, feasible = proposal_members(
            forms, munis, picks, FORM_MEMBERS, self.muni0, *self._sorted_businesses(), *self._sorted_ngos()
        )  # fmt: skip
        accept = feasible & (picks[:, 2] < self.acceptance_probabilities(gov, biz, ngo))
        self._log_judgments(gov, ngo, munis, feasible, accept)
        if not accept.any():
            return
        gov, biz, ngo, munis, forms, pk = gov[accept], biz[accept], ngo[accept], munis[accept], forms[accept], picks[accept]
        dom = np.where(ngo >= 0, self.ngo_domain[np.maximum(ngo - self.ngo0, 0)], self._first_plan[munis])
        lo, hi = pp.duration_months
        dur = lo + (pk[:, 3] * (hi - lo + 1)).astype(np.int64)
        dur = np.where(forms == 3, np.round(dur * pp.trilateral_duration_factor).astype(np.int64), dur)
        members = np.stack([gov, biz, ngo], axis=1)
        self._create_partnerships(members, munis, dom, dur, 0, np.zeros(len(members)))

    def _pick_in_municipality(self, orgs: np.ndarray | None, munis: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pick one of ``orgs`` (alive NGOs if None) uniformly in each requested municipality (``u`` in [0, 1)).

        Returns:
            The picked organisation (-1 where the municipality has none) and whether there was one.
        """
        if orgs is None:
            sorted_orgs, sorted_m = self._sorted_ngos()
        elif orgs is self._biz_orgs:
            sorted_orgs, sorted_m = self._sorted_businesses()
        else:
            sorted_orgs, sorted_m = group_by_municipality(np.asarray(orgs), self.org_municipality, self.n_muni)
        picked = pick_in_municipality(sorted_orgs, sorted_m, np.asarray(munis), np.asarray(u, dtype=np.float64))
        return picked, picked >= 0

    def _sorted_ngos(self) -> tuple[np.ndarray, np.ndarray]:
        """Alive NGOs sorted by municipality, and their municipalities (rebuilt after births and deaths)."""
        key = (self._ngo_version,)
        if self._ngo_sorted_key != key:
            alive = self.ngo0 + self.alive_slots()
            self._ngo_sorted = group_by_municipality(alive, self.org_municipality, self.n_muni)
            self._ngo_sorted_key = key
        return self._ngo_sorted

    def _sorted_businesses(self) -> tuple[np.ndarray, np.ndarray]:
        """Businesses sorted by municipality, and their municipalities (businesses never move: sorted once)."""
        if self._biz_sorted is None:
            self._biz_sorted = group_by_municipality(self._biz_orgs, self.org_municipality, self.n_muni)
        return self._biz_sorted

    def _log_judgments(
        self, gov: np.ndarray, ngo: np.ndarray, munis: np.ndarray, feasible: np.ndarray, accept: np.ndarray
    ) -> None:
        """Remember how municipalities judged NGO partners (for the survey's partner-criteria question)."""
        k = np.flatnonzero(feasible & (gov >= 0) & (ngo >= 0))
        if k.size == 0:
            return
        rows, e_g, t_g = self._gov_judged  # tie and trust as the acceptance decision saw them
        e_full = np.full(len(gov), -1, np.int64)
        t_full = np.zeros(len(gov))
        e_full[rows], t_full[rows] = e_g, t_g
        m = munis[k]
        attrs = judgment_attributes(
            ngo[k] - self.ngo0, m, self.plans, self.ngo_domain, t_full[k], e_full[k], self.ngo_staff,
            self.ngo_volunteers, self.ngo_capacity,
        )  # fmt: skip
        self.judgments.append((self.t, m.astype(np.int32), attrs, accept[k].copy()))

    def acceptance_probabilities(self, gov: np.ndarray, biz: np.ndarray, ngo: np.ndarray) -> np.ndarray:
        """Probability that every invited member accepts each proposal (vectorised).

        The NGO (or, without one, the business) proposes; each other member
        accepts with ``logistic(b0 + b_trust*trust(member->proposer) +
        b_cap*capacity + b_fit*plan_fit + b_tie*has_tie)``, where capacity is
        the NGO's (0.5 without an NGO) and plan fit applies to a municipal
        member judging an NGO in a domain of its plans
        (:func:`sim.kernels.acceptance_terms`).
        """
        gov, biz, ngo = (np.asarray(x, dtype=np.int64) for x in (gov, biz, ngo))
        rows, z, e, t, n_gov = acceptance_terms(
            gov, biz, ngo, self.ngo0, self.ngo_capacity, self.ngo_domain, self.sector, ag.SEC_MUNICIPAL,
            self.org_municipality, self.plans, self._accept_coef, self.trust.n_orgs, self.trust.tables(),
        )  # fmt: skip
        p_all = np.ones(len(gov))
        np.multiply.at(p_all, rows, 1.0 / (1.0 + np.exp(-z)))
        self._gov_judged = (rows[:n_gov], e[:n_gov], t[:n_gov])
        return p_all

    def acceptance_probability(self, gov: int, biz: int, ngo: int) -> float:
        """Scalar form of :meth:`acceptance_probabilities`."""
        return float(self.acceptance_probabilities(np.array([gov]), np.array([biz]), np.array([ngo]))[0])

    def _create_partnership(
        self, members: tuple[int, int, int], muni: int, domain: int, duration: int, mechanism: int, money_equiv: float = 0.0
    ) -> int:
        ids = self._create_partnerships(
            np.array([members]), np.array([muni]), np.array([domain]), np.array([duration]), mechanism, np.array([money_equiv])
        )
        return int(ids[0])

    def _create_partnerships(
        self,
        members: np.ndarray,
        muni: np.ndarray,
        domain: np.ndarray,
        duration: np.ndarray,
        mechanism: int,
        money_equiv: np.ndarray,
    ) -> np.ndarray:
        """Create partnerships (rows of members) and the ties between their members."""
        k = len(members)
        a_idx, b_idx = PAIR_A, PAIR_B
        truster, trustee = members[:, a_idx], members[:, b_idx]  # (k, 6)
        ok = (truster >= 0) & (trustee >= 0)
        edges = np.full((k, len(PAIRS)), -1, np.int64)
        edges[ok] = self.trust.ensure_edges(truster[ok], trustee[ok], self.t)
        self._step_counts["partnerships_formed"] += k
        return self.partnerships.add_many(members, muni, domain, self.t, duration, mechanism, edges, money_equiv)

    # ----------------------------------------------- 7. partnership delivery
    def _deliver_partnerships(self) -> None:
        pp, led, ps, op = self.cfg.partnership, self.ledger, self.partnerships, self.cfg.org
        ids = ps.active_ids()
        self.partnership_capacity = np.zeros((self.n_muni, N_DOMAINS))
        if ids.size == 0:
            return
        rng = self.streams["partnership_delivery"]
        k = ids.size
        mem = ps.members[ids]
        u = rng.random((k, 3))
        deliver = np.empty((k, 3), bool)
        gov_amt, biz_amt, x = np.empty(k), np.empty(k), np.empty((k, 4))
        ngo_slot = np.empty(k, np.int64)
        cl = self.cluster  # quality control and the trust-culture programme close part of the shortfall
        member, boost = (cl.member_orgs(), cl.commitment_boost_value()) if cl.active else (_NO_ORGS, 0.0)
        deliver_contributions(
            mem, u, ps.money_equiv[ids], self.ngo0, self.region, self.muni0, self.biz0,
            self.ngo_capacity, self.ngo_staff, self.ngo_volunteers, led.balance, self._reserved_state_inst(),
            self._csr_now, member, boost, self._commitment, pp.gov_money, pp.business_money_share,
            self._resource_scale, pp.premises_units, pp.business_inkind_units,
            deliver, gov_amt, biz_amt, x, ngo_slot,
        )  # fmt: skip
        # government money: municipal members pay monthly (the region's grant was paid up front);
        # the recipient is the NGO if any, else the municipality (gov-business)
        recipient = np.where(mem[:, NGOS] >= 0, mem[:, NGOS], mem[:, GOV])
        gi = np.flatnonzero(gov_amt > 0)
        if gi.size:
            led.transfer("partnership_gov", mem[gi, GOV], recipient[gi], pp.gov_money)
        bi = np.flatnonzero(deliver[:, BIZ])
        if bi.size:
            led.transfer("partnership_business", mem[bi, BIZ], recipient[bi], biz_amt[bi])
        y = ces_output(x, pp.ces_rho, pp.productivity)
        self._step_counts["partnership_services"] += float(y.sum())
        cap = np.zeros(self.n_muni * N_DOMAINS)
        self._active_ngo = np.zeros(self.n_ngo_slots, bool)
        deliver_outcomes(
            ids, mem, deliver, gov_amt, biz_amt, y, ngo_slot, self.region, ps.muni, ps.domain, ps.output, ps.services,
            ps.money, ps.kept, ps.broken, N_DOMAINS, cap, self.ngo_income_month, self.ngo_capacity,
            op.capacity_learning, self._active_ngo, self._contact,
        )  # fmt: skip
        self.partnership_capacity = cap.reshape(self.n_muni, N_DOMAINS)
        # obligations -> trust along member pairs (truster a observes trustee b)
        pe = ps.edges[ids]
        rows, cols = stale_pairs(pe, self.trust.active)
        if rows.size:  # a tie was lost with a person who left: the partners start a new one
            pe[rows, cols] = self.trust.ensure_edges(mem[rows, PAIR_A[cols]], mem[rows, PAIR_B[cols]], self.t)
            ps.edges[ids] = pe
        self.trust.record(*pair_evidence(pe, deliver, PAIR_B), self.t)  # evidence about the trustee of each pair

    # ------------------------------------------------- 8. services and families
    def _services(self) -> None:
        fam, op, fp, led = self.families, self.cfg.org, self.cfg.finance, self.ledger
        m = self.n_muni
        slots = self.alive_slots()
        ngo_cap_each, ngo_cell, ngo_cap = ngo_service_capacity(
            slots, self.ngo0, self.ngo_staff, self.ngo_volunteers, self.ngo_capacity, self.rc.practice,
            self.org_municipality, self.ngo_domain, N_DOMAINS, op.services_per_staff, op.services_per_volunteer,
            self.cfg.rc_model.practice_productivity, m * N_DOMAINS,
        )  # fmt: skip
        state_cap = self._state_cap
        cap = ngo_cap + state_cap + self.partnership_capacity.reshape(-1)
        for job in self._families_jobs:  # the family passes started earlier in the step
            job.result()
        self._families_jobs.clear()
        served_cell = fam.finish_month(
            cap, self.t, crisis=self.cluster.crisis_capacity(), routing=self.cluster.routing()
        )  # fmt: skip
        self._step_counts["families_served"] = float(fam.n_served)
        # attribute services: providers share the served count of a cell by capacity; state institutions
        # are paid by the municipality
        bill, pay = service_attribution(
            served_cell, cap, ngo_cap, state_cap, ngo_cap_each, ngo_cell, N_DOMAINS, self.ngo_registered, slots,
            led.balance[self.muni0 : self.biz0], fp.unit_price,
        )  # fmt: skip
        led.transfer("state_institutions", self._munis, self.ext["state_institutions"], pay)
        # social order: registered NGOs paid per service, within the annual budget
        total = float(bill.sum())
        if total > 0 and self._social_order_left > 0:
            factor = min(1.0, self._social_order_left / total, max(led.balance[self.region], 0.0) / total)
            paid = bill * factor
            led.transfer("social_order", self.region, self.ngo0 + slots, paid)
            led.transfer("reporting_cost", self.ngo0 + slots, self.ext["operating_costs"], paid * fp.reporting_burden)
            self._social_order_left -= float(paid.sum())
            self.ngo_income_month[slots] += paid

    # ---------------------------------------------------------- 9. families
    def _compact_ties(self) -> None:
        """Drop dead ties from the edge arrays now and then; remap partnerships' edge indices."""
        remap = self.trust.compact()
        if remap is not None:
            pe = self.partnerships.edges[: self.partnerships.n]
            has = pe >= 0
            pe[has] = remap[pe[has]]

    # -------------------------------------------------------- 10. endowments
    def _endowments(self) -> None:
        fp, led = self.cfg.finance, self.ledger
        # log-normal gross return (never below -100%): annual mean and s.d. as declared, monthly log-return normal
        s2 = math.log1p((fp.endowment_return_sd / (1.0 + fp.endowment_return_mean)) ** 2)
        m_log = math.log1p(fp.endowment_return_mean) - s2 / 2.0
        r = math.expm1(self.streams["endowment_market"].normal(m_log / 12.0, math.sqrt(s2 / 12.0)))
        late, refund, formed, gain, loss = endowment_month(
            self.ngo_endow_state, self.ngo_alive, self.ngo_endow_first, led.balance, self.cap0, self.res0,
            fp.endowment_min_capital, self.t, fp.endowment_formation_months, r,
        )  # fmt: skip
        if late.size:
            led.transfer("endowment_refund", self.cap0 + late, self.ngo0 + late, refund)
        if formed.size == 0:
            return
        led.transfer("endowment_return", self.ext["financial_market"], self.res0 + formed, gain)
        # a loss comes out of the income reserve, and what it cannot cover out of the principal's market value
        from_res = np.minimum(loss, np.maximum(led.balance[self.res0 + formed], 0.0))
        from_cap = np.minimum(loss - from_res, np.maximum(led.balance[self.cap0 + formed], 0.0))
        led.transfer("endowment_return", self.res0 + formed, self.ext["financial_market"], from_res)
        led.transfer("endowment_return", self.cap0 + formed, self.ext["financial_market"], from_cap)
        if self.t % 12 == 11:
            reserve = led.balance[self.res0 + formed]
            positive = np.maximum(reserve, 0.0)
            fee = fp.manager_fee_share * positive
            led.transfer("endowment_fee", self.res0 + formed, self.manager, fee)
            positive -= fee
            mv = led.balance[self.cap0 + formed] + led.balance[self.res0 + formed]
            target = fp.endowment_spending_rate * mv
            prev = self.ngo_endow_spend[formed]
            spend = np.where(prev > 0, fp.endowment_smoothing * prev + (1 - fp.endowment_smoothing) * target, target)
            spend = np.clip(spend, 0.0, positive)  # only income, never principal
            admin = spend * min(fp.admin_share, fp.admin_cap_share)
            led.transfer("endowment_admin", self.res0 + formed, self.ext["operating_costs"], admin)
            led.transfer("endowment_payout", self.res0 + formed, self.ngo0 + formed, spend - admin)
            self.ngo_income_month[formed] += spend - admin
            self.ngo_endow_spend[formed] = spend

    # --------------------------------------------------------- 11. NGO life
    def _ngo_life(self) -> None:
        op, led = self.cfg.org, self.ledger
        rng = self.streams["ngo_life"]
        slots = self.alive_slots()
        orgs = self.ngo0 + slots
        # overhead is always due; wages are paid only from cash at hand (arrears cut staff)
        amount, arrears = ngo_costs(slots, self.ngo0, self.ngo_staff, led.balance, op.staff_cost, op.overhead_cost)
        led.transfer("ngo_costs", orgs, self.ext["operating_costs"], amount)
        ngo_staffing(
            slots, self.ngo0, arrears, led.balance, self.ngo_neg_months, self.ngo_staff, op.staff_cut_months,
            op.staff_cost, op.overhead_cost, op.hire_cash_months,
        )  # fmt: skip
        active = self._active_ngo
        recruits = rng.poisson(op.volunteer_recruit * self.trust.reputation[orgs])
        # register entry (experienced and capable NGOs) and deaths (insolvency or no people left)
        dies = ngo_people(
            slots, self.ngo0, self.ngo_volunteers, recruits.astype(np.float64), active, op.volunteer_loss,
            op.volunteer_gain, rng.random(slots.size), op.register_join_prob, self.ngo_registered,
            self.ngo_experienced, self.ngo_capacity, op.register_capacity_threshold, self.ngo_neg_months,
            op.insolvency_months, led.balance, self.ngo_staff,
        )  # fmt: skip
        self._kill_ngos(slots[dies])
        # births
        births = rng.poisson(op.ngo_birth_rate * self.n_muni)
        free = np.flatnonzero(~self.ngo_alive & (self.ngo_born < 0))
        if births > free.size:  # the spare slots are used up: make room, births never stop
            self._grow_ngo_slots(births - free.size)
            free = np.flatnonzero(~self.ngo_alive & (self.ngo_born < 0))
        births = min(births, free.size)
        if births:
            new = free[:births]
            self._init_ngos(new, rng, born=self.t)
            self.alive[self.ngo0 + new] = True
            self._ngo_version += 1
            led.transfer("founder_contribution", self.ext["citizens"], self.ngo0 + new, op.founder_cash)
            for slot in new.tolist():
                self._make_agent(ag.NGO, self.ngo0 + slot)
            self._step_counts["ngo_births"] += births

    _SLOT_FILL = {"ngo_endow_first": -1, "ngo_born": -1, "ngo_died": -1}
    """Initial value of per-slot arrays that do not start at zero."""

    def _grow_ngo_slots(self, need: int) -> None:
        """Add NGO slots (at least ``need``, at least half the current number): per-slot state, org arrays, accounts.

        NGO organisations come last among organisations, so no organisation
        index changes; the endowment accounts and the external accounts that
        follow them in the ledger move, and the ledger's balances and recorded
        rows are renumbered to the new layout.
        """
        old_s = self.n_ngo_slots
        add = max(int(need), (old_s + 1) // 2, 1)
        new_s = old_s + add
        # per-slot state of the model and the policies
        for name, arr in list(vars(self).items()):
            if name.startswith(("ngo_", "_contact", "_active_ngo")) and isinstance(arr, np.ndarray) and arr.shape == (old_s,):
                setattr(self, name, np.concatenate([arr, np.full(add, self._SLOT_FILL.get(name, 0), arr.dtype)]))
        self.rc.supported = np.concatenate([self.rc.supported, np.zeros(add, bool)])
        self.rc.last_supported = np.concatenate([self.rc.last_supported, np.full(add, -10_000, np.int32)])
        self.rc.practice = np.concatenate([self.rc.practice, np.zeros(add, bool)])
        self.cluster.zone = np.concatenate([self.cluster.zone, np.zeros(add, np.int8)])
        # organisation arrays (new NGO slots appended)
        ngo_trust_sector = int(self.trust_sector[self.ngo0])
        self.sector = np.concatenate([self.sector, np.full(add, ag.SEC_NGO, np.int8)])
        self.trust_sector = np.concatenate([self.trust_sector, np.full(add, ngo_trust_sector, self.trust_sector.dtype)])
        self.org_municipality = np.concatenate([self.org_municipality, np.full(add, -1, np.int32)])
        self.alive = np.concatenate([self.alive, np.zeros(add, bool)])
        self._turnover_hazard = np.concatenate([self._turnover_hazard, np.full(add, self.cfg.org.turnover_ngo)])
        self.trust.add_orgs(self.trust_sector)
        # accounts: orgs | capital per slot | reserve per slot | externals
        old_cap0, old_res0, old_ext0 = self.cap0, self.res0, self.ext0
        self.n_ngo_slots = new_s
        self.n_orgs = self.ngo0 + new_s
        self.cap0 = self.n_orgs
        self.res0 = self.cap0 + new_s
        self.ext0 = self.res0 + new_s

        def renumber(a: np.ndarray) -> np.ndarray:
            out = a.copy()
            cap, res, ext = (a >= old_cap0) & (a < old_res0), (a >= old_res0) & (a < old_ext0), a >= old_ext0
            out[cap] += self.cap0 - old_cap0
            out[res] += self.res0 - old_res0
            out[ext] += self.ext0 - old_ext0
            return out

        led = self.ledger
        balance = np.zeros(self.ext0 + len(EXTERNAL_ACCOUNTS))
        balance[renumber(np.arange(led.balance.size))] = led.balance
        led.balance = balance
        led._steps = [(step, ch, renumber(src), renumber(dst), amt) for step, ch, src, dst, amt in led._steps]
        pos = led._pos
        led._rec[1][:pos] = renumber(led._rec[1][:pos])
        led._rec[2][:pos] = renumber(led._rec[2][:pos])
        self.ext = {name: self.ext0 + k for k, name in enumerate(EXTERNAL_ACCOUNTS)}
        led.account_names = {v: k for k, v in self.ext.items()}
        self._ngo_version += 1
        self._ngo_sorted_key = (-1,)

    def _kill_ngos(self, slots: np.ndarray) -> None:
        """Close NGOs: balances are liquidated (debts written off by creditors), ties and agents removed."""
        if slots.size == 0:
            return
        led = self.ledger
        liq = self.ext["liquidation"]
        for accounts in (self.ngo0 + slots, self.cap0 + slots, self.res0 + slots):
            bal = led.balance[accounts]
            pos, neg = bal > 0, bal < 0
            led.transfer("liquidation", accounts[pos], liq, bal[pos])
            led.transfer("liquidation", liq, accounts[neg], -bal[neg])  # creditors write off the debt
        orgs = self.ngo0 + slots
        self.alive[orgs] = False
        self._ngo_version += 1
        self.ngo_died[slots] = self.t
        self.ngo_endow_state[slots] = 0
        self.trust.remove_org(orgs)
        for org in orgs.tolist():
            agent = self.org_agent.pop(org, None)
            if agent is not None:
                agent.remove()
        self._step_counts["ngo_deaths"] += slots.size

    # ---------------------------------------------- 12. partnership dissolution
    def _dissolve_partnerships(self) -> None:
        ps, pp, tr = self.partnerships, self.cfg.partnership, self.trust
        ids = ps.active_ids()
        if ids.size == 0:
            return
        why = dissolution_reasons(
            ids, ps.members, ps.edges, ps.end, ps.kept, ps.broken, self.alive, self.t, pp.dissolve_trust, tr.r, tr.s,
            tr.prior_cell, tr.institutional, tr.params.prior_weight, self.ngo0, self.ngo_experienced,
        )  # fmt: skip
        for code, reason in enumerate(("member_died", "completed", "low_trust"), start=1):
            mask = why == code
            if mask.any():
                ps.close(ids[mask], self.t, reason)
                self._step_counts["partnerships_dissolved"] += int(mask.sum())

    # ------------------------------------------------------------- 13. record
    def _record(self) -> None:
        alive = self.ngo_alive
        n_alive, n_registered, n_experienced, n_practice, n_formed = ngo_month_end(
            alive, self._contact, self.ngo_contacts, self.ngo_income_month, self.ngo_income_sum, self.ngo_income_sq,
            self.ngo_income_months, self.t >= 0, self.ngo_registered, self.ngo_experienced, self.rc.practice,
            self.ngo_endow_state,
        )  # fmt: skip  (income of the month, for the income-stability outcome)
        for name, arr in self._history_sources().items():
            self.history[name].append(arr.copy())
        fam = self.families
        row = self.records[self.n_records]
        c = self._step_counts
        t = self.t + 1  # months completed
        formed = self.ngo_endow_state == 2
        cap = self.ledger.balance[self.cap0 : self.cap0 + self.n_ngo_slots]
        res = self.ledger.balance[self.res0 : self.res0 + self.n_ngo_slots]
        head = [
            t,
            t // 12,
            t % 12,
            fam.wellbeing_mean(),
            *(fam.counts / fam.n).tolist(),
            float(c["families_served"]),
            fam.reached_share(self.t, self.cfg.families.reach_window),
            fam.n_aware / fam.n,
            n_alive,
            c["ngo_births"],
            c["ngo_deaths"],
            n_registered,
            n_experienced,
            float(self.ngo_capacity[alive].mean()) if n_alive else 0.0,
            float(self.ledger.balance[self.ngo0 : self.ngo0 + self.n_ngo_slots][alive].sum()),
            *self.partnerships.count_active_by_form().tolist(),
            c["partnerships_formed"],
            c["partnerships_dissolved"],
            c["partnership_services"],
            *self.trust.pair_means.reshape(-1).tolist(),
            self.trust.active_count(),
            c["ties_lost_turnover"],
            c["ties_formed"],
            c["grant_applications"],
            c["grants_awarded"],
            c["grant_effort_cost"],
            c["requests"],
            c["requests_fulfilled"],
            c["budget_unspent"],
            n_formed,
            float(cap[formed].sum()),
            float((cap + res)[formed].sum()),
            self.rc.n_supported,
            int(np.count_nonzero(self.rc.pdc)) if self.rc.active else 0,
            float(self.rc.stage.mean()) if self.rc.active else 0.0,
            n_practice,
            int(np.count_nonzero(self.cluster.member)),
            self.cluster.coalitions,
            fam.n_crisis,
        ]
        nh = len(head)
        row[:nh] = head
        row[nh : nh + len(CHANNELS)] = self.ledger.step_by_channel
        row[nh + len(CHANNELS)] = self.ledger.check() if self.cfg.output.check_conservation else np.nan
        self.ledger.close_step(t)
        self.n_records += 1

    # ------------------------------------------------------------- outputs
    def timeseries(self) -> pd.DataFrame:
        """Model-level metrics, one row per month (row 0 is the initial state)."""
        df = pd.DataFrame(self.records[: self.n_records], columns=list(METRICS))
        for col in ("step", "year", "month"):
            df[col] = df[col].astype(np.int32)
        return df

    def flows(self) -> pd.DataFrame:
        """The flow ledger with channel and account labels."""
        df = self.ledger.flows()
        df["channel"] = pd.Categorical.from_codes(df["channel"].to_numpy(), categories=list(CHANNELS))
        return df

    def account_table(self) -> pd.DataFrame:
        """Label, sector and municipality of every ledger account."""
        n = self.ledger.balance.size
        label = np.empty(n, dtype=object)
        kind = np.empty(n, dtype=object)
        for i in range(self.n_orgs):
            label[i] = f"{ag.SECTORS[self.sector[i]]}_{i}"
            kind[i] = ag.SECTORS[self.sector[i]]
        for k in range(self.n_ngo_slots):
            label[self.cap0 + k] = f"endowment_capital_{self.ngo0 + k}"
            kind[self.cap0 + k] = "endowment_capital"
            label[self.res0 + k] = f"endowment_reserve_{self.ngo0 + k}"
            kind[self.res0 + k] = "endowment_reserve"
        for name, i in self.ext.items():
            label[i] = name
            kind[i] = "external"
        muni = np.full(n, -1, np.int32)
        muni[: self.n_orgs] = self.org_municipality
        return pd.DataFrame(
            {
                "account": np.arange(n, dtype=np.int32),
                "label": label,
                "kind": kind,
                "municipality": muni,
                "balance": self.ledger.balance.copy(),
            }
        )

    def partnership_log(self) -> pd.DataFrame:
        """All partnerships of the run (finished and still active), one row each."""
        return pd.DataFrame(self.partnerships.table(self.t))

    def _history_sources(self) -> dict[str, np.ndarray]:
        return {
            "ngo_requests": self.ngo_requests,
            "ngo_requests_fulfilled": self.ngo_requests_fulfilled,
            "ngo_grants": self.ngo_grants,
            "ngo_applications": self.ngo_applications,
            "ngo_contacts": self.ngo_contacts,
            "muni_requests": self.muni_requests,
            "muni_requests_fulfilled": self.muni_requests_fulfilled,
        }

    def counter_in_window(self, name: str, window: int) -> np.ndarray:
        """Increase of a cumulative counter over the last ``window`` months (``history`` keeps one entry per month)."""
        h = self.history[name]
        last, first = h[-1], h[max(len(h) - 1 - window, 0)]
        if first.size < last.size:  # NGO slots added since: they counted nothing before
            first = np.concatenate([first, np.zeros(last.size - first.size, first.dtype)])
        return last - first

    def _councils(self) -> None:
        """In January each municipality seats the NGOs it trusts most on its public council."""
        seats = self.cfg.org.council_seats
        self.ngo_council[:] = False
        if seats <= 0:
            return
        slots = self.alive_slots()
        orgs = self.ngo0 + slots
        muni = self.org_municipality[orgs]
        t = self.trust.pair_trust(self.muni0 + muni, orgs)
        order = np.lexsort((-t, muni))
        sorted_m = muni[order]
        rank = np.arange(order.size) - np.searchsorted(sorted_m, sorted_m, side="left")
        self.ngo_council[slots[order[rank < seats]]] = True

    def ngo_income_cv(self, min_months: int = 12) -> float:
        """Median coefficient of variation of NGOs' monthly income (NGOs observed ``min_months`` or more).

        Lower is more stable income.
        """
        k = self.ngo_income_months >= min_months
        if not k.any():
            return float("nan")
        n = self.ngo_income_months[k]
        mean = self.ngo_income_sum[k] / n
        var = np.maximum(self.ngo_income_sq[k] / n - mean**2, 0.0)
        cv = np.sqrt(var) / np.maximum(mean, 1e-9)
        return float(np.median(cv))

    def ngo_survival(self) -> float:
        """Share of the NGOs alive at the start that are alive at the end."""
        initial = self.ngo_born == 0
        return float((self.ngo_alive & initial).sum() / max(initial.sum(), 1))

    def network_table(self) -> pd.DataFrame:
        """Active ties at the end: source, target, their sectors and municipalities, trust."""
        tr = self.trust
        k = np.flatnonzero(tr.active[: tr.n])
        src, dst = tr.src[k], tr.dst[k]
        return pd.DataFrame(
            {
                "src": src.astype(np.int32),
                "dst": dst.astype(np.int32),
                "src_sector": pd.Categorical.from_codes(self.sector[src], categories=list(ag.SECTORS)),
                "dst_sector": pd.Categorical.from_codes(self.sector[dst], categories=list(ag.SECTORS)),
                "src_municipality": self.org_municipality[src],
                "dst_municipality": self.org_municipality[dst],
                "trust": tr.trust(k),
            }
        )

    def outcomes(self) -> dict[str, float]:
        """End-of-run outcomes used by experiments, sweeps and sensitivity analysis."""
        from sim.outcomes import outcomes

        return outcomes(self)

    def summary(self) -> dict[str, Any]:
        """Final-state summary used by the regression baseline."""
        ts = self.timeseries()
        last = ts.iloc[-1]
        return {
            "wellbeing_mean": float(last["wellbeing_mean"]),
            "share_crisis": float(last["share_crisis"]),
            "reached_in_difficulty": float(last["reached_in_difficulty"]),
            "ngos_alive": float(last["ngos_alive"]),
            "ties_active": float(last["ties_active"]),
            "partnerships_total": int(self.partnerships.n),
            "grants_total": float(ts["grants_awarded"].sum()),
            "families_served_total": float(ts["families_served"].sum()),
            "ngo_cash_total": float(last["ngo_cash_total"]),
            "trust_ngo_gov": float(last["trust_ngo_gov"]),
        }


_EXECUTOR: ThreadPoolExecutor | None = None


def _family_executor() -> ThreadPoolExecutor:
    """One worker thread per process for the families' passes and the trust update (numba releases the GIL)."""
    global _EXECUTOR
    if _EXECUTOR is None:
        _EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="families")
    return _EXECUTOR


def run_model(cfg: Config) -> CrossSectorModel:
    """Build a model and run it for ``cfg.steps`` months."""
    model = CrossSectorModel(cfg)
    for _ in range(cfg.steps):
        model.step()
    return model
