"""Validate the model against a survey targets file, and calibrate it.

Commands::

    sim-validate --targets ../shared/targets/volgograd_2021_calibration.yaml --seeds 10 [overrides ...]
    sim-calibrate experiments/calibration/volgograd_2021.yaml [--trials 40]

``sim-validate`` runs the configuration (Hydra overrides, e.g.
``region=volgograd_rural_2021 calibration=volgograd_2021``) for ``--seeds``
seeds to the survey month (``--month``, default the config's ``steps``), asks
the synthetic survey (:mod:`sim.survey`) and reports, per question, group
and answer, the target and the simulated mean with a 95% interval over seeds,
plus the total distance (RMS difference in percentage points). Questions of
the targets file the survey does not ask are listed as "not simulated". It
writes ``validation.csv``, ``validation.md``, ``validation.png``,
``survey.yaml`` (the simulated shares, in the targets' format) and
``survey_rows.csv`` (every seed's answers, one row per question x option with
``share`` and ``n``, :func:`sim.survey.survey_table`).

``sim-calibrate`` searches the parameter ranges of a calibration file with
Optuna (TPE, seeded) to minimise that distance, averaging several seeds per
candidate, writes the best parameters as the config preset
``configs/calibration/<name>.yaml`` and validates it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from analysis.specs import override_list, parameter_ranges, positive_int, read_mapping, safe_name
from sim.params import Config, ConfigError, iter_parameters, replace
from sim.survey import Target, as_targets_format, compare, distance, load_targets, shares_of, survey_table

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


def write_report(table: pd.DataFrame, out: Path, title: str) -> float:
    """Write validation.csv/.md/.png; return the distance."""
    out.mkdir(parents=True, exist_ok=True)
    d = distance(table.to_dict("records"))
    table.to_csv(out / "validation.csv", index=False)
    lines = [f"# {title}\n", f"Distance (RMS, percentage points, simulated shares only): **{d:.1f}**\n",
             "| question | group | answer | target | simulated [95% CI] |", "|---|---|---|---|---|"]  # fmt: skip
    for r in table.itertuples():
        sim = "not simulated" if r.status != "ok" else f"{r.simulated:.1f} [{r.ci_low:.1f}, {r.ci_high:.1f}]"
        lines.append(f"| {r.question} | {r.group} | {r.answer} | {r.target:.1f} | {sim} |")
    (out / "validation.md").write_text("\n".join(lines) + "\n")
    _plot(table, out / "validation.png")
    return d


def _plot(table: pd.DataFrame, path: Path) -> None:
    from analysis.sweep import _save, _setup

    plt = _setup()
    t = table[table["status"] == "ok"].reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(7, 0.22 * len(t) + 1.2))
    y = np.arange(len(t))
    ax.errorbar(t["simulated"], y, xerr=[t["simulated"] - t["ci_low"], t["ci_high"] - t["simulated"]], fmt="o", ms=3,
                color="C0", label="simulated (95% CI)")  # fmt: skip
    ax.scatter(t["target"], y, marker="x", color="C3", label="target", zorder=3)
    ax.set_yticks(y, [f"{q} [{g}] {a}" for q, g, a in zip(t["question"], t["group"], t["answer"], strict=True)], fontsize=6)
    ax.invert_yaxis()
    ax.set_xlabel("percent of respondents")
    ax.legend(fontsize=7)
    _save(fig, path)


# ------------------------------------------------------------------- calibrate
def load_calibration(path: str | Path) -> dict[str, Any]:
    """Read a calibration file: name, targets, base overrides, seeds, trials, month, parameters ranges.

    Raises:
        ConfigError: One line naming the bad key and what is allowed.
    """
    path = Path(path)
    data = read_mapping(path, {"name", "targets", "base", "seeds", "trials", "month", "parameters"})
    params = data["parameters"] = parameter_ranges(path, data.get("parameters"))
    data["spec_path"] = str(path)
    data["name"] = safe_name(path, data.get("name", path.stem))
    data["seeds"] = positive_int(path, "seeds", data.get("seeds", 3))
    data["trials"] = positive_int(path, "trials", data.get("trials", 30))
    data["base"] = override_list(path, "base", data.get("base", []))
    if data.get("month") is not None:
        data["month"] = positive_int(path, "month", data["month"])
    if not isinstance(data.get("targets"), str) or not data["targets"]:
        raise ConfigError(f"{path}: targets={data.get('targets')!r} is not allowed: allowed the path of a targets YAML file")
    targets_path = (path.parent / data["targets"]).resolve()
    data["targets_path"] = targets_path
    n_targets = len(load_targets(targets_path))
    if len(params) * 2 > n_targets:
        raise ConfigError(f"{path}: {len(params)} parameters for {n_targets} target shares: keep the count well below")
    return data


def check_calibration(spec: dict[str, Any]) -> Config:
    """Compose the base overrides and try both ends of every range, before any run.

    Raises:
        ConfigError: One line naming the bad override or parameter value.
    """
    from analysis.experiment import compose

    where = spec.get("spec_path", "calibration")
    try:
        base = compose(list(spec["base"]))
    except ConfigError as e:
        raise ConfigError(f"{where}: base: {e}") from None
    ints = {n for n, d, _m in iter_parameters() if isinstance(d, int) and not isinstance(d, bool)}
    for end in (0, 1):
        changes = {k: (int(b[end]) if k in ints else b[end]) for k, b in spec["parameters"].items()}
        if spec.get("month") is not None:
            changes["steps"] = spec["month"]
        try:
            replace(base, **changes)
        except ConfigError as e:
            raise ConfigError(f"{where}: {e}") from None
    return base


def calibrate(spec: dict[str, Any], trials: int | None = None, jobs: int = 1, seed: int = 1,
              preset_dir: Path | None = None, out: Path | None = None) -> dict[str, Any]:  # fmt: skip
    """Optuna search; writes the preset and the validation of the best parameters."""
    import optuna

    from analysis.experiment import compose

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    targets = load_targets(spec["targets_path"])
    base = compose(list(spec["base"]))
    month = spec.get("month")
    ints = {n for n, d, _m in iter_parameters() if isinstance(d, int) and not isinstance(d, bool)}

    def objective(trial: optuna.Trial) -> float:
        changes = {}
        for k, (lo, hi) in spec["parameters"].items():
            changes[k] = trial.suggest_int(k, int(lo), int(hi)) if k in ints else trial.suggest_float(k, float(lo), float(hi))
        rows = compare(targets, simulate_surveys(replace(base, **changes), spec["seeds"], month, jobs))
        return distance(rows)

    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=seed))
    from analysis.progress import show_bars

    study.optimize(objective, n_trials=trials or spec["trials"], show_progress_bar=show_bars())  # tqdm bar with ETA
    best = study.best_params
    preset_dir = preset_dir or ROOT / "configs" / "calibration"
    preset_dir.mkdir(parents=True, exist_ok=True)
    nested: dict[str, Any] = {}
    for k, v in best.items():
        node = nested
        *parents, leaf = k.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = v
    header = (
        f"# @package _global_\n# Calibrated by `sim-calibrate` against {Path(spec['targets_path']).name}\n"
        f"# ({len(best)} parameters, {len(targets)} target shares, {spec['seeds']} seeds per candidate, "
        f"{len(study.trials)} trials); best distance {study.best_value:.2f} percentage points.\n"
        f"# Calibrated parameters: {', '.join(best)}. Regenerate on purpose only.\n"
    )
    preset = preset_dir / f"{spec['name']}.yaml"
    preset.write_text(header + yaml.safe_dump(nested, sort_keys=True))
    table = validate(replace(base, **best), targets, max(spec["seeds"], 5), month, jobs)
    d = write_report(table, out or ROOT / "experiments" / "calibration" / "results" / spec["name"], f"Calibrated: {spec['name']}")
    return {"best_params": best, "best_distance": study.best_value, "validation_distance": d, "preset": str(preset)}


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
        cfg = compose(args.overrides)
        if args.month is not None:
            try:  # the survey month must be a valid run length
                replace(cfg, steps=args.month)
            except ConfigError as e:
                raise ConfigError(f"--month={args.month}: {e}") from None
    except ConfigError as e:
        print(f"config error: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    table = validate(cfg, targets, args.seeds, args.month, args.jobs, survey_out=args.out / "survey.yaml")
    d = write_report(table, args.out, f"Validation against {Path(args.targets).name}: {' '.join(args.overrides) or 'defaults'}")
    print((args.out / "validation.md").read_text())
    print(f"distance {d:.2f} percentage points -> {args.out}")


def main_calibrate(argv: list[str] | None = None) -> None:
    """Entry point of ``sim-calibrate``."""
    ap = argparse.ArgumentParser(prog="sim-calibrate", description="Calibrate parameters to survey targets with Optuna.")
    ap.add_argument("spec", help="calibration YAML, e.g. experiments/calibration/volgograd_2021.yaml")
    ap.add_argument("--trials", type=int, default=None)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args(argv)
    try:
        spec = load_calibration(args.spec)
        if args.trials is not None and args.trials < 1:
            raise ConfigError(f"--trials={args.trials}: allowed a positive integer")
        if args.jobs < 1:
            raise ConfigError(f"--jobs={args.jobs}: allowed a positive integer (worker processes)")
        check_calibration(spec)
    except ConfigError as e:
        print(f"config error: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    res = calibrate(spec, args.trials, args.jobs)
    print(yaml.safe_dump(res, sort_keys=False))
