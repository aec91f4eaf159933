"""Synthetic survey: every NGO and municipality answers the Volgograd 2021 questions.

At a chosen month, each living NGO and each municipality answers from its own
state and history over the survey period (``window`` months, 36 = the
2018-2020 period the sociologists asked about). The two sides' different
views come from the model, not from the instrument: each side keeps its own
tally of the same requests (:mod:`sim.mechanisms.perception`: the NGO counts
help that arrived, the official what was answered or passed on within the
plan) and its own satisfaction, and both are read with the same cut-off
(``mostly``). Multi-answer questions (marked ``multi`` below) are answered
per option, yes or no each, so a respondent may name several.

Answer rules (``SurveyRules`` holds the thresholds; every rule is listed in
docs/ODD.md, section "Input data and the synthetic survey"):

========================================  =====================================================
question (targets key)                    rule
========================================  =====================================================
ngo_interacts_with_municipality           yes if the NGO had a month of contact (a request, or a
                                          partnership with its municipality) in the period and has
                                          not given up asking; no: tried_and_failed if it gave up
                                          (``ngo_gave_up``), else no_need
ngo_contact_frequency                     contact months >= regular: regularly; >= sometimes:
                                          sometimes; >= 1: rarely (others: no answer)
ngo_requests_for_support                  requests >= often: regularly_or_often; >= 1:
                                          exceptional_cases; 0: never
ngo_request_outcome                       of NGOs that asked, by the NGO's tally (help arrived):
                                          share >= mostly: mostly_fulfilled; > 0: mostly_not_...;
                                          0: never_fulfilled
municipality_request_outcome              the same, by the officials' tally (handled)
municipality_handles_ngo_requests         requests received per NGO of the territory >= regular:
                                          regularly; >= sometimes: sometimes; > 0: rarely; 0: never
received_grant_from_fund                  NGO: won a grant in the period; municipality: an NGO it
                                          was in partnership with won one
took_part_in_competitions                 NGO: applied; municipality: a partner NGO applied
no_project_experience                     NGO: no project experience; municipality: no partnership
                                          it was a member of was completed
municipality_partner_criteria (multi)     a criterion is named if the applicants the officials
                                          heard and chose differ from those they heard and refused
                                          by >= criteria_margin standard deviations (personal
                                          connections: never, not an answer the role allows)
ngo_partner_criteria (multi)              the same over every applicant of the NGO's municipality,
                                          chosen vs not chosen (NGOs also see who was never heard)
ngo_satisfaction / municipality_...       own satisfaction (``ngo_satisfaction``,
                                          ``muni_satisfaction``) >= satisfied_fully: fully;
                                          >= satisfied_partly: partly; else not_satisfied
ngo_council_member                        member of the municipality's public council
municipality_interaction_aims (multi)     support_ngo_projects: a partnership with an NGO;
                                          budget_grants: paid a subsidy on a request;
                                          orders_for_services: an NGO of the territory was paid
                                          under a social order; links_with_business: a trilateral
                                          partnership; joint_working_groups: a council NGO member
                                          in contact in the period
ngo_interaction_aims (multi)              support_for_projects: applied for or was in a partnership
                                          with the municipality; budget_grants: asked for support;
                                          orders_for_services: was paid under a social order;
                                          working_groups: council member
ngo_problems / municipality_problems      bureaucracy: NGO: runarounds (handled, no help) >=
(multi)                                   problem_share of its requests; official: handled share of
                                          requests < mostly. low_ngo_activity: official: < half the
                                          territory's NGOs in contact in the last 12 months; NGO:
                                          the same, said only by an NGO itself in contact.
                                          low_ngo_professionalism: mean capacity of the NGOs judged
                                          (official: those that asked or applied; NGO: its NGO tie
                                          partners, below its own capacity too) < professional.
                                          ngo_disunity:
                                          official: < half the territory's NGOs have a tie to
                                          another NGO; NGO: it has none
========================================  =====================================================

:func:`survey` returns ``{question: {group: {answer: percent}}}``;
:func:`survey_table` the same as rows ``question, group, option, share, n,
multi_answer`` (one row per question x option; ``n`` respondents asked).
Interaction aims without a model state (premises, petitions, consultation)
are not asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
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
PROBLEMS = ("bureaucracy", "low_ngo_activity", "low_ngo_professionalism", "ngo_disunity")
MUNI_AIMS = ("support_ngo_projects", "budget_grants", "orders_for_services", "links_with_business", "joint_working_groups")
NGO_AIMS = ("support_for_projects", "budget_grants", "orders_for_services", "working_groups")
MULTI = ("municipality_partner_criteria", "ngo_partner_criteria", "municipality_interaction_aims", "ngo_interaction_aims",
         "ngo_problems", "municipality_problems")  # fmt: skip
"""Multi-answer questions: each option is a yes/no answer of every respondent."""
GROUPS = ("ngo", "municipality")


@dataclass(frozen=True)
class SurveyRules:
    """Thresholds of the answer rules (part of the instrument, not calibrated; the same for both sides)."""

    window: int = 36
    regular: int = 12
    sometimes: int = 4
    often: int = 3
    mostly: float = 0.5
    requests_regular: float = 1.0
    requests_sometimes: float = 0.3
    criteria_margin: float = 0.25
    satisfied_fully: float = 0.7
    satisfied_partly: float = 0.45
    problem_share: float = 0.25
    professional: float = 0.5


class _Answers:
    """Shares in percent and the number asked, per question and group."""

    def __init__(self) -> None:
        self.shares: dict[str, dict[str, dict[str, float]]] = {}
        self.n: dict[tuple[str, str], int] = {}

    def labels(self, q: str, g: str, labels: np.ndarray, answers: tuple[str, ...], n: int | None = None) -> None:
        n = labels.size if n is None else n
        self.put(q, g, {a: 100.0 * float(np.count_nonzero(labels == a)) / max(n, 1) for a in answers}, n)

    def yes(self, q: str, g: str, options: dict[str, np.ndarray]) -> None:
        """Per option, the percent answering yes (a yes/no answer per option)."""
        n = next(iter(options.values())).size
        self.put(q, g, {a: 100.0 * float(np.count_nonzero(v)) / max(n, 1) for a, v in options.items()}, n)

    def put(self, q: str, g: str, shares: dict[str, float], n: int) -> None:
        self.shares.setdefault(q, {}).setdefault(g, {}).update(shares)
        self.n[(q, g)] = int(n)


def survey(model: CrossSectorModel, rules: SurveyRules | None = None) -> dict[str, dict[str, dict[str, float]]]:
    """Ask every living NGO and every municipality; shares in percent of respondents of each group.

    Returns:
        ``{question: {group: {answer: percent}}}``.
    """
    return _ask(model, rules or SurveyRules()).shares


def survey_table(model: CrossSectorModel, rules: SurveyRules | None = None) -> pd.DataFrame:
    """The survey as rows ``question, group, option, share, n, multi_answer`` (one per question x option)."""
    ans = _ask(model, rules or SurveyRules())
    rows = [{"question": q, "group": g, "option": a, "share": v, "n": ans.n[(q, g)], "multi_answer": q in MULTI}
            for q, groups in ans.shares.items() for g, opts in groups.items() for a, v in opts.items()]  # fmt: skip
    return pd.DataFrame(rows, columns=["question", "group", "option", "share", "n", "multi_answer"])


def shares_of(table: pd.DataFrame) -> dict[str, dict[str, dict[str, float]]]:
    """The ``{question: {group: {answer: percent}}}`` form of a :func:`survey_table`."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for q, g, a, v in zip(table["question"], table["group"], table["option"], table["share"], strict=True):
        out.setdefault(q, {}).setdefault(g, {})[a] = float(v)
    return out


def _ask(model: CrossSectorModel, r: SurveyRules) -> _Answers:
    m = model
    w = r.window
    slots = np.flatnonzero(m.ngo_alive)
    n_ngo = slots.size
    n_muni = m.n_muni
    A = _Answers()
    yes_no = ("yes", "no")

    contacts = m.counter_in_window("ngo_contacts", w)[slots]
    req = m.counter_in_window("ngo_requests", w)[slots]
    ful = m.counter_in_window("ngo_requests_fulfilled", w)[slots]
    grants = m.counter_in_window("ngo_grants", w)[slots]
    apps = m.counter_in_window("ngo_applications", w)[slots]
    gave_up = m.ngo_gave_up[slots]

    interacts = (contacts > 0) & ~gave_up
    A.labels("ngo_interacts_with_municipality", "ngo", np.where(interacts, "yes", "no"), yes_no)
    reason = np.where(interacts, "", np.where(gave_up, "tried_and_failed", "no_need"))
    A.put("ngo_interacts_with_municipality", "ngo",
          {f"no_{k}": 100.0 * float(np.count_nonzero(reason == k)) / max(n_ngo, 1) for k in ("tried_and_failed", "no_need")},
          n_ngo)  # fmt: skip
    freq = np.select([contacts >= r.regular, contacts >= r.sometimes, contacts >= 1], ["regularly", "sometimes", "rarely"], "")
    A.labels("ngo_contact_frequency", "ngo", freq, ("regularly", "sometimes", "rarely"))
    how = np.select([req >= r.often, req >= 1], ["regularly_or_often", "exceptional_cases"], "never")
    A.labels("ngo_requests_for_support", "ngo", how, ("regularly_or_often", "exceptional_cases", "never"))
    outcomes = ("mostly_fulfilled", "mostly_not_fulfilled", "never_fulfilled")
    asked = req > 0
    share_ok = np.divide(ful, np.maximum(req, 1))
    outcome = np.select([share_ok >= r.mostly, share_ok > 0], list(outcomes[:2]), outcomes[2])
    A.labels("ngo_request_outcome", "ngo", outcome[asked], outcomes)

    # municipalities' view of the requests they handled
    mreq = m.counter_in_window("muni_requests", w).astype(float)
    ngo_muni = m.org_municipality[m.ngo0 + slots]
    ngos_here = np.maximum(np.bincount(ngo_muni, minlength=n_muni), 1)
    per_ngo_year = mreq / ngos_here / (w / 12.0)
    handles = np.select(
        [per_ngo_year >= r.requests_regular, per_ngo_year >= r.requests_sometimes, mreq > 0],
        ["regularly", "sometimes", "rarely"],
        "never",
    )
    A.labels("municipality_handles_ngo_requests", "municipality", handles, ("regularly", "sometimes", "rarely", "never"))
    # the same requests by the officials' own tally: what was answered or passed on within the plan
    mhand = m.counter_in_window("muni_requests_handled", w).astype(float)
    mshare = np.divide(mhand, np.maximum(mreq, 1))
    asked_m = mreq > 0
    m_out = np.select([mshare >= r.mostly, mshare > 0], list(outcomes[:2]), outcomes[2])
    A.labels("municipality_request_outcome", "municipality", m_out[asked_m], outcomes)

    # partnerships of each municipality in the period
    ps = m.partnerships
    n = ps.n
    t_now = m.t
    overlap = (ps.start[:n] <= t_now) & (np.where(ps.active[:n], t_now, ps.closed_at[:n]) >= t_now - w)
    gov, biz, ngo = ps.members[:n, 0], ps.members[:n, 1], ps.members[:n, 2]
    is_muni = (gov >= m.muni0) & (gov < m.biz0)
    with_muni = overlap & is_muni & (ngo >= 0)
    pm, pn = gov[with_muni] - m.muni0, ngo[with_muni] - m.ngo0
    grants_all = m.counter_in_window("ngo_grants", w)
    apps_all = m.counter_in_window("ngo_applications", w)
    muni_grant = np.zeros(n_muni, bool)
    muni_grant[pm[grants_all[pn] > 0]] = True
    muni_comp = np.zeros(n_muni, bool)
    muni_comp[pm[apps_all[pn] > 0]] = True
    completed = (~ps.active[:n]) & (ps.reason[:n] == 1) & is_muni
    muni_exp = np.zeros(n_muni, bool)
    muni_exp[gov[completed] - m.muni0] = True
    A.yes("received_grant_from_fund", "ngo", {"yes": grants > 0})
    A.yes("received_grant_from_fund", "municipality", {"yes": muni_grant})
    A.yes("took_part_in_competitions", "ngo", {"yes": apps > 0})
    A.yes("took_part_in_competitions", "municipality", {"yes": muni_comp})
    A.yes("no_project_experience", "ngo", {"yes": ~m.ngo_experienced[slots]})
    A.yes("no_project_experience", "municipality", {"yes": ~muni_exp})
    A.labels("ngo_council_member", "ngo", np.where(m.ngo_council[slots], "yes", "no"), yes_no)

    _criteria(A, m, r, ngo_muni)

    # satisfaction, each side by its own (sim.mechanisms.perception)
    sat_answers = ("fully", "partly", "not_satisfied")
    s_ngo = m.ngo_satisfaction[slots]
    A.labels("ngo_satisfaction", "ngo",
             np.select([s_ngo >= r.satisfied_fully, s_ngo >= r.satisfied_partly], ["fully", "partly"], "not_satisfied"),
             sat_answers)  # fmt: skip
    s_m = m.muni_satisfaction
    A.labels("municipality_satisfaction", "municipality",
             np.select([s_m >= r.satisfied_fully, s_m >= r.satisfied_partly], ["fully", "partly"], "not_satisfied"),
             sat_answers)  # fmt: skip

    # interaction aims
    trilateral = with_muni & (biz >= 0)
    muni_tri = np.zeros(n_muni, bool)
    muni_tri[gov[trilateral] - m.muni0] = True
    muni_proj = np.zeros(n_muni, bool)
    muni_proj[pm] = True
    ngo_in_p = np.zeros(m.ngo_alive.size, bool)
    ngo_in_p[pn] = True
    order_paid = _social_order_paid(m, w)
    council_contact = m.ngo_council[slots] & (contacts > 0)
    muni_orders = np.bincount(ngo_muni, weights=order_paid[slots], minlength=n_muni) > 0
    A.yes("municipality_interaction_aims", "municipality", {
        "support_ngo_projects": muni_proj,
        "budget_grants": m.counter_in_window("muni_requests_fulfilled", w) > 0,
        "orders_for_services": muni_orders,
        "links_with_business": muni_tri,
        "joint_working_groups": np.bincount(ngo_muni, weights=council_contact, minlength=n_muni) > 0,
    })  # fmt: skip
    applied = m.counter_in_window("ngo_applied", w)[slots]
    A.yes("ngo_interaction_aims", "ngo", {
        "support_for_projects": (applied > 0) | ngo_in_p[slots],
        "budget_grants": req > 0,
        "orders_for_services": order_paid[slots],
        "working_groups": m.ngo_council[slots],
    })  # fmt: skip

    _problems(A, m, r, slots, ngo_muni, req, mreq, mhand)
    return A


def _criteria(A: _Answers, m: CrossSectorModel, r: SurveyRules, ngo_muni: np.ndarray) -> None:
    """Partner criteria, per criterion yes/no, from the municipality's own judgments in the period."""
    n_muni = m.n_muni
    named = np.zeros((n_muni, len(CRITERIA)), bool)
    seen = np.zeros((n_muni, len(CRITERIA)), bool)
    recent = [j for j in m.judgments if j[0] > m.t - r.window]
    if recent:
        mm = np.concatenate([j[1] for j in recent])
        attrs = np.concatenate([j[2] for j in recent])
        chosen = np.concatenate([j[3] for j in recent])
        heard = np.concatenate([j[4] if len(j) > 4 else np.ones(j[3].size, bool) for j in recent])
        sd = attrs.std(axis=0) + 1e-9
        for mi in range(n_muni):
            sel = mm == mi
            a, rej = attrs[sel & chosen], attrs[sel & heard & ~chosen]  # officials: among those they heard
            if len(a) and len(rej):
                named[mi] = (a.mean(axis=0) - rej.mean(axis=0)) / sd >= r.criteria_margin
            rest = attrs[sel & ~chosen]  # NGOs: everyone who applied and was not chosen
            if len(a) and len(rest):
                seen[mi] = (a.mean(axis=0) - rest.mean(axis=0)) / sd >= r.criteria_margin
    named[:, CRITERIA.index("personal_connections")] = False  # officials do not give this answer
    A.yes("municipality_partner_criteria", "municipality", {c: named[:, k] for k, c in enumerate(CRITERIA)})
    A.yes("ngo_partner_criteria", "ngo", {c: seen[ngo_muni, k] for k, c in enumerate(CRITERIA)})


def _social_order_paid(m: CrossSectorModel, window: int) -> np.ndarray:
    """Per NGO slot: paid under a social order in the last ``window`` months."""
    from sim.ledger import CHANNELS

    out = np.zeros(m.ngo_alive.size, bool)
    f = m.ledger.flows()
    f = f[(f["channel"] == CHANNELS.index("social_order")) & (f["step"] > m.t + 1 - window)]
    dst = f["dst"].to_numpy() - m.ngo0
    dst = dst[(dst >= 0) & (dst < out.size)]
    out[dst] = True
    return out


def _problems(
    A: _Answers, m: CrossSectorModel, r: SurveyRules, slots: np.ndarray, ngo_muni: np.ndarray,
    req: np.ndarray, mreq: np.ndarray, mhand: np.ndarray,
) -> None:  # fmt: skip
    """The problems each side names (BRIEF s.6), per problem yes/no, from model states."""
    n_muni = m.n_muni
    w = r.window
    runaround = m.counter_in_window("ngo_bureaucracy", w)[slots]
    recent = m.counter_in_window("ngo_contacts", min(12, w))[slots] > 0
    n_here = np.maximum(np.bincount(ngo_muni, minlength=n_muni), 1)
    active_share = np.bincount(ngo_muni, weights=recent, minlength=n_muni) / n_here
    low_activity = active_share < 0.5
    # NGO-NGO ties (either direction)
    tr = m.trust
    k = np.flatnonzero(tr.active[: tr.n])
    src, dst = tr.src[k], tr.dst[k]
    nn = (src >= m.ngo0) & (dst >= m.ngo0)
    src, dst = src[nn] - m.ngo0, dst[nn] - m.ngo0
    tied = np.zeros(m.ngo_alive.size, bool)
    tied[src] = True
    tied[dst] = True
    cap = m.ngo_capacity
    peer_n = np.bincount(src, minlength=cap.size)
    peer_cap = (np.bincount(src, weights=cap[dst], minlength=cap.size) / np.maximum(peer_n, 1))[slots]
    weak_peers = (peer_n[slots] > 0) & (peer_cap < np.minimum(r.professional, cap[slots]))
    disunited = np.bincount(ngo_muni, weights=tied[slots], minlength=n_muni) / n_here < 0.5
    # officials judge the NGOs that came to them: those that asked or applied
    applied = m.counter_in_window("ngo_applied", w)[slots]
    came = (req > 0) | (applied > 0)
    n_came = np.bincount(ngo_muni[came], minlength=n_muni)
    came_cap = np.bincount(ngo_muni[came], weights=cap[slots][came], minlength=n_muni) / np.maximum(n_came, 1)
    A.yes("ngo_problems", "ngo", {
        "bureaucracy": (req > 0) & (runaround >= r.problem_share * req),
        "low_ngo_activity": recent & low_activity[ngo_muni],
        "low_ngo_professionalism": weak_peers,
        "ngo_disunity": ~tied[slots],
    })  # fmt: skip
    A.yes("municipality_problems", "municipality", {
        "bureaucracy": (mreq > 0) & (np.divide(mhand, np.maximum(mreq, 1)) < r.mostly),
        "low_ngo_activity": low_activity,
        "low_ngo_professionalism": (n_came > 0) & (came_cap < r.professional),
        "ngo_disunity": disunited,
    })  # fmt: skip


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
