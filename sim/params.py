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
        0.2,
        "share by which a business's CSR budget grows for its gifts to its named fund in a community foundation",
        "concept s.IV.3.2 'Именной фонд': the donor's name on the programme is an added motivation for business; the "
        "size 0.2 is an assumption (read by sim.mechanisms.community_foundations)",
        lo=0.0,
        hi=1.0,
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
    gov_budget_check: bool = par(
        True,
        "on/off: a municipality takes on a money commitment only if its free budget for the rest of the year covers it "
        "(and keeps it reserved); off: commitments are accepted unchecked and broken when the money runs out",
        "BRIEF s.2 (small municipal budgets); a budget-bound authority cannot commit money it has not got (assumption "
        "on the rule); off reproduces the model before issue #12",
    )
    gov_payment_delay: float = par(
        0.1,
        "probability/month a municipality's due partnership payment is late (paid with a later month's; none in "
        "December, when the year's accounts close)",
        "assumption (BRIEF s.6: NGOs name bureaucracy as a problem; no source gives a rate)",
        lo=0.0,
        hi=1.0,
    )
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


FUND_PAYERS: tuple[str, ...] = ("federal", "regional", "business")
"""Who pays a fund's grants: the federal budget (outside the region), the region, or the businesses (a corporate fund)."""


@dataclass(frozen=True)
class FundParams:
    """One grant fund of ``finance.funds``: who pays, its competition calendar, budget, award sizes, project lengths."""

    name: str = par("fund", "-", "label of the fund")
    payer: str = par(
        "regional",
        "-",
        "federal: the federal budget (not the region's money); regional: the region's grant budget; business: a "
        "corporate fund the businesses endow from profit in proportion to their CSR (led by the largest)",
        choices=FUND_PAYERS,
    )
    months: tuple[int, ...] = par((3,), "months of year (1-12) of the fund's competitions", "assumption", lo=1, hi=12)
    budget_share: float = par(
        1.0,
        "share of the payer's annual grant money (federal: region.federal_grant_budget, regional: "
        "region.regional_grant_budget, both x scenario.grant_budget_scale; business: the businesses' annual CSR "
        "budget, paid on top of it from profit), split equally over the competitions of the year",
        "assumption",
        lo=0.0,
        hi=1.0,
    )
    grant_size: tuple[float, ...] = par(
        (500_000.0, 500_000.0),
        "uniform range of an award, roubles",
        "assumption",
        lo=1.0,
        length=2,
        ascending=True,
    )
    duration: tuple[int, ...] = par(
        (12, 12), "uniform range of a funded project's length, months", "assumption", lo=1, hi=60, length=2, ascending=True
    )
    tie_bias: bool = par(
        False,
        "on/off: the payer's trust in an applicant adds finance.score_bias_tie x trust to its score (not for federal)",
        "BRIEF s.3.3: personal ties; 42.4% complain of corruption",
    )


DEFAULT_FUNDS: tuple[FundParams, ...] = (
    FundParams(
        name="presidential",
        payer="federal",
        months=(2, 7),
        budget_share=1.0,
        grant_size=(300_000.0, 800_000.0),
        duration=(12, 24),
        tie_bias=False,
    ),
    FundParams(
        name="regional_programme",
        payer="regional",
        months=(4, 10),
        budget_share=1.0,
        grant_size=(200_000.0, 800_000.0),
        duration=(6, 18),
        tie_bias=True,
    ),
    FundParams(
        name="corporate",
        payer="business",
        months=(10,),
        budget_share=0.1,
        grant_size=(50_000.0, 200_000.0),
        duration=(3, 12),
        tie_bias=True,
    ),
)
"""The default funds: presidential grants with two competitions a year and projects of one to two years, the
regional programme with a spring and an autumn round (projects of 6-18 months), a corporate fund once a year
(BRIEF s.3.3 names all three; calendars, shares, sizes and lengths are assumptions)."""


@dataclass(frozen=True)
class FinanceParams:
    """Grants, social orders, subsidies and endowments (configs/finance/)."""

    grant_month: int = par(
        3,
        "month of year (1-12) a resource centre's own grant is decided (NGO competitions run on the funds' calendars)",
        "assumption",
        lo=1,
        hi=12,
    )
    funds: tuple[FundParams, ...] = par(
        DEFAULT_FUNDS,
        "list of grant funds, each a mapping with the keys of FundParams (see the funds table below)",
        "BRIEF s.3.3: federal funds (presidential grants), regional programmes, corporate funds; each fund's "
        "calendar, share of the budget, award sizes and project lengths are assumptions (the seeds give none)",
    )
    lottery: bool = par(
        False,
        "on/off",
        "policy lever: Gross & Bergstrom 2019 (BRIEF s.8) - applicants above a quality bar are drawn at random",
    )
    lottery_bar: float = par(
        0.5,
        "share of each competition's applicants, best scores first, that pass the quality bar of the lottery",
        "assumption: the better half qualifies",
        lo=0.0,
        hi=1.0,
    )
    apply_prob_experienced: float = par(0.6, "probability of applying", "assumption", lo=0.0, hi=1.0)
    apply_prob_novice: float = par(
        0.1,
        "probability of applying without project experience",
        "Volgograd 2021: 18.2% of NGOs took part in competitions",
        lo=0.0,
        hi=1.0,
    )
    apply_propensity_shape: float = par(
        0.0,
        "shape k of each NGO's lifelong multiplier of its probability of applying, Gamma(k, 1/k) with mean 1 (smaller "
        "k: fewer NGOs do most of the applying; 0: every NGO applies with apply_prob_*)",
        "Volgograd 2021: 31.2% of NGOs have project experience but 18.2% took part in competitions and 3.5% won "
        "(experience alone does not make an applicant); issue #14: a small stable minority competes; the Gamma form "
        "is an assumption, k is fitted for the Volgograd preset (scripts/profile_fit.py)",
        lo=0.0,
        hi=1000.0,
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
    request_propensity_shape: float = par(
        0.0,
        "shape k of each NGO's lifelong multiplier of request_prob, Gamma(k, 1/k) with mean 1 (smaller k: NGOs differ "
        "more; 0: every NGO asks with request_prob)",
        "Volgograd 2021: contact regular 32.2 / sometimes 28.3 / rarely 32.5% and requests often 53.7 / in exceptional "
        "cases 33.0 / never 10.0%, a spread one common monthly probability cannot give (binomial over 36 months); "
        "the Gamma form is an assumption, k is calibrated",
        lo=0.0,
        hi=1000.0,
    )
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
        0.0,
        "roubles the region adds per rouble donated to a forming endowment (0 = off)",
        "policy option, off by default: the concept (s.VII, Fig. VII-5 step 2) forms target capital from donations "
        "of citizens and business only ('только в виде денежных средств'); a regional match is not in the sources",
        lo=0.0,
        hi=10.0,
    )
    endowment_min_capital: float = par(3.0e6, "roubles", "275-FZ: minimum target capital", lo=0.0)
    endowment_formation_months: int = par(12, "months from first donation to reach the minimum", "275-FZ", lo=1, hi=60)
    endowment_donation_share: float = par(
        0.5, "share of a business's CSR budget given to an endowment it favours", "assumption", lo=0.0, hi=1.0
    )
    endowment_citizen_share: float = par(
        0.0,
        "share of citizens' gifts to an NGO forming an endowment that goes to its capital",
        "assumption (0 = citizens give only to current funds); the concept (s.VII: 'разовых частных и "
        "бизнес-пожертвований') names citizens as endowment donors but gives no share",
        lo=0.0,
        hi=1.0,
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
    admin_cap_rule: str = par(
        "endowment_income_10",
        "which 275-FZ cap limits administration: 10% of the endowment income spent in the year, or 15% of the year's "
        "trust-management income",
        "concept Table VII.4 (275-FZ): 'не более 15% суммы дохода от ДУ имуществом, составляющим ЦК, или не более 10% "
        "суммы дохода от ЦК, поступившего за отчетный год'",
        choices=("endowment_income_10", "trust_income_15"),
    )
    trust_income_cap_share: float = par(
        0.15,
        "max share of the year's trust-management income spent on administration (rule trust_income_15)",
        "concept Table VII.4 (275-FZ): 15% of the income from trust management",
        lo=0.0,
        hi=0.15,
    )
    manager_expenses: float = par(
        60_000.0,
        "roubles/year of the management company's expenses (incl. the obligatory audit) reimbursed per capital",
        "assumption (size); the rule is concept Table VII.4: reimbursed from trust-management income",
        lo=0.0,
    )
    manager_expenses_income_cap: float = par(
        0.01,
        "max share of the endowment income that reimburses the manager's expenses when trust income falls short",
        "concept Table VII.4 (275-FZ): 'в случае недостаточности - за счет дохода от целевого капитала, но не более 1% "
        "такого дохода'",
        lo=0.0,
        hi=0.01,
    )
    specialised_fund: bool = par(
        False,
        "on/off: a specialised endowment fund (one capital) whose income is shared among several NGOs",
        "concept s.VII 'Второй вариант' and 'Варианты организационных схем' (one fund, income to one or more NGOs)",
    )
    specialised_fund_ngos: int = par(
        5, "NGOs that receive the specialised fund's income", "assumption (the fund's financial plan names them)",
        lo=1, hi=1000,
    )
    specialised_fund_rule: str = par(
        "equal",
        "how the fund's payout is shared: equally, or in proportion to the beneficiaries' capacity",
        "assumption: the concept leaves the shares to the fund's charter and financial plan",
        choices=("equal", "capacity"),
    )
    specialised_fund_donation_share: float = par(
        0.1,
        "share of each business's monthly giving budget that goes to the specialised fund",
        "assumption; donors are business (concept Fig. VII-5: cash donations only)",
        lo=0.0,
        hi=1.0,
    )


@dataclass(frozen=True)
class PerceptionParams:
    """Each side's own yardstick, satisfaction, and NGOs giving up asking (configs/perception/)."""

    official_answer_prob: float = par(
        0.5,
        "probability an official counts a refused request outside the plan as handled (a formal answer was given)",
        "assumption; BRIEF s.3.2: officials count a request handled when it was answered or passed on within the plan",
        lo=0.0,
        hi=1.0,
    )
    satisfaction_rate: float = par(
        0.1, "weight of one month's experience in satisfaction (exponential average)", "assumption", lo=0.0, hi=1.0
    )
    satisfaction_initial: float = par(0.5, "satisfaction (0..1) at start and of new NGOs", "assumption", lo=0.0, hi=1.0)
    ngo_weights: tuple[float, ...] = par(
        (1.0, 1.0, 1.0),
        "relative weights of support received / fairness of selection / no bureaucracy in an NGO's satisfaction",
        "BRIEF s.6 (what NGOs value); equal weights: assumption",
        lo=0.0,
        length=3,
    )
    official_weights: tuple[float, ...] = par(
        (1.0, 1.0, 1.0),
        "relative weights of plan fulfilment / NGO activity / NGO professionalism in an official's satisfaction",
        "BRIEF s.6 (what officials value); equal weights: assumption",
        lo=0.0,
        length=3,
    )
    activity_reference: float = par(
        0.3,
        "share of a territory's NGOs in contact or in a partnership in a month that officials see as fully active",
        "assumption",
        lo=1e-6,
        hi=1.0,
    )
    give_up_prob: float = par(
        0.25,
        "probability an NGO stops asking its municipality after a run of refusals (0: nobody gives up)",
        "assumption; BRIEF s.6 Q1: 'tried and failed' is an answer of NGOs not interacting",
        lo=0.0,
        hi=1.0,
    )
    give_up_refusals: int = par(2, "refusals in a row before an NGO may give up", "assumption", lo=1, hi=100)
    give_up_return_prob: float = par(
        0.02, "probability/month a discouraged NGO tries again (0: never)", "assumption: about four years", lo=0.0, hi=1.0
    )


@dataclass(frozen=True)
class SelectionParams:
    """Municipal partner choice by the officials' criteria, heard in order of personal ties (configs/selection/)."""

    by_criteria: bool = par(
        True,
        "municipalities choose NGO partners by the officials' criteria from an attention queue (false: one logistic "
        "acceptance of a random NGO, partnership.accept_*)",
        "Volgograd 2021 Q9 (officials' account) and BRIEF s.3.2 (NGOs' account)",
    )
    criteria_weights: tuple[float, ...] = par(
        (2.75, 1.53, 1.51, 1.42, 1.0),
        "logit per unit of plan fit / scale / target-group focus / readiness for dialogue / competence",
        "Volgograd 2021 Q9: officials naming each criterion 68.7/38.2/37.7/35.6/25.1% -> weight = share / 25 "
        "(the divisor is an assumption)",
        lo=-20.0,
        hi=20.0,
        length=5,
    )
    intercept: float = par(-4.0, "logit of accepting an NGO with every criterion at 0", "assumption", lo=-20.0, hi=20.0)
    scale_reference: float = par(
        3.0, "staff + volunteers/10 at which an NGO's scale counts as 1", "assumption", lo=1e-6, hi=1000.0
    )
    dialogue_months: float = par(
        12.0, "months of contact with the authority at which readiness for dialogue counts as 1", "assumption", lo=1.0, hi=600.0
    )
    applicants: int = par(4, "NGOs of the municipality applying for one partnership opening", "assumption", lo=1, hi=100)
    attention_span: int = par(
        2, "applicants the officials consider per opening before it lapses", "assumption", lo=1, hi=100
    )
    ties_first: bool = par(
        True,
        "applicants (and requests) are heard in order of the official's personal tie and trust (false: in random order)",
        "BRIEF s.3.2: NGOs report that personal connections weigh heavily in who gets support",
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
        "probability that the centre applies to each grant competition (it wins only by competing with the NGOs)",
        "BRIEF s.4: municipal RC funding is unstable; issue #13: centres compete on the same terms as NGOs",
        lo=0.0,
        hi=1.0,
    )
    funding_grant_size: float = par(
        1.2e6, "roubles per grant the centre asks for (counts against the competition's budget)", "assumption", lo=0.0
    )
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
    transform_ties: int = par(
        12,
        "NGOs of its territory the centre has trained, needed for step 2 (experience and partnerships grow)",
        "Ural study step 2: promotion, growth of experience and partnership; threshold assumption",
        lo=0,
        hi=10_000,
    )
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
    network_learning: float = par(
        0.3,
        "added share of consult_effect for network members (meetings, internships, network projects)",
        "Ural study: network meetings and internships strengthen each member (professionalisation); size assumption",
        lo=0.0,
        hi=5.0,
    )
    tier: str = par(
        "municipal",
        "-",
        "Ural study: 4 regional + 14 municipal centres; Kaluga proposal: one regional centre at a university",
        choices=("municipal", "regional"),
    )
    regional_staff: float = par(
        0.0,
        "staff of a regional centre coordinating the network (its cost is the network's coordination cost)",
        "Ural study: regional centres coordinate the network ('passing the banner' does not work); assumption",
        lo=0.0,
        hi=100.0,
    )
    volunteers: float = par(
        0.0, "volunteers working at the centre at the start", "Kaluga proposal s.5: 100 volunteers", lo=0.0, hi=1e5
    )
    ngos_per_volunteer: float = par(
        0.0,
        "NGOs one centre volunteer supports per month (occasional clients)",
        "Kaluga proposal s.10: 61 organisations served occasionally by 100 volunteers -> 0.61",
        lo=0.0,
        hi=100.0,
    )
    volunteer_growth: float = par(
        0.0,
        "growth of the centre's volunteers per year (share)",
        "Kaluga proposal s.13: growth of the volunteer movement is a criterion; rate assumption",
        lo=-1.0,
        hi=10.0,
    )
    students_per_year: float = par(
        0.0,
        "students trained as NGO specialists per year (an indicator; they do not join NGOs in the model)",
        "Kaluga proposal s.13: specialists trained among the institute's students; number assumption",
        lo=0.0,
        hi=1e5,
    )
    funding_university: float = par(
        0.0,
        "roubles/year the host university gives the centre",
        "Kaluga proposal: financed from the university's internal reserves, grants and donations; size assumption",
        lo=0.0,
    )
    experience_help: float = par(
        0.0,
        "probability/month a really supported NGO without project experience gains it",
        "Ural study: training (54.5%) and consulting (36.4%) raise project experience; size assumption",
        lo=0.0,
        hi=1.0,
    )
    representation: float = par(
        0.0,
        "added share of request probability for an NGO the centre supported within a year",
        "Kaluga proposal s.7: representing NGOs in state and municipal bodies; Ural: 'voice' to the authorities; assumption",
        lo=0.0,
        hi=10.0,
    )
    joint_work: float = par(
        1.0,
        "kept evidence/month on the administration's tie to the centre per 10 NGOs of the plan's domains it really supported",
        "Ural study step 1: partnership with the authority through work on its tasks; size assumption",
        lo=0.0,
        hi=100.0,
    )
    upgrade_months: int = par(
        12,
        "months of the administrative specialist before the district can set up a municipal RC",
        "Ural study / BRIEF s.7 (Tyumen path: specialist -> municipal RC); assumption",
        lo=1,
        hi=600,
    )
    capable_capacity: float = par(
        0.6,
        "capacity an experienced NGO of the territory needs to take on the municipal RC",
        "Ural study, model 3 minus: no organisation able to carry out the functions in the territory; threshold assumption",
        lo=0.0,
        hi=1.01,
    )
    upgrade_staff: float = par(
        3.0, "staff of the municipal RC the specialist's function becomes", "assumption: as rc_model/municipal_rc", lo=0.0, hi=100
    )
    upgrade_cost_per_staff: float = par(
        35_000.0, "roubles/month per staff member of the new municipal RC", "assumption: regional wage", lo=0.0
    )
    upgrade_funding: float = par(
        0.0,
        "roubles/year the municipality assigns to the new municipal RC",
        "assumption (Ural study: municipal RC funding is unstable; 0 = grants only)",
        lo=0.0,
    )
    transform_charity_ties: int = par(
        5,
        "active business -> NGO ties in the municipality needed for step 4 (developing charity)",
        "Ural study step 4: developing charity; threshold assumption",
        lo=0,
        hi=100000,
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
    endowment_seed: float = par(
        0.0,
        "roubles the region gives to found the centre's endowment (0 = off: the capital is formed from donations)",
        "policy option, off by default: the concept (s.VII, Fig. VII-5) forms target capital from donations of "
        "citizens and business; 3 mln (the 275-FZ minimum) is the size to set when a regional seed is wanted",
        lo=0.0,
    )
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
class CouncilParams:
    """Public councils that matter: seats, rotation and the voice a seat gives (configs/councils/).

    The number of seats is ``org.council_seats``; the rule in :mod:`sim.mechanisms.councils`.
    """

    seat_rule: str = par(
        "trust",
        "how a municipality fills vacant seats each January",
        "assumption: the authority invites the NGOs it trusts most (BRIEF s.3.1: personal ties decide who is heard); "
        "'capacity' (most professional first) and 'lottery' are policy options",
        choices=("trust", "capacity", "lottery"),
    )
    term_months: int = par(
        24,
        "months a seat is held before it rotates (the holder sits out one January)",
        "concept IV.3.2: negotiated mechanisms (councils) act 'for a fixed period'; 24 months is an assumption",
        lo=12,
        hi=240,
    )
    voice: float = par(
        0.5,
        "added voice of a seat holder (ngo_voice = 1 + voice): x probability its request is heard and x the "
        "municipality's acceptance of its proposals",
        "assumption (concept VIII.4: initiatives go to the authority 'through state councils and public chambers'; "
        "no number in the sources); 0 makes councils matter nothing",
        lo=0.0,
        hi=5.0,
    )
    plan_influence: float = par(
        0.0,
        "probability each January that a seat holder's domain enters its municipality's plan",
        "policy lever (concept VIII.4: councils as a channel for initiatives); off by default: the municipal plans "
        "stay fixed",
        lo=0.0,
        hi=1.0,
    )


@dataclass(frozen=True)
class SocioTechParams:
    """Socio-technological mechanism: a proven NGO technology adopted and funded by the state (configs/socio_tech/)."""

    enabled: bool = par(
        True, "on/off", "concept IV.3.2: socio-technological mechanisms are one of five groups 'successfully used today'"
    )
    proven_projects: int = par(
        2,
        "grant projects won (run with results) before an NGO's practice counts as proven",
        "assumption (concept IV.3.2: a technology that 'stands out by effectiveness and quality of results')",
        lo=1,
        hi=100,
    )
    proven_capacity: float = par(
        0.4,
        "capacity 0..1 an NGO needs for its practice to count as proven",
        "assumption: results need professionalism (BRIEF s.6)",
        lo=0.0,
        hi=1.0,
    )
    adoption_prob: float = par(
        0.03,
        "probability/month the region adopts a proven practice (x the NGO's voice)",
        "assumption",
        lo=0.0,
        hi=1.0,
    )
    line_amount: float = par(
        60_000.0,
        "roubles/month the region pays each implementing NGO (a subsidy / social-order line)",
        "assumption: of the order of one staff wage plus overhead",
        lo=0.0,
    )
    line_months: int = par(36, "months a funding line runs", "assumption: a three-year programme", lo=1, hi=240)
    spread_prob: float = par(
        0.05,
        "probability/month an adopted technology is taken up in one more municipality",
        "assumption (concept IV.3.2: technologies spread to other territories)",
        lo=0.0,
        hi=1.0,
    )
    transfer_capacity: float = par(
        0.1,
        "capacity gain of an NGO that takes up an adopted technology (share of its gap to 1)",
        "assumption: the method comes with the technology",
        lo=0.0,
        hi=1.0,
    )
    budget: float = par(
        2.0e6,
        "roubles/year of the region's budget for funding lines of adopted technologies",
        "assumption",
        lo=0.0,
    )


@dataclass(frozen=True)
class OrgStructParams:
    """Organisational-structural mechanism: a house of NGOs and a centre with delegated functions (configs/org_struct/)."""

    house: bool = par(False, "on/off", "policy lever (concept IV.3.2: e.g. Vladimir 'House of NGOs')")
    house_launch_month: int = par(0, "month index the houses of NGOs open", "policy lever", lo=0, hi=1200)
    house_join_prob: float = par(
        0.1, "probability/month a non-member NGO of the municipality joins its house", "assumption", lo=0.0, hi=1.0
    )
    house_overhead_saving: float = par(
        0.5,
        "share of a member NGO's overhead (rent, services) the house's shared premises and services replace",
        "assumption",
        lo=0.0,
        hi=1.0,
    )
    house_fixed_cost: float = par(
        40_000.0, "roubles/month the region pays to run each municipality's house", "assumption", lo=0.0
    )
    house_member_cost: float = par(
        700.0,
        "roubles/month of the house's costs per member (shared premises are cheaper than each NGO's own)",
        "assumption",
        lo=0.0,
    )
    centre: bool = par(False, "on/off", "policy lever (concept IV.3.2: e.g. Moscow centre 'Children of the street')")
    centre_launch_month: int = par(0, "month index the function is delegated", "policy lever", lo=0, hi=1200)
    centre_domain: int = par(
        4, "domain of the delegated function (index in DOMAINS; 4 = at-risk children)", "policy lever", lo=0, hi=4
    )
    centre_budget: float = par(
        150_000.0,
        "roubles/month of the delegated budget the region pays the centre",
        "assumption (of the order of the family resource centre's cost, cluster.cost)",
        lo=0.0,
    )
    centre_unit_cost: float = par(
        2_500.0,
        "roubles per service of the delegated function (services/month = budget / unit cost)",
        "assumption: the same as finance.unit_price (a social-order service)",
        lo=1.0,
    )
@dataclass(frozen=True)
class CommunityFoundationParams:
    """Community foundations: local donations and competitions, named and family funds (configs/community_foundations/)."""

    enabled: bool = par(
        False, "on/off", "policy lever; concept s.IV.3.2 'Фонды местного сообщества' (combined mechanism)"
    )
    citizen_donations: float = par(
        20_000.0,
        "roubles/month citizens of a municipality give to its community foundation",
        "assumption (size); concept s.IV.3.2: private donations of citizens",
        lo=0.0,
    )
    business_share: float = par(
        0.1,
        "share of a local business's monthly giving budget given to its municipality's community foundation",
        "assumption (size); concept s.IV.3.2: donations of local business",
        lo=0.0,
        hi=1.0,
    )
    named_fund_prob: float = par(
        0.1,
        "probability/year a local business without one founds a named fund in its community foundation",
        "assumption; concept s.IV.3.2 'Именной фонд'",
        lo=0.0,
        hi=1.0,
    )
    family_fund_prob: float = par(
        0.05,
        "probability/year a community foundation receives a new family fund (an inviolable capital, income only spent)",
        "assumption; concept s.IV.3.2 'Фамильный фонд'",
        lo=0.0,
        hi=1.0,
    )
    family_fund_size: float = par(
        300_000.0, "roubles a founder puts into a family fund", "assumption (personal means of one founder)", lo=0.0
    )
    competition_month: int = par(
        9, "month of year (1-12) of the local grant competition", "assumption", lo=1, hi=12
    )
    grant_size: float = par(
        100_000.0, "roubles per local grant (the last one may be smaller)", "assumption: small local grants", lo=1.0
    )
    apply_prob: float = par(
        0.3,
        "probability a living NGO of the territory applies to the local competition",
        "assumption (Volgograd 2021: 18.2% of NGOs took part in competitions, of all kinds)",
        lo=0.0,
        hi=1.0,
    )
    score_noise: float = par(0.25, "s.d. of the local expert scoring noise", "assumption", lo=0.0, hi=10.0)


@dataclass(frozen=True)
class FairParams:
    """NGO fairs: NGOs present to local business and citizens (configs/fairs/)."""

    enabled: bool = par(False, "on/off", "policy lever; concept s.IV.3.2: 'ярмарки НКО, ярмарки социальных проектов и услуг'")
    months: tuple[int, ...] = par(
        (5,), "months of year (1-12) in which each municipality holds a fair", "assumption: the sources give no calendar",
        lo=1, hi=12,
    )
    participation: float = par(
        0.4, "probability a living NGO presents at its municipality's fair", "assumption", lo=0.0, hi=1.0
    )
    tie_prob: float = par(
        0.15,
        "probability a presenting NGO and a local business form a tie at the fair",
        "assumption (the sources name fairs as a meeting place, no rate)",
        lo=0.0,
        hi=1.0,
    )
    citizen_gift: float = par(
        15_000.0,
        "mean roubles citizens give a presenting NGO at the fair, at reputation 1",
        "assumption",
        lo=0.0,
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
    councils: CouncilParams = field(default_factory=CouncilParams)
    socio_tech: SocioTechParams = field(default_factory=SocioTechParams)
    org_struct: OrgStructParams = field(default_factory=OrgStructParams)
    community_foundations: CommunityFoundationParams = field(default_factory=CommunityFoundationParams)
    fairs: FairParams = field(default_factory=FairParams)
    mentoring: MentoringParams = field(default_factory=MentoringParams)
    output: OutputParams = field(default_factory=OutputParams)
    perception: PerceptionParams = field(default_factory=PerceptionParams)
    selection: SelectionParams = field(default_factory=SelectionParams)


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
        if dataclasses.is_dataclass(elem):
            return tuple(v if isinstance(v, elem) else _build(elem, v, f"{path}[{i}]") for i, v in enumerate(value))
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


CROSS_CHECKED = frozenset({"steps", "cluster.enabled", "cluster.launch_month", "finance.funds"})
"""Parameters :func:`_check_consistency` checks against each other (a value alone is not enough)."""


def _check_funds(funds: tuple[FundParams, ...]) -> None:
    """Each fund has competitions and a unique name; the funds of one payer share at most its whole budget."""
    names = [f.name for f in funds]
    for i, f in enumerate(funds):
        if not f.months:
            raise ConfigError(f"finance.funds[{i}].months is empty: allowed one or more months 1..12")
        if f.name in names[:i]:
            raise ConfigError(f"finance.funds[{i}].name={f.name!r} is repeated: allowed unique fund names")
    for payer in ("federal", "regional"):
        total = sum(f.budget_share for f in funds if f.payer == payer)
        if total > 1.0 + 1e-9:
            raise ConfigError(
                f"finance.funds: budget_share of the {payer} funds sums to {total:g}: allowed a total of at most 1"
            )


def _check_consistency(cfg: Config) -> None:
    """Checks across parameters: values each allowed alone that together mean nothing."""
    _check_funds(cfg.finance.funds)
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

    Example: ``replace(cfg, **{"finance.subsidy_size": 0.0})``.
    """
    data = config_to_dict(cfg)
    for dotted, value in changes.items():
        node = data
        *parents, leaf = dotted.split(".")
        for p in parents:
            node = node[p]
        node[leaf] = list(value) if isinstance(value, tuple) else value
    return build_config(data)
