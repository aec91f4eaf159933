"""Profile fit of one parameter at the calibrated preset, on the calibration's own distance.

Usage: python scripts/profile_fit.py SPEC KEY V1,V2,... [--seeds N] [--jobs J] [--out DIR]

Every other parameter stays at the preset (``calibration=<spec name>`` on top of the spec's ``base``). For each
value of KEY the script runs N seeds to the spec's survey month and reports the distance ``sim-calibrate``
minimises (RMS of the target shares' differences in survey standard errors, without the ``exclude:`` shares),
mean and standard error over the seeds. It does not write the preset: the chosen value goes into
``configs/calibration/<name>.yaml`` by hand, with the profile as its record. Used for a parameter added after the
ABC run (its posterior does not include it, so its calibration uncertainty is not carried by ``--posterior``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    from analysis.calibration import (
        Prior,
        SurveySimulator,
        _map_runs,
        check_spec,
        load_spec,
        share_key,
        standardised_distance,
    )  # fmt: skip
    from analysis.experiment import compose
    from analysis.surveystats import load_design, share_table, survey_se
    from sim.params import ConfigError, replace
    from sim.survey import load_targets

    ap = argparse.ArgumentParser(prog="profile_fit", description=__doc__.splitlines()[0])
    ap.add_argument("spec")
    ap.add_argument("key")
    ap.add_argument("values", help="comma-separated values of KEY")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    try:
        values = [float(v) for v in args.values.split(",")]
        if args.seeds < 2:
            raise ConfigError(f"--seeds={args.seeds}: allowed an integer of at least 2")
        spec = load_spec(args.spec)
        check_spec(spec)
        base = compose([*spec["base"], f"calibration={spec['name']}"])
        for v in values:  # the key and every value must be valid for the config
            replace(base, **{args.key: v})
    except (ConfigError, ValueError) as e:
        print(f"config error: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    targets = load_targets(spec["targets_path"])
    design = load_design(spec["targets_path"])
    excluded = spec.get("exclude", {})
    prior = {args.key: Prior(args.key, "uniform", min(values), max(values))}
    sim = SurveySimulator(base, [(t.question, t.group, t.answer) for t in targets], prior, spec["month"])
    probe = sim.shares({args.key: values[0]}, 1)
    kept = [t for t, x in zip(targets, probe, strict=True)
            if np.isfinite(x) and share_key(t.question, t.group, t.answer) not in excluded]  # fmt: skip
    sim.rows = [(t.question, t.group, t.answer) for t in kept]
    table = share_table(kept, [{}], design)
    observed, dist = table["target"].to_numpy(float), standardised_distance(survey_se(table))
    work = [(sim, {args.key: v}, 104_729 + s) for v in values for s in range(1, args.seeds + 1)]
    shares = _map_runs(work, args.jobs, chunksize=args.seeds)
    d = np.array([dist({"shares": x}, {"shares": observed}) for x in shares]).reshape(len(values), args.seeds)
    res = pd.DataFrame({args.key: values, "mean_distance": d.mean(axis=1),
                        "se": d.std(axis=1, ddof=1) / np.sqrt(args.seeds), "seeds": args.seeds})  # fmt: skip
    out = args.out or ROOT / "experiments" / "calibration" / "results" / spec["name"] / f"profile_{args.key}"
    out.mkdir(parents=True, exist_ok=True)
    res.to_csv(out / "profile.csv", index=False)
    best = res.loc[res["mean_distance"].idxmin()]
    md = [f"# Profile of `{args.key}` at the `{spec['name']}` preset ({args.seeds} seeds each)\n",
          "Distance: the calibration's (RMS of the target shares' differences in survey standard errors, "
          "`exclude:` shares left out); every other parameter at the preset.\n",
          f"| {args.key} | mean distance | s.e. |", "|---|---|---|"]  # fmt: skip
    md += [f"| {r[args.key]:g} | {r['mean_distance']:.3f} | {r['se']:.3f} |" for _, r in res.iterrows()]
    md.append(f"\nSmallest mean distance at {args.key} = {best[args.key]:g}.")
    (out / "profile.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
