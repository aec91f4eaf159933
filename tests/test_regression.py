"""Regression baseline: results change only on purpose (``make baseline REASON="..."``).

Each baseline pins a configuration's whole monthly time path (every metric,
money by channel included), the money moved by channel between kinds of
account, the partnership log by form/mechanism/ending and the end-of-run
summary. The rule (scripts/update_baseline.py): a baseline is regenerated only
with a reason, and that reason is recorded in CHANGELOG.md.
"""

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BASE = ROOT / "tests" / "baseline"
sys.path.insert(0, str(ROOT / "scripts"))

import update_baseline as ub  # noqa: E402

NAMES = sorted(ub.BASELINES)


def _compare(expected, got, where: str) -> None:
    if isinstance(expected, dict):
        assert isinstance(got, dict) and set(got) == set(expected), f"{where}: keys differ: {sorted(set(got) ^ set(expected))}"
        for k in expected:
            _compare(expected[k], got[k], f"{where}.{k}")
    elif isinstance(expected, list) and isinstance(got, list):
        assert len(got) == len(expected), f"{where}: length {len(got)} vs baseline {len(expected)}"
        for i, (e, g) in enumerate(zip(expected, got, strict=True)):
            _compare(e, g, f"{where}[{i}]")
    elif expected is None or got is None or isinstance(expected, str):
        assert got == expected, f"{where}: {got!r} vs baseline {expected!r}"
    else:
        assert not isinstance(got, (list, dict)), f"{where}: {got!r} vs baseline {expected!r}"
        assert got == pytest.approx(expected, rel=1e-9, abs=1e-9), f"{where}: {got!r} vs baseline {expected!r}"


@pytest.mark.parametrize("name", NAMES)
def test_matches_baseline(name):
    path = BASE / f"{name}.json"
    assert path.exists(), f'missing {path.name}: make baseline REASON="..."'
    expected = json.loads(path.read_text())
    expected.pop("reason")
    got = json.loads(json.dumps(ub.compute(name)))
    try:
        _compare(expected, got, name)
    except AssertionError as e:
        raise AssertionError(f'{e}. If the change is intended: make baseline REASON="why"') from None


def test_every_baseline_file_is_declared_and_its_reason_is_in_the_changelog():
    files = sorted(p.stem for p in BASE.glob("*.json"))
    assert files == NAMES
    changelog = (ROOT / "CHANGELOG.md").read_text().splitlines()
    for name in NAMES:
        reason = json.loads((BASE / f"{name}.json").read_text())["reason"]
        assert reason and ub.CHANGELOG_PREFIX + reason in changelog, f"{name}: reason {reason!r} not recorded in CHANGELOG.md"


def test_baseline_covers_each_resource_centre_model_the_cluster_and_endowments():
    from analysis.experiment import compose
    from sim.params import RC_MODELS

    cfgs = [compose(ub.BASELINES[n]) for n in NAMES]
    assert {c.rc_model.model for c in cfgs} == set(RC_MODELS)
    assert any(c.cluster.enabled and c.cluster.endowment for c in cfgs)
    data = [json.loads((BASE / f"{n}.json").read_text()) for n in NAMES]
    assert any(max(d["timeseries"]["endowments_formed"] or [0]) > 0 if isinstance(d["timeseries"]["endowments_formed"], list)
               else d["timeseries"]["endowments_formed"] > 0 for d in data)  # fmt: skip
    assert all(d["months"] >= 24 for d in data)


def test_update_refuses_without_a_reason(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("REASON", raising=False)
    before = {p.name: p.read_text() for p in BASE.glob("*.json")}
    log_before = (ROOT / "CHANGELOG.md").read_text()
    assert ub.main([]) == 2
    assert ub.main(["--reason", "   "]) == 2
    assert ub.main(["--reason", "x", "--only", "nope"]) == 2
    err = capsys.readouterr().err
    assert "REASON is required" in err and "unknown baseline 'nope'" in err
    assert {p.name: p.read_text() for p in BASE.glob("*.json")} == before
    assert (ROOT / "CHANGELOG.md").read_text() == log_before


def test_record_reason_adds_one_line_under_the_newest_heading(tmp_path, monkeypatch):
    log = tmp_path / "CHANGELOG.md"
    log.write_text("# Changelog\n\n## [Unreleased]\n\n### Issue 9\n- did x\n\n### Issue 8\n- y\n")
    monkeypatch.setattr(ub, "CHANGELOG", log)
    ub.record_reason("because")
    ub.record_reason("because")
    lines = log.read_text().splitlines()
    assert lines.count("- Baseline regenerated: because") == 1
    assert lines.index("- Baseline regenerated: because") == lines.index("### Issue 9") + 1
