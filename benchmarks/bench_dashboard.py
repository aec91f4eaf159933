"""Dashboard speed on the largest ready scenario (volgograd: 31 districts, 20,000 families).

    .venv/bin/python benchmarks/bench_dashboard.py [--scenario volgograd] [--no-browser]

Server side: model step, snapshot (what a redraw reads) and chart data per month, single and A/B
(with the background seeds). In the browser (headless Chromium): step-redraw latency (click Step
-> every chart redrawn) and simulated months per second at each presenter speed.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
logging.getLogger("MESA").setLevel(logging.WARNING)


def server_side(key: str, months: int = 24) -> None:
    from sim import app
    from sim import dashboard_data as dd

    for ab in (False, True):
        r = app.Runner(lambda: None)
        r.reset(app.default_setup(key, ab=ab))
        while not (r.snapshot.get("ready") and (not ab or r.snapshot.get("bands_ready"))):
            time.sleep(0.05)
        r.close("bench")
        r.thread.join()
        step, snap, chart = [], [], []
        for _ in range(months):
            t0 = time.perf_counter()
            for m in r._all_models():
                m.step()
            t1 = time.perf_counter()
            r._publish_locked()
            t2 = time.perf_counter()
            app.chart_data(r.snapshot, "ru")
            t3 = time.perf_counter()
            step.append(t1 - t0)
            snap.append(t2 - t1)
            chart.append(t3 - t2)
        n = len(r._all_models())
        med = statistics.median
        print(f"{key} {'A/B + bands' if ab else 'single'} ({n} models, month {dd.month(r.models['A'])}): "
              f"step {med(step) * 1e3:.1f} ms, snapshot {med(snap) * 1e3:.1f} ms, chart data {med(chart) * 1e3:.1f} ms "
              f"-> at most {1 / med(step):.0f} months/s stepping")  # fmt: skip
        r.show_network = True
        t0 = time.perf_counter()
        r._publish_locked()
        print(f"  network view snapshot {(time.perf_counter() - t0) * 1e3:.0f} ms")


def browser(key: str) -> None:
    from playwright.sync_api import sync_playwright

    from sim.dashboard_launch import launch_chromium, serve

    log = open(ROOT / "benchmarks" / "bench_dashboard_server.log", "w")  # noqa: SIM115
    try:
        with serve(log) as url, sync_playwright() as p:
            b = launch_chromium(p)
            pg = b.new_page(viewport={"width": 1920, "height": 1080})
            pg.goto(url, wait_until="domcontentloaded", timeout=120_000)
            pg.wait_for_selector(".ctl-step", timeout=120_000)
            if key != "volgograd":
                pg.locator(f".scenario-{key}").click()
            while pg.locator(".vchart[data-rendered] svg").count() < 6:
                time.sleep(0.2)
            time.sleep(2)

            def month() -> int:
                return int(pg.locator(".month").first.inner_text())

            def rendered() -> list[int]:
                return pg.eval_on_selector_all(".vchart", "els => els.map(e => Number(e.dataset.rendered || 0))")

            lat = []
            for _ in range(8):
                before = rendered()
                t0 = time.perf_counter()
                pg.locator(".ctl-step").click()
                while any(a <= b0 for a, b0 in zip(rendered(), before, strict=True)):
                    time.sleep(0.005)
                lat.append(time.perf_counter() - t0)
            med = statistics.median(lat) * 1e3
            print(f"step-redraw latency in the browser (Step -> 6 charts redrawn): median {med:.0f} ms, max {1e3 * max(lat):.0f}")
            for speed in ("10", "20", "50"):
                pg.locator(".ctl-reset").click()
                while month() != 0:
                    time.sleep(0.1)
                pg.locator(".ctl-speed").click()
                pg.get_by_role("option", name=speed, exact=True).click()
                pg.locator(".ctl-start").click()
                time.sleep(1.0)
                m0, t0 = month(), time.perf_counter()
                time.sleep(min(5.0, 60 / int(speed)))
                m1, t1 = month(), time.perf_counter()
                pg.locator(".ctl-pause").click()
                print(f"presenter speed {speed}: {(m1 - m0) / (t1 - t0):.1f} simulated months/s shown in the browser")
            b.close()
    finally:
        log.close()
        for line in (ROOT / "benchmarks" / "bench_dashboard_server.log").read_text().splitlines():
            if "page redraw" in line:
                print("server:", line.split("sim.dashboard ")[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", default="volgograd")
    ap.add_argument("--no-browser", action="store_true")
    a = ap.parse_args()
    server_side(a.scenario)
    if not a.no_browser:
        browser(a.scenario)


if __name__ == "__main__":
    main()
