"""Budgets: the annual budgets, last year's unspent money and businesses' CSR budgets.

Parameters: :class:`sim.params.RegionParams` (``cfg.region``: budgets),
:class:`sim.params.ScenarioParams` (``cfg.scenario``: budget scales).

In January the regional and municipal budgets arrive and last year's
unspent balances return to the treasuries (the public councils are
:mod:`sim.mechanisms.councils`). Every month businesses receive their
CSR budget (raised by charity development of centres of public development).
"""

from __future__ import annotations

import numpy as np

from sim.mechanisms.base import Mechanism
from sim.params import Config
from sim.state import State


def reserved_state_inst(state: State, cfg: Config) -> np.ndarray:
    """Municipal money still reserved for state-institution services this year, per municipality."""
    months_left = 12 - (state.t % 12)
    rp = cfg.region
    return rp.state_institution_capacity * state.families_per_muni / 1000.0 * cfg.finance.unit_price * months_left


class Budgets(Mechanism):
    """Budgets and CSR money (step 1 of the month)."""

    name = "budgets"
    group = "region"

    def step(self) -> None:
        """Budgets of the month (annual in January, CSR every month)."""
        st, cfg = self.state, self.cfg
        rp, sc, led = cfg.region, cfg.scenario, st.ledger
        munis = st.munis
        rc = self.model.rc
        if st.t % 12 == 0:
            # unspent money of last year goes back to the treasuries
            if st.t > 0:
                left = max(led.balance[st.region], 0.0)
                led.transfer("budget_regional", st.region, st.ext["regional_treasury"], left)
                left_m = np.maximum(led.balance[munis], 0.0)
                led.transfer("budget_municipal", munis, st.ext["municipal_treasury"], left_m)
                st.counts["budget_unspent"] = left + float(left_m.sum())
            reg = (rp.regional_grant_budget * sc.grant_budget_scale) + rp.social_order_budget * sc.social_order_scale
            cl = cfg.cluster
            if cl.enabled:  # the regional decree gives the family resource centre a budget line
                months = sum(1 for mo in range(st.t, st.t + 12) if mo >= cl.launch_month)
                reg += self.model.cluster.budget_line(months)
            led.transfer("budget_regional", st.ext["regional_treasury"], st.region, reg)
            state_inst = rp.state_institution_capacity * st.families_per_muni / 1000.0 * cfg.finance.unit_price * 12
            rc_assignment = rc.annual_funding()
            led.transfer(
                "budget_municipal",
                st.ext["municipal_treasury"],
                munis,
                rp.municipal_support_budget + state_inst + rc_assignment,
            )
            st.social_order_left = rp.social_order_budget * sc.social_order_scale
        csr = st.csr_month * rc.charity_factor() if rc.active else st.csr_month
        st.csr_now = csr
        led.transfer("business_profit", st.ext["business_market"], st.biz_orgs, csr)
