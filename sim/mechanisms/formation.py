"""Partnership formation: proposals accepted or refused by each invited member.

Parameters: :class:`sim.params.PartnershipParams` (``cfg.partnership``:
``proposal_rate``, ``form_weights``, acceptance coefficients ``accept_*``,
``duration_months``, ``trilateral_duration_factor``) and
:class:`sim.params.ClusterParams` (``session_proposals``).

Each month ``proposal_rate`` proposals per municipality (more after a
strategic session) name a form and a municipality; the members are the
municipality, a business and an NGO of it, picked at random
(:func:`proposal_members`). The NGO (or, without one, the business)
proposes; every other member accepts with ``logistic(b0 + b_trust *
trust(member -> proposer) + b_cap * capacity + b_fit * plan_fit + b_tie *
has_tie)`` (:func:`acceptance_terms`); a proposal to a municipality is
accepted with that probability times the NGO's voice (``ngo_voice``, a
council seat: :mod:`sim.mechanisms.councils`); a municipality refuses a proposal whose
money it cannot pay this year (:mod:`sim.mechanisms.commitments`). Accepted proposals become
negotiated partnerships; how municipalities judged NGO partners is logged
for the survey (:func:`judgment_attributes`). :func:`create_partnerships`
(also used by grants and the cluster) records a partnership and the ties
between its members.

Municipal partner selection (:class:`sim.params.SelectionParams`,
``cfg.selection``; stream ``partner_selection``). With ``by_criteria`` on
(the default), a proposal with a municipal and an NGO member is an opening
for which ``applicants`` NGOs of the municipality apply (not those that gave
up asking). The officials hear them in their attention queue
(:func:`attention_order`: with ``ties_first``, NGOs with a personal tie first,
by the official's trust in them; otherwise in random order) and consider at
most ``attention_span`` of them, accepting the first with probability
``logistic(intercept + weights . (plan fit, scale, target-group focus,
readiness for dialogue, competence))`` (:func:`criteria_attributes`, the
officials' own account, Volgograd 2021 Q9). Ties do not enter the score:
they decide who is heard before the opening lapses (the NGOs' account,
BRIEF s.3.2). A business member of a trilateral proposal still accepts by
the ``accept_*`` logistic. Every applicant is logged (chosen, heard) for the
survey and for the NGOs' sense of fairness (``state.ngo_heard``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from sim import agents as ag
from sim.mechanisms.base import Mechanism
from sim.mechanisms.councils import voice_factor
from sim.mechanisms.trust import Ties, tie_and_trust
from sim.partnerships import PAIRS
from sim.state import NGOArrays, OrgArrays, State, pick_in_municipality

if TYPE_CHECKING:
    from sim.model import CrossSectorModel

PAIR_A = np.array([a for a, _ in PAIRS])
PAIR_B = np.array([b for _, b in PAIRS])
FORM_MEMBERS = np.array([[1, 1, 0], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=bool)
"""Which member slots (gov, business, NGO) each partnership form fills."""


def create_partnerships(
    state: State,
    members: np.ndarray,
    muni: np.ndarray,
    domain: np.ndarray,
    duration: np.ndarray,
    mechanism: int,
    money_equiv: np.ndarray,
) -> np.ndarray:
    """Create partnerships (rows of members: gov, business, NGO; -1 if absent) and the ties between their members.

    Returns:
        The new partnership ids.
    """
    k = len(members)
    truster, trustee = members[:, PAIR_A], members[:, PAIR_B]  # (k, 6)
    ok = (truster >= 0) & (trustee >= 0)
    edges = np.full((k, len(PAIRS)), -1, np.int64)
    edges[ok] = state.trust.ensure_edges(truster[ok], trustee[ok], state.t)
    state.counts["partnerships_formed"] += k
    return state.partnerships.add_many(members, muni, domain, state.t, duration, mechanism, edges, money_equiv)


def create_partnership(
    state: State, members: tuple[int, int, int], muni: int, domain: int, duration: int, mechanism: int, money_equiv: float = 0.0
) -> int:
    """Scalar form of :func:`create_partnerships`."""
    ids = create_partnerships(
        state, np.array([members]), np.array([muni]), np.array([domain]), np.array([duration]), mechanism, np.array([money_equiv])
    )
    return int(ids[0])


class Formation(Mechanism):
    """Proposals and acceptance (stream ``partnership_formation``)."""

    name = "formation"
    group = "partnership"

    def __init__(self, model: CrossSectorModel) -> None:
        super().__init__(model)
        pp = self.cfg.partnership
        weights = np.asarray(pp.form_weights, dtype=np.float64)
        self.form_cdf = np.cumsum(weights) / weights.sum() if weights.sum() > 0 else None
        self.accept_coef = np.array(
            [pp.accept_intercept, pp.accept_trust, pp.accept_capacity, pp.accept_plan_fit, pp.accept_personal_tie]
        )
        self._gov_judged: tuple[np.ndarray, np.ndarray, np.ndarray] = (np.zeros(0, np.int64),) * 3
        sp = self.cfg.selection
        self.criteria_coef = np.array([sp.intercept, *sp.criteria_weights])

    def step(self) -> None:
        """One month of proposals."""
        st, pp = self.state, self.cfg.partnership
        rng = self.model.streams["partnership_formation"]
        st.ngo_heard[:] = 0
        k = rng.poisson((pp.proposal_rate + self.model.cluster.session_proposals()) * st.n_muni)
        if k == 0 or self.form_cdf is None:
            return
        forms = np.searchsorted(self.form_cdf, rng.random(k), side="right").clip(0, 3)
        munis = rng.integers(0, st.n_muni, size=k)
        picks = rng.random((k, 4))
        gov, biz, ngo, feasible = proposal_members(
            forms, munis, picks, FORM_MEMBERS, st.muni0, st.sorted_businesses(), st.sorted_ngos()
        )
        if self.cfg.selection.by_criteria:
            ngo, accept = self.select_partners(gov, biz, ngo, munis, feasible, picks[:, 2])
        else:
            # a council seat raises the NGO's voice with its municipality: x acceptance (councils.py)
            voice = np.where(gov >= 0, voice_factor(st, ngo), 1.0)
            accept = feasible & (picks[:, 2] < self.acceptance_probabilities(gov, biz, ngo) * voice)
        lo, hi = pp.duration_months
        dur = lo + (picks[:, 3] * (hi - lo + 1)).astype(np.int64)
        dur = np.where(forms == 3, np.round(dur * pp.trilateral_duration_factor).astype(np.int64), dur)
        accept = self._within_budget(accept, gov, ngo, munis, dur)
        if not self.cfg.selection.by_criteria:  # (select_partners logs its applicants itself)
            self._log_judgments(gov, ngo, munis, feasible, accept)
        if not accept.any():
            return
        gov, biz, ngo, munis, dur = gov[accept], biz[accept], ngo[accept], munis[accept], dur[accept]
        dom = np.where(ngo >= 0, st.ngo_domain[np.maximum(ngo - st.ngo0, 0)], st.first_plan[munis])
        members = np.stack([gov, biz, ngo], axis=1)
        ids = create_partnerships(st, members, munis, dom, dur, 0, np.zeros(len(members)))
        self.model.mechanisms["commitments"].mark(ids[gov >= 0])  # type: ignore[attr-defined]

    def _within_budget(
        self, accept: np.ndarray, gov: np.ndarray, ngo: np.ndarray, munis: np.ndarray, dur: np.ndarray
    ) -> np.ndarray:
        """Accepted proposals a municipal member can also pay for (:mod:`sim.mechanisms.commitments`); the others are refused.

        An NGO member of a refused proposal counts it in ``ngo_budget_refusals_month`` (a runaround by the
        NGO's yardstick, :mod:`sim.mechanisms.perception`).
        """
        k = np.flatnonzero(accept & (gov >= 0))
        if k.size == 0:
            return accept
        ok = self.model.mechanisms["commitments"].admit(munis[k], dur[k])  # type: ignore[attr-defined]
        refused = int((~ok).sum())
        self.state.counts["proposals_refused_budget"] += refused
        self.state.counts["gov_refusals_budget"] += refused
        accept = accept.copy()
        accept[k[~ok]] = False
        who = ngo[k[~ok]]
        np.add.at(self.state.ngo_budget_refusals_month, who[who >= 0] - self.state.ngo0, 1)
        return accept

    def _log_judgments(
        self, gov: np.ndarray, ngo: np.ndarray, munis: np.ndarray, feasible: np.ndarray, accept: np.ndarray
    ) -> None:
        """Remember how municipalities judged NGO partners (for the survey's partner-criteria question)."""
        st = self.state
        k = np.flatnonzero(feasible & (gov >= 0) & (ngo >= 0))
        if k.size == 0:
            return
        rows, e_g, t_g = self._gov_judged  # tie and trust as the acceptance decision saw them
        e_full = np.full(len(gov), -1, np.int64)
        t_full = np.zeros(len(gov))
        e_full[rows], t_full[rows] = e_g, t_g
        m = munis[k]
        attrs = judgment_attributes(ngo[k] - st.ngo0, m, st.plans, t_full[k], e_full[k], st.ngos())
        st.judgments.append((st.t, m.astype(np.int32), attrs, accept[k].copy(), np.ones(k.size, bool)))
        np.add.at(st.ngo_applied, ngo[k] - st.ngo0, 1)
        st.ngo_heard[ngo[k] - st.ngo0] = np.maximum(st.ngo_heard[ngo[k] - st.ngo0], np.where(accept[k], 3, 2))

    def select_partners(
        self, gov: np.ndarray, biz: np.ndarray, ngo: np.ndarray, munis: np.ndarray, feasible: np.ndarray, u_biz: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Municipal openings filled from an attention queue of applicants by the officials' criteria.

        Proposals without a municipal or an NGO member keep the logistic
        acceptance (:meth:`acceptance_probabilities`). For the others, the NGO
        is the applicant the officials chose (-1 if none was), and a business
        member must still accept it.

        Returns:
            ``(NGO member, accepted)`` per proposal.
        """
        st, sp = self.state, self.cfg.selection
        rng = self.model.streams["partner_selection"]
        opening = feasible & (gov >= 0) & (ngo >= 0)
        ngo = ngo.copy()
        accept = feasible & ~opening
        if accept.any():
            accept[accept] = u_biz[accept] < self.acceptance_probabilities(gov[accept], biz[accept], ngo[accept])
        rows = np.flatnonzero(opening)
        if rows.size == 0:
            return ngo, accept
        sorted_orgs, sorted_m = st.sorted_ngos()
        willing = ~st.ngo_gave_up[sorted_orgs - st.ngo0]
        pool, pool_m = sorted_orgs[willing], sorted_m[willing]
        a = sp.applicants
        m = munis[rows]
        apps = pick_in_municipality(pool, pool_m, np.repeat(m, a), rng.random(rows.size * a)).reshape(rows.size, a)
        apps = distinct_applicants(apps)
        flat = apps.reshape(-1)
        has = flat >= 0
        row_of = np.repeat(np.arange(rows.size), a)[has]
        cand = flat[has]
        edges, trust = ties_of(st.muni0 + m[row_of], cand, st.trust.ties())
        key_u = rng.random(cand.size)
        order = attention_order(row_of, st.muni0 + m[row_of], cand, key_u, sp.ties_first, st.trust.ties())
        row_of, cand, edges, trust = row_of[order], cand[order], edges[order], trust[order]
        slot = cand - st.ngo0
        attrs = criteria_attributes(slot, m[row_of], st.plans, st.ngos(), st.ngo_contacts, sp.scale_reference,
                                    sp.dialogue_months)  # fmt: skip
        # weighted sum written out (not a BLAS matrix product: its summation order may depend on threads)
        z = self.criteria_coef[0] + (attrs[:, :5] * self.criteria_coef[1:]).sum(axis=1)
        # a council seat raises the NGO's voice: x the officials' chance of choosing it (councils.py)
        p_choose = 1.0 / (1.0 + np.exp(-z)) * voice_factor(st, cand)
        chosen, heard = hear_in_order(row_of, p_choose, rng.random(cand.size), sp.attention_span)
        pick = np.full(rows.size, -1, np.int64)
        pick[row_of[chosen]] = cand[chosen]
        ngo[rows] = pick
        ok = pick >= 0
        b = biz[rows]
        need_biz = ok & (b >= 0)
        if need_biz.any():  # a business member of a trilateral proposal accepts the chosen NGO
            p_biz = self.acceptance_probabilities(np.full(need_biz.sum(), -1), b[need_biz], pick[need_biz])
            ok[need_biz] = u_biz[rows[need_biz]] < p_biz
        accept[rows] = ok
        # the log: dialogue column as the officials saw it; personal tie as the NGOs see it
        log = np.empty((cand.size, 6))
        log[:, 0], log[:, 1], log[:, 2], log[:, 3], log[:, 4] = attrs[:, 0], attrs[:, 2], attrs[:, 3], attrs[:, 1], attrs[:, 4]
        log[:, 5] = edges >= 0
        st.judgments.append((st.t, m[row_of].astype(np.int32), log, chosen, heard))
        np.add.at(st.ngo_applied, slot, 1)
        np.maximum.at(st.ngo_heard, slot, np.where(chosen, 3, np.where(heard, 2, 1)).astype(np.int8))
        return ngo, accept

    def acceptance_probabilities(self, gov: np.ndarray, biz: np.ndarray, ngo: np.ndarray) -> np.ndarray:
        """Probability that every invited member accepts each proposal (vectorised).

        The NGO (or, without one, the business) proposes; each other member
        accepts with ``logistic(b0 + b_trust*trust(member->proposer) +
        b_cap*capacity + b_fit*plan_fit + b_tie*has_tie)``, where capacity is
        the NGO's (0.5 without an NGO) and plan fit applies to a municipal
        member judging an NGO in a domain of its plans (:func:`acceptance_terms`).
        """
        st = self.state
        gov, biz, ngo = (np.asarray(x, dtype=np.int64) for x in (gov, biz, ngo))
        rows, z, e, t, n_gov = acceptance_terms(gov, biz, ngo, st.ngos(), st.orgs(), self.accept_coef, st.trust.ties())
        p_all = np.ones(len(gov))
        np.multiply.at(p_all, rows, 1.0 / (1.0 + np.exp(-z)))
        self._gov_judged = (rows[:n_gov], e[:n_gov], t[:n_gov])
        return p_all


# ----------------------------------------------------------------- kernels
@njit(cache=True, nogil=True)
def proposal_members(
    forms: np.ndarray,
    munis: np.ndarray,
    picks: np.ndarray,
    form_members: np.ndarray,
    muni0: int,
    businesses: tuple,
    ngos: tuple,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Members of each proposed partnership: its municipality, a business and an NGO of the municipality.

    Form ``f`` fills the slots ``form_members[f]`` (gov, business, NGO); the
    business and the NGO are picked uniformly by ``picks[:, 0]`` and
    ``picks[:, 1]`` (as :func:`pick_in_municipality`). A proposal is feasible
    if every slot its form needs was filled.

    Returns:
        ``(gov, business, NGO, feasible)``; -1 for an empty slot.
    """
    biz_sorted, biz_m = businesses
    ngo_sorted, ngo_m = ngos
    k = forms.size
    biz = pick_in_municipality(biz_sorted, biz_m, munis, picks[:, 0])
    ngo = pick_in_municipality(ngo_sorted, ngo_m, munis, picks[:, 1])
    gov = np.empty(k, np.int64)
    feasible = np.empty(k, np.bool_)
    for q in range(k):
        f = forms[q]
        has_gov, has_biz, has_ngo = form_members[f, 0], form_members[f, 1], form_members[f, 2]
        feasible[q] = (biz[q] >= 0 or not has_biz) and (ngo[q] >= 0 or not has_ngo)
        gov[q] = muni0 + munis[q] if has_gov else -1
        if not has_biz:
            biz[q] = -1
        if not has_ngo:
            ngo[q] = -1
    return gov, biz, ngo, feasible


@njit(cache=True, nogil=True)
def acceptance_terms(
    gov: np.ndarray, biz: np.ndarray, ngo: np.ndarray, ngos: NGOArrays, orgs: OrgArrays, coef: np.ndarray, ties: Ties
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Logit of each invited member's acceptance of each proposal.

    The NGO (else the business) proposes; the government and the business
    members other than the proposer are invited. ``z = coef[0] + coef[1] *
    trust(member -> proposer) + coef[2] * capacity + coef[3] * plan_fit +
    coef[4] * has_tie``, capacity being the NGO's (0.5 without one) and plan
    fit applying to a municipal member judging an NGO in a domain of its plans.

    Returns:
        ``(row, z, edge, trust, n_gov)`` per invitation, the government
        invitations (``n_gov`` of them) first, each group in row order.
    """
    ngo0, ngo_domain, ngo_capacity, _, _, _, _, _, _, _, _, _, _, _ = ngos
    sector, org_municipality, _, plans = orgs
    k = gov.size
    rows = np.empty(2 * k, np.int64)
    z = np.empty(2 * k)
    edges = np.empty(2 * k, np.int64)
    trust = np.empty(2 * k)
    n = 0
    n_gov = 0
    for side in range(2):
        for q in range(k):
            i = gov[q] if side == 0 else biz[q]
            proposer = ngo[q] if ngo[q] >= 0 else biz[q]
            if i < 0 or i == proposer:
                continue
            slot = max(ngo[q] - ngo0, 0)
            cap = ngo_capacity[slot] if ngo[q] >= 0 else 0.5
            e, t = tie_and_trust(i, proposer, ties)
            fit = sector[i] == ag.SEC_MUNICIPAL and ngo[q] >= 0 and plans[max(org_municipality[i], 0), ngo_domain[slot]]
            rows[n] = q
            z[n] = coef[0] + coef[1] * t + coef[2] * cap + coef[3] * (1.0 if fit else 0.0) + coef[4] * (1.0 if e >= 0 else 0.0)
            edges[n] = e
            trust[n] = t
            n += 1
        if side == 0:
            n_gov = n
    return rows[:n], z[:n], edges[:n], trust[:n], n_gov


@njit(cache=True, nogil=True)
def judgment_attributes(
    slot: np.ndarray, munis: np.ndarray, plans: np.ndarray, trust: np.ndarray, edges: np.ndarray, ngos: NGOArrays
) -> np.ndarray:
    """What a municipality saw of each NGO it judged (columns as in the survey's partner-criteria question).

    Plan fit, priority target group (the first domain of its plans), trust
    (the legacy logistic's readiness for dialogue), scale of activity (staff +
    volunteers / 10), capacity, personal tie.
    """
    _, ngo_domain, ngo_capacity, _, ngo_staff, ngo_volunteers, _, _, _, _, _, _, _, _ = ngos
    out = np.empty((slot.size, 6))
    for k in range(slot.size):
        m = munis[k]
        d = ngo_domain[slot[k]]
        first = 0
        for c in range(plans.shape[1]):
            if plans[m, c]:
                first = c
                break
        out[k, 0] = 1.0 if plans[m, d] else 0.0
        out[k, 1] = 1.0 if d == first else 0.0
        out[k, 2] = trust[k]
        out[k, 3] = ngo_staff[slot[k]] + ngo_volunteers[slot[k]] / 10.0
        out[k, 4] = ngo_capacity[slot[k]]
        out[k, 5] = 1.0 if edges[k] >= 0 else 0.0
    return out



@njit(cache=True, nogil=True)
def ties_of(src: np.ndarray, dst: np.ndarray, ties: Ties) -> tuple[np.ndarray, np.ndarray]:
    """Active edge ``src[k] -> dst[k]`` (-1 if none) and the trust along it (institutional without a tie)."""
    e = np.empty(src.size, np.int64)
    t = np.empty(src.size)
    for k in range(src.size):
        e[k], t[k] = tie_and_trust(src[k], dst[k], ties)
    return e, t


def attention_order(
    groups: np.ndarray, officials: np.ndarray, orgs: np.ndarray, u: np.ndarray, ties_first: bool, ties: tuple
) -> np.ndarray:
    """Order in which officials hear the NGOs ``orgs`` of each group (a municipality's requests, an opening's applicants).

    With ``ties_first``, NGOs the official (``officials[k]``) has a personal
    tie with come first, by the official's trust in them (the NGOs' account
    of who is heard, BRIEF s.3.2); the rest, and everyone without
    ``ties_first``, in the random order ``u`` (in [0, 1)).

    Returns:
        A permutation: by group, then by attention.
    """
    groups = np.asarray(groups)
    if groups.size == 0:
        return np.zeros(0, np.int64)
    key = np.asarray(u, dtype=np.float64).copy()
    if ties_first:
        key = queue_keys(np.asarray(officials, np.int64), np.asarray(orgs, np.int64), key, ties)
    return np.lexsort((-key, groups))


@njit(cache=True, nogil=True)
def queue_keys(officials: np.ndarray, orgs: np.ndarray, u: np.ndarray, ties: Ties) -> np.ndarray:
    """Attention key of NGO ``orgs[k]`` to official ``officials[k]``: ``1 + trust`` on a personal tie, else ``u[k]``."""
    key = u.copy()
    for k in range(orgs.size):
        e, t = tie_and_trust(officials[k], orgs[k], ties)
        if e >= 0:
            key[k] = 1.0 + t
    return key


@njit(cache=True, nogil=True)
def distinct_applicants(apps: np.ndarray) -> np.ndarray:
    """Drop repeated applicants of an opening (a drawn NGO applies once): repeats become -1."""
    out = apps.copy()
    for r in range(out.shape[0]):
        for c in range(1, out.shape[1]):
            for d in range(c):
                if out[r, c] >= 0 and out[r, c] == out[r, d]:
                    out[r, c] = -1
                    break
    return out


@njit(cache=True, nogil=True)
def hear_in_order(row: np.ndarray, p: np.ndarray, u: np.ndarray, span: int) -> tuple[np.ndarray, np.ndarray]:
    """Officials consider each opening's applicants in order (rows sorted, queue order within), up to ``span``.

    The first considered applicant with ``u < p`` is chosen and the opening
    is filled; the applicants after it, or after ``span`` considered, are not
    heard.

    Returns:
        ``(chosen, heard)`` per applicant.
    """
    n = row.size
    chosen = np.zeros(n, np.bool_)
    heard = np.zeros(n, np.bool_)
    k = 0
    while k < n:
        r = row[k]
        considered = 0
        filled = False
        while k < n and row[k] == r:
            if not filled and considered < span:
                heard[k] = True
                considered += 1
                if u[k] < p[k]:
                    chosen[k] = True
                    filled = True
            k += 1
    return chosen, heard


@njit(cache=True, nogil=True)
def criteria_attributes(
    slot: np.ndarray,
    munis: np.ndarray,
    plans: np.ndarray,
    ngos: NGOArrays,
    contacts: np.ndarray,
    scale_reference: float,
    dialogue_months: float,
) -> np.ndarray:
    """The officials' criteria for each applicant, each in 0..1 (columns in the order of ``selection.criteria_weights``).

    Plan fit (the NGO's domain is in the authority's plans), scale of
    activity (``min(1, (staff + volunteers / 10) / scale_reference)``),
    target-group focus (its domain is the plans' first), readiness for
    dialogue (``min(1, months of contact / dialogue_months)``), competence
    (capacity).
    """
    _, ngo_domain, ngo_capacity, _, ngo_staff, ngo_volunteers, _, _, _, _, _, _, _, _ = ngos
    out = np.empty((slot.size, 5))
    for k in range(slot.size):
        m = munis[k]
        d = ngo_domain[slot[k]]
        first = -1
        for c in range(plans.shape[1]):
            if plans[m, c]:
                first = c
                break
        out[k, 0] = 1.0 if plans[m, d] else 0.0
        out[k, 1] = min(1.0, (ngo_staff[slot[k]] + ngo_volunteers[slot[k]] / 10.0) / scale_reference)
        out[k, 2] = 1.0 if d == first else 0.0
        out[k, 3] = min(1.0, contacts[slot[k]] / dialogue_months)
        out[k, 4] = ngo_capacity[slot[k]]
    return out
