"""Hardening: the defects of issue 11 each have a test that fails when the fix is removed."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import make_cfg

from sim.model import CrossSectorModel
from sim.params import ConfigError, build_config, iter_parameters
from sim.state import FUND_ACCOUNTS

logging.getLogger("MESA").setLevel(logging.WARNING)
ROOT = Path(__file__).resolve().parent.parent
SEEDS = range(1, 9)


def run(cfg) -> CrossSectorModel:
    m = CrossSectorModel(cfg)
    for _ in range(cfg.steps):
        m.step()
    return m


# ------------------------------------------------------- giving at zero trust
@pytest.mark.parametrize(
    "changes",
    [
        {"trust.initial_institutional": (0.55, 0.45, 0.5, 0.4, 0.5, 0.0, 0.3, 0.4, 0.55), "trust.forgetting": 0.0},
        {"trust.initial_evidence": 0.0, "trust.initial_institutional": (0.5, 0.5, 0.5, 0.5, 0.5, 0.0, 0.5, 0.5, 0.5)},
        {"org.turnover_ngo": 1.0, "trust.initial_institutional": (0.5, 0.5, 0.5, 0.5, 0.5, 0.0, 0.5, 0.5, 0.5)},
    ],
)
def test_business_with_only_zero_trust_ties_gives_nothing_and_nothing_crashes(changes):
    for seed in (1, 2, 3):
        m = run(make_cfg(steps=12, seed=seed, **changes))
        # in the first month no business trusts any NGO (institutional trust 0, no evidence): no donation
        if changes.get("trust.initial_evidence") == 0.0:
            assert m.timeseries()["flow_donation_business"].iloc[1] == 0.0
        assert abs(m.ledger.balance.sum()) < 1e-3


def test_giving_kernel_splits_by_trust_squared_and_skips_zero_trust_businesses():
    from sim import agents as ag
    from sim.mechanisms.giving import business_giving

    # business 0 (org 0) -> NGOs 2, 3 with trust 0.5 and 0.25; business 1 (org 1) -> NGO 2 with trust 0
    src, dst = np.array([0, 0, 1]), np.array([2, 3, 2])
    r = np.array([1.0, 1.0, 0.0])
    s = np.array([1.0, 3.0, 4.0])  # trust r / (r + s) with no prior weight
    z3, z2 = np.zeros(3, np.int64), np.zeros(2, np.int64)
    ties = (src, dst, z3, z3, r, s, np.ones(3, bool), np.zeros(3, np.int32), np.full(8, -1, np.int64),
            np.zeros(8, np.int64), np.zeros((4, 3)), np.zeros(4, np.int64), 0.0, 4)  # fmt: skip
    sector = np.array([ag.SEC_BUSINESS, ag.SEC_BUSINESS, ag.SEC_NGO, ag.SEC_NGO], np.int8)
    orgs = (sector, np.zeros(4, np.int32), np.ones(4, bool), np.zeros((1, 1), bool))
    lay = (0, 0, 0, 2, 2, 2, 4, 1)  # region, muni0, biz0, manager, rc0, ngo0, n_orgs, n_muni
    ngos = (2, z2.astype(np.int8), np.zeros(2), np.zeros(2, bool), z2.astype(np.int32), np.zeros(2),
            z2.astype(np.int32), np.zeros(2, bool), np.zeros(2, bool), z2.astype(np.int8), z2.astype(np.int32),
            np.zeros(2), np.zeros(2, bool), np.zeros(2, bool))  # fmt: skip
    out = business_giving(np.arange(3), ties, orgs, lay, np.array([100.0, 50.0]), ngos, 0.5)
    b, n, cash, endow = out
    assert b.tolist() == [0, 0, 1] and n.tolist() == [2, 3, 2]
    assert cash[0] == pytest.approx(100.0 * 0.25 / (0.25 + 0.0625))
    assert cash[1] == pytest.approx(100.0 * 0.0625 / (0.25 + 0.0625))
    assert cash[2] == 0.0 and endow.sum() == 0.0


# ----------------------------------------------------------------- endowments
ENDOW = {"finance.endowment_share": 0.6, "finance.endowment_initial_share": 1.0}


def test_endowment_accounts_never_go_below_zero_with_volatile_returns():
    lost_principal = 0
    for seed in SEEDS:
        m = CrossSectorModel(make_cfg(steps=24, seed=seed, **ENDOW, **{"finance.endowment_return_sd": 2.0}))
        for _ in range(m.cfg.steps):
            cap_before = m.ledger.balance[m.cap0 : m.cap0 + m.n_ngo_slots].copy()
            m.step()
            cap = m.ledger.balance[m.cap0 : m.cap0 + m.n_ngo_slots]
            res = m.ledger.balance[m.res0 : m.res0 + m.n_ngo_slots]
            assert cap.min() >= -1e-6 and res.min() >= -1e-6
            assert np.isfinite(cap).all() and np.isfinite(res).all()
            lost_principal += int((cap < cap_before - 1e-6).sum())
    assert lost_principal > 0  # big losses reach the principal's market value (and stop at zero)


def test_endowment_returns_are_log_normal_with_the_declared_annual_mean():
    """With s.d. 0 a formed endowment grows by exactly (1 + mean) per year, month by month (1 + mean) ** (1/12)."""
    m = CrossSectorModel(make_cfg(steps=11, seed=3, **ENDOW, **{"finance.endowment_return_sd": 0.0}))
    formed = np.flatnonzero(m.ngo_endow_state == 2)
    assert formed.size > 0
    mv0 = m.ledger.balance[m.cap0 + formed] + m.ledger.balance[m.res0 + formed]
    for _ in range(11):  # months 0..10: no December payout, no donations to formed endowments
        m.step()
    keep = m.ngo_alive[formed]
    mv = m.ledger.balance[m.cap0 + formed] + m.ledger.balance[m.res0 + formed]
    np.testing.assert_allclose(mv[keep] / mv0[keep], 1.08 ** (11 / 12), rtol=1e-9)


def test_return_mean_of_minus_one_is_rejected():
    with pytest.raises(ConfigError, match="endowment_return_mean"):
        build_config({"finance": {"endowment_return_mean": -1.0}})


# ------------------------------------------------------------ growing NGO slots
GROW = {"region.ngos": 10, "region.ngo_slots_factor": 1.0, "region.families": 300, "org.ngo_birth_rate": 1.0}


def test_ngo_births_go_on_when_the_spare_slots_are_used_up():
    for seed in SEEDS:
        m = run(make_cfg(steps=24, seed=seed, **GROW))
        ts = m.timeseries()
        assert m.n_ngo_slots > 10  # slots were added
        assert ts["ngo_births"].iloc[-6:].sum() > 0  # births never stop
        assert ts["ngos_alive"].iloc[-1] > 10
        assert m.trust.n_orgs == m.n_orgs == m.alive.size == m.sector.size
        for arr in (m.ngo_capacity, m.ngo_born, m.ngo_endow_state, m.rc.practice, m.rc.supported):
            assert arr.size == m.n_ngo_slots
        assert m.cluster.zone.size == m.n_orgs


def test_grown_ledger_is_consistent_with_its_flows_and_labels():
    m = run(make_cfg(steps=24, seed=5, **GROW, **ENDOW))
    assert m.n_ngo_slots > 10
    f, acc = m.flows(), m.account_table()
    rebuilt = np.zeros(len(acc))
    np.add.at(rebuilt, f["dst"].to_numpy(), f["amount"].to_numpy())
    np.subtract.at(rebuilt, f["src"].to_numpy(), f["amount"].to_numpy())
    np.testing.assert_allclose(rebuilt, acc["balance"].to_numpy(), atol=1e-4)
    kinds = acc["kind"].value_counts()
    assert kinds["ngo"] == kinds["endowment_capital"] == kinds["endowment_reserve"] == m.n_ngo_slots
    assert (acc.loc[acc["kind"] == "external", "label"].tolist()) == [k for k in m.ext if k not in FUND_ACCOUNTS]
    assert (acc.loc[acc["kind"].isin(FUND_ACCOUNTS), "label"].tolist()) == list(FUND_ACCOUNTS)
    ch = f["channel"].astype(str)
    # founders' money of every born NGO reached an NGO account; market returns only touch endowment accounts
    assert set(acc.loc[f.loc[ch == "founder_contribution", "dst"], "kind"]) == {"ngo"}
    ret = f[ch == "endowment_return"]
    inside = acc.loc[np.where(ret["src"] == m.ext["financial_market"], ret["dst"], ret["src"]), "kind"]
    assert set(inside) <= {"endowment_capital", "endowment_reserve"}


def test_same_seed_same_results_with_growing_slots():
    a, b = run(make_cfg(steps=18, seed=2, **GROW)), run(make_cfg(steps=18, seed=2, **GROW))
    pd.testing.assert_frame_equal(a.timeseries(), b.timeseries())
    pd.testing.assert_frame_equal(a.flows(), b.flows())


# --------------------------------------------------- overrides without '+'
def test_every_declared_parameter_is_in_the_composed_config():
    """So every one of them can be set on the command line without '+'."""
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from sim.cli import CONFIG_DIR

    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        data = OmegaConf.to_container(compose(config_name="config"), resolve=True)
    missing = []
    for name, _default, _meta in iter_parameters():
        node = data
        for part in name.split("."):
            if not isinstance(node, dict) or part not in node:
                missing.append(name)
                break
            node = node[part]
    assert missing == []


def test_family_thread_override_without_plus():
    from analysis.experiment import compose

    cfg = compose(["region=large", "output.family_thread=false"])
    assert cfg.output.family_thread is False and cfg.region.families > 20_000


# ----------------------------------------------------------- validation
@pytest.mark.parametrize(
    "data, fragment",
    [
        ({"finance": {"endowment_initial_capital": [9e6, 3e6]}}, "finance.endowment_initial_capital=[9000000.0, 3000000.0]"),
        ({"partnership": {"duration_months": [24, 6]}}, "partnership.duration_months=[24, 6] is reversed"),
        ({"cluster": {"enabled": True, "launch_month": 60}, "steps": 60}, "cluster.launch_month=60 is not before steps=60"),
    ],
)
def test_nonsense_combinations_rejected(data, fragment):
    with pytest.raises(ConfigError) as exc:
        build_config(data)
    assert fragment in str(exc.value) and "allowed" in str(exc.value) and "\n" not in str(exc.value)


def test_equal_ends_and_a_late_launch_with_the_cluster_off_are_allowed():
    cfg = build_config({"partnership": {"duration_months": [12, 12]}, "cluster": {"launch_month": 600}, "steps": 24})
    assert cfg.partnership.duration_months == (12, 12) and not cfg.cluster.enabled


# ------------------------------------------------------------- atomic writes
def test_write_parquet_does_not_follow_a_tmp_symlink(tmp_path):
    from sim.run import write_json, write_parquet

    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    out = tmp_path / "run"
    out.mkdir()
    for name in ("timeseries.parquet", "manifest.json"):
        (out / f"{name}.tmp").symlink_to(victim)
        (out / f".{name}.tmp").symlink_to(victim)
    write_parquet(pd.DataFrame({"a": [1, 2]}), out / "timeseries.parquet")
    write_json({"a": 1}, out / "manifest.json")
    assert victim.read_text() == "keep me"
    assert pd.read_parquet(out / "timeseries.parquet")["a"].tolist() == [1, 2]
    assert (out / "manifest.json").read_text().strip().startswith("{")
    assert not (out / "timeseries.parquet").is_symlink()


def test_write_parquet_leaves_nothing_when_writing_fails(tmp_path):
    from sim.run import write_parquet

    with pytest.raises(Exception):  # noqa: B017 - pyarrow cannot store arbitrary objects
        write_parquet(pd.DataFrame({"a": [object()]}), tmp_path / "t.parquet")
    assert list(tmp_path.iterdir()) == []


# -------------------------------------------------------- failing sweep jobs
def test_a_job_hydra_cannot_run_is_recorded_and_the_sweep_goes_on(tmp_path):
    sweep = tmp_path / "s"
    sweep.mkdir()
    (sweep / "1").write_text("a file where job 1's folder should go")
    cmd = [sys.executable, "-m", "sim", "-m", f"hydra.sweep.dir={sweep}", "seed=1,2,3", "steps=2", "output.plots=false",
           "region.families=200"]  # fmt: skip
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600, env={**os.environ, "HYDRA_FULL_ERROR": "0"})
    assert r.returncode == 1, r.stderr
    assert "1 job(s) failed" in r.stderr.strip().splitlines()[-1]
    assert "Traceback" not in r.stderr
    assert (sweep / "0" / "COMPLETED").exists() and (sweep / "2" / "COMPLETED").exists()
    import json

    failures = json.loads((sweep / "failures.json").read_text())
    assert len(failures) == 1 and "seed=2" in failures[0]["overrides"]


# ------------------------------------------------------- tiny probabilities
def test_geometric_gaps_of_a_tiny_probability_stay_beyond_every_array():
    from sim.mechanisms.trust import geometric_positions

    lu = np.log(1.0 - np.random.default_rng(0).random(20))
    for p in (5e-324, 1e-300, 1e-19):
        pos = geometric_positions(lu, float(np.log1p(-p)), -1)
        assert (pos >= 2**40).all() and (np.diff(pos) >= 0).all()
    lq = float(np.log1p(-0.2))
    assert (geometric_positions(lu, lq, -1) == np.cumsum((lu / lq).astype(int) + 1) - 1).all()


def test_tiny_tie_rebuild_probability_renews_nothing_and_does_not_crash():
    for seed in (1, 2):
        m = run(make_cfg(steps=12, seed=seed, **{"trust.tie_rebuild": 1e-300, "org.turnover_ngo": 0.5}))
        assert m.timeseries()["ties_lost_turnover"].sum() > 0
        assert abs(m.ledger.balance.sum()) < 1e-3


def test_region_founds_the_cluster_endowment_only_with_money_it_has():
    big = {"cluster.enabled": True, "cluster.launch_month": 0, "cluster.launch_step_months": 0, "cluster.endowment": True,
           "cluster.endowment_seed": 3.0e7}
    for seed in (1, 2, 3):
        m = CrossSectorModel(make_cfg(steps=3, seed=seed, **big))
        for _ in range(3):
            m.step()
            assert m.ledger.balance[m.region] >= -1e-6
        slot = m.cluster.core - m.ngo0
        assert 0 < m.ledger.balance[m.cap0 + slot] < 3.0e7
