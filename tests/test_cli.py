"""The command line: a full run writes every output; bad input exits 2 with one line and writes nothing."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent


def sim_run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_run_writes_all_outputs(tmp_path):
    out = tmp_path / "run"
    r = sim_run("steps=14", "seed=3", f"hydra.run.dir={out}")
    assert r.returncode == 0, r.stderr
    for name in ("timeseries.parquet", "flows.parquet", "accounts.parquet", "partnerships.parquet", "manifest.json", "COMPLETED"):
        assert (out / name).exists(), name
    pngs = sorted(p.name for p in (out / "plots").glob("*.png"))
    assert pngs == ["families.png", "money_by_channel.png", "ngos.png", "partnerships_trust.png"]
    man = json.loads((out / "manifest.json").read_text())
    assert man["seed"] == 3 and man["config"]["steps"] == 14
    assert "mesa" in man["versions"] and man["git_commit"]
    assert "family_transitions" in man["random_streams"]
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert len(ts) == 15
    assert "Step" not in r.stderr  # Mesa's per-step INFO logging is silenced


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["region=huge"], "region='huge' is not allowed: allowed values large, small, volgograd_rural_2021"),
        (["bogus=1"], "unknown key 'bogus'"),
        (["trust.gosip=0.1"], "unknown key 'trust.gosip'"),
        (["trust.gossip=2"], "trust.gossip=2 out of range: allowed 0..1"),
        (["+trust.extra=1"], "unknown key 'trust.extra'"),
        (["seed=abc"], "seed='abc' is not an integer"),
        (["steps"], "is not an override"),
        (["-m", "seed=1,2", "trust.gossip=0.1,5"], "out of range"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, args, fragment):
    out = tmp_path / "never"
    r = sim_run(*args, f"hydra.run.dir={out}", f"hydra.sweep.dir={out}")
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert fragment in lines[0]
    assert not out.exists()


def test_every_key_of_a_group_can_be_overridden_with_any_option():
    from analysis.experiment import compose

    cfg = compose(["cluster=on", "cluster.launch_month=24", "rc_model=municipal_rc", "rc_model.network=true",
                   "rc_model=administrative", "rc_model.bridging=3"])  # fmt: skip
    assert cfg.cluster.enabled and cfg.cluster.launch_month == 24
    assert cfg.rc_model.model == "administrative" and cfg.rc_model.bridging == 3.0 and cfg.rc_model.staff == 1.0
