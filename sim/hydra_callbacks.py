"""Hydra callbacks for sweeps: progress, and a summary of failed jobs."""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

log = logging.getLogger("sim.sweep")

FAILED = "FAILED.json"
FAILURES: list[dict[str, Any]] = []
"""Failed jobs of the last multirun in this process (read by ``sim.cli.main`` for the exit code)."""
REPORT: dict[str, bool] = {"written": True}
"""Whether the last multirun's ``failures.json`` could be written."""
UNRECORDED: list[dict[str, Any]] = []
"""Failed jobs whose ``FAILED.json`` could not be written (read-only folder, full disk): reported from memory."""


def record_failure(job_dir: Path, info: dict[str, Any]) -> None:
    """Record a failed job in ``job_dir/FAILED.json``, or in memory if that cannot be written."""
    log.error("job failed: %s -> %s", " ".join(info["overrides"]), info["error"])
    path = Path(job_dir) / FAILED
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(info, indent=2))
    except OSError as e:
        log.error("cannot write %s (%s): failure kept for the sweep's report", path, e.strerror)
        _remove(path)  # no half-written record
        UNRECORDED.append({**info, "dir": str(job_dir)})


def _remove(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass


def _count(sweep_dir: Path, name: str) -> int:
    return sum(1 for _ in sweep_dir.glob(f"*/{name}"))


class SweepProgress(Callback):
    """Logs progress after each job and lists failed jobs with their overrides at the end."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Remember when the sweep started."""
        os.environ.setdefault("SIM_SWEEP_T0", str(time.time()))
        FAILURES.clear()
        UNRECORDED.clear()

    def on_job_end(self, config: DictConfig, job_return: Any, **kwargs: Any) -> None:
        """Log jobs done / total with an estimate of the time left (multirun only)."""
        from hydra.core.hydra_config import HydraConfig
        from hydra.types import RunMode

        hc = HydraConfig.get()
        if hc.mode != RunMode.MULTIRUN:
            return
        sweep_dir = Path(hc.sweep.dir)
        done = _count(sweep_dir, "COMPLETED")
        failed = _count(sweep_dir, FAILED)
        total = int(os.environ.get("SIM_SWEEP_TOTAL", "0")) or None
        t0 = float(os.environ.get("SIM_SWEEP_T0", time.time()))
        elapsed = time.time() - t0
        if total:
            left = max(total - done - failed, 0)
            rate = elapsed / max(done + failed, 1)
            log.info(
                "sweep progress: %d/%d done, %d failed, %.0fs elapsed, ~%.0fs left", done, total, failed, elapsed, left * rate
            )
        else:
            log.info("sweep progress: %d done, %d failed, %.0fs elapsed", done, failed, elapsed)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """Collect FAILED.json files of the sweep and report each with its overrides."""
        sweep_dir = Path(config.hydra.sweep.dir)
        FAILURES.clear()
        for f in sorted(sweep_dir.glob(f"*/{FAILED}")):
            try:
                info = json.loads(f.read_text())
            except (OSError, ValueError) as e:  # e.g. cut short on a full disk
                info = {"overrides": [], "error": f"unreadable {FAILED}: {e}"}
            info["dir"] = str(f.parent)
            FAILURES.append(info)
        FAILURES.extend(UNRECORDED)
        REPORT["written"] = True
        if FAILURES:
            try:
                (sweep_dir / "failures.json").write_text(json.dumps(FAILURES, indent=2))
            except OSError as e:
                log.error("cannot write %s (%s)", sweep_dir / "failures.json", e.strerror)
                _remove(sweep_dir / "failures.json")
                REPORT["written"] = False
            for info in FAILURES:
                log.error("job failed: %s -> %s", " ".join(info["overrides"]), info["error"])
