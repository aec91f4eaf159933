"""Declared, validated model parameters.

Every parameter is a dataclass field declared with :func:`par`, which records
its units, its source and its allowed values. :func:`build_config` turns a
plain mapping (a Hydra config converted to a dict) into a typed
:class:`Config`, rejecting unknown keys and bad values with a
:class:`ConfigError` whose message is one line naming the key and what is
allowed. The parameter table in ``docs/parameters.md`` is generated from the
same metadata (``scripts/gen_param_docs.py``), so the documentation cannot
drift from the code.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import dataclass, field
from typing import Any

DOMAINS: tuple[str, ...] = (
    "families_children",
    "disability",
    "elderly",
    "youth",
    "at_risk_children",
)
"""Target domains of NGOs and need types of families (BRIEF section 2)."""

FAMILY_STATES: tuple[str, ...] = ("ordinary", "at_risk", "difficult", "crisis")
"""Vulnerability states of a family; ``difficult`` is the ТЖС of the sources."""


class ConfigError(ValueError):
    """A configuration value or key is not allowed. The message is one line."""


def par(
    default: Any,
    units: str,
    source: str,
    lo: float | None = None,
    hi: float | None = None,
    choices: tuple[Any, ...] | None = None,
    length: int | None = None,
    sums_to_one: bool = False,
    ascending: bool = False,
) -> Any:
    """Declare a parameter with its units, source and allowed values.

    Args:
        default: Default value (immutable: scalars or tuples).
        units: Units of the value, e.g. ``"roubles/year"``.
        source: Where the default comes from (a source document section or
            ``"assumption"`` with a reason).
        lo: Inclusive lower bound for numbers (each element for tuples).
        hi: Inclusive upper bound for numbers (each element for tuples).
        choices: Allowed values for categorical parameters.
        length: Required tuple length.
        sums_to_one: Tuple elements must sum to 1 (shares).
        ascending: Tuple elements must not decrease (``[low, high]`` ranges).

    Returns:
        A dataclass field carrying the metadata.
    """
    meta = {
        "units": units,
        "source": source,
        "lo": lo,
        "hi": hi,
        "choices": choices,
        "length": length,
        "sums_to_one": sums_to_one,
        "ascending": ascending,
    }
    return field(default=default, metadata=meta)


# --------------------------------------------------------------------------
# Parameter groups; each mirrors a config group in configs/ and a module in sim/
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class RegionParams:
    """Size and budgets of the simulated region (configs/region/)."""

    name: str = par("small", "-", "preset name")
    municipalities: int = par(4, "count", "assumption: a few districts for a quick run", lo=1, hi=500)
    ngos: int = par(60, "count", "assumption: ~15 SO NGOs per district", lo=1, hi=100_000)
    ngo_slots_factor: float = par(
        1.6,
        "x initial NGOs (slots allocated at start; more are added when births use them up)",
        "assumption: room for births before more slots are added",
        lo=1.0,
        hi=10.0,
    )
    businesses: int = par(12, "count", "assumption", lo=0, hi=100_000)
    families: int = par(5000, "households", "assumption", lo=10, hi=5_000_000)
    mean_degree: float = par(
        8.0,
        "tie partners per organisation (each tie is two directed edges)",
        "assumption: personal ties inside a district",
        lo=0.0,
        hi=200.0,
    )
    cross_municipality_tie_share: float = par(0.1, "share of ties", "assumption: most ties are local", lo=0.0, hi=1.0)
    regional_grant_budget: float = par(
        6.0e6, "roubles/year", "assumption: order of a regional NGO grant programme per 60 NGOs", lo=0.0
    )
    federal_grant_budget: float = par(3.0e6, "roubles/year", "assumption: presidential grants reaching the region's NGOs", lo=0.0)
    social_order_budget: float = par(4.0e6, "roubles/year", "assumption: social order line for NGO providers", lo=0.0)
    municipal_support_budget: float = par(
        0.6e6, "roubles/year per municipality", "assumption: small municipal budgets (BRIEF s.2)", lo=0.0
    )
    state_institution_capacity: float = par(
        4.0, "services/month per 1000 families", "assumption: state social-service institutions", lo=0.0
    )


@dataclass(frozen=True)
class FamilyParams:
    """Families as a Markov vulnerability process (configs/families/)."""

    initial_state_shares: tuple[float, ...] = par(
        (0.70, 0.18, 0.09, 0.03),
        "share of families",
        "assumption: most families ordinary, a few percent in crisis",
        lo=0.0,
        hi=1.0,
        length=4,
        sums_to_one=True,
    )
    need_domain_shares: tuple[float, ...] = par(
        (0.40, 0.15, 0.20, 0.10, 0.15),
        "share of families by need domain (DOMAINS order)",
        "assumption",
        lo=0.0,
        hi=1.0,
        length=5,
        sums_to_one=True,
    )
    p_worsen: tuple[float, ...] = par(
        (0.010, 0.020, 0.025, 0.0),
        "probability/month of moving one state up, unserved",
        "assumption",
        lo=0.0,
        hi=0.5,
        length=4,
    )
    p_improve: tuple[float, ...] = par(
        (0.0, 0.025, 0.015, 0.02),
        "probability/month of moving one state down, unserved",
        "assumption",
        lo=0.0,
        hi=0.5,
        length=4,
    )
    served_improve_factor: float = par(
        4.0, "x p_improve when served", "assumption: services help families recover", lo=1.0, hi=20.0
    )
    served_worsen_factor: float = par(0.3, "x p_worsen when served", "assumption", lo=0.0, hi=1.0)
    initial_awareness: float = par(
        0.25,
        "share aware of support",
        "assumption (qualitative: BRIEF s.2 says support is application-based and awareness low; no number)",
        lo=0.0,
        hi=1.0,
    )
    awareness_base: float = par(
        0.01, "probability/month an eligible unaware family learns of support", "assumption", lo=0.0, hi=1.0
    )
    awareness_per_provider: float = par(
        0.004,
        "added probability/month per active provider per 1000 families in the municipality",
        "assumption: outreach by NGOs",
        lo=0.0,
        hi=1.0,
    )
    apply_prob: float = par(
        0.4, "probability/month an aware eligible family applies", "assumption: paperwork barrier", lo=0.0, hi=1.0
    )
    wellbeing_target: tuple[float, ...] = par(
        (0.8, 0.6, 0.4, 0.2), "wellbeing index 0..1 by state", "assumption", lo=0.0, hi=1.0, length=4
    )
    wellbeing_rate: float = par(0.1, "fraction/month of gap to target closed", "assumption", lo=0.0, hi=1.0)
    service_boost: float = par(0.03, "wellbeing points per month served", "assumption", lo=0.0, hi=0.5)
    reach_window: int = par(12, "months", "assumption: a family counts as reached if served within this window", lo=1, hi=120)


@dataclass(frozen=True)
class OrgParams:
    """NGOs, businesses and municipal staff (configs/org/)."""

    ngo_domain_shares: tuple[float, ...] = par(
        (0.15, 0.20, 0.20, 0.30, 0.15),
        "share of SO NGOs by domain (DOMAINS order)",
        "assumption. The concept (s.VIII, before Fig. VIII-4) gives 0.9% of ALL registered non-state NGOs working with "
        "families and children; the model's NGOs are socially oriented NGOs only (the Volgograd survey's population), "
        "and no source gives the share among them, so 0.9% does not map onto this share; 15% is an assumption",
        lo=0.0,
        hi=1.0,
        length=5,
        sums_to_one=True,
    )
    ngo_capacity_beta: tuple[float, ...] = par(
        (2.0, 5.0), "Beta(a, b) of capacity 0..1", "assumption: low professionalism (BRIEF s.6)", lo=0.1, hi=50.0, length=2
    )
    ngo_project_experience_share: float = par(
        0.312,
        "share of NGOs",
        "Volgograd 2021 Q7: 68.8% of rural NGOs have no project experience -> 1 - 0.688 = 0.312 start experienced",
        lo=0.0,
        hi=1.0,
    )
    ngo_staff_mean: float = par(
        1.5,
        "paid staff per NGO",
        "assumption: no source gives staff per NGO (the Kaluga proposal's 5 staff are the support centre's own)",
        lo=0.0,
        hi=100.0,
    )
    ngo_volunteers_mean: float = par(
        8.0,
        "volunteers per NGO",
        "assumption: no source gives volunteers per NGO (the Kaluga proposal's 100 volunteers are the centre's own)",
        lo=0.0,
        hi=1000.0,
    )
    staff_cost: float = par(35_000.0, "roubles/month per paid staff", "assumption: regional wage", lo=0.0)
    overhead_cost: float = par(3_500.0, "roubles/month per NGO", "assumption: rent, utilities, bank fees", lo=0.0)
    initial_cash_months: float = par(6.0, "months of costs", "assumption", lo=0.0, hi=120.0)
    initial_cash_reserve: float = par(
        10_000.0, "roubles per NGO on top of initial_cash_months", "assumption: a small founders' reserve", lo=0.0
    )
    services_per_staff: float = par(4.0, "families served/month per staff at capacity 1", "assumption", lo=0.0)
    services_per_volunteer: float = par(0.5, "families served/month per volunteer", "assumption", lo=0.0)
    staff_cut_months: int = par(2, "months of negative cash before staff is cut", "assumption", lo=1, hi=60)
    hire_cash_months: float = par(
        6.0, "months of costs in cash above which an NGO hires one more staff member", "assumption", lo=0.0, hi=120.0
    )
    insolvency_months: int = par(12, "months of negative cash before an NGO dies", "assumption", lo=1, hi=120)
    volunteer_loss: float = par(0.03, "share/month of volunteers leaving", "assumption", lo=0.0, hi=1.0)
    volunteer_recruit: float = par(0.3, "new volunteers/month at reputation 1 (Poisson mean)", "assumption", lo=0.0, hi=100.0)
    volunteer_gain: float = par(
        0.04, "share/month gained when active in a partnership or grant project", "assumption", lo=0.0, hi=1.0
    )
    ngo_birth_rate: float = par(0.04, "new NGOs/month per municipality", "assumption", lo=0.0, hi=10.0)
    founder_cash: float = par(50_000.0, "roubles", "assumption: founders' contribution", lo=0.0)
    citizen_donation_mean: float = par(5_000.0, "roubles/month per NGO at reputation 1", "assumption", lo=0.0)
    register_capacity_threshold: float = par(
        0.35, "capacity 0..1 needed to join the providers' register", "assumption", lo=0.0, hi=1.0
    )
    register_join_prob: float = par(
        0.02, "probability/month an eligible NGO joins the register", "assumption: reporting barrier", lo=0.0, hi=1.0
    )
    capacity_learning: float = par(0.01, "capacity gain/month while running a project", "assumption", lo=0.0, hi=0.5)
    council_seats: int = par(
        3,
        "NGO seats on each municipality's public council, filled each January by trust",
        "assumption (BRIEF s.3.1: councils)",
        lo=0,
        hi=100,
    )
    turnover_municipal: float = par(
        1.0 / 36.0, "probability/month the key municipal official leaves", "assumption", lo=0.0, hi=1.0
    )
    turnover_ngo: float = par(1.0 / 72.0, "probability/month an NGO leader leaves", "assumption", lo=0.0, hi=1.0)
    business_size_shares: tuple[float, ...] = par(
        (0.70, 0.25, 0.05), "share small/medium/large", "assumption", lo=0.0, hi=1.0, length=3, sums_to_one=True
    )
    business_profit: tuple[float, ...] = par(
        (3.0e5, 2.0e6, 1.5e7), "roubles/month profit by size class", "assumption", lo=0.0, length=3
    )
    csr_share: tuple[float, ...] = par(
        (0.01, 0.015, 0.02), "share of profit to CSR by size class", "assumption", lo=0.0, hi=1.0, length=3
    )
    named_fund_motivation: float = par(
        0.2, "added CSR motivation when the donation bears the donor's name", "BRIEF s.3.3: named funds", lo=0.0, hi=1.0
    )


@dataclass(frozen=True)
class TrustParams:
    """Personal (edge) and institutional (agent-to-sector) trust (configs/trust/)."""

    prior_weight: float = par(2.0, "pseudo-observations", "Jøsang & Ismail 2002 beta reputation uses 2", lo=0.1, hi=100.0)
    kept_weight: float = par(
        1.0, "evidence per kept obligation", "Jøsang & Ismail 2002: one unit of evidence per observation", lo=0.0, hi=100.0
    )
    broken_weight: float = par(
        3.0,
        "evidence per broken obligation",
        "assumption: 3x a kept one (BRIEF s.3.2 says only that trust falls sharply after a broken obligation; no number)",
        lo=0.0,
        hi=100.0,
    )
    forgetting: float = par(
        0.97,
        "monthly retention of evidence",
        "form: Jøsang & Ismail 2002 forgetting factor; value 0.97/month (evidence half-life ~23 months) is an assumption",
        lo=0.0,
        hi=1.0,
    )
    gossip: float = par(
        0.15,
        "share of a kept/broken event heard by the target's other partners",
        "assumption: reputation spreads",
        lo=0.0,
        hi=1.0,
    )
    institutional_rate: float = par(0.05, "EMA weight/month toward observed edge trust", "assumption", lo=0.0, hi=1.0)
    initial_institutional: tuple[float, ...] = par(
        (0.55, 0.45, 0.50, 0.40, 0.50, 0.40, 0.30, 0.40, 0.55),
        "3x3 row-major trust of gov/business/ngo toward gov/business/ngo",
        "assumption (qualitative: Volgograd 2021 reports low NGO trust in authorities; no survey number maps to these values)",
        lo=0.0,
        hi=1.0,
        length=9,
    )
    tie_rebuild: float = par(
        0.08,
        "probability/month that a dormant tie (lost when a person left) is renewed by the successor",
        "assumption: a successor rebuilds the network over about a year (BRIEF s.3.2, s.4 model 1)",
        lo=0.0,
        hi=1.0,
    )
    initial_evidence: float = par(2.0, "kept obligations behind an initial personal tie", "assumption", lo=0.0, hi=100.0)


@dataclass(frozen=True)
class PartnershipParams:
    """Partnership formation, delivery and production (configs/partnership/)."""

    proposal_rate: float = par(0.4, "proposals/month per municipality", "assumption", lo=0.0, hi=100.0)
    form_weights: tuple[float, ...] = par(
        (0.2, 0.3, 0.35, 0.15),
        "relative frequency of proposed forms gov-business/business-NGO/gov-NGO/trilateral",
        "assumption",
        lo=0.0,
        length=4,
    )
    accept_intercept: float = par(-1.0, "logit", "assumption", lo=-20.0, hi=20.0)
    accept_trust: float = par(4.0, "logit per trust unit", "assumption", lo=-20.0, hi=20.0)
    accept_capacity: float = par(1.5, "logit per capacity unit", "assumption", lo=-20.0, hi=20.0)
    accept_plan_fit: float = par(
        1.5,
        "logit if NGO domain is in the authority's plans",
        "Volgograd 2021: 68.7% of officials choose by plan fit",
        lo=-20.0,
        hi=20.0,
    )
    accept_personal_tie: float = par(
        1.0, "logit if a personal tie exists", "BRIEF s.3.2: personal connections weigh heavily", lo=-20.0, hi=20.0
    )
    plan_domains: int = par(2, "domains in each authority's plans", "assumption", lo=0, hi=5)
    duration_months: tuple[int, ...] = par(
        (6, 24),
        "uniform range of bilateral duration, months",
        "assumption: annual projects",
        lo=1,
        hi=240,
        length=2,
        ascending=True,
    )
    trilateral_duration_factor: float = par(
        1.5, "x bilateral duration", "BRIEF s.3.1: trilateral needs long-term agreements", lo=1.0, hi=10.0
    )
    commitment_gov: float = par(0.85, "probability/month of delivering", "assumption", lo=0.0, hi=1.0)
    commitment_business: float = par(0.85, "probability/month of delivering", "assumption", lo=0.0, hi=1.0)
    commitment_ngo_base: float = par(0.6, "probability/month of delivering at capacity 0", "assumption", lo=0.0, hi=1.0)
    dissolve_trust: float = par(0.25, "mean member trust below which a partnership dissolves", "assumption", lo=0.0, hi=1.0)
    gov_money: float = par(40_000.0, "roubles/month from a government member", "assumption", lo=0.0)
    business_money_share: float = par(0.3, "share of the member's monthly CSR budget", "assumption", lo=0.0, hi=1.0)
    productivity: float = par(1.0, "services/month per unit of CES resource index", "assumption", lo=0.0)
    ces_rho: float = par(
        0.3, "CES exponent (<1: resource kinds are complements)", "assumption: synergy (BRIEF s.3.1)", lo=-5.0, hi=1.0
    )
    resource_scale: tuple[float, ...] = par(
        (20_000.0, 0.05, 1.0, 1.0),
        "money roubles, competence, volunteers, premises/in-kind per resource unit",
        "assumption",
        lo=1e-9,
        length=4,
    )
    premises_units: float = par(5.0, "resource units of premises from a government member", "assumption", lo=0.0)
    business_inkind_units: float = par(
        3.0,
        "resource units of in-kind help (equipment, venues, pro bono work) from a business member",
        "BRIEF s.2: sponsorship and in-kind help",
        lo=0.0,
    )


@dataclass(frozen=True)
class FinanceParams:
    """Grants, social orders, subsidies and endowments (configs/finance/)."""

    grant_month: int = par(3, "month of year (1-12) of the annual competition", "assumption", lo=1, hi=12)
    grant_size: float = par(500_000.0, "roubles per award", "assumption: typical regional grant", lo=0.0)
    grant_duration: int = par(12, "months a funded project runs", "BRIEF s.3.3: usually annual", lo=1, hi=60)
    apply_prob_experienced: float = par(0.6, "probability of applying", "assumption", lo=0.0, hi=1.0)
    apply_prob_novice: float = par(
        0.1,
        "probability of applying without project experience",
        "Volgograd 2021: 18.2% of NGOs took part in competitions",
        lo=0.0,
        hi=1.0,
    )
    score_capacity: float = par(1.0, "score per capacity unit", "assumption", lo=0.0, hi=100.0)
    score_experience: float = par(0.3, "score if experienced", "assumption", lo=0.0, hi=100.0)
    score_noise: float = par(
        0.25, "s.d. of expert scoring noise", "BRIEF s.3.3: 44.1% of NGOs complain of subjective choice", lo=0.0, hi=10.0
    )
    score_bias_tie: float = par(
        0.2,
        "score per unit of personal trust with the grant-maker",
        "BRIEF s.3.3: personal ties; 42.4% complain of corruption",
        lo=0.0,
        hi=10.0,
    )
    effort_cost: float = par(40_000.0, "rouble-equivalent staff time per application", "Gross & Bergstrom 2019", lo=0.0)
    project_services_per_grant: float = par(0.04, "services/month per 1000 roubles of an award", "assumption", lo=0.0)
    unit_price: float = par(2_500.0, "roubles per service under a social order", "assumption", lo=0.0)
    reporting_burden: float = par(
        0.15, "share of social-order revenue spent on reporting", "BRIEF s.3.3: heavy reporting", lo=0.0, hi=1.0
    )
    request_prob: float = par(
        0.08, "probability/month an NGO asks its municipality for support", "Volgograd 2021: 53.7% ask often", lo=0.0, hi=1.0
    )
    request_fulfil_base: float = par(
        0.1, "probability a request is fulfilled at zero trust", "Volgograd 2021: 27.2% mostly fulfilled", lo=0.0, hi=1.0
    )
    request_fulfil_trust: float = par(0.5, "added probability per unit trust", "assumption", lo=0.0, hi=1.0)
    subsidy_size: float = par(30_000.0, "roubles per fulfilled request", "assumption", lo=0.0)
    endowment_share: float = par(
        0.03, "share of NGOs pursuing an endowment", "assumption: costly to form (BRIEF s.3.3)", lo=0.0, hi=1.0
    )
    endowment_initial_share: float = par(
        0.5, "share of endowment-pursuing NGOs that already hold a formed endowment at start", "assumption", lo=0.0, hi=1.0
    )
    endowment_initial_capital: tuple[float, ...] = par(
        (3.0e6, 9.0e6),
        "uniform range of an initial endowment's principal, roubles",
        "assumption: near the 275-FZ minimum",
        lo=0.0,
        length=2,
        ascending=True,
    )
    endowment_match: float = par(
        1.0,
        "roubles the region adds per rouble donated to a forming endowment",
        "policy lever: matching programme (assumption)",
        lo=0.0,
        hi=10.0,
    )
    endowment_min_capital: float = par(3.0e6, "roubles", "275-FZ: minimum target capital", lo=0.0)
    endowment_formation_months: int = par(12, "months from first donation to reach the minimum", "275-FZ", lo=1, hi=60)
    endowment_donation_share: float = par(
        0.5, "share of a business's CSR budget given to an endowment it favours", "assumption", lo=0.0, hi=1.0
    )
    endowment_return_mean: float = par(
        0.08, "annual mean return (log-normal gross return)", "assumption: RF bond-heavy portfolio", lo=-0.9, hi=1.0
    )
    endowment_return_sd: float = par(0.06, "annual s.d. of return (log-normal gross return)", "assumption", lo=0.0, hi=2.0)
    endowment_spending_rate: float = par(
        0.05, "target annual spending rate on market value", "Yale rule, BRIEF s.8", lo=0.0, hi=0.1
    )
    endowment_smoothing: float = par(0.8, "weight on last year's spending", "Yale rule, BRIEF s.8", lo=0.0, hi=1.0)
    manager_fee_share: float = par(
        0.1, "share of positive trust income paid to the management company", "assumption within 275-FZ caps", lo=0.0, hi=0.25
    )
    admin_cap_share: float = par(
        0.1, "max share of endowment income spent on administration", "275-FZ: 10% of the year's income", lo=0.0, hi=0.1
    )
    admin_share: float = par(
        0.1, "share of endowment income the NGO spends on administration (capped)", "assumption", lo=0.0, hi=1.0
    )


RC_MODELS: tuple[str, ...] = ("none", "administrative", "subordinate", "municipal_rc", "public_development_centre")
"""The four resource-centre models of the Ural study (BRIEF s.4), plus none."""


@dataclass(frozen=True)
class RCParams:
    """NGO resource centres, one per municipality (configs/rc_model/)."""

    model: str = par("none", "-", "BRIEF s.4: the four models of the Ural study", choices=RC_MODELS)
    staff: float = par(
        1.0,
        "staff working for NGOs per centre",
        "BRIEF s.4: administrative = one specialist; Kaluga centre 5 staff",
        lo=0.0,
        hi=100.0,
    )
    ngos_per_staff: float = par(
        8.0,
        "NGOs one staff member can support per month before overload",
        "assumption; Kaluga plan: 38 regular + 61 irregular clients for 5 staff",
        lo=0.1,
        hi=1000.0,
    )
    consult_effect: float = par(
        0.02,
        "capacity gain per month of support (share of the gap to 1)",
        "assumption; Ural: training 54.5%, consulting 36.4% of centres",
        lo=0.0,
        hi=1.0,
    )
    project_help: float = par(
        0.3,
        "added probability of applying to competitions for a supported NGO",
        "Volgograd 2021: 75.3% of NGOs ask for help preparing projects",
        lo=0.0,
        hi=1.0,
    )
    score_help: float = par(0.15, "grant score bonus for a supported NGO", "assumption", lo=0.0, hi=10.0)
    effectiveness: float = par(
        1.0,
        "share of support work that is real rather than nominal",
        "BRIEF s.4: subordinate model reports formally",
        lo=0.0,
        hi=1.0,
    )
    motivation: float = par(
        1.0, "staff motivation multiplier on capacity", "BRIEF s.4: subordinate staff not interested", lo=0.0, hi=1.0
    )
    single_domain: bool = par(False, "on/off", "BRIEF s.4: subordinate model focuses on one target group")
    specialist_turnover: float = par(
        0.0,
        "probability/month the person carrying the centre leaves (ties go with them)",
        "BRIEF s.4: administrative model rests on one person",
        lo=0.0,
        hi=1.0,
    )
    personal_brokerage: float = par(
        0.0,
        "weight of the centre's trust in an NGO on the municipality's decisions",
        "BRIEF s.4: administrative specialist mobilises NGOs through personal ties",
        lo=0.0,
        hi=1.0,
    )
    funding_municipal: float = par(
        0.0,
        "roubles/year from the municipal assignment",
        "BRIEF s.4: subordinate model has stable funding",
        lo=0.0,
    )
    funding_grant_prob: float = par(
        0.0,
        "probability/year the centre wins a grant for its own work",
        "BRIEF s.4: municipal RC funding is unstable",
        lo=0.0,
        hi=1.0,
    )
    funding_grant_size: float = par(1.2e6, "roubles per grant to the centre", "assumption", lo=0.0)
    cost_per_staff: float = par(35_000.0, "roubles/month per staff member", "assumption: regional wage", lo=0.0)
    practice_bank: bool = par(False, "on/off", "BRIEF s.4: municipal RC keeps a bank of practices")
    practice_adoption: float = par(
        0.05,
        "probability/month a supported NGO adopts a practice from the bank (or from a tied adopter)",
        "assumption",
        lo=0.0,
        hi=1.0,
    )
    practice_productivity: float = par(
        0.3,
        "added services per staff (share) for an NGO using a proven practice",
        "assumption",
        lo=0.0,
        hi=5.0,
    )
    outreach: float = par(
        0.0,
        "added probability/month that eligible families in the municipality learn of support",
        "BRIEF s.4: municipal RC reaches small settlements",
        lo=0.0,
        hi=1.0,
    )
    friction: float = par(
        0.0,
        "broken-obligation evidence/month in the administration's tie to the centre per 10 supported NGOs",
        "BRIEF s.4: possible competition with the administration",
        lo=0.0,
        hi=10.0,
    )
    programme_share: float = par(
        0.0,
        "share of the municipal support budget co-executed through the centre",
        "BRIEF s.4: centre of public development co-executes municipal programmes",
        lo=0.0,
        hi=1.0,
    )
    charity_development: float = par(
        0.0,
        "added CSR motivation of businesses in the municipality",
        "BRIEF s.4: develops charity",
        lo=0.0,
        hi=1.0,
    )
    bridging: float = par(
        0.0,
        "cross-sector ties the centre brokers per month",
        "BRIEF s.4: unites sectors",
        lo=0.0,
        hi=100.0,
    )
    transform: bool = par(False, "on/off", "BRIEF s.4: 4-step transformation into a centre of public development")
    transform_trust: float = par(
        0.6,
        "trust of the administration in the centre needed to become a strategic subject (step 1)",
        "assumption",
        lo=0.0,
        hi=1.0,
    )
    transform_ties: int = par(12, "ties of the centre needed for step 2", "assumption", lo=0, hi=10_000)
    transform_income: float = par(
        1.0e6,
        "roubles/year raised in the territory needed for step 3",
        "assumption",
        lo=0.0,
    )
    transform_months: int = par(6, "months each step must hold before the next", "assumption", lo=1, hi=120)
    network: bool = par(False, "on/off", "BRIEF s.4: network of resource centres (Ural)")
    network_cost: float = par(
        0.1,
        "share of staff time spent on network coordination",
        "BRIEF s.4: networks need coordination",
        lo=0.0,
        hi=1.0,
    )
    network_exit: float = par(
        0.01,
        "probability/month a centre leaves the network",
        "BRIEF s.4: members strive for independence",
        lo=0.0,
        hi=1.0,
    )


@dataclass(frozen=True)
class ClusterParams:
    """Family-oriented cluster around a family resource centre (configs/cluster/)."""

    enabled: bool = par(False, "on/off", "BRIEF s.5: policy lever")
    launch_month: int = par(12, "month the launch sequence starts (its first strategic session)", "policy lever", lo=0, hi=1200)
    joining_share: float = par(0.5, "share of family NGOs and businesses that join", "policy lever", lo=0.0, hi=1.0)
    coordinator_staff: float = par(
        3.0, "staff of the family resource centre", "policy lever; Kaluga plan: 5 staff", lo=0.0, hi=100.0
    )
    training: float = par(
        0.01,
        "capacity gain/month of main-zone NGOs (share of the gap to 1) from training by the core and universities",
        "BRIEF s.5: accompanying zone (universities, colleges) - training, methods",
        lo=0.0,
        hi=1.0,
    )
    strategic_agreements: int = par(
        3,
        "long-term agreements the core coordinates per municipality with members",
        "BRIEF s.5: strategic clustering",
        lo=0,
        hi=100,
    )
    agreement_months: int = par(36, "duration of a strategic agreement, months", "BRIEF s.5: long-term agreements", lo=1, hi=240)
    local_coalitions: float = par(
        0.5,
        "short-lived coalitions/month per municipality",
        "BRIEF s.5: local clustering",
        lo=0.0,
        hi=100.0,
    )
    coalition_months: int = par(4, "duration of a local coalition, months", "assumption", lo=1, hi=60)
    quality_control: float = par(
        0.5,
        "share of a member's delivery shortfall closed by the core's quality control",
        "BRIEF s.5: quality control",
        lo=0.0,
        hi=1.0,
    )
    hotline: bool = par(True, "on/off", "BRIEF s.5: one window tier 1 (hotline / call centre)")
    hotline_awareness: float = par(
        0.05,
        "added probability/month that an eligible family learns of support",
        "assumption",
        lo=0.0,
        hi=1.0,
    )
    online_consultation: bool = par(True, "on/off", "BRIEF s.5: one window tier 2 (lawyers, psychologists online)")
    consultation_apply: float = par(
        0.25,
        "added probability/month that an aware eligible family applies",
        "assumption: paperwork help",
        lo=0.0,
        hi=1.0,
    )
    crisis_centre: bool = par(True, "on/off", "BRIEF s.5: one window tier 3 (crisis centre)")
    crisis_capacity: float = par(
        2.0,
        "services/month per 1000 families, for families in difficulty or crisis",
        "assumption",
        lo=0.0,
    )
    routing: bool = par(
        True,
        "on/off",
        "BRIEF s.5: one window routes a family to a provider with capacity in its municipality",
    )
    trust_programme: float = par(
        0.5,
        "intensity 0..1 of the trust-culture programme (code of honour, standards)",
        "BRIEF s.5; policy lever",
        lo=0.0,
        hi=1.0,
    )
    sessions: tuple[int, ...] = par(
        (12, 24, 36, 48),
        "months of strategic sessions",
        "BRIEF s.5 and concept VI.1: dated events",
        lo=0,
        hi=1200,
    )
    session_ties: float = par(
        4.0,
        "new cross-sector ties per participant at a strategic session",
        "assumption",
        lo=0.0,
        hi=100.0,
    )
    session_proposals: float = par(
        2.0,
        "extra partnership proposals per municipality in a session month",
        "assumption",
        lo=0.0,
        hi=100.0,
    )
    endowment: bool = par(False, "on/off", "BRIEF s.5: the centre can found an endowment")
    endowment_seed: float = par(3.0e6, "roubles the region gives to found the centre's endowment", "275-FZ minimum", lo=0.0)
    cost: float = par(150_000.0, "roubles/month the region pays the family resource centre", "assumption", lo=0.0)
    # --- launch sequence, agreements, clustering (issue #13; sim/mechanisms/cluster.py)
    launch_step_months: int = par(
        2,
        "months between the launch steps (strategic session, agreement of intent, decree, centre, agreements)",
        "concept IX work plan: sessions Sep 2020-Apr 2021 before the tiers; about 8 months over 4 gaps",
        lo=0,
        hi=24,
    )
    renewal: bool = par(True, "on/off", "concept IV (strategic clustering: partnerships stable over time); policy lever")
    renewal_min_kept: float = par(
        0.5,
        "share of an agreement's obligations kept needed to renew it at its term",
        "assumption: concept VI.6 (trust follows kept agreements)",
        lo=0.0,
        hi=1.0,
    )
    ngo_coalitions: float = par(
        0.5,
        "NGO-NGO coalitions/month per municipality among main-zone NGOs (cooperation/mutual help)",
        "concept IV, zone interaction types: main zone - cooperation/mutual help",
        lo=0.0,
        hi=100.0,
    )
    mutual_help: float = par(
        0.05,
        "share of the capacity gap to its coalition partner a weaker NGO closes per month",
        "assumption",
        lo=0.0,
        hi=1.0,
    )
    # --- banks and project classes (sim/mechanisms/cluster_banks.py)
    banks: bool = par(
        True,
        "on/off",
        "concept IV: banks of ideas, projects, competences, practices and investors (before Table IV.1)",
    )
    ideas_per_member: float = par(
        0.02, "ideas/month each member puts into the idea bank", "assumption", lo=0.0, hi=10.0
    )
    idea_pass: float = par(
        0.5,
        "share of ideas that pass the specialists' screening into the project bank",
        "concept IV: primary assessment by specialists; share assumed",
        lo=0.0,
        hi=1.0,
    )
    class_shares: tuple[float, ...] = par(
        (0.55, 0.25, 0.15, 0.05),
        "shares of life-support, development, breakthrough, flagship projects",
        "concept IV (4 groups of projects); shares assumed",
        lo=0.0,
        hi=1.0,
        length=4,
        sums_to_one=True,
    )
    class_months: tuple[int, ...] = par(
        (12, 12, 24, 48),
        "duration of a project of each class, months",
        "concept IV: development - short term, breakthrough - medium term, flagship - long term; months assumed",
        lo=1,
        hi=240,
        length=4,
    )
    competence_candidates: int = par(
        3,
        "member NGOs compared by capacity when the competence bank picks a project's NGO (competition)",
        "concept IV: auxiliary zone - competition; number assumed",
        lo=1,
        hi=100,
    )
    # --- one-window tiers staged and paid (sim/mechanisms/one_window.py)
    tier_months: tuple[int, ...] = par(
        (0, 2, 6),
        "months after the agreements that the hotline, online consultation and crisis centre open",
        "concept IX work plan: tier 1 Sep 2020, tier 2 Nov 2020, tier 3 Nov 2020-Jun 2021",
        lo=0,
        hi=240,
        length=3,
    )
    tier_costs: tuple[float, ...] = par(
        (50_000.0, 80_000.0),
        "roubles/month the hotline and the online consultation cost",
        "assumption",
        lo=0.0,
        length=2,
    )
    crisis_service_cost: float = par(3_000.0, "roubles per crisis-centre service", "assumption", lo=0.0)
    one_window_payer: str = par(
        "region",
        "who pays the one-window tiers: region (through the core) or core (its own cash)",
        "concept V: the centre is supported by the region and the cluster's members; policy lever",
        choices=("region", "core"),
    )


@dataclass(frozen=True)
class MentoringParams:
    """Volunteer mentoring of children in a difficult situation (configs/mentoring/; Stavropol case)."""

    enabled: bool = par(False, "on/off", "stavropol_volunteers_case: 'Big brother, big sister' programme; policy lever")
    start_month: int = par(0, "month index the programme starts", "policy lever", lo=0, hi=1200)
    eligible_months: int = par(
        12,
        "months a family has been in difficulty or crisis before its child can be referred",
        "stavropol_volunteers_case: a child in a difficult life situation for at least one year",
        lo=0,
        hi=240,
    )
    mentor_share: float = par(
        0.3,
        "share of the volunteers of at-risk-children NGOs who mentor (one child each)",
        "stavropol_volunteers_case: one young volunteer per child; share assumed",
        lo=0.0,
        hi=1.0,
    )
    referrals: float = par(
        2.0,
        "children/month per 1000 families the state temporary-stay centre refers",
        "stavropol_volunteers_case: run with the Centre of temporary stay; rate assumed",
        lo=0.0,
        hi=1000.0,
    )
    pair_months: int = par(
        12,
        "planned duration of a pair, months",
        "assumption: programme year (the case's one year is the child's time in difficulty)",
        lo=1,
        hi=240,
    )
    break_prob: float = par(0.04, "probability/month a pair ends early", "assumption", lo=0.0, hi=1.0)
    meeting_prob: float = par(
        0.7, "probability of each of 4 weekly meetings", "stavropol_volunteers_case: number and regularity of meetings",
        lo=0.0, hi=1.0,
    )
    quality_rate: float = par(
        0.05,
        "share of the gap to 1 the pair's relationship quality closes per meeting",
        "stavropol_volunteers_case: quality of relations (trust, understanding); rate assumed",
        lo=0.0,
        hi=1.0,
    )
    wellbeing_effect: float = par(
        0.01,
        "wellbeing gain/month of the child's family at relationship quality 1",
        "stavropol_volunteers_case: emotional state, behaviour, relations with parents; size assumed",
        lo=0.0,
        hi=1.0,
    )
    improve_prob: float = par(
        0.06,
        "probability/month at quality 1 that the family moves one state up",
        "assumption",
        lo=0.0,
        hi=1.0,
    )


@dataclass(frozen=True)
class ScenarioParams:
    """Policy levers of a scenario (configs/scenario/)."""

    name: str = par("baseline", "-", "preset name")
    description: str = par("Status quo region", "-", "preset text: title shown in the dashboard (English)")
    title_ru: str = par("Регион как есть", "-", "preset text: title shown in the dashboard (Russian)")
    about: str = par(
        "A small region with today's rules: no resource centre, no family cluster.", "-", "preset text: the case (English)"
    )
    about_ru: str = par(
        "Небольшой регион при нынешних правилах: без ресурсного центра и семейного кластера.", "-", "preset text: the case"
    )
    question: str = par("What happens if nothing changes?", "-", "preset text: the question for the room (English)")
    question_ru: str = par("Что будет, если ничего не менять?", "-", "preset text: the question for the room")
    watch: str = par("Trust between NGOs and the administration; families reached.", "-", "preset text: what to watch")
    watch_ru: str = par("Доверие НКО и администрации; охват семей.", "-", "preset text: what to watch (Russian)")
    grant_budget_scale: float = par(1.0, "x region grant budgets", "policy lever", lo=0.0, hi=100.0)
    social_order_scale: float = par(1.0, "x region social-order budget", "policy lever", lo=0.0, hi=100.0)
    endowments: bool = par(True, "on/off", "policy lever: endowment programme (275-FZ)")


@dataclass(frozen=True)
class OutputParams:
    """What a run writes (configs/config.yaml: output)."""

    plots: bool = par(True, "on/off", "write outcome plots (png)")
    check_conservation: bool = par(True, "on/off", "check the ledger sums to zero every step")
    family_thread: bool = par(
        True,
        "on/off",
        "run the families' passes (and the trust update beside the services) in a second thread while "
        "organisations act, with 20,000 families or more (same results either way)",
    )


@dataclass(frozen=True)
class Config:
    """The whole run configuration."""

    seed: int = par(1, "-", "run seed; all random streams derive from it", lo=0, hi=2**63 - 1)
    steps: int = par(60, "months", "assumption: five years", lo=1, hi=1200)
    region: RegionParams = field(default_factory=RegionParams)
    families: FamilyParams = field(default_factory=FamilyParams)
    org: OrgParams = field(default_factory=OrgParams)
    trust: TrustParams = field(default_factory=TrustParams)
    partnership: PartnershipParams = field(default_factory=PartnershipParams)
    finance: FinanceParams = field(default_factory=FinanceParams)
    scenario: ScenarioParams = field(default_factory=ScenarioParams)
    rc_model: RCParams = field(default_factory=RCParams)
    cluster: ClusterParams = field(default_factory=ClusterParams)
    mentoring: MentoringParams = field(default_factory=MentoringParams)
    output: OutputParams = field(default_factory=OutputParams)


IGNORED_TOP_KEYS = frozenset({"hydra"})


def _check_number(path: str, value: Any, meta: dict[str, Any]) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{path}={value!r} is not a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{path}={value!r} must be finite")
    lo, hi = meta.get("lo"), meta.get("hi")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        lo_s = "-inf" if lo is None else f"{lo:g}"
        hi_s = "inf" if hi is None else f"{hi:g}"
        raise ConfigError(f"{path}={value!r} out of range: allowed {lo_s}..{hi_s}")


def _coerce(path: str, value: Any, typ: Any, meta: dict[str, Any]) -> Any:
    """Check and convert one leaf value against its declared type and metadata."""
    origin = typing.get_origin(typ)
    if typ is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{path}={value!r} is not allowed: allowed values true, false")
        return value
    if typ is str:
        if not isinstance(value, str):
            raise ConfigError(f"{path}={value!r} is not a string")
        choices = meta.get("choices")
        if choices and value not in choices:
            raise ConfigError(f"{path}={value!r} is not allowed: allowed values {', '.join(choices)}")
        return value
    if typ is int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{path}={value!r} is not an integer")
        _check_number(path, value, meta)
        return value
    if typ is float:
        _check_number(path, value, meta)
        return float(value)
    if origin is tuple:
        (elem,) = {a for a in typing.get_args(typ) if a is not Ellipsis}
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{path}={value!r} is not a list")
        n = meta.get("length")
        if n is not None and len(value) != n:
            raise ConfigError(f"{path} has {len(value)} values: allowed exactly {n}")
        out = tuple(_coerce(f"{path}[{i}]", v, elem, meta) for i, v in enumerate(value))
        if meta.get("sums_to_one") and abs(sum(out) - 1.0) > 1e-6:
            raise ConfigError(f"{path} sums to {sum(out):g}: allowed shares summing to 1")
        if meta.get("ascending") and any(b < a for a, b in zip(out, out[1:], strict=False)):
            raise ConfigError(f"{path}={list(out)!r} is reversed: allowed [low, high] with low <= high")
        return out
    raise ConfigError(f"{path}: unsupported type {typ}")  # pragma: no cover - declaration error


def _build(cls: type, data: Any, path: str) -> Any:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path or 'config'} must be a mapping, got {data!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if path == "" and key in IGNORED_TOP_KEYS:
            continue
        full = f"{path}.{key}" if path else str(key)
        if key not in fields:
            raise ConfigError(f"unknown key '{full}': allowed keys {', '.join(sorted(fields))}")
        typ = hints[key]
        if dataclasses.is_dataclass(typ):
            kwargs[key] = _build(typ, value, full)
        else:
            kwargs[key] = _coerce(full, value, typ, dict(fields[key].metadata))
    return cls(**kwargs)


def build_config(data: dict[str, Any] | None) -> Config:
    """Validate a plain mapping and return a typed :class:`Config`.

    Missing keys take their declared defaults.

    Args:
        data: Nested mapping, e.g. ``OmegaConf.to_container(cfg, resolve=True)``.

    Returns:
        The validated configuration.

    Raises:
        ConfigError: One-line message naming the bad key and the allowed values.
    """
    cfg = _build(Config, data, "")
    _check_consistency(cfg)
    return cfg


CROSS_CHECKED = frozenset({"steps", "cluster.enabled", "cluster.launch_month"})
"""Parameters :func:`_check_consistency` checks against each other (a value alone is not enough)."""


def _check_consistency(cfg: Config) -> None:
    """Checks across parameters: values each allowed alone that together mean nothing."""
    cl = cfg.cluster
    if cl.enabled and cl.launch_month >= cfg.steps:
        raise ConfigError(
            f"cluster.launch_month={cl.launch_month} is not before steps={cfg.steps}: "
            f"allowed 0..{cfg.steps - 1} with the cluster on (it would never start)"
        )


def config_to_dict(cfg: Any) -> dict[str, Any]:
    """Convert a config dataclass into plain nested dicts and lists."""

    def conv(v: Any) -> Any:
        if dataclasses.is_dataclass(v):
            return {f.name: conv(getattr(v, f.name)) for f in dataclasses.fields(v)}
        if isinstance(v, tuple):
            return [conv(x) for x in v]
        return v

    return conv(cfg)


def iter_parameters(cls: type = Config, prefix: str = "") -> typing.Iterator[tuple[str, Any, dict[str, Any]]]:
    """Yield ``(dotted_name, default, metadata)`` for every declared parameter."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        name = f"{prefix}{f.name}"
        typ = hints[f.name]
        if dataclasses.is_dataclass(typ):
            yield from iter_parameters(typ, name + ".")
        else:
            default = f.default if f.default is not dataclasses.MISSING else None
            yield name, default, dict(f.metadata)


def replace(cfg: Config, **changes: Any) -> Config:
    """Return a copy of ``cfg`` with dotted-path changes, re-validated.

    Example: ``replace(cfg, **{"finance.grant_size": 0.0})``.
    """
    data = config_to_dict(cfg)
    for dotted, value in changes.items():
        node = data
        *parents, leaf = dotted.split(".")
        for p in parents:
            node = node[p]
        node[leaf] = list(value) if isinstance(value, tuple) else value
    return build_config(data)
