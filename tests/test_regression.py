"""Regression baseline: results change only on purpose (scripts/update_baseline.py)."""

import json
from pathlib import Path

import pytest

BASE = Path(__file__).parent / "baseline"


@pytest.mark.parametrize("name", sorted(p.stem for p in BASE.glob("*.json")))
def test_matches_baseline(name):
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
    from update_baseline import compute

    expected = json.loads((BASE / f"{name}.json").read_text())
    got = compute(name)
    assert set(got) == set(expected)
    for k, v in expected.items():
        assert got[k] == pytest.approx(v, rel=1e-9, abs=1e-9), (
            f"{k} changed: {got[k]} vs baseline {v}. If the change is intended, run scripts/update_baseline.py"
        )


def test_baselines_exist():
    assert len(list(BASE.glob("*.json"))) >= 2
