"""Curated mutation testing: does a test aimed at the mechanism catch each small bug?

Reads ``tests/mutations/mutations.yaml``; for each mutation, one at a time, it
copies the repository (tracked files plus compiled caches, so numba recompiles
only the mutated file) into a temporary directory, replaces the exact snippet,
and runs there

1. the mutation's declared mechanism tests: a failure is *caught by a mechanism test*;
2. otherwise the regression baseline (tests/test_regression.py): a failure is
   *caught only by the baseline*;
3. otherwise it *survived*.

A snippet that does not occur exactly once fails the run loudly (exit 2):
after a refactor moves code, re-point the list. Exit 1 if any mutation was not
caught by a mechanism test, 0 otherwise. Results go to stdout as a table and,
with ``--json PATH``, to a file.

First, the declared tests and the baseline are run on an unmutated copy: they
must pass (``--no-control`` skips this).

Usage: python scripts/mutation_test.py [--only ID ...] [--json PATH] [--keep] [--no-control] [--list PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
LIST = ROOT / "tests" / "mutations" / "mutations.yaml"
FIELDS = ("id", "mechanism", "file", "original", "replacement", "tests")


class MutationError(Exception):
    """A mutation entry that cannot be applied."""


def load(path: Path = LIST) -> list[dict]:
    """Read and check the mutation list (fields present, ids unique, snippets found exactly once)."""
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise MutationError(f"{path}: not valid YAML: {str(e).splitlines()[0]}") from None
    if not isinstance(data, list) or not data:
        raise MutationError(f"{path}: expected a non-empty list of mutations")
    seen: set[str] = set()
    for k, m in enumerate(data):
        missing = [f for f in FIELDS if f not in m]
        if missing:
            raise MutationError(f"{path}: entry {k} misses {', '.join(missing)}: allowed keys {', '.join(FIELDS)}, origin")
        if m["id"] in seen:
            raise MutationError(f"{path}: duplicate id '{m['id']}'")
        seen.add(m["id"])
        src = ROOT / m["file"]
        if not src.exists():
            raise MutationError(f"mutation '{m['id']}': file {m['file']} not found")
        n = src.read_text().count(m["original"])
        if n != 1:
            where = f"mutation '{m['id']}': snippet found {n} times in {m['file']}"
            raise MutationError(f"{where} (allowed: exactly once); re-point it")
    return data


def _copy_repo(dest: Path) -> None:
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout.split(b"\0")
    for rel in filter(None, files):
        p = ROOT / rel.decode()
        if p.is_file():
            (dest / rel.decode()).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(p, dest / rel.decode())  # keep mtimes: numba's cache index checks them
    for cache in ROOT.glob("sim/**/__pycache__"):  # sim/ and sim/mechanisms/ (the numba kernels)
        shutil.copytree(cache, dest / cache.relative_to(ROOT), dirs_exist_ok=True)
    for extra in ("tests/baseline",):  # untracked files a run needs (if any)
        if (ROOT / extra).is_dir():
            shutil.copytree(ROOT / extra, dest / extra, dirs_exist_ok=True)


def _pytest(workdir: Path, targets: list[str]) -> tuple[bool, str]:
    env = {**os.environ, "PYTHONPATH": str(workdir), "PYTHONDONTWRITEBYTECODE": "0"}
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "--no-header", *targets]
    r = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True)
    failed = [ln for ln in r.stdout.splitlines() if ln.startswith(("FAILED", "ERROR"))]
    tail = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else r.stderr[-300:]
    return r.returncode != 0, failed[0] if failed else tail


def run_one(m: dict, keep: bool = False) -> dict:
    """Apply one mutation to a copy and classify it."""
    t0 = time.time()
    tmp = Path(tempfile.mkdtemp(prefix=f"mut_{m['id']}_"))
    try:
        _copy_repo(tmp)
        target = tmp / m["file"]
        text = target.read_text()
        if text.count(m["original"]) != 1:
            raise MutationError(f"mutation '{m['id']}': snippet not found exactly once in the copy of {m['file']}")
        target.write_text(text.replace(m["original"], m["replacement"]))
        check = subprocess.run(
            [sys.executable, "-c", "import sim, sys; sys.stdout.write(sim.__file__)"],
            cwd=tmp, env={**os.environ, "PYTHONPATH": str(tmp)}, capture_output=True, text=True,
        )  # fmt: skip
        if not check.stdout.startswith(str(tmp)):
            raise MutationError(f"the copy imports sim from {check.stdout or check.stderr[-200:]}, not from {tmp}")
        caught, detail = _pytest(tmp, list(m["tests"]))
        verdict = "mechanism"
        if not caught:
            caught, detail = _pytest(tmp, ["tests/test_regression.py"])
            verdict = "baseline_only" if caught else "survived"
        return {"id": m["id"], "mechanism": m["mechanism"], "origin": m.get("origin", ""), "verdict": verdict,
                "detail": detail, "seconds": round(time.time() - t0, 1)}  # fmt: skip
    finally:
        if keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def control(muts: list[dict]) -> None:
    """The declared tests and the baseline must pass on an unmutated copy (else 'caught' means nothing)."""
    tmp = Path(tempfile.mkdtemp(prefix="mut_control_"))
    try:
        _copy_repo(tmp)
        targets = sorted({t for m in muts for t in m["tests"]} | {"tests/test_regression.py"})
        failed, detail = _pytest(tmp, targets)
        if failed:
            raise MutationError(f"the unmutated copy fails its own tests: {detail}")
        print(f"control: unmutated copy passes {len(targets)} test targets", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", default=None, help="mutation ids to run")
    ap.add_argument("--json", type=Path, default=None, help="write the results here")
    ap.add_argument("--keep", action="store_true", help="keep the temporary copies")
    ap.add_argument("--no-control", action="store_true", help="skip the run on the unmutated copy")
    ap.add_argument("--list", type=Path, default=LIST, help="mutation list (default tests/mutations/mutations.yaml)")
    args = ap.parse_args(argv)
    try:
        muts = load(args.list)
        if args.only:
            ids = {m["id"] for m in muts}
            bad = [i for i in args.only if i not in ids]
            if bad:
                raise MutationError(f"unknown mutation id '{bad[0]}': allowed {', '.join(sorted(ids))}")
            muts = [m for m in muts if m["id"] in args.only]
        if not args.no_control:
            control(muts)
        results = []
        for m in muts:
            r = run_one(m, args.keep)
            results.append(r)
            print(f"{r['verdict']:<14} {r['id']:<34} {r['seconds']:>6.1f}s  {r['detail'][:110]}", flush=True)
    except MutationError as e:
        print(f"mutation_test: {e}", file=sys.stderr)
        return 2
    n = len(results)
    counts = {v: sum(r["verdict"] == v for r in results) for v in ("mechanism", "baseline_only", "survived")}
    share = counts["mechanism"] / n if n else 0.0
    print(f"\n{n} mutations: {counts['mechanism']} caught by a mechanism test ({share:.0%}), "
          f"{counts['baseline_only']} only by the baseline, {counts['survived']} survived")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps({"results": results, "counts": counts, "share_mechanism": share}, indent=1) + "\n")
    return 0 if counts["mechanism"] == n else 1


if __name__ == "__main__":
    sys.exit(main())
