"""Screenshots of the dashboard's main views (RU and EN) for docs/img/, taken in headless Chromium at 1920x1080.

    .venv/bin/python scripts/dashboard_screenshots.py
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "img"


def main() -> None:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "SIM_DASHBOARD_PORT": str(port)}
    proc = subprocess.Popen([sys.executable, "-c", "from sim.app import main; main()"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as p:
            args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
            b = p.chromium.launch(executable_path="/usr/bin/chromium", args=args)
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
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
