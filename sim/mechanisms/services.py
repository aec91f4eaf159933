"""Services: who serves the families this month, who is paid for it.

Parameters: :class:`sim.params.OrgParams` (``services_per_staff``,
``services_per_volunteer``), :class:`sim.params.RCParams`
(``practice_productivity``), :class:`sim.params.FinanceParams`
(``unit_price``, ``reporting_burden``) and :class:`sim.params.RegionParams`
(``state_institution_capacity``, ``social_order_budget``).

The capacity of each (municipality, need domain) cell is that of its NGOs
(staff and volunteers, more with a proven practice; :func:`ngo_service_capacity`),
of the partnerships delivering this month and of the state institutions.
The families' applicants are rationed over it (the cluster's one window adds
a crisis centre and routing; the passes are in :mod:`sim.mechanisms.families`).
Providers share a cell's served count by capacity (:func:`service_attribution`):
municipalities pay their state institutions, and registered NGOs are paid per
service as a social order within the region's annual budget (less a reporting
burden).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from sim.mechanisms.base import Mechanism
from sim.state import N_DOMAINS, NGOArrays, OrgArrays


class ServiceRates(NamedTuple):
    """Services per month of an NGO's people (from :class:`sim.params.OrgParams`, :class:`sim.params.RCParams`)."""

    per_staff: float
    per_volunteer: float
    practice_productivity: float  # added share with a proven practice


class Capacities(NamedTuple):
    """Service capacity of the month per (municipality, domain) cell, and of each NGO."""

    total: np.ndarray
    ngo: np.ndarray
    state: np.ndarray
    ngo_each: np.ndarray
    ngo_cell: np.ndarray


class Services(Mechanism):
    """Capacity, rationing among the applicants, attribution and social orders (no draws of its own)."""

    name = "services"
    group = "org"

    def step(self) -> None:
        """Serve the families of this month."""
        st, cfg = self.state, self.cfg
        fam, op, fp, led = st.families, cfg.org, cfg.finance, st.ledger
        cluster = self.model.cluster
        m = st.n_muni
        slots = st.alive_slots()
        rates = tuple(ServiceRates(op.services_per_staff, op.services_per_volunteer, cfg.rc_model.practice_productivity))
        ngo_cap_each, ngo_cell, ngo_cap = ngo_service_capacity(
            slots, st.ngos(), self.model.rc.practice, st.orgs(), rates, m * N_DOMAINS
        )
        state_cap = st.state_cap
        cap = ngo_cap + state_cap + st.partnership_capacity.reshape(-1)
        self.model.mechanisms["family_transitions"].wait()  # the family passes started earlier in the step
        served_cell = fam.finish_month(cap, st.t, crisis=cluster.crisis_capacity(), routing=cluster.routing())
        st.counts["families_served"] = float(fam.n_served)
        # attribute services: providers share the served count of a cell by capacity; state institutions
        # are paid by the municipality
        caps = (cap, ngo_cap, state_cap, ngo_cap_each, ngo_cell)  # Capacities
        muni_balance = led.balance[st.muni0 : st.biz0]
        bill, pay = service_attribution(served_cell, caps, st.ngo_registered, slots, muni_balance, fp.unit_price)
        led.transfer("state_institutions", st.munis, st.ext["state_institutions"], pay)
        # social order: registered NGOs paid per service, within the annual budget
        total = float(bill.sum())
        if total > 0 and st.social_order_left > 0:
            factor = min(1.0, st.social_order_left / total, max(led.balance[st.region], 0.0) / total)
            paid = bill * factor
            led.transfer("social_order", st.region, st.ngo0 + slots, paid)
            led.transfer("reporting_cost", st.ngo0 + slots, st.ext["operating_costs"], paid * fp.reporting_burden)
            st.social_order_left -= float(paid.sum())
            st.ngo_income_month[slots] += paid


# ----------------------------------------------------------------- kernels
@njit(cache=True, nogil=True)
def ngo_service_capacity(
    slots: np.ndarray, ngos: NGOArrays, practice: np.ndarray, orgs: OrgArrays, rates: ServiceRates, n_cells: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Services per month each NGO can give, and their sum per (municipality, domain) cell.

    ``staff * per_staff * (1 + practice_productivity * has_practice) *
    capacity + volunteers * per_volunteer``.

    Returns:
        ``(capacity of each NGO, its cell, capacity per cell)``.
    """
    ngo0, domain, capacity, _, staff, volunteers, _, _, _, _, _, _, _, _ = ngos
    _, org_municipality, _, _ = orgs
    n_domains = N_DOMAINS
    per_staff, per_volunteer, practice_productivity = rates
    each = np.empty(slots.size)
    cell = np.empty(slots.size, np.int64)
    per_cell = np.zeros(n_cells)
    for k in range(slots.size):
        i = slots[k]
        staff_services = per_staff * (1.0 + practice_productivity * (1.0 if practice[i] else 0.0))
        each[k] = staff[i] * staff_services * capacity[i] + volunteers[i] * per_volunteer
        cell[k] = org_municipality[ngo0 + i] * n_domains + domain[i]
        per_cell[cell[k]] += each[k]
    return each, cell, per_cell


@njit(cache=True, nogil=True)
def service_attribution(
    served_cell: np.ndarray,
    caps: Capacities,
    registered: np.ndarray,
    slots: np.ndarray,
    muni_balance: np.ndarray,
    unit_price: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Share the families served in each cell among its providers in proportion to capacity, and price them.

    NGO ``slots[k]`` gave ``served * its share of the cell's capacity``
    services; state institutions the rest of their share, per municipality.

    Returns:
        ``(social-order bill of each NGO (registered ones only), what each municipality pays its state
        institutions (at most its positive balance ``muni_balance``))``.
    """
    cap, ngo_cap, state_cap, ngo_each, ngo_cell = caps
    n_domains = N_DOMAINS
    bill = np.empty(ngo_each.size)
    for k in range(ngo_each.size):
        c = ngo_cell[k]
        share = ngo_cap[c] / cap[c] if cap[c] > 0 else 0.0
        own = ngo_each[k] / ngo_cap[c] if ngo_cap[c] > 0 else 0.0
        bill[k] = served_cell[c] * share * own * (1.0 if registered[slots[k]] else 0.0) * unit_price
    n_muni = cap.size // n_domains
    pay = np.empty(n_muni)
    for m in range(n_muni):
        acc = 0.0
        for d in range(n_domains):
            c = m * n_domains + d
            x = served_cell[c] * (state_cap[c] / cap[c] if cap[c] > 0 else 0.0)
            acc = x if d == 0 else acc + x
        pay[m] = min(acc * unit_price, max(muni_balance[m], 0.0))
    return bill, pay

