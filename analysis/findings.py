"""Findings of an experiment and the ablations that back them.

A finding is a claim about the difference between two arms of an experiment in one outcome,
together with the mechanism that is supposed to drive it. The experiment file names it::

    findings:
      survival_pdc:
        claim: a centre of public development raises NGO survival
        outcome: ngo_survival
        arms: [none, public_development_centre]      # effect = second arm - first arm
        mechanism_off: [rc_model.programme_share=0]  # overrides that switch the driving mechanism off

``sim-experiment`` runs both arms again with ``mechanism_off`` added (same seeds, common random
numbers) and reports the paired effect with the mechanism on and off, each with a 95% t-interval
over seeds (:func:`paired_effect`). The verdict says whether the effect is there with the
mechanism and whether it goes when the mechanism is switched off — as it comes out, never tuned.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim.outcomes import OUTCOMES
from sim.params import ConfigError

FINDING_KEYS = {"claim", "outcome", "arms", "mechanism_off"}
ABLATED = "~off:"
"""Infix of the ablation arms' names: ``<arm>~off:<finding>``."""


@dataclass(frozen=True)
class Finding:
    """One claim of an experiment and the switch that removes its mechanism."""

    name: str
    claim: str
    outcome: str
    arms: tuple[str, str]
    mechanism_off: tuple[str, ...]
    runs_as: str = ""
    """The first finding with the same ``mechanism_off``: its ablation runs serve this one too."""

    def ablation_arm(self, arm: str) -> str:
        """Name of ``arm`` run with this finding's mechanism switched off (shared by findings with the same switch)."""
        return f"{arm}{ABLATED}{self.runs_as or self.name}"


def mean_ci(values: np.ndarray) -> tuple[float, float, float]:
    """Mean and 95% t-interval of the mean (non-finite values left out; the mean itself below two values)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return float("nan"), float("nan"), float("nan")
    m = float(v.mean())
    if v.size < 2:
        return m, m, m
    h = float(stats.t.ppf(0.975, v.size - 1) * v.std(ddof=1) / np.sqrt(v.size))
    return m, m - h, m + h


def parse_findings(path: str | Path, data: Any, arms: dict[str, list[str]]) -> list[Finding]:
    """Check the ``findings`` mapping of an experiment file (``arms``: the file's arms, names as strings).

    Raises:
        ConfigError: One line naming the finding and key at fault and what is allowed.
    """
    if data is None:
        return []
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: 'findings' must map finding names to {{claim, outcome, arms, mechanism_off}}")
    out = []
    for name, f in data.items():
        where = f"{path}: findings.{name}"
        if not isinstance(f, dict):
            raise ConfigError(f"{where} must be a mapping with keys {', '.join(sorted(FINDING_KEYS))}")
        unknown = set(f) - FINDING_KEYS
        missing = FINDING_KEYS - set(f)
        if unknown or missing:
            bad = sorted(unknown)[0] if unknown else sorted(missing)[0]
            what = "unknown key" if unknown else "missing key"
            raise ConfigError(f"{where}: {what} '{bad}': allowed keys {', '.join(sorted(FINDING_KEYS))}")
        if f["outcome"] not in OUTCOMES:
            raise ConfigError(f"{where}.outcome={f['outcome']!r}: allowed values {', '.join(OUTCOMES)}")
        pair = [str(a) for a in f["arms"]] if isinstance(f["arms"], list) else f["arms"]
        if not (isinstance(pair, list) and len(pair) == 2 and all(a in arms for a in pair) and pair[0] != pair[1]):
            raise ConfigError(f"{where}.arms={pair!r}: allowed two different arms of {', '.join(arms)}")
        off = f["mechanism_off"]
        if not (isinstance(off, list) and off and all(isinstance(x, str) and "=" in x for x in off)):
            raise ConfigError(f"{where}.mechanism_off must be a non-empty list of overrides like key=value")
        if ABLATED in str(name) or not str(name).replace("_", "").isalnum():
            raise ConfigError(f"{where}: a finding name is letters, digits and _")
        first = next((g.name for g in out if g.mechanism_off == tuple(off)), str(name))
        out.append(Finding(str(name), str(f["claim"]), str(f["outcome"]), (pair[0], pair[1]), tuple(off), first))
    return out


def ablation_arms(findings: list[Finding], arms: dict[str, list[str]]) -> dict[str, list[str]]:
    """The extra arms to run: each finding's two arms with its ``mechanism_off`` overrides appended.

    Once per distinct arm and switch: findings with the same switch share the runs.
    """
    return {f.ablation_arm(a): [*arms[a], *f.mechanism_off] for f in findings for a in f.arms}


def paired_effect(outcomes: pd.DataFrame, key: str, first: str, second: str) -> tuple[float, float, float, int]:
    """Mean of ``second - first`` over the seeds both arms ran (paired), with its 95% t-interval.

    Returns:
        ``(mean, low, high, n)``; the interval is the mean when ``n < 2``.
    """
    a = outcomes.loc[outcomes["arm"] == first].set_index("seed")[key]
    b = outcomes.loc[outcomes["arm"] == second].set_index("seed")[key]
    d = (b - a).to_numpy(dtype=float)
    return (*mean_ci(d), int(np.isfinite(d).sum()))


def verdict(on: tuple[float, float, float, int], off: tuple[float, float, float, int]) -> str:
    """Plain words for what the ablation shows.

    The effect is *there* when its 95% interval excludes zero. It *goes* with the mechanism off
    when the ablated interval includes zero or lies on the other side; it *shrinks* when the
    ablated mean is less than half the effect's, same sign; otherwise it *stays*.
    """
    m, lo, hi, _ = on
    mo, lo_o, hi_o, _ = off
    if not np.isfinite(m):
        return "no data"
    if lo <= 0 <= hi:
        return "no effect to explain (95% CI includes 0)"
    sign = np.sign(m)
    if (lo_o <= 0 <= hi_o) or np.sign(mo) != sign:
        return "effect goes with the mechanism off"
    if abs(mo) < 0.5 * abs(m):
        return "effect shrinks by more than half with the mechanism off"
    return "effect stays with the mechanism off: this mechanism does not explain it"


def findings_table(outcomes: pd.DataFrame, findings: list[Finding]) -> pd.DataFrame:
    """One row per finding: the paired effect with the mechanism on and off, and the verdict."""
    rows = []
    for f in findings:
        a, b = f.arms
        on = paired_effect(outcomes, f.outcome, a, b)
        off = paired_effect(outcomes, f.outcome, f.ablation_arm(a), f.ablation_arm(b))
        rows.append(
            {
                "finding": f.name,
                "claim": f.claim,
                "outcome": f.outcome,
                "arms": f"{b} - {a}",
                "mechanism_off": " ".join(f.mechanism_off),
                "effect": on[0],
                "effect_low": on[1],
                "effect_high": on[2],
                "effect_off": off[0],
                "effect_off_low": off[1],
                "effect_off_high": off[2],
                "n": on[3],
                "verdict": verdict(on, off),
            }
        )
    return pd.DataFrame(rows)


def findings_markdown(table: pd.DataFrame) -> str:
    """The findings table as markdown."""

    def f(x: float) -> str:
        return "nan" if not np.isfinite(x) else (f"{x:+.3f}" if abs(x) < 100 else f"{x:+.0f}")

    lines = [
        "| finding | claim | outcome (arms) | effect [95% CI] | with the mechanism off | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for r in table.itertuples():
        lines.append(
            f"| {r.finding} | {r.claim} | `{r.outcome}` ({r.arms}) | {f(r.effect)} [{f(r.effect_low)}, {f(r.effect_high)}] "
            f"| {f(r.effect_off)} [{f(r.effect_off_low)}, {f(r.effect_off_high)}] (`{r.mechanism_off}`) | {r.verdict} |"
        )
    return "\n".join(lines) + "\n"
