"""Requests: NGOs ask their municipality for support; fulfilled requests become subsidies.

Parameters: :class:`sim.params.FinanceParams` (``cfg.finance``: ``request_prob``,
``request_fulfil_base``, ``request_fulfil_trust``, ``request_propensity_shape``, ``subsidy_size``) and
:class:`sim.params.RCParams` (``personal_brokerage``, ``representation``).

Each alive NGO asks with ``request_prob`` times its own lifelong propensity
(``request_propensity_shape`` k > 0: a Gamma(k, 1/k) multiplier with mean 1,
drawn once per NGO; some NGOs ask every other month, some almost never, as
in the Volgograd answers; k = 0: all alike); the municipality fulfils a
request with probability ``base + trust * trust(municipality -> NGO)`` (the
administrative specialist of a resource centre vouches for NGOs it knows:
``personal_brokerage`` blends in its trust), in order, as long as its free
money (after what state institutions still need this year and what it has
committed to partnerships, :mod:`sim.mechanisms.commitments`) pays a subsidy; a
request it would grant but has no money for is a refusal for lack of budget
(``requests_refused_budget``).
A fulfilled request is a kept obligation of the municipality toward the NGO.
The NGO's voice (``ngo_voice``, raised by a council seat, see
:mod:`sim.mechanisms.councils`) multiplies that probability.

NGOs that gave up asking (:mod:`sim.mechanisms.giving_up`) do not ask. With
``selection.ties_first`` the officials hear the month's requests in order of
their personal tie and trust (the NGOs' account, BRIEF s.3.2: who is heard
before the money runs out), otherwise in random order
(:func:`sim.mechanisms.formation.attention_order`). Each request's outcome is
kept in ``state.request_month`` (:data:`REQUEST_REFUSED`,
:data:`REQUEST_FULFILLED`, :data:`REQUEST_UNPAID`: granted but the money ran
out) for each side to judge by its own yardstick
(:mod:`sim.mechanisms.perception`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from sim.mechanisms.base import Mechanism
from sim.mechanisms.formation import attention_order
from sim.mechanisms.trust import Ties, tie_and_trust
from sim.state import Layout, OrgArrays

REQUEST_REFUSED, REQUEST_FULFILLED, REQUEST_UNPAID = 0, 1, 2
"""Outcome of a request: refused; granted and paid (help arrived); granted but the municipality's money ran out."""


class RequestTerms(NamedTuple):
    """The request rule's parameters (one month)."""

    brokerage: float  # weight of the resource centre specialist's trust (0: none)
    fulfil_base: float
    fulfil_trust: float
    subsidy: float


class Requests(Mechanism):
    """NGOs' requests to their municipality (stream ``requests``)."""

    name = "requests"
    group = "finance"

    def step(self) -> None:
        """One month of requests."""
        st, fp = self.state, self.cfg.finance
        led, tr = st.ledger, st.trust
        rng = self.model.streams["requests"]
        slots = st.alive_slots()
        p_ask = fp.request_prob * self.model.rc.request_factor(slots) * self.propensity(slots)
        req = slots[rng.random(slots.size) < p_ask]
        req = req[~st.ngo_gave_up[req]]  # discouraged NGOs no longer ask
        st.request_month = (req, np.zeros(req.size, np.int8))
        if req.size == 0:
            return
        # a council seat raises the NGO's voice: its request is heard with voice x the probability (councils.py)
        v = rng.random(req.size) / st.ngo_voice[req]
        # officials hear the month's requests in order of their ties (or at random), per municipality
        officials = st.muni0 + st.org_municipality[st.ngo0 + req]
        order = attention_order(officials, officials, st.ngo0 + req, rng.random(req.size), self.cfg.selection.ties_first,
                                tr.ties())  # fmt: skip
        req, v = req[order], v[order]
        # budget-limited: each municipality fulfils, in order, as many as its free money allows
        # (what a municipality committed to partnerships for the rest of the year is reserved too)
        commitments = self.model.mechanisms["commitments"]
        free = np.maximum(commitments.free(), 0.0)  # type: ignore[attr-defined]
        can = np.floor(free / fp.subsidy_size) if fp.subsidy_size > 0 else np.full(st.n_muni, np.inf)
        w = self.cfg.rc_model.personal_brokerage if self.model.rc.active else 0.0  # the specialist vouches for NGOs it knows
        counters = (st.ngo_requests, st.ngo_requests_fulfilled, st.muni_requests, st.muni_requests_fulfilled,
                    st.contact, st.ngo_income_month)  # fmt: skip
        terms = tuple(RequestTerms(w, fp.request_fulfil_base, fp.request_fulfil_trust, fp.subsidy_size))
        status = requests_month(req, v, st.layout(), st.orgs(), terms, can, tr.ties(), counters)
        st.request_month = (req, status)
        ok = status == REQUEST_FULFILLED
        st.counts["requests"] += req.size
        self._count_refusals(req, v, terms, can, ok)
        if ok.any():
            orgs = st.ngo0 + req[ok]
            munis = st.muni0 + st.org_municipality[orgs]
            led.transfer("subsidy", munis, orgs, fp.subsidy_size)
            st.counts["requests_fulfilled"] += int(ok.sum())
            edges = tr.ensure_edges(orgs, munis, st.t)
            tr.record(edges, np.ones(edges.size, bool), st.t)

    def propensity(self, slots: np.ndarray) -> np.ndarray | float:
        """Each NGO's lifelong multiplier of ``request_prob`` (:meth:`lifelong_multiplier`, stream ``request_propensity``)."""
        return self.lifelong_multiplier(self.state.ngo_request_propensity, slots,
                                        self.cfg.finance.request_propensity_shape, "request_propensity")  # fmt: skip

    def _count_refusals(self, req: np.ndarray, v: np.ndarray, terms: tuple, can: np.ndarray, ok: np.ndarray) -> None:
        """Count requests the municipality would have granted but had no free money for (``requests_refused_budget``)."""
        st = self.state
        fulfilled = np.bincount(st.org_municipality[st.ngo0 + req[ok]], minlength=st.n_muni)
        if not (fulfilled >= can).any():
            return  # no municipality ran out of money this month
        dummy = (np.zeros(st.n_ngo_slots, np.int32), np.zeros(st.n_ngo_slots, np.int32), np.zeros(st.n_muni, np.int32),
                 np.zeros(st.n_muni, np.int32), np.zeros(st.n_ngo_slots, bool), np.zeros(st.n_ngo_slots))  # fmt: skip
        unlimited = np.full(st.n_muni, np.inf)
        granted = requests_month(req, v, st.layout(), st.orgs(), terms, unlimited, st.trust.ties(), dummy)
        refused = int((granted & ~ok).sum())
        st.counts["requests_refused_budget"] += refused
        st.counts["gov_refusals_budget"] += refused


# ----------------------------------------------------------------- kernels
@njit(cache=True, nogil=True)
def requests_month(
    req: np.ndarray,
    v: np.ndarray,
    lay: Layout,
    orgs: OrgArrays,
    terms: RequestTerms,
    can: np.ndarray,
    ties: Ties,
    counters: tuple,
) -> np.ndarray:
    """Which NGO requests (NGO slots ``req``, draws ``v``) their municipalities fulfil.

    A request is granted with probability ``clip(fulfil_base + fulfil_trust *
    t)``, ``t`` the municipality's trust in the NGO (mixed with its trust in
    the resource centre's specialist who vouches, weight ``brokerage``, when
    ``brokerage`` > 0); each municipality then fulfils granted requests in
    order while its free money allows (``can`` subsidies); a fulfilled
    request adds ``subsidy`` to the NGO's income. ``counters`` are
    ``(requests per NGO slot, fulfilled per NGO slot, requests per
    municipality, fulfilled per municipality, contact with the municipality
    per NGO slot, income of the month per NGO slot)``, updated here.

    Returns:
        The status of each request: :data:`REQUEST_REFUSED`, :data:`REQUEST_FULFILLED`
        or :data:`REQUEST_UNPAID` (granted, but the municipality's money ran out).
    """
    _, muni0, _, _, rc0, ngo0, _, _ = lay
    _, org_municipality, _, _ = orgs
    brokerage, fulfil_base, fulfil_trust, subsidy = terms
    ngo_requests, ngo_fulfilled, muni_requests, muni_fulfilled, contact, ngo_income = counters
    ok = np.zeros(req.size, np.int8)
    used = np.zeros(can.size, np.int64)
    for k in range(req.size):
        org = ngo0 + req[k]
        mi = org_municipality[org]
        muni = muni0 + mi
        t = tie_and_trust(muni, org, ties)[1]
        if brokerage > 0:
            t = (1 - brokerage) * t + brokerage * tie_and_trust(rc0 + mi, org, ties)[1]
        p = min(max(fulfil_base + fulfil_trust * t, 0.0), 1.0)
        muni_requests[mi] += 1
        ngo_requests[req[k]] += 1
        contact[req[k]] = True
        if v[k] < p:
            ok[k] = 2
            if used[mi] < can[mi]:
                ok[k] = 1
                ngo_income[req[k]] += subsidy
                ngo_fulfilled[req[k]] += 1
                muni_fulfilled[mi] += 1
            used[mi] += 1
    return ok

