"""Run a comparison experiment (arms x seeds) and summarise it with confidence intervals.

An experiment is a YAML file in ``experiments/``::

    name: rc_models
    question: ...
    steps: 60
    seeds: 20
    base: [region=small]            # overrides shared by all arms
    arms:
      none: [rc_model=none]
      administrative: [rc_model=administrative]
    findings:                       # optional: claims and the ablations that back them
      survival_admin:
        claim: an administrative centre raises NGO survival
        outcome: ngo_survival
        arms: [none, administrative]
        mechanism_off: [rc_model.consult_effect=0, rc_model.project_help=0]

Each arm's overrides are composed with Hydra exactly as on the command line
(``sim-run <base> <arm overrides>``) and validated; every arm runs the same
seeds (common random numbers). Usage::

    sim-experiment experiments/rc_models.yaml [--seeds 20] [--jobs 2] [--out DIR]
    sim-experiment experiments/rc_models.yaml --posterior PATH/posterior.parquet --draws 20   # + calibration uncertainty

With ``--posterior`` every arm runs for every parameter set drawn from a saved
calibration posterior, and the tables and curves show the band from seeds and
the band from calibration uncertainty separately, with a ranking-robustness
table (:mod:`analysis.posterior`; outputs in ``experiments/<name>/results_posterior``).

Outputs in ``DIR`` (default ``experiments/<name>/results``): ``runs.parquet``
(one row per arm, seed and month), ``outcomes.parquet`` (one row per arm and
seed), ``comparison.csv`` and ``comparison.md`` (mean and 95% CI per arm),
``curves.png`` (outcome curves with 95% bands) and ``money.png``; with findings also
``findings.md`` / ``.csv`` (each finding's paired effect with its mechanism on and off, see
:mod:`analysis.findings`).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.findings import Finding, ablation_arms, findings_markdown, findings_table, mean_ci, parse_findings
from analysis.specs import override_list, positive_int, read_mapping, safe_name
from sim.cli import compose  # noqa: F401  (also analysis.experiment.compose, as before)
from sim.outcomes import MONEY, OUTCOMES
from sim.params import Config, ConfigError, replace

ROOT = Path(__file__).resolve().parent.parent

CURVES = ("wellbeing_mean", "reached_in_difficulty", "ngos_alive", "trust_ngo_gov")


@dataclass
class Experiment:
    """A parsed experiment file."""

    name: str
    question: str
    steps: int
    seeds: int
    base: list[str]
    arms: dict[str, list[str]]
    findings: list[Finding] = field(default_factory=list)

    def all_arms(self) -> dict[str, list[str]]:
        """The arms plus, for every finding, its two arms with the driving mechanism switched off."""
        return {**self.arms, **ablation_arms(self.findings, self.arms)}


def load_experiment(path: str | Path) -> Experiment:
    """Read and check an experiment file.

    Raises:
        ConfigError: One line naming the bad key and what is allowed.
    """
    path = Path(path)
    data = read_mapping(path, {"name", "question", "design", "steps", "seeds", "base", "arms", "findings"})
    arms = data.get("arms")
    if not isinstance(arms, dict) or not arms:
        raise ConfigError(f"{path}: 'arms' must map arm names to lists of overrides")
    for k, v in arms.items():
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise ConfigError(f"{path}: arms.{k} must be a list of overrides like rc_model=administrative")
    seeds = positive_int(path, "seeds", data.get("seeds", 20))
    steps = positive_int(path, "steps", data.get("steps", 60))
    return Experiment(
        name=safe_name(path, data.get("name", path.stem)),
        question=str(data.get("question", "")),
        steps=steps,
        seeds=seeds,
        base=override_list(path, "base", data.get("base", [])),
        arms={str(k): list(v) for k, v in arms.items()},
        findings=parse_findings(path, data.get("findings"), {str(k): v for k, v in arms.items()}),
    )


def arm_configs(exp: Experiment) -> dict[str, Config]:
    """Validated config of every arm and ablation arm (steps from the experiment, no plots)."""
    out = {}
    for arm, ovs in exp.all_arms().items():
        cfg = compose(exp.base + ovs)
        out[arm] = replace(cfg, **{"steps": exp.steps, "output.plots": False})
    return out


def run_one(cfg: Config, seed: int) -> tuple[pd.DataFrame, dict[str, float]]:
    """Run one seed of one arm; return its time series and its outcomes."""
    from sim.model import run_model

    model = run_model(replace(cfg, seed=seed))
    return model.timeseries(), model.outcomes()


def comparison_table(outcomes: pd.DataFrame, arms: list[str]) -> pd.DataFrame:
    """One row per outcome and arm: mean, 95% CI low and high, n."""
    rows = []
    for key in OUTCOMES:
        for arm in arms:
            v = outcomes.loc[outcomes["arm"] == arm, key].to_numpy()
            m, lo, hi = mean_ci(v)
            rows.append({"outcome": key, "arm": arm, "mean": m, "ci_low": lo, "ci_high": hi, "n": int(np.isfinite(v).sum())})
    return pd.DataFrame(rows)


def table_markdown(table: pd.DataFrame, arms: list[str]) -> str:
    """The comparison as a markdown table: outcomes as rows, arms as columns, ``mean [low, high]``."""

    def fmt(x: float) -> str:
        return "nan" if not np.isfinite(x) else (f"{x:.3f}" if abs(x) < 100 else f"{x:.0f}")

    head = "| outcome | " + " | ".join(arms) + " |\n|---|" + "---|" * len(arms) + "\n"
    lines = []
    for key in OUTCOMES:
        cells = []
        for arm in arms:
            r = table[(table["outcome"] == key) & (table["arm"] == arm)].iloc[0]
            cells.append(f"{fmt(r['mean'])} [{fmt(r['ci_low'])}, {fmt(r['ci_high'])}]")
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    return head + "\n".join(lines) + "\n"


def plot_curves(runs: pd.DataFrame, arms: list[str], path: Path) -> None:
    """Outcome curves per arm with 95% bands across seeds."""
    import matplotlib

    from analysis.sweep import _band

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(11, 7), sharex=True)
    colours = plt.get_cmap("tab10")
    for ax, col in zip(axes.ravel(), CURVES, strict=True):
        for k, arm in enumerate(arms):
            m, lo, hi = _band(runs[runs["arm"] == arm].groupby("step")[col])
            ax.plot(m.index, m.values, color=colours(k % 10), label=arm, lw=1.5)
            ax.fill_between(m.index, lo.values, hi.values, color=colours(k % 10), alpha=0.2, lw=0)
        ax.set_title(col.replace("_", " "))
        ax.set_xlabel("month")
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    fig.savefig(path.with_suffix(".svg"))
    plt.close(fig)


def plot_money(outcomes: pd.DataFrame, arms: list[str], path: Path) -> None:
    """Money by channel per arm (mean over seeds), stacked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = list(MONEY)
    means = outcomes.groupby("arm")[keys].mean().reindex(arms)
    fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(arms) + 3), 4))
    means.plot(kind="bar", stacked=True, ax=ax, colormap="tab20", width=0.8)
    ax.set(title="Money by channel over the run (mean of seeds)", ylabel="mln roubles", xlabel="")
    ax.legend(fontsize=7, bbox_to_anchor=(1.01, 1), loc="upper left")
    plt.setp(ax.get_xticklabels(), rotation=30, ha="right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _job(arm: str, cfg: Config, seed: int) -> tuple[str, int, pd.DataFrame, dict[str, Any]]:
    ts, out = run_one(cfg, seed)
    return arm, seed, ts, out


def run_experiment(exp: Experiment, seeds: int | None = None, jobs: int = 2, out: Path | None = None) -> pd.DataFrame:
    """Run every arm over the same seeds and write the results.

    Returns:
        The comparison table.
    """
    from analysis.progress import parallel

    n = seeds or exp.seeds
    cfgs = arm_configs(exp)
    arms = list(exp.arms)
    out = out or ROOT / "experiments" / exp.name / "results"
    calls = ((_job, (arm, cfgs[arm], seed)) for arm in cfgs for seed in range(1, n + 1))
    results = parallel(calls, len(cfgs) * n, jobs, exp.name)
    out.mkdir(parents=True, exist_ok=True)
    runs = pd.concat([ts.assign(arm=arm, seed=seed) for arm, seed, ts, _ in results], ignore_index=True)
    outcomes = pd.DataFrame([{"arm": arm, "seed": seed, **o} for arm, seed, _, o in results])
    table = comparison_table(outcomes, arms)
    runs.to_parquet(out / "runs.parquet", index=False)
    outcomes.to_parquet(out / "outcomes.parquet", index=False)
    table.to_csv(out / "comparison.csv", index=False)
    legend = "\n".join(f"- `{k}`: {v}" for k, v in OUTCOMES.items())
    (out / "comparison.md").write_text(
        f"# {exp.name}: mean [95% CI] over {n} seeds, {exp.steps} months\n\n{table_markdown(table, arms)}\n{legend}\n"
    )
    if exp.findings:
        found = findings_table(outcomes, exp.findings)
        found.to_csv(out / "findings.csv", index=False)
        (out / "findings.md").write_text(
            f"# {exp.name}: findings and their ablations (paired over {n} seeds, {exp.steps} months)\n\n"
            "Effect = second arm - first arm, mean over the same seeds with a 95% t-interval; "
            "'with the mechanism off' runs both arms again with the listed overrides.\n\n" + findings_markdown(found)
        )
    runs = runs[runs["arm"].isin(arms)]
    plot_curves(runs, arms, out / "curves.png")
    plot_money(outcomes, arms, out / "money.png")
    return table


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``sim-experiment``."""
    ap = argparse.ArgumentParser(prog="sim-experiment", description="Run a comparison experiment (arms x seeds).")
    ap.add_argument("experiment", help="experiment YAML file, e.g. experiments/rc_models.yaml")
    ap.add_argument("--seeds", type=int, default=None, help="seeds per arm (default: the file's)")
    ap.add_argument("--jobs", type=int, default=2, help="parallel worker processes")
    ap.add_argument("--out", type=Path, default=None, help="output directory")
    ap.add_argument("--posterior", type=Path, default=None, help="calibration posterior (posterior.parquet): run over its draws")
    ap.add_argument("--draws", type=int, default=20, help="parameter sets drawn from --posterior")
    args = ap.parse_args(argv)
    try:
        if args.seeds is not None and args.seeds < 1:
            raise ConfigError(f"--seeds={args.seeds}: allowed a positive integer")
        if args.jobs < 1:
            raise ConfigError(f"--jobs={args.jobs}: allowed a positive integer (worker processes)")
        if args.draws < 1:
            raise ConfigError(f"--draws={args.draws}: allowed a positive integer")
        exp = load_experiment(args.experiment)
        try:
            cfgs = arm_configs(exp)  # validate every arm before running anything
        except ConfigError as e:
            raise ConfigError(f"{args.experiment}: {e}") from None
        if args.posterior is not None:
            from analysis.posterior import apply_draw, draw_posterior, load_posterior

            base = replace(compose(exp.base), **{"steps": exp.steps, "output.plots": False})
            for d in draw_posterior(load_posterior(args.posterior), args.draws):  # every draw valid in every arm
                for c in cfgs.values():
                    apply_draw(c, base, d)
    except ConfigError as e:
        print(f"config error: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    if args.posterior is not None:
        from analysis.posterior import run_posterior_experiment, two_band_markdown

        table = run_posterior_experiment(exp, args.posterior, args.draws, args.seeds, args.jobs, args.out)
        print(two_band_markdown(table, list(exp.arms)))
        return
    table = run_experiment(exp, args.seeds, args.jobs, args.out)
    print(table_markdown(table, list(exp.arms)))


if __name__ == "__main__":
    main()
