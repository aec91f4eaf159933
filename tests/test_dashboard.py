"""The dashboard in a real browser: Debian's headless Chromium driven by Playwright."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ASSETS = ROOT / ".assets" / "solara-cdn"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    assert Path(CHROMIUM).exists(), "Debian chromium is needed at /usr/bin/chromium (make test installs it as root)"
    assert (ASSETS / "requirejs@2.3.6" / "package.json").exists(), "run scripts/fetch_assets.sh (make setup does it)"
    port = free_port()
    env = {**os.environ, "SIM_DASHBOARD_PORT": str(port)}
    proc = subprocess.Popen([sys.executable, "-c", "from sim.app import main; main()"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(url, timeout=2).status == 200:
                break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("dashboard did not start: " + proc.stdout.read().decode()[-2000:])
    yield url
    os.killpg(proc.pid, 15)
    proc.wait(timeout=20)


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
            ],  # fmt: skip
        )
        pg = browser.new_page(viewport={"width": 1500, "height": 1100}, accept_downloads=True)
        pg.goto(server, wait_until="domcontentloaded", timeout=90_000)
        pg.wait_for_selector(".ctl-step", timeout=90_000)
        yield pg
        browser.close()


def month(pg) -> str:
    return pg.locator(".month").first.inner_text().strip()


def charts(pg) -> list[str]:
    """Sources of the chart images (a new blob after every redraw)."""
    return [img.get_attribute("src") or "" for img in pg.locator("img.widget-image").all()]


def wait_month(pg, value: str, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if month(pg) == value:
            return
        time.sleep(0.2)
    raise AssertionError(f"month stayed {month(pg)!r}, expected {value!r}")


def test_page_loads_offline_with_charts(page):
    assert month(page) == "0"
    assert len(charts(page)) >= 2  # network and curves


def test_step_changes_the_charts(page):
    before = charts(page)
    page.locator(".ctl-step").click()
    wait_month(page, "1")
    page.locator(".ctl-step").click()
    wait_month(page, "2")
    time.sleep(0.5)
    assert charts(page) != before


def test_start_and_pause_run_the_model(page):
    start = int(month(page))
    page.locator(".ctl-start").click()
    deadline = time.time() + 60
    while time.time() < deadline and int(month(page)) < start + 2:
        time.sleep(0.2)
    page.locator(".ctl-pause").click()
    assert int(month(page)) >= start + 2


def test_switch_scenario_resets_and_relabels(page):
    page.locator(".scenario-cluster").click()
    wait_month(page, "0")
    assert "family-oriented cluster" in page.content()


def test_switch_language(page):
    page.get_by_role("button", name="ru", exact=True).click()
    page.get_by_text("Шаг").first.wait_for(timeout=30_000)
    assert "Сценарий" in page.content()
    page.get_by_role("button", name="en", exact=True).click()
    page.get_by_text("Step").first.wait_for(timeout=30_000)


def test_ab_mode_shows_two_policies(page):
    n_before = len(charts(page))
    page.get_by_text("A/B: compare with policy B").click()
    deadline = time.time() + 60
    while time.time() < deadline and len(charts(page)) < 2 * n_before:
        time.sleep(0.3)
    assert len(charts(page)) >= 2 * n_before
    page.locator(".ctl-step").click()
    wait_month(page, "1")


def test_export_csv(page, tmp_path):
    with page.expect_download(timeout=60_000) as d:
        page.get_by_text("Data (CSV)").click()
    path = tmp_path / "t.csv"
    d.value.save_as(path)
    text = path.read_text()
    assert text.startswith("step,") and "wellbeing_mean" in text.splitlines()[0]
