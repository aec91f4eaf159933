"""Perception: each side judges the same events by its own yardstick, and is satisfied by what it values.

Parameters: :class:`sim.params.PerceptionParams` (``cfg.perception``:
``official_answer_prob``, ``satisfaction_rate``, ``satisfaction_initial``,
``ngo_weights``, ``official_weights``, ``activity_reference``). Stream
``perception``.

"Two monologues spoken at once" (BRIEF s.3.2): officials and NGOs judge the
same requests very differently. Each month, for every request of the month
(``state.request_month``, written by :mod:`sim.mechanisms.requests`):

* the **NGO** counts it fulfilled only when the help arrived (a paid
  subsidy; ``ngo_requests_fulfilled``, counted by the requests kernel);
* the **official** counts it handled (``ngo_requests_handled`` per NGO,
  ``muni_requests_handled`` per municipality) when it was answered or passed
  on within the authority's plan: fulfilled; granted but the money ran out
  (passed on to the next budget); refused but in a domain of the authority's
  plans (passed on to the plan's programme); or, outside the plans, answered
  formally with probability ``official_answer_prob``.

A request the official handled but that brought no help is the NGO's
bureaucratic runaround (``ngo_bureaucracy``); so is each of the NGO's proposals
refused for lack of municipal budget (``state.ngo_budget_refusals_month``, counted
by formation) and each municipal payment owed to it that came late
(``state.ngo_late_payments_month``, counted by delivery).

Satisfaction (0..1) is an exponential average (weight ``satisfaction_rate``)
of each month's experience, scored by what that side values (BRIEF s.6):

* NGO (months in which it asked or applied for a partnership): support
  received (share of its requests fulfilled), fairness of selection (chosen
  1, heard but refused 0.5, applied but not heard 0), no bureaucracy (1 -
  runarounds per request), weighted by ``ngo_weights`` over the parts it
  experienced;
* official (every month): plan fulfilment (share of its plan domains with a
  running partnership of the municipality in that domain), NGO activity
  (share of its territory's NGOs in contact or in a partnership, over
  ``activity_reference``, at most 1), NGO professionalism (mean capacity of
  the NGOs that approached it this month; skipped without any), weighted by
  ``official_weights``.
"""

from __future__ import annotations

import numpy as np

from sim.mechanisms.base import Mechanism
from sim.mechanisms.requests import REQUEST_FULFILLED, REQUEST_REFUSED, REQUEST_UNPAID
from sim.state import State


def official_handled(status: np.ndarray, in_plan: np.ndarray, answered: np.ndarray) -> np.ndarray:
    """The officials' yardstick: answered or passed on within the plan (see the module docstring)."""
    return (status == REQUEST_FULFILLED) | (status == REQUEST_UNPAID) | ((status == REQUEST_REFUSED) & (in_plan | answered))


def ngo_fulfilled(status: np.ndarray) -> np.ndarray:
    """The NGOs' yardstick: the help arrived."""
    return status == REQUEST_FULFILLED


class Perception(Mechanism):
    """Both sides' tallies of the month's requests and their satisfaction (stream ``perception``)."""

    name = "perception"
    group = "perception"

    def add_ngo_slots(self, old: int, add: int) -> None:
        """New NGO slots start at the initial satisfaction."""
        self.state.ngo_satisfaction[old : old + add] = self.cfg.perception.satisfaction_initial

    def step(self) -> None:
        """Judge the month's requests by both yardsticks, then update satisfaction."""
        st, pc = self.state, self.cfg.perception
        rng = self.model.streams["perception"]
        req, status = st.request_month
        n = st.n_ngo_slots
        asked = np.bincount(req, minlength=n)[:n]
        got = np.zeros(n)
        runaround = np.zeros(n)
        if req.size:
            mi = st.org_municipality[st.ngo0 + req]
            in_plan = st.plans[mi, st.ngo_domain[req]]
            handled = official_handled(status, in_plan, rng.random(req.size) < pc.official_answer_prob)
            helped = ngo_fulfilled(status)
            np.add.at(st.ngo_requests_handled, req, 1 * handled)
            np.add.at(st.muni_requests_handled, mi, 1 * handled)
            np.add.at(st.ngo_bureaucracy, req, 1 * (handled & ~helped))
            got = np.bincount(req, weights=helped, minlength=n)[:n]
            runaround = np.bincount(req, weights=handled & ~helped, minlength=n)[:n]
        for extra in (st.ngo_budget_refusals_month, st.ngo_late_payments_month):  # counted since the last read
            runaround = runaround + extra
            asked = asked + (extra > 0)
            st.ngo_bureaucracy += extra.astype(st.ngo_bureaucracy.dtype)  # the survey's bureaucracy problem reads it
            extra[:] = 0  # consumed: counted once
        self._ngo_satisfaction(asked, got, runaround)
        self._official_satisfaction(req)

    def _ngo_satisfaction(self, asked: np.ndarray, got: np.ndarray, runaround: np.ndarray) -> None:
        st, pc = self.state, self.cfg.perception
        w_sup, w_fair, w_bur = pc.ngo_weights
        heard = st.ngo_heard
        has_req = asked > 0
        has_sel = heard > 0
        score = np.zeros(st.n_ngo_slots)
        weight = np.zeros(st.n_ngo_slots)
        a = np.maximum(asked, 1)
        score += np.where(has_req, w_sup * got / a + w_bur * (1.0 - np.minimum(runaround / a, 1.0)), 0.0)
        weight += np.where(has_req, w_sup + w_bur, 0.0)
        fair = np.select([heard == 3, heard == 2], [1.0, 0.5], 0.0)
        score += np.where(has_sel, w_fair * fair, 0.0)
        weight += np.where(has_sel, w_fair, 0.0)
        k = st.ngo_alive & (weight > 0)
        r = pc.satisfaction_rate
        st.ngo_satisfaction[k] = (1 - r) * st.ngo_satisfaction[k] + r * score[k] / weight[k]

    def _official_satisfaction(self, req: np.ndarray) -> None:
        st, pc = self.state, self.cfg.perception
        w_plan, w_act, w_prof = pc.official_weights
        m = st.n_muni
        plan = plan_fulfilment(st)
        slots = st.alive_slots()
        mi = st.org_municipality[st.ngo0 + slots]
        n_here = np.bincount(mi, minlength=m)
        active = st.contact[slots] | st.active_ngo[slots]
        act = np.bincount(mi, weights=active, minlength=m) / np.maximum(n_here, 1)
        activity = np.minimum(act / pc.activity_reference, 1.0)
        approached = np.zeros(st.n_ngo_slots, bool)
        approached[req] = True
        approached |= st.ngo_heard > 0
        ap = slots[approached[slots]]
        am = st.org_municipality[st.ngo0 + ap]
        n_ap = np.bincount(am, minlength=m)
        prof = np.bincount(am, weights=st.ngo_capacity[ap], minlength=m) / np.maximum(n_ap, 1)
        has_prof = n_ap > 0
        score = w_plan * plan + w_act * activity + np.where(has_prof, w_prof * prof, 0.0)
        weight = w_plan + w_act + np.where(has_prof, w_prof, 0.0)
        r = pc.satisfaction_rate
        ok = weight > 0
        st.muni_satisfaction[ok] = (1 - r) * st.muni_satisfaction[ok] + r * score[ok] / weight[ok]


def plan_fulfilment(st: State) -> np.ndarray:
    """Share of each municipality's plan domains with a running partnership of the municipality in that domain."""
    ps = st.partnerships
    n = ps.n
    gov = ps.members[:n, 0]
    k = ps.active[:n] & (gov >= st.muni0) & (gov < st.biz0)
    covered = np.zeros(st.plans.shape, bool)
    covered[gov[k] - st.muni0, ps.domain[:n][k]] = True
    covered &= st.plans
    return covered.sum(axis=1) / np.maximum(st.plans.sum(axis=1), 1)
