"""Reading the YAML files that drive experiments, sensitivity analysis and calibration."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from sim.params import ConfigError, iter_parameters


def read_mapping(path: str | Path, allowed: set[str]) -> dict[str, Any]:
    """Read a YAML mapping whose keys must be in ``allowed``.

    Raises:
        ConfigError: One line: unreadable file, not a mapping, or an unknown key (with the allowed ones).
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"cannot read {path}: not UTF-8 text: allowed a UTF-8 YAML file") from None
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"cannot read {path}: {str(e).splitlines()[0]}") from None
    keys = ", ".join(sorted(allowed))
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: must be a mapping with keys {keys}")
    unknown = set(data) - allowed
    if unknown:
        raise ConfigError(f"{path}: unknown key '{sorted(unknown)[0]}': allowed keys {keys}")
    return data


def parameter_ranges(path: str | Path, params: Any, minimum: int = 1) -> dict[str, list[float]]:
    """Check ``parameters: {dotted.key: [low, high]}`` against the declared parameters and their bounds.

    Raises:
        ConfigError: One line naming the bad parameter and what is allowed.
    """
    if not isinstance(params, dict) or len(params) < minimum:
        raise ConfigError(f"{path}: 'parameters' must map at least {minimum} config key(s) to [low, high]")
    known = {name: meta for name, _d, meta in iter_parameters()}
    out: dict[str, list[float]] = {}
    for key, b in params.items():
        if key not in known:
            raise ConfigError(f"{path}: parameters.{key} is not a model parameter (see docs/parameters.md)")
        if not (isinstance(b, list) and len(b) == 2 and all(isinstance(x, (int, float)) for x in b) and b[0] < b[1]):
            raise ConfigError(f"{path}: parameters.{key}={b!r} must be [low, high] with low < high")
        lo, hi = known[key].get("lo"), known[key].get("hi")
        if (lo is not None and b[0] < lo) or (hi is not None and b[1] > hi):
            raise ConfigError(f"{path}: parameters.{key}={b!r} outside the allowed {lo}..{hi}")
        out[key] = [float(b[0]), float(b[1])]
    return out


_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def safe_name(path: str | Path, value: Any) -> str:
    """Check a ``name`` that becomes a folder or file name: no path, nothing that leaves the output folder.

    Raises:
        ConfigError: One line naming the file, the key and the allowed characters.
    """
    name = str(value)
    if not isinstance(value, (str, int)) or isinstance(value, bool) or not _NAME.fullmatch(name) or ".." in name:
        raise ConfigError(
            f"{path}: name={value!r} is not allowed: allowed letters, digits, '_', '-' and '.' (a plain folder name, not a path)"
        )
    return name


def positive_int(path: str | Path, key: str, value: Any, minimum: int = 1) -> int:
    """Check an integer setting of a spec file (``seeds``, ``trials``, ``month`` ...).

    Raises:
        ConfigError: One line naming the file, the key and the allowed values.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{path}: {key}={value!r} is not allowed: allowed an integer of at least {minimum}")
    return value


def override_list(path: str | Path, key: str, value: Any) -> list[str]:
    """Check a list of command-line overrides (``base``, arms).

    Raises:
        ConfigError: One line naming the file and the key.
    """
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise ConfigError(f"{path}: {key}={value!r} is not allowed: allowed a list of overrides like [region=small, steps=36]")
    return list(value)
