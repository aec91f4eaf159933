"""Sweeps: launcher equivalence, resume after a killed sweep, failures, collection, sensitivity."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.sensitivity import load_spec, morris, prim, sobol
from analysis.sweep import collect, plot_sweep
from sim.params import ConfigError

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["steps=8", "output.plots=false", "region.families=1000"]


def sweep(out: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "sim", "-m", f"hydra.sweep.dir={out}", *SMALL, *args]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def tables(job: Path) -> dict[str, bytes]:
    return {t: (job / f"{t}.parquet").read_bytes() for t in ("timeseries", "flows", "partnerships")}


def test_same_seeds_same_results_whatever_the_launcher(tmp_path):
    basic = sweep(tmp_path / "basic", "seed=1,2,3", "rc_model=none,municipal_rc")
    assert basic.returncode == 0, basic.stderr
    joblib = sweep(tmp_path / "joblib", "seed=1,2,3", "rc_model=none,municipal_rc", "hydra/launcher=joblib",
                   "hydra.launcher.n_jobs=2")  # fmt: skip
    assert joblib.returncode == 0, joblib.stderr
    jobs = sorted(p.name for p in (tmp_path / "basic").iterdir() if p.is_dir())
    assert len(jobs) == 6
    for j in jobs:
        assert tables(tmp_path / "basic" / j) == tables(tmp_path / "joblib" / j)
    assert "6/6 done" in joblib.stderr + joblib.stdout


def test_resume_after_a_killed_sweep(tmp_path):
    out = tmp_path / "sw"
    cmd = [sys.executable, "-m", "sim", "-m", f"hydra.sweep.dir={out}", "steps=60", "output.plots=false", "seed=1,2,3,4"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and not (out / "0" / "COMPLETED").exists():
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # killed in the middle of the sweep
    proc.wait()
    assert (out / "0" / "COMPLETED").exists()
    done_before = {p.parent.name for p in out.glob("*/COMPLETED")}
    assert len(done_before) < 4
    first = (out / "0" / "timeseries.parquet").stat().st_mtime_ns
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    log = r.stderr + r.stdout
    skipped = [line for line in log.splitlines() if "already complete, skipped" in line]
    assert len(skipped) == len(done_before)
    for j in done_before:
        assert any(f"seed={int(j) + 1} " in line for line in skipped)
    assert (out / "0" / "timeseries.parquet").stat().st_mtime_ns == first  # not redone
    assert {p.parent.name for p in out.glob("*/COMPLETED")} == {"0", "1", "2", "3"}
    assert not list(out.glob("*/*.tmp"))  # no half-written table left behind
    # a finished job is identical to one run in one go
    fresh_cmd = [
        sys.executable,
        "-m",
        "sim",
        "-m",
        f"hydra.sweep.dir={tmp_path / 'fresh'}",
        "steps=60",
        "output.plots=false",
        "seed=4",
    ]
    assert subprocess.run(fresh_cmd, cwd=ROOT, capture_output=True, timeout=600).returncode == 0
    assert (out / "3" / "timeseries.parquet").read_bytes() == (tmp_path / "fresh" / "0" / "timeseries.parquet").read_bytes()


def test_a_failed_job_is_reported_and_the_others_go_on(tmp_path):
    out = tmp_path / "sw"
    (out / "1" / "timeseries.parquet").mkdir(parents=True)  # job 1 cannot write its table
    r = sweep(out, "seed=1,2,3")
    assert r.returncode == 1
    assert "1 job(s) failed" in r.stderr
    info = json.loads((out / "1" / "FAILED.json").read_text())
    assert "seed=2" in info["overrides"]
    assert (out / "0" / "COMPLETED").exists() and (out / "2" / "COMPLETED").exists()
    assert json.loads((out / "failures.json").read_text())[0]["overrides"] == info["overrides"]


def test_collect_and_plot_a_sweep(tmp_path):
    out = tmp_path / "sw"
    assert sweep(out, "seed=1,2", "rc_model=none,public_development_centre", "trust.gossip=0.1").returncode == 0
    runs, outcomes = collect(out)
    assert len(outcomes) == 4 and len(runs) == 4 * 9
    assert {"seed", "rc_model", "trust.gossip"} <= set(outcomes.columns)
    assert outcomes["trust.gossip"].eq(0.1).all() and outcomes["seed"].dtype.kind == "i"
    assert sorted(outcomes["rc_model"].unique()) == ["none", "public_development_centre"]
    assert (out / "sweep.parquet").exists()
    back = pd.read_parquet(out / "outcomes.parquet")
    assert back.shape == outcomes.shape and "wellbeing" in back and "peak_rss_mb" in back
    files = plot_sweep(out, by=["rc_model"])
    names = {f.name for f in files}
    for stem in ("curves", "final_outcomes", "money_by_channel", "partnerships_by_form", "trust_network"):
        assert f"{stem}.png" in names and f"{stem}.svg" in names


def test_collect_rejects_an_empty_folder(tmp_path):
    with pytest.raises(FileNotFoundError):
        collect(tmp_path)
    r = subprocess.run([sys.executable, "-m", "analysis.sweep", "plot", str(tmp_path / "nope")], cwd=ROOT,
                       capture_output=True, text=True)  # fmt: skip
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1


def test_tiny_morris_and_sobol(tmp_path):
    spec = load_spec(ROOT / "experiments" / "sensitivity" / "tiny.yaml")
    m = morris(spec, trajectories=3, jobs=1, out=tmp_path / "m")
    assert set(m["parameter"]) == set(spec.names)
    apply = m[(m["output"] == "reached_in_difficulty") & (m["parameter"] == "families.apply_prob")]["mu_star"].iloc[0]
    assert apply > 0  # applying drives uptake
    assert (tmp_path / "m" / "indices.csv").exists() and (tmp_path / "m" / "morris.png").exists()
    s = sobol(spec, n=8, jobs=1, out=tmp_path / "s")
    assert np.isfinite(s["ST"]).all() and (tmp_path / "s" / "sobol.svg").exists()


def test_prim_finds_the_box():
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (2000, 3))
    y = ((X[:, 0] > 0.6) & (X[:, 2] < 0.5)).astype(int)
    r = prim(X, y, ["a", "b", "c"])
    box = r["chosen"]["box"]
    assert r["chosen"]["density"] > 0.8 > r["base_density"]
    assert box["a"][0] > 0.45 and box["c"][1] < 0.65
    assert box["b"][1] - box["b"][0] > 0.6  # b does not matter


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("name: x\nparameters: {trust.gosip: [0, 1], trust.gossip: [0, 1]}\n", "not a model parameter"),
        ("name: x\nparameters: {trust.gossip: [0, 2], trust.forgetting: [0.5, 1]}\n", "outside the allowed"),
        ("name: x\nparameters: {trust.gossip: [1, 0], trust.forgetting: [0.5, 1]}\n", "low < high"),
        ("name: x\noutputs: [happiness]\nparameters: {trust.gossip: [0, 1], trust.forgetting: [0.5, 1]}\n", "allowed"),
        ("name: x\nwhat: 1\n", "unknown key 'what'"),
    ],
)
def test_bad_sensitivity_specs(tmp_path, text, fragment):
    f = tmp_path / "s.yaml"
    f.write_text(text)
    with pytest.raises(ConfigError, match=fragment):
        load_spec(f)


# ----------------------------------------------------------------------------- dataset layout (sim.batch)
DATASET = ["hydra.sweeper.layout=dataset", "hydra.sweeper.runs_per_job=2", "hydra.sweeper.part_runs=1"]


def test_dataset_rows_are_the_single_runs_and_launchers_agree_byte_for_byte(tmp_path):
    from sim.batch import committed_jobs, read_table

    args = ("seed=1,2,3", "rc_model=none,municipal_rc")
    folders = sweep(tmp_path / "folders", *args, "hydra.sweeper.layout=folders")
    assert folders.returncode == 0, folders.stderr
    ds = sweep(tmp_path / "ds", *args, *DATASET, "hydra.sweeper.tables=[timeseries,outcomes,flows,partnerships]")
    assert ds.returncode == 0, ds.stderr
    assert "6/6 done" in ds.stderr + ds.stdout
    assert not list((tmp_path / "ds").glob("[0-9]*"))  # no folder per run
    assert committed_jobs(tmp_path / "ds") == set(range(6))
    for table in ("timeseries", "flows", "partnerships"):
        data = read_table(tmp_path / "ds", table)
        for j in range(6):
            single = pd.read_parquet(tmp_path / "folders" / str(j) / f"{table}.parquet")
            rows = data[data["job"] == j].drop(columns="job").reset_index(drop=True)
            pd.testing.assert_frame_equal(rows, single, check_exact=True)
    outcomes = read_table(tmp_path / "ds", "outcomes")
    for j in range(6):
        man = json.loads((tmp_path / "folders" / str(j) / "manifest.json").read_text())
        row = outcomes[outcomes["job"] == j].iloc[0]
        for k, v in man["outcomes"].items():
            assert row[k] == v or (np.isnan(row[k]) and np.isnan(v)), k
    # collected tables: same content as the folder layout's
    r_f, o_f = collect(tmp_path / "folders")
    r_d, o_d = collect(tmp_path / "ds")
    assert set(o_f.columns) == set(o_d.columns)
    o_f["job"] = o_f["job"].astype(int)
    cols = [c for c in o_f.columns if c != "peak_rss_mb"]
    pd.testing.assert_frame_equal(o_f[cols], o_d[cols], check_exact=True)
    r_f["job"] = r_f["job"].astype(int)
    pd.testing.assert_frame_equal(r_f[r_d.columns], r_d, check_exact=True)
    # another launcher, two workers: every part file byte-identical
    jl = sweep(tmp_path / "jl", *args, *DATASET, "hydra.sweeper.tables=[timeseries,outcomes,flows,partnerships]",
               "hydra/launcher=joblib", "hydra.launcher.n_jobs=2")  # fmt: skip
    assert jl.returncode == 0, jl.stderr
    for table in ("timeseries", "outcomes", "flows", "partnerships"):
        a = sorted((tmp_path / "ds" / "data" / table).iterdir())
        b = sorted((tmp_path / "jl" / "data" / table).iterdir())
        assert [f.name for f in a] == [f.name for f in b] and len(a) == 6
        assert all(x.read_bytes() == y.read_bytes() for x, y in zip(a, b, strict=True))


def test_dataset_sweep_resumes_after_a_kill_with_no_run_lost_or_doubled(tmp_path):
    from sim.batch import read_table

    out = tmp_path / "sw"
    cmd = [sys.executable, "-m", "sim", "-m", f"hydra.sweep.dir={out}", "steps=36", "output.plots=false",
           "seed=range(1,9)", *DATASET[:1], "hydra.sweeper.runs_per_job=4", "hydra.sweeper.part_runs=1"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    runs = out / "data" / "runs"
    deadline = time.time() + 300
    while time.time() < deadline and len(list(runs.glob("part-*.parquet"))) < 2:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # killed in the middle of the sweep
    proc.wait()
    before = {f.name: f.stat().st_mtime_ns for f in runs.glob("part-*.parquet")}
    assert 2 <= len(before) < 8
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert f"{len(before)} already finished" in r.stderr + r.stdout
    assert {f.name: f.stat().st_mtime_ns for f in runs.glob("part-*.parquet") if f.name in before} == before  # not redone
    meta = read_table(out, "runs")
    assert sorted(meta["job"]) == list(range(8))  # none lost, none doubled
    ts = read_table(out, "timeseries")
    assert ts.groupby("job").size().eq(37).all() and set(ts["job"]) == set(range(8))
    assert not list(out.glob("data/*/*.tmp"))
    fresh = subprocess.run([sys.executable, "-m", "sim", "-m", f"hydra.sweep.dir={tmp_path / 'fresh'}", "steps=36",
                            "output.plots=false", "seed=8"], cwd=ROOT, capture_output=True, timeout=600)  # fmt: skip
    assert fresh.returncode == 0
    single = pd.read_parquet(tmp_path / "fresh" / "0" / "timeseries.parquet")
    pd.testing.assert_frame_equal(ts[ts["job"] == 7].drop(columns="job").reset_index(drop=True), single, check_exact=True)


def test_dataset_chunk_records_a_failed_run_and_goes_on(tmp_path):
    from sim.batch import PLAN, committed_jobs, make_plan, progress_counts, read_failures, run_chunk
    from sim.run import write_json

    jobs = [["steps=4", "region.families=1000", "seed=1"], ["steps=4", "region.families=1000", "seed=-5"],
            ["steps=4", "region.families=1000", "seed=3"]]  # fmt: skip
    write_json(make_plan(jobs, runs_per_job=3, part_runs=2).to_json(), tmp_path / PLAN)
    counts = run_chunk(tmp_path, 0)
    assert counts == {"ran": 2, "skipped": 0, "failed": 1}
    assert committed_jobs(tmp_path) == {0, 2}
    (fail,) = read_failures(tmp_path)
    assert fail["job"] == 1 and "seed=-5" in fail["overrides"] and "out of range" in fail["error"]
    assert progress_counts(tmp_path) == (2, 1)  # the driver removes .progress at the end of a sweep
    assert run_chunk(tmp_path, 0)["skipped"] == 2  # resume: only the failed run is tried again


def test_dataset_sweep_refuses_a_different_sweep_in_the_same_folder(tmp_path):
    out = tmp_path / "sw"
    assert sweep(out, "seed=1,2", *DATASET).returncode == 0
    plan = (out / "plan.json").read_bytes()
    r = sweep(out, "seed=1,2,3", *DATASET)
    assert r.returncode == 2 and "holds a different sweep" in r.stderr
    assert (out / "plan.json").read_bytes() == plan


@pytest.mark.parametrize(
    "override, fragment",
    [
        ("hydra.sweeper.layout=flat", "hydra.sweeper.layout='flat' is not allowed"),
        ("hydra.sweeper.tables=[timeseries,ledger]", "hydra.sweeper.tables='ledger' is not allowed"),
        ("hydra.sweeper.runs_per_job=0", "hydra.sweeper.runs_per_job=0 is not allowed"),
    ],
)
def test_bad_sweeper_settings(tmp_path, override, fragment):
    r = sweep(tmp_path / "sw", "seed=1,2", "hydra.sweeper.layout=dataset", override)
    assert r.returncode == 2 and fragment in r.stderr
    assert not (tmp_path / "sw" / "plan.json").exists()


def test_prevalidation_of_a_large_sweep_checks_every_value():
    from sim.cli import prevalidate

    assert prevalidate(["-m", "seed=range(1,10001)", "rc_model=none,municipal_rc"]) == 20000
    with pytest.raises(ConfigError, match="trust.gossip=1.5 out of range"):
        prevalidate(["-m", "seed=range(1,5000)", "trust.gossip=0.1,0.5,1.5"])
    with pytest.raises(ConfigError, match="seed=-3 out of range"):
        prevalidate(["-m", "seed=range(-3,5000)"])


def test_plot_a_dataset_sweep_directly(tmp_path):
    out = tmp_path / "sw"
    assert sweep(out, "seed=1,2", "rc_model=none,municipal_rc", *DATASET,
                 "hydra.sweeper.tables=[timeseries,outcomes,network]").returncode == 0  # fmt: skip
    names = {f.name for f in plot_sweep(out)}  # the arms: the overrides that vary besides the seed
    for stem in ("curves", "final_outcomes", "money_by_channel", "partnerships_by_form", "trust_network"):
        assert f"{stem}.png" in names
    runs = pd.read_parquet(out / "sweep.parquet")
    assert sorted(runs["rc_model"].unique()) == ["municipal_rc", "none"] and len(runs) == 4 * 9


@pytest.mark.parametrize(
    "overrides",
    [
        ["seed=7"],
        ["seed=7", "trust.gossip=0.3", "steps=12", "seed=9"],
        ["rc_model=municipal_rc", "region=large", "finance.subsidy_size=1e6", "output.plots=false"],
        ["cluster=on", "region.families=1000", "families.apply_prob=0.25"],
    ],
)
def test_config_factory_equals_full_validation(overrides):
    from sim.batch import ConfigFactory, compose
    from sim.params import build_config

    f = ConfigFactory()
    assert f.build(overrides) == build_config(f.data(overrides))
    groups = [o for o in overrides if o.partition("=")[0] in f.groups]
    data = compose(groups)
    for o in overrides:
        if o not in groups:
            node = data
            *parents, leaf = o.partition("=")[0].split(".")
            for p in parents:
                node = node[p]
            node[leaf] = f.value(o)
    assert f.build(overrides) == build_config(data)
    with pytest.raises(ConfigError, match="trust.gossip=2 out of range"):
        f.build([*overrides, "trust.gossip=2"])


# ----------------------------------------------------------------------------- chunking (runs_per_job=auto)
def test_auto_chunks_follow_the_launchers_workers():
    from omegaconf import OmegaConf

    from hydra_plugins.sim_sweeper.prevalidated_sweeper import launcher_workers
    from sim.batch import AUTO_MAX_RUNS, CHUNKS_PER_WORKER, make_plan

    jobs = [[f"seed={s}"] for s in range(1, 1001)]
    two = make_plan(jobs, workers=2)
    assert two.n_chunks == 2 * CHUNKS_PER_WORKER and two.runs_per_job == 125  # 4 chunks per worker
    assert make_plan(jobs, workers=None).n_chunks == 16  # unknown workers: 16 chunks
    assert make_plan(jobs * 10, workers=2).runs_per_job == AUTO_MAX_RUNS  # capped
    assert make_plan(jobs[:5], workers=64).runs_per_job == 1
    assert make_plan(jobs, runs_per_job=7, workers=2).runs_per_job == 7  # an explicit value wins

    def cfg(**launcher: object) -> object:
        return OmegaConf.create({"hydra": {"launcher": launcher}})

    joblib = "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher"
    assert launcher_workers(cfg(_target_=joblib, n_jobs=3)) == 3
    assert launcher_workers(cfg(_target_=joblib, n_jobs=-1)) == os.cpu_count()
    assert launcher_workers(cfg(_target_="hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher",
                                array_parallelism=64)) == 64  # fmt: skip
    assert launcher_workers(cfg(_target_="hydra_plugins.sim_sweeper.recording_launcher.RecordingLauncher")) == 1
    assert launcher_workers(cfg(_target_="hydra_plugins.hydra_ray_launcher.ray_launcher.RayLauncher")) is None


def test_dataset_is_the_same_whatever_the_chunking_and_resumes_with_other_workers(tmp_path):
    from sim.batch import read_plan, read_table

    args = ("seed=range(1,7)", "hydra.sweeper.layout=dataset", "hydra.sweeper.part_runs=2")
    auto = sweep(tmp_path / "auto", *args)  # the basic launcher: one worker, 4 chunks
    assert auto.returncode == 0, auto.stderr
    assert read_plan(tmp_path / "auto").runs_per_job == 2
    again = sweep(tmp_path / "auto", *args, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2")  # auto would say 1
    assert again.returncode == 0, again.stderr
    assert "6 already finished" in again.stderr + again.stdout and read_plan(tmp_path / "auto").runs_per_job == 2
    one = sweep(tmp_path / "one", *args, "hydra.sweeper.runs_per_job=1", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2")
    assert one.returncode == 0, one.stderr
    assert len(list((tmp_path / "one" / "data" / "runs").iterdir())) == 6
    for table in ("timeseries", "outcomes"):
        pd.testing.assert_frame_equal(read_table(tmp_path / "auto", table), read_table(tmp_path / "one", table),
                                      check_exact=True)  # fmt: skip
    collect(tmp_path / "auto")
    collect(tmp_path / "one")
    assert (tmp_path / "auto" / "sweep.parquet").read_bytes() == (tmp_path / "one" / "sweep.parquet").read_bytes()
