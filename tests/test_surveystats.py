"""Like-with-like comparison: Wilson intervals, per-question tests and the overall figures on known numbers."""

from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from analysis.surveystats import chi_square, load_design, overall, question_tests, share_table, survey_se, wilson
from sim.params import ConfigError
from sim.survey import load_targets

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ROOT / "tests" / "data" / "volgograd_2021_calibration.yaml"


def test_wilson_interval_on_hand_computed_numbers():
    # 50 of 100: centre 0.5, half-width 1.96 * sqrt(0.0025 + 3.8416 / 40000) / 1.038416 = 0.096170
    lo, hi = wilson(50.0, 100)
    assert (lo, hi) == (pytest.approx(40.383, abs=1e-3), pytest.approx(59.617, abs=1e-3))
    # 10 of 50: the textbook Wilson interval 0.1124 .. 0.3304
    lo, hi = wilson(20.0, 50)
    assert (lo, hi) == (pytest.approx(11.244, abs=1e-3), pytest.approx(33.037, abs=1e-3))
    # 0 of 106 (officials naming personal connections): [0, z^2/n / (1 + z^2/n)] = [0, 3.497%]
    lo, hi = wilson(0.0, 106)
    assert lo == 0.0 and hi == pytest.approx(100 * (1.959964**2 / 106) / (1 + 1.959964**2 / 106), abs=1e-3)
    # narrower with more respondents, never outside 0..100
    assert np.diff(wilson(30.0, 1000)) < np.diff(wilson(30.0, 100))
    assert wilson(100.0, 5)[1] == 100.0


def test_chi_square_and_deviance_on_hand_computed_numbers():
    # 30 / 70 against 0.5 / 0.5: chi2 = 2 * 20^2 / 50 = 16, G = 2 (30 ln 0.6 + 70 ln 1.4) = 16.4566
    chi2, p, df, dev = chi_square(np.array([30.0, 70.0]), np.array([0.5, 0.5]), 100)
    assert (chi2, df) == (pytest.approx(16.0), 1)
    assert p == pytest.approx(stats.chi2.sf(16.0, 1)) and p < 1e-4
    assert dev == pytest.approx(2 * (30 * np.log(0.6) + 70 * np.log(1.4)))
    chi2, p, df, dev = chi_square(np.array([50.0, 30.0, 20.0]), np.array([0.5, 0.3, 0.2]), 100)
    assert (chi2, p, df, dev) == (pytest.approx(0.0), pytest.approx(1.0), 2, pytest.approx(0.0))
    # a category the model never produces costs a large but finite amount
    chi2, p, _df, _dev = chi_square(np.array([10.0, 90.0]), np.array([0.0, 1.0]), 100)
    assert np.isfinite(chi2) and p < 1e-6


def _sims_from(targets, shift=0.0):
    """A simulated survey giving every target share (optionally moved by ``shift`` points, kept in 0..100)."""
    s: dict = {}
    for t in targets:
        s.setdefault(t.question, {}).setdefault(t.group, {})[t.answer] = float(np.clip(t.share + shift, 0, 100))
    return s


def test_identical_survey_is_not_rejected_and_a_different_one_is():
    targets = load_targets(TARGETS)
    design = load_design(TARGETS)
    assert design.respondents == {"ngo": 242, "municipality": 106}
    same = share_table(targets, [_sims_from(targets)] * 3, design)
    tests_same = question_tests(same)
    assert not tests_same["rejected"].any()
    assert same["inside"].all()
    f = overall(same, tests_same)
    assert f["rms"] == pytest.approx(0.0) and f["inside"] == f["shares"] == len(targets)
    assert f["not_rejected"] == f["tests"] and f["deviance"] == pytest.approx(0.0, abs=1e-6)
    # clearly another population: every yes-share 30 points away, every single-answer question all on its rarest answer
    other: dict = {}
    for t in targets:
        other.setdefault(t.question, {}).setdefault(t.group, {})[t.answer] = t.share + 30 if t.share < 50 else t.share - 30
    single = ("ngo_interacts_with_municipality", "ngo_contact_frequency", "ngo_requests_for_support", "ngo_request_outcome")
    for q, g in [(x, "ngo") for x in single] + [("municipality_handles_ngo_requests", "municipality")]:
        answers = {t.answer: t.share for t in targets if t.question == q}
        rarest = min(answers, key=answers.get)
        other[q][g] = {a: (100.0 if a == rarest else 0.0) for a in answers}
    diff = share_table(targets, [other] * 3, design)
    tests_diff = question_tests(diff)
    assert tests_diff["rejected"].all()
    assert not diff["inside"].any()
    assert overall(diff, tests_diff)["deviance"] > 100


def test_multi_answer_questions_get_one_binomial_per_option_and_single_answer_one_multinomial():
    targets = load_targets(TARGETS)
    table = share_table(targets, [_sims_from(targets)], load_design(TARGETS))
    tests = question_tests(table)
    crit = tests[tests["question"] == "municipality_partner_criteria"]
    assert len(crit) == 6 and set(crit["kind"]) == {"binomial"} and (crit["n"] == 106).all()
    freq = tests[tests["question"] == "ngo_contact_frequency"]
    assert len(freq) == 1 and freq["kind"].iloc[0] == "multinomial" and freq["df"].iloc[0] == 2
    # "hard to say" drops out: the test's n is the share that gave a listed answer (93% of 242)
    assert freq["n"].iloc[0] == pytest.approx(242 * (32.2 + 28.3 + 32.5) / 100, abs=0.1)
    grants = tests[tests["question"] == "received_grant_from_fund"]
    assert set(grants["group"]) == {"ngo", "municipality"} and set(grants["kind"]) == {"binomial"}


def test_one_share_shifted_by_the_survey_precision_is_flagged_just_outside():
    targets = [t for t in load_targets(TARGETS) if t.question == "took_part_in_competitions" and t.group == "ngo"]
    design = load_design(TARGETS)
    lo, hi = wilson(targets[0].share, 242)
    for sim, inside in ((hi - 0.1, True), (hi + 0.1, False), (lo + 0.1, True), (lo - 0.1, False)):
        table = share_table(targets, [{"took_part_in_competitions": {"ngo": {"yes": sim}}}], design)
        assert bool(table["inside"].iloc[0]) is inside
    # seed intervals: the t-interval of the mean and the range of single seeds
    table = share_table(targets, [{"took_part_in_competitions": {"ngo": {"yes": v}}} for v in (10.0, 20.0, 30.0)], design)
    r = table.iloc[0]
    assert r["simulated"] == pytest.approx(20.0)
    assert r["ci_high"] - 20.0 == pytest.approx(stats.t.ppf(0.975, 2) * 10.0 / np.sqrt(3))
    assert (r["seed_low"], r["seed_high"]) == (pytest.approx(10.5), pytest.approx(29.5))
    assert survey_se(table)[0] == pytest.approx(100 * np.sqrt(0.182 * 0.818 / 242))


def test_not_simulated_questions_are_listed_not_tested():
    targets = load_targets(TARGETS)
    table = share_table(targets, [{}], load_design(TARGETS))
    assert (table["status"] == "not simulated").all()
    assert question_tests(table).empty


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("questions: {q: {group: ngo, shares: {a: 1}}}\n", "respondents=None"),
        ("respondents: {ngo: 0}\nquestions: {q: {group: ngo, shares: {a: 1}}}\n", "respondents.ngo=0"),
        ("respondents: {firms: 10}\nquestions: {q: {group: ngo, shares: {a: 1}}}\n", "respondents="),
    ],
)
def test_design_rejects_bad_respondents(tmp_path, text, fragment):
    f = tmp_path / "t.yaml"
    f.write_text(text)
    with pytest.raises(ConfigError, match="allowed") as e:
        load_design(f)
    assert fragment in str(e.value) and len(str(e.value).splitlines()) == 1
