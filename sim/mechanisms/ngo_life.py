"""NGO life: costs, staff, volunteers, the register, deaths and births.

Parameters: :class:`sim.params.OrgParams` (``cfg.org``: ``staff_cost``,
``overhead_cost``, ``staff_cut_months``, ``hire_cash_months``,
``volunteer_*``, ``register_*``, ``insolvency_months``, ``ngo_birth_rate``,
``founder_cash``).

Overhead is always due and wages are paid only from cash at hand
(:func:`ngo_costs`; less the overhead a house of NGOs covers,
``ngo_cost_relief``, :mod:`sim.mechanisms.organisational_structural`); months in arrears cut staff, cash for
``hire_cash_months`` hires (:func:`ngo_staffing`). Volunteers are recruited
by reputation and lost without activity; experienced and capable NGOs join
the register of social-service providers; an NGO dies after
``insolvency_months`` in debt or with no people left (:func:`ngo_people`).
Its balances are liquidated, its ties and its agent removed. New NGOs are
born at ``ngo_birth_rate`` per municipality with a founder's contribution.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from sim import agents as ag
from sim.mechanisms.base import Mechanism
from sim.state import NGOArrays


class LifeRates(NamedTuple):
    """The NGO-life parameters compiled kernels use (from :class:`sim.params.OrgParams`)."""

    staff_cost: float
    overhead: float
    staff_cut_months: int
    hire_cash_months: float
    volunteer_loss: float
    volunteer_gain: float
    register_join_prob: float
    register_capacity_threshold: float
    insolvency_months: int


class NGOLife(Mechanism):
    """One month of NGOs' costs, people, deaths and births (stream ``ngo_life``)."""

    name = "ngo_life"
    group = "org"

    def step(self) -> None:
        """Costs, staff, people, register, deaths and births."""
        st, op = self.state, self.cfg.org
        led = st.ledger
        rng = self.model.streams["ngo_life"]
        slots = st.alive_slots()
        orgs = st.ngo0 + slots
        # overhead is always due; wages are paid only from cash at hand (arrears cut staff)
        amount, arrears = ngo_costs(slots, st.ngo0, st.ngo_staff, led.balance, op.staff_cost, op.overhead_cost)
        amount = np.maximum(amount - st.ngo_cost_relief[slots], 0.0)  # overhead a house of NGOs covers
        led.transfer("ngo_costs", orgs, st.ext["operating_costs"], amount)
        rates = tuple(LifeRates(
            op.staff_cost, op.overhead_cost, op.staff_cut_months, op.hire_cash_months, op.volunteer_loss,
            op.volunteer_gain, op.register_join_prob, op.register_capacity_threshold, op.insolvency_months,
        ))  # fmt: skip
        ngos = st.ngos()
        ngo_staffing(slots, ngos, arrears, led.balance, rates)
        recruits = rng.poisson(op.volunteer_recruit * st.trust.reputation[orgs])
        # register entry (experienced and capable NGOs) and deaths (insolvency or no people left)
        dies = ngo_people(slots, ngos, recruits.astype(np.float64), rng.random(slots.size), led.balance, rates)
        self.kill(slots[dies])
        # births
        births = rng.poisson(op.ngo_birth_rate * st.n_muni)
        free = np.flatnonzero(~st.ngo_alive & (st.ngo_born < 0))
        if births > free.size:  # the spare slots are used up: make room, births never stop
            self.grow_slots(births - free.size)
            free = np.flatnonzero(~st.ngo_alive & (st.ngo_born < 0))
        births = min(births, free.size)
        if births:
            new = free[:births]
            st.init_ngos(new, rng, born=st.t, ngo_params=op)
            st.alive[st.ngo0 + new] = True
            st.ngo_version += 1
            led.transfer("founder_contribution", st.ext["citizens"], st.ngo0 + new, op.founder_cash)
            for slot in new.tolist():
                self.model.add_agent(ag.NGO, st.ngo0 + slot)
            st.counts["ngo_births"] += births

    def grow_slots(self, need: int) -> None:
        """Add NGO slots (at least ``need``, at least half the current number) to the state and every mechanism."""
        st = self.state
        old = st.n_ngo_slots
        add = max(int(need), (old + 1) // 2, 1)
        st.add_ngo_slots(add, self.cfg.org.turnover_ngo)
        for mech in self.model.mechanisms.values():
            mech.add_ngo_slots(old, add)

    def kill(self, slots: np.ndarray) -> None:
        """Close NGOs: balances are liquidated (debts written off by creditors), ties and agents removed."""
        if slots.size == 0:
            return
        st = self.state
        led = st.ledger
        liq = st.ext["liquidation"]
        for accounts in (st.ngo0 + slots, st.cap0 + slots, st.res0 + slots):
            bal = led.balance[accounts]
            pos, neg = bal > 0, bal < 0
            led.transfer("liquidation", accounts[pos], liq, bal[pos])
            led.transfer("liquidation", liq, accounts[neg], -bal[neg])  # creditors write off the debt
        orgs = st.ngo0 + slots
        st.alive[orgs] = False
        st.ngo_version += 1
        st.ngo_died[slots] = st.t
        st.ngo_endow_state[slots] = 0
        st.trust.remove_org(orgs)
        for org in orgs.tolist():
            agent = self.model.org_agent.pop(org, None)
            if agent is not None:
                agent.remove()
        st.counts["ngo_deaths"] += slots.size


# ----------------------------------------------------------------- kernels
@njit(cache=True, nogil=True)
def ngo_costs(
    slots: np.ndarray, ngo0: int, staff: np.ndarray, balance: np.ndarray, staff_cost: float, overhead: float
) -> tuple[np.ndarray, np.ndarray]:
    """Costs of NGOs for the month: overhead always, wages only from cash at hand.

    Returns:
        ``(amount due, in arrears)`` per NGO slot in ``slots``.
    """
    amount = np.empty(slots.size)
    arrears = np.empty(slots.size, np.bool_)
    for k in range(slots.size):
        wages = staff[slots[k]] * staff_cost
        paid = min(wages, max(balance[ngo0 + slots[k]] - overhead, 0.0))
        amount[k] = paid + overhead
        arrears[k] = paid < wages
    return amount, arrears


@njit(cache=True, nogil=True)
def ngo_staffing(slots: np.ndarray, ngos: NGOArrays, arrears: np.ndarray, balance: np.ndarray, rates: LifeRates) -> None:
    """Count months in arrears or debt; cut or hire staff.

    An NGO that has been so for ``staff_cut_months`` cuts one staff member;
    one with cash for ``hire_cash_months`` of costs (and a new wage) hires one.
    """
    ngo0, _, _, _, staff, _, neg_months, _, _, _, _, _, _, _ = ngos
    staff_cost, overhead, staff_cut_months, hire_cash_months, _, _, _, _, _ = rates
    for k in range(slots.size):
        i = slots[k]
        bal = balance[ngo0 + i]
        neg_months[i] = neg_months[i] + 1 if (arrears[k] or bal < 0) else 0
        if neg_months[i] >= staff_cut_months and staff[i] > 0:
            staff[i] -= 1
        cost = staff[i] * staff_cost + overhead
        if bal > hire_cash_months * (cost + staff_cost):
            staff[i] += 1


@njit(cache=True, nogil=True)
def ngo_people(
    slots: np.ndarray, ngos: NGOArrays, recruits: np.ndarray, u_register: np.ndarray, balance: np.ndarray, rates: LifeRates
) -> np.ndarray:
    """Volunteers leave, stay with active NGOs and are recruited; experienced capable NGOs join the register.

    Returns:
        Whether each NGO in ``slots`` dies: insolvent for ``insolvency_months`` and in debt, or nobody left.
    """
    ngo0, _, capacity, experienced, staff, volunteers, neg_months, registered, _, _, _, _, active, _ = ngos
    _, _, _, _, loss, gain, join_prob, register_threshold, insolvency_months = rates
    dies = np.empty(slots.size, np.bool_)
    for k in range(slots.size):
        i = slots[k]
        v = volunteers[i]
        v = v * (1 - loss) + v * gain * (1.0 if active[i] else 0.0) + recruits[k]
        volunteers[i] = v
        if (not registered[i]) and experienced[i] and capacity[i] >= register_threshold and u_register[k] < join_prob:
            registered[i] = True
        dies[k] = (neg_months[i] >= insolvency_months and balance[ngo0 + i] < 0) or (v < 1.0 and staff[i] == 0)
    return dies

