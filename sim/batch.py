"""The fast sweep path: many runs per worker, results streamed into one parquet dataset.

A large sweep is cut into *chunks* of consecutive jobs. Each chunk is one job
of the Hydra launcher (a joblib worker, a Ray task, a SLURM array task); it
builds its runs' configurations without Hydra's per-job composition (the
config groups are composed once per combination of group choices, plain
values are set on the composed mapping, then validated), runs them one after
the other in the same process and appends their tables to the sweep's
dataset::

    <sweep>/plan.json                               jobs (overrides), chunking, tables
    <sweep>/data/<table>/part-<chunk>-<first job>.parquet
    <sweep>/data/runs/part-<chunk>-<first job>.parquet   written last: the commit of a part
                                                    (seed, config hash, node, worker, wall, model and CPU seconds, memory)
    <sweep>/failed/part-<chunk>.json                 runs that raised (retried on resume)
    <sweep>/.progress/done-<host>-<pid>              one byte per finished run

A part holds ``part_runs`` consecutive runs of one chunk; its tables are
written atomically (temporary file, rename) and the ``runs`` part last, so a
run counts as finished exactly when its ``runs`` row exists. Resume (the same
command and ``hydra.sweep.dir`` again) deletes parts without a ``runs`` part,
skips every committed run and runs the rest; nothing is lost or doubled. The
rows of a run are the same as the tables a single run writes
(:func:`sim.run.run`), with a ``job`` column in front.

This module holds no plotting and no Hydra launcher code; the driver side is
``hydra_plugins/sim_sweeper``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import resource
import socket
import time
import traceback
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.params import Config, ConfigError, build_config, config_to_dict, iter_parameters
from sim.run import PROJECT_ROOT, write_json, write_parquet

if TYPE_CHECKING:
    import pandas as pd

CONFIG_DIR = PROJECT_ROOT / "configs"
PLAN = "plan.json"
DATA = "data"
FAILED_DIR = "failed"
PROGRESS_DIR = ".progress"
PLAN_VERSION = 1
RUN_TABLES = ("timeseries", "outcomes", "flows", "accounts", "partnerships", "network")
"""Tables a dataset sweep can write (``runs`` is always written)."""
DEFAULT_TABLES = ("timeseries", "outcomes")
CHUNK_KEY = "sim_chunk"
"""Config key that marks a Hydra job as a chunk of a dataset sweep."""


# --------------------------------------------------------------------------- configurations
def config_groups() -> dict[str, list[str]]:
    """Config groups and their options, from the ``configs/`` folders (not ``configs/hydra``: launchers)."""
    dirs = sorted(p for p in CONFIG_DIR.iterdir() if p.is_dir() and p.name != "hydra")
    return {d.name: sorted(f.stem for f in d.glob("*.yaml")) for d in dirs}


_INT = re.compile(r"^[+-]?(0|[1-9][0-9]*)$")


class ConfigFactory:
    """Builds validated configurations from override lists, composing each group combination once.

    Overrides that set a declared parameter (``key=value``) are applied to the
    composed mapping; every other override (config groups, ``+``/``~``/``++``
    forms, unknown keys) is part of the composition, so it keeps Hydra's exact
    semantics. The result is the same configuration Hydra's per-job
    composition gives (the project's configs hold no interpolations).
    """

    def __init__(self) -> None:
        self.groups = config_groups()
        self.leaves: dict[str, tuple[Any, dict[str, Any]]] = _leaf_types()
        self._composed: dict[tuple[str, ...], dict[str, Any]] = {}
        self._built: dict[tuple[str, ...], Config] = {}
        self._values: dict[str, Any] = {}
        self._parser: Any = None

    def is_leaf(self, override: str) -> bool:
        """Whether an override sets one declared parameter with a plain ``key=value``."""
        key, eq, _ = override.partition("=")
        return bool(eq) and key in self.leaves

    def value(self, override: str) -> Any:
        """The value of ``key=value`` parsed with Hydra's grammar (cached)."""
        v = self._values.get(override)
        if v is None and override not in self._values:
            raw = override.partition("=")[2]
            if _INT.match(raw):
                v = int(raw)
            else:
                from hydra.core.override_parser.overrides_parser import OverridesParser
                from hydra.errors import HydraException

                if self._parser is None:
                    self._parser = OverridesParser.create()
                try:
                    v = self._parser.parse_override(override).value()
                except HydraException as e:
                    raise ConfigError(f"cannot parse {override}: {str(e).splitlines()[0]}") from None
            if len(self._values) < 100_000:
                self._values[override] = v
        return v

    def composed(self, others: tuple[str, ...]) -> dict[str, Any]:
        """The composed, resolved mapping for the non-leaf overrides (cached; do not modify)."""
        data = self._composed.get(others)
        if data is None:
            data = compose(list(others))
            self._composed[others] = data
        return data

    def data(self, overrides: Sequence[str]) -> dict[str, Any]:
        """Plain mapping of a job's configuration (before validation)."""
        plain = [o for o in overrides if not o.lstrip("+~").startswith("hydra")]
        others = tuple(o for o in plain if not self.is_leaf(o))
        data = copy.deepcopy(self.composed(others))
        for o in plain:
            if self.is_leaf(o):
                _set_dotted(data, o.partition("=")[0], self.value(o))
        return data

    def build(self, overrides: Sequence[str]) -> Config:
        """Validated configuration of a job: equal to ``build_config(self.data(overrides))``, faster.

        The composed base is validated once per combination of non-leaf
        overrides; each plain value is then checked on its own (the same
        ``_coerce`` as :func:`build_config`) and set with ``dataclasses.replace``.
        """
        from sim.params import _check_consistency, _coerce

        plain = [o for o in overrides if not o.lstrip("+~").startswith("hydra")]
        others = tuple(o for o in plain if not self.is_leaf(o))
        cfg = self._built.get(others)
        if cfg is None:
            cfg = build_config(copy.deepcopy(self.composed(others)))
            self._built[others] = cfg
        for o in plain:
            if self.is_leaf(o):
                key = o.partition("=")[0]
                typ, meta = self.leaves[key]
                value = self.value(o)
                cfg = _replace_path(cfg, key.split("."), _coerce(key, list(value) if isinstance(value, tuple) else value,
                                                                 typ, meta))  # fmt: skip
        if len(plain) > len(others):
            _check_consistency(cfg)  # values checked alone may not fit together (e.g. cluster.launch_month, steps)
        return cfg

    def check_leaf(self, override: str) -> None:
        """Validate the value of one ``key=value`` override of a declared parameter (no composition)."""
        from sim.params import _coerce

        key = override.partition("=")[0]
        typ, meta = self.leaves[key]
        value = self.value(override)
        if isinstance(value, tuple | list) or typing.get_origin(typ) is tuple:
            _coerce(key, list(value) if isinstance(value, tuple | list) else value, typ, meta)
        else:
            _coerce(key, value, typ, meta)


_FACTORY: ConfigFactory | None = None


def process_factory(base: dict[str, Any] | None = None) -> ConfigFactory:
    """The factory of this process, kept between the chunks a worker runs (compositions are cached in it).

    Args:
        base: The composed default configuration if the caller has it (a chunk job's own config), to spare one
            composition.
    """
    global _FACTORY
    if _FACTORY is None:
        _FACTORY = ConfigFactory()
    if base is not None and () not in _FACTORY._composed:
        _FACTORY._composed[()] = base
    return _FACTORY


def _replace_path(obj: Any, parts: list[str], value: Any) -> Any:
    import dataclasses

    head = parts[0]
    if len(parts) == 1:
        return dataclasses.replace(obj, **{head: value})
    return dataclasses.replace(obj, **{head: _replace_path(getattr(obj, head), parts[1:], value)})


def _leaf_types() -> dict[str, tuple[Any, dict[str, Any]]]:
    import dataclasses

    out: dict[str, tuple[Any, dict[str, Any]]] = {}

    def walk(cls: type, prefix: str) -> None:
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            typ = hints[f.name]
            if dataclasses.is_dataclass(typ):
                walk(typ, f"{prefix}{f.name}.")  # type: ignore[arg-type]
            else:
                out[f"{prefix}{f.name}"] = (typ, dict(f.metadata))

    walk(Config, "")
    assert set(out) == {n for n, _d, _m in iter_parameters(Config)}
    return out


def compose(overrides: list[str]) -> dict[str, Any]:
    """Compose ``configs/config.yaml`` with overrides into a resolved mapping without ``hydra``.

    Works inside a running Hydra job (reusing its global state) and outside.
    """
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException
    from hydra.types import RunMode
    from omegaconf import OmegaConf, open_dict
    from omegaconf.errors import OmegaConfBaseException

    try:
        gh = GlobalHydra.instance()
        if gh.is_initialized() and gh.hydra is not None:
            cfg = gh.hydra.compose_config(
                config_name="config", overrides=overrides, run_mode=RunMode.RUN, from_shell=False, with_log_configuration=False
            )
        else:
            with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
                cfg = hydra_compose(config_name="config", overrides=overrides)
    except (HydraException, OmegaConfBaseException) as e:
        raise ConfigError(str(e).strip().splitlines()[0]) from None
    with open_dict(cfg):
        cfg.pop("hydra", None)
        cfg.pop(CHUNK_KEY, None)
    data = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(data, dict)
    return data  # type: ignore[return-value]


def _set_dotted(data: dict[str, Any], key: str, value: Any) -> None:
    node = data
    *parents, leaf = key.split(".")
    for p in parents:
        node = node.setdefault(p, {})
        if not isinstance(node, dict):
            raise ConfigError(f"unknown key '{key}': '{p}' is not a group of parameters")
    node[leaf] = value


def config_sha(cfg: Config) -> str:
    """Short stable hash of a configuration (recorded per run; checked on resume)."""
    return hashlib.sha1(json.dumps(config_to_dict(cfg), sort_keys=True).encode()).hexdigest()[:16]


# --------------------------------------------------------------------------- the plan
@dataclass
class Plan:
    """The jobs of a dataset sweep and how they are cut into chunks and parts."""

    jobs: list[list[str]]
    runs_per_job: int
    part_runs: int
    tables: list[str]

    @property
    def n_chunks(self) -> int:
        """Number of chunks (Hydra jobs)."""
        return -(-len(self.jobs) // self.runs_per_job)

    def chunk_jobs(self, chunk: int) -> range:
        """Job numbers of one chunk."""
        return range(chunk * self.runs_per_job, min((chunk + 1) * self.runs_per_job, len(self.jobs)))

    def to_json(self) -> dict[str, Any]:
        """Plain form written to ``plan.json``."""
        return {"version": PLAN_VERSION, "runs_per_job": self.runs_per_job, "part_runs": self.part_runs,
                "tables": list(self.tables), "jobs": self.jobs}  # fmt: skip


CHUNKS_PER_WORKER = 4
"""``runs_per_job=auto`` with a known number of workers: this many chunks per worker.

More than one, so that a worker slowed down (a busy node, heavier runs) hands
its share to the others and all finish close together; few, because each
chunk is one Hydra job (composition, logging set-up, a start-up on SLURM)."""
AUTO_CHUNKS = 16
"""``runs_per_job=auto`` when the number of workers is not known (e.g. a Ray cluster)."""
AUTO_MAX_RUNS = 250
"""``runs_per_job=auto`` makes no chunk larger than this (a chunk's buffered tables, work lost to a kill)."""


def auto_runs_per_job(n_jobs: int, workers: int | None = None) -> int:
    """Runs per chunk for ``runs_per_job=auto``.

    Args:
        n_jobs: Runs of the sweep.
        workers: Processes that run chunks at once (``None``: unknown).

    Returns:
        ``ceil(n_jobs / chunks)`` with :data:`CHUNKS_PER_WORKER` chunks per worker (or :data:`AUTO_CHUNKS`
        chunks), between 1 and :data:`AUTO_MAX_RUNS`.
    """
    chunks = AUTO_CHUNKS if not workers or workers < 1 else CHUNKS_PER_WORKER * workers
    return max(1, min(AUTO_MAX_RUNS, -(-n_jobs // chunks)))


def make_plan(jobs: list[list[str]], runs_per_job: int | str = "auto", part_runs: int = 50,
              tables: Iterable[str] = DEFAULT_TABLES, workers: int | None = None) -> Plan:  # fmt: skip
    """Cut a sweep's jobs into chunks.

    Args:
        jobs: Override list of every job, in Hydra's job order.
        runs_per_job: Runs per chunk, or ``auto`` (:func:`auto_runs_per_job`: 4 chunks per worker, or 16 chunks
            when ``workers`` is unknown; at most 250 runs each).
        part_runs: Runs per part file of a chunk.
        tables: Tables to write besides ``runs`` (from :data:`RUN_TABLES`).
        workers: Processes of the launcher that run chunks at once, if known (for ``auto``).

    Raises:
        ConfigError: On a bad value (one line naming the setting).
    """
    tables = list(tables)
    bad = [t for t in tables if t not in RUN_TABLES]
    if bad or not tables:
        what = repr(bad[0]) if bad else "[]"
        raise ConfigError(f"hydra.sweeper.tables={what} is not allowed: allowed values {', '.join(RUN_TABLES)}")
    if runs_per_job == "auto":
        rpj = auto_runs_per_job(len(jobs), workers)
    elif isinstance(runs_per_job, int) and not isinstance(runs_per_job, bool) and runs_per_job >= 1:
        rpj = runs_per_job
    else:
        raise ConfigError(f"hydra.sweeper.runs_per_job={runs_per_job!r} is not allowed: allowed auto or a positive integer")
    if isinstance(part_runs, bool) or not isinstance(part_runs, int) or part_runs < 1:
        raise ConfigError(f"hydra.sweeper.part_runs={part_runs!r} is not allowed: allowed a positive integer")
    return Plan(jobs=[list(j) for j in jobs], runs_per_job=rpj, part_runs=part_runs, tables=tables)


def read_plan(sweep_dir: str | Path) -> Plan:
    """Read ``plan.json`` of a dataset sweep."""
    d = json.loads((Path(sweep_dir) / PLAN).read_text())
    if d.get("version") != PLAN_VERSION:
        raise ConfigError(f"{Path(sweep_dir) / PLAN}: plan version {d.get('version')!r} is not allowed: allowed {PLAN_VERSION}")
    return Plan(jobs=d["jobs"], runs_per_job=d["runs_per_job"], part_runs=d["part_runs"], tables=d["tables"])


def is_dataset(sweep_dir: str | Path) -> bool:
    """Whether a folder holds a dataset sweep."""
    return (Path(sweep_dir) / PLAN).exists()


# --------------------------------------------------------------------------- the dataset
def _part_name(chunk: int, first_job: int) -> str:
    return f"part-{chunk:05d}-{first_job:07d}.parquet"


def committed_jobs(sweep_dir: str | Path, chunk: int | None = None) -> set[int]:
    """Jobs whose rows are committed (a ``runs`` part holds them), for one chunk or all."""
    import pyarrow.parquet as pq

    runs = Path(sweep_dir) / DATA / "runs"
    if not runs.is_dir():
        return set()
    pattern = f"part-{chunk:05d}-*.parquet" if chunk is not None else "part-*.parquet"
    done: set[int] = set()
    for f in runs.glob(pattern):
        done.update(pq.read_table(f, columns=["job"]).column("job").to_pylist())
    return done


def remove_uncommitted(sweep_dir: str | Path) -> int:
    """Delete table parts without a ``runs`` part and temporary files (a killed chunk's leftovers)."""
    data = Path(sweep_dir) / DATA
    if not data.is_dir():
        return 0
    committed = {f.name for f in (data / "runs").glob("part-*.parquet")}
    n = 0
    for table_dir in data.iterdir():
        if not table_dir.is_dir():
            continue
        for f in table_dir.iterdir():
            if f.name.endswith(".tmp") or (table_dir.name != "runs" and f.name not in committed):
                f.unlink()
                n += 1
    return n


def read_table(sweep_dir: str | Path, table: str, columns: list[str] | None = None) -> pd.DataFrame:
    """One table of a dataset sweep, committed runs only, sorted by job (rows of a run keep their order)."""
    import pyarrow.dataset as ds

    root = Path(sweep_dir) / DATA / table
    files = sorted(root.glob("part-*.parquet"))
    if not files:
        raise FileNotFoundError(f"no '{table}' table in {Path(sweep_dir) / DATA}")
    df = ds.dataset([str(f) for f in files], format="parquet").to_table(columns=columns).to_pandas()
    return df.sort_values("job", kind="stable", ignore_index=True)


# --------------------------------------------------------------------------- progress
class ProgressWriter:
    """One byte per finished run, appended to this process's own file (O(1) per run)."""

    def __init__(self, sweep_dir: str | Path) -> None:
        d = Path(sweep_dir) / PROGRESS_DIR
        d.mkdir(parents=True, exist_ok=True)
        tag = f"{socket.gethostname()}-{os.getpid()}"
        self.done = open(d / f"done-{tag}", "ab", buffering=0)  # noqa: SIM115 - closed in close()
        self.fail = open(d / f"fail-{tag}", "ab", buffering=0)  # noqa: SIM115

    def tick(self, failed: bool = False) -> None:
        """Record one finished (or failed) run."""
        (self.fail if failed else self.done).write(b".")

    def close(self) -> None:
        """Close the files."""
        self.done.close()
        self.fail.close()


def progress_counts(sweep_dir: str | Path) -> tuple[int, int]:
    """Runs finished and failed so far, from the sizes of the progress files (O(workers))."""
    d = Path(sweep_dir) / PROGRESS_DIR
    done = failed = 0
    try:
        with os.scandir(d) as it:
            for e in it:
                size = e.stat().st_size
                if e.name.startswith("done-"):
                    done += size
                elif e.name.startswith("fail-"):
                    failed += size
    except FileNotFoundError:
        pass
    return done, failed


def tick(sweep_dir: str | Path, failed: bool = False) -> None:
    """Record one finished run of a folder-per-run sweep (opens, appends one byte, closes)."""
    d = Path(sweep_dir) / PROGRESS_DIR
    d.mkdir(parents=True, exist_ok=True)
    with open(d / f"{'fail' if failed else 'done'}-{socket.gethostname()}-{os.getpid()}", "ab", buffering=0) as f:
        f.write(b".")


# --------------------------------------------------------------------------- running a chunk
def simulate(cfg: Config) -> Any:
    """Build and run the model for ``cfg.steps`` months (no output written)."""
    from sim.model import CrossSectorModel

    model = CrossSectorModel(cfg)
    for _ in range(cfg.steps):
        model.step()
    return model


def run_tables(model: Any, tables: Iterable[str]) -> dict[str, pd.DataFrame]:
    """The requested tables of a finished model, exactly as :func:`sim.run.run` writes them."""
    import pandas as pd

    makers = {
        "timeseries": model.timeseries,
        "flows": model.flows,
        "accounts": model.account_table,
        "partnerships": model.partnership_log,
        "network": model.network_table,
        "outcomes": lambda: pd.DataFrame([model.outcomes()]),
    }
    return {t: makers[t]() for t in tables}


def run_rows(model: Any, tables: Iterable[str]) -> dict[str, Any]:
    """A finished run's rows of each table, in the cheapest form to keep until its part is written.

    The time series as a copy of the model's numpy rows and the outcomes as
    their dict (each costs a DataFrame per run otherwise); the other tables
    as the DataFrames of :func:`run_tables`. :func:`part_table` makes one
    table of many runs' rows, equal to concatenating :func:`run_tables`
    with a ``job`` column in front.
    """
    out: dict[str, Any] = {}
    for t in tables:
        if t == "timeseries":
            out[t] = model.records[: model.n_records].copy()
        elif t == "outcomes":
            out[t] = model.outcomes()
        else:
            out[t] = run_tables(model, [t])[t]
    return out


def part_table(table: str, rows: list[Any], jobs: list[int]) -> pd.DataFrame:
    """One table of several runs (rows from :func:`run_rows`, in job order), with a ``job`` column first."""
    import numpy as np
    import pandas as pd

    if table == "timeseries":
        from sim.model import timeseries_frame

        return timeseries_frame(np.concatenate(rows), job=np.repeat(np.asarray(jobs, np.int64), [len(r) for r in rows]))
    if table == "outcomes":
        cols: dict[str, Any] = {"job": np.asarray(jobs, dtype=np.int64)}
        cols |= {k: np.array([r[k] for r in rows], dtype=np.float64) for k in rows[0]}
        return pd.DataFrame(cols, copy=False)
    return pd.concat([_with_job(df, j) for df, j in zip(rows, jobs, strict=True)], ignore_index=True)


def _with_job(df: pd.DataFrame, job: int) -> pd.DataFrame:
    import pandas as pd

    df.insert(0, "job", pd.Series(job, index=df.index, dtype="int64"))
    return df


def run_chunk(sweep_dir: str | Path, chunk: int, factory: ConfigFactory | None = None) -> dict[str, int]:
    """Run the unfinished jobs of one chunk and append them to the dataset.

    Args:
        sweep_dir: The sweep folder (holds ``plan.json``).
        chunk: Chunk number.
        factory: Config factory to reuse (one is made if missing).

    Returns:
        Counts: ``ran``, ``skipped``, ``failed``.
    """
    import logging

    import pandas as pd

    log = logging.getLogger("sim.sweep")
    root = Path(sweep_dir)
    plan = read_plan(root)
    factory = factory or process_factory()
    done = committed_jobs(root, chunk)
    data = root / DATA
    for t in (*plan.tables, "runs"):
        (data / t).mkdir(parents=True, exist_ok=True)
    progress = ProgressWriter(root)
    failures: list[dict[str, Any]] = []
    buf: dict[str, list[Any]] = {t: [] for t in plan.tables}
    meta: list[dict[str, Any]] = []
    counts = {"ran": 0, "skipped": 0, "failed": 0}
    worker = f"{socket.gethostname()}:{os.getpid()}"
    node = _node()

    def flush() -> None:
        if not meta:
            return
        name = _part_name(chunk, meta[0]["job"])
        jobs = [m["job"] for m in meta]
        for t in plan.tables:
            write_parquet(part_table(t, buf[t], jobs), data / t / name)
            buf[t].clear()
        write_parquet(pd.DataFrame(meta), data / "runs" / name)  # the commit
        meta.clear()

    try:
        for job in plan.chunk_jobs(chunk):
            if job in done:
                counts["skipped"] += 1
                continue
            overrides = plan.jobs[job]
            t0, c0 = time.perf_counter(), time.process_time()
            try:
                cfg = factory.build(overrides)
                t1 = time.perf_counter()
                model = simulate(cfg)
                t_sim = time.perf_counter() - t1
                tabs = run_rows(model, plan.tables)
            except Exception as e:  # noqa: BLE001 - a sweep records the failure and goes on
                failures.append({"job": job, "overrides": overrides, "error": f"{type(e).__name__}: {e}",
                                 "traceback": traceback.format_exc()})  # fmt: skip
                write_json(failures, _failed_path(root, chunk))
                log.error("job %d failed: %s -> %s", job, " ".join(overrides), failures[-1]["error"])
                progress.tick(failed=True)
                counts["failed"] += 1
                continue
            for t, rows in tabs.items():
                buf[t].append(rows)
            meta.append({"job": job, "chunk": chunk, "seed": cfg.seed, "config_sha": config_sha(cfg), "node": node,
                         "worker": worker,
                         "wall_seconds": round(time.perf_counter() - t0, 4), "sim_seconds": round(t_sim, 4),
                         "cpu_seconds": round(time.process_time() - c0, 4),
                         "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)})  # fmt: skip
            counts["ran"] += 1
            progress.tick()
            if len(meta) >= plan.part_runs:
                flush()
        flush()
    finally:
        progress.close()
    return counts


def _node() -> str:
    """Host name, with the network namespace on Linux (``host/net:[inode]``): where a run ran."""
    try:
        return f"{socket.gethostname()}/{os.readlink('/proc/self/ns/net')}"
    except OSError:
        return socket.gethostname()


def _failed_path(root: Path, chunk: int) -> Path:
    d = root / FAILED_DIR
    d.mkdir(exist_ok=True)
    return d / f"part-{chunk:05d}.json"


def read_failures(sweep_dir: str | Path) -> list[dict[str, Any]]:
    """Failed runs recorded by the chunks of a dataset sweep, in job order."""
    out: list[dict[str, Any]] = []
    for f in sorted((Path(sweep_dir) / FAILED_DIR).glob("part-*.json")):
        out.extend(json.loads(f.read_text()))
    return sorted(out, key=lambda r: r["job"])
