"""The mutation runner (scripts/mutation_test.py) refuses entries it cannot apply, loudly and before running anything."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import mutation_test as mt  # noqa: E402

GOOD = {
    "id": "x",
    "mechanism": "m",
    "file": "sim/rng.py",
    "original": "return zlib.crc32",
    "replacement": "return 0 *",
    "tests": [],
}


def _write(tmp_path, entries) -> Path:
    import yaml

    p = tmp_path / "m.yaml"
    p.write_text(yaml.safe_dump(entries))
    return p


@pytest.mark.parametrize(
    "change, fragment",
    [
        ({"original": "no such snippet"}, "snippet found 0 times in sim/rng.py"),
        ({"original": "def "}, r"snippet found \d+ times .*exactly once"),
        ({"file": "sim/nope.py"}, "file sim/nope.py not found"),
        ({"tests": None}, None),
    ],
)
def test_bad_entries_are_refused(tmp_path, change, fragment):
    entry = {**GOOD, **change}
    if entry["tests"] is None:
        del entry["tests"]
        fragment = "misses tests"
    with pytest.raises(mt.MutationError, match=fragment):
        mt.load(_write(tmp_path, [entry]))


def test_cli_exits_2_with_one_line_and_runs_nothing(tmp_path, capsys):
    bad = _write(tmp_path, [GOOD, {**GOOD, "id": "y", "original": "gone"}])
    assert mt.main(["--list", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "mutation 'y'" in err[0]
    assert mt.main(["--list", str(_write(tmp_path, [GOOD])), "--only", "zzz"]) == 2
    assert mt.load(_write(tmp_path, [GOOD]))[0]["id"] == "x"
    dup = _write(tmp_path, [GOOD, GOOD])
    with pytest.raises(mt.MutationError, match="duplicate id 'x'"):
        mt.load(dup)


def test_the_curated_list_applies_to_the_current_code():
    """Every curated mutation still finds its snippet exactly once, and names tests that exist.

    When a refactor moves code, this fails and says which entry to re-point, so the
    mutation figure in docs/testing.md never silently measures nothing.
    """
    entries = mt.load()
    assert len(entries) >= 30
    for m in entries:
        for node in m["tests"]:
            assert (ROOT / node.split("::")[0]).exists(), f"mutation '{m['id']}': test {node} not found"
