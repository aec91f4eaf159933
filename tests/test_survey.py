"""Synthetic survey rules, the targets parser and validation (calibration: test_calibration.py)."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import SEEDS, assert_increases, make_cfg, over_seeds

from analysis.validate import validate
from sim.model import CrossSectorModel, run_model
from sim.params import ConfigError
from sim.survey import MULTI, SurveyRules, compare, distance, load_targets, shares_of, survey, survey_table

ROOT = Path(__file__).resolve().parent.parent
SHARED_TARGETS = ROOT.parent / "shared" / "targets" / "volgograd_2021_calibration.yaml"
TARGETS = ROOT / "tests" / "data" / "volgograd_2021_calibration.yaml"  # a copy, so the tests run without ../shared


@pytest.fixture(scope="module")
def model():
    return run_model(make_cfg(steps=36))


def test_every_question_is_answered_and_shares_are_percentages(model):
    s = survey(model)
    for q in ("ngo_interacts_with_municipality", "ngo_contact_frequency", "ngo_requests_for_support", "ngo_request_outcome",
              "municipality_handles_ngo_requests", "municipality_request_outcome", "received_grant_from_fund",
              "took_part_in_competitions", "no_project_experience", "municipality_partner_criteria",
              "ngo_partner_criteria", "ngo_satisfaction", "municipality_satisfaction", "ngo_council_member"):  # fmt: skip
        assert q in s, q
        for shares in s[q].values():
            assert all(0.0 <= v <= 100.0 for v in shares.values())
    yes_no = s["ngo_interacts_with_municipality"]["ngo"]
    assert yes_no["yes"] + yes_no["no"] == pytest.approx(100.0)
    assert yes_no["no_tried_and_failed"] + yes_no["no_no_need"] == pytest.approx(yes_no["no"])
    out = s["ngo_request_outcome"]["ngo"]
    assert sum(out.values()) == pytest.approx(100.0)


def test_answers_follow_the_rules(model):
    r = SurveyRules()
    s = survey(model, r)
    slots = np.flatnonzero(model.ngo_alive)
    req = model.counter_in_window("ngo_requests", r.window)[slots]
    ful = model.counter_in_window("ngo_requests_fulfilled", r.window)[slots]
    asked = req > 0
    share = ful[asked] / req[asked]
    assert s["ngo_request_outcome"]["ngo"]["mostly_fulfilled"] == pytest.approx(100 * (share >= r.mostly).mean())
    gave_up = model.ngo_gave_up[slots]
    assert s["ngo_interacts_with_municipality"]["ngo"]["no_tried_and_failed"] == pytest.approx(100 * gave_up.mean())
    assert s["ngo_request_outcome"]["ngo"]["never_fulfilled"] == pytest.approx(100 * (share == 0).mean())
    assert s["ngo_requests_for_support"]["ngo"]["never"] == pytest.approx(100 * (req == 0).mean())
    assert s["no_project_experience"]["ngo"]["yes"] == pytest.approx(100 * (~model.ngo_experienced[slots]).mean())
    seats = model.cfg.org.council_seats
    assert s["ngo_council_member"]["ngo"]["yes"] == pytest.approx(100 * min(seats * model.n_muni, slots.size) / slots.size, abs=5)


def test_survey_table_has_one_row_per_question_and_option_with_n(model):
    t = survey_table(model)
    assert list(t.columns) == ["question", "group", "option", "share", "n", "multi_answer"]
    assert not t.duplicated(["question", "group", "option"]).any()
    assert shares_of(t) == survey(model)
    n_ngo = int(model.ngo_alive.sum())
    crit = t[t["question"] == "ngo_partner_criteria"]
    assert (crit["n"] == n_ngo).all() and crit["multi_answer"].all() and len(crit) == 6
    assert (t[t["question"] == "municipality_problems"]["n"] == model.n_muni).all()
    asked = int((model.counter_in_window("ngo_requests", 36)[model.ngo_alive] > 0).sum())
    assert (t[t["question"] == "ngo_request_outcome"]["n"] == asked).all()
    # multi-answer questions: options are yes/no each, so they need not add to 100
    assert set(t.loc[t["multi_answer"], "question"]) == set(MULTI)


def test_officials_never_name_personal_connections_but_ngos_may():
    """Officials never admit personal ties as a criterion (rule); NGOs name them, pooled over the fixed seeds."""
    named = []
    for seed in SEEDS:
        s = survey(run_model(make_cfg(steps=36, seed=seed)), SurveyRules(criteria_margin=-10.0))  # every difference is named
        assert s["municipality_partner_criteria"]["municipality"]["personal_connections"] == 0.0, seed
        named.append(s["ngo_partner_criteria"]["ngo"]["personal_connections"])
    assert_increases(named, [0.0] * len(named), "share of NGOs naming personal connections")


def test_plan_fit_is_named_when_it_drives_choices():
    def fit_named(seed: int, weight: float) -> float:
        kw = {"partnership.accept_plan_fit": weight, "partnership.accept_intercept": -4.0 if weight else -1.0,
              "selection.by_criteria": False}  # the legacy logistic acceptance (tests/test_perception.py: by criteria)
        return survey(run_model(make_cfg(steps=36, seed=seed, **kw)))["municipality_partner_criteria"]["municipality"][
            "fits_authority_plans"
        ]

    on, off = over_seeds(lambda s: fit_named(s, 8.0)), over_seeds(lambda s: fit_named(s, 0.0))
    assert_increases(on, off, "officials naming plan fit when it drives their choices")


def test_request_history_is_windowed():
    m = CrossSectorModel(make_cfg(steps=24))
    for _ in range(24):
        m.step()
    all_time = m.counter_in_window("ngo_requests", 1000)
    last_year = m.counter_in_window("ngo_requests", 12)
    assert (last_year <= all_time).all() and last_year.sum() < all_time.sum()
    np.testing.assert_array_equal(all_time, m.ngo_requests)


# -------------------------------------------------------------------- targets
def test_test_copy_of_the_targets_is_current():
    if SHARED_TARGETS.exists():
        assert TARGETS.read_text() == SHARED_TARGETS.read_text()


def test_real_targets_file_parses():
    t = load_targets(TARGETS)
    assert len(t) > 30
    assert {x.group for x in t} == {"ngo", "municipality"}
    yes = [x for x in t if x.question == "ngo_interacts_with_municipality"]
    assert {x.answer for x in yes} == {"yes", "no"}  # YAML booleans read back as the words


@pytest.mark.parametrize(
    "content, fragment",
    [
        ("questions: {}\n", "non-empty mapping 'questions'"),
        ("questions:\n  q: {group: officials, shares: {a: 1}}\n", "allowed values ngo, municipality"),
        ("questions:\n  q: {group: ngo, shares: {a: 140}}\n", "percent in 0..100"),
        ("questions:\n  q: {group: ngo, share: {a: 1}}\n", "unknown key 'share'"),
        ("questions:\n  q: {shares_by_group: {mayor: 3}}\n", "allowed groups"),
        ("questions:\n  q: {group: ngo}\n", "exactly one of"),
        ("questions: [1, 2\n", "not valid YAML"),
    ],
)
def test_bad_targets_files_get_one_line_errors(tmp_path, content, fragment):
    f = tmp_path / "t.yaml"
    f.write_text(content)
    with pytest.raises(ConfigError) as e:
        load_targets(f)
    assert fragment in str(e.value) and "\n" not in str(e.value)


def test_missing_targets_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_targets(tmp_path / "nope.yaml")


def test_unseen_targets_file_and_unsimulated_questions(tmp_path, model):
    f = tmp_path / "other.yaml"
    f.write_text(yaml.safe_dump({"questions": {
        "ngo_requests_for_support": {"group": "ngo", "shares": {"never": 50.0}},
        "something_else": {"shares_by_group": {"ngo": 10.0}},
    }}))  # fmt: skip
    rows = compare(load_targets(f), [survey(model), survey(model)])
    status = {r["question"]: r["status"] for r in rows}
    assert status == {"ngo_requests_for_support": "ok", "something_else": "not simulated"}
    assert distance(rows) == pytest.approx(abs(rows[0]["simulated"] - 50.0))


def test_validate_cli_rejects_a_bad_targets_file(tmp_path):
    f = tmp_path / "t.yaml"
    f.write_text("questions:\n  q: {group: ngo, shares: {a: 140}}\n")
    code = "import sys; from analysis.validate import main_validate; main_validate(sys.argv[1:])"
    r = subprocess.run([sys.executable, "-c", code, "--targets", str(f)], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and "0..100" in r.stderr


def test_validation_table(tmp_path):
    t = load_targets(TARGETS)
    table = validate(make_cfg(steps=12), t, seeds=2, survey_out=tmp_path / "survey.yaml")
    back = load_targets(tmp_path / "survey.yaml")  # the simulated survey reads back as a targets file
    assert {x.question for x in back} >= {"ngo_requests_for_support", "received_grant_from_fund"}
    rows = pd.read_csv(tmp_path / "survey_rows.csv")
    assert set(rows["seed"]) == {1, 2} and {"share", "n", "option"} <= set(rows.columns)
    ok = table[table["status"] == "ok"]
    assert len(ok) > 20
    assert set(table["status"]) <= {"ok", "not simulated"}


def test_compare_gives_the_mean_and_t_interval_over_surveys():
    t = [x for x in load_targets(TARGETS) if x.question == "ngo_requests_for_support"][0]
    sims = [{t.question: {t.group: {t.answer: v}}} for v in (10.0, 20.0, 60.0)]
    (row,) = [r for r in compare([t], sims)]
    h = 4.302652729911275 * np.std([10.0, 20.0, 60.0], ddof=1) / np.sqrt(3)  # t(0.975, 2)
    assert row["simulated"] == pytest.approx(30.0)
    assert row["ci_low"] == 0.0 and row["ci_high"] == pytest.approx(min(30.0 + h, 100.0))
    (row,) = compare([t], [{t.question: {t.group: {t.answer: v}}} for v in (40.0, 44.0, 42.0, 42.0)])
    h = 3.182446305284263 * np.std([40.0, 44.0, 42.0, 42.0], ddof=1) / 2.0
    assert (row["ci_low"], row["ci_high"]) == (pytest.approx(42.0 - h), pytest.approx(42.0 + h))
    (row,) = compare([t], [{}])
    assert row["status"] == "not simulated"


# ------------------------------------------------------- qualitative patterns
def _pattern_table(m_ok, n_ok, plan, other, ties, comp, rep, new):
    rows = [("municipality_request_outcome", "municipality", "mostly_fulfilled", m_ok),
            ("ngo_request_outcome", "ngo", "mostly_fulfilled", n_ok),
            ("municipality_satisfaction", "municipality", "partly", m_ok), ("ngo_satisfaction", "ngo", "partly", n_ok),
            ("municipality_satisfaction", "municipality", "fully", 0.0), ("ngo_satisfaction", "ngo", "fully", 0.0),
            ("municipality_partner_criteria", "municipality", "fits_authority_plans", plan),
            ("municipality_partner_criteria", "municipality", "scale_of_activity", other),
            ("municipality_partner_criteria", "municipality", "personal_connections", ties),
            ("took_part_in_competitions", "ngo", "yes", comp),
            ("_patterns", "model", "repeat_rate", rep), ("_patterns", "model", "newcomer_rate", new)]  # fmt: skip
    return pd.DataFrame(rows, columns=["question", "group", "option", "share"])


def test_qualitative_patterns_hold_only_when_the_survey_pattern_is_there():
    from analysis.validate import qualitative_patterns

    good = qualitative_patterns([_pattern_table(60, 30, 70, 40, 0, 18, 70, 10)] * 10)
    assert (good["verdict"] == "holds").all() and (good["holds"] == 10).all()
    # each pattern inverted: NGOs more positive; scale named more than plan fit (or ties named); everybody competes
    # or the competitors change every year
    for bad, k in (((30, 60, 70, 40, 0, 18, 70, 10), 0), ((60, 30, 40, 70, 0, 18, 70, 10), 1),
                   ((60, 30, 70, 40, 5, 18, 70, 10), 1), ((60, 30, 70, 40, 0, 60, 70, 10), 2),
                   ((60, 30, 70, 40, 0, 18, 20, 15), 2)):  # fmt: skip
        p = qualitative_patterns([_pattern_table(*bad)] * 9 + [_pattern_table(60, 30, 70, 40, 0, 18, 70, 10)])
        assert p["verdict"].iloc[k] == "does not hold" and (p.drop(index=k)["verdict"] == "holds").all(), bad


def test_competitors_are_stable_when_experience_drives_applying():
    from analysis.validate import competing_stability

    kw = {"region.municipalities": 6, "region.ngos": 150, "region.families": 600, "steps": 37}
    stable = competing_stability(run_model(make_cfg(**kw, **{"finance.apply_prob_experienced": 0.9,
                                                             "finance.apply_prob_novice": 0.0})))  # fmt: skip
    random_ = competing_stability(run_model(make_cfg(**kw, **{"finance.apply_prob_experienced": 0.3,
                                                              "finance.apply_prob_novice": 0.3})))  # fmt: skip
    assert stable["repeat_rate"] > 3 * stable["newcomer_rate"]
    assert random_["repeat_rate"] < 2 * max(random_["newcomer_rate"], 1.0)
