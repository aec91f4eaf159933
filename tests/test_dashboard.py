"""The dashboard in a real browser: Debian's headless Chromium driven by Playwright, as a trainer uses it live.

One server for the module; every test opens its own tab (its own session and runner).
"""

import csv
import io
import time
from pathlib import Path

import pytest

from sim.dashboard_launch import CHROMIUM, launch_chromium, serve

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / ".assets" / "solara-cdn"
SIZES = [(1920, 1080), (1280, 720)]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    assert Path(CHROMIUM).exists(), "Debian chromium is needed at /usr/bin/chromium (make test installs it as root)"
    assert (ASSETS / "vega-embed@6" / "package.json").exists(), "run scripts/fetch_assets.sh (make setup does it)"
    logfile = tmp_path_factory.mktemp("dash") / "server.log"
    with open(logfile, "wb") as out:
        try:
            with serve(out) as url:
                yield url, logfile
        except RuntimeError as e:
            pytest.fail(f"{e}: {logfile.read_text()[-2000:]}")
    assert "Too many renders" not in logfile.read_text()


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch_chromium(p)
        yield b
        b.close()


def open_page(browser, server, size=(1920, 1080)):
    url, _ = server
    pg = browser.new_page(viewport={"width": size[0], "height": size[1]}, accept_downloads=True)
    outside = []
    local = ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")
    pg.on("request", lambda r: outside.append(r.url) if not r.url.startswith(local) else None)
    pg.outside = outside
    pg.goto(url, wait_until="domcontentloaded", timeout=90_000)
    pg.wait_for_selector(".ctl-step", timeout=120_000)
    wait_charts(pg)
    return pg


def wait_charts(pg, n=6, timeout=90):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pg.locator(".vchart[data-rendered] svg").count() >= n:
            return
        time.sleep(0.3)
    raise AssertionError(f"only {pg.locator('.vchart[data-rendered] svg').count()} charts drawn")


def month(pg) -> int:
    return int(pg.locator(".month").first.inner_text().strip())


def wait_for(cond, timeout=60, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def advances(pg, timeout=30):
    """The month goes up within ``timeout`` seconds."""
    m0 = month(pg)
    wait_for(lambda: month(pg) > m0, timeout, f"the month to advance past {m0}")


def set_speed(pg, value):
    pg.locator(".ctl-speed").click()
    pg.get_by_role("option", name=value, exact=True).click()


def switch_lang(pg, lang):
    pg.locator(".ctl-lang button", has_text=lang).click()
    word = "Шаг" if lang == "ru" else "Step"
    wait_for(lambda: pg.locator(".ctl-step").inner_text().strip() == word, 30, f"language {lang}")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_live_use_keeps_running(browser, server, size):
    """Language, session and A/B while running: the month keeps advancing, Pause works."""
    pg = open_page(browser, server, size)
    assert month(pg) == 0
    assert pg.outside == [], f"requests outside the machine: {pg.outside[:3]}"
    assert "This website runs on" not in pg.content() and "Made with" not in pg.content()  # no Solara badge over the charts
    assert "0,5" in pg.locator(".ctl-trust-a").inner_text()  # decimal comma in Russian
    set_speed(pg, "2")  # slow enough that a loaded machine does not reach month 120 mid-test
    pg.locator(".ctl-start").click()
    advances(pg)
    switch_lang(pg, "en")
    advances(pg)
    switch_lang(pg, "ru")
    advances(pg)
    pg.locator(".ctl-session").click()
    pg.locator(".session-banner").wait_for(timeout=20_000)
    advances(pg)
    pg.get_by_text("Сравнить с вариантом B").click()
    wait_for(lambda: pg.locator(".arms").count() > 0, 60, "arm B")
    advances(pg)
    assert month(pg) > 3  # A/B did not reset the run
    pg.locator(".ctl-pause").click()
    pg.locator(".ctl-start").wait_for(timeout=10_000)
    time.sleep(1.0)  # the last redraw shows the months already stepped
    m = month(pg)
    time.sleep(1.5)
    assert month(pg) == m
    pg.close()


def test_lever_change_prompts_reset_and_reset_applies_it(browser, server, tmp_path):
    pg = open_page(browser, server)
    pg.locator(".ctl-step").click()
    wait_for(lambda: month(pg) == 1, 30, "month 1")
    assert pg.locator(".changed-banner").count() == 0
    slider = pg.locator(".ctl-grants-a .v-slider").first
    box = slider.bounding_box()
    slider.click(position={"x": box["width"] * 0.9, "y": box["height"] / 2})
    pg.locator(".changed-banner").wait_for(timeout=20_000)
    assert month(pg) == 1  # nothing silently reset
    pg.locator(".ctl-reset").click()
    wait_for(lambda: pg.locator(".changed-banner").count() == 0 and month(pg) == 0, 60, "the reset")
    with pg.expect_download(timeout=60_000) as d:
        pg.locator(".ctl-csv").click()
    name = d.value.suggested_filename
    assert name.startswith("volgograd_") and "month000" in name
    path = tmp_path / name
    d.value.save_as(path)
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig")), delimiter=";"))
    head = rows[0]
    assert "Сценарий" in head and "Месяц" in head and "Охват семей в трудной жизненной ситуации, %" in head
    grant = float(rows[1][head.index("Грантовый бюджет, × к сценарию")].replace(",", "."))
    assert grant > 2.0  # the slider's value is what the model now runs with
    pg.close()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_chart_text_is_large_and_nothing_is_cut_off(browser, server, size):
    pg = open_page(browser, server, size)
    pg.get_by_text("Сравнить с вариантом B").click()
    wait_for(lambda: pg.locator(".arms").count() > 0, 60, "arm B")
    for view in ("Результаты", "Сеть"):
        pg.locator(".ctl-view button", has_text=view).click()
        net = (".vchart[data-chart^='net-'][data-rendered] svg", 2)
        sel, n = net if view == "Сеть" else (".vchart[data-chart$='_pct'] svg", 1)
        wait_for(lambda sel=sel, n=n: pg.locator(sel).count() >= n, 60, f"{view} drawn")
        time.sleep(1.0)
        sizes = pg.eval_on_selector_all(
            ".vchart svg text", "els => els.filter(e => e.textContent.trim()).map(e => parseFloat(getComputedStyle(e).fontSize))"
        )
        assert sizes and min(sizes) >= 16, f"{view}: chart text of {min(sizes)} px"
        cut = pg.eval_on_selector_all(
            ".dash-root *",
            """els => els.filter(e => {
                 const s = getComputedStyle(e);
                 if (e.offsetParent === null || !e.textContent.trim() || e.closest('svg')) return false;
                 const clips = s.textOverflow === 'ellipsis' || (s.overflow === 'hidden' && s.whiteSpace === 'nowrap');
                 return clips && e.scrollWidth > e.clientWidth + 1;
               }).map(e => e.textContent.trim().slice(0, 60))""",
        )
        assert cut == [], f"cut off in RU mode at {size}: {cut}"
        ellipsis = pg.eval_on_selector_all(".vchart svg text", "els => els.map(e => e.textContent).filter(t => t.includes('…'))")
        assert ellipsis == []
        outside = pg.eval_on_selector_all(
            ".vchart svg text",
            """els => els.filter(e => e.textContent.trim()).filter(e => {
                 const r = e.getBoundingClientRect(), b = e.closest('.dash-cell').getBoundingClientRect();
                 return r.left < b.left - 1 || r.right > b.right + 1 || r.top < b.top - 1 || r.bottom > b.bottom + 1;
               }).map(e => e.textContent)""",
        )
        assert outside == [], f"chart text clipped at {size}: {outside[:5]}"
    pg.close()


def test_ab_charts_share_axes(browser, server):
    pg = open_page(browser, server)
    pg.get_by_text("Сравнить с вариантом B").click()
    wait_for(lambda: pg.locator(".arms").count() > 0, 60, "arm B")
    pg.locator(".ctl-step").click()
    time.sleep(2)
    wait_charts(pg)
    charts = pg.locator(".vchart svg")
    assert charts.count() == 6  # one chart per outcome, not one per arm
    for k in range(charts.count()):
        text = charts.nth(k).evaluate("e => e.textContent")
        assert "Вариант A" in text and "Вариант B" in text
    assert "B − A" in pg.locator(".dash-heads").inner_text()
    pg.close()


def test_network_views(browser, server):
    pg = open_page(browser, server)
    pg.locator(".ctl-step").click()
    pg.locator(".ctl-view button", has_text="Сеть").click()
    wait_charts(pg, 1)
    wait_for(lambda: "Сектор" in pg.locator(".vchart svg").first.evaluate("e => e.textContent"), 30, "network legend")
    n_nodes = pg.eval_on_selector_all(".vchart svg path.mark-symbol, .vchart svg .mark-symbol path", "els => els.length")
    assert n_nodes > 50
    pg.get_by_text("По муниципалитетам").click()
    wait_for(lambda: "Доверие внутри" in pg.locator(".vchart svg").first.evaluate("e => e.textContent"), 30, "municipal view")
    pg.close()


def test_scenario_switch_and_run_end(browser, server):
    pg = open_page(browser, server)
    pg.locator(".scenario-cluster").click()
    wait_for(lambda: "Пилотный регион" in pg.locator(".dash-scn").inner_text(), 60, "the cluster scenario")
    assert month(pg) == 0
    assert pg.locator(".ctl-launch-a .v-slider__thumb-label").inner_text().strip() == "6"  # the scenario's own launch month
    set_speed(pg, "50")
    pg.locator(".ctl-start").click()
    pg.locator(".ended-banner").wait_for(timeout=90_000)
    assert month(pg) == 120
    assert pg.locator(".ctl-start").is_disabled()
    pg.close()


def test_closing_the_tab_stops_its_run(browser, server):
    _, logfile = server
    pg = open_page(browser, server)
    pg.locator(".ctl-start").click()
    advances(pg)
    before = logfile.read_text().count("run stopped (tab closed)")
    pg.close(run_before_unload=True)
    stopped = lambda: logfile.read_text().count("run stopped (tab closed)") > before  # noqa: E731
    wait_for(stopped, 60, "the server to stop the closed tab's run")
