"""Real Ray (two nodes) and SLURM (controller + node) sweeps, inside network namespaces made by the test.

Run as root (``make test`` / ``.ci/run``); otherwise skipped with the reason.
``scripts/install_distributed.sh`` installs the tools (ray, hydra-ray-launcher
with --no-deps, submitit; Debian's slurmctld, slurmd, munge). No traffic leaves
the namespaces: Ray nodes talk over a veth pair between two namespaces
(10.215.0.1, 10.215.0.2); SLURM runs in one namespace with a veth pair inside it,
and every SLURM command runs there with ``SLURM_CONF`` pointing at the test's own
slurm.conf. Every process is killed by PID and the namespaces deleted at the end.

Each sweep is compared file by file with the same sweep on the basic launcher
(dataset layout, one run per part, so the part files do not depend on who ran
them or on interruptions), and a killed sweep is resumed with no run lost or
doubled.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from tests import netns

pytestmark = pytest.mark.distributed

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
SWEEP = ["steps=8", "region.families=1000", "output.plots=false", "hydra.sweeper.layout=dataset",
         "hydra.sweeper.runs_per_job=1", "hydra.sweeper.part_runs=1"]  # fmt: skip
LONG = ["steps=36", "region.families=1000", "output.plots=false", "hydra.sweeper.layout=dataset",
        "hydra.sweeper.runs_per_job=2", "hydra.sweeper.part_runs=1"]  # fmt: skip
TABLES = ("timeseries", "outcomes")


@pytest.fixture(scope="session")
def tools():
    if os.geteuid() != 0:
        pytest.skip("distributed tests: need root (network namespaces, Debian's SLURM daemons)")
    r = subprocess.run(["bash", str(ROOT / "scripts" / "install_distributed.sh")], cwd=ROOT, capture_output=True, text=True,
                       timeout=1800)  # fmt: skip
    if r.returncode != 0:
        pytest.skip(f"distributed tests: tools not installable: {(r.stderr or r.stdout).strip().splitlines()[-1:]}")
    reason = netns.available()
    if reason:
        pytest.skip(f"distributed tests: {reason}")


def basic(out: Path, *args: str) -> None:
    r = subprocess.run([PY, "-m", "sim", "-m", f"hydra.sweep.dir={out}", *args], cwd=ROOT, capture_output=True, text=True,
                       timeout=600)  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]


def same_parts(a: Path, b: Path) -> None:
    for t in TABLES:
        fa = sorted((a / "data" / t).glob("part-*.parquet"))
        fb = sorted((b / "data" / t).glob("part-*.parquet"))
        assert [f.name for f in fa] == [f.name for f in fb] and fa, t
        for x, y in zip(fa, fb, strict=True):
            assert x.read_bytes() == y.read_bytes(), f"{t}/{x.name} differs"


def runs_table(out: Path) -> pd.DataFrame:
    from sim.batch import read_table

    return read_table(out, "runs")


def wait_for_parts(out: Path, n: int, proc: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline and len(list((out / "data" / "runs").glob("part-*.parquet"))) < n:
        assert proc.poll() is None, "the sweep ended before it could be killed"
        time.sleep(0.1)


def kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=60)


# ----------------------------------------------------------------------------- Ray
@pytest.fixture(scope="module")
def ray_cluster(tools, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ray")
    head = worker = None
    try:
        head = netns.NetNS("sim15rayh")
        worker = netns.NetNS("sim15rayw")
        netns.veth(head, "10.215.0.1/24", worker, "10.215.0.2/24", "s15r")
        (tmp / "token").write_text("sim15-test-token\n")
        env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "token",
               "RAY_AUTH_TOKEN_PATH": str(tmp / "token"), "PYTHONPATH": str(ROOT)}  # fmt: skip
        ray = str(Path(PY).parent / "ray")
        common = ["--num-cpus=1", "--disable-usage-stats"]
        head.run([ray, "start", "--head", "--node-ip-address=10.215.0.1", "--port=6379", f"--temp-dir={tmp / 'h'}",
                  "--include-dashboard=false", *common],
                 env=env, timeout=180)  # fmt: skip
        worker.run([ray, "start", "--address=10.215.0.1:6379", "--node-ip-address=10.215.0.2", f"--temp-dir={tmp / 'w'}",
                    *common], env=env, timeout=180)  # fmt: skip
        yield head, worker, env, tmp
    finally:
        for ns in (worker, head):
            if ns is not None:
                ns.delete()


def ray_sweep(head: netns.NetNS, env: dict[str, str], out: Path, *args: str) -> list[str]:
    return [PY, "-m", "sim", "-m", "hydra/launcher=ray_cluster", "hydra.launcher.ray.init.address=10.215.0.1:6379",
            f"hydra.sweep.dir={out}", *args]  # fmt: skip


def test_ray_two_nodes_same_tables_as_the_basic_launcher(ray_cluster, tmp_path):
    head, worker, env, _ = ray_cluster
    basic(tmp_path / "basic", *SWEEP, "seed=1,2,3,4")
    r = head.run(ray_sweep(head, env, tmp_path / "ray", *SWEEP, "seed=1,2,3,4"), env=env, cwd=ROOT, timeout=600)
    assert "4/4 done" in r.stdout + r.stderr
    same_parts(tmp_path / "basic", tmp_path / "ray")
    nodes = set(runs_table(tmp_path / "ray")["node"])
    spaces = {os.readlink(f"/proc/{ns.pids()[0]}/ns/net") for ns in (head, worker)}
    assert {n.rsplit("/", 1)[1] for n in nodes} == spaces  # both Ray nodes ran chunks


def test_ray_killed_sweep_resumes_with_no_run_lost_or_doubled(ray_cluster, tmp_path):
    head, _worker, env, _ = ray_cluster
    out = tmp_path / "ray"
    cmd = ray_sweep(head, env, out, *LONG, "seed=range(1,9)")
    proc = head.popen(cmd, env=env, cwd=ROOT, log=tmp_path / "first.log")
    wait_for_parts(out, 1, proc)
    kill_group(proc)  # the driver dies; Ray ends its tasks with it
    time.sleep(3)
    before = {f.name for f in (out / "data" / "runs").glob("part-*.parquet")}
    assert 1 <= len(before) < 8
    r = head.run(cmd, env=env, cwd=ROOT, timeout=600)
    assert f"{len(before)} already finished" in r.stdout + r.stderr
    assert sorted(runs_table(out)["job"]) == list(range(8))
    basic(tmp_path / "basic", *LONG, "seed=range(1,9)")
    same_parts(tmp_path / "basic", out)


# ----------------------------------------------------------------------------- SLURM
SLURM_CONF = """\
ClusterName=sim15
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={d}/munge.sock
SlurmctldPort=16817
SlurmdPort=16818
StateSaveLocation={d}/state
SlurmdSpoolDir={d}/spool
SlurmctldPidFile={d}/slurmctld.pid
SlurmdPidFile={d}/slurmd.pid
SlurmctldLogFile={d}/slurmctld.log
SlurmdLogFile={d}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=localhost NodeAddr=127.0.0.1 CPUs=2 RealMemory=4000 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
"""


@pytest.fixture(scope="module")
def slurm_cluster(tools, tmp_path_factory):
    d = tmp_path_factory.mktemp("slurm")
    ns = None
    try:
        ns = netns.NetNS("sim15slurm")
        netns.veth(ns, "10.215.1.1/24", ns, "10.215.1.2/24", "s15s")  # slurm ignores loopback-only hosts
        for sub in ("state", "spool"):
            (d / sub).mkdir()
        (d / "slurm.conf").write_text(textwrap.dedent(SLURM_CONF.format(d=d)))
        with open(d / "munge.key", "wb") as f:
            f.write(os.urandom(1024))
        os.chmod(d / "munge.key", 0o600)
        env = {**os.environ, "SLURM_CONF": str(d / "slurm.conf"), "PYTHONPATH": str(ROOT)}
        munged = shutil.which("munged") or "/usr/sbin/munged"
        ns.run([munged, "--force", f"--socket={d}/munge.sock", f"--key-file={d}/munge.key", f"--pid-file={d}/munged.pid",
                f"--log-file={d}/munged.log", f"--seed-file={d}/munged.seed"], env=env)  # fmt: skip
        ns.popen([shutil.which("slurmctld") or "/usr/sbin/slurmctld", "-D", "-f", str(d / "slurm.conf")], env=env,
                 log=d / "slurmctld.out")  # fmt: skip
        ns.popen([shutil.which("slurmd") or "/usr/sbin/slurmd", "-D", "-f", str(d / "slurm.conf")], env=env,
                 log=d / "slurmd.out", enter=True)  # fmt: skip
        deadline = time.time() + 60
        while True:
            r = ns.run(["sinfo", "-h", "-o", "%T"], env=env, check=False)
            if r.returncode == 0 and r.stdout.strip() in ("idle", "mixed", "allocated"):
                break
            if time.time() > deadline:
                logs = "".join((d / f).read_text()[-1500:] for f in ("slurmctld.log", "slurmd.log") if (d / f).exists())
                raise RuntimeError(f"SLURM did not come up: {r.stdout} {r.stderr} {logs}")
            time.sleep(0.5)
        yield ns, env
    finally:
        if ns is not None:
            ns.delete()


SLURM_LAUNCH = ["hydra/launcher=slurm", "hydra.launcher.partition=debug", "hydra.launcher.timeout_min=10",
                "hydra.launcher.cpus_per_task=1", "hydra.launcher.mem_gb=1", "hydra.launcher.array_parallelism=2"]  # fmt: skip


def test_slurm_same_tables_as_the_basic_launcher(slurm_cluster, tmp_path):
    ns, env = slurm_cluster
    basic(tmp_path / "basic", *SWEEP, "seed=1,2,3")
    r = ns.run([PY, "-m", "sim", "-m", *SLURM_LAUNCH, f"hydra.sweep.dir={tmp_path / 'slurm'}", *SWEEP, "seed=1,2,3"],
               env=env, cwd=ROOT, timeout=600)  # fmt: skip
    assert "3/3 done" in r.stdout + r.stderr
    same_parts(tmp_path / "basic", tmp_path / "slurm")
    assert runs_table(tmp_path / "slurm")["worker"].nunique() == 3  # one array task (process) per chunk


def test_slurm_killed_sweep_resumes_with_no_run_lost_or_doubled(slurm_cluster, tmp_path):
    ns, env = slurm_cluster
    out = tmp_path / "slurm"
    cmd = [PY, "-m", "sim", "-m", *SLURM_LAUNCH, f"hydra.sweep.dir={out}", *LONG, "seed=range(1,9)"]
    proc = ns.popen(cmd, env=env, cwd=ROOT, log=tmp_path / "first.log")
    wait_for_parts(out, 1, proc)
    kill_group(proc)
    ns.run(["scancel", "--user=root"], env=env)  # the cluster kills the array job too (as on a time limit)
    deadline = time.time() + 60
    while ns.run(["squeue", "-h"], env=env).stdout.strip() and time.time() < deadline:
        time.sleep(0.5)
    before = {f.name for f in (out / "data" / "runs").glob("part-*.parquet")}
    assert 1 <= len(before) < 8
    r = ns.run(cmd, env=env, cwd=ROOT, timeout=600)
    assert f"{len(before)} already finished" in r.stdout + r.stderr
    assert sorted(runs_table(out)["job"]) == list(range(8))
    basic(tmp_path / "basic", *LONG, "seed=range(1,9)")
    same_parts(tmp_path / "basic", out)
