"""Organisational-structural mechanism: houses of NGOs and a centre with delegated functions.

Parameters: :class:`sim.params.OrgStructParams` (``cfg.org_struct``); both
parts are policy levers, off by default.

Concept IV.3.2: the authority, with NGOs and/or business of the territory,
forms a new organisational structure (as a rule a legal entity) to which part
of the functions of solving socially significant tasks is delegated, with
financial support from the authority and/or business (Moscow House of public
associations, Vladimir "House of NGOs", Moscow centre "Children of the
street", Chelyabinsk "Centre of public associations" ...).

*House of NGOs* (``house``): from ``house_launch_month`` each municipality
has a house; every month each alive NGO that is not a member joins with
``house_join_prob`` (stream ``org_struct``). The house's shared premises and
services replace ``house_overhead_saving`` of a member's overhead
(``ngo_cost_relief``, which :mod:`sim.mechanisms.ngo_life` deducts from the
costs due). The region pays the houses' running costs, ``house_fixed_cost``
per house plus ``house_member_cost`` per member, into the account
``ngo_house`` (channel ``house_funding``), which pays them out (``house_costs``).

*Centre with delegated functions* (``centre``): from ``centre_launch_month``
the region delegates a function in domain ``centre_domain`` with its budget
to an NGO-run centre: the alive NGO of that domain with the highest capacity
(chosen again if the centre closes). Each month the region pays the centre
``centre_budget`` (channel ``delegated_budget``); the centre spends it on the
function (``delegated_costs``) and delivers ``centre_budget /
centre_unit_cost`` services a month to families of that domain, shared among
municipalities by their number of families (added to the month's service
capacity; assumption: the state institutions keep their own capacity).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.mechanisms.base import Mechanism

if TYPE_CHECKING:
    from sim.model import CrossSectorModel


class OrganisationalStructural(Mechanism):
    """Houses of NGOs and the centre with delegated functions (stream ``org_struct``)."""

    name = "organisational_structural"
    group = "org_struct"

    def __init__(self, model: CrossSectorModel) -> None:
        super().__init__(model)
        self.member = np.zeros(self.state.n_ngo_slots, bool)
        """NGO slots that are members of their municipality's house of NGOs."""
        self.centre = -1
        """NGO slot running the centre with delegated functions (-1: none)."""
        self.centre_services = 0.0
        """Services of the delegated function delivered this month."""
        self.delegated_total = 0.0
        """Delegated budget paid to the centre so far, roubles."""

    def add_ngo_slots(self, old: int, add: int) -> None:
        """New NGO slots are not members."""
        self.member = np.concatenate([self.member, np.zeros(add, bool)])

    @property
    def house_open(self) -> bool:
        """Whether the houses of NGOs are open this month."""
        os_ = self.cfg.org_struct
        return os_.house and self.state.t >= os_.house_launch_month

    @property
    def centre_open(self) -> bool:
        """Whether the function is delegated this month."""
        os_ = self.cfg.org_struct
        return os_.centre and self.state.t >= os_.centre_launch_month

    def step(self) -> None:
        """The houses (members, cost relief, running costs) and the centre (budget, delivery)."""
        self.centre_services = 0.0
        if self.house_open:
            self._house()
        if self.centre_open:
            self._centre()

    def _house(self) -> None:
        st, os_, led = self.state, self.cfg.org_struct, self.state.ledger
        rng = self.model.streams["org_struct"]
        self.member &= st.ngo_alive
        slots = st.alive_slots()
        out = slots[~self.member[slots]]
        join = out[rng.random(out.size) < os_.house_join_prob]
        self.member[join] = True
        st.counts["house_joined"] += join.size
        st.ngo_cost_relief[:] = np.where(self.member, os_.house_overhead_saving * self.cfg.org.overhead_cost, 0.0)
        cost = st.n_muni * os_.house_fixed_cost + int(self.member.sum()) * os_.house_member_cost
        house = st.ext["ngo_house"]
        led.transfer("house_funding", st.ext["regional_treasury"], house, cost)
        led.transfer("house_costs", house, st.ext["operating_costs"], cost)

    def _centre(self) -> None:
        st, os_, led = self.state, self.cfg.org_struct, self.state.ledger
        if self.centre < 0 or not st.ngo_alive[self.centre]:
            slots = st.alive_slots()
            cand = slots[st.ngo_domain[slots] == os_.centre_domain]
            if cand.size == 0:
                self.centre = -1
                return
            self.centre = int(cand[np.argmax(st.ngo_capacity[cand])])
        org = st.ngo0 + self.centre
        budget = os_.centre_budget
        led.transfer("delegated_budget", st.ext["regional_treasury"], org, budget)
        led.transfer("delegated_costs", org, st.ext["operating_costs"], budget)
        st.ngo_income_month[self.centre] += budget
        self.delegated_total += budget
        services = budget / os_.centre_unit_cost
        fam = st.families_per_muni.astype(np.float64)
        share = fam / fam.sum() if fam.sum() > 0 else np.full(st.n_muni, 1.0 / st.n_muni)
        st.partnership_capacity[:, os_.centre_domain] += services * share
        self.centre_services = services
        st.counts["centre_services"] += services
