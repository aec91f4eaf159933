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
    return [shares_of(_survey_rows(t)) for t in simulate_survey_tables(cfg, seeds, month, jobs)]


def _survey_rows(t: pd.DataFrame) -> pd.DataFrame:
    """The survey's own rows of a run's table (without the pattern measures)."""
    return t[t["question"] != PATTERNS_Q]


def simulate_survey_tables(cfg: Config, seeds: int, month: int | None = None, jobs: int = 1) -> list[pd.DataFrame]:
    """Run ``seeds`` seeds to ``month`` and return each run's survey rows (with a ``seed`` column)."""
    from joblib import Parallel, delayed

    steps = month or cfg.steps
    cfg = replace(cfg, **{"steps": steps, "output.plots": False})
    return Parallel(n_jobs=jobs)(delayed(_one)(cfg, s) for s in range(1, seeds + 1))


def _one(cfg: Config, seed: int) -> pd.DataFrame:
    from sim.model import run_model

    m = run_model(replace(cfg, seed=seed))
    rows = [{"question": PATTERNS_Q, "group": "model", "option": k, "share": v, "n": 0, "multi_answer": False}
            for k, v in competing_stability(m).items()]  # fmt: skip
    return pd.concat([survey_table(m), pd.DataFrame(rows)], ignore_index=True).assign(seed=seed)


# ------------------------------------------------------- qualitative patterns
PATTERNS_Q = "_patterns"
"""Question name of the extra per-run measures the qualitative patterns need (not a survey question)."""


def competing_stability(m: Any, window: int = 36) -> dict[str, float]:
    """Who competes for grants, year by year, among the NGOs alive through the whole survey period.

    Returns:
        ``competing_yearly`` (mean percent applying in a year), ``repeat_rate`` (percent of the first year's
        applicants who apply again in year two or three) and ``newcomer_rate`` (the same percent among the
        first year's non-applicants). A stable minority: few compete each year, and mostly the same ones.
    """
    if len(m.history["ngo_applications"]) < window + 1:
        return {}
    since = {k: m.counter_in_window("ngo_applications", k) for k in (window, 24, 12)}  # applications in the last k months
    stay = m.ngo_alive & (m.ngo_born <= max(m.t + 1 - window, 0))  # alive from the window's first month
    y1 = (since[window] - since[24])[stay] > 0
    y2 = (since[24] - since[12])[stay] > 0
    y3 = since[12][stay] > 0
    later = y2 | y3
    pct = lambda a: 100.0 * float(a.mean()) if a.size else float("nan")  # noqa: E731
    return {"competing_yearly": (pct(y1) + pct(y2) + pct(y3)) / 3, "repeat_rate": pct(later[y1]),
            "newcomer_rate": pct(later[~y1])}  # fmt: skip


def qualitative_patterns(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """The survey's qualitative patterns (BRIEF s.6, issue #14), each checked on every seed.

    1. Officials are more positive than NGOs about the same requests (mostly fulfilled by the officials' tally
       above the NGOs'). Satisfaction (fully or partly) is shown beside it; the survey gives no shares for it.
    2. Officials choose by plan fit (the most-named criterion) and never name personal ties.
    3. A small stable minority of NGOs competes for grants (5-30% took part over the period, the survey 18.2%,
       and a first-year applicant is at least three times as likely to apply again as a non-applicant to start).

    Returns:
        One row per pattern: ``pattern, measure, simulated`` (mean over seeds), ``holds`` (seeds), ``seeds``,
        ``verdict`` ("holds" in at least 90% of seeds).
    """
    def get(t: pd.DataFrame, q: str, g: str, a: str) -> float:
        v = t.loc[(t["question"] == q) & (t["group"] == g) & (t["option"] == a), "share"]
        return float(v.iloc[0]) if len(v) else float("nan")

    checks: dict[str, list[tuple[bool, str]]] = {"officials more positive than NGOs": [],
                                                 "officials choose by plan fit, never name personal ties": [],
                                                 "a small stable minority of NGOs competes for grants": []}  # fmt: skip
    for t in tables:
        m_ok = get(t, "municipality_request_outcome", "municipality", "mostly_fulfilled")
        n_ok = get(t, "ngo_request_outcome", "ngo", "mostly_fulfilled")
        m_sat = get(t, "municipality_satisfaction", "municipality", "fully") + get(t, "municipality_satisfaction",
                                                                                   "municipality", "partly")
        n_sat = get(t, "ngo_satisfaction", "ngo", "fully") + get(t, "ngo_satisfaction", "ngo", "partly")
        checks["officials more positive than NGOs"].append(
            (m_ok > n_ok, f"mostly fulfilled {m_ok:.0f}% vs {n_ok:.0f}% (satisfied {m_sat:.0f}% vs {n_sat:.0f}%)"))
        crit = {c: get(t, "municipality_partner_criteria", "municipality", c) for c in
                ("fits_authority_plans", "scale_of_activity", "target_group_focus", "readiness_for_dialogue",
                 "competence_and_responsibility")}  # fmt: skip
        ties = get(t, "municipality_partner_criteria", "municipality", "personal_connections")
        plan = crit.pop("fits_authority_plans")
        other = max(crit.values())
        checks["officials choose by plan fit, never name personal ties"].append(
            (plan >= other and plan > 0 and ties == 0, f"plan fit {plan:.0f}% (top other {other:.0f}%); ties {ties:.0f}%"))
        comp = get(t, "took_part_in_competitions", "ngo", "yes")
        rep, new = get(t, PATTERNS_Q, "model", "repeat_rate"), get(t, PATTERNS_Q, "model", "newcomer_rate")
        checks["a small stable minority of NGOs competes for grants"].append(
            (5.0 <= comp <= 30.0 and rep >= 3 * max(new, 1e-9),
             f"took part {comp:.0f}%; first-year applicants apply again {rep:.0f}% vs non-applicants {new:.0f}%"))
    rows = []
    for pattern, res in checks.items():
        k = sum(ok for ok, _ in res)
        rows.append({"pattern": pattern, "first_seed": res[0][1] if res else "", "holds": k, "seeds": len(res),
                     "verdict": "holds" if res and k >= 0.9 * len(res) else "does not hold"})  # fmt: skip
    return pd.DataFrame(rows)


def patterns_markdown(p: pd.DataFrame) -> str:
    """The qualitative patterns as a markdown table."""
    lines = ["| pattern | seed 1 | holds in seeds | verdict |", "|---|---|---|---|"]
    lines += [f"| {r.pattern} | {r.first_seed} | {r.holds}/{r.seeds} | {r.verdict} |" for r in p.itertuples()]
    return "\n".join(lines) + "\n"


def validate(
    cfg: Config, targets: list[Target], seeds: int = 10, month: int | None = None, jobs: int = 1, survey_out: Path | None = None
) -> pd.DataFrame:
    """Target vs simulated table (see module docstring); optionally also the simulated shares in the targets format."""
    tables = simulate_survey_tables(cfg, seeds, month, jobs)
    sims = [shares_of(_survey_rows(t)) for t in tables]
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
    tables = simulate_survey_tables(cfg, seeds, month, jobs)
    sims = [shares_of(_survey_rows(t)) for t in tables]
    out.mkdir(parents=True, exist_ok=True)
    pats = qualitative_patterns(tables)
    pats.to_csv(out / "patterns.csv", index=False)
    (out / "survey.yaml").write_text(yaml.safe_dump(as_targets_format(sims, f"synthetic survey, {seeds} seeds"), sort_keys=False))
    table = share_table(targets, sims, design)
    tests = question_tests(table)
    figures = overall(table, tests)
    table.to_csv(out / "validation.csv", index=False)
    tests.to_csv(out / "tests.csv", index=False)
    (out / "validation.md").write_text(report_markdown(table, tests, figures, title, seeds)
                                       + "\n## Qualitative patterns (BRIEF s.6)\n\n" + patterns_markdown(pats))
    figures = {**figures, "patterns_hold": int((pats["verdict"] == "holds").sum()), "patterns": len(pats)}
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
