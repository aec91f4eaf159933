"""Outcomes read from the model's arrays equal the same statistics computed on its output tables."""

import numpy as np
import pytest

from sim.batch import process_factory, simulate
from sim.mechanisms.trust import TRUST_SECTOR_NAMES
from sim.outcomes import MONEY, OUTCOMES, outcomes
from sim.partnerships import FORMS


def from_tables(model) -> dict[str, float]:
    """The outcomes computed the plain way: pandas on ``timeseries()`` and ``partnership_log()``."""
    ts = model.timeseries()
    last = ts.tail(12)
    out = {
        "wellbeing": float(last["wellbeing_mean"].mean()),
        "reached_in_difficulty": float(last["reached_in_difficulty"].mean()),
        "share_crisis": float(last["share_crisis"].mean()),
        "ngo_survival": model.ngo_survival(),
        "ngo_income_cv": model.ngo_income_cv(),
    }
    counts = model.partnership_log()["form"].value_counts()
    out |= {f"partnerships_{f}": float(counts.get(f, 0)) for f in FORMS}
    end = ts.iloc[-1]
    out |= {f"trust_{a}_{b}": float(end[f"trust_{a}_{b}"]) for a in TRUST_SECTOR_NAMES for b in TRUST_SECTOR_NAMES if a != b}
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
        total = 0.0
        for c in channels:
            total += ts[f"flow_{c}"].sum()
        out[name] = float(total) / 1e6
    for name in ("cluster_renewals", "cluster_lapses", "cluster_ngo_coalitions", "mentoring_children_improved", "mentors_active"):
        out[name] = float(end[name])
    for name in ("sust_people_per_ngo", "sust_partners_per_ngo", "sust_registered_share", "sust_age_years"):
        out[name] = float(end[name])
    projects = 0.0
    for c in ts.columns:
        if c.startswith("cluster_projects_"):
            projects += float(end[c])
    out["cluster_projects"] = projects
    out["families_monitored"] = float(last["families_monitored"].mean())
    out["mentoring_pairs_total"] = float(len(model.mentoring.pair_log()))
    out["mentoring_quality_mean"] = float(last["mentoring_quality_mean"].mean())
    return {k: out[k] for k in OUTCOMES}


@pytest.mark.parametrize("extra", [[], ["scenario=cluster"], ["rc_model=municipal_rc", "steps=30"], ["steps=5"]])
def test_outcomes_equal_the_table_statistics_bit_for_bit(extra):
    factory = process_factory()
    for seed in range(1, 6):
        model = simulate(factory.build(["steps=24", "output.plots=false", "region.families=1000", f"seed={seed}", *extra]))
        got, want = outcomes(model), from_tables(model)
        assert list(got) == list(want) == list(OUTCOMES)
        for k, v in want.items():
            assert got[k] == v or (np.isnan(got[k]) and np.isnan(v)), (extra, seed, k, got[k], v)
        assert sum(got[f"partnerships_{f}"] for f in FORMS) > 0  # something to count
