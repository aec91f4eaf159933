"""Command line: a thin ``main()`` over :func:`sim.run.run`.

``sim-run [overrides]`` composes ``configs/config.yaml`` with Hydra and runs
one scenario (or a sweep with ``-m``). Before Hydra starts, every override is
checked against the declared parameters and the config groups, so a wrong key
or value stops the program with one line on stderr and exit code 2, before
anything is written.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from sim.params import Config, ConfigError, build_config, iter_parameters
from sim.run import PROJECT_ROOT, run

CONFIG_DIR = PROJECT_ROOT / "configs"
EXIT_CONFIG_ERROR = 2


def config_groups() -> dict[str, list[str]]:
    """Config groups and their options, from the ``configs/`` folders."""
    groups = {}
    for d in sorted(p for p in CONFIG_DIR.iterdir() if p.is_dir()):
        groups[d.name] = sorted(f.stem for f in d.glob("*.yaml"))
    return groups


def _allowed_children(prefix: str) -> list[str]:
    names = set()
    for name, _default, _meta in iter_parameters(Config):
        if name.startswith(prefix):
            names.add(name[len(prefix) :].split(".")[0])
    return sorted(names)


def _check_key(key: str, value: str | None, groups: dict[str, list[str]]) -> None:
    key = key.lstrip("+~")
    if key.startswith("hydra.") or key == "hydra":
        return
    if key in groups:
        if value is not None and value not in groups[key]:
            raise ConfigError(f"{key}={value!r} is not allowed: allowed values {', '.join(groups[key])}")
        return
    known = {name for name, _d, _m in iter_parameters(Config)}
    if key in known:
        return
    parts = key.split(".")
    for i in range(len(parts), 0, -1):
        prefix = ".".join(parts[: i - 1])
        children = _allowed_children(prefix + "." if prefix else "")
        if parts[i - 1] not in children:
            where = prefix or "top level"
            if not prefix:
                children = sorted(set(children) | set(groups))
            raise ConfigError(f"unknown key '{key}' ({where}): allowed keys {', '.join(children)}")
    raise ConfigError(f"unknown key '{key}': it names a group of parameters, set one of its keys")


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


def prevalidate(argv: list[str]) -> None:
    """Check command-line overrides and the composed config; raise ConfigError.

    Args:
        argv: Command-line arguments (Hydra flags are skipped).
    """
    from hydra import compose, initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    overrides = [a for a in argv if not a.startswith("-") and "=" in a]
    flags_with_value = {"-cn", "--config-name", "-cp", "--config-path", "-cd", "--config-dir", "--info", "-i"}
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
    except HydraException as e:
        raise ConfigError(f"cannot parse overrides: {str(e).splitlines()[0]}") from None
    for var in variants:
        for ov in var:
            key, _, value = ov.partition("=")
            _check_key(key, value, groups)
        try:
            with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
                composed = compose(config_name="config", overrides=[o for o in var if not o.lstrip("+~").startswith("hydra")])
        except (HydraException, OmegaConfBaseException) as e:
            raise ConfigError(str(e).strip().splitlines()[0]) from None
        build_config(_to_dict(composed))


def _to_dict(cfg: DictConfig) -> dict[str, Any]:
    data = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(data, dict)
    data.pop("hydra", None)
    return data  # type: ignore[return-value]


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="config")
def hydra_entry(dcfg: DictConfig) -> None:
    """Hydra task: validate, then run into Hydra's output directory."""
    try:
        cfg = build_config(_to_dict(dcfg))
    except ConfigError as e:
        print(f"config error: {e}", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG_ERROR) from None
    outdir = Path(HydraConfig.get().runtime.output_dir)
    overrides = list(HydraConfig.get().overrides.task)
    model = run(cfg, outdir, overrides)
    logging.getLogger("sim").info(
        "finished %d months, seed %d: wellbeing %.3f, NGOs alive %d -> %s",
        cfg.steps,
        cfg.seed,
        model.summary()["wellbeing_mean"],
        model.summary()["ngos_alive"],
        outdir,
    )


def main() -> None:
    """Entry point of ``sim-run``."""
    try:
        prevalidate(sys.argv[1:])
    except ConfigError as e:
        print(f"config error: {e}", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG_ERROR) from None
    hydra_entry()


if __name__ == "__main__":
    main()
