"""Endowments (target capital, 275-FZ): market return, formation deadline, annual payout; the specialised fund.

Parameters: :class:`sim.params.FinanceParams` (``cfg.finance``: ``endowment_*``,
``manager_fee_share``, ``manager_expenses*``, ``admin_*``, ``trust_income_cap_share``,
``specialised_fund*``) and :class:`sim.params.ScenarioParams` (``endowments``
switches the mechanism).

An NGO that intends an endowment collects gifts into its capital account
(see :mod:`sim.mechanisms.giving`; cash donations of business only, the concept
Fig. VII-5 step 2); once the capital reaches ``endowment_min_capital`` (3 mln)
the endowment is formed, and if that does not happen within
``endowment_formation_months`` the gifts are refunded to the NGO. All capitals are
held in trust by the one management company: one capital is never split between
managers (concept s.VII: "Один целевой капитал - в доверительном управлении одной
управляющей компании"). A formed endowment earns the month's market return (one
log-normal draw for the region) into its reserve; a loss comes out of the reserve
and only then out of the principal, which never goes below zero. In December
(:func:`december_payout`, concept Table VII.4):

1. the manager takes its fee (``manager_fee_share`` of the positive reserve);
2. the manager's expenses (``manager_expenses``) are reimbursed from the year's
   trust-management income; what that income cannot cover comes out of the
   endowment income, at most ``manager_expenses_income_cap`` (1%) of it;
3. the NGO spends a smoothed share of the market value (Yale rule), only out of
   income, never principal;
4. administration takes ``admin_share`` of the spending, capped by the rule
   ``admin_cap_rule``: 10% of the endowment income spent in the year, or 15% of the
   year's trust-management income (the two variants of 275-FZ).

The **specialised endowment fund** (``finance.specialised_fund``; concept s.VII,
"Второй вариант" and "Варианты организационных схем") is one capital of a separate
fund (accounts ``specialised_capital`` and ``specialised_reserve``) formed from a
share of business giving; it follows the same rules and shares its payout among
``specialised_fund_ngos`` beneficiary NGOs (equally or by capacity). If it is short
of the minimum when its window closes, the donations "go back to general use"
(BRIEF s.3.3): they are paid to the beneficiaries as ordinary income and the fund
starts forming again.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from sim.mechanisms.base import Mechanism
from sim.params import FinanceParams
from sim.state import NGOArrays

if TYPE_CHECKING:
    from sim.model import CrossSectorModel


def market_return(fp: FinanceParams, rng: np.random.Generator) -> float:
    """One month's return: log-normal gross return with the declared annual mean and s.d. (never below -100%)."""
    s2 = math.log1p((fp.endowment_return_sd / (1.0 + fp.endowment_return_mean)) ** 2)
    m_log = math.log1p(fp.endowment_return_mean) - s2 / 2.0
    return math.expm1(rng.normal(m_log / 12.0, math.sqrt(s2 / 12.0)))


class Endowments(Mechanism):
    """One month of the endowments (streams ``endowment_market`` and ``specialised_fund``)."""

    name = "endowments"
    group = "finance"

    def __init__(self, model: CrossSectorModel) -> None:
        super().__init__(model)
        self.fund_state = 0
        """Specialised fund: 0 forming, 2 formed."""
        self.fund_first = -1
        """Month of the first donation of the fund's current formation window (-1: none yet)."""
        self.fund_spend = 0.0
        """The fund's spending last December (smoothing rule)."""
        self.fund_trust_income = 0.0
        """The fund's trust-management income (net market return) so far this year."""
        self.beneficiaries = np.empty(0, np.int64)
        """NGO slots that receive the specialised fund's income."""

    def step(self) -> None:
        """Returns, deadlines and the December payout (only with ``scenario.endowments``)."""
        if not self.cfg.scenario.endowments:
            return
        st, fp = self.state, self.cfg.finance
        led = st.ledger
        r = market_return(fp, self.model.streams["endowment_market"])
        if st.t % 12 == 0:
            st.ngo_endow_trust_income[:] = 0.0
            self.fund_trust_income = 0.0
        if fp.specialised_fund:
            self.specialised_fund(r)
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
        st.ngo_endow_trust_income[formed] += gain - from_res - from_cap
        if st.t % 12 == 11:
            fee, expenses, admin, payout, spend = december_payout(
                led.balance[st.res0 + formed], led.balance[st.cap0 + formed], st.ngo_endow_trust_income[formed],
                st.ngo_endow_spend[formed], fp,
            )  # fmt: skip
            res = st.res0 + formed
            led.transfer("endowment_fee", res, st.manager, fee)
            self.reimburse(res, expenses)
            led.transfer("endowment_admin", res, st.ext["operating_costs"], admin)
            led.transfer("endowment_payout", res, st.ngo0 + formed, payout)
            st.ngo_income_month[formed] += payout
            st.ngo_endow_spend[formed] = spend

    def reimburse(self, src: np.ndarray | int, expenses: np.ndarray | float) -> None:
        """Reimburse the management company's expenses from ``src`` and let it pay them (audit, custody)."""
        st = self.state
        st.ledger.transfer("endowment_manager_expenses", src, st.manager, expenses)
        st.ledger.transfer("endowment_manager_expenses", st.manager, st.ext["operating_costs"], float(np.sum(expenses)))

    def specialised_fund(self, r: float) -> None:
        """One month of the specialised endowment fund at market return ``r``."""
        st, fp = self.state, self.cfg.finance
        led = st.ledger
        cap, res = st.ext["specialised_capital"], st.ext["specialised_reserve"]
        self.keep_beneficiaries()
        if self.fund_state == 0:
            if self.fund_first < 0 and led.balance[cap] > 0:
                self.fund_first = st.t  # the first gift arrived (Giving runs earlier in the month)
            if led.balance[cap] >= fp.endowment_min_capital:
                self.fund_state = 2
            elif self.fund_first >= 0 and st.t - self.fund_first >= fp.endowment_formation_months:
                # short of the minimum: the donations go back to general use (the beneficiaries' income)
                self.pay_beneficiaries("specialised_fund_refund", cap, float(led.balance[cap]))
                self.fund_first = -1
            return
        value = led.balance[cap] + led.balance[res]
        ret = value * r
        if ret >= 0:
            led.transfer("specialised_fund_return", st.ext["financial_market"], res, ret)
            self.fund_trust_income += ret
        else:
            from_res = min(-ret, max(led.balance[res], 0.0))
            from_cap = min(-ret - from_res, max(led.balance[cap], 0.0))
            led.transfer("specialised_fund_return", res, st.ext["financial_market"], from_res)
            led.transfer("specialised_fund_return", cap, st.ext["financial_market"], from_cap)
            self.fund_trust_income -= from_res + from_cap
        if st.t % 12 == 11:
            out = december_payout(
                np.array([led.balance[res]]), np.array([led.balance[cap]]), np.array([self.fund_trust_income]),
                np.array([self.fund_spend]), fp,
            )  # fmt: skip
            fee, expenses, admin, payout, spend = (float(x[0]) for x in out)
            led.transfer("endowment_fee", res, st.manager, fee)
            self.reimburse(res, expenses)
            led.transfer("endowment_admin", res, st.ext["operating_costs"], admin)
            self.pay_beneficiaries("specialised_fund_payout", res, payout)
            self.fund_spend = spend

    def keep_beneficiaries(self) -> None:
        """Keep ``specialised_fund_ngos`` living beneficiaries: a closed NGO is replaced by a drawn living one."""
        st = self.state
        k = self.cfg.finance.specialised_fund_ngos
        keep = self.beneficiaries[st.ngo_alive[self.beneficiaries]] if self.beneficiaries.size else self.beneficiaries
        if keep.size < k:
            pool = np.setdiff1d(st.alive_slots(), keep)
            if pool.size:
                pick = self.model.streams["specialised_fund"].choice(pool, size=min(k - keep.size, pool.size), replace=False)
                keep = np.concatenate([keep, np.sort(pick)])
        self.beneficiaries = keep.astype(np.int64)

    def pay_beneficiaries(self, channel: str, src: int, amount: float) -> None:
        """Share ``amount`` among the beneficiaries by ``specialised_fund_rule`` (nothing moves without one)."""
        st = self.state
        b = self.beneficiaries
        if b.size == 0 or amount <= 0:
            return
        w = st.ngo_capacity[b] if self.cfg.finance.specialised_fund_rule == "capacity" else np.ones(b.size)
        w = w / w.sum() if w.sum() > 0 else np.full(b.size, 1.0 / b.size)
        share = amount * w
        share[-1] = amount - share[:-1].sum()  # exactly the amount
        share = np.maximum(share, 0.0)
        st.ledger.transfer(channel, src, st.ngo0 + b, share)
        st.ngo_income_month[b] += share


def december_payout(
    reserve: np.ndarray, capital: np.ndarray, trust_income: np.ndarray, prev_spend: np.ndarray, fp: FinanceParams
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The December split of each formed endowment's income reserve (concept Table VII.4, 275-FZ).

    Args:
        reserve: Income reserves before the payout.
        capital: Principal.
        trust_income: This year's trust-management income (net market return, may be negative).
        prev_spend: Last December's spending (0 for a first payout).
        fp: Finance parameters.

    Returns:
        ``(manager's fee, manager's expenses reimbursed, administration, payout to the NGO, spending)``; the
        spending is what the Yale rule took out of income (payout + administration + expenses beyond trust income).
    """
    positive = np.maximum(reserve, 0.0)
    fee = fp.manager_fee_share * positive
    positive = positive - fee
    # the manager's expenses: from this year's trust-management income left after the fee ...
    trust_left = np.clip(trust_income - fee, 0.0, positive)
    exp_trust = np.minimum(fp.manager_expenses, trust_left)
    positive = positive - exp_trust
    mv = capital + reserve - fee - exp_trust
    target = fp.endowment_spending_rate * mv
    spend = np.where(prev_spend > 0, fp.endowment_smoothing * prev_spend + (1 - fp.endowment_smoothing) * target, target)
    spend = np.clip(spend, 0.0, positive)  # only income, never principal
    # ... and what it could not cover from the endowment income, at most 1% of it
    exp_income = np.minimum(fp.manager_expenses - exp_trust, fp.manager_expenses_income_cap * spend)
    if fp.admin_cap_rule == "trust_income_15":
        cap = fp.trust_income_cap_share * np.maximum(trust_income, 0.0)
    else:
        cap = fp.admin_cap_share * spend
    admin = np.minimum(np.minimum(fp.admin_share * spend, cap), spend - exp_income)
    payout = spend - exp_income - admin
    return fee, exp_trust + exp_income, admin, payout, spend


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

