"""The dashboard without a browser: ready scenarios from the CLI's config group, the model adapter, the runner, setup files."""

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from sim import dashboard_data as dd
from sim.model import CrossSectorModel

ROOT = Path(__file__).resolve().parent.parent
READY = ["cluster", "kaluga", "stavropol", "tyumen", "ural", "volgograd"]


def test_ready_scenarios_are_the_cli_config_group():
    keys = dd.scenario_keys()
    assert keys[0] == "baseline" and sorted(keys[1:]) == READY
    for key in keys:
        sc = dd.scenario(key)
        assert sc.cfg.scenario.name == key
        for field in ("title", "about", "question", "watch"):
            assert sc.text(field, "ru") and sc.text(field, "en") and sc.text(field, "ru") != sc.text(field, "en")
    # their settings, as before the move out of the app
    assert dd.scenario("volgograd").cfg.region.families == 20000
    assert dd.scenario("volgograd").cfg.region.municipalities == 31
    assert dd.scenario("volgograd").cfg.scenario.grant_budget_scale < 0.1  # the calibrated budget applies
    assert dd.scenario("tyumen").cfg.rc_model.model == "administrative" and dd.scenario("tyumen").cfg.rc_model.transform
    assert dd.scenario("ural").cfg.rc_model.network
    assert dd.scenario("cluster").cfg.cluster.enabled and dd.scenario("cluster").cfg.cluster.launch_month == 6
    assert dd.scenario("stavropol").cfg.org.ngo_volunteers_mean == 20
    assert dd.scenario("kaluga").cfg.rc_model.model == "municipal_rc"
    # the default is unchanged: scenario=baseline, and calibration still overrides the baseline levers
    from analysis.experiment import compose

    assert compose([]).scenario.name == "baseline"
    assert compose(["calibration=volgograd_2021"]).scenario.grant_budget_scale < 0.1


def test_sim_run_takes_a_ready_scenario(tmp_path):
    out = tmp_path / "run"
    r = subprocess.run([sys.executable, "-m", "sim", "scenario=kaluga", "steps=3", "output.plots=false", f"hydra.run.dir={out}"],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert r.returncode == 0, r.stderr
    man = json.loads((out / "manifest.json").read_text())
    assert man["config"]["scenario"]["name"] == "kaluga" and man["config"]["rc_model"]["model"] == "municipal_rc"
    bad = subprocess.run([sys.executable, "-m", "sim", "scenario=moscow", f"hydra.run.dir={tmp_path / 'never'}"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert bad.returncode == 2
    assert "scenario='moscow' is not allowed: allowed values baseline, cluster, kaluga" in bad.stderr
    assert not (tmp_path / "never").exists()


def test_levers_change_the_model_and_keep_the_scenario():
    pol = dd.Policy.of(dd.scenario("cluster").cfg)
    assert (pol.rc, pol.cluster, pol.launch) == ("none", True, 6)  # the concept has no Ural-type centre
    base = dd.build_config("volgograd", dd.Policy.of(dd.scenario("volgograd").cfg), 1, 24)
    more = dd.build_config("volgograd", dd.Policy(grants=3.0), 1, 24)
    assert more.scenario.grant_budget_scale == pytest.approx(3 * base.scenario.grant_budget_scale)
    assert more.region.families == 20000  # the scenario's own settings stay
    rc = dd.build_config("tyumen", dd.Policy(rc="municipal_rc"), 1, 24)
    assert rc.rc_model.model == "municipal_rc" and rc.rc_model.transform


def run(cfg, months):
    m = CrossSectorModel(cfg)
    for _ in range(months):
        m.step()
    return m


def test_adapter_reads_the_model():
    m = run(dd.build_config("cluster", dd.Policy.of(dd.scenario("cluster").cfg), 2, 40), 30)
    assert dd.month(m) == 30
    s = dd.series(m)
    assert len(s) == 31 and s["reached_pct"].between(0, 100).all()
    money = s[[f"money_{k}" for k in dd.MONEY]].sum(axis=1)
    assert np.allclose(money, s["money_total"])
    ev = dd.events(m, held=[4])
    kinds = {k for _, k in ev}
    assert {"launch", "held", "grants"} <= kinds
    launch = next(t for t, k in ev if k == "launch")
    assert launch >= 6 and all(t >= launch for t, k in ev if k == "session")
    head = dd.headline(m)
    assert head["partnerships"] == s["partnerships_total"].iloc[-1]
    net = dd.Network.new()
    v1 = net.view(m)
    assert len(v1["nodes"]) == int(np.asarray(m.alive).sum())
    assert all(-1.06 <= n["x"] <= 1.06 and -1.06 <= n["y"] <= 1.06 for n in v1["nodes"])
    assert {p["form"] for p in v1["partners"]} <= set(dd.FORMS) and v1["partners"]
    for _ in range(6):
        m.step()
    prev = set(net.ties)
    v2 = net.view(m)
    now = set(net.ties)
    assert len(v2["broken"]) == len({p for p in prev - now if p[0] in net.pos and p[1] in net.pos}) > 0
    assert len(now) == len(v2["ties"])
    mv = dd.municipal_view(m)
    assert len(mv["mnodes"]) == m.n_muni
    assert sum(n["ngos"] for n in mv["mnodes"]) == int(m.ngo_alive.sum())


def test_export_names_scenario_policy_seed_month_and_units():
    from sim.app import EXPORT_HEADERS

    m = run(dd.build_config("kaluga", dd.Policy(rc="municipal_rc"), 5, 12), 4)
    meta = {"scenario": "kaluga", "arm": "A", "rc_model": "municipal_rc", "cluster": False, "launch_month": 12,
            "grant_scale": 1.0, "trust_programme": 0.5, "seed": 5}  # fmt: skip
    ru = dd.export_table(m, meta, EXPORT_HEADERS["ru"])
    assert list(ru.columns[:9]) == ["Сценарий", "Вариант", "Модель РЦ", "Кластер", "Месяц запуска кластера",
                                    "Грантовый бюджет, × к сценарию", "Программа доверия, 0–1", "Зерно", "Месяц"]  # fmt: skip
    unitless = ("Сценарий", "Вариант", "Модель РЦ", "Кластер", "Зерно", "Месяц", "Месяц запуска кластера")
    assert all("," in c or c in unitless for c in ru.columns)  # units after the comma
    assert not [c for c in ru.columns if c.isascii()]  # every header in Russian
    assert ru["Месяц"].tolist() == list(range(5)) and (ru["Зерно"] == 5).all()


def test_setup_file_round_trip_and_bad_input():
    from sim.app import Setup, default_setup

    s = default_setup("cluster", seed=7, ab=True)
    text = s.to_json(speed=20, lang="en")
    assert Setup.from_json(text) == (s, 20, "en")
    d = json.loads(text)
    for change, fragment in [
        ({"scenario": "moscow"}, "scenario='moscow': allowed values baseline"),
        ({"a": {"rc": "ministry"}}, "a.rc='ministry': allowed values none, administrative"),
        ({"b": {"colour": 1}}, "b: allowed keys rc, cluster, launch, grants, trust"),
        ({"seed": -1}, "seed: a whole number"),
        ({"speed": 7}, "speed=7: allowed values 1, 2, 5, 10, 20, 50"),
        ({"lang": "de"}, "lang='de': allowed values ru, en"),
    ]:
        with pytest.raises(ValueError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
            Setup.from_json(json.dumps({**d, **change}))
    with pytest.raises(ValueError, match="not JSON"):
        Setup.from_json("{")


def wait(cond, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return False


def test_runner_steps_in_its_thread_and_stops_when_closed():
    from sim import app
    from sim.app import Runner, default_setup

    notes = []
    r = Runner(lambda: notes.append(1))
    try:
        r.reset(default_setup("stavropol"))
        assert wait(lambda: r.snapshot.get("ready") and r.snapshot["setup"].scenario == "stavropol")
        r.set_speed(20)
        r.play(True)
        assert wait(lambda: r.snapshot["month"] >= 5)
        r.session_now()
        held = r.held[-1]
        assert any(k == "held" and t == held for t, k in r.snapshot["events"])
        r.set_ab(True, default_setup("stavropol").b)
        m = r.snapshot["month"]
        assert wait(lambda: "B" in r.snapshot["series"] and r.snapshot["month"] > m)  # B joins without a reset
        assert r.snapshot["month"] > m
        with r.lock:  # the runner steps both arms under its lock: read them there, not between two steps
            assert dd.month(r.models["B"]) == dd.month(r.models["A"])
        r.play(False)  # pause before the run can reach its last month on a fast machine
        assert wait(lambda: r.snapshot.get("bands_ready"))  # the band seeds are built while paused too
        time.sleep(0.3)
        m = dd.month(r.models["A"])
        assert m < app.STEPS
        time.sleep(0.5)
        assert dd.month(r.models["A"]) == m  # paused
        r.step()
        assert dd.month(r.models["A"]) == m + 1
    finally:
        r.close("test")
    r.thread.join(timeout=10)
    assert not r.thread.is_alive()
    assert notes


def test_runner_says_when_the_run_ends():
    from sim import app
    from sim.app import Runner, default_setup

    r = Runner(lambda: None)
    try:
        r.reset(default_setup("baseline"))
        r.set_speed(50)
        r.play(True)
        assert wait(lambda: r.snapshot.get("ended"), timeout=120)
        assert r.snapshot["month"] == app.STEPS and not r.playing
        r.play(True)  # nothing to run any more
        assert not r.playing
    finally:
        r.close("test")


def test_runner_pauses_when_no_page_is_connected():
    from sim.app import Runner, default_setup

    connected = threading.Event()
    connected.set()
    r = Runner(lambda: None, alive=connected.is_set)
    try:
        r.reset(default_setup("baseline"))
        r.set_speed(5)
        r.play(True)
        assert wait(lambda: r.snapshot.get("month", 0) >= 1)
        connected.clear()
        assert wait(lambda: not r.playing, timeout=10)
    finally:
        r.close("test")
