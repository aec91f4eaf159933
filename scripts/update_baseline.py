"""Regenerate the regression baseline (tests/baseline/*.json) ON PURPOSE.

The baseline pins, for a few small configurations (the default region, each
resource-centre model, the cluster with its endowment, many endowments, no
endowments), the whole monthly time path of every metric (family states,
reach, NGOs, partnerships, trust by sector pair, money by channel), the money
moved by channel between kinds of account over the run, the partnership log
counted by form and ending, and the end-of-run summary.

Rule: results change only on purpose, and every regeneration is recorded in
CHANGELOG.md. The script refuses to run without a reason::

    make baseline REASON="grant scoring now uses the centre's help"
    python scripts/update_baseline.py --reason "..."

It writes the reason into every baseline file and adds the line
``- Baseline regenerated: <reason>`` under the newest heading of CHANGELOG.md
(unless that exact line is there already); ``tests/test_regression.py``
checks that the reason stored in each baseline file appears in CHANGELOG.md,
so a baseline regenerated some other way without a CHANGELOG record fails.

Usage: python scripts/update_baseline.py --reason TEXT [--only NAME ...]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BASE_DIR = ROOT / "tests" / "baseline"
CHANGELOG = ROOT / "CHANGELOG.md"
CHANGELOG_PREFIX = "- Baseline regenerated: "
SIG_DIGITS = 12
"""Significant digits stored per float (comparison is at rel 1e-9)."""

BASELINES: dict[str, list[str]] = {
    "default_s1_36": ["seed=1", "steps=36"],
    "no_endowment_s7_24": ["seed=7", "steps=24", "scenario.endowments=false"],
    "endowments_s8_48": [
        "seed=8",
        "steps=48",
        "finance.endowment_share=0.5",
        "finance.endowment_initial_share=0.3",
        "org.csr_share=[0.2,0.2,0.2]",
    ],
    "rc_administrative_s2_36": ["seed=2", "steps=36", "rc_model=administrative"],
    "rc_subordinate_s3_36": ["seed=3", "steps=36", "rc_model=subordinate"],
    "rc_municipal_rc_s4_36": ["seed=4", "steps=36", "rc_model=municipal_rc", "rc_model.network=true"],
    "rc_public_development_centre_s5_36": ["seed=5", "steps=36", "rc_model=public_development_centre"],
    "cluster_s6_48": ["seed=6", "steps=48", "cluster=on", "cluster.endowment=true", "rc_model=municipal_rc"],
}
"""Baseline name -> command-line overrides (small region, plots off)."""


def _round(x: float) -> float | int | None:
    if x != x:  # NaN is not JSON: stored as null
        return None
    if float(x).is_integer() and abs(x) < 2**53:
        return int(x)
    return float(f"{x:.{SIG_DIGITS}g}")


def _column(values: Any) -> Any:
    """A column as a list, or one number when it is constant."""
    vals = [_round(float(v)) for v in values]
    return vals[0] if len(set(vals)) == 1 else vals


def compute(name: str) -> dict[str, Any]:
    """Run one baseline configuration and return its pinned results (without the reason)."""
    from analysis.experiment import compose
    from sim.model import run_model

    logging.getLogger("MESA").setLevel(logging.WARNING)
    model = run_model(compose([*BASELINES[name], "output.plots=false"]))
    ts = model.timeseries()
    cols = [c for c in ts.columns if c not in ("step", "year", "month", "ledger_imbalance")]
    flows = model.flows()
    kinds = model.account_table()["kind"].to_numpy()
    flows["route"] = [f"{kinds[s]}>{kinds[d]}" for s, d in zip(flows["src"], flows["dst"], strict=True)]
    by_route = flows.groupby(["channel", "route"], observed=True)["amount"].sum()
    routes: dict[str, dict[str, float | int]] = {}
    for (ch, route), amount in by_route.items():
        routes.setdefault(str(ch), {})[str(route)] = _round(float(amount))
    log = model.partnership_log()
    plog: dict[str, Any] = {"n": len(log)}
    if len(log):
        log["key"] = log["form"].astype(str) + "/" + log["mechanism"].astype(str) + "/" + log["reason"].astype(str)
        agg = log.groupby("key")[["pid", "kept", "broken", "services", "money", "start", "end"]]
        for key, row in agg.agg({"pid": "size", "kept": "sum", "broken": "sum", "services": "sum", "money": "sum",
                                 "start": "sum", "end": "sum"}).iterrows():  # fmt: skip
            plog[str(key)] = {k: _round(float(v)) for k, v in row.items()}
    return {
        "overrides": BASELINES[name],
        "months": int(ts["step"].iloc[-1]),
        "timeseries": {c: _column(ts[c].to_numpy()) for c in cols},
        "flows_by_channel_route": routes,
        "partnerships": plog,
        "summary": {k: _round(float(v)) for k, v in model.summary().items()},
    }


def record_reason(reason: str) -> None:
    """Add the reason line under the newest heading of CHANGELOG.md (once)."""
    line = CHANGELOG_PREFIX + reason
    text = CHANGELOG.read_text()
    if line in text.splitlines():
        return
    lines = text.splitlines()
    # the newest heading: the first '### ' (issue section) after '## [Unreleased]', else the first '## '
    idx = next((i for i, s in enumerate(lines) if s.startswith("### ")), None)
    if idx is None:
        idx = next((i for i, s in enumerate(lines) if s.startswith("## ")), len(lines) - 1)
    lines.insert(idx + 1, line)
    CHANGELOG.write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reason", default=os.environ.get("REASON", ""), help="why results change (goes into CHANGELOG.md)")
    ap.add_argument("--only", nargs="*", default=None, help=f"baselines to regenerate: {', '.join(BASELINES)}")
    args = ap.parse_args(argv)
    reason = " ".join(args.reason.split())
    if not reason:
        print(
            'update_baseline: REASON is required: make baseline REASON="why results change" (recorded in CHANGELOG.md)',
            file=sys.stderr,
        )
        return 2
    names = args.only or list(BASELINES)
    bad = [n for n in names if n not in BASELINES]
    if bad:
        print(f"update_baseline: unknown baseline '{bad[0]}': allowed {', '.join(BASELINES)}", file=sys.stderr)
        return 2
    results = {name: compute(name) for name in names}  # compute all first: nothing half-written on failure
    record_reason(reason)
    BASE_DIR.mkdir(parents=True, exist_ok=True)
    for name, data in results.items():
        path = BASE_DIR / f"{name}.json"
        path.write_text(json.dumps({"reason": reason, **data}, sort_keys=True, separators=(",", ":")) + "\n")
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
