"""A validated configuration from plain keyword parameters (``CrossSectorModel(seed=3, region="small", ...)``).

Config groups (``region``, ``rc_model``, ``cluster``, ...) take the name of a
preset in ``configs/<group>/`` or a mapping of keys; other keyword
parameters are top-level keys (``seed``, ``steps``) or dotted paths
(``**{"finance.subsidy_size": 2e5}``). Presets are composed by Hydra exactly
as on the command line, then the remaining values are set and everything is
validated by :func:`sim.params.build_config`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.params import Config, ConfigError, build_config, config_to_dict, replace

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"


def preset_names(group: str) -> list[str]:
    """Names of the presets of a config group (``configs/<group>/*.yaml``)."""
    return sorted(p.stem for p in (CONFIG_DIR / group).glob("*.yaml"))


def config_from_params(**params: Any) -> Config:
    """Build a validated :class:`~sim.params.Config` from keyword parameters.

    Raises:
        ConfigError: An unknown preset or key, or a bad value (one line naming it and the allowed values).
    """
    choices: list[str] = []
    values: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, str) and (CONFIG_DIR / key).is_dir():
            allowed = preset_names(key)
            if value not in allowed:
                raise ConfigError(f"{key}: unknown preset {value!r}; allowed: {', '.join(allowed)}")
            choices.append(f"{key}={value}")
        elif isinstance(value, dict):
            for sub, v in value.items():
                values[f"{key}.{sub}"] = v
        else:
            values[key] = value
    cfg = compose_overrides(choices)
    data = config_to_dict(cfg)
    for dotted in values:
        node: Any = data
        *parents, leaf = dotted.split(".")
        for p in parents:
            if not isinstance(node, dict) or p not in node:
                raise ConfigError(f"{dotted}: unknown key; allowed: {', '.join(sorted(data))}")
            node = node[p]
        if not isinstance(node, dict) or leaf not in node:
            allowed = sorted(node) if isinstance(node, dict) else []
            raise ConfigError(f"{dotted}: unknown key; allowed: {', '.join(allowed)}")
    return replace(cfg, **values) if values else cfg


def compose_overrides(overrides: list[str]) -> Config:
    """``configs/config.yaml`` composed by Hydra with command-line style ``overrides``, validated.

    Raises:
        ConfigError: Hydra's one-line message for a bad override, or a bad value.
    """
    from hydra import compose, initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    try:
        with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
            dcfg = compose(config_name="config", overrides=overrides)
    except (HydraException, OmegaConfBaseException) as e:
        raise ConfigError(str(e).strip().splitlines()[0]) from None
    data = OmegaConf.to_container(dcfg, resolve=True)
    assert isinstance(data, dict)
    data.pop("hydra", None)
    return build_config(data)  # type: ignore[arg-type]
