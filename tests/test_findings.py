"""Findings and their ablations in experiments (analysis/findings.py)."""

import textwrap

import numpy as np
import pandas as pd
import pytest

from analysis.experiment import load_experiment, run_experiment
from analysis.findings import paired_effect, verdict
from sim.params import ConfigError


def test_paired_effect_on_known_numbers():
    out = pd.DataFrame({"arm": ["a"] * 4 + ["b"] * 4, "seed": [1, 2, 3, 4] * 2, "x": [1.0, 2.0, 3.0, 4.0, 2.0, 2.5, 4.5, 5.0]})
    m, lo, hi, n = paired_effect(out, "x", "a", "b")
    d = np.array([1.0, 0.5, 1.5, 1.0])
    h = 3.182446305284263 * d.std(ddof=1) / 2  # t(0.975, 3)
    assert n == 4 and m == pytest.approx(1.0) and lo == pytest.approx(1.0 - h) and hi == pytest.approx(1.0 + h)
    # pairing: the same differences in a shuffled row order give the same effect
    m2 = paired_effect(out.sample(frac=1, random_state=3), "x", "a", "b")
    assert m2 == pytest.approx((m, lo, hi, n))


@pytest.mark.parametrize(
    "on, off, words",
    [
        ((1.0, 0.5, 1.5, 8), (0.05, -0.1, 0.2, 8), "goes"),
        ((1.0, 0.5, 1.5, 8), (-0.5, -0.8, -0.2, 8), "goes"),
        ((1.0, 0.5, 1.5, 8), (0.3, 0.1, 0.5, 8), "shrinks"),
        ((1.0, 0.5, 1.5, 8), (0.9, 0.4, 1.4, 8), "stays"),
        ((0.1, -0.2, 0.4, 8), (0.0, -0.1, 0.1, 8), "no effect"),
    ],
)
def test_verdict_words(on, off, words):
    assert words in verdict(on, off)


def experiment_file(tmp_path, findings: str) -> str:
    p = tmp_path / "e.yaml"
    p.write_text(
        textwrap.dedent(
            """\
            name: e
            steps: 24
            seeds: 4
            base: [region=small]
            arms:
              without: [rc_model=none]
              with: [rc_model=public_development_centre]
            """
        )
        + findings
    )
    return str(p)


def test_an_ablation_that_removes_the_mechanism_removes_the_effect(tmp_path):
    # money through resource centres exists only with a centre; the ablation removes the centre in both arms
    f = experiment_file(
        tmp_path,
        textwrap.dedent(
            """\
            findings:
              payout:
                claim: a centre channels money
                outcome: money_centres
                arms: [without, with]
                mechanism_off: [rc_model=none]
              placebo:
                claim: the same money with an unrelated switch
                outcome: money_centres
                arms: [without, with]
                mechanism_off: [output.plots=false]
            """
        ),
    )
    exp = load_experiment(f)
    ablated = {f"{a}~off:{f}" for a in ("without", "with") for f in ("payout", "placebo")}
    assert set(exp.all_arms()) == {"without", "with", *ablated}
    run_experiment(exp, jobs=1, out=tmp_path / "out")
    table = pd.read_csv(tmp_path / "out" / "findings.csv").set_index("finding")
    assert table.loc["payout", "effect_low"] > 0  # the effect is there
    assert table.loc["payout", "effect_off"] == 0.0  # and goes with the mechanism off
    assert "goes" in table.loc["payout", "verdict"]
    assert "stays" in table.loc["placebo", "verdict"]  # an unrelated switch does not remove it
    assert table.loc["placebo", "effect_off"] == pytest.approx(table.loc["payout", "effect"])
    md = (tmp_path / "out" / "findings.md").read_text()
    assert "payout" in md and "rc_model=none" in md
    comparison = pd.read_csv(tmp_path / "out" / "comparison.csv")
    assert set(comparison["arm"]) == {"without", "with"}  # the comparison shows the experiment's own arms only


def fnd(arms: str = "[without, with]", off: str = "[a=b]", outcome: str = "wellbeing", extra: str = "") -> str:
    return f"findings: {{x: {{claim: c, outcome: {outcome}, arms: {arms}, mechanism_off: {off}{extra}}}}}\n"


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("findings: [a]\n", "'findings' must map"),
        (fnd(outcome="nope"), "findings.x.outcome='nope': allowed values"),
        (fnd(arms="[without, without]"), "allowed two different arms"),
        (fnd(arms="[without, gone]"), "allowed two different arms of without, with"),
        (fnd(off="[]"), "mechanism_off must be a non-empty list"),
        ("findings: {x: {claim: c, outcome: wellbeing, arms: [without, with]}}\n", "missing key 'mechanism_off'"),
        (fnd(extra=", why: y"), "unknown key 'why'"),
    ],
)
def test_bad_findings_are_rejected_with_one_line(tmp_path, text, fragment):
    with pytest.raises(ConfigError, match=fragment.replace("[", r"\[").replace("(", r"\(")) as e:
        load_experiment(experiment_file(tmp_path, text))
    assert "\n" not in str(e.value)


def test_a_bad_ablation_override_is_rejected_before_anything_runs(tmp_path):
    from analysis.experiment import main

    f = experiment_file(
        tmp_path,
        "findings: {x: {claim: c, outcome: wellbeing, arms: [without, with], mechanism_off: [rc_model=ministry]}}\n",
    )
    with pytest.raises(SystemExit) as e:
        main([f, "--out", str(tmp_path / "out")])
    assert e.value.code == 2
    assert not (tmp_path / "out").exists()


def test_findings_with_the_same_switch_share_their_ablation_runs(tmp_path):
    f = experiment_file(
        tmp_path,
        "findings:\n"
        "  a: {claim: c, outcome: wellbeing, arms: [without, with], mechanism_off: [rc_model=none]}\n"
        "  b: {claim: c, outcome: ngo_survival, arms: [without, with], mechanism_off: [rc_model=none]}\n"
        "  c: {claim: c, outcome: ngo_survival, arms: [without, with], mechanism_off: [output.plots=false]}\n",
    )
    exp = load_experiment(f)
    a, b, c = exp.findings
    assert a.ablation_arm("with") == b.ablation_arm("with") != c.ablation_arm("with")
    assert set(exp.all_arms()) == {"without", "with", "without~off:a", "with~off:a", "without~off:c", "with~off:c"}
