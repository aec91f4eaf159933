"""Global sensitivity analysis (SALib: Morris, Sobol) and scenario discovery (PRIM).

A specification file (``experiments/sensitivity/*.yaml``)::

    name: default
    base: [region=small, steps=36]       # overrides of every run
    seeds: 2                             # each sample runs these seeds (common random numbers); outputs are averaged
    outputs: [wellbeing, reached_in_difficulty, ngo_survival]
    parameters:                          # dotted config keys and [low, high]
      trust.broken_weight: [1.0, 6.0]
      partnership.proposal_rate: [0.1, 1.0]
    compare:                             # for scenario discovery: two arms to compare (optional)
      a: [rc_model=municipal_rc]
      b: [rc_model=administrative]
      outcome: reached_in_difficulty

Commands::

    sim-sensitivity morris experiments/sensitivity/default.yaml --trajectories 10
    sim-sensitivity sobol experiments/sensitivity/default.yaml --n 64
    sim-sensitivity discover experiments/sensitivity/default.yaml --samples 200

Each writes its samples and outputs (parquet), the indices (csv) and plots
(png, svg) to ``experiments/sensitivity/results/<name>/<method>/``.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from analysis.specs import override_list, parameter_ranges, positive_int, read_mapping, safe_name
from sim.outcomes import OUTCOMES
from sim.params import Config, ConfigError, iter_parameters, replace

ROOT = Path(__file__).resolve().parent.parent
_DEFAULTS = {name: default for name, default, _meta in iter_parameters()}


@dataclass
class Spec:
    """A parsed sensitivity specification."""

    name: str
    base: list[str]
    seeds: int
    outputs: list[str]
    names: list[str]
    bounds: list[list[float]]
    compare: dict[str, Any] | None


def load_spec(path: str | Path) -> Spec:
    """Read and check a specification; parameter names and bounds are validated against the config.

    Raises:
        ConfigError: One line naming the bad key and what is allowed.
    """
    path = Path(path)
    data = read_mapping(path, {"name", "base", "seeds", "outputs", "parameters", "compare"})
    params = parameter_ranges(path, data.get("parameters"), minimum=2)
    outputs = data.get("outputs") or ["wellbeing", "reached_in_difficulty", "ngo_survival"]
    for o in outputs:
        if o not in OUTCOMES:
            raise ConfigError(f"{path}: output '{o}' is not allowed: allowed {', '.join(OUTCOMES)}")
    compare = data.get("compare")
    if compare is not None and not (isinstance(compare, dict) and {"a", "b", "outcome"} <= set(compare)):
        raise ConfigError(f"{path}: 'compare' needs keys a, b (lists of overrides) and outcome")
    if compare is not None and compare["outcome"] not in OUTCOMES:
        raise ConfigError(f"{path}: compare.outcome '{compare['outcome']}' is not allowed: allowed {', '.join(OUTCOMES)}")
    seeds = positive_int(path, "seeds", data.get("seeds", 1))
    return Spec(
        name=safe_name(path, data.get("name", path.stem)),
        base=override_list(path, "base", data.get("base", [])),
        seeds=seeds,
        outputs=list(outputs),
        names=list(params),
        bounds=list(params.values()),
        compare=compare,
    )


def _cast(key: str, value: float) -> Any:
    """Round values of integer parameters."""
    default = _DEFAULTS[key]
    return int(round(value)) if isinstance(default, int) and not isinstance(default, bool) else float(value)


def evaluate(base: Config, names: list[str], x: np.ndarray, seeds: int, outputs: list[str]) -> np.ndarray:
    """Outputs (averaged over seeds 1..seeds) for one parameter vector."""
    from sim.model import run_model

    cfg = replace(base, **{k: _cast(k, v) for k, v in zip(names, x, strict=True)})
    res = np.zeros(len(outputs))
    for seed in range(1, seeds + 1):
        o = run_model(replace(cfg, seed=seed)).outcomes()
        res += np.array([o[k] for k in outputs])
    return res / seeds


def _run_samples(base: Config, spec: Spec, X: np.ndarray, jobs: int, outputs: list[str] | None = None) -> np.ndarray:
    from analysis.progress import parallel

    outputs = outputs or spec.outputs
    rows = parallel(((evaluate, (base, spec.names, x, spec.seeds, outputs)) for x in X), len(X), jobs, "samples")
    return np.array(rows)


def _base(spec: Spec, extra: list[str] | None = None) -> Config:
    from analysis.experiment import compose

    return replace(compose(spec.base + (extra or [])), **{"output.plots": False})


def _out(spec: Spec, method: str, out: Path | None) -> Path:
    d = out or ROOT / "experiments" / "sensitivity" / "results" / spec.name / method
    d.mkdir(parents=True, exist_ok=True)
    return d


def _salib(
    spec: Spec, method: str, X: np.ndarray, analyze: Any, keys: tuple[str, ...], jobs: int, out: Path | None
) -> tuple[pd.DataFrame, Path]:
    """Run the samples, compute indices per output with ``analyze(Y_j)``, write samples and indices."""
    Y = _run_samples(_base(spec), spec, X, jobs)
    rows = []
    for j, o in enumerate(spec.outputs):
        r = analyze(Y[:, j])
        for i, name in enumerate(spec.names):
            rows.append({"output": o, "parameter": name, **{k: r[k][i] for k in keys}})
    table = pd.DataFrame(rows)
    d = _out(spec, method, out)
    samples = pd.DataFrame(X, columns=spec.names).assign(**{o: Y[:, j] for j, o in enumerate(spec.outputs)})
    samples.to_parquet(d / "samples.parquet")
    table.to_csv(d / "indices.csv", index=False)
    return table, d


def morris(
    spec: Spec, trajectories: int = 10, levels: int = 4, jobs: int = 2, out: Path | None = None, seed: int = 1
) -> pd.DataFrame:
    """Morris elementary-effects screening; returns mu*, sigma per parameter and output."""
    from SALib.analyze import morris as ma
    from SALib.sample import morris as ms

    problem = {"num_vars": len(spec.names), "names": spec.names, "bounds": spec.bounds}
    X = ms.sample(problem, trajectories, num_levels=levels, seed=seed)
    table, d = _salib(
        spec, "morris", X, lambda y: ma.analyze(problem, X, y, num_levels=levels, seed=seed),
        ("mu_star", "mu_star_conf", "sigma"), jobs, out,
    )  # fmt: skip
    _plot_morris(table, spec.outputs, d / "morris")
    return table


def sobol(spec: Spec, n: int = 64, jobs: int = 2, out: Path | None = None, seed: int = 1) -> pd.DataFrame:
    """Sobol first-order and total indices (Saltelli sampling, n * (2k + 2) runs)."""
    from SALib.analyze import sobol as sa
    from SALib.sample import sobol as ss

    problem = {"num_vars": len(spec.names), "names": spec.names, "bounds": spec.bounds}
    X = ss.sample(problem, n, calc_second_order=True, seed=seed)
    table, d = _salib(
        spec, "sobol", X, lambda y: sa.analyze(problem, y, calc_second_order=True, seed=seed),
        ("S1", "S1_conf", "ST", "ST_conf"), jobs, out,
    )  # fmt: skip
    _plot_sobol(table, spec.outputs, d / "sobol")
    return table


def prim(X: np.ndarray, y: np.ndarray, names: list[str], alpha: float = 0.05, min_support: float = 0.1) -> dict[str, Any]:
    """Patient Rule Induction Method (Friedman & Fisher 1999): peel a box with a high share of y == 1.

    Each step removes the ``alpha`` tail of one parameter that raises the
    density of ``y`` most, until the box holds fewer than ``min_support`` of
    the samples. Returns the box with the best density among those with
    coverage of at least half of the positives (or the last box).
    """
    inside = np.ones(len(y), bool)
    lo, hi = X.min(axis=0).astype(float), X.max(axis=0).astype(float)
    total_pos = max(int(y.sum()), 1)
    trajectory = []
    while inside.mean() > min_support:
        best = None
        for j in range(X.shape[1]):
            xj = X[inside, j]
            for side, q in (("lo", np.quantile(xj, alpha)), ("hi", np.quantile(xj, 1 - alpha))):
                keep = inside & ((X[:, j] >= q) if side == "lo" else (X[:, j] <= q))
                if keep.sum() == inside.sum() or keep.sum() == 0:
                    continue
                dens = y[keep].mean()
                if best is None or dens > best[0]:
                    best = (dens, j, side, q, keep)
        if best is None:
            break
        dens, j, side, q, keep = best
        inside = keep
        if side == "lo":
            lo[j] = q
        else:
            hi[j] = q
        box = {n: (float(lo[i]), float(hi[i])) for i, n in enumerate(names)}
        coverage = float(y[inside].sum() / total_pos)
        trajectory.append({"density": float(dens), "coverage": coverage, "support": float(inside.mean()), "box": box})
    good = [t for t in trajectory if t["coverage"] >= 0.5]
    chosen = max(good, key=lambda t: t["density"]) if good else (trajectory[-1] if trajectory else None)
    return {"base_density": float(y.mean()), "chosen": chosen, "trajectory": trajectory}


def discover(spec: Spec, samples: int = 200, jobs: int = 2, out: Path | None = None, seed: int = 1) -> dict[str, Any]:
    """Scenario discovery: find where in parameter space arm a beats arm b on the chosen outcome."""
    from scipy.stats import qmc

    if spec.compare is None:
        raise ConfigError("discover needs a 'compare' section (a, b, outcome) in the specification")
    c = spec.compare
    lows, highs = np.array(spec.bounds).T
    X = qmc.scale(qmc.LatinHypercube(d=len(spec.names), seed=seed).random(samples), lows, highs)
    ya = _run_samples(_base(spec, list(c["a"])), spec, X, jobs, [c["outcome"]])[:, 0]
    yb = _run_samples(_base(spec, list(c["b"])), spec, X, jobs, [c["outcome"]])[:, 0]
    wins = (ya > yb).astype(int)
    result = prim(X, wins, spec.names)
    d = _out(spec, "discovery", out)
    pd.DataFrame(X, columns=spec.names).assign(a=ya, b=yb, a_wins=wins).to_parquet(d / "samples.parquet")
    import json

    (d / "prim.json").write_text(json.dumps(result, indent=2))
    _plot_discovery(X, wins, spec.names, result, d / "discovery")
    return result


def _plot_morris(table: pd.DataFrame, outputs: list[str], path: Path) -> None:
    from analysis.sweep import _save, _setup

    plt = _setup()
    fig, axes = plt.subplots(1, len(outputs), figsize=(4 * len(outputs), 3.6), squeeze=False)
    for ax, o in zip(axes[0], outputs, strict=True):
        t = table[table["output"] == o]
        ax.scatter(t["mu_star"], t["sigma"], s=18)
        for r in t.itertuples():
            ax.annotate(r.parameter.split(".")[-1], (r.mu_star, r.sigma), fontsize=7)
        ax.set(title=o.replace("_", " "), xlabel="mu*", ylabel="sigma")
    _save(fig, path)


def _plot_sobol(table: pd.DataFrame, outputs: list[str], path: Path) -> None:
    from analysis.sweep import _save, _setup

    plt = _setup()
    fig, axes = plt.subplots(1, len(outputs), figsize=(4.2 * len(outputs), 3.6), squeeze=False)
    for ax, o in zip(axes[0], outputs, strict=True):
        t = table[table["output"] == o]
        x = np.arange(len(t))
        ax.bar(x - 0.2, t["S1"], 0.4, yerr=t["S1_conf"], label="first order")
        ax.bar(x + 0.2, t["ST"], 0.4, yerr=t["ST_conf"], label="total")
        ax.set_xticks(x, [p.split(".")[-1] for p in t["parameter"]], rotation=30, ha="right")
        ax.set_title(o.replace("_", " "))
    axes[0][0].legend(fontsize=7)
    _save(fig, path)


def _plot_discovery(X: np.ndarray, wins: np.ndarray, names: list[str], result: dict[str, Any], path: Path) -> None:
    from analysis.sweep import _save, _setup

    plt = _setup()
    box = (result.get("chosen") or {}).get("box", {})
    # the two parameters the box restricts most
    spans = {n: (b[1] - b[0]) / max(X[:, i].max() - X[:, i].min(), 1e-12) for i, (n, b) in enumerate(box.items())}
    pair = sorted(spans, key=spans.get)[:2] if len(spans) >= 2 else names[:2]
    i, j = names.index(pair[0]), names.index(pair[1])
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.scatter(X[wins == 1, i], X[wins == 1, j], s=10, label="a better", color="C2")
    ax.scatter(X[wins == 0, i], X[wins == 0, j], s=10, label="b better or equal", color="C3", alpha=0.6)
    if box:
        (x0, x1), (y0, y1) = box[pair[0]], box[pair[1]]
        ax.add_patch(plt.Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, lw=1.5, color="k"))
    ax.set(xlabel=pair[0], ylabel=pair[1], title="Scenario discovery (PRIM box)")
    ax.legend(fontsize=7)
    _save(fig, path)


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``sim-sensitivity``."""
    ap = argparse.ArgumentParser(prog="sim-sensitivity", description="Morris, Sobol and scenario discovery for the model.")
    ap.add_argument("method", choices=["morris", "sobol", "discover"])
    ap.add_argument("spec", help="specification YAML, e.g. experiments/sensitivity/default.yaml")
    ap.add_argument("--trajectories", type=int, default=10, help="Morris trajectories")
    ap.add_argument("--n", type=int, default=64, help="Sobol base sample size (power of 2)")
    ap.add_argument("--samples", type=int, default=200, help="scenario-discovery samples")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    try:
        spec = load_spec(args.spec)
        try:
            _base(spec)
            for arm in ("a", "b") if spec.compare else ():
                _base(spec, override_list(args.spec, f"compare.{arm}", spec.compare[arm]))
        except ConfigError as e:
            raise ConfigError(f"{args.spec}: {e}") from None
        for k in ("trajectories", "n", "samples"):
            if getattr(args, k) < 2:
                raise ConfigError(f"--{k}={getattr(args, k)}: allowed an integer of at least 2")
        if args.jobs < 1:
            raise ConfigError(f"--jobs={args.jobs}: allowed a positive integer (worker processes)")
        if args.method == "morris":
            print(morris(spec, args.trajectories, jobs=args.jobs, out=args.out).to_string(index=False))
        elif args.method == "sobol":
            print(sobol(spec, args.n, jobs=args.jobs, out=args.out).to_string(index=False))
        else:
            r = discover(spec, args.samples, jobs=args.jobs, out=args.out)
            print(yaml.safe_dump({"base_density": r["base_density"], "chosen": r["chosen"]}, sort_keys=False))
    except ConfigError as e:
        print(f"config error: {e}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
