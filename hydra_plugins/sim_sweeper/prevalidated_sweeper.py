"""The project's sweeper: Hydra's basic sweeper that trusts ``sim.cli.prevalidate``, with a dataset layout.

Two layouts (``hydra.sweeper.layout``):

* ``folders``: one Hydra job and one folder per run (Hydra's basic sweeper,
  without its serial per-job validation pass: ``sim-run`` checked every
  override already).
* ``dataset``: the runs are cut into chunks (``hydra.sweeper.runs_per_job``);
  each chunk is one Hydra job of the launcher and streams its runs into one
  parquet dataset (``sim.batch``). Far fewer processes, compositions and
  files; the way to run thousands of runs.
* ``auto`` (default): ``dataset`` above ``hydra.sweeper.dataset_above`` runs, else ``folders``.

Either way the driver shows a progress bar with ETA (tqdm; a log line every
30 s when stderr is not a terminal), fed by one byte per finished run.
"""

import logging
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional  # noqa: UP035

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser

log = logging.getLogger("sim.sweep")


@dataclass
class SimSweeperConf:
    """Settings of ``hydra/sweeper=sim`` (the project's default sweeper)."""

    _target_: str = "hydra_plugins.sim_sweeper.prevalidated_sweeper.PrevalidatedSweeper"
    max_batch_size: Optional[int] = None  # noqa: UP045 - OmegaConf reads these annotations
    params: Optional[Dict[str, str]] = None  # noqa: UP006, UP045

    layout: str = "auto"
    dataset_above: int = 100
    runs_per_job: Any = "auto"
    part_runs: int = 50
    tables: List[str] = field(default_factory=lambda: ["timeseries", "outcomes"])  # noqa: UP006


ConfigStore.instance().store(group="hydra/sweeper", name="sim", node=SimSweeperConf, provider="sim")


class Progress:
    """A driver-side progress bar fed by the sweep's progress files (polled, O(workers) per poll)."""

    def __init__(self, sweep_dir: Path, total: int, initial: int = 0, unit: str = "run") -> None:
        from sim.batch import PROGRESS_DIR

        self.sweep_dir, self.total, self.initial = sweep_dir, total, initial
        self.t0 = time.time()
        self._stop = threading.Event()
        d = sweep_dir / PROGRESS_DIR
        if d.is_dir():
            for f in d.iterdir():
                f.unlink()
        self._bar: Any = None
        self._tty = sys.stderr.isatty()
        if self._tty:
            from tqdm import tqdm

            self._bar = tqdm(total=total, initial=initial, unit=unit, desc="sweep", dynamic_ncols=True, smoothing=0.05)
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def counts(self) -> tuple[int, int]:
        """Runs done (including those finished before a resume) and failed."""
        from sim.batch import progress_counts

        done, failed = progress_counts(self.sweep_dir)
        return self.initial + done, failed

    def _loop(self) -> None:
        last_log = time.time()
        while not self._stop.wait(0.5):
            done, failed = self.counts()
            if self._bar is not None:
                self._bar.n = min(done + failed, self.total)
                self._bar.set_postfix(failed=failed, refresh=False)
                self._bar.refresh()
            elif time.time() - last_log >= 30:
                last_log = time.time()
                self.log_line(done, failed)

    def log_line(self, done: int, failed: int) -> None:
        """Log ``sweep progress: k/N done, f failed, elapsed, ~left``."""
        elapsed = time.time() - self.t0
        new = max(done + failed - self.initial, 0)
        left = max(self.total - done - failed, 0)
        eta = left * elapsed / new if new else float("nan")
        log.info("sweep progress: %d/%d done, %d failed, %.0fs elapsed, ~%.0fs left", done, self.total, failed, elapsed, eta)

    def close(self) -> tuple[int, int]:
        """Stop polling, log the final line; return (done, failed)."""
        self._stop.set()
        self._thread.join()
        done, failed = self.counts()
        if self._bar is not None:
            self._bar.n = min(done + failed, self.total)
            self._bar.close()
        self.log_line(done, failed)
        import shutil

        from sim.batch import PROGRESS_DIR

        shutil.rmtree(self.sweep_dir / PROGRESS_DIR, ignore_errors=True)
        return done, failed


class PrevalidatedSweeper(BasicSweeper):
    """:class:`BasicSweeper` without the serial per-job validation pass, with the dataset layout.

    Args:
        max_batch_size: As for the basic sweeper (folders layout).
        params: As for the basic sweeper.
        layout: ``auto``, ``folders`` or ``dataset``.
        dataset_above: ``auto`` uses the dataset layout above this many runs.
        runs_per_job: Runs per chunk (dataset layout), or ``auto``.
        part_runs: Runs per part file of a chunk (dataset layout).
        tables: Tables the dataset keeps (``sim.batch.RUN_TABLES``).
    """

    def __init__(self, max_batch_size: int | None = None, params: dict[str, str] | None = None, layout: str = "auto",
                 dataset_above: int = 100, runs_per_job: Any = "auto", part_runs: int = 50,
                 tables: Sequence[str] = ("timeseries", "outcomes")) -> None:  # fmt: skip
        super().__init__(max_batch_size=max_batch_size, params=params)
        self.layout = layout
        self.dataset_above = dataset_above
        self.runs_per_job = runs_per_job
        self.part_runs = part_runs
        self.tables = list(tables)

    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        """Skip: the overrides were validated by ``sim.cli.prevalidate``."""
        return None

    def _all_jobs(self, arguments: list[str]) -> list[list[str]]:
        assert self.hydra_context is not None
        params_conf = [f"{k}={v}" for k, v in self.params.items()] + list(arguments)
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        return self.split_arguments(parser.parse_overrides(params_conf), None)[0]

    def sweep(self, arguments: list[str]) -> Any:
        """Run the sweep in the chosen layout."""
        from sim.params import ConfigError

        assert self.config is not None
        sweep_dir = Path(self.config.hydra.sweep.dir)
        if self.layout not in ("auto", "folders", "dataset"):
            allowed = "allowed values auto, folders, dataset"
            _config_error(ConfigError(f"hydra.sweeper.layout={self.layout!r} is not allowed: {allowed}"))
        jobs = self._all_jobs(arguments)
        dataset = self.layout == "dataset" or (self.layout == "auto" and len(jobs) > self.dataset_above)
        if dataset:
            return self._sweep_dataset(sweep_dir, jobs)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        progress = Progress(sweep_dir, len(jobs))
        try:
            return super().sweep(arguments)
        finally:
            progress.close()

    def _sweep_dataset(self, sweep_dir: Path, jobs: list[list[str]]) -> Any:
        import json

        from omegaconf import OmegaConf

        from sim import batch
        from sim.hydra_callbacks import FAILURES
        from sim.params import ConfigError
        from sim.run import write_json

        assert self.launcher is not None
        try:
            plan = batch.make_plan(jobs, self.runs_per_job, self.part_runs, self.tables, launcher_workers(self.config))
        except ConfigError as e:
            _config_error(e)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        plan_file = sweep_dir / batch.PLAN
        if plan_file.exists():
            stored = json.loads(plan_file.read_text())
            if self.runs_per_job == "auto" and isinstance(stored.get("runs_per_job"), int):
                plan.runs_per_job = stored["runs_per_job"]  # resumed with other workers: keep the chunks it has
            if stored != json.loads(json.dumps(plan.to_json())):
                _config_error(ConfigError(f"hydra.sweep.dir={sweep_dir} holds a different sweep (plan.json differs): "
                                          "allowed the same command to resume it, or a new hydra.sweep.dir"))  # fmt: skip
        else:
            write_json(plan.to_json(), plan_file)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        removed = batch.remove_uncommitted(sweep_dir)
        fdir = sweep_dir / batch.FAILED_DIR
        if fdir.is_dir():
            for f in fdir.iterdir():
                f.unlink()
        done = batch.committed_jobs(sweep_dir)
        todo = [c for c in range(plan.n_chunks) if any(j not in done for j in plan.chunk_jobs(c))]
        log.info("dataset sweep: %d runs in %d chunks of %d; %d already finished, %d chunk(s) to run%s",
                 len(jobs), plan.n_chunks, plan.runs_per_job, len(done), len(todo),
                 f" ({removed} unfinished part file(s) removed)" if removed else "")  # fmt: skip
        batch_ovs = [[f"+{batch.CHUNK_KEY}={c}", f"hydra.sweep.subdir=chunks/{c}", "hydra.output_subdir=null"] for c in todo]
        progress = Progress(sweep_dir, len(jobs), initial=len(done))
        chunk_errors = []
        try:
            results = self.launcher.launch(batch_ovs, initial_job_idx=0) if batch_ovs else []
            for c, r in zip(todo, results, strict=True):
                try:
                    _ = r.return_value
                except Exception as e:  # noqa: BLE001 - reported with the failed runs
                    chunk_errors.append({"chunk": c, "error": f"{type(e).__name__}: {e}"})
        finally:
            progress.close()
        FAILURES.clear()
        FAILURES.extend(batch.read_failures(sweep_dir))
        committed = batch.committed_jobs(sweep_dir)
        missing = [j for c in [e["chunk"] for e in chunk_errors] for j in plan.chunk_jobs(c) if j not in committed]
        failed_jobs = {f["job"] for f in FAILURES}
        for e in chunk_errors:
            log.error("chunk %d failed: %s", e["chunk"], e["error"])
        for j in missing:
            if j not in failed_jobs:
                FAILURES.append({"job": j, "overrides": plan.jobs[j], "error": "its chunk failed", "traceback": ""})
        log.info("dataset sweep: %d/%d runs in %s", len(committed), len(jobs), sweep_dir / batch.DATA)
        return [results] if batch_ovs else []


def launcher_workers(config: Any) -> Optional[int]:  # noqa: UP045
    """Processes the configured launcher runs at once, where its settings say (``None``: unknown).

    joblib: ``n_jobs`` (negative counts from the CPUs, as joblib does); submitit (SLURM):
    ``array_parallelism``; the basic and recording launchers: 1; Ray and others: unknown.
    """
    import os

    try:
        launcher = config.hydra.launcher
        target = str(launcher.get("_target_", ""))
    except Exception:  # noqa: BLE001 - no launcher settings: unknown
        return None
    if "joblib" in target.lower():
        n = launcher.get("n_jobs", -1)
        if not isinstance(n, int) or n == 0:
            return None
        return n if n > 0 else max(1, (os.cpu_count() or 1) + 1 + n)
    if "submitit" in target.lower():
        n = launcher.get("array_parallelism", None)
        return n if isinstance(n, int) and n > 0 else None
    if target.endswith(("BasicLauncher", "RecordingLauncher")):
        return 1
    return None


def _config_error(e: Exception) -> None:
    print(f"config error: {e}", file=sys.stderr)
    raise SystemExit(2)
