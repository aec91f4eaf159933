"""Outcome plots of one run, read from its output directory."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

SECTOR_COLOURS = {"gov": "#1f77b4", "business": "#ff7f0e", "ngo": "#2ca02c"}
FORMS = ("gov_business", "business_ngo", "gov_ngo", "trilateral")


def _save(fig: plt.Figure, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_run(outdir: str | Path) -> list[Path]:
    """Write the standard outcome plots of a run into ``outdir/plots``.

    Args:
        outdir: A run directory with ``timeseries.parquet`` and ``flows.parquet``.

    Returns:
        Paths of the written PNG files.
    """
    out = Path(outdir)
    ts = pd.read_parquet(out / "timeseries.parquet")
    flows = pd.read_parquet(out / "flows.parquet")
    pdir = out / "plots"
    pdir.mkdir(exist_ok=True)
    written = []

    fig, ax = plt.subplots(1, 2, figsize=(10, 3.8))
    ax[0].plot(ts["step"], ts["wellbeing_mean"], color="k")
    ax[0].set(title="Family wellbeing (mean)", xlabel="month", ylabel="index 0..1")
    ax[1].stackplot(
        ts["step"],
        ts["share_ordinary"],
        ts["share_at_risk"],
        ts["share_difficult"],
        ts["share_crisis"],
        labels=["ordinary", "at risk", "difficult situation", "crisis"],
        colors=["#c7e9c0", "#fdd0a2", "#fc8d59", "#d7301f"],
    )
    ax[1].plot(ts["step"], ts["reached_in_difficulty"], color="k", lw=1.5, label="reached (of families in difficulty)")
    ax[1].set(title="Families by state", xlabel="month", ylabel="share", ylim=(0, 1))
    ax[1].legend(fontsize=7, loc="lower left")
    p = pdir / "families.png"
    _save(fig, p)
    written.append(p)

    fig, ax = plt.subplots(figsize=(8, 4))
    skip = {"opening_balance", "budget_regional", "budget_municipal", "business_profit"}
    f = flows[~flows["channel"].astype(str).isin(skip)]
    f = f.assign(year=f["step"].sub(1).floordiv(12) + 1)
    pivot = f.pivot_table(index="year", columns="channel", values="amount", aggfunc="sum", observed=True).fillna(0) / 1e6
    pivot = pivot.loc[:, pivot.sum() > 0]
    pivot.plot(kind="bar", stacked=True, ax=ax, width=0.8, colormap="tab20")
    ax.set(title="Money by channel", xlabel="year", ylabel="mln roubles")
    ax.legend(fontsize=6, ncol=2, bbox_to_anchor=(1.01, 1), loc="upper left")
    p = pdir / "money_by_channel.png"
    _save(fig, p)
    written.append(p)

    fig, ax = plt.subplots(1, 2, figsize=(10, 3.8))
    for form in FORMS:
        ax[0].plot(ts["step"], ts[f"partnerships_{form}"], label=form.replace("_", "-"))
    ax[0].set(title="Active partnerships by form", xlabel="month", ylabel="count")
    ax[0].legend(fontsize=7)
    for a in ("gov", "business", "ngo"):
        for b in ("gov", "business", "ngo"):
            if a != b:
                ax[1].plot(
                    ts["step"],
                    ts[f"trust_{a}_{b}"],
                    label=f"{a}->{b}",
                    color=SECTOR_COLOURS[a],
                    ls="-" if b == "ngo" or (a == "ngo" and b == "gov") else "--",
                )
    ax[1].set(title="Mean personal trust by sector pair", xlabel="month", ylabel="trust 0..1", ylim=(0, 1))
    ax[1].legend(fontsize=7, ncol=2)
    p = pdir / "partnerships_trust.png"
    _save(fig, p)
    written.append(p)

    fig, ax = plt.subplots(figsize=(6, 3.8))
    ax.plot(ts["step"], ts["ngos_alive"], label="NGOs alive")
    ax.plot(ts["step"], ts["ngos_experienced"], label="with project experience")
    ax.plot(ts["step"], ts["ngos_registered"], label="in providers' register")
    ax.set(title="NGO sector", xlabel="month", ylabel="count")
    ax.legend(fontsize=8)
    p = pdir / "ngos.png"
    _save(fig, p)
    written.append(p)
    return written
