"""Volunteer mentoring of children in a difficult situation (Stavropol case; sim/mechanisms/mentoring.py)."""

import numpy as np
import pandas as pd
import pytest
from conftest import make_cfg

from analysis.experiment import compose
from sim.mechanisms.mentoring import MENTORING_METRICS, grow_quality
from sim.model import CrossSectorModel, run_model
from sim.params import ConfigError, replace

MENT = {"mentoring.enabled": True, "mentoring.eligible_months": 3, "mentoring.referrals": 5.0}


def ment_cfg(steps=36, seed=1, **changes):
    return make_cfg(steps=steps, seed=seed, **{**MENT, **changes})


def pair_hazards(logs: list[pd.DataFrame], early=(1, 3), late=(7, 12)) -> tuple[float, float]:
    """First moves up per pair-month at risk, in the pair's early and late months."""
    out = []
    for lo, hi in (early, late):
        events = at_risk = 0
        for log in logs:
            first = log["improved_at"].to_numpy()
            months = log["months"].to_numpy()
            last_at_risk = np.where(first > 0, first, months)  # months the pair was at risk of a first move
            at_risk += int(np.clip(np.minimum(last_at_risk, hi) - lo + 1, 0, None).sum())
            events += int(((first >= lo) & (first <= hi)).sum())
        out.append(events / max(at_risk, 1))
    return out[0], out[1]


def test_outcomes_respond_to_pair_duration():
    """Late months of a pair (higher relationship quality) move more families up than its first months (5 seeds)."""
    logs = [run_model(ment_cfg(seed=s, **{"mentoring.pair_months": 12, "mentoring.break_prob": 0.02})).mentoring.pair_log()
            for s in range(1, 6)]  # fmt: skip
    early, late = pair_hazards(logs)
    assert sum(len(lg) for lg in logs) > 100
    assert late > 1.5 * early, (early, late)
    # and the pairs that lasted longer ended with better relationships
    all_ = pd.concat(logs)
    assert all_.loc[all_["months"] >= 9, "quality"].mean() > all_.loc[all_["months"] <= 3, "quality"].mean()


def test_quality_grows_with_meetings_and_saturates():
    q = np.zeros(3)
    q1 = grow_quality(q, np.array([0, 1, 4]), 0.1)
    assert q1[0] == 0 and 0 < q1[1] < q1[2] < 1
    assert grow_quality(np.array([0.99]), np.array([4]), 0.1)[0] <= 1.0


def test_one_volunteer_per_child_referred_after_a_year_in_difficulty():
    cfg = ment_cfg(steps=30, **{"mentoring.eligible_months": 12})
    m = CrossSectorModel(cfg)
    fam = m.families
    mt = m.mentoring
    for _ in range(cfg.steps):
        m.step()
        act = mt.active
        assert np.unique(mt.family[act]).size == act.sum()  # a child has one mentor at a time
        slots, mentors = mt.pool
        new = mt.start == m.t
        busy_old = np.bincount(mt.ngo[act & ~new], minlength=m.state.n_ngo_slots)[slots]
        busy_new = np.bincount(mt.ngo[new], minlength=m.state.n_ngo_slots)[slots]
        assert (busy_new <= np.maximum(mentors - busy_old, 0)).all()  # only free volunteers take a child
        assert (mt.months_difficult[mt.family[new]] >= 12).all()
        assert (fam.domain[mt.family[new]] == 4).all()  # children at risk
    assert mt.family.size > 0
    assert mt.start.min() >= 11  # nobody can have had a year in difficulty before month 11


def test_mentoring_off_changes_nothing_and_on_moves_families():
    off = run_model(make_cfg(steps=24))
    assert off.mentoring.family.size == 0
    ts = off.timeseries()
    assert (ts[list(MENTORING_METRICS)] == 0).all().all()
    on = run_model(ment_cfg(steps=24))
    assert on.timeseries()["mentoring_children_improved"].iloc[-1] > 0
    assert on.timeseries()["mentors_active"].iloc[-1] > 0


@pytest.mark.parametrize(
    ("key", "value", "needle"),
    [("mentoring.break_prob", 2.0, "allowed 0..1"), ("mentoring.pair_months", 0, "allowed 1..240"),
     ("mentoring.enabled", "yes", "allowed values true, false")],
)  # fmt: skip
def test_bad_mentoring_values_are_rejected(key, value, needle):
    with pytest.raises(ConfigError, match=needle):
        replace(make_cfg(), **{key: value})


def test_unknown_mentoring_key_is_rejected():
    with pytest.raises(ConfigError, match="unknown key 'mentoring.volunteers'"):
        replace(make_cfg(), **{"mentoring.volunteers": 3})


def test_stavropol_scenario_is_the_mentoring_programme():
    cfg = compose(["scenario=stavropol", "steps=24", "output.plots=false"])
    assert cfg.mentoring.enabled and cfg.mentoring.eligible_months == 12
    assert cfg.rc_model.model == "none" and not cfg.cluster.enabled
    m = run_model(cfg)
    assert m.timeseries()["mentoring_pairs"].max() > 0
