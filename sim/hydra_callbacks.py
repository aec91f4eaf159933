"""Hydra callbacks for sweeps: progress, and a summary of failed jobs."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from sim.run import write_json

log = logging.getLogger("sim.sweep")

FAILED = "FAILED.json"
FAILURES: list[dict[str, Any]] = []
"""Failed jobs of the last multirun in this process (read by ``sim.cli.main`` for the exit code)."""


class SweepProgress(Callback):
    """Lists failed jobs with their overrides at the end of a sweep.

    Progress itself is shown by the sweeper (``hydra_plugins/sim_sweeper``), fed
    by one byte per finished run, so nothing here rescans the sweep folder per job.
    """

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Forget the failures of an earlier sweep in this process."""
        FAILURES.clear()

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """Collect FAILED.json files of the sweep and report each with its overrides."""
        from sim.batch import is_dataset

        sweep_dir = Path(config.hydra.sweep.dir)
        if is_dataset(sweep_dir):  # the sweeper collected the failed runs of the chunks
            if FAILURES:
                write_json(FAILURES, sweep_dir / "failures.json")
                for info in FAILURES:
                    log.error("job %s failed: %s -> %s", info["job"], " ".join(info["overrides"]), info["error"])
            else:
                (sweep_dir / "failures.json").unlink(missing_ok=True)
            return
        FAILURES.clear()
        for f in sorted(sweep_dir.glob(f"*/{FAILED}")):
            info = json.loads(f.read_text())
            info["dir"] = str(f.parent)
            FAILURES.append(info)
        if FAILURES:
            (sweep_dir / "failures.json").write_text(json.dumps(FAILURES, indent=2))
            for info in FAILURES:
                log.error("job failed: %s -> %s", " ".join(info["overrides"]), info["error"])
