"""Start the dashboard server and headless Chromium the same way everywhere.

Used by the browser tests (``tests/test_dashboard.py``), the dashboard
benchmark (``benchmarks/bench_dashboard.py``) and the screenshot script
(``scripts/dashboard_screenshots.py``): one place for the server start-up,
its readiness wait and shutdown, and the Chromium flags (Debian's chromium,
never a downloaded browser; no background connections).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
"""Debian's chromium (``make test`` / ``make dashboard`` install it)."""
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
)
"""Headless, no sandbox (root in CI), and no connections of its own."""


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(log: IO[bytes] | IO[str] | None = None, timeout: float = 120.0) -> Iterator[str]:
    """Run ``sim-dashboard`` on a free loopback port until the block ends.

    Args:
        log: Where the server's output goes (a file opened for writing); ``None`` discards it.
        timeout: Seconds to wait for the first page.

    Yields:
        The server's URL, once it answers.

    Raises:
        RuntimeError: The server did not answer within ``timeout`` (it is stopped).
    """
    port = free_port()
    env = {**os.environ, "SIM_DASHBOARD_PORT": str(port)}
    out: Any = log if log is not None else subprocess.DEVNULL
    proc = subprocess.Popen([sys.executable, "-c", "from sim.app import main; main()"], cwd=ROOT, env=env,
                            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.time() + timeout
        while True:
            try:
                if urllib.request.urlopen(url, timeout=2).status == 200:
                    break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"dashboard did not start on {url} (exit {proc.poll()})") from None
                time.sleep(0.5)
        yield url
    finally:
        try:
            os.killpg(proc.pid, 15)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait(timeout=10)


def launch_chromium(playwright: Any) -> Any:
    """Debian's headless Chromium through Playwright (``sync_playwright()`` object)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
