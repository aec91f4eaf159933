"""The code's structure: no import circles, the model never imports analysis or plotting, keyword parameters, Mesa."""

import ast
import importlib
import logging
from pathlib import Path

import mesa
import numpy as np
import pytest

from sim.model import STEP_ORDER, CrossSectorModel
from sim.params import ConfigError, build_config

ROOT = Path(__file__).resolve().parent.parent
SIM = ROOT / "sim"


def _module(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _runtime_imports(path: Path) -> set[str]:
    """Modules of sim/ and analysis/ a file imports when it runs (module level or in functions; not TYPE_CHECKING)."""
    tree = ast.parse(path.read_text())
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for b in node.body for n in ast.walk(b))
    out = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
    return {m for m in out if m.split(".")[0] in ("sim", "analysis")}


def _graph() -> dict[str, set[str]]:
    files = {_module(p): p for p in sorted(SIM.rglob("*.py"))}
    return {mod: {m for m in _runtime_imports(p) if m in files and m != mod} for mod, p in files.items()}


def _find_circle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle of ``graph`` (depth-first), or None."""
    done: set[str] = set()

    def visit(mod: str, path: list[str]) -> list[str] | None:
        if mod in path:
            return [*path[path.index(mod) :], mod]
        if mod in done:
            return None
        for dep in sorted(graph.get(mod, ())):
            found = visit(dep, [*path, mod])
            if found:
                return found
        done.add(mod)
        return None

    for mod in sorted(graph):
        found = visit(mod, [])
        if found:
            return found
    return None


def test_no_import_circles():
    graph = _graph()
    assert "sim.mechanisms.grants" in graph and "sim.state" in graph and "sim.mechanisms.base" in graph["sim.state"] | {
        d for m in graph["sim.state"] for d in graph[m]
    }
    circle = _find_circle(graph)
    assert circle is None, "import circle: " + " -> ".join(circle or [])


def test_the_circle_check_finds_a_circle():
    graph = _graph()
    graph["sim.state"].add("sim.model")  # as if the state imported the model
    assert _find_circle(graph) is not None


def test_model_never_imports_analysis_or_plotting():
    graph = _graph()
    seen, todo = set(), ["sim.model", "sim.run"]
    while todo:
        mod = todo.pop()
        if mod not in seen:
            seen.add(mod)
            todo.extend(graph.get(mod, ()))
    assert "sim.model" in seen and "sim.mechanisms.trust" in seen
    assert not {m for m in seen if m.startswith("analysis")}
    assert "sim.app" not in seen
    reach_model = seen - {"sim.run"}
    assert "sim.plots" not in {m for mod in reach_model if mod != "sim.run" for m in graph.get(mod, ())}
    for mod, deps in _graph().items():
        assert not {d for d in deps if d.startswith("analysis")}, f"{mod} imports analysis"


def test_each_mechanism_module_has_its_mechanism_in_the_step_order():
    names = [cls.name for cls in STEP_ORDER]
    assert len(names) == len(set(names))
    modules = {p.stem for p in (SIM / "mechanisms").glob("*.py")} - {"__init__", "base"}
    owners = {cls.__module__.rsplit(".", 1)[-1] for cls in STEP_ORDER}
    # a mechanism split into sibling modules: each part names its mechanism's module in PART_OF
    parts = {m for m in modules - owners if getattr(importlib.import_module(f"sim.mechanisms.{m}"), "PART_OF", None) in owners}
    assert owners == modules - parts


def test_keyword_parameters_build_the_validated_config():
    logging.getLogger("MESA").setLevel(logging.WARNING)
    a = CrossSectorModel(seed=3, steps=6, region="small", **{"finance.subsidy_size": 150_000.0})
    cfg = build_config({"seed": 3, "steps": 6, "finance": {"subsidy_size": 150_000.0}})
    assert a.cfg.seed == 3 and a.cfg.steps == 6 and a.cfg.finance.subsidy_size == 150_000.0
    b = CrossSectorModel(cfg)
    for _ in range(6):
        a.step()
        b.step()
    assert a.timeseries().equals(b.timeseries())
    assert CrossSectorModel(rc_model="municipal_rc", steps=2).cfg.rc_model.model == "municipal_rc"
    assert CrossSectorModel(cluster={"enabled": True, "launch_month": 0}, steps=2).cfg.cluster.enabled  # launch before the end


@pytest.mark.parametrize(
    "kwargs, key",
    [
        ({"region": "huge"}, "region"),
        ({"finance.grant_sise": 1.0}, "finance.grant_sise"),
        ({"steps": 0}, "steps"),
    ],
)
def test_bad_keyword_parameters_name_the_key(kwargs, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        CrossSectorModel(**kwargs)


def test_mesa_batch_run():
    logging.getLogger("MESA").setLevel(logging.WARNING)
    rows = mesa.batch_run(
        CrossSectorModel,
        parameters={"steps": 4, "region": "small", "finance.request_prob": [0.0, 0.5]},
        rng=[1, 2],
        max_steps=10,
        data_collection_period=-1,
        display_progress=False,
    )
    assert len(rows) == 4
    assert {(r["seed"], r["finance.request_prob"]) for r in rows} == {(1, 0.0), (1, 0.5), (2, 0.0), (2, 0.5)}
    assert all(r["Step"] == 4 for r in rows)
    by = {(r["seed"], r["finance.request_prob"]): r for r in rows}
    assert by[(1, 0.0)]["requests"] == 0 and by[(1, 0.5)]["requests"] > 0
    direct = CrossSectorModel(seed=2, steps=4, **{"finance.request_prob": 0.5})
    for _ in range(4):
        direct.step()
    assert by[(2, 0.5)]["wellbeing_mean"] == direct.timeseries()["wellbeing_mean"].iloc[-1]
    assert np.isfinite(by[(1, 0.5)]["ngo_cash_total"])


def test_step_runs_the_mechanisms_in_the_documented_order():
    logging.getLogger("MESA").setLevel(logging.WARNING)
    m = CrossSectorModel(steps=2, region="small")
    calls: list[str] = []
    for mech in m.loop:
        original = mech.step

        def wrapped(_f=original, _name=mech.name) -> None:
            calls.append(_name)
            _f()

        mech.step = wrapped  # type: ignore[method-assign]
    m.step()
    assert calls == [cls.name for cls in STEP_ORDER] == m.step_order()
    assert m.step_order().index("trust") == m.step_order().index("services") + 1
    assert "FamilyTransitions('family_transitions')" in repr(m.loop)
