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
    for name, channels in MONEY.items():
        total = 0.0
        for c in channels:
            total += ts[f"flow_{c}"].sum()
        out[name] = float(total) / 1e6
    return out


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
