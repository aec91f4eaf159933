"""Validate the model against a survey targets file, like with like.

Commands::

    sim-validate --targets ../shared/targets/volgograd_2021_calibration.yaml --seeds 10 [overrides ...]
    sim-calibrate experiments/calibration/volgograd_2021.yaml      # ABC-SMC, see analysis.calibration

``sim-validate`` runs the configuration (Hydra overrides, e.g.
``region=volgograd_rural_2021 calibration=volgograd_2021``) for ``--seeds``
seeds to the survey month (``--month``, default the config's ``steps``), asks
the synthetic survey (:mod:`sim.survey`) and compares it with the real survey
at the real survey's precision (:mod:`analysis.surveystats`): per share the
survey's Wilson 95% interval at its n, the simulated mean with its interval
over seeds and whether it lies inside; per question a chi-square test of
whether the survey's answers could come from the simulated population; overall
the RMS, the shares inside, the questions not rejected and the total deviance.
Questions of the targets file the survey does not ask are listed as "not
simulated". It writes ``validation.csv``, ``tests.csv``, ``validation.md``,
``validation.png``, ``survey.yaml`` (the simulated shares, in the targets'
format) and ``survey_rows.csv`` (every seed's answers, one row per question x
option with ``share`` and ``n``, :func:`sim.survey.survey_table`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from analysis.surveystats import SurveyDesign, load_design, overall, question_tests, share_table
from sim.params import Config, ConfigError, replace
from sim.survey import Target, as_targets_format, compare, load_targets, shares_of, survey_table

ROOT = Path(__file__).resolve().parent.parent


def simulate_surveys(cfg: Config, seeds: int, month: int | None = None, jobs: int = 1) -> list[dict[str, Any]]:
    """Run ``seeds`` seeds to ``month`` and return each run's survey."""
    return [shares_of(t) for t in simulate_survey_tables(cfg, seeds, month, jobs)]


def simulate_survey_tables(cfg: Config, seeds: int, month: int | None = None, jobs: int = 1) -> list[pd.DataFrame]:
    """Run ``seeds`` seeds to ``month`` and return each run's survey rows (with a ``seed`` column)."""
    from joblib import Parallel, delayed

    steps = month or cfg.steps
    cfg = replace(cfg, **{"steps": steps, "output.plots": False})
    return Parallel(n_jobs=jobs)(delayed(_one)(cfg, s) for s in range(1, seeds + 1))


def _one(cfg: Config, seed: int) -> pd.DataFrame:
    from sim.model import run_model

    return survey_table(run_model(replace(cfg, seed=seed))).assign(seed=seed)


def validate(
    cfg: Config, targets: list[Target], seeds: int = 10, month: int | None = None, jobs: int = 1, survey_out: Path | None = None
) -> pd.DataFrame:
    """Target vs simulated table (see module docstring); optionally also the simulated shares in the targets format."""
    tables = simulate_survey_tables(cfg, seeds, month, jobs)
    sims = [shares_of(t) for t in tables]
    if survey_out is not None:
        survey_out.parent.mkdir(parents=True, exist_ok=True)
        pd.concat(tables, ignore_index=True).to_csv(survey_out.parent / "survey_rows.csv", index=False)
        survey_out.write_text(yaml.safe_dump(as_targets_format(sims, f"synthetic survey, {seeds} seeds"), sort_keys=False))
    return pd.DataFrame(compare(targets, sims))


# ----------------------------------------------------------- like with like
def validate_report(
    cfg: Config,
    targets: list[Target],
    design: SurveyDesign,
    seeds: int,
    month: int | None,
    jobs: int,
    out: Path,
    title: str,
) -> dict[str, float]:
    """Run ``seeds`` seeds and write the like-with-like report (``analysis.surveystats``) into ``out``.

    Files: ``validation.csv`` (one row per share), ``tests.csv`` (one row per question test), ``validation.md``,
    ``validation.png`` (every share: survey 95% interval, simulated mean and seed range) and ``survey.yaml``.

    Returns:
        The overall figures (:func:`analysis.surveystats.overall`).
    """
    sims = simulate_surveys(cfg, seeds, month, jobs)
    out.mkdir(parents=True, exist_ok=True)
    (out / "survey.yaml").write_text(yaml.safe_dump(as_targets_format(sims, f"synthetic survey, {seeds} seeds"), sort_keys=False))
    table = share_table(targets, sims, design)
    tests = question_tests(table)
    figures = overall(table, tests)
    table.to_csv(out / "validation.csv", index=False)
    tests.to_csv(out / "tests.csv", index=False)
    (out / "validation.md").write_text(report_markdown(table, tests, figures, title, seeds))
    plot_like_with_like(table, out / "validation.png", title)
    return figures


def report_markdown(table: pd.DataFrame, tests: pd.DataFrame, figures: dict[str, float], title: str, seeds: int) -> str:
    """The like-with-like report as markdown."""
    f = figures
    lines = [
        f"# {title}\n",
        f"RMS distance over the simulated shares: **{f['rms']:.1f}** percentage points. "
        f"Inside the survey's 95% sampling interval: **{f['inside']}/{f['shares']}** shares. "
        f"Questions (and multi-answer options) not rejected at 5%: **{f['not_rejected']}/{f['tests']}**. "
        f"Total deviance (-2 log-likelihood ratio): **{f['deviance']:.0f}**. Not simulated: {f['not_simulated']} shares.\n",
        f"Survey interval: Wilson 95% at the group's n. Simulated: mean over {seeds} seeds, [95% t-interval of the mean], "
        "{2.5-97.5% range of single seeds}.\n",
        "| question | group | answer | n | survey [95%] | simulated [mean CI] {seed range} | inside |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in table.itertuples():
        survey_cell = f"{r.target:.1f} [{r.survey_low:.1f}, {r.survey_high:.1f}]"
        if r.status != "ok":
            sim = "not simulated"
        else:
            sim = f"{r.simulated:.1f} [{r.ci_low:.1f}, {r.ci_high:.1f}] {{{r.seed_low:.1f}, {r.seed_high:.1f}}}"
        inside = "" if r.status != "ok" else ("yes" if r.inside else "**no**")
        multi = " (multi)" if r.multi else ""
        lines.append(f"| {r.question}{multi} | {r.group} | {r.answer} | {r.n} | {survey_cell} | {sim} | {inside} |")
    lines += ["\n## Per-question tests (could the survey's answers come from the simulated population?)\n",
              "| question | group | option | test | n | chi2 | df | p | deviance | rejected |", "|---" * 10 + "|"]  # fmt: skip
    for r in tests.itertuples():
        lines.append(f"| {r.question} | {r.group} | {r.answer or '(all)'} | {r.kind} | {r.n:g} | {r.chi2:.1f} | {r.df} | "
                     f"{r.p:.3g} | {r.deviance:.1f} | {'**yes**' if r.rejected else 'no'} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def plot_like_with_like(table: pd.DataFrame, path: Path, title: str = "") -> None:
    """Every share in one figure: the survey's 95% interval (band) and the simulated mean with its seed range."""
    from analysis.sweep import _save, _setup

    plt = _setup()
    t = table[table["status"] == "ok"].reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(7.5, 0.24 * len(t) + 1.4))
    y = np.arange(len(t))
    ax.barh(y, t["survey_high"] - t["survey_low"], left=t["survey_low"], height=0.6, color="C3", alpha=0.25,
            label="survey: Wilson 95% at its n")  # fmt: skip
    ax.scatter(t["target"], y, marker="|", s=80, color="C3", zorder=3, label="survey share")
    ax.errorbar(t["simulated"], y, xerr=[t["simulated"] - t["seed_low"], t["seed_high"] - t["simulated"]], fmt="o", ms=3,
                color="C0", lw=1, label="simulated: mean, 2.5-97.5% of seeds")  # fmt: skip
    out = ~t["inside"].astype(bool)
    ax.scatter(t.loc[out, "simulated"], y[out.to_numpy()], marker="o", s=18, facecolors="none", edgecolors="k", zorder=4,
               label="outside the survey interval")  # fmt: skip
    ax.set_yticks(y, [f"{q} [{g[:4]}] {a}" for q, g, a in zip(t["question"], t["group"], t["answer"], strict=True)], fontsize=6)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("percent of respondents")
    if title:
        ax.set_title(title, fontsize=8)
    ax.legend(fontsize=6, loc="lower right")
    _save(fig, path)


def main_calibrate(argv: list[str] | None = None) -> None:
    """``sim-calibrate``: ABC-SMC (:func:`analysis.calibration.main`)."""
    from analysis.calibration import main

    main(argv)


def main_validate(argv: list[str] | None = None) -> None:
    """Entry point of ``sim-validate``."""
    from analysis.experiment import compose

    ap = argparse.ArgumentParser(prog="sim-validate", description="Compare the synthetic survey with a targets file.")
    ap.add_argument("--targets", required=True, help="targets YAML (format of volgograd_2021_calibration.yaml)")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--month", type=int, default=None, help="survey month (default: the config's steps)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path("validation"))
    ap.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. region=volgograd_rural_2021")
    args = ap.parse_args(argv)
    try:
        if args.seeds < 2:
            raise ConfigError(f"--seeds={args.seeds}: allowed an integer of at least 2 (for an interval)")
        if args.month is not None and args.month < 1:
            raise ConfigError(f"--month={args.month}: allowed a positive number of months")
        if args.jobs < 1:
            raise ConfigError(f"--jobs={args.jobs}: allowed a positive integer (worker processes)")
        targets = load_targets(args.targets)
        design = load_design(args.targets)
        cfg = compose(args.overrides)
        if args.month is not None:
            try:  # the survey month must be a valid run length
                replace(cfg, steps=args.month)
            except ConfigError as e:
                raise ConfigError(f"--month={args.month}: {e}") from None
    except ConfigError as e:
        print(f"config error: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    title = f"Validation against {Path(args.targets).name}: {' '.join(args.overrides) or 'defaults'}"
    figures = validate_report(cfg, targets, design, args.seeds, args.month, args.jobs, args.out, title)
    print((args.out / "validation.md").read_text())
    f = figures
    print(
        f"RMS {f['rms']:.2f} percentage points; {f['inside']}/{f['shares']} inside the survey's 95% interval; "
        f"{f['not_rejected']}/{f['tests']} questions not rejected -> {args.out}"
    )
