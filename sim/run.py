"""Run one configured scenario and write its outputs (the ``run(cfg)`` of the CLI)."""

from __future__ import annotations

import functools
import json
import os
import platform
import resource
import secrets
import subprocess
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.params import Config, config_to_dict

if TYPE_CHECKING:  # the model (mesa, numba) is imported when a run starts: a sweep's driver never needs it
    import pandas as pd

    from sim.model import CrossSectorModel

PROJECT_ROOT = Path(__file__).resolve().parent.parent
COMPLETED = "COMPLETED"
"""Marker file written last; a run directory without it is incomplete."""

TABLES = ("timeseries", "flows", "accounts", "partnerships", "network")


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("mesa", "numpy", "pandas", "pyarrow", "networkx", "hydra-core", "matplotlib"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:  # pragma: no cover - all are dependencies
            out[pkg] = "missing"
    return out


@functools.lru_cache(maxsize=1)
def git_commit() -> str:
    """Current git commit of the project (with ``-dirty`` if modified), or ``unknown``."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=10
        ).stdout.strip()
        return sha + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Write ``path`` atomically: into a new temporary file of the same folder, then rename.

    The temporary file is created exclusively (``O_EXCL``, which never
    follows a symlink) under a random name, so an existing file or symlink is
    never written through; it is removed if writing fails.
    """
    while True:
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            break
        except FileExistsError:  # pragma: no cover - a random name taken
            continue
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    """Write a table atomically (temporary file, then rename)."""
    _atomic(path, lambda tmp: df.to_parquet(tmp, index=False, engine="pyarrow", compression="zstd"))


def write_json(obj: Any, path: Path) -> None:
    """Write JSON atomically."""
    text = json.dumps(obj, indent=2, sort_keys=True, default=str)
    _atomic(path, lambda tmp: tmp.write_text(text))


def run(cfg: Config, outdir: str | Path, overrides: list[str] | None = None) -> CrossSectorModel:
    """Run the model for ``cfg.steps`` months and write all outputs to ``outdir``.

    Writes ``timeseries.parquet``, ``flows.parquet`` (the flow ledger),
    ``accounts.parquet`` (account labels and final balances),
    ``partnerships.parquet`` (partnership log), ``network.parquet`` (active
    ties with trust at the end), ``manifest.json`` (config, seed, versions,
    git commit, outcomes, peak memory) and, if ``cfg.output.plots``, PNG
    plots in ``plots/``. Every file is written atomically; ``COMPLETED`` is
    written last.

    Args:
        cfg: Validated configuration.
        outdir: Output directory (created if missing).
        overrides: Command-line overrides, recorded in the manifest.

    Returns:
        The finished model.
    """
    from sim.model import CrossSectorModel

    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    (out / COMPLETED).unlink(missing_ok=True)
    t0 = time.perf_counter()
    model = CrossSectorModel(cfg)
    for _ in range(cfg.steps):
        model.step()
    wall = time.perf_counter() - t0
    write_parquet(model.timeseries(), out / "timeseries.parquet")
    write_parquet(model.flows(), out / "flows.parquet")
    write_parquet(model.account_table(), out / "accounts.parquet")
    write_parquet(model.partnership_log(), out / "partnerships.parquet")
    write_parquet(model.network_table(), out / "network.parquet")
    manifest = {
        "config": config_to_dict(cfg),
        "seed": cfg.seed,
        "overrides": list(overrides or []),
        "versions": _versions(),
        "git_commit": git_commit(),
        "random_streams": model.streams.names(),
        "steps": cfg.steps,
        "wall_seconds": round(wall, 3),
        "summary": model.summary(),
        "outcomes": model.outcomes(),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
    }
    write_json(manifest, out / "manifest.json")
    if cfg.output.plots:
        from sim.plots import plot_run  # reads the written tables; the model never imports plotting

        plot_run(out)
    (out / COMPLETED).write_text("ok\n")
    return model
