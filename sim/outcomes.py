"""End-of-run outcomes of a model, shared by experiments, sweeps and sensitivity analysis."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.mechanisms.trust import TRUST_SECTOR_NAMES
from sim.partnerships import FORMS

if TYPE_CHECKING:
    from sim.model import CrossSectorModel

OUTCOMES: dict[str, str] = {
    "wellbeing": "family wellbeing, mean of the last 12 months (0..1)",
    "reached_in_difficulty": "share of families in difficulty or crisis served within 12 months, last 12 months",
    "share_crisis": "share of families in crisis, last 12 months",
    "ngo_survival": "share of the initial NGOs alive at the end",
    "ngo_income_cv": "median coefficient of variation of an NGO's monthly income (lower = more stable)",
    **{f"partnerships_{f}": f"{f.replace('_', '-')} partnerships formed over the run" for f in FORMS},
    **{
        f"trust_{a}_{b}": f"mean personal trust {a} -> {b} at the end"
        for a in TRUST_SECTOR_NAMES
        for b in TRUST_SECTOR_NAMES
        if a != b
    },
    "money_grants": "grants (regional + federal + community foundations'), mln roubles over the run",
    "money_social_order": "social-order payments, mln roubles over the run",
    "money_donations": "business and citizens' donations (also at NGO fairs), mln roubles over the run",
    "money_partnerships": "partnership money from government and business, mln roubles over the run",
    "money_subsidies": "municipal subsidies, mln roubles over the run",
    "money_endowment_payout": "endowment income paid to NGOs (own and specialised fund), mln roubles over the run",
    "money_centres": "money to and through resource centres and the cluster core, mln roubles over the run",
    # Kaluga proposal s.13: the centre's effectiveness criteria (issue #13)
    "rc_leaders_trained": "NGOs whose leaders a resource centre trained (real support), at the end",
    "rc_requests": "NGO requests to resource centres (NGO-months), over the run",
    "rc_services": "support really provided by resource centres (NGO-months), over the run",
    "rc_services_reported": "support reported by resource centres, nominal included (NGO-months), over the run",
    "rc_volunteer_growth": "centres' volunteers at the end / at the start (1 without volunteers)",
    "rc_students_trained": "students trained as NGO specialists, at the end",
    "rc_level": "mean place of the centres on the path at the end (0 administrative/subordinate, 1 municipal RC, 2 development)",
    "money_one_window": "money paid for the cluster's one-window tiers, mln roubles over the run",
    "cluster_renewals": "cluster strategic agreements renewed at their term over the run",
    "cluster_lapses": "cluster strategic agreements that lapsed at their term over the run",
    "cluster_ngo_coalitions": "NGO-NGO coalitions of the cluster's main zone formed over the run",
    "cluster_projects": "projects formed through the cluster's banks over the run",
    "families_monitored": "families in difficulty or crisis known to the one window, mean of the last 12 months",
    "mentoring_pairs_total": "volunteer-child mentoring pairs formed over the run",
    "mentoring_children_improved": "mentored children whose family moved up a state during the pair, over the run",
    "mentoring_quality_mean": "mean relationship quality of running mentoring pairs, last 12 months (0..1)",
    "mentors_active": "volunteers available as mentors at the end",
    "sust_people_per_ngo": "concept VIII.2: staff and volunteers per alive NGO at the end",
    "sust_partners_per_ngo": "concept VIII.2: active partnerships per alive NGO at the end (loyal partners)",
    "sust_registered_share": "concept VIII.2: share of alive NGOs on the register at the end",
    "sust_age_years": "concept VIII.2: mean age of alive NGOs at the end, years",
}
"""Outcome name -> meaning."""

MONEY: dict[str, tuple[str, ...]] = {
    "money_grants": ("grant_regional", "grant_federal", "cf_grant"),
    "money_social_order": ("social_order",),
    "money_donations": ("donation_business", "donation_citizens", "fair_donation"),
    "money_partnerships": ("partnership_gov", "partnership_business"),
    "money_subsidies": ("subsidy",),
    "money_endowment_payout": ("endowment_payout", "specialised_fund_payout"),
    "money_centres": ("rc_funding", "rc_grant", "rc_programme", "cluster_funding"),
    "money_one_window": ("one_window_costs",),
}
"""Money outcome -> ledger channels it sums."""


def outcomes(model: CrossSectorModel) -> dict[str, float]:
    """Compute :data:`OUTCOMES` for a finished model."""
    ts = model.timeseries()
    last = ts.tail(12)
    out: dict[str, float] = {
        "wellbeing": float(last["wellbeing_mean"].mean()),
        "reached_in_difficulty": float(last["reached_in_difficulty"].mean()),
        "share_crisis": float(last["share_crisis"].mean()),
        "ngo_survival": model.ngo_survival(),
        "ngo_income_cv": model.ngo_income_cv(),
    }
    counts = model.partnership_log()["form"].value_counts()
    for f in FORMS:
        out[f"partnerships_{f}"] = float(counts.get(f, 0))
    end = ts.iloc[-1]
    for a in TRUST_SECTOR_NAMES:
        for b in TRUST_SECTOR_NAMES:
            if a != b:
                out[f"trust_{a}_{b}"] = float(end[f"trust_{a}_{b}"])
    v0, v1 = float(ts["rc_volunteers"].iloc[0]), float(end["rc_volunteers"])
    out |= {
        "rc_leaders_trained": float(end["rc_leaders_trained"]),
        "rc_requests": float(ts["rc_requests"].sum()),
        "rc_services": float(ts["rc_services"].sum()),
        "rc_services_reported": float(ts["rc_services_reported"].sum()),
        "rc_volunteer_growth": v1 / v0 if v0 > 0 else 1.0,
        "rc_students_trained": float(end["rc_students_trained"]),
        "rc_level": float(end["rc_level_mean"]) if model.rc.active else 0.0,
    }
    for name, channels in MONEY.items():
        out[name] = float(sum(ts[f"flow_{c}"].sum() for c in channels)) / 1e6
    for name in ("cluster_renewals", "cluster_lapses", "cluster_ngo_coalitions", "mentoring_children_improved", "mentors_active"):
        out[name] = float(end[name])
    for name in ("sust_people_per_ngo", "sust_partners_per_ngo", "sust_registered_share", "sust_age_years"):
        out[name] = float(end[name])
    out["cluster_projects"] = float(sum(end[c] for c in ts.columns if c.startswith("cluster_projects_")))
    out["families_monitored"] = float(last["families_monitored"].mean())
    out["mentoring_pairs_total"] = float(model.mentoring.family.size)
    out["mentoring_quality_mean"] = float(last["mentoring_quality_mean"].mean())
    return out
