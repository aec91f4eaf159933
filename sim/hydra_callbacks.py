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


def _count(sweep_dir: Path, name: str) -> int:
    return sum(1 for _ in sweep_dir.glob(f"*/{name}"))


class SweepProgress(Callback):
    """Logs progress after each job and lists failed jobs with their overrides at the end."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Remember when the sweep started."""
        os.environ.setdefault("SIM_SWEEP_T0", str(time.time()))
        FAILURES.clear()

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
            info = json.loads(f.read_text())
            info["dir"] = str(f.parent)
            FAILURES.append(info)
        if FAILURES:
            (sweep_dir / "failures.json").write_text(json.dumps(FAILURES, indent=2))
            for info in FAILURES:
                log.error("job failed: %s -> %s", " ".join(info["overrides"]), info["error"])
