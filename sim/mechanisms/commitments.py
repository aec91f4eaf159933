"""Government money commitments within budget, refusals for lack of budget, late payments.

Parameters: :class:`sim.params.PartnershipParams` (``cfg.partnership``:
``gov_money``, ``gov_budget_check``, ``gov_payment_delay``).

A municipality that joins a partnership commits ``gov_money`` a month. With
``gov_budget_check`` it takes the commitment on only if its free budget for
the rest of the year covers it: the free budget is its balance less the money
state institutions still need this year (:func:`sim.mechanisms.budgets.reserved_state_inst`)
less what it has already committed for the rest of the year (payments still
due this year on the partnerships it pays for, and late payments it owes).
What it commits stays reserved: subsidies (:mod:`sim.mechanisms.requests`)
are paid only from the money left free. A proposal it cannot pay for is
refused (counted in ``proposals_refused_budget``); a partnership made
elsewhere (the cluster's agreements) that it cannot pay for runs without its
money (``gov_commitments_cut``). In January, when the new budget arrives, it
renews its commitments for the new year oldest first while the budget covers
them and cuts the rest. A due payment is late with probability
``gov_payment_delay`` (stream ``gov_payment_delay``; none in December, when
the accounts close): the municipality still delivers its part, the money
follows with a later month's payment (``gov_payments_late``). Without
``gov_budget_check`` every commitment is accepted and a municipality that
runs out of money breaks its promise (the model before issue #12).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from sim import agents as ag
from sim.mechanisms.base import Mechanism
from sim.mechanisms.budgets import reserved_state_inst

if TYPE_CHECKING:
    from sim.model import CrossSectorModel


class Commitments(Mechanism):
    """Municipal money commitments: reservation, January renewal, arrears (no draws; delays in delivery)."""

    name = "commitments"
    group = "partnership"

    def __init__(self, model: CrossSectorModel) -> None:
        super().__init__(model)
        self.pays = np.zeros(256, bool)
        """Per partnership id: the municipality's money commitment is in force."""
        self.arrears = np.zeros(256)
        """Per partnership id: late payments the municipality still owes, roubles."""
        self.judged = 0
        """Partnerships with a smaller id have had their commitment decided."""

    # ------------------------------------------------------------ state
    def _grow(self) -> None:
        n = self.state.partnerships.n
        if n > self.pays.size:
            size = max(n, 2 * self.pays.size)
            self.pays = np.concatenate([self.pays, np.zeros(size - self.pays.size, bool)])
            self.arrears = np.concatenate([self.arrears, np.zeros(size - self.arrears.size)])

    @property
    def check(self) -> bool:
        """Whether commitments are checked against the budget."""
        return bool(self.cfg.partnership.gov_budget_check)

    def paying(self) -> np.ndarray:
        """Ids of active partnerships whose municipal member's money commitment is in force."""
        self._grow()
        ps = self.state.partnerships
        ids = ps.active_ids()
        return ids[self.pays[ids]]

    def committed(self, t_from: int) -> np.ndarray:
        """Money each municipality has committed for the months ``t_from`` .. December of this year (and arrears)."""
        st = self.state
        ps = st.partnerships
        out = np.zeros(st.n_muni)
        if not self.check:
            return out
        ids = self.paying()
        left_in_year = 12 - (st.t % 12) - (t_from - st.t)
        months = np.clip(np.minimum(ps.end[ids] - t_from, left_in_year), 0, None)
        gov = ps.members[ids, 0]
        np.add.at(out, gov - st.muni0, self.cfg.partnership.gov_money * months)
        owed = np.flatnonzero(self.arrears[: ps.n] > 0)
        np.add.at(out, ps.members[owed, 0] - st.muni0, self.arrears[owed])
        return out

    def free(self) -> np.ndarray:
        """Each municipality's money not reserved for state institutions or commitments this year (before delivery)."""
        st = self.state
        bal = st.ledger.balance[st.muni0 : st.biz0]
        return bal - reserved_state_inst(st, self.cfg) - self.committed(st.t)

    def excess(self) -> np.ndarray:
        """After the month's payments: commitments for the rest of the year beyond the free money (<= 0 within budget)."""
        st = self.state
        months_left = 12 - (st.t % 12)
        inst_left = reserved_state_inst(st, self.cfg) * (months_left - 1) / months_left
        bal = st.ledger.balance[st.muni0 : st.biz0]
        return self.committed(st.t + 1) - (bal - inst_left)

    # ------------------------------------------------------------ decisions
    def admit(self, muni: np.ndarray, duration: np.ndarray) -> np.ndarray:
        """Which proposals (municipality index, duration) each municipality can pay for this year, in order.

        Every admitted proposal's money for the rest of the year is taken off the free budget before the next.
        """
        if not self.check or muni.size == 0:
            return np.ones(muni.size, bool)
        st = self.state
        months = np.minimum(duration, 12 - st.t % 12).astype(np.float64)
        return admit_in_order(muni, months * self.cfg.partnership.gov_money, self.free())

    def mark(self, ids: np.ndarray, pays: bool = True) -> None:
        """Record that the partnerships ``ids`` (already admitted) have their money commitment in force."""
        self._grow()
        self.pays[ids] = pays

    def sync(self) -> None:
        """Decide the commitments of partnerships made since the last call (oldest first); a misfit runs without money."""
        st = self.state
        ps = st.partnerships
        self._grow()
        new = np.arange(self.judged, ps.n)
        self.judged = ps.n
        if new.size == 0:
            return
        gov = ps.members[new, 0]
        muni_member = np.flatnonzero((gov >= 0) & (st.sector[np.maximum(gov, 0)] == ag.SEC_MUNICIPAL) & ps.active[new])
        if muni_member.size == 0:
            return
        ids = new[muni_member]
        undecided = ids[~self.pays[ids]]
        if undecided.size == 0:
            return
        ok = self.admit(ps.members[undecided, 0] - st.muni0, ps.end[undecided] - st.t)
        self.pays[undecided[ok]] = True
        st.counts["gov_commitments_cut"] += int((~ok).sum())

    def step(self) -> None:
        """January: renew the commitments for the new year oldest first, within the new budget."""
        st = self.state
        self.sync()
        if st.t % 12 != 0 or st.t == 0 or not self.check:
            return
        ids = self.paying()
        if ids.size == 0:
            return
        ps = st.partnerships
        self.pays[ids] = False
        ok = self.admit(ps.members[ids, 0] - st.muni0, ps.end[ids] - st.t)
        self.pays[ids[ok]] = True
        st.counts["gov_commitments_cut"] += int((~ok).sum())


@njit(cache=True, nogil=True)
def admit_in_order(muni: np.ndarray, cost: np.ndarray, free: np.ndarray) -> np.ndarray:
    """Admit each request ``k`` (municipality ``muni[k]``, money ``cost[k]``) in order while its municipality's money lasts."""
    left = free.copy()
    ok = np.zeros(muni.size, np.bool_)
    for k in range(muni.size):
        m = muni[k]
        if cost[k] <= left[m] + 1e-6:
            left[m] -= cost[k]
            ok[k] = True
    return ok
