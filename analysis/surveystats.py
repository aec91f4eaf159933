"""Compare like with like: the synthetic survey against the real one at the real survey's precision.

The real survey asked a sample (242 NGOs and 106 officials in 31 rural districts
of Volgograd region, ``respondents`` in the targets file), so each of its shares
is known only to within a sampling interval. This module puts the two sides on
the same footing:

* :func:`wilson` — the survey's own 95% interval of a share (Wilson score
  interval of a binomial proportion at the survey's n).
* :func:`share_table` — one row per question, group and answer: the target
  share, its n, its Wilson interval, the simulated mean over seeds with two
  intervals (the 95% t-interval of the mean, and the 2.5-97.5% range of single
  seeds: what one simulated survey gives), and whether the simulated mean lies
  inside the survey's interval.
* :func:`question_tests` — per question, could the survey's answers have been
  drawn from the simulated population? Single-answer questions: Pearson
  chi-square of the survey's counts (share x n, over the answers the file
  lists, renormalised so "hard to say" drops out) against the simulated
  distribution, df = answers - 1; questions with one share (yes) and every
  option of a multi-answer question: a binomial (chi-square with df = 1) per
  option. The deviance ``G = 2 sum o ln(o / e)`` (minus twice the multinomial
  log-likelihood ratio against a perfect fit) is reported beside it.
* :func:`overall` — one figure per run: the RMS distance, how many shares are
  inside the survey's interval, the share of questions not rejected at 5%, and
  the summed deviance (the combined log-likelihood, up to a constant).

The input is a question x option table with share and n per option, so it
works the same whether an option is single- or multi-answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from scipy import stats

from sim.params import ConfigError
from sim.survey import GROUPS, Target

Z95 = float(stats.norm.ppf(0.975))


@dataclass(frozen=True)
class SurveyDesign:
    """How the real survey was drawn: respondents per group and which questions were multi-answer."""

    respondents: dict[str, int]
    multi_answer: dict[str, bool] = field(default_factory=dict)

    def n(self, question: str, group: str) -> int:
        """Respondents of ``group`` (the base of every share of the targets file)."""
        return int(self.respondents[group])

    def is_multi(self, question: str) -> bool:
        """Whether ``question`` allowed several answers."""
        return bool(self.multi_answer.get(question, False))


def load_design(path: str | Path) -> SurveyDesign:
    """Read ``respondents`` and the ``multi_answer`` flags of a targets file.

    Raises:
        ConfigError: One line naming the missing or bad key.
    """
    path = Path(path)
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise ConfigError(f"cannot read targets file {path}: {str(e).splitlines()[0]}") from None
    resp = data.get("respondents") if isinstance(data, dict) else None
    if not isinstance(resp, dict) or set(resp) - set(GROUPS):
        raise ConfigError(f"{path}: respondents={resp!r} is not allowed: allowed a mapping of {', '.join(GROUPS)} to counts")
    for g, v in resp.items():
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ConfigError(f"{path}: respondents.{g}={v!r} is not allowed: allowed a positive integer")
    multi = {str(q): bool(s.get("multi_answer", False)) for q, s in (data.get("questions") or {}).items() if isinstance(s, dict)}
    return SurveyDesign({str(k): int(v) for k, v in resp.items()}, multi)


def wilson(share: float, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a share.

    Args:
        share: Observed share in percent (0..100).
        n: Sample size (respondents).
        z: Normal quantile (1.96 for 95%).

    Returns:
        ``(low, high)`` in percent.
    """
    if n < 1:
        return 0.0, 100.0
    p = share / 100.0
    den = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return 100.0 * max(centre - half, 0.0), 100.0 * min(centre + half, 1.0)


def share_table(targets: list[Target], sims: list[dict[str, Any]], design: SurveyDesign) -> pd.DataFrame:
    """One row per target share: survey interval, simulated mean with seed intervals, inside flag.

    Args:
        targets: Target shares (:func:`sim.survey.load_targets`).
        sims: Simulated surveys, one per seed (:func:`sim.survey.survey`).
        design: Respondents and multi-answer flags (:func:`load_design`).

    Returns:
        Columns ``question, group, answer, multi, n, target, survey_low, survey_high, simulated, ci_low, ci_high,
        seed_low, seed_high, seeds, inside, status``.
    """
    rows = []
    for t in targets:
        n = design.n(t.question, t.group)
        lo, hi = wilson(t.share, n)
        vals = np.array([v for s in sims if (v := s.get(t.question, {}).get(t.group, {}).get(t.answer)) is not None], float)
        row: dict[str, Any] = {"question": t.question, "group": t.group, "answer": t.answer, "n": n, "target": t.share,
                               "multi": design.is_multi(t.question), "survey_low": lo, "survey_high": hi,
                               "seeds": vals.size}  # fmt: skip
        if vals.size == 0:
            nan = float("nan")
            row.update(simulated=nan, ci_low=nan, ci_high=nan, seed_low=nan, seed_high=nan, inside=False, status="not simulated")
        else:
            m = float(vals.mean())
            h = float(stats.t.ppf(0.975, vals.size - 1) * vals.std(ddof=1) / np.sqrt(vals.size)) if vals.size > 1 else 0.0
            row.update(simulated=m, ci_low=max(m - h, 0.0), ci_high=min(m + h, 100.0),
                       seed_low=float(np.percentile(vals, 2.5)), seed_high=float(np.percentile(vals, 97.5)),
                       inside=bool(lo <= m <= hi), status="ok")  # fmt: skip
        rows.append(row)
    return pd.DataFrame(rows)


def chi_square(observed: np.ndarray, probs: np.ndarray, n: float) -> tuple[float, float, int, float]:
    """Pearson chi-square and deviance of counts against a distribution.

    Args:
        observed: Observed counts per category (they may be fractional: share x n).
        probs: Model probabilities per category (sum 1). Where the survey has answers the model never gives, the
            probability is floored at ``0.5 / n`` (half a respondent), so that costs a large but finite amount; a
            category neither side gives costs nothing.
        n: Total count.

    Returns:
        ``(chi2, p_value, df, deviance)``.
    """
    o = np.asarray(observed, float)
    q = np.asarray(probs, float).copy()
    floor = 0.5 / max(n, 1.0)
    q[(q < floor) & (o > 0)] = floor
    q = q / q.sum()
    e = n * q
    with np.errstate(divide="ignore", invalid="ignore"):
        chi2 = float(np.where(e > 0, (o - e) ** 2 / e, 0.0).sum())
        g = float(2.0 * np.where(o > 0, o * np.log(o / e), 0.0).sum())
    df = o.size - 1
    return chi2, float(stats.chi2.sf(chi2, df)), df, g


def question_tests(table: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Per question and group, test whether the survey's answers could come from the simulated population.

    Multi-answer questions and one-share questions give one binomial test per option; other questions one
    multinomial test over their listed answers (renormalised: "hard to say" and no answer drop out).

    Returns:
        Columns ``question, group, answer ('' for a whole question), kind, n, chi2, df, p, deviance, rejected``.
    """
    rows = []
    ok = table[table["status"] == "ok"]
    for (q, g), part in ok.groupby(["question", "group"], sort=False):
        n = int(part["n"].iloc[0])
        target = part["target"].to_numpy() / 100.0
        sim = part["simulated"].to_numpy() / 100.0
        if bool(part["multi"].iloc[0]) or len(part) == 1:
            for a, pt, ps in zip(part["answer"], target, sim, strict=True):
                obs = np.array([pt, 1 - pt]) * n
                chi2, p, df, dev = chi_square(obs, np.array([ps, 1 - ps]), n)
                rows.append({"question": q, "group": g, "answer": a, "kind": "binomial", "n": n, "chi2": chi2, "df": df,
                             "p": p, "deviance": dev, "rejected": p < alpha})  # fmt: skip
        else:
            answered = float(target.sum())
            n_eff = n * min(answered, 1.0)
            obs = target / max(answered, 1e-12) * n_eff
            probs = sim / sim.sum() if sim.sum() > 0 else np.full(sim.size, 1.0 / sim.size)
            chi2, p, df, dev = chi_square(obs, probs, n_eff)
            rows.append({"question": q, "group": g, "answer": "", "kind": "multinomial", "n": round(n_eff, 1), "chi2": chi2,
                         "df": df, "p": p, "deviance": dev, "rejected": p < alpha})  # fmt: skip
    return pd.DataFrame(rows, columns=["question", "group", "answer", "kind", "n", "chi2", "df", "p", "deviance", "rejected"])


def overall(table: pd.DataFrame, tests: pd.DataFrame) -> dict[str, float]:
    """One-line figures of fit: RMS, shares inside the survey interval, tests not rejected, total deviance."""
    ok = table[table["status"] == "ok"]
    d = (ok["simulated"] - ok["target"]).to_numpy()
    return {
        "rms": float(np.sqrt(np.mean(d**2))) if d.size else float("nan"),
        "shares": int(len(ok)),
        "inside": int(ok["inside"].sum()),
        "tests": int(len(tests)),
        "not_rejected": int((~tests["rejected"].astype(bool)).sum()) if len(tests) else 0,
        "not_rejected_share": float((~tests["rejected"].astype(bool)).mean()) if len(tests) else float("nan"),
        "deviance": float(tests["deviance"].sum()) if len(tests) else float("nan"),
        "not_simulated": int((table["status"] != "ok").sum()),
    }


def survey_se(table: pd.DataFrame) -> np.ndarray:
    """Standard error (percentage points) of each target share at the survey's n, floored at half a respondent.

    The calibration distance divides every difference by it, so a share the survey pins down tightly weighs more.
    """
    p = np.clip(table["target"].to_numpy() / 100.0, 0.5 / table["n"].to_numpy(), 1 - 0.5 / table["n"].to_numpy())
    return 100.0 * np.sqrt(p * (1 - p) / table["n"].to_numpy())
