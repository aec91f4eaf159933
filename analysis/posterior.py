"""Carry calibration uncertainty into policy comparisons: experiments over posterior draws.

``sim-experiment FILE --posterior experiments/calibration/results/volgograd_2021/posterior.parquet --draws K``
draws ``K`` parameter sets from the saved ABC posterior (by weight, seeded),
and runs every arm of the experiment for every draw over the same seeds
(common random numbers across arms and draws). A draw sets the calibrated
parameters of every arm, except a parameter an arm itself changes (the arm's
lever wins: an arm that doubles the grant budget keeps its doubled budget).

Two sources of uncertainty are then reported apart:

* **seeds** — the model's own randomness at fixed parameters: the 95%
  t-interval of the mean over seeds, averaged over draws (``seed_low``,
  ``seed_high``), and ``sd_seed``, the standard error of a draw's mean;
* **calibration** — what the survey leaves open about the parameters: the
  2.5-97.5% range over draws of each draw's mean over seeds (``cal_low``,
  ``cal_high``) and ``sd_calibration``, their standard deviation.

The **ranking-robustness table** says, for every outcome and every pair of
arms ordered by their pooled means, in what share of draws the order holds
(``share_holds``) and in what share it holds with a paired t-test over the
seeds at 5% (``share_significant``); the full ranking's share is given per
outcome. An ordering that holds in fewer than 90% of the draws is marked as
not surviving the calibration uncertainty (a reporting convention, stated in
every table).

Outputs beside the usual ones: ``draws.parquet`` (the parameter sets),
``outcomes.parquet`` (one row per draw, arm and seed), ``comparison.csv`` /
``.md`` (both bands), ``robustness.csv`` / ``.md`` / ``.png``, ``curves.png``
(inner band seeds, outer band calibration).
"""

from __future__ import annotations

from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim.outcomes import OUTCOMES
from sim.params import Config, ConfigError, iter_parameters, replace

SURVIVES = 0.9  # share of draws an ordering must hold in to "survive" (reporting convention)


def load_posterior(path: str | Path) -> pd.DataFrame:
    """Read a saved posterior (parquet: parameter columns, ``weight``, optional ``distance``) and check it.

    Raises:
        ConfigError: One line: unreadable file, a column that is not a model parameter, or bad weights.
    """
    try:
        post = pd.read_parquet(path)
    except Exception as e:  # noqa: BLE001 (pyarrow raises several kinds)
        raise ConfigError(f"--posterior={path}: cannot read: {str(e).splitlines()[0]}: allowed a posterior.parquet") from None
    known = {n for n, _d, _m in iter_parameters()}
    params = [c for c in post.columns if c not in ("weight", "distance")]
    bad = [c for c in params if c not in known]
    if bad or not params or len(post) == 0:
        what = f"column {bad[0]!r} is not a model parameter" if bad else "no parameters or no particles"
        raise ConfigError(f"--posterior={path}: {what}: allowed parameter columns and weight")
    if "weight" in post and (not np.isfinite(post["weight"]).all() or (post["weight"] < 0).any() or post["weight"].sum() <= 0):
        raise ConfigError(f"--posterior={path}: weight: allowed non-negative weights with a positive sum")
    return post


def draw_posterior(post: pd.DataFrame, k: int, seed: int = 1) -> list[dict[str, float]]:
    """``k`` parameter sets drawn from a posterior by weight (with replacement, seeded)."""
    params = [c for c in post.columns if c not in ("weight", "distance")]
    w = post["weight"].to_numpy(float) if "weight" in post else np.ones(len(post))
    idx = np.random.default_rng(seed).choice(len(post), size=k, replace=True, p=w / w.sum())
    return [{c: float(post[c].iloc[i]) for c in params} for i in idx]


def _get(cfg: Config, key: str) -> Any:
    node: Any = cfg
    for part in key.split("."):
        node = getattr(node, part)
    return node


def apply_draw(arm_cfg: Config, base_cfg: Config, draw: dict[str, float]) -> Config:
    """An arm's config with a posterior draw, leaving alone every parameter the arm itself changes.

    Raises:
        ConfigError: A drawn value the model rejects (one line naming the key).
    """
    ints = {n for n, d, _m in iter_parameters() if isinstance(d, int) and not isinstance(d, bool)}
    changes = {}
    for k, v in draw.items():
        if _get(arm_cfg, k) == _get(base_cfg, k):  # the arm does not set this lever
            changes[k] = int(round(v)) if k in ints else float(v)
    return replace(arm_cfg, **changes) if changes else arm_cfg


def _job(draw: int, arm: str, cfg: Config, seed: int) -> tuple[int, str, int, pd.DataFrame, dict[str, Any]]:
    from analysis.experiment import run_one

    ts, out = run_one(cfg, seed)
    return draw, arm, seed, ts, out


def run_posterior_experiment(exp: Any, posterior: str | Path, draws: int, seeds: int | None = None, jobs: int = 2,
                             out: Path | None = None, draw_seed: int = 1) -> pd.DataFrame:  # fmt: skip
    """Run every arm for every posterior draw over the same seeds; write both bands and the robustness table.

    Returns:
        The comparison table (one row per outcome and arm).
    """
    from analysis.experiment import ROOT, arm_configs
    from analysis.progress import parallel
    from sim.cli import compose

    post = load_posterior(posterior)
    sets = draw_posterior(post, draws, draw_seed)
    cfgs = arm_configs(exp)
    base_cfg = replace(compose(exp.base), **{"steps": exp.steps, "output.plots": False})
    arms = list(exp.arms)
    n = seeds or exp.seeds
    per_draw = [{arm: apply_draw(cfgs[arm], base_cfg, d) for arm in arms} for d in sets]
    out = out or ROOT / "experiments" / exp.name / "results_posterior"
    calls = ((_job, (k, arm, per_draw[k][arm], s)) for k in range(draws) for arm in arms for s in range(1, n + 1))
    results = parallel(calls, draws * len(arms) * n, jobs, f"{exp.name} x posterior")
    out.mkdir(parents=True, exist_ok=True)
    runs = pd.concat([ts.assign(draw=k, arm=arm, seed=s) for k, arm, s, ts, _ in results], ignore_index=True)
    outcomes = pd.DataFrame([{"draw": k, "arm": arm, "seed": s, **o} for k, arm, s, _, o in results])
    pd.DataFrame(sets).assign(draw=range(draws)).to_parquet(out / "draws.parquet", index=False)
    outcomes.to_parquet(out / "outcomes.parquet", index=False)
    runs.to_parquet(out / "runs.parquet", index=False)
    table = two_band_table(outcomes, arms)
    rob = robustness_table(outcomes, arms)
    table.to_csv(out / "comparison.csv", index=False)
    rob.to_csv(out / "robustness.csv", index=False)
    head = f"# {exp.name}: {draws} posterior draws x {n} seeds, {exp.steps} months (posterior {posterior})\n\n"
    (out / "comparison.md").write_text(head + two_band_markdown(table, arms))
    (out / "robustness.md").write_text(head + robustness_markdown(rob))
    plot_two_band_curves(runs, arms, out / "curves.png")
    plot_robustness(rob, out / "robustness.png")
    return table


def two_band_table(outcomes: pd.DataFrame, arms: list[str]) -> pd.DataFrame:
    """Per outcome and arm: pooled mean, seed band, calibration band and the two standard deviations."""
    rows = []
    for key in OUTCOMES:
        if key not in outcomes:
            continue
        for arm in arms:
            sub = outcomes[outcomes["arm"] == arm]
            g = sub.groupby("draw")[key]
            means, sds, ns = g.mean(), g.std(ddof=1).fillna(0.0), g.count()
            half = stats.t.ppf(0.975, np.maximum(ns - 1, 1)) * sds / np.sqrt(ns)
            m = float(sub[key].mean())
            rows.append({"outcome": key, "arm": arm, "mean": m, "seed_low": m - float(half.mean()),
                         "seed_high": m + float(half.mean()), "cal_low": float(np.percentile(means, 2.5)),
                         "cal_high": float(np.percentile(means, 97.5)), "sd_seed": float((sds / np.sqrt(ns)).mean()),
                         "sd_calibration": float(means.std(ddof=1)) if len(means) > 1 else 0.0,
                         "draws": int(len(means)), "seeds": int(ns.max())})  # fmt: skip
    return pd.DataFrame(rows)


def two_band_markdown(table: pd.DataFrame, arms: list[str]) -> str:
    """Outcomes as rows, arms as columns: ``mean [seed band] {calibration band}``."""

    def fmt(x: float) -> str:
        return "nan" if not np.isfinite(x) else (f"{x:.3f}" if abs(x) < 100 else f"{x:.0f}")

    head = "| outcome | " + " | ".join(arms) + " |\n|---|" + "---|" * len(arms) + "\n"
    lines = []
    for key in table["outcome"].unique():
        cells = []
        for arm in arms:
            r = table[(table["outcome"] == key) & (table["arm"] == arm)].iloc[0]
            cells.append(
                f"{fmt(r['mean'])} [{fmt(r['seed_low'])}, {fmt(r['seed_high'])}] {{{fmt(r['cal_low'])}, {fmt(r['cal_high'])}}}"
            )
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    note = ("\nmean [95% interval from seeds at fixed parameters] {2.5-97.5% range over posterior draws of the mean over "
            "seeds: calibration uncertainty}\n")  # fmt: skip
    return head + "\n".join(lines) + "\n" + note


TIED = "equal in every run"
"""The ``full_ranking`` of an outcome that every arm leaves exactly equal in every draw and seed (no ordering to test)."""


def robustness_table(outcomes: pd.DataFrame, arms: list[str], alpha: float = 0.05) -> pd.DataFrame:
    """Per outcome and pair of arms (ordered by pooled mean): the share of draws in which the order holds.

    Returns:
        Columns ``outcome, higher, lower, pooled_diff, share_holds, share_significant, full_ranking,
        share_full_ranking, survives``.
    """
    rows = []
    for key in OUTCOMES:
        if key not in outcomes:
            continue
        per = outcomes.pivot_table(index=["draw", "seed"], columns="arm", values=key)
        if per.shape[1] > 1 and bool((per.max(axis=1) == per.min(axis=1)).all()):  # no arm moves it (e.g. a mechanism off)
            rows.append({"outcome": key, "higher": "", "lower": "", "pooled_diff": 0.0, "share_holds": float("nan"),
                         "share_significant": float("nan"), "full_ranking": TIED, "share_full_ranking": float("nan"),
                         "survives": False})  # fmt: skip
            continue
        dmeans = per.groupby(level="draw").mean()
        pooled = per.mean().reindex(arms)
        order = list(pooled.sort_values(ascending=False, kind="stable").index)
        # the full ranking holds in a draw when every neighbouring pair is strictly in the pooled order (ties do not hold)
        strict = np.ones(len(dmeans), bool)
        for a, b in zip(order[:-1], order[1:], strict=True):
            strict &= (dmeans[a] > dmeans[b]).to_numpy()
        share_full = float(strict.mean()) if strict.size else 0.0
        for a, b in combinations(order, 2):
            holds = (dmeans[a] > dmeans[b]).to_numpy()
            sig = []
            for _d, grp in per.groupby(level="draw"):
                diff = (grp[a] - grp[b]).to_numpy()
                if diff.size > 1 and diff.std(ddof=1) > 0:
                    sig.append(diff.mean() > 0 and stats.ttest_1samp(diff, 0.0).pvalue < alpha)
                else:
                    sig.append(bool(diff.size and diff.mean() > 0 and diff.size > 1))
            share = float(holds.mean())
            rows.append({"outcome": key, "higher": a, "lower": b, "pooled_diff": float(pooled[a] - pooled[b]),
                         "share_holds": share, "share_significant": float(np.mean(sig)),
                         "full_ranking": " > ".join(order), "share_full_ranking": share_full,
                         "survives": share >= SURVIVES})  # fmt: skip
    return pd.DataFrame(rows)


def robustness_markdown(rob: pd.DataFrame) -> str:
    """The ranking-robustness table as markdown."""
    lines = [
        f"Ranking robustness: share of posterior draws in which an ordering by value holds (survives: >= {SURVIVES:.0%}; "
        "significant: paired t-test over the seeds at 5% within the draw). Higher value first; for outcomes where lower "
        "is better read the order reversed.\n",
        "| outcome | full ranking | share of draws | pair | pooled diff | holds | holds significantly | survives |",
        "|---|---|---|---|---|---|---|---|",
    ]
    tied = rob.loc[rob["full_ranking"] == TIED, "outcome"].tolist() if not rob.empty else []
    for r in rob.itertuples():
        if r.full_ranking == TIED:
            continue
        lines.append(f"| {r.outcome} | {r.full_ranking} | {r.share_full_ranking:.2f} | {r.higher} > {r.lower} | "
                     f"{r.pooled_diff:.4g} | "
                     f"{r.share_holds:.2f} | {r.share_significant:.2f} | {'yes' if r.survives else '**no**'} |")  # fmt: skip
    if tied:
        lines.append(f"\nEqual in every run under every arm (no ordering to test): {', '.join(tied)}.")
    return "\n".join(lines) + "\n"


def plot_two_band_curves(runs: pd.DataFrame, arms: list[str], path: Path) -> None:
    """Outcome curves per arm: mean line, seed band (dark) and calibration band (light)."""
    from analysis.experiment import CURVES
    from analysis.sweep import _save, _setup

    plt = _setup()
    fig, axes = plt.subplots(2, 2, figsize=(11, 7), sharex=True)
    colours = plt.get_cmap("tab10")
    for ax, col in zip(axes.ravel(), CURVES, strict=True):
        for k, arm in enumerate(arms):
            sub = runs[runs["arm"] == arm]
            g = sub.groupby(["step", "draw"])[col]
            dm = g.mean().unstack("draw")
            sd = g.std(ddof=1).unstack("draw").fillna(0.0)
            nn = g.count().unstack("draw")
            half = (stats.t.ppf(0.975, np.maximum(nn - 1, 1)) * sd / np.sqrt(nn)).mean(axis=1)
            m = sub.groupby("step")[col].mean()
            c = colours(k % 10)
            ax.fill_between(m.index, dm.quantile(0.025, axis=1), dm.quantile(0.975, axis=1), color=c, alpha=0.15, lw=0)
            ax.fill_between(m.index, m - half, m + half, color=c, alpha=0.4, lw=0)
            ax.plot(m.index, m.values, color=c, lw=1.5, label=arm)
        ax.set_title(col.replace("_", " "))
        ax.set_xlabel("month")
    axes[0, 0].legend(fontsize=7, title="dark: seeds, light: calibration", title_fontsize=7)
    _save(fig, path)


def plot_robustness(rob: pd.DataFrame, path: Path) -> None:
    """Heat map of the share of draws in which each ordering holds (outcomes x pairs)."""
    from analysis.sweep import _save, _setup

    plt = _setup()
    rob = rob[rob["full_ranking"] != TIED] if not rob.empty else rob
    if rob.empty:
        return
    rob = rob.assign(pair=rob["higher"] + " > " + rob["lower"])
    # one column per unordered pair; the cell is the share for the pooled order, labelled with it
    rob = rob.assign(key=[" | ".join(sorted((h, lo))) for h, lo in zip(rob["higher"], rob["lower"], strict=True)])
    mat = rob.pivot_table(index="outcome", columns="key", values="share_holds", aggfunc="first")
    lab = rob.pivot_table(index="outcome", columns="key", values="pair", aggfunc="first")
    fig, ax = plt.subplots(figsize=(1.6 * mat.shape[1] + 3, 0.28 * mat.shape[0] + 1.5))
    im = ax.imshow(mat.to_numpy(), vmin=0.5, vmax=1.0, cmap="RdYlGn", aspect="auto")
    for i in range(mat.shape[0]):
        for j in range(mat.shape[1]):
            v = mat.iloc[i, j]
            if np.isfinite(v):
                ax.text(j, i, f"{lab.iloc[i, j]}\n{v:.2f}", ha="center", va="center", fontsize=5)
    ax.set_yticks(range(mat.shape[0]), mat.index, fontsize=6)
    ax.set_xticks(range(mat.shape[1]), mat.columns, fontsize=6, rotation=20, ha="right")
    fig.colorbar(im, ax=ax, label="share of posterior draws in which the order holds")
    ax.set_title(f"Ranking robustness to calibration uncertainty (survives: >= {SURVIVES:.0%})", fontsize=8)
    _save(fig, path)
