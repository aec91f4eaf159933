"""The basic launcher, but a job that fails inside Hydra is recorded and the sweep goes on.

Hydra's basic launcher runs the jobs of a batch one after the other; if
Hydra itself fails on a job (creating its folder, saving ``.hydra/*.yaml``:
a read-only folder, a full disk), the exception ends the whole sweep with a
traceback. This launcher records such a job like a job whose run failed
(``FAILED.json`` in its folder when that can be written, else kept in
memory for the end-of-sweep report of :mod:`sim.hydra_callbacks`) and
launches the next one. Jobs that fail inside ``sim-run``'s task are
recorded by the task itself.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Sequence
from pathlib import Path

from hydra._internal.core_plugins.basic_launcher import BasicLauncher
from hydra.core.utils import JobReturn, JobStatus, configure_log, filter_overrides, run_job, setup_globals
from omegaconf import OmegaConf, open_dict

log = logging.getLogger(__name__)


class RecordingLauncher(BasicLauncher):
    """:class:`BasicLauncher` that records a job Hydra could not run and goes on with the others."""

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Sequence[JobReturn]:
        """Run every job of the batch in this process; a job failing inside Hydra is recorded, not raised."""
        from sim.hydra_callbacks import record_failure

        setup_globals()
        assert self.hydra_context is not None and self.config is not None and self.task_function is not None
        configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        sweep_dir = self.config.hydra.sweep.dir
        Path(str(sweep_dir)).mkdir(parents=True, exist_ok=True)
        log.info(f"Launching {len(job_overrides)} jobs locally")
        runs: list[JobReturn] = []
        for idx, overrides in enumerate(job_overrides):
            idx = initial_job_idx + idx
            lst = " ".join(filter_overrides(overrides))
            log.info(f"\t#{idx} : {lst}")
            sweep_config = self.hydra_context.config_loader.load_sweep_config(self.config, list(overrides))
            with open_dict(sweep_config):
                sweep_config.hydra.job.id = idx
                sweep_config.hydra.job.num = idx
            try:
                ret = run_job(
                    hydra_context=self.hydra_context,
                    task_function=self.task_function,
                    config=sweep_config,
                    job_dir_key="hydra.sweep.dir",
                    job_subdir_key="hydra.sweep.subdir",
                )
            except Exception as e:  # noqa: BLE001 - Hydra could not run this job: record it, go on
                job_dir = Path(str(OmegaConf.select(sweep_config, "hydra.sweep.dir"))) / str(
                    OmegaConf.select(sweep_config, "hydra.sweep.subdir")
                )
                info = {
                    "overrides": list(filter_overrides(overrides)),
                    "error": f"{type(e).__name__}: {e}",
                    "traceback": traceback.format_exc(),
                }
                record_failure(job_dir, info)
                ret = JobReturn(overrides=list(overrides), status=JobStatus.COMPLETED, _return_value=None)
            runs.append(ret)
            configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        return runs


__all__ = ["RecordingLauncher"]
