"""The cluster's one window: three tiers opened in stages and paid through the ledger (concept I, IV, IX).

Parameters: :class:`sim.params.ClusterParams` (``cfg.cluster``: ``hotline``, ``online_consultation``,
``crisis_centre``, ``routing``, ``tier_months``, ``tier_costs``, ``crisis_service_cost``, ``one_window_payer``).

The concept's family resource centre runs a three-step ecosystem: tier 1 a
pro-family call centre (one short number and dispatching of services),
tier 2 an online family consultation (psychologists, lawyers), tier 3 a
crisis centre for families in a difficult situation. Its work plan (IX)
opens them one after another (call centre September 2020, consultation
November 2020, crisis centre November 2020 - June 2021); here tier ``k``
opens ``tier_months[k]`` months after the cluster's agreements.

Each open tier is paid every month: the hotline and the consultation a fixed
cost, the crisis centre a cost per service it gave last month. With
``one_window_payer="region"`` the region pays the core (channel
``one_window``, within the money it has beyond its social orders) and the
core pays the running costs (``one_window_costs``); with ``"core"`` the core
pays from its own cash. A tier that is not fully paid works at the paid
share (its effect on awareness, applications or crisis capacity scales
down): no service is costed to no one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

PART_OF = "cluster"
"""This module is a part of the cluster mechanism (:mod:`sim.mechanisms.cluster`)."""

if TYPE_CHECKING:
    from sim.model import CrossSectorModel

TIERS: tuple[str, ...] = ("hotline", "online_consultation", "crisis_centre")
"""The one-window tiers in the concept's order."""


class OneWindow:
    """Staging and payment of the one-window tiers (owned by :class:`sim.mechanisms.cluster.Cluster`).

    Args:
        model: The model.
    """

    def __init__(self, model: CrossSectorModel) -> None:
        self.model = model
        self.params = model.cfg.cluster
        self.opened_at = -1  # month of the agreements (the tiers count from it); -1 not yet
        self.funded = np.ones(len(TIERS))  # paid share of each tier's cost last month
        self.paid = np.zeros(len(TIERS))  # roubles paid per tier over the run
        self.first_open = np.full(len(TIERS), -1, np.int64)  # month each tier first worked

    def switched_on(self, k: int) -> bool:
        """Whether tier ``k`` is part of the policy."""
        return bool(getattr(self.params, TIERS[k]))

    def stage_reached(self, k: int) -> bool:
        """Whether tier ``k``'s stage has come (``tier_months[k]`` after the agreements)."""
        return self.opened_at >= 0 and self.model.t >= self.opened_at + self.params.tier_months[k]

    def tier_open(self, k: int) -> bool:
        """Whether tier ``k`` works this month (switched on and its stage reached)."""
        return self.switched_on(k) and self.stage_reached(k)

    def level(self, k: int) -> float:
        """Working level of tier ``k`` this month (0 closed, else the paid share of its cost)."""
        return float(self.funded[k]) if self.tier_open(k) else 0.0

    def pay(self) -> None:
        """Pay this month's cost of every open tier (the crisis centre: last month's services)."""
        mdl, p = self.model, self.params
        core = mdl.cluster.core
        led = mdl.ledger
        fam = mdl.state.families
        cost = np.array([p.tier_costs[0], p.tier_costs[1], p.crisis_service_cost * fam.n_crisis])
        for k in range(len(TIERS)):
            if not self.tier_open(k):
                continue
            if self.first_open[k] < 0:
                self.first_open[k] = mdl.t
            if cost[k] <= 0:
                self.funded[k] = 1.0
                continue
            if p.one_window_payer == "region":
                pay = min(cost[k], max(led.balance[mdl.region] - mdl.social_order_left, 0.0))
                led.transfer("one_window", mdl.region, core, pay)
                mdl.ngo_income_month[core - mdl.ngo0] += pay
            else:
                pay = min(cost[k], max(led.balance[core], 0.0))
            led.transfer("one_window_costs", core, mdl.ext["operating_costs"], pay)
            self.paid[k] += pay
            self.funded[k] = pay / cost[k]
