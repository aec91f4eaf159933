"""Requests: NGOs ask their municipality for support; fulfilled requests become subsidies.

Parameters: :class:`sim.params.FinanceParams` (``cfg.finance``: ``request_prob``,
``request_fulfil_base``, ``request_fulfil_trust``, ``subsidy_size``) and
:class:`sim.params.RCParams` (``personal_brokerage``, ``representation``).

Each alive NGO asks with ``request_prob``; the municipality fulfils a
request with probability ``base + trust * trust(municipality -> NGO)`` (the
administrative specialist of a resource centre vouches for NGOs it knows:
``personal_brokerage`` blends in its trust), in order, as long as its free
money (after what state institutions still need this year) pays a subsidy.
A fulfilled request is a kept obligation of the municipality toward the NGO.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from sim.mechanisms.base import Mechanism
from sim.mechanisms.budgets import reserved_state_inst
from sim.mechanisms.trust import Ties, tie_and_trust
from sim.state import Layout, OrgArrays


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
        req = slots[rng.random(slots.size) < fp.request_prob * self.model.rc.request_factor(slots)]
        if req.size == 0:
            return
        v = rng.random(req.size)
        # budget-limited: each municipality fulfils, in order, as many as its free money allows
        free = np.maximum(led.balance[st.muni0 : st.biz0] - reserved_state_inst(st, self.cfg), 0.0)
        can = np.floor(free / fp.subsidy_size) if fp.subsidy_size > 0 else np.full(st.n_muni, np.inf)
        w = self.cfg.rc_model.personal_brokerage if self.model.rc.active else 0.0  # the specialist vouches for NGOs it knows
        counters = (st.ngo_requests, st.ngo_requests_fulfilled, st.muni_requests, st.muni_requests_fulfilled,
                    st.contact, st.ngo_income_month)  # fmt: skip
        terms = tuple(RequestTerms(w, fp.request_fulfil_base, fp.request_fulfil_trust, fp.subsidy_size))
        ok = requests_month(req, v, st.layout(), st.orgs(), terms, can, tr.ties(), counters)
        st.counts["requests"] += req.size
        if ok.any():
            orgs = st.ngo0 + req[ok]
            munis = st.muni0 + st.org_municipality[orgs]
            led.transfer("subsidy", munis, orgs, fp.subsidy_size)
            st.counts["requests_fulfilled"] += int(ok.sum())
            edges = tr.ensure_edges(orgs, munis, st.t)
            tr.record(edges, np.ones(edges.size, bool), st.t)


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
        Whether each request is fulfilled.
    """
    _, muni0, _, _, rc0, ngo0, _, _ = lay
    _, org_municipality, _, _ = orgs
    brokerage, fulfil_base, fulfil_trust, subsidy = terms
    ngo_requests, ngo_fulfilled, muni_requests, muni_fulfilled, contact, ngo_income = counters
    ok = np.zeros(req.size, np.bool_)
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
            if used[mi] < can[mi]:
                ok[k] = True
                ngo_income[req[k]] += subsidy
                ngo_fulfilled[req[k]] += 1
                muni_fulfilled[mi] += 1
            used[mi] += 1
    return ok

