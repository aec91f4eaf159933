"""A table of bad inputs at every command line: each exits 2 with one line on stderr naming the key or file and what
is allowed, and leaves nothing written (no output folder, no half-written file)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ROOT / "tests" / "data" / "volgograd_2021_calibration.yaml"
PARAM = "parameters:\n  finance.request_prob: [0.02, 0.2]\n  partnership.proposal_rate: [0.1, 1.0]\n"
NOT_UTF8 = b"name: x\nquestion: \xff\xfe\narms:\n  a: [seed=1]\n"


def tree(root: Path) -> dict[str, bytes | None]:
    """Every path under root with its bytes (None for folders)."""
    return {str(p.relative_to(root)): (None if p.is_dir() else p.read_bytes()) for p in sorted(root.rglob("*"))}


# ------------------------------------------------------------- the programs
def in_process(main: Callable[..., None], argv_style: bool = False) -> Callable[[list[str], Path], tuple[int, str]]:
    """Call a command's ``main`` in this process (faster than a subprocess); return (exit code, stderr)."""

    def call(args: list[str], cwd: Path) -> tuple[int, str]:
        import contextlib
        import io
        import os

        err = io.StringIO()
        old_cwd, old_argv = os.getcwd(), sys.argv
        os.chdir(cwd)
        try:
            with contextlib.redirect_stderr(err):
                if argv_style:
                    sys.argv = ["prog", *args]
                    main()
                else:
                    main(args)
            code = 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
        finally:
            os.chdir(old_cwd)
            sys.argv = old_argv
        return code, err.getvalue()

    return call


def subprocess_run(module: str) -> Callable[[list[str], Path], tuple[int, str]]:
    def call(args: list[str], cwd: Path) -> tuple[int, str]:
        r = subprocess.run([sys.executable, "-m", module, *args], cwd=cwd, capture_output=True, text=True, timeout=300)
        return r.returncode, r.stderr

    return call


def _programs() -> dict[str, Callable[[list[str], Path], tuple[int, str]]]:
    from analysis import experiment, sensitivity, sweep, validate
    from sim import cli

    return {
        "sim-run": in_process(cli.main, argv_style=True),
        "sim-run (subprocess)": subprocess_run("sim"),
        "sim-experiment": in_process(experiment.main),
        "sim-sensitivity": in_process(sensitivity.main),
        "sim-analyze": in_process(sweep.main),
        "sim-validate": in_process(validate.main_validate),
        "sim-calibrate": in_process(validate.main_calibrate),
    }


PROGRAMS = _programs()


def exp(extra: str) -> str:
    return f"question: q\nsteps: 2\nseeds: 1\narms:\n  a: [seed=1]\n{extra}\n"


def cal(extra: str) -> str:
    return f"targets: {TARGETS}\n{extra}\n{PARAM}"


def sens(extra: str) -> str:
    return f"base: [steps=2]\n{extra}\n{PARAM}"


# each case: program, arguments ({d} = a fresh folder, {f} = the input file), input file text, fragments of the line
CASES = [
    # sim-run: configuration values
    (
        "sim-run (subprocess)",
        ["finance.endowment_initial_capital=[9e6,3e6]"],
        None,
        ["finance.endowment_initial_capital", "reversed", "allowed [low, high] with low <= high"],
    ),
    ("sim-run", ["partnership.duration_months=[24,6]"], None, ["partnership.duration_months", "low <= high"]),
    ("sim-run", ["cluster=on", "cluster.launch_month=100"], None, ["cluster.launch_month=100", "allowed 0..59"]),
    ("sim-run", ["cluster=on", "steps=12", "cluster.launch_month=12"], None, ["cluster.launch_month=12", "allowed 0..11"]),
    ("sim-run", ["finance.endowment_return_mean=-1.0"], None, ["finance.endowment_return_mean", "allowed -0.9..1"]),
    ("sim-run", ["output.family_thread=maybe"], None, ["output.family_thread", "allowed values true, false"]),
    ("sim-run", ["-m", "seed=range(1,1)"], None, ["seed=range(1,1)", "allowed a sweep with at least one value"]),
    ("sim-run", ["region=huge"], None, ["region='huge'", "allowed values large, small"]),
    # sim-run: the output folder
    ("sim-run (subprocess)", ["hydra.run.dir={f}/run"], "a file, not a folder", ["hydra.run.dir=", "is not a folder", "allowed"]),
    ("sim-run", ["-m", "seed=1,2", "hydra.sweep.dir={f}/sweep"], "a file", ["hydra.sweep.dir=", "is not a folder"]),
    ("sim-run", ["hydra.run.dir=/proc/sim-no-such/run"], None, ["hydra.run.dir=/proc/sim-no-such/run", "cannot write"]),
    # sim-experiment
    ("sim-experiment", ["{f}", "--out", "{d}/out"], NOT_UTF8, ["input.yaml", "not UTF-8", "allowed a UTF-8 YAML file"]),
    ("sim-experiment", ["{f}", "--jobs", "0", "--out", "{d}/out"], exp(""), ["--jobs=0", "allowed a positive integer"]),
    ("sim-experiment", ["{f}"], exp("name: ../../escaped"), ["input.yaml", "name='../../escaped'", "allowed letters"]),
    ("sim-experiment", ["{f}"], exp("name: /tmp/escaped"), ["input.yaml", "name='/tmp/escaped'", "not a path"]),
    (
        "sim-experiment",
        ["{f}", "--out", "{d}/out"],
        exp("").replace("seeds: 1", "seeds: two"),
        ["input.yaml", "seeds='two'", "allowed an integer of at least 1"],
    ),
    ("sim-experiment", ["{f}", "--out", "{d}/out"], exp("base: [region=huge]"), ["input.yaml", "region='huge'", "allowed"]),
    ("sim-experiment", ["{f}", "--out", "{d}/out"], exp("base: region=small"), ["input.yaml", "base=", "allowed a list"]),
    # sim-validate
    (
        "sim-validate",
        ["--targets", str(TARGETS), "--month", "5000", "--out", "{d}/v"],
        None,
        ["--month=5000", "steps=5000", "allowed 1..1200"],
    ),
    (
        "sim-validate",
        ["--targets", "{f}", "--out", "{d}/v"],
        "questions:\n  q1:\n    group: ngo\n    shares: [50, 50]\n",
        ["questions.q1.shares=[50, 50]", "allowed a mapping"],
    ),
    ("sim-validate", ["--targets", "{f}", "--out", "{d}/v"], b"questions:\n  q\xff: 1\n", ["input.yaml", "not UTF-8"]),
    ("sim-validate", ["--targets", str(TARGETS), "--jobs", "0", "--out", "{d}/v"], None, ["--jobs=0", "allowed"]),
    (
        "sim-validate",
        ["--targets", str(TARGETS), "--out", "{d}/v", "cluster=on", "steps=6"],
        None,
        ["cluster.launch_month=12", "allowed 0..5"],
    ),
    # sim-calibrate
    ("sim-calibrate", ["{f}"], cal("population: 0"), ["input.yaml", "population=0", "allowed an integer of at least 4"]),
    ("sim-calibrate", ["{f}"], cal("generations: two"), ["input.yaml", "generations='two'", "allowed"]),
    ("sim-calibrate", ["{f}"], cal("trials: 40"), ["input.yaml", "unknown key 'trials'", "allowed keys"]),
    ("sim-calibrate", ["{f}", "--max-simulations", "0"], cal(""), ["--max-simulations=0", "allowed a positive integer"]),
    ("sim-calibrate", ["{f}", "--fold", "6/5"], cal(""), ["--fold=6/5", "allowed I/K"]),
    ("sim-calibrate", ["{f}"], cal("month: -5"), ["input.yaml", "month=-5", "allowed an integer of at least 1"]),
    ("sim-calibrate", ["{f}"], cal("month: 5000"), ["input.yaml", "steps=5000", "allowed 1..1200"]),
    ("sim-calibrate", ["{f}"], cal("base: [region=huge]"), ["input.yaml", "base", "region='huge'", "allowed values"]),
    ("sim-calibrate", ["{f}"], cal("name: ../../escaped"), ["input.yaml", "name='../../escaped'", "allowed letters"]),
    ("sim-calibrate", ["{f}", "--jobs", "0"], cal(""), ["--jobs=0", "allowed"]),
    ("sim-calibrate", ["{f}"], NOT_UTF8, ["input.yaml", "not UTF-8"]),
    # sim-sensitivity
    ("sim-sensitivity", ["morris", "{f}", "--out", "{d}/s"], sens("name: ../escaped"), ["input.yaml", "name='../escaped'"]),
    ("sim-sensitivity", ["morris", "{f}", "--out", "{d}/s"], sens("seeds: 0"), ["input.yaml", "seeds=0", "allowed"]),
    ("sim-sensitivity", ["morris", "{f}", "--jobs", "0", "--out", "{d}/s"], sens(""), ["--jobs=0", "allowed"]),
    (
        "sim-sensitivity",
        ["morris", "{f}", "--out", "{d}/s"],
        sens("").replace("[steps=2]", "[region=huge]"),
        ["input.yaml", "region='huge'", "allowed"],
    ),
]


def _id(case: tuple) -> str:
    prog, args, _text, frags = case
    return f"{prog}:{frags[0]}"[:60]


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_bad_input_one_line_exit_2_nothing_written(tmp_path, case):
    prog, args, text, fragments = case
    work = tmp_path / "work"
    work.mkdir()
    f = tmp_path / "input.yaml"
    if text is not None:
        f.write_bytes(text if isinstance(text, bytes) else text.encode())
    args = [a.format(d=work, f=f) for a in args]
    before = tree(tmp_path)
    outside = {p: p.exists() for p in (tmp_path.parent / "escaped", Path("/tmp/escaped"))}
    code, stderr = PROGRAMS[prog](args, work)
    lines = stderr.strip().splitlines()
    assert code == 2, stderr
    assert len(lines) == 1, stderr
    for frag in fragments:
        assert frag in lines[0], (frag, lines[0])
    assert tree(tmp_path) == before  # nothing written, not even an empty output folder
    assert {p: p.exists() for p in outside} == outside
    assert not (ROOT / "experiments" / "escaped").exists()


# ---------------------------------------------------------------- sim-analyze
@pytest.fixture(scope="module")
def small_sweep(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sweep") / "s"
    r = subprocess.run(
        [sys.executable, "-m", "sim", "-m", f"hydra.sweep.dir={out}", "seed=1,2", "steps=2", "output.plots=false",
         "region.families=200"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    return out


def _bad_manifest(d: Path) -> None:
    (d / "0" / "manifest.json").write_text("{not json")


def _no_seed(d: Path) -> None:
    (d / "0" / "manifest.json").write_text('{"overrides": []}')


def _truncated(d: Path) -> None:
    p = d / "1" / "timeseries.parquet"
    p.write_bytes(p.read_bytes()[:100])


@pytest.mark.parametrize(
    "damage, args, fragments",
    [
        (_bad_manifest, ["collect"], ["0/manifest.json", "cannot be read", "allowed a job written by sim-run"]),
        (_no_seed, ["collect"], ["0/manifest.json", "KeyError", "allowed"]),
        (_truncated, ["collect"], ["1/timeseries.parquet", "cannot be read", "allowed"]),
        (_truncated, ["plot", "--by", "seed"], ["1/timeseries.parquet", "cannot be read"]),
        (None, ["plot", "--by", "bogus"], ["--by 'bogus'", "allowed seed"]),
    ],
)
def test_analyze_bad_input_one_line_exit_2_nothing_written(small_sweep, tmp_path, damage, args, fragments):
    d = tmp_path / "s"
    shutil.copytree(small_sweep, d)
    if damage is not None:
        damage(d)
    before = tree(d)
    code, stderr = PROGRAMS["sim-analyze"]([args[0], str(d), *args[1:]], tmp_path)
    lines = stderr.strip().splitlines()
    assert code == 2, stderr
    assert len(lines) == 1, stderr
    for frag in fragments:
        assert frag in lines[0], (frag, lines[0])
    assert tree(d) == before  # no sweep.parquet, outcomes.parquet or plots written


def test_a_good_collect_still_writes_its_tables(small_sweep, tmp_path):
    """The table above is not passing because sim-analyze writes nothing at all."""
    d = tmp_path / "s"
    shutil.copytree(small_sweep, d)
    code, stderr = PROGRAMS["sim-analyze"](["collect", str(d)], tmp_path)
    assert code == 0, stderr
    assert (d / "sweep.parquet").exists() and (d / "outcomes.parquet").exists()
