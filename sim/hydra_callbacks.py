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


class SweepProgress(Callback):
    """Lists failed jobs with their overrides at the end of a sweep.

    Progress itself is shown by the sweeper (``hydra_plugins/sim_sweeper``), fed
    by one byte per finished run, so nothing here rescans the sweep folder per job.
    """

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Forget the failures of an earlier sweep in this process."""
        FAILURES.clear()
        UNRECORDED.clear()

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
