"""Synthetic survey: every NGO and municipality answers the Volgograd 2021 questions.

At a chosen month, each living NGO and each municipality answers from its own
state and history over the survey period (``window`` months, 36 = the
2018-2020 period the sociologists asked about). NGOs and officials judge the
same events by their own yardsticks: an NGO calls its requests "mostly
fulfilled" only if at least ``ngo_yardstick`` of them were, an official's
view counts what its municipality handled; officials never name personal
connections as a criterion (it is not an answer their role allows), NGOs
name them when the NGOs their municipality chose were the tied ones.

Answer rules (``SurveyRules`` holds the thresholds; every rule is listed in
docs/ODD.md, section "Input data and the synthetic survey"):

========================================  =====================================================
question (targets key)                    rule
========================================  =====================================================
ngo_interacts_with_municipality           yes if the NGO had any month of contact (a request, or a
                                          partnership with its municipality) in the period
ngo_contact_frequency                     contact months >= regular: regularly; >= sometimes:
                                          sometimes; >= 1: rarely (others: no answer)
ngo_requests_for_support                  requests >= often: regularly_or_often; >= 1:
                                          exceptional_cases; 0: never
ngo_request_outcome                       of NGOs that asked: fulfilled share >= ngo_yardstick:
                                          mostly_fulfilled; > 0: mostly_not_fulfilled; 0: never
municipality_request_outcome              the same with the officials' yardstick (official_yardstick)
municipality_handles_ngo_requests         requests received per NGO of the territory >= regular:
                                          regularly; >= sometimes: sometimes; > 0: rarely; 0: never
received_grant_from_fund                  NGO: won a grant in the period; municipality: an NGO it
                                          was in partnership with won one
took_part_in_competitions                 NGO: applied; municipality: a partner NGO applied
no_project_experience                     NGO: no project experience; municipality: no partnership
                                          it was a member of was completed
municipality_partner_criteria (multi)     a criterion is named if the NGOs the municipality accepted
                                          differ from those it refused on it by >= criteria_margin
                                          standard deviations (personal connections: never)
ngo_satisfaction / municipality_...       trust in the other side >= satisfied_fully: fully;
                                          >= satisfied_partly: partly; else not satisfied
ngo_council_member                        member of the municipality's public council
========================================  =====================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

from sim.params import ConfigError

if TYPE_CHECKING:
    from sim.model import CrossSectorModel

CRITERIA = (
    "fits_authority_plans",
    "target_group_focus",
    "readiness_for_dialogue",
    "scale_of_activity",
    "competence_and_responsibility",
    "personal_connections",
)
GROUPS = ("ngo", "municipality")


@dataclass(frozen=True)
class SurveyRules:
    """Thresholds of the answer rules (part of the instrument, not calibrated)."""

    window: int = 36
    regular: int = 12
    sometimes: int = 4
    often: int = 3
    ngo_yardstick: float = 0.6
    official_yardstick: float = 0.3
    requests_regular: float = 1.0
    requests_sometimes: float = 0.3
    criteria_margin: float = 0.25
    satisfied_fully: float = 0.7
    satisfied_partly: float = 0.45


def _shares(labels: np.ndarray, answers: tuple[str, ...], n: int) -> dict[str, float]:
    return {a: 100.0 * float(np.count_nonzero(labels == a)) / max(n, 1) for a in answers}


def survey(model: CrossSectorModel, rules: SurveyRules | None = None) -> dict[str, dict[str, dict[str, float]]]:
    """Ask every living NGO and every municipality; shares in percent of respondents of each group.

    Returns:
        ``{question: {group: {answer: percent}}}``.
    """
    r = rules or SurveyRules()
    m = model
    w = r.window
    slots = np.flatnonzero(m.ngo_alive)
    n_ngo = slots.size
    n_muni = m.n_muni
    out: dict[str, dict[str, dict[str, float]]] = {}

    contacts = m.counter_in_window("ngo_contacts", w)[slots]
    req = m.counter_in_window("ngo_requests", w)[slots]
    ful = m.counter_in_window("ngo_requests_fulfilled", w)[slots]
    grants = m.counter_in_window("ngo_grants", w)[slots]
    apps = m.counter_in_window("ngo_applications", w)[slots]

    out["ngo_interacts_with_municipality"] = {"ngo": _shares(np.where(contacts > 0, "yes", "no"), ("yes", "no"), n_ngo)}
    not_int = contacts == 0
    reason = np.where(req > 0, "tried_and_failed", "no_need")
    out["ngo_interacts_with_municipality"]["ngo"].update(
        {f"no_{k}": v for k, v in _shares(np.where(not_int, reason, ""), ("tried_and_failed", "no_need"), n_ngo).items()}
    )
    freq = np.select([contacts >= r.regular, contacts >= r.sometimes, contacts >= 1], ["regularly", "sometimes", "rarely"], "")
    out["ngo_contact_frequency"] = {"ngo": _shares(freq, ("regularly", "sometimes", "rarely"), n_ngo)}
    how = np.select([req >= r.often, req >= 1], ["regularly_or_often", "exceptional_cases"], "never")
    out["ngo_requests_for_support"] = {"ngo": _shares(how, ("regularly_or_often", "exceptional_cases", "never"), n_ngo)}
    asked = req > 0
    share_ok = np.divide(ful, np.maximum(req, 1))
    outcome = np.select(
        [share_ok >= r.ngo_yardstick, share_ok > 0], ["mostly_fulfilled", "mostly_not_fulfilled"], "never_fulfilled"
    )
    out["ngo_request_outcome"] = {
        "ngo": _shares(outcome[asked], ("mostly_fulfilled", "mostly_not_fulfilled", "never_fulfilled"), int(asked.sum()))
    }

    # municipalities' view of the requests they handled
    mreq = m.counter_in_window("muni_requests", w).astype(float)
    ngos_here = np.maximum(np.bincount(m.org_municipality[m.ngo0 + slots], minlength=n_muni), 1)
    per_ngo_year = mreq / ngos_here / (w / 12.0)
    handles = np.select(
        [per_ngo_year >= r.requests_regular, per_ngo_year >= r.requests_sometimes, mreq > 0],
        ["regularly", "sometimes", "rarely"],
        "never",
    )
    out["municipality_handles_ngo_requests"] = {
        "municipality": _shares(handles, ("regularly", "sometimes", "rarely", "never"), n_muni)
    }

    # the same requests judged by the officials' yardstick: what was handled counts
    mful = m.counter_in_window("muni_requests_fulfilled", w).astype(float)
    mshare = np.divide(mful, np.maximum(mreq, 1))
    asked_m = mreq > 0
    m_out = np.select(
        [mshare >= r.official_yardstick, mshare > 0], ["mostly_fulfilled", "mostly_not_fulfilled"], "never_fulfilled"
    )
    out["municipality_request_outcome"] = {
        "municipality": _shares(
            m_out[asked_m], ("mostly_fulfilled", "mostly_not_fulfilled", "never_fulfilled"), int(asked_m.sum())
        )
    }

    # partnerships of each municipality in the period
    ps = m.partnerships
    n = ps.n
    t_now = m.t
    overlap = (ps.start[:n] <= t_now) & (np.where(ps.active[:n], t_now, ps.closed_at[:n]) >= t_now - w)
    gov = ps.members[:n, 0]
    ngo = ps.members[:n, 2]
    with_muni = overlap & (gov >= m.muni0) & (gov < m.biz0) & (ngo >= 0)
    pm, pn = gov[with_muni] - m.muni0, ngo[with_muni] - m.ngo0
    grants_all = m.counter_in_window("ngo_grants", w)
    apps_all = m.counter_in_window("ngo_applications", w)
    muni_grant = np.zeros(n_muni, bool)
    muni_grant[pm[grants_all[pn] > 0]] = True
    muni_comp = np.zeros(n_muni, bool)
    muni_comp[pm[apps_all[pn] > 0]] = True
    completed = (~ps.active[:n]) & (ps.reason[:n] == 1) & (gov >= m.muni0) & (gov < m.biz0)
    muni_exp = np.zeros(n_muni, bool)
    muni_exp[gov[completed] - m.muni0] = True

    yes_no = ("yes", "no")
    out["received_grant_from_fund"] = {
        "ngo": {"yes": 100.0 * float((grants > 0).mean()) if n_ngo else 0.0},
        "municipality": {"yes": 100.0 * float(muni_grant.mean())},
    }
    out["took_part_in_competitions"] = {
        "ngo": {"yes": 100.0 * float((apps > 0).mean()) if n_ngo else 0.0},
        "municipality": {"yes": 100.0 * float(muni_comp.mean())},
    }
    out["no_project_experience"] = {
        "ngo": {"yes": 100.0 * float((~m.ngo_experienced[slots]).mean()) if n_ngo else 0.0},
        "municipality": {"yes": 100.0 * float((~muni_exp).mean())},
    }
    out["ngo_council_member"] = {"ngo": _shares(np.where(m.ngo_council[slots], "yes", "no"), yes_no, n_ngo)}

    # partner criteria, from the municipality's own judgments in the period
    named = np.zeros((n_muni, len(CRITERIA)), bool)
    recent = [j for j in m.judgments if j[0] > t_now - w]
    if recent:
        mm = np.concatenate([j[1] for j in recent])
        attrs = np.concatenate([j[2] for j in recent])
        acc = np.concatenate([j[3] for j in recent])
        sd = attrs.std(axis=0) + 1e-9
        for mi in range(n_muni):
            sel = mm == mi
            a, rej = attrs[sel & acc], attrs[sel & ~acc]
            if len(a) and len(rej):
                named[mi] = (a.mean(axis=0) - rej.mean(axis=0)) / sd >= r.criteria_margin
    ngo_view = named.copy()
    named[:, CRITERIA.index("personal_connections")] = False  # officials do not give this answer
    out["municipality_partner_criteria"] = {
        "municipality": {c: 100.0 * float(named[:, k].mean()) for k, c in enumerate(CRITERIA)}
    }
    ngo_muni = m.org_municipality[m.ngo0 + slots]
    out["ngo_partner_criteria"] = {
        "ngo": {c: 100.0 * float(ngo_view[ngo_muni, k].mean()) if n_ngo else 0.0 for k, c in enumerate(CRITERIA)}
    }

    # satisfaction, each side by its trust in the other
    t_ngo = m.trust.pair_trust(m.ngo0 + slots, m.muni0 + ngo_muni) if n_ngo else np.zeros(0)
    sat = np.select([t_ngo >= r.satisfied_fully, t_ngo >= r.satisfied_partly], ["fully", "partly"], "not_satisfied")
    out["ngo_satisfaction"] = {"ngo": _shares(sat, ("fully", "partly", "not_satisfied"), n_ngo)}
    t_m = np.array([m.trust.pair_trust(np.full(k.size, m.muni0 + mi), m.ngo0 + k).mean() if k.size else 0.5
                    for mi in range(n_muni) for k in [slots[ngo_muni == mi]]])  # fmt: skip
    msat = np.select([t_m >= r.satisfied_fully, t_m >= r.satisfied_partly], ["fully", "partly"], "not_satisfied")
    out["municipality_satisfaction"] = {"municipality": _shares(msat, ("fully", "partly", "not_satisfied"), n_muni)}
    return out


# --------------------------------------------------------------------- targets
@dataclass(frozen=True)
class Target:
    """One target share: question, group, answer, percent."""

    question: str
    group: str
    answer: str
    share: float


def load_targets(path: str | Path) -> list[Target]:
    """Parse a targets file in the format of ``volgograd_2021_calibration.yaml``.

    Each entry of ``questions`` has either ``group`` (ngo | municipality) and
    ``shares`` (answer -> percent), or ``shares_by_group`` (group -> percent
    answering yes); ``multi_answer`` is optional.

    Raises:
        ConfigError: One line naming the bad key and what is allowed.
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"cannot read targets file {path}: not UTF-8 text: allowed a UTF-8 YAML file") from None
    except OSError as e:
        raise ConfigError(f"cannot read targets file {path}: {e.strerror}") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"targets file {path} is not valid YAML: {str(e).splitlines()[0]}") from None
    if not isinstance(data, dict) or not isinstance(data.get("questions"), dict) or not data["questions"]:
        raise ConfigError(f"{path}: needs a non-empty mapping 'questions'")
    out: list[Target] = []
    allowed_keys = {"group", "shares", "shares_by_group", "multi_answer"}
    for q, spec in data["questions"].items():
        where = f"{path.name}: questions.{q}"
        if not isinstance(spec, dict):
            raise ConfigError(f"{where} must be a mapping with keys {', '.join(sorted(allowed_keys))}")
        bad = set(spec) - allowed_keys
        if bad:
            raise ConfigError(f"{where}: unknown key '{sorted(bad)[0]}': allowed keys {', '.join(sorted(allowed_keys))}")
        if ("shares" in spec) == ("shares_by_group" in spec):
            raise ConfigError(f"{where}: give exactly one of 'shares' (with 'group') or 'shares_by_group'")
        if "shares" in spec:
            group = spec.get("group")
            if group not in GROUPS:
                raise ConfigError(f"{where}.group={group!r} is not allowed: allowed values {', '.join(GROUPS)}")
            if not isinstance(spec["shares"], dict):
                raise ConfigError(f"{where}.shares={spec['shares']!r} is not allowed: allowed a mapping answer -> percent")
            # YAML 1.1 reads the answers yes/no as booleans: keep them as the words
            items = [(group, _answer(a), v) for a, v in spec["shares"].items()]
        else:
            sbg = spec["shares_by_group"]
            if not isinstance(sbg, dict):
                raise ConfigError(f"{where}.shares_by_group={sbg!r} is not allowed: allowed a mapping group -> percent")
            for g in sbg:
                if g not in GROUPS:
                    raise ConfigError(f"{where}.shares_by_group.{g} is not allowed: allowed groups {', '.join(GROUPS)}")
            items = [(g, "yes", v) for g, v in sbg.items()]
        if not items:
            raise ConfigError(f"{where}: no shares")
        for g, a, v in items:
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 100:
                raise ConfigError(f"{where}: share for {g}/{a} = {v!r} must be a percent in 0..100")
            out.append(Target(str(q), g, str(a), float(v)))
    return out


def _answer(a: Any) -> str:
    if a is True:
        return "yes"
    if a is False:
        return "no"
    return str(a)


def compare(targets: list[Target], sims: list[dict[str, dict[str, dict[str, float]]]]) -> list[dict[str, Any]]:
    """Target vs simulated mean and 95% interval over the simulated surveys, per question, group and answer."""
    from scipy import stats

    rows = []
    for t in targets:
        vals = [s.get(t.question, {}).get(t.group, {}).get(t.answer) for s in sims]
        simulated = [v for v in vals if v is not None]
        if not simulated:
            nan = float("nan")
            rows.append({"question": t.question, "group": t.group, "answer": t.answer, "target": t.share,
                         "simulated": nan, "ci_low": nan, "ci_high": nan, "status": "not simulated"})  # fmt: skip
            continue
        v = np.array(simulated)
        mean = float(v.mean())
        h = float(stats.t.ppf(0.975, v.size - 1) * v.std(ddof=1) / np.sqrt(v.size)) if v.size > 1 else 0.0
        rows.append({"question": t.question, "group": t.group, "answer": t.answer, "target": t.share, "simulated": mean,
                     "ci_low": max(mean - h, 0.0), "ci_high": min(mean + h, 100.0), "status": "ok"})  # fmt: skip
    return rows


def distance(rows: list[dict[str, Any]]) -> float:
    """Root mean squared difference (percentage points) over the simulated target shares."""
    d = [(r["simulated"] - r["target"]) ** 2 for r in rows if r["status"] == "ok"]
    return float(np.sqrt(np.mean(d))) if d else float("nan")


def as_targets_format(sims: list[dict[str, dict[str, dict[str, float]]]], source: str = "synthetic survey") -> dict[str, Any]:
    """Mean simulated shares over surveys, written in the format of the targets files."""
    questions: dict[str, Any] = {}
    for q in sims[0]:
        groups = sims[0][q]
        if set(groups) == {"ngo", "municipality"} and all(set(v) == {"yes"} for v in groups.values()):
            questions[q] = {"shares_by_group": {g: round(float(np.mean([s[q][g]["yes"] for s in sims])), 1) for g in groups}}
            continue
        for g, answers in groups.items():
            key = q if len(groups) == 1 else f"{q}_{g}"
            questions[key] = {"group": g, "shares": {a: round(float(np.mean([s[q][g][a] for s in sims])), 1) for a in answers}}
    return {"source": source, "surveys": len(sims), "questions": questions}
