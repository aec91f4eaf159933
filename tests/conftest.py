from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.params import Config, build_config, replace  # noqa: E402


def make_cfg(steps: int = 24, seed: int = 1, **changes) -> Config:
    """Small validated config with dotted-path changes and no plots."""
    cfg = build_config({"seed": seed, "steps": steps, "output": {"plots": False}})
    return replace(cfg, **changes) if changes else cfg


@pytest.fixture
def cfg_factory():
    return make_cfg
