"""Same config + seed -> byte-identical tables; named streams are independent."""

import numpy as np
from conftest import make_cfg

from sim.rng import Streams
from sim.run import TABLES, run


def test_same_seed_byte_identical_tables(tmp_path):
    cfg = make_cfg(steps=18, seed=5)
    run(cfg, tmp_path / "a")
    run(cfg, tmp_path / "b")
    for t in TABLES:
        a = (tmp_path / "a" / f"{t}.parquet").read_bytes()
        b = (tmp_path / "b" / f"{t}.parquet").read_bytes()
        assert a == b, t
    assert (tmp_path / "a" / "COMPLETED").exists()


def test_different_seed_differs(tmp_path):
    run(make_cfg(steps=12, seed=5), tmp_path / "a")
    run(make_cfg(steps=12, seed=6), tmp_path / "b")
    assert (tmp_path / "a" / "timeseries.parquet").read_bytes() != (tmp_path / "b" / "timeseries.parquet").read_bytes()


def test_streams_do_not_depend_on_each_other():
    s1 = Streams(42)
    a1 = s1["alpha"].random(5)
    s2 = Streams(42)
    s2["beta"].random(1000)  # another mechanism draws first and more
    a2 = s2["alpha"].random(5)
    np.testing.assert_array_equal(a1, a2)
    assert not np.array_equal(Streams(42)["alpha"].random(5), Streams(42)["beta"].random(5))
    assert not np.array_equal(Streams(42)["alpha"].random(5), Streams(43)["alpha"].random(5))


def test_extra_draws_in_one_mechanism_leave_others_unchanged():
    """More draws in the turnover stream change who leaves, but not the families' draws."""
    from sim.model import CrossSectorModel

    m1 = CrossSectorModel(make_cfg(steps=3, **{"output.family_thread": False}))
    m2 = CrossSectorModel(make_cfg(steps=3, **{"output.family_thread": False}))
    m2.streams["turnover"].random(12345)  # the turnover mechanism draws more
    for _ in range(3):
        m1.step()
        m2.step()
    assert m1.timeseries()["ties_lost_turnover"].tolist() != m2.timeseries()["ties_lost_turnover"].tolist()
    for name in ("family_transitions", "uptake"):  # one draw per family and month, whatever organisations do
        np.testing.assert_array_equal(m1.streams[name].random(10), m2.streams[name].random(10), err_msg=name)


def test_family_thread_gives_the_same_results(tmp_path):
    """The families' passes in a second thread change timing only, never results."""
    from sim.model import FAMILY_THREAD_MIN, CrossSectorModel

    kw = {"cluster.enabled": True, "cluster.launch_month": 6, "region.families": FAMILY_THREAD_MIN}
    on = make_cfg(steps=24, seed=9, **{"output.family_thread": True, **kw})
    off = make_cfg(steps=24, seed=9, **{"output.family_thread": False, **kw})
    assert CrossSectorModel(on).family_thread and not CrossSectorModel(off).family_thread
    run(on, tmp_path / "on")
    run(off, tmp_path / "off")
    for t in TABLES:
        assert (tmp_path / "on" / f"{t}.parquet").read_bytes() == (tmp_path / "off" / f"{t}.parquet").read_bytes(), t


def test_a_run_does_not_depend_on_the_process_it_runs_in(tmp_path):
    """A sweep runs seeds in one process (basic launcher), in reused workers (Ray) or one per array
    task (SLURM): the same run must give the same bytes whatever ran before it in the process, the
    string-hash seed, the thread settings and the working directory."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from sim.cli import compose

    root = Path(__file__).resolve().parent.parent
    ovs = ["region=small", "rc_model=public_development_centre", "cluster=on", "cluster.launch_month=3",
           "scenario.endowments=true", "steps=24", "seed=3", "output.plots=false"]  # fmt: skip
    run(
        compose(["region=small", "cluster=on", "cluster.launch_month=2", "steps=12", "seed=9", "output.plots=false"]),
        tmp_path / "before",
    )  # fmt: skip  (something else ran first in this process)
    run(compose(ovs), tmp_path / "here")
    env = {**os.environ, "PYTHONHASHSEED": "12345", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "NUMBA_NUM_THREADS": "1", "PYTHONPATH": str(root)}  # fmt: skip
    (tmp_path / "cwd").mkdir()
    subprocess.run([sys.executable, "-m", "sim", *ovs, f"hydra.run.dir={tmp_path / 'fresh'}"], env=env,
                   cwd=tmp_path / "cwd", check=True, capture_output=True, timeout=600)  # fmt: skip
    for t in TABLES:
        assert (tmp_path / "here" / f"{t}.parquet").read_bytes() == (tmp_path / "fresh" / f"{t}.parquet").read_bytes(), t
