"""Each side's own yardstick, giving up ("tried and failed"), partner choice by the officials' criteria and the
attention queue by personal ties (issue #12)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SEEDS, assert_increases, make_cfg, over_seeds

from sim.mechanisms.formation import hear_in_order
from sim.mechanisms.perception import ngo_fulfilled, official_handled
from sim.mechanisms.requests import REQUEST_FULFILLED, REQUEST_REFUSED, REQUEST_UNPAID
from sim.model import run_model
from sim.params import ConfigError, build_config
from sim.survey import survey

# a region with enough municipalities and openings for the survey's per-municipality answers
REGION = {"region.municipalities": 10, "region.ngos": 120, "region.businesses": 20, "region.families": 1000}


def _run(seed: int, steps: int = 36, **kw):
    return run_model(make_cfg(steps=steps, seed=seed, **{**REGION, **kw}))


# ---------------------------------------------------------------- two yardsticks
def test_same_request_history_looks_better_to_the_official():
    """The same statuses: officials count answered / passed-on requests, NGOs only the help that arrived."""
    rng = np.random.default_rng(0)
    status = rng.choice([REQUEST_REFUSED, REQUEST_FULFILLED, REQUEST_UNPAID], size=400, p=[0.6, 0.3, 0.1]).astype(np.int8)
    in_plan = rng.random(400) < 0.4
    answered = rng.random(400) < 0.5
    official = official_handled(status, in_plan, answered)
    ngo = ngo_fulfilled(status)
    assert official.mean() > ngo.mean() + 0.2
    assert (official | ~ngo).all()  # whatever helped the NGO, the official counted too


@pytest.mark.parametrize("seed", SEEDS[:5])
def test_in_the_model_officials_count_more_handled_than_ngos_fulfilled(seed):
    m = _run(seed, steps=24)
    asked = m.ngo_requests.sum()
    assert asked > 0
    assert m.ngo_requests_handled.sum() > m.ngo_requests_fulfilled.sum()
    assert m.muni_requests_handled.sum() == m.ngo_requests_handled.sum()  # both per-organisation tallies agree
    s = survey(m)
    assert s["municipality_request_outcome"]["municipality"]["mostly_fulfilled"] > s["ngo_request_outcome"]["ngo"][
        "mostly_fulfilled"
    ]


def test_satisfaction_follows_what_each_side_values():
    """NGOs whose requests bring help end more satisfied than with none fulfilled (support received)."""

    def ngo_sat(seed: int, base: float) -> float:
        m = _run(seed, steps=24, **{"finance.request_fulfil_base": base, "finance.request_fulfil_trust": 0.0,
                                     "finance.request_prob": 0.3})  # fmt: skip
        return float(m.ngo_satisfaction[m.ngo_alive].mean())

    assert_increases(over_seeds(lambda s: ngo_sat(s, 1.0)), over_seeds(lambda s: ngo_sat(s, 0.0)), "NGO satisfaction")


def test_officials_satisfaction_follows_plan_fulfilment():
    """Officials value partnerships that fulfil their plans: with none proposed they end less satisfied."""

    def muni_sat(seed: int, rate: float) -> float:
        return float(_run(seed, steps=24, **{"partnership.proposal_rate": rate}).muni_satisfaction.mean())

    assert_increases(over_seeds(lambda s: muni_sat(s, 1.5)), over_seeds(lambda s: muni_sat(s, 0.0)), "officials' satisfaction")


# ---------------------------------------------------------------- tried and failed
def test_tried_and_failed_appears_with_refusals_and_not_without_giving_up():
    on, off = [], []
    for seed in SEEDS[:5]:
        kw = {"finance.request_fulfil_base": 0.05, "finance.request_fulfil_trust": 0.0, "finance.request_prob": 0.2}
        m = _run(seed, steps=24, **kw)
        assert m.ngo_requests.sum() > m.ngo_requests_fulfilled.sum()  # refusals happened
        on.append(survey(m)["ngo_interacts_with_municipality"]["ngo"]["no_tried_and_failed"])
        m0 = _run(seed, steps=24, **kw, **{"perception.give_up_prob": 0.0})
        assert not m0.ngo_gave_up.any()
        off.append(survey(m0)["ngo_interacts_with_municipality"]["ngo"]["no_tried_and_failed"])
    assert min(on) > 0 and max(off) == 0.0


def test_ngos_that_gave_up_stop_asking():
    from sim.model import CrossSectorModel

    kw = {"finance.request_fulfil_base": 0.0, "finance.request_fulfil_trust": 0.0, "finance.request_prob": 0.5,
          "perception.give_up_prob": 1.0, "perception.give_up_return_prob": 0.0}  # fmt: skip
    m = CrossSectorModel(make_cfg(steps=24, seed=3, **kw))
    for _ in range(12):
        m.step()
    quit_ = np.flatnonzero(m.ngo_gave_up & m.ngo_alive)
    assert quit_.size > 0
    before = m.ngo_requests[quit_].copy()
    for _ in range(6):
        m.step()
    np.testing.assert_array_equal(m.ngo_requests[quit_], before)


# ---------------------------------------------------------------- partner selection
def _criteria(seed: int, group: str, **kw) -> dict[str, float]:
    s = survey(_run(seed, **kw))
    return s[f"{'municipality' if group == 'municipality' else 'ngo'}_partner_criteria"][group]


def test_officials_name_plan_fit_most_often():
    pooled: dict[str, float] = {}
    for seed in SEEDS[:5]:
        for c, v in _criteria(seed, "municipality").items():
            pooled[c] = pooled.get(c, 0.0) + v
    assert max(pooled, key=pooled.get) == "fits_authority_plans", pooled
    assert pooled["personal_connections"] == 0.0


def test_plan_fit_is_named_because_officials_choose_by_it():
    """Remove plan fit from the officials' criteria and fewer of them name it (not survey arithmetic)."""
    no_fit = {"selection.criteria_weights": (0.0, 1.53, 1.51, 1.42, 1.0)}
    on = over_seeds(lambda s: _criteria(s, "municipality")["fits_authority_plans"])
    off = over_seeds(lambda s: _criteria(s, "municipality", **no_fit)["fits_authority_plans"])
    assert_increases(on, off, "officials naming plan fit")


def test_ngos_name_personal_connections_because_ties_decide_who_is_heard():
    on = over_seeds(lambda s: _criteria(s, "ngo")["personal_connections"])
    off = over_seeds(lambda s: _criteria(s, "ngo", **{"selection.ties_first": False})["personal_connections"])
    assert_increases(on, off, "NGOs naming personal connections")
    assert np.mean(on) > 0


def _heard_by_tie(seed: int, ties_first: bool) -> tuple[float, float]:
    m = _run(seed, **{"selection.ties_first": ties_first})
    tie = np.concatenate([j[2][:, 5] for j in m.judgments]) > 0
    heard = np.concatenate([j[4] for j in m.judgments])
    return float(heard[tie].mean()) if tie.any() else np.nan, float(heard[~tie].mean())


def test_attention_queue_hears_tied_ngos_first():
    on = [_heard_by_tie(s, True) for s in SEEDS]
    tied, untied = [a for a, _ in on], [b for _, b in on]
    assert_increases(tied, untied, "share of tied applicants heard, ties first")
    off = [_heard_by_tie(s, False) for s in SEEDS[:5]]
    gap = np.nanmean([a - b for a, b in off])
    assert abs(gap) < 0.1, f"without ties first, tied and untied applicants are heard alike (gap {gap:.3f})"


def test_hear_in_order_stops_at_the_first_chosen_and_at_the_span():
    row = np.array([0, 0, 0, 1, 1, 1, 1])
    p = np.array([0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0])
    chosen, heard = hear_in_order(row, p, np.full(7, 0.5), 2)
    assert chosen.tolist() == [False, True, False, False, False, False, False]
    assert heard.tolist() == [True, True, False, True, True, False, False]


@pytest.mark.parametrize(
    "data, fragment",
    [
        ({"perception": {"give_up_prob": 1.5}}, "perception.give_up_prob=1.5 out of range: allowed 0..1"),
        ({"perception": {"give_up_refusals": 0}}, "perception.give_up_refusals=0 out of range"),
        ({"perception": {"ngo_weights": [1.0, 1.0]}}, "perception.ngo_weights has 2 values: allowed exactly 3"),
        ({"selection": {"applicants": 0}}, "selection.applicants=0 out of range"),
        ({"selection": {"criteria_weights": [1.0]}}, "selection.criteria_weights has 1 values: allowed exactly 5"),
        ({"selection": {"ties_first": "yes"}}, "allowed values true, false"),
        ({"selection": {"tie_first": True}}, "unknown key 'selection.tie_first'"),
    ],
)
def test_bad_perception_and_selection_values(data, fragment):
    with pytest.raises(ConfigError) as exc:
        build_config(data)
    assert fragment in str(exc.value) and "\n" not in str(exc.value)


# ---------------------------------------------------------------- request propensity
def _dispersion(m) -> float:
    """Index of dispersion (variance / mean) of the alive NGOs' request counts: 1 for a common Poisson-like rate."""
    r = m.ngo_requests[m.ngo_alive & (m.ngo_born <= 0)].astype(float)
    return float(r.var() / max(r.mean(), 1e-9))


def test_ngos_differ_in_how_often_they_ask_only_with_a_propensity():
    """With a lifelong propensity (k = 0.5) NGOs' request counts spread far wider than with one common rate."""
    kw = {"finance.request_prob": 0.1, "finance.request_fulfil_base": 0.3, "perception.give_up_prob": 0.0}
    on = over_seeds(lambda s: _dispersion(_run(s, **kw, **{"finance.request_propensity_shape": 0.5})))
    off = over_seeds(lambda s: _dispersion(_run(s, **kw)))
    assert_increases(on, off, "dispersion of requests per NGO")
    assert max(off) < 2.0 < min(on)  # a common rate is binomial (dispersion < 1); k = 0.5 gives about 1 + 36 * 0.1 / 0.5


def test_propensity_keeps_the_mean_request_rate_and_is_lifelong():
    kw = {"finance.request_prob": 0.1, "perception.give_up_prob": 0.0}
    for seed in SEEDS[:3]:
        on = _run(seed, steps=12, **kw, **{"finance.request_propensity_shape": 2.0})
        off = _run(seed, steps=12, **kw)
        alive = on.ngo_alive
        prop = on.ngo_request_propensity[alive]
        assert (prop > 0).all() and (off.ngo_request_propensity == 0).all()  # drawn for every NGO, only when on
        assert 0.75 < prop.mean() < 1.25  # Gamma(k, 1/k) has mean 1
        assert abs(on.ngo_requests.sum() / off.ngo_requests.sum() - 1.0) < 0.25
        # lifelong: the same NGOs keep their multiplier one more year on
        again = _run(seed, steps=24, **kw, **{"finance.request_propensity_shape": 2.0})
        np.testing.assert_array_equal(again.ngo_request_propensity[: alive.size][alive], prop)
