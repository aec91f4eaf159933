"""Regenerate the regression baseline (tests/baseline/*.json) ON PURPOSE.

Run this only when a model change is intended to change results; commit the
new baseline together with the change and say why in the CHANGELOG.

Usage: python scripts/update_baseline.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.model import run_model  # noqa: E402
from sim.params import build_config  # noqa: E402

BASELINES = {
    "small_seed1_36": {"seed": 1, "steps": 36},
    "small_seed7_24_no_endowment": {"seed": 7, "steps": 24, "scenario": {"endowments": False}},
}


def compute(name: str) -> dict:
    cfg = build_config({**BASELINES[name], "output": {"plots": False}})
    return run_model(cfg).summary()


def main() -> None:
    for name in BASELINES:
        path = ROOT / "tests" / "baseline" / f"{name}.json"
        path.write_text(json.dumps(compute(name), indent=2, sort_keys=True) + "\n")
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
