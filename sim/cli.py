"""Command line: a thin ``main()`` over :func:`sim.run.run`.

``sim-run [overrides]`` composes ``configs/config.yaml`` with Hydra and runs
one scenario (or a sweep with ``-m``). Before Hydra starts, every override is
checked against the declared parameters and the config groups, so a wrong key
or value stops the program with one line on stderr and exit code 2, before
anything is written.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
import traceback
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from sim.batch import ConfigFactory
from sim.batch import config_groups as batch_config_groups
from sim.hydra_callbacks import FAILED, FAILURES, REPORT, record_failure
from sim.params import CROSS_CHECKED, Config, ConfigError, build_config, config_to_dict, iter_parameters
from sim.presets import compose_overrides
from sim.run import COMPLETED, PROJECT_ROOT, run

CONFIG_DIR = PROJECT_ROOT / "configs"
if str(PROJECT_ROOT) not in sys.path:  # Hydra finds the project's sweeper in PROJECT_ROOT/hydra_plugins
    sys.path.insert(0, str(PROJECT_ROOT))
EXIT_CONFIG_ERROR = 2


def config_groups() -> dict[str, list[str]]:
    """Config groups and their options, from the ``configs/`` folders (``configs/hydra`` holds launchers)."""
    return batch_config_groups()


@functools.lru_cache(maxsize=1)
def _known_names() -> frozenset[str]:
    return frozenset(name for name, _d, _m in iter_parameters(Config))


def _allowed_children(prefix: str) -> list[str]:
    names = set()
    for name, _default, _meta in iter_parameters(Config):
        if name.startswith(prefix):
            names.add(name[len(prefix) :].split(".")[0])
    return sorted(names)


def _check_list_element(parts: list[str]) -> bool:
    """Whether ``parts`` name a field of one element of a list-of-mappings parameter (``finance.funds.0.months``)."""
    import dataclasses

    for i in range(1, len(parts)):
        name = ".".join(parts[:i])
        default = next((d for n, d, _m in iter_parameters(Config) if n == name), None)
        if not (isinstance(default, tuple) and default and dataclasses.is_dataclass(default[0])):
            continue
        fields = sorted(f.name for f in dataclasses.fields(default[0]))
        rest = parts[i:]
        if len(rest) != 2 or not rest[0].isdigit() or rest[1] not in fields:
            raise ConfigError(f"unknown key '{'.'.join(parts)}' ({name}.<index>): allowed keys {', '.join(fields)}")
        return True
    return False


def _check_key(key: str, value: str | None, groups: dict[str, list[str]]) -> None:
    key = key.lstrip("+~")
    if key == "hydra" or key.startswith(("hydra.", "hydra/")):
        return
    if key in groups:
        if value is not None and value not in groups[key]:
            raise ConfigError(f"{key}={value!r} is not allowed: allowed values {', '.join(groups[key])}")
        return
    if key in _known_names():
        return
    parts = key.split(".")
    if _check_list_element(parts):
        return
    for i in range(len(parts), 0, -1):
        prefix = ".".join(parts[: i - 1])
        children = _allowed_children(prefix + "." if prefix else "")
        if parts[i - 1] not in children:
            where = prefix or "top level"
            if not prefix:
                children = sorted(set(children) | set(groups))
            raise ConfigError(f"unknown key '{key}' ({where}): allowed keys {', '.join(children)}")
    raise ConfigError(f"unknown key '{key}': it names a group of parameters, set one of its keys")


def compose(overrides: list[str]) -> Config:
    """Compose ``configs/config.yaml`` with command-line style overrides and validate it (each key checked first)."""
    groups = config_groups()
    for ov in overrides:
        key, _, value = ov.partition("=")
        _check_key(key, value, groups)
    return compose_overrides(overrides)


def _variants(overrides: list[str]) -> list[list[str]]:
    """Plain override lists covering every value of every sweep override."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    parsed = parser.parse_overrides(overrides)
    base: list[str] = []
    sweeps: list[tuple[int, list[str]]] = []
    for k, ov in enumerate(parsed):
        key = ov.get_key_element()
        if ov.is_sweep_override():
            vals = list(ov.sweep_string_iterator())
            if not vals:
                raise ConfigError(
                    f"{overrides[k]} sweeps no values: allowed a sweep with at least one value, e.g. {key}=range(1,5)"
                )
            sweeps.append((k, [f"{key}={v}" for v in vals]))
            base.append(f"{key}={vals[0]}")
        else:
            base.append(overrides[k])
    variants = [base]
    for k, vals in sweeps:
        for v in vals[1:]:
            var = list(base)
            var[k] = v
            variants.append(var)
    return variants


def prevalidate(argv: list[str]) -> int:
    """Check command-line overrides and the composed config; raise ConfigError.

    Args:
        argv: Command-line arguments (Hydra flags are skipped).

    Returns:
        The number of jobs the overrides describe (product of sweep lengths).
    """
    from hydra.errors import HydraException

    overrides = [a for a in argv if not a.startswith("-") and "=" in a]
    flags_with_value = {
        "-cn",
        "--config-name",
        "-cp",
        "--config-path",
        "-cd",
        "--config-dir",
        "--info",
        "-i",
        "--cfg",
        "-c",
        "--package",
        "-p",
        "--experimental-rerun",
    }
    plain = [
        a
        for i, a in enumerate(argv)
        if not a.startswith("-") and "=" not in a and (i == 0 or argv[i - 1] not in flags_with_value)
    ]
    if plain:
        raise ConfigError(f"argument '{plain[0]}' is not an override: use key=value (e.g. region=large seed=3)")
    groups = config_groups()
    try:
        variants = _variants(overrides)
    except ConfigError:
        raise
    except (HydraException, ValueError, TypeError) as e:
        raise ConfigError(f"cannot parse overrides: {str(e).splitlines()[0]}") from None
    # the first variant is composed and built in full; the others differ from it in one override:
    # a plain parameter value is checked on its own, anything else is composed (once per combination)
    factory = ConfigFactory()
    for n, var in enumerate(variants):
        changed = var if n == 0 else [o for o, b in zip(var, variants[0], strict=True) if o != b]
        for ov in changed:
            key, _, value = ov.partition("=")
            _check_key(key, value, groups)
        plain = [o for o in changed if not o.lstrip("+~").startswith("hydra")]
        if not plain:
            continue
        if n > 0 and all(factory.is_leaf(o) and o.lstrip("+~").partition("=")[0] not in CROSS_CHECKED for o in plain):
            for o in plain:
                factory.check_leaf(o)
        else:
            factory.build(var)
    return _n_jobs(overrides)


def check_output_dir(argv: list[str]) -> None:
    """Check that the run's (or sweep's) output folder can be created and written, before Hydra starts.

    The folder given by ``hydra.run.dir`` (``hydra.sweep.dir`` with ``-m``),
    or the default ``outputs/`` (``multirun/``) under the working folder, is
    probed by creating and removing an empty folder in its nearest existing
    parent: nothing is left behind.

    Raises:
        ConfigError: One line naming the key and the folder that cannot be written.
    """
    import tempfile

    if any(a in ("-h", "--help", "--hydra-help", "-c", "--cfg", "-i", "--info", "--shell-completion", "-sc") for a in argv):
        return  # Hydra only prints: nothing is written
    multirun = any(a in ("-m", "--multirun") for a in argv)
    key = "hydra.sweep.dir" if multirun else "hydra.run.dir"
    value = next((a.partition("=")[2] for a in argv if a.lstrip("+~").startswith(key + "=")), None)
    target = Path(value.strip("'\"")) if value else Path("multirun" if multirun else "outputs")
    probe = Path(os.path.abspath(target))
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    where = f"{key}={value}" if value else f"{key} (default {target}/ in {os.getcwd()})"
    if not probe.is_dir():
        raise ConfigError(f"{where}: {probe} is not a folder: allowed a folder that can be created and written")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".sim-write-probe-", dir=probe))
    except OSError as e:
        raise ConfigError(f"{where}: cannot write in {probe} ({e.strerror}): allowed a folder that can be written") from None


def _n_jobs(overrides: list[str]) -> int:
    from hydra.core.override_parser.overrides_parser import OverridesParser

    n = 1
    for ov in OverridesParser.create().parse_overrides(overrides):
        if ov.is_sweep_override():
            n *= len(list(ov.sweep_string_iterator()))
    return n


def _parse_override_value(key: str, value: str) -> Any:
    """Parse one override value with Hydra's grammar (``1e6``, ``[1,2]``, ``true``, quoted strings)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    try:
        ov = OverridesParser.create().parse_override(f"{key}={value}")
    except HydraException as e:
        raise ConfigError(f"cannot parse {key}={value}: {str(e).splitlines()[0]}") from None
    return ov.value()


def _to_dict(cfg: DictConfig) -> dict[str, Any]:
    data = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(data, dict)
    data.pop("hydra", None)
    return data  # type: ignore[return-value]


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="config")
def hydra_entry(dcfg: DictConfig) -> None:
    """Hydra task: validate, skip if already complete, run into Hydra's output directory.

    A job whose directory holds ``COMPLETED`` with the same configuration is
    skipped, so re-running an interrupted sweep with the same
    ``hydra.sweep.dir`` resumes it. In a multirun, a job that raises is
    recorded in ``FAILED.json`` (overrides, error, traceback) and the other
    jobs go on; the sweep ends with a list of failures and exit code 1.
    """
    from hydra.types import RunMode

    from sim import batch

    hc = HydraConfig.get()
    if batch.CHUNK_KEY in dcfg:  # a chunk of a dataset sweep: many runs in this process
        sweep_dir = Path(hc.sweep.dir)
        base = _to_dict(dcfg)
        base.pop(batch.CHUNK_KEY)
        counts = batch.run_chunk(sweep_dir, int(dcfg[batch.CHUNK_KEY]), batch.process_factory(base))
        logging.getLogger("sim").info("chunk %s: %s", dcfg[batch.CHUNK_KEY], counts)
        return
    try:
        cfg = build_config(_to_dict(dcfg))
    except ConfigError as e:
        print(f"config error: {e}", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG_ERROR) from None
    outdir = Path(hc.runtime.output_dir)
    overrides = list(hc.overrides.task)
    log = logging.getLogger("sim")
    if is_complete(outdir, cfg):
        log.info("already complete, skipped: %s (%s)", " ".join(overrides), outdir)
        if hc.mode == RunMode.MULTIRUN:
            batch.tick(hc.sweep.dir)
        return
    (outdir / FAILED).unlink(missing_ok=True)
    try:
        model = run(cfg, outdir, overrides)
    except Exception as e:  # noqa: BLE001 - a sweep records the failure and goes on
        if hc.mode != RunMode.MULTIRUN:
            if isinstance(e, OSError):  # e.g. a full disk: one line, no traceback
                print(f"error: cannot write the run's outputs in {outdir}: {e.strerror or e}", file=sys.stderr)
                raise SystemExit(EXIT_CONFIG_ERROR) from None
            raise
        info = {"overrides": overrides, "error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()}
        record_failure(outdir, info)
        batch.tick(hc.sweep.dir, failed=True)
        return
    if hc.mode == RunMode.MULTIRUN:
        batch.tick(hc.sweep.dir)
    summary = model.summary()
    log.info(
        "finished %d months, seed %d: wellbeing %.3f, NGOs alive %d -> %s",
        cfg.steps, cfg.seed, summary["wellbeing_mean"], summary["ngos_alive"], outdir,
    )  # fmt: skip


def is_complete(outdir: Path, cfg: Config) -> bool:
    """Whether ``outdir`` holds a finished run of exactly this configuration."""
    if not (outdir / COMPLETED).exists():
        return False
    try:
        manifest = json.loads((outdir / "manifest.json").read_text())
    except (OSError, ValueError):
        return False
    return manifest.get("config") == config_to_dict(cfg)


def main() -> None:
    """Entry point of ``sim-run``."""
    try:
        total = prevalidate(sys.argv[1:])
        check_output_dir(sys.argv[1:])
    except ConfigError as e:
        print(f"config error: {e}", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG_ERROR) from None
    del total
    logging.raiseExceptions = False  # a log file that cannot be written (full disk) is no reason for a traceback
    hydra_entry()
    if FAILURES:
        where = "see failures.json in the sweep directory" if REPORT["written"] else "listed above (failures.json not written)"
        print(f"{len(FAILURES)} job(s) failed; {where}", file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
