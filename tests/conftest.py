from __future__ import annotations

import logging
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
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


logging.getLogger("MESA").setLevel(logging.WARNING)

SEEDS: tuple[int, ...] = tuple(range(1, 9))
"""The fixed seeds every directional (on vs off) test runs on."""


def paired_effect(on: Sequence[float], off: Sequence[float], confidence: float = 0.95) -> tuple[float, float]:
    """Mean paired difference ``on - off`` over seeds and its one-sided lower confidence bound (Student t)."""
    from scipy import stats

    d = np.asarray(on, dtype=float) - np.asarray(off, dtype=float)
    n = d.size
    mean = float(d.mean())
    if n < 2:
        return mean, -math.inf
    se = float(d.std(ddof=1)) / math.sqrt(n)
    return mean, mean - float(stats.t.ppf(confidence, n - 1)) * se


def assert_increases(on: Sequence[float], off: Sequence[float], what: str) -> None:
    """Directional claim: ``on`` exceeds ``off`` (paired over seeds) with 95% confidence."""
    assert len(on) == len(off) >= 8, f"{what}: a directional claim needs >= 8 paired seeds"
    mean, lo = paired_effect(on, off)
    diffs = np.round(np.asarray(on, float) - np.asarray(off, float), 6).tolist()
    assert lo > 0, f"{what}: paired mean difference {mean:.6g}, 95% lower bound {lo:.6g} <= 0; differences {diffs}"


def over_seeds(metric: Callable[[int], float], seeds: Sequence[int] = SEEDS) -> list[float]:
    """``metric(seed)`` for each seed of the fixed set."""
    return [float(metric(s)) for s in seeds]


# --- the few places tests read model internals (kept here so a refactor re-points them once)
def pair_trust(model: Any, truster: Any, trustee: Any) -> np.ndarray:
    """Trust of ``truster`` in ``trustee`` (organisation indices, arrays)."""
    return model.trust.pair_trust(np.asarray(truster), np.asarray(trustee))


def has_tie(model: Any, truster: Any, trustee: Any) -> np.ndarray:
    """Whether an active personal tie ``truster -> trustee`` exists."""
    k = model.trust.lookup(np.asarray(truster, dtype=np.int64), np.asarray(trustee, dtype=np.int64))
    return k >= 0


STEP_ORDER: tuple[tuple[str, str], ...] = (
    ("family_transitions", "step"),
    ("budgets", "step"),
    ("councils", "step"),
    ("turnover", "step"),
    ("community_foundations", "step"),
    ("fairs", "step"),
    ("giving", "step"),
    ("resource_centres", "step"),
    ("cluster", "step"),
    ("family_uptake", "step"),
    ("commitments", "step"),
    ("grants", "competition"),
    ("requests", "step"),
    ("formation", "step"),
    ("socio_technological", "step"),
    ("delivery", "step"),
    ("organisational_structural", "step"),
    ("services", "step"),
    ("trust", "step"),
    ("endowments", "step"),
    ("ngo_life", "step"),
    ("dissolution", "step"),
    ("recording", "step"),
)
"""The documented step order (docs/ODD.md, process overview), written out independently of
``sim.model.STEP_ORDER``: each mechanism (``model.mechanisms[name]``) and the method that does its
work (the grant competitions run only in their month)."""


def record_step_order(model: Any) -> list[str]:
    """Wrap the model's mechanisms so that each call appends its name to the returned list."""
    calls: list[str] = []
    for name, attr in STEP_ORDER:
        owner = model.mechanisms[name]
        fn = getattr(owner, attr)

        def wrapped(*a: Any, _fn: Callable[..., Any] = fn, _name: str = name, **k: Any) -> Any:
            if not calls or calls[-1] != _name:  # the federal and the regional competition count once
                calls.append(_name)
            return _fn(*a, **k)

        setattr(owner, attr, wrapped)
    return calls


def reputation(model: Any, orgs: Any) -> np.ndarray:
    """Reputation (mean incoming trust) of organisations."""
    return np.asarray(model.trust.reputation[np.asarray(orgs)], dtype=float)
