"""Giving up: NGOs refused again and again stop asking their municipality ("tried and failed").

Parameters: :class:`sim.params.PerceptionParams` (``cfg.perception``:
``give_up_prob``, ``give_up_refusals``, ``give_up_return_prob``). Stream
``giving_up``.

Each month, by the NGO's own yardstick (:func:`sim.mechanisms.perception.ngo_fulfilled`):
a request that brought no help adds one to the NGO's run of refusals
(``ngo_refusal_run``); one that did resets it. An NGO whose run reached
``give_up_refusals`` gives up with probability ``give_up_prob`` (each month
it is refused again): ``ngo_gave_up`` is set, it no longer asks
(:mod:`sim.mechanisms.requests`) nor applies for municipal partnership
openings (:mod:`sim.mechanisms.formation`, with ``selection.by_criteria``). A discouraged NGO tries again with
probability ``give_up_return_prob`` a month (a new leader, a new head of the
administration), with its run of refusals reset. The survey's "does not
interact: tried and failed" answer reads ``ngo_gave_up`` (BRIEF s.6 Q1).
Assumption: the sources give the answer category, not the rates.
"""

from __future__ import annotations

import numpy as np

from sim.mechanisms.base import Mechanism
from sim.mechanisms.perception import ngo_fulfilled


class GivingUp(Mechanism):
    """NGOs stop asking after refusals, and some try again (stream ``giving_up``)."""

    name = "giving_up"
    group = "perception"

    def step(self) -> None:
        """Update runs of refusals, then who gives up and who tries again."""
        st, pc = self.state, self.cfg.perception
        rng = self.model.streams["giving_up"]
        req, status = st.request_month
        if pc.give_up_return_prob > 0:
            back = np.flatnonzero(st.ngo_gave_up & st.ngo_alive)
            back = back[rng.random(back.size) < pc.give_up_return_prob]
            st.ngo_gave_up[back] = False
            st.ngo_refusal_run[back] = 0
        if req.size == 0:
            return
        helped = ngo_fulfilled(status)
        refused = np.unique(req[~helped])
        ok = np.unique(req[helped])
        st.ngo_refusal_run[refused] += 1
        st.ngo_refusal_run[ok] = 0
        if pc.give_up_prob <= 0:
            return
        cand = refused[(st.ngo_refusal_run[refused] >= pc.give_up_refusals) & ~np.isin(refused, ok)]
        quit_ = cand[rng.random(cand.size) < pc.give_up_prob]
        st.ngo_gave_up[quit_] = True
