"""Docs claims checked against what the code does: README output table, region list, error text, ODD streams."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from conftest import make_cfg

from sim.cli import config_groups
from sim.model import CrossSectorModel, run_model

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
ODD = (ROOT / "docs" / "ODD.md").read_text()


def _readme_output_table() -> list[str]:
    block = README.split("`make run` writes into", 1)[1].split("\n\n", 2)[1]
    return [re.match(r"\| `([^`]+)`", ln).group(1) for ln in block.splitlines() if re.match(r"\| `", ln)]


def test_readme_output_table_lists_exactly_what_a_run_writes(tmp_path):
    out = tmp_path / "run"
    r = subprocess.run([sys.executable, "-m", "sim", "steps=2", f"hydra.run.dir={out}"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    written = set()
    for p in out.iterdir():
        if p.is_dir():
            files = sorted(q.suffix for q in p.iterdir())
            written.add(f"{p.name}/*{files[0]}" if p.name == "plots" and set(files) == {".png"} else f"{p.name}/")
        else:
            written.add(p.name)
    assert set(_readme_output_table()) == written


def test_readme_region_list_and_error_text_match_the_configs():
    regions = config_groups()["region"]
    listed = re.search(r"`region` \(([^)]*)\)", README).group(1)
    assert sorted(re.findall(r"`([^`]+)`", listed)) == regions
    r = subprocess.run([sys.executable, "-m", "sim", "region=huge"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 2
    shown = re.search(r"\$ \.venv/bin/sim-run region=huge\n(.*)\n", README).group(1)
    assert r.stderr.strip() == shown


def test_odd_lists_every_random_stream_the_model_uses():
    bullet = ODD.split("**Stochasticity.**", 1)[1].split("\n- **", 1)[0]
    listed = set(re.findall(r"`([a-z_]+)`", bullet)) - {"rc_model"}
    used: set[str] = set()
    for kw in (
        {},
        {"rc_model.model": "municipal_rc"},
        {"cluster.enabled": True, "cluster.launch_month": 0, "cluster.launch_step_months": 0, "cluster.sessions": (1,)},
        {"councils.seat_rule": "lottery", "org_struct.house": True},
        {"community_foundations.enabled": True, "fairs.enabled": True, "fairs.months": (1,), "finance.specialised_fund": True},
        {"mentoring.enabled": True, "mentoring.eligible_months": 0, "finance.request_propensity_shape": 1.0,
         "finance.apply_propensity_shape": 1.0},
    ):
        used |= set(run_model(make_cfg(steps=10, **kw)).streams.names())  # every default fund's first month (Oct)
    m = CrossSectorModel(make_cfg(steps=2))
    m.cluster.session_now()  # a session called from the dashboard
    used |= set(m.streams.names())
    assert used <= listed, f"streams used but not in docs/ODD.md: {sorted(used - listed)}"
    assert listed <= used, f"streams in docs/ODD.md no run uses: {sorted(listed - used)}"


def test_odd_mentions_the_opening_cash_reserve():
    assert "initial_cash_reserve" in ODD and "initial_cash_months" in ODD
