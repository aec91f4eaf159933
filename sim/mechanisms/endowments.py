"""Endowments (target capital, 275-FZ): market return, formation deadline, annual payout.

Parameters: :class:`sim.params.FinanceParams` (``cfg.finance``: ``endowment_*``,
``manager_fee_share``, ``admin_share``, ``admin_cap_share``) and
:class:`sim.params.ScenarioParams` (``endowments`` switches the mechanism).

An NGO that intends an endowment collects gifts into its capital account
(see :mod:`sim.mechanisms.giving`); once the capital reaches
``endowment_min_capital`` the endowment is formed, and if that does not
happen within ``endowment_formation_months`` the gifts are refunded to the
NGO. A formed endowment earns the month's market return (one draw for the
region) into its reserve; in December the manager takes its fee and the NGO
receives a smoothed share of the market value, only out of income, less
administration (:func:`endowment_month`).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from sim.mechanisms.base import Mechanism
from sim.state import NGOArrays


class Endowments(Mechanism):
    """One month of the endowments (stream ``endowment_market``)."""

    name = "endowments"
    group = "finance"

    def step(self) -> None:
        """Returns, deadlines and the December payout (only with ``scenario.endowments``)."""
        if not self.cfg.scenario.endowments:
            return
        st, fp = self.state, self.cfg.finance
        led = st.ledger
        # log-normal gross return (never below -100%): annual mean and s.d. as declared, monthly log-return normal
        s2 = math.log1p((fp.endowment_return_sd / (1.0 + fp.endowment_return_mean)) ** 2)
        m_log = math.log1p(fp.endowment_return_mean) - s2 / 2.0
        r = math.expm1(self.model.streams["endowment_market"].normal(m_log / 12.0, math.sqrt(s2 / 12.0)))
        late, refund, formed, gain, loss = endowment_month(
            st.ngos(), st.ngo_alive, led.balance, (st.cap0, st.res0), fp.endowment_min_capital, st.t,
            fp.endowment_formation_months, r,
        )  # fmt: skip
        if late.size:
            led.transfer("endowment_refund", st.cap0 + late, st.ngo0 + late, refund)
        if formed.size == 0:
            return
        led.transfer("endowment_return", st.ext["financial_market"], st.res0 + formed, gain)
        # a loss comes out of the income reserve, and what it cannot cover out of the principal's market value
        from_res = np.minimum(loss, np.maximum(led.balance[st.res0 + formed], 0.0))
        from_cap = np.minimum(loss - from_res, np.maximum(led.balance[st.cap0 + formed], 0.0))
        led.transfer("endowment_return", st.res0 + formed, st.ext["financial_market"], from_res)
        led.transfer("endowment_return", st.cap0 + formed, st.ext["financial_market"], from_cap)
        if st.t % 12 == 11:
            reserve = led.balance[st.res0 + formed]
            positive = np.maximum(reserve, 0.0)
            fee = fp.manager_fee_share * positive
            led.transfer("endowment_fee", st.res0 + formed, st.manager, fee)
            positive -= fee
            mv = led.balance[st.cap0 + formed] + led.balance[st.res0 + formed]
            target = fp.endowment_spending_rate * mv
            prev = st.ngo_endow_spend[formed]
            spend = np.where(prev > 0, fp.endowment_smoothing * prev + (1 - fp.endowment_smoothing) * target, target)
            spend = np.clip(spend, 0.0, positive)  # only income, never principal
            admin = spend * min(fp.admin_share, fp.admin_cap_share)
            led.transfer("endowment_admin", st.res0 + formed, st.ext["operating_costs"], admin)
            led.transfer("endowment_payout", st.res0 + formed, st.ngo0 + formed, spend - admin)
            st.ngo_income_month[formed] += spend - admin
            st.ngo_endow_spend[formed] = spend


# ----------------------------------------------------------------- kernels
@njit(cache=True, nogil=True)
def endowment_month(
    ngos: NGOArrays,
    alive: np.ndarray,
    balance: np.ndarray,
    accounts: tuple,
    min_capital: float,
    now: int,
    formation_months: int,
    market_return: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Monthly endowment bookkeeping before money moves.

    A forming endowment (state 1) of a living NGO with ``min_capital`` is
    formed (state 2); one still short after ``formation_months`` is given
    up (state 0): its capital is refunded. Every formed endowment earns
    ``market_return`` on its market value (capital + reserve).

    Returns:
        ``(given-up slots, their refunds, formed slots, gains, losses)``.
    """
    _, _, _, _, _, _, _, _, _, state, first, _, _, _ = ngos
    cap0, res0 = accounts
    n = state.size
    late = np.empty(n, np.int64)
    refund = np.empty(n)
    n_late = 0
    for i in range(n):
        if state[i] == 1 and alive[i]:
            if balance[cap0 + i] >= min_capital:
                state[i] = 2
            elif now - first[i] >= formation_months:
                late[n_late] = i
                refund[n_late] = balance[cap0 + i]
                n_late += 1
                state[i] = 0
                first[i] = -1
    formed = np.empty(n, np.int64)
    gain = np.empty(n)
    loss = np.empty(n)
    n_formed = 0
    for i in range(n):
        if state[i] == 2:
            ret = (balance[cap0 + i] + balance[res0 + i]) * market_return
            formed[n_formed] = i
            gain[n_formed] = max(ret, 0.0)
            loss[n_formed] = max(-ret, 0.0)
            n_formed += 1
    return late[:n_late], refund[:n_late], formed[:n_formed], gain[:n_formed], loss[:n_formed]

