"""End-of-run outcomes of a model, shared by experiments, sweeps and sensitivity analysis."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.mechanisms.recording import METRICS
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
    "money_grants": "grants (federal, regional, corporate funds and community foundations), mln roubles over the run",
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
    "money_grants": ("grant_regional", "grant_federal", "grant_corporate", "cf_grant"),
    "money_social_order": ("social_order",),
    "money_donations": ("donation_business", "donation_citizens", "fair_donation"),
    "money_partnerships": ("partnership_gov", "partnership_business"),
    "money_subsidies": ("subsidy",),
    "money_endowment_payout": ("endowment_payout", "specialised_fund_payout"),
    "money_centres": ("rc_funding", "rc_grant", "rc_programme", "cluster_funding"),
    "money_one_window": ("one_window_costs",),
}
"""Money outcome -> ledger channels it sums."""

_COLUMN: dict[str, int] = {name: j for j, name in enumerate(METRICS)}


def _nansum(x: np.ndarray) -> float:
    """Sum skipping NaN, as ``pandas.Series.sum`` (the same pairwise numpy sum)."""
    nan = np.isnan(x)
    return float(np.where(nan, 0.0, x).sum() if nan.any() else x.sum())


def _nanmean(x: np.ndarray) -> float:
    """Mean skipping NaN, as ``pandas.Series.mean`` (sum of the values over their count)."""
    nan = np.isnan(x)
    if not nan.any():
        return float(x.sum() / x.size) if x.size else float("nan")
    n = x.size - int(nan.sum())
    return float(np.where(nan, 0.0, x).sum() / n) if n else float("nan")


def outcomes(model: CrossSectorModel) -> dict[str, float]:
    """Compute :data:`OUTCOMES` for a finished model.

    Read from the model's arrays (the time-series buffer, the partnership
    store), not from the DataFrames of :meth:`~sim.model.CrossSectorModel.timeseries`
    and :meth:`~sim.model.CrossSectorModel.partnership_log`: the same numbers
    (the same numpy sums pandas uses, NaN skipped alike) at a fraction of the
    cost, which matters in sweeps of thousands of runs.
    """
    rec = model.records[: model.n_records]
    col = _COLUMN
    last = rec[-12:]
    out: dict[str, float] = {
        "wellbeing": _nanmean(last[:, col["wellbeing_mean"]]),
        "reached_in_difficulty": _nanmean(last[:, col["reached_in_difficulty"]]),
        "share_crisis": _nanmean(last[:, col["share_crisis"]]),
        "ngo_survival": model.ngo_survival(),
        "ngo_income_cv": model.ngo_income_cv(),
    }
    ps = model.partnerships
    counts = np.bincount(ps.form[: ps.n].astype(np.int64), minlength=len(FORMS))
    for k, f in enumerate(FORMS):
        out[f"partnerships_{f}"] = float(counts[k])
    end = rec[-1]
    for a in TRUST_SECTOR_NAMES:
        for b in TRUST_SECTOR_NAMES:
            if a != b:
                out[f"trust_{a}_{b}"] = float(end[col[f"trust_{a}_{b}"]])
    v0, v1 = float(rec[0, col["rc_volunteers"]]), float(end[col["rc_volunteers"]])
    out |= {
        "rc_leaders_trained": float(end[col["rc_leaders_trained"]]),
        "rc_requests": _nansum(rec[:, col["rc_requests"]]),
        "rc_services": _nansum(rec[:, col["rc_services"]]),
        "rc_services_reported": _nansum(rec[:, col["rc_services_reported"]]),
        "rc_volunteer_growth": v1 / v0 if v0 > 0 else 1.0,
        "rc_students_trained": float(end[col["rc_students_trained"]]),
        "rc_level": float(end[col["rc_level_mean"]]) if model.rc.active else 0.0,
    }
    for name, channels in MONEY.items():
        total = 0.0  # added in order (builtin sum() of floats compensates since Python 3.12: other last digits)
        for c in channels:
            total += _nansum(rec[:, col[f"flow_{c}"]])
        out[name] = total / 1e6
    for name in ("cluster_renewals", "cluster_lapses", "cluster_ngo_coalitions", "mentoring_children_improved", "mentors_active"):
        out[name] = float(end[col[name]])
    for name in ("sust_people_per_ngo", "sust_partners_per_ngo", "sust_registered_share", "sust_age_years"):
        out[name] = float(end[col[name]])
    projects = 0.0
    for c in METRICS:  # in column order
        if c.startswith("cluster_projects_"):
            projects += float(end[col[c]])
    out["cluster_projects"] = projects
    out["families_monitored"] = _nanmean(last[:, col["families_monitored"]])
    out["mentoring_pairs_total"] = float(model.mentoring.family.size)
    out["mentoring_quality_mean"] = _nanmean(last[:, col["mentoring_quality_mean"]])
    return {k: out[k] for k in OUTCOMES}  # in the declared order
