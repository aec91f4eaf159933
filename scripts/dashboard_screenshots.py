"""Screenshots of the dashboard's main views (RU and EN) for docs/img/, taken in headless Chromium at 1920x1080.

    .venv/bin/python scripts/dashboard_screenshots.py
"""

from __future__ import annotations

import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "img"


def main() -> None:
    from playwright.sync_api import sync_playwright

    from sim.dashboard_launch import launch_chromium, serve

    OUT.mkdir(parents=True, exist_ok=True)
    with serve() as url, sync_playwright() as p:
        b = launch_chromium(p)
        pg = b.new_page(viewport={"width": 1920, "height": 1080})
        pg.goto(url, wait_until="domcontentloaded", timeout=120_000)
        pg.wait_for_selector(".ctl-step", timeout=120_000)

        def month() -> int:
            return int(pg.locator(".month").first.inner_text())

        def run_to(m: int) -> None:
            pg.locator(".ctl-start").click()
            while month() < m:
                time.sleep(0.1)
            pg.locator(".ctl-pause").click()
            time.sleep(2.5)

        def shot(name: str) -> None:
            time.sleep(1.5)
            pg.mouse.move(5, 1075)
            pg.screenshot(path=OUT / name)
            print("wrote", OUT / name)

        pg.locator(".scenario-cluster").click()
        time.sleep(3)
        pg.locator(".ctl-speed").click()
        pg.get_by_role("option", name="20", exact=True).click()
        run_to(30)
        pg.locator(".ctl-session").click()
        time.sleep(0.5)
        run_to(48)
        shot("dashboard_ru.png")
        pg.get_by_text("Сравнить с вариантом B").click()
        while pg.locator(".arms").count() == 0:
            time.sleep(0.2)
        time.sleep(8)  # background seeds for the bands
        pg.locator(".ctl-step").click()
        shot("dashboard_ab_ru.png")
        pg.locator(".ctl-view button", has_text="Сеть").click()
        shot("dashboard_network_ru.png")
        pg.locator(".ctl-lang button", has_text="en").click()
        time.sleep(1)
        pg.locator(".ctl-view button", has_text="Results").click()
        shot("dashboard_ab_en.png")
        pg.locator(".scenario-volgograd").click()
        time.sleep(4)
        run_to(36)
        pg.locator(".ctl-view button", has_text="Network").click()
        pg.get_by_text("By municipality").click()
        shot("dashboard_municipal_en.png")
        b.close()


if __name__ == "__main__":
    main()
