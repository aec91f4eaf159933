"""Recording: month-end bookkeeping, the time series and the conservation check.

Parameters: :class:`sim.params.OutputParams` (``cfg.output.check_conservation``)
and :class:`sim.params.FamilyParams` (``reach_window``).

At the end of each month (and once for the initial state) NGOs' months of
contact with their municipality and their income moments are updated
(:func:`ngo_month_end`), the cumulative per-NGO and per-municipality
counters are copied into ``history``, one row of :data:`METRICS` is written
and the ledger is checked to balance and closed for the month.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from sim.ledger import CHANNELS
from sim.mechanisms.base import Mechanism
from sim.mechanisms.cluster import CLUSTER_METRICS
from sim.mechanisms.mentoring import MENTORING_METRICS
from sim.mechanisms.resource_centres import RC_INDICATORS
from sim.mechanisms.trust import TRUST_SECTOR_NAMES
from sim.params import FAMILY_STATES
from sim.partnerships import FORMS
from sim.state import COMBINED_COUNTERS, FUND_ACCOUNTS, NGOArrays

if TYPE_CHECKING:
    from sim.model import CrossSectorModel




def _metric_names() -> list[str]:
    names = [
        "step",
        "year",
        "month",
        "wellbeing_mean",
        *(f"share_{s}" for s in FAMILY_STATES),
        "families_served",
        "reached_in_difficulty",
        "aware_share",
        "ngos_alive",
        "ngo_births",
        "ngo_deaths",
        "ngos_registered",
        "ngos_experienced",
        "ngo_capacity_mean",
        "ngo_cash_total",
        *(f"partnerships_{f}" for f in FORMS),
        "partnerships_formed",
        "partnerships_dissolved",
        "partnership_services",
        *(f"trust_{a}_{b}" for a in TRUST_SECTOR_NAMES for b in TRUST_SECTOR_NAMES),
        "ties_active",
        "ties_lost_turnover",
        "ties_formed",
        "grant_applications",
        "grants_awarded",
        "grant_effort_cost",
        "requests",
        "requests_fulfilled",
        "gov_refusals_budget",
        "proposals_refused_budget",
        "requests_refused_budget",
        "gov_commitments_cut",
        "gov_payments_late",
        "gov_committed",
        "gov_commitment_excess",
        "budget_unspent",
        "endowments_formed",
        "endowment_capital",
        "endowment_market_value",
        "rc_supported",
        "rc_public_development_centres",
        "rc_stage_mean",
        *RC_INDICATORS,
        "ngos_with_practice",
        "cluster_members",
        "cluster_coalitions",
        "families_served_crisis_centre",
        "council_seats",
        "tech_adopted",
        "tech_implementers",
        "tech_municipalities",
        "house_members",
        "centre_services",
        *COMBINED_COUNTERS,
        *(f"balance_{k}" for k in FUND_ACCOUNTS),
        *CLUSTER_METRICS,
        *MENTORING_METRICS,
        *(f"flow_{c}" for c in CHANNELS),
        "ledger_imbalance",
    ]
    return names


METRICS: tuple[str, ...] = tuple(_metric_names())
"""Columns of the time series, in the order :class:`Recording` writes them."""

HISTORY: tuple[str, ...] = (
    "ngo_requests",
    "ngo_requests_fulfilled",
    "ngo_grants",
    "ngo_applications",
    "ngo_contacts",
    "muni_requests",
    "muni_requests_fulfilled",
    "ngo_requests_handled",
    "muni_requests_handled",
    "ngo_bureaucracy",
    "ngo_applied",
)
"""Cumulative state counters copied into ``history`` every month (for counts over a window)."""


class Recording(Mechanism):
    """Writes one row of :data:`METRICS` per month into ``records``."""

    name = "recording"
    group = "output"

    def __init__(self, model: CrossSectorModel) -> None:
        super().__init__(model)
        self.records = np.full((self.cfg.steps + 1, len(METRICS)), np.nan)
        self.history: dict[str, list[np.ndarray]] = {k: [] for k in HISTORY}
        self.n_records = 0

    def step(self) -> None:
        """Month-end bookkeeping and one row of the time series."""
        st, mdl = self.state, self.model
        rc, cluster = mdl.rc, mdl.cluster
        commitments = mdl.mechanisms["commitments"]
        alive = st.ngo_alive
        moments = (st.ngo_contacts, st.ngo_income_sum, st.ngo_income_sq, st.ngo_income_months)
        n_alive, n_registered, n_experienced, n_practice, n_formed = ngo_month_end(
            alive, st.ngos(), moments, st.t >= 0, rc.practice
        )  # (income of the month, for the income-stability outcome)
        for name in HISTORY:
            self.history[name].append(getattr(st, name).copy())
        fam = st.families
        led = st.ledger
        row = self.records[self.n_records]
        c = st.counts
        t = st.t + 1  # months completed
        formed = st.ngo_endow_state == 2
        cap = led.balance[st.cap0 : st.cap0 + st.n_ngo_slots]
        res = led.balance[st.res0 : st.res0 + st.n_ngo_slots]
        head = [
            t,
            t // 12,
            t % 12,
            fam.wellbeing_mean(),
            *(fam.counts / fam.n).tolist(),
            float(c["families_served"]),
            fam.reached_share(st.t, self.cfg.families.reach_window),
            fam.n_aware / fam.n,
            n_alive,
            c["ngo_births"],
            c["ngo_deaths"],
            n_registered,
            n_experienced,
            float(st.ngo_capacity[alive].mean()) if n_alive else 0.0,
            float(led.balance[st.ngo0 : st.ngo0 + st.n_ngo_slots][alive].sum()),
            *st.partnerships.count_active_by_form().tolist(),
            c["partnerships_formed"],
            c["partnerships_dissolved"],
            c["partnership_services"],
            *st.trust.pair_means.reshape(-1).tolist(),
            st.trust.active_count(),
            c["ties_lost_turnover"],
            c["ties_formed"],
            c["grant_applications"],
            c["grants_awarded"],
            c["grant_effort_cost"],
            c["requests"],
            c["requests_fulfilled"],
            c["gov_refusals_budget"],
            c["proposals_refused_budget"],
            c["requests_refused_budget"],
            c["gov_commitments_cut"],
            c["gov_payments_late"],
            float(commitments.committed(st.t + 1).sum()),
            float(commitments.excess().max()) if st.n_muni else 0.0,
            c["budget_unspent"],
            n_formed,
            float(cap[formed].sum()),
            float((cap + res)[formed].sum()),
            rc.n_supported,
            int(np.count_nonzero(rc.pdc)) if rc.active else 0,
            float(rc.stage.mean()) if rc.active else 0.0,
            *rc.indicators(),
            n_practice,
            int(np.count_nonzero(cluster.member)),
            cluster.coalitions,
            fam.n_crisis,
            *self._partnership_mechanisms(),
            *(c[k] for k in COMBINED_COUNTERS),
            *(float(led.balance[st.ext[k]]) for k in FUND_ACCOUNTS),
            *cluster.metric_values(),
            *mdl.mentoring.metric_values(),
        ]
        nh = len(head)
        row[:nh] = head
        row[nh : nh + len(CHANNELS)] = led.step_by_channel
        row[nh + len(CHANNELS)] = led.check() if self.cfg.output.check_conservation else np.nan
        led.close_step(t)
        self.n_records += 1


    def _partnership_mechanisms(self) -> list[float]:
        """Councils, socio-technological and organisational-structural mechanisms (concept IV.3.2)."""
        st, mechs = self.state, self.model.mechanisms
        tech, ost = mechs["socio_technological"], mechs["organisational_structural"]
        return [
            float(np.count_nonzero(st.ngo_council & st.ngo_alive)),
            float(tech.n_adopted),
            float(tech.implementers().size),
            float(tech.covered.sum()),
            float(np.count_nonzero(ost.member & st.ngo_alive)),
            ost.centre_services,
        ]


# ----------------------------------------------------------------- kernels
@njit(cache=True, nogil=True)
def ngo_month_end(
    alive: np.ndarray, ngos: NGOArrays, moments: tuple, accumulate_income: bool, practice: np.ndarray
) -> tuple[int, int, int, int, int]:
    """Month-end NGO bookkeeping: months with contact, income moments of alive NGOs, and counts.

    Returns:
        ``(alive, registered, experienced, using a practice, with a formed endowment)``.
    """
    _, _, _, experienced, _, _, _, registered, _, endow_state, _, income, _, contact = ngos
    contacts, income_sum, income_sq, income_months = moments
    n_alive = n_reg = n_exp = n_prac = n_formed = 0
    for i in range(alive.size):
        contacts[i] += contact[i]
        contact[i] = False
        n_formed += endow_state[i] == 2
        if alive[i]:
            if accumulate_income:
                income_sum[i] += income[i]
                income_sq[i] += income[i] * income[i]
                income_months[i] += 1
            n_alive += 1
            n_reg += registered[i]
            n_exp += experienced[i]
            n_prac += practice[i]
    return n_alive, n_reg, n_exp, n_prac, n_formed

