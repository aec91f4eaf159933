"""Time a monthly step of the small and large presets.

Usage: python benchmarks/bench_step.py [--presets small large] [--years 2] [--repeats 5] [--no-idiomatic]

Reports, for each preset, ms per monthly step (median and best of
``--repeats`` runs of whole years after a warm-up year, so the annual grant
month is included), family-steps/s and edge-updates/s. It then times the
family and trust mechanisms of one step written idiomatically (families as
Mesa agents, trust on a networkx graph; ``benchmarks/idiomatic.py``) against
the same mechanisms in the vectorised model, and prints the ratio.

The target is checked on the median of the repeats. A shared machine can
run up to twice slower for minutes at a time (see CHANGELOG): when only the
best repeat meets the target, the line says so; run again on a quiet machine
and compare numbers of the same run, not across days.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from idiomatic import IdiomaticModel  # noqa: E402

from sim.model import CrossSectorModel  # noqa: E402
from sim.params import build_config  # noqa: E402

TARGET_MS = 3.0
TARGET_RATIO = 30.0


def preset(name: str, steps: int) -> CrossSectorModel:
    region = yaml.safe_load((ROOT / "configs" / "region" / f"{name}.yaml").read_text())
    cfg = build_config({"region": {k: v for k, v in region.items()}, "steps": steps, "output": {"plots": False}})
    return CrossSectorModel(cfg)


def time_steps(name: str, years: int, repeats: int) -> dict[str, float]:
    per_step = []
    fam_rate = []
    edge_rate = []
    for _ in range(repeats):
        m = preset(name, 12 * (years + 1))
        for _ in range(12):  # warm-up year
            m.step()
        upd0 = m.trust.updates
        t0 = time.perf_counter()
        for _ in range(12 * years):
            m.step()
        dt = time.perf_counter() - t0
        n = 12 * years
        per_step.append(dt / n * 1000)
        fam_rate.append(m.families.n * n / dt)
        edge_rate.append((m.trust.updates - upd0) / dt)
    return {
        "ms_per_step_median": statistics.median(per_step),
        "ms_per_step_best": min(per_step),
        "family_steps_per_s": statistics.median(fam_rate),
        "edge_updates_per_s": statistics.median(edge_rate),
        "families": m.families.n,
        "orgs": int(m.alive.sum()),
        "ties": m.trust.active_count(),
    }


def vectorised_family_trust_step(m: CrossSectorModel) -> None:
    """The same mechanisms as IdiomaticModel.step, in the vectorised model."""
    mech = m.mechanisms
    mech["family_transitions"].step()  # transitions, wellbeing
    mech["family_uptake"].step()  # awareness, applications
    mech["services"].step()  # rationing, services
    m.trust.monthly_update()


def compare_idiomatic(name: str, repeats: int) -> dict[str, float]:
    m = preset(name, 24)
    for _ in range(3):
        m.step()
    idio = IdiomaticModel(m, seed=1)
    t_idio = []
    for _ in range(max(1, repeats // 2)):
        t0 = time.perf_counter()
        idio.step()
        t_idio.append(time.perf_counter() - t0)
    t_vec = []
    for _ in range(repeats * 5):
        t0 = time.perf_counter()
        vectorised_family_trust_step(m)
        t_vec.append(time.perf_counter() - t0)
    a, b = statistics.median(t_idio), statistics.median(t_vec)
    return {"idiomatic_ms": a * 1000, "vectorised_ms": b * 1000, "ratio": a / b}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", nargs="+", default=["small", "large"])
    ap.add_argument("--years", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--no-idiomatic", action="store_true")
    args = ap.parse_args()
    for name in args.presets:
        r = time_steps(name, args.years, args.repeats)
        print(
            f"{name:6s} families={r['families']:>7,} orgs={r['orgs']:>5,} ties={r['ties']:>6,}  "
            f"ms/step median {r['ms_per_step_median']:.2f} best {r['ms_per_step_best']:.2f}  "
            f"family-steps/s {r['family_steps_per_s']:.3g}  edge-updates/s {r['edge_updates_per_s']:.3g}"
        )
        if name == "large":
            if r["ms_per_step_median"] <= TARGET_MS:
                ok = "meets (median of repeats)"
            elif r["ms_per_step_best"] <= TARGET_MS:
                ok = "meets on the best repeat only: the machine was busy, run again"
            else:
                ok = "MISSES"
            print(f"       target <= {TARGET_MS} ms/step: {ok}")
        if not args.no_idiomatic:
            c = compare_idiomatic(name, args.repeats)
            ok = "meets" if c["ratio"] >= TARGET_RATIO else "MISSES"
            print(
                f"       family+trust mechanisms of one step: idiomatic (Mesa agents + networkx) {c['idiomatic_ms']:.1f} ms, "
                f"vectorised {c['vectorised_ms']:.2f} ms, ratio {c['ratio']:.0f}x ({ok} >= {TARGET_RATIO:.0f}x)"
            )


if __name__ == "__main__":
    main()
