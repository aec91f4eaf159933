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
    "money_grants": "grants (regional + federal), mln roubles over the run",
    "money_social_order": "social-order payments, mln roubles over the run",
    "money_donations": "business and citizens' donations, mln roubles over the run",
    "money_partnerships": "partnership money from government and business, mln roubles over the run",
    "money_subsidies": "municipal subsidies, mln roubles over the run",
    "money_endowment_payout": "endowment income paid to NGOs, mln roubles over the run",
    "money_centres": "money to and through resource centres and the cluster core, mln roubles over the run",
}
"""Outcome name -> meaning."""

MONEY: dict[str, tuple[str, ...]] = {
    "money_grants": ("grant_regional", "grant_federal"),
    "money_social_order": ("social_order",),
    "money_donations": ("donation_business", "donation_citizens"),
    "money_partnerships": ("partnership_gov", "partnership_business"),
    "money_subsidies": ("subsidy",),
    "money_endowment_payout": ("endowment_payout",),
    "money_centres": ("rc_funding", "rc_grant", "rc_programme", "cluster_funding"),
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
    for name, channels in MONEY.items():
        total = 0.0  # added in order (builtin sum() of floats compensates since Python 3.12: other last digits)
        for c in channels:
            total += _nansum(rec[:, col[f"flow_{c}"]])
        out[name] = total / 1e6
    return out
