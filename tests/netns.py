"""Network namespaces for the distributed tests: create, run inside, clean up (processes by PID, then the namespace).

Traffic stays inside: a namespace has only ``lo`` and veth pairs whose both ends
are in namespaces made here. Names and addresses use the prefix ``sim15`` and
10.215.x.x, and a per-process tag, so that parallel users of the machine do not collide.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path


def available() -> str | None:
    """None when namespaces can be made here, else the reason they cannot."""
    if os.geteuid() != 0:
        return "needs root (network namespaces)"
    if shutil.which("ip") is None or shutil.which("nsenter") is None:
        return "needs iproute2 (ip) and util-linux (nsenter)"
    name = f"sim15probe{os.getpid()}"
    r = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True)
    if r.returncode != 0:
        return f"cannot create a network namespace: {r.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", name], capture_output=True)
    return None


TAG = f"{os.getpid() % 100000:05d}"
"""Unique to this test process: namespace and link names carry it."""


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


class NetNS:
    """One network namespace with ``lo`` up."""

    def __init__(self, name: str) -> None:
        self.name = f"{name}{TAG}"
        ip("netns", "add", self.name)
        ip("-n", self.name, "link", "set", "lo", "up")
        self.procs: list[subprocess.Popen] = []

    def prefix(self) -> list[str]:
        return ["ip", "netns", "exec", self.name]

    def nsenter(self) -> list[str]:
        """Enter only the network namespace (``ip netns exec`` also remounts /sys, which slurmd cannot use)."""
        return ["nsenter", f"--net=/run/netns/{self.name}"]

    def run(self, cmd: list[str], env: dict[str, str] | None = None, timeout: float = 300, check: bool = True,
            **kw) -> subprocess.CompletedProcess:  # fmt: skip
        r = subprocess.run(self.prefix() + cmd, env=env, capture_output=True, text=True, timeout=timeout, **kw)
        if check and r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr[-3000:]}{r.stdout[-2000:]}")
        return r

    def popen(self, cmd: list[str], env: dict[str, str] | None = None, log: Path | None = None, enter: bool = False,
              **kw) -> subprocess.Popen:  # fmt: skip
        out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - owned by the process
        p = subprocess.Popen((self.nsenter() if enter else self.prefix()) + cmd, env=env, stdout=out,
                             stderr=subprocess.STDOUT, start_new_session=True, **kw)  # fmt: skip
        self.procs.append(p)
        return p

    def pids(self) -> list[int]:
        r = subprocess.run(["ip", "netns", "pids", self.name], capture_output=True, text=True)
        return [int(x) for x in r.stdout.split()]

    def kill_all(self, grace: float = 5.0) -> None:
        """SIGTERM every process in the namespace, then SIGKILL what is left."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            pids = self.pids()
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.time() + grace
            while time.time() < deadline and self.pids():
                time.sleep(0.1)
        for p in self.procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass

    def delete(self) -> None:
        self.kill_all()
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)


def veth(a: NetNS, addr_a: str, b: NetNS, addr_b: str, name: str) -> None:
    """A veth pair with one end in ``a`` and one in ``b`` (both may be the same namespace), addresses as CIDR."""
    name = f"{name}{TAG}"  # at most 15 characters with the a/b suffix
    ip("link", "add", f"{name}a", "type", "veth", "peer", "name", f"{name}b")
    ip("link", "set", f"{name}a", "netns", a.name)
    ip("link", "set", f"{name}b", "netns", b.name)
    ip("-n", a.name, "addr", "add", addr_a, "dev", f"{name}a")
    ip("-n", b.name, "addr", "add", addr_b, "dev", f"{name}b")
    ip("-n", a.name, "link", "set", f"{name}a", "up")
    ip("-n", b.name, "link", "set", f"{name}b", "up")
