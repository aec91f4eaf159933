"""Collect a Hydra sweep into tidy tables, and plot it.

Command line::

    sim-analyze collect multirun/my_sweep            # -> sweep.parquet, outcomes.parquet in that folder
    sim-analyze plot multirun/my_sweep --by rc_model  # -> plots/ (png and svg) in that folder

Python::

    from analysis.sweep import collect, plot_sweep
    runs, outcomes = collect("multirun/my_sweep")
    plot_sweep("multirun/my_sweep", by=["rc_model"])

``sweep.parquet`` has one row per job and month (the time series) and
``outcomes.parquet`` one row per job (the end-of-run outcomes of
:mod:`sim.outcomes`, peak memory); both carry the job's command-line
overrides as columns (``seed``, ``rc_model``, ``trust.gossip`` ...). Only
complete jobs (``COMPLETED``) are read; failed ones are listed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.batch import is_dataset, read_plan, read_table
from sim.outcomes import MONEY, OUTCOMES
from sim.partnerships import FORMS

SECTOR_COLOURS = {
    "regional_government": "#08519c",
    "municipal_government": "#3182bd",
    "business": "#fd8d3c",
    "ngo": "#31a354",
    "management_company": "#969696",
    "resource_centre": "#756bb1",
}


def _parse_value(v: str) -> Any:
    for cast in (int, float):
        try:
            return cast(v)
        except ValueError:
            pass
    if v in ("true", "True"):
        return True
    if v in ("false", "False"):
        return False
    return v


def job_dirs(sweep_dir: str | Path) -> list[Path]:
    """Job directories of a sweep (those with a manifest or a failure record), in job order."""
    root = Path(sweep_dir)
    dirs = [p for p in root.iterdir() if p.is_dir() and ((p / "manifest.json").exists() or (p / "FAILED.json").exists())]

    def key(p: Path) -> tuple[int, str]:
        return (int(p.name), "") if p.name.isdigit() else (1 << 30, p.name)

    return sorted(dirs, key=key)


class SweepError(ValueError):
    """A file of a sweep cannot be read as a job written by ``sim-run``. The message is one line."""


def _read_job(d: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Time series and outcome row of one complete job; SweepError naming the file if it is damaged."""
    f = d / "manifest.json"
    try:
        man = json.loads(f.read_text(encoding="utf-8"))
        ovs = dict(o.split("=", 1) for o in man.get("overrides", []) if "=" in o and not o.startswith("hydra"))
        cols = {k.lstrip("+~"): _parse_value(v) for k, v in ovs.items()}
        cols.setdefault("seed", man["seed"])
        row = {"job": d.name, **cols, **man.get("outcomes", {}), "peak_rss_mb": man.get("peak_rss_mb")}
        f = d / "timeseries.parquet"
        ts = pd.read_parquet(f)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        msg = str(e).strip().splitlines()[0] if str(e).strip() else ""
        raise SweepError(
            f"{f}: cannot be read ({type(e).__name__}: {msg}): allowed a job written by sim-run "
            "(delete the job's folder and run the sweep again to redo it)"
        ) from None
    return ts.assign(job=d.name, **cols), row


def _read(root: Path) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    runs, rows, failed = [], [], []
    for d in job_dirs(root):
        if not (d / "COMPLETED").exists():
            failed.append(d.name)
            continue
        ts, row = _read_job(d)
        runs.append(ts)
        rows.append(row)
    if not rows:
        raise FileNotFoundError(f"no complete job in {root}")
    return pd.concat(runs, ignore_index=True), pd.DataFrame(rows), failed


def _write(root: Path, runs: pd.DataFrame, outcomes: pd.DataFrame, failed: list[str]) -> None:
    from sim.run import write_parquet

    write_parquet(runs, root / "sweep.parquet")
    write_parquet(outcomes, root / "outcomes.parquet")
    if failed:
        (root / "incomplete_jobs.txt").write_text("\n".join(failed) + "\n")


def collect(sweep_dir: str | Path, write: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read every complete job of a sweep into (time series, outcomes) tables with override columns.

    Args:
        sweep_dir: The sweep's ``hydra.sweep.dir``.
        write: Also write ``sweep.parquet`` and ``outcomes.parquet`` into it.

    Raises:
        FileNotFoundError: If the folder holds no complete job.
        SweepError: If a complete job's manifest or time series cannot be read (one line naming the file).
    """
    root = Path(sweep_dir)
    if is_dataset(root):
        return collect_dataset(root, write)
    runs_df, out_df, failed = _read(root)
    if write:
        _write(root, runs_df, out_df, failed)
    return runs_df, out_df


def override_table(jobs: list[list[str]], ids: list[int]) -> pd.DataFrame:
    """One row per job with its command-line overrides as columns (``seed``, ``rc_model`` ...)."""
    rows = []
    for j in ids:
        ovs = dict(o.split("=", 1) for o in jobs[j] if "=" in o and not o.lstrip("+~").startswith("hydra"))
        rows.append({"job": j, **{k.lstrip("+~"): _parse_value(v) for k, v in ovs.items()}})
    return pd.DataFrame(rows)


def collect_dataset(sweep_dir: str | Path, write: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read a dataset sweep (``hydra.sweeper.layout=dataset``) into (time series, outcomes) tables.

    Same columns as :func:`collect` of a folder-per-run sweep: the tables'
    columns, ``job`` and the override columns (``seed`` always).
    """
    root = Path(sweep_dir)
    plan = read_plan(root)
    meta = read_table(root, "runs", columns=["job", "seed", "peak_rss_mb"])
    if meta.empty:
        raise FileNotFoundError(f"no complete job in {root}")
    ovs = override_table(plan.jobs, meta["job"].tolist())
    if "seed" not in ovs:
        ovs["seed"] = meta["seed"].to_numpy()
    runs_df = read_table(root, "timeseries").merge(ovs, on="job", how="left", sort=False)
    outcomes = read_table(root, "outcomes") if "outcomes" in plan.tables else meta[["job"]]
    out_df = ovs.merge(outcomes, on="job").merge(meta[["job", "peak_rss_mb"]], on="job")
    if write:
        runs_df.to_parquet(root / "sweep.parquet", index=False)
        out_df.to_parquet(root / "outcomes.parquet", index=False)
        missing = sorted(set(range(len(plan.jobs))) - set(meta["job"]))
        inc = root / "incomplete_jobs.txt"
        if missing:
            inc.write_text("\n".join(map(str, missing)) + "\n")
        else:
            inc.unlink(missing_ok=True)
    return runs_df, out_df


def _read_tables(root: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The collected tables of a sweep; SweepError naming the file if one is damaged."""
    out = []
    for name in ("sweep.parquet", "outcomes.parquet"):
        try:
            out.append(pd.read_parquet(root / name))
        except (OSError, ValueError) as e:
            msg = str(e).strip().splitlines()[0] if str(e).strip() else ""
            raise SweepError(
                f"{root / name}: cannot be read ({type(e).__name__}: {msg}): allowed a table written by sim-analyze "
                "collect (run it again)"
            ) from None
    return out[0], out[1]


def override_columns(outcomes: pd.DataFrame) -> list[str]:
    """Columns of a collected outcomes table that came from overrides."""
    known = set(OUTCOMES) | {"job", "peak_rss_mb"}
    return [c for c in outcomes.columns if c not in known]


def _arm(df: pd.DataFrame, by: list[str]) -> pd.Series:
    if not by:
        return pd.Series("all", index=df.index)
    return df[by].astype(str).agg(", ".join, axis=1)


def _band(g: pd.core.groupby.SeriesGroupBy) -> tuple[pd.Series, pd.Series, pd.Series]:
    from scipy import stats

    m, s, n = g.mean(), g.std(ddof=1).fillna(0.0), g.count()
    h = stats.t.ppf(0.975, np.maximum(n - 1, 1)) * s / np.sqrt(n)
    return m, m - h, m + h


def _setup() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"figure.dpi": 120, "axes.spines.top": False, "axes.spines.right": False, "font.size": 9})
    return plt


def _save(fig: Any, path: Path) -> list[Path]:
    fig.tight_layout()
    fig.savefig(path.with_suffix(".png"), dpi=150)
    fig.savefig(path.with_suffix(".svg"))
    import matplotlib.pyplot as plt

    plt.close(fig)
    return [path.with_suffix(".png"), path.with_suffix(".svg")]


def plot_curves(runs: pd.DataFrame, by: list[str], path: Path, columns: tuple[str, ...] | None = None) -> list[Path]:
    """Outcome curves per arm with 95% bands across seeds."""
    plt = _setup()
    columns = columns or ("wellbeing_mean", "reached_in_difficulty", "share_crisis", "ngos_alive")
    arm = _arm(runs, by)
    fig, axes = plt.subplots(1, len(columns), figsize=(3.6 * len(columns), 3.2), squeeze=False)
    for ax, col in zip(axes[0], columns, strict=True):
        for k, (name, part) in enumerate(runs.groupby(arm, sort=True)):
            m, lo, hi = _band(part.groupby("step")[col])
            ax.plot(m.index, m.values, lw=1.4, label=name, color=f"C{k % 10}")
            ax.fill_between(m.index, lo.values, hi.values, alpha=0.2, color=f"C{k % 10}", lw=0)
        ax.set(title=col.replace("_", " "), xlabel="month")
    axes[0][0].legend(fontsize=7, title=", ".join(by) if by else None)
    return _save(fig, path)


def plot_final(outcomes: pd.DataFrame, by: list[str], path: Path, keys: tuple[str, ...] | None = None) -> list[Path]:
    """Final outcomes per arm: mean and 95% CI, with the seeds as dots."""
    plt = _setup()
    keys = keys or ("wellbeing", "reached_in_difficulty", "ngo_survival", "ngo_income_cv")
    arm = _arm(outcomes, by)
    names = sorted(arm.unique())
    fig, axes = plt.subplots(1, len(keys), figsize=(3.4 * len(keys), 3.4), squeeze=False)
    rng = np.random.default_rng(0)
    for ax, key in zip(axes[0], keys, strict=True):
        for k, name in enumerate(names):
            v = outcomes.loc[arm == name, key].dropna()
            if v.empty:  # e.g. income stability needs 12 months of a run
                continue
            m, lo, hi = _band(v.groupby(np.zeros(len(v))))
            ax.scatter(k + rng.uniform(-0.15, 0.15, len(v)), v, s=6, alpha=0.4, color=f"C{k % 10}")
            ax.errorbar(k, m.iloc[0], yerr=[[m.iloc[0] - lo.iloc[0]], [hi.iloc[0] - m.iloc[0]]], fmt="o", color="k", capsize=3)
        ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
        ax.set_title(key.replace("_", " "))
    return _save(fig, path)


def plot_money(runs: pd.DataFrame, by: list[str], path: Path) -> list[Path]:
    """Money by channel over time, stacked, one panel per arm (mean over seeds), mln roubles per year."""
    plt = _setup()
    arm = _arm(runs, by)
    names = sorted(arm.unique())
    fig, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 3.4), squeeze=False, sharey=True)
    for ax, name in zip(axes[0], names, strict=True):
        part = runs[arm == name]
        year = (part["step"] - 1) // 12 + 1
        data = {k: sum(part[f"flow_{c}"] for c in chans) for k, chans in MONEY.items()}
        frame = pd.DataFrame(data).assign(year=year, job=part["job"]).query("year >= 1")
        per = frame.groupby(["year", "job"]).sum().groupby("year").mean() / 1e6
        ax.stackplot(per.index, per.T.values, labels=[k.removeprefix("money_") for k in per.columns], alpha=0.85)
        ax.set(title=name, xlabel="year")
    axes[0][0].set_ylabel("mln roubles / year")
    axes[0][-1].legend(fontsize=7, bbox_to_anchor=(1.01, 1), loc="upper left")
    return _save(fig, path)


def plot_partnerships(runs: pd.DataFrame, by: list[str], path: Path) -> list[Path]:
    """Active partnerships by form over time, per arm (mean over seeds)."""
    plt = _setup()
    arm = _arm(runs, by)
    names = sorted(arm.unique())
    fig, axes = plt.subplots(1, len(FORMS), figsize=(3.6 * len(FORMS), 3.2), squeeze=False, sharey=False)
    for ax, form in zip(axes[0], FORMS, strict=True):
        for k, name in enumerate(names):
            m, lo, hi = _band(runs[arm == name].groupby("step")[f"partnerships_{form}"])
            ax.plot(m.index, m.values, color=f"C{k % 10}", lw=1.3, label=name)
            ax.fill_between(m.index, lo.values, hi.values, color=f"C{k % 10}", alpha=0.2, lw=0)
        ax.set(title=form.replace("_", "-"), xlabel="month")
    axes[0][0].legend(fontsize=7)
    return _save(fig, path)


def plot_network(run_dir: str | Path | pd.DataFrame, path: Path, max_edges: int = 4000) -> list[Path]:
    """Trust-network snapshot of one run (its folder or its network table): sectors coloured, edge width by trust."""
    import networkx as nx

    plt = _setup()
    net = run_dir if isinstance(run_dir, pd.DataFrame) else pd.read_parquet(Path(run_dir) / "network.parquet")
    if len(net) > max_edges:
        net = net.sample(max_edges, random_state=0)
    g = nx.Graph()
    sector: dict[int, str] = {}
    for r in net.itertuples(index=False):
        g.add_edge(int(r.src), int(r.dst), trust=float(r.trust))
        sector[int(r.src)] = str(r.src_sector)
        sector[int(r.dst)] = str(r.dst_sector)
    pos = nx.spring_layout(g, seed=1, iterations=60)
    fig, ax = plt.subplots(figsize=(7, 6))
    widths = [0.2 + 2.0 * d["trust"] ** 2 for _, _, d in g.edges(data=True)]
    nx.draw_networkx_edges(g, pos, ax=ax, width=widths, alpha=0.25, edge_color="#555555")
    for sec, colour in SECTOR_COLOURS.items():
        nodes = [n for n in g.nodes if sector.get(n) == sec]
        if nodes:
            nx.draw_networkx_nodes(g, pos, nodelist=nodes, node_color=colour, node_size=18, ax=ax, label=sec.replace("_", " "))
    ax.legend(fontsize=7, loc="lower left")
    ax.set_axis_off()
    ax.set_title("Trust network at the end (edge width ~ trust)")
    return _save(fig, path)


def _stale(root: Path) -> bool:
    """Whether a dataset sweep has parts newer than its collected tables."""
    runs = root / "data" / "runs"
    if not runs.is_dir():
        return False
    newest = max((f.stat().st_mtime for f in runs.glob("part-*.parquet")), default=0.0)
    return newest > (root / "sweep.parquet").stat().st_mtime


def plot_sweep(sweep_dir: str | Path, by: list[str] | None = None, out: str | Path | None = None) -> list[Path]:
    """All standard plots of a sweep into ``out`` (default ``<sweep>/plots``); collects first if needed."""
    root = Path(sweep_dir)
    if (root / "sweep.parquet").exists() and (root / "outcomes.parquet").exists() and not _stale(root):
        runs, outcomes = _read_tables(root)
    else:
        runs, outcomes = collect(root)
    if by is None:
        by = [c for c in override_columns(outcomes) if c != "seed" and outcomes[c].nunique() > 1]
    out_dir = Path(out) if out else root / "plots"
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    written += plot_curves(runs, by, out_dir / "curves")
    written += plot_final(outcomes, by, out_dir / "final_outcomes")
    written += plot_money(runs, by, out_dir / "money_by_channel")
    written += plot_partnerships(runs, by, out_dir / "partnerships_by_form")
    first = root / str(outcomes["job"].iloc[0])
    if (first / "network.parquet").exists():
        written += plot_network(first, out_dir / "trust_network")
    elif is_dataset(root) and (root / "data" / "network").is_dir():  # needs hydra.sweeper.tables=[...,network]
        net = read_table(root, "network")
        written += plot_network(net[net["job"] == net["job"].iloc[0]].drop(columns="job"), out_dir / "trust_network")
    return written


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``sim-analyze``."""
    ap = argparse.ArgumentParser(prog="sim-analyze", description="Collect and plot Hydra sweeps of the model.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("collect", help="collect a sweep into sweep.parquet and outcomes.parquet")
    c.add_argument("sweep_dir")
    p = sub.add_parser("plot", help="plot a sweep (collects it first if needed)")
    p.add_argument("sweep_dir")
    p.add_argument("--by", nargs="*", default=None, help="override columns that define the arms (default: all that vary)")
    p.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    root = Path(args.sweep_dir)
    if not root.is_dir():
        print(f"error: sweep_dir '{root}' is not a folder", file=sys.stderr)
        raise SystemExit(2)
    try:
        if args.cmd == "collect":
            runs, outcomes = collect(root)
            print(f"{len(outcomes)} jobs, {len(runs)} rows -> {root / 'sweep.parquet'}, {root / 'outcomes.parquet'}")
        else:
            collected = (root / "sweep.parquet").exists() and (root / "outcomes.parquet").exists()
            runs, outcomes, failed = (*_read_tables(root), []) if collected else _read(root)
            if args.by:  # check --by before anything is written
                bad = [b for b in args.by if b not in override_columns(outcomes)]
                if bad:
                    allowed = ", ".join(override_columns(outcomes)) or "(none: the sweep varies nothing)"
                    print(f"error: --by '{bad[0]}' is not an override of this sweep: allowed {allowed}", file=sys.stderr)
                    raise SystemExit(2)
            if not collected:
                _write(root, runs, outcomes, failed)
            for f in plot_sweep(root, args.by, args.out):
                print(f)
    except (FileNotFoundError, SweepError) as e:
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
