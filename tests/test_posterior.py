"""sim-experiment --posterior: seed and calibration bands apart, and the ranking-robustness table."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from analysis.experiment import load_experiment, main
from analysis.posterior import SURVIVES, apply_draw, draw_posterior, load_posterior, robustness_table, two_band_table
from sim.cli import compose
from sim.params import ConfigError, replace

ROOT = Path(__file__).resolve().parent.parent


def _experiment(tmp_path: Path) -> Path:
    f = tmp_path / "exp.yaml"
    f.write_text(yaml.safe_dump({"name": "tinypost", "question": "q", "steps": 12, "seeds": 2,
                                 "base": ["region=small", "region.families=500"],
                                 "arms": {"grants": [], "no_grants": ["scenario.grant_budget_scale=0.0",
                                                                       "finance.funds.2.budget_share=0.0"]}}))  # fmt: skip
    return f


def _posterior(tmp_path: Path, request_prob: list[float], name: str = "post.parquet") -> Path:
    p = tmp_path / name
    n = len(request_prob)
    pd.DataFrame({"finance.request_prob": request_prob, "scenario.grant_budget_scale": [0.5] * n,
                  "weight": [1.0 / n] * n}).to_parquet(p)  # fmt: skip
    return p


def test_posterior_experiment_gives_two_band_sources_and_the_robustness_table(tmp_path):
    out = tmp_path / "wide"
    main([str(_experiment(tmp_path)), "--posterior", str(_posterior(tmp_path, [0.01, 0.05, 0.3, 0.6])), "--draws", "4",
          "--jobs", "1", "--out", str(out)])  # fmt: skip
    table = pd.read_csv(out / "comparison.csv")
    for col in ("mean", "seed_low", "seed_high", "cal_low", "cal_high", "sd_seed", "sd_calibration"):
        assert col in table
    assert (table["draws"] == 4).all() and (table["seeds"] == 2).all()
    draws = pd.read_parquet(out / "draws.parquet")
    assert len(draws) == 4 and draws["finance.request_prob"].nunique() > 1
    # the request rate moves trust between NGOs and the administration: calibration uncertainty shows there
    trust = table[table["outcome"] == "trust_ngo_gov"]
    assert (trust["sd_calibration"] > 0).all() and (trust["cal_high"] > trust["cal_low"]).all()
    rob = pd.read_csv(out / "robustness.csv")
    rob = rob[rob["full_ranking"] != "equal in every run"]
    assert set(rob["higher"]) | set(rob["lower"]) == {"grants", "no_grants"}
    assert rob["share_holds"].between(0, 1).all() and rob["share_significant"].le(rob["share_holds"] + 1e-12).all()
    for f in ("comparison.md", "robustness.md", "robustness.png", "curves.png", "outcomes.parquet"):
        assert (out / f).exists(), f
    assert "{" in (out / "comparison.md").read_text()  # the calibration band is printed beside the seed band
    # the arm that sets the grant lever keeps it in every draw; the other arm takes the posterior's value
    outc = pd.read_parquet(out / "outcomes.parquet")
    assert (outc.loc[outc["arm"] == "no_grants", "money_grants"] == 0).all()
    assert (outc.loc[outc["arm"] == "grants", "money_grants"] > 0).any()

    # a posterior that is one point: no calibration band at all, the seed band unchanged in kind
    out1 = tmp_path / "point"
    main([str(_experiment(tmp_path)), "--posterior", str(_posterior(tmp_path, [0.05], "one.parquet")), "--draws", "3",
          "--jobs", "1", "--out", str(out1)])  # fmt: skip
    t1 = pd.read_csv(out1 / "comparison.csv")
    assert (t1["sd_calibration"].abs() < 1e-12).all() and np.allclose(t1["cal_low"], t1["cal_high"])
    assert (t1[t1["outcome"] == "trust_ngo_gov"]["sd_seed"] > 0).all()


def test_robustness_shares_on_known_numbers():
    # arm a beats b in 7 of 10 draws (two seeds each, common seeds), c is always last
    rows = []
    for d in range(10):
        for s in (1, 2):
            a = 1.0 if d < 7 else 0.0
            rows += [{"draw": d, "arm": "a", "seed": s, "wellbeing": a + 0.5 + 0.01 * s},
                     {"draw": d, "arm": "b", "seed": s, "wellbeing": 0.8 + 0.01 * s + 0.001 * d},
                     {"draw": d, "arm": "c", "seed": s, "wellbeing": -5.0 + 0.01 * s}]  # fmt: skip
    rob = robustness_table(pd.DataFrame(rows), ["a", "b", "c"])
    rob = rob[rob["outcome"] == "wellbeing"].set_index(["higher", "lower"])
    assert rob.loc[("a", "b"), "share_holds"] == pytest.approx(0.7)
    assert not rob.loc[("a", "b"), "survives"] and 0.7 < SURVIVES
    assert rob.loc[("a", "c"), "share_holds"] == 1.0 and rob.loc[("b", "c"), "survives"]
    assert rob["full_ranking"].iloc[0] == "a > b > c" and rob["share_full_ranking"].iloc[0] == pytest.approx(0.7)
    table = two_band_table(pd.DataFrame(rows), ["a", "b", "c"])
    w = table[(table["outcome"] == "wellbeing") & (table["arm"] == "a")].iloc[0]
    means = np.array([1.515] * 7 + [0.515] * 3)
    assert w["sd_calibration"] == pytest.approx(means.std(ddof=1))
    assert w["cal_low"] == pytest.approx(np.percentile(means, 2.5)) and w["cal_high"] == pytest.approx(1.515)


def test_an_outcome_no_arm_moves_is_reported_as_equal_not_as_a_ranking_that_fails():
    from analysis.posterior import TIED, robustness_markdown

    rows = [{"draw": d, "arm": a, "seed": s, "wellbeing": 0.1 * d + (a == "a") * 0.5 + s, "share_crisis": 0.0}
            for d in range(4) for a in ("a", "b") for s in (1, 2)]  # fmt: skip
    rob = robustness_table(pd.DataFrame(rows), ["a", "b"])
    crisis = rob[rob["outcome"] == "share_crisis"]
    assert len(crisis) == 1 and crisis["full_ranking"].iloc[0] == TIED
    assert rob.loc[rob["outcome"] == "wellbeing", "survives"].all()
    md = robustness_markdown(rob)
    assert "| share_crisis |" not in md and "no ordering to test): share_crisis." in md


def test_draws_follow_the_weights_and_arms_keep_their_own_levers():
    post = pd.DataFrame({"finance.request_prob": [0.01, 0.2], "weight": [0.0, 1.0]})
    assert {d["finance.request_prob"] for d in draw_posterior(post, 20)} == {0.2}
    assert draw_posterior(post, 5, seed=3) == draw_posterior(post, 5, seed=3)
    base = compose(["region=small"])
    arm = replace(base, **{"finance.request_prob": 0.5})
    draw = {"finance.request_prob": 0.2, "scenario.grant_budget_scale": 0.3}
    assert apply_draw(arm, base, draw).finance.request_prob == 0.5
    assert apply_draw(arm, base, draw).scenario.grant_budget_scale == 0.3
    assert apply_draw(base, base, draw).finance.request_prob == 0.2


@pytest.mark.parametrize(
    "frame, fragment",
    [
        (None, "cannot read"),
        (pd.DataFrame({"finance.no_such": [1.0], "weight": [1.0]}), "'finance.no_such' is not a model parameter"),
        (pd.DataFrame({"finance.request_prob": [0.1], "weight": [-1.0]}), "weight"),
        (pd.DataFrame({"weight": [1.0]}), "no parameters"),
    ],
)
def test_bad_posterior_is_rejected_in_one_line(tmp_path, frame, fragment):
    p = tmp_path / "p.parquet"
    if frame is not None:
        frame.to_parquet(p)
    with pytest.raises(ConfigError) as e:
        load_posterior(p)
    assert fragment in str(e.value) and "allowed" in str(e.value) and len(str(e.value).splitlines()) == 1


def test_cli_rejects_bad_draws_and_a_posterior_value_the_model_refuses(tmp_path, capsys):
    exp = _experiment(tmp_path)
    with pytest.raises(SystemExit) as e:
        main([str(exp), "--posterior", str(_posterior(tmp_path, [0.1])), "--draws", "0"])
    assert e.value.code == 2 and "--draws=0" in capsys.readouterr().err
    bad = tmp_path / "bad.parquet"
    pd.DataFrame({"finance.request_prob": [1.5], "weight": [1.0]}).to_parquet(bad)
    with pytest.raises(SystemExit) as e:
        main([str(exp), "--posterior", str(bad), "--draws", "2", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip()
    assert e.value.code == 2 and "finance.request_prob" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "o").exists()
    assert load_experiment(exp).name == "tinypost"
