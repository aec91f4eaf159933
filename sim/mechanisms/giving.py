"""Giving: businesses donate to NGOs they trust; citizens donate by reputation.

Parameters: :class:`sim.params.OrgParams` (``cfg.org.citizen_donation_mean``),
:class:`sim.params.FinanceParams` (``cfg.finance``: endowment donations and
matching), :class:`sim.params.PartnershipParams`
(``cfg.partnership.business_money_share``, kept for partnerships).

A business gives the part of its cash it does not keep for partnerships to
the NGOs it has ties to, in proportion to trust above the institutional
prior (:func:`business_giving`); part of a gift to an NGO that intends an
endowment goes to its endowment capital, which the region matches
(:func:`endowment_gifts`, within what the social orders leave). Citizens
give each alive NGO in proportion to its reputation.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim import agents as ag
from sim.mechanisms.base import Mechanism
from sim.mechanisms.trust import Ties, edge_trust
from sim.state import Layout, NGOArrays, OrgArrays

BUSINESS_TO_NGO = 1 * 3 + 2  # trust pair cell: business sector -> ngo sector


class Giving(Mechanism):
    """Business and citizens' donations (stream-free)."""

    name = "giving"
    group = "org"

    def step(self) -> None:
        """One month of giving."""
        st, cfg = self.state, self.cfg
        op, fp, led, tr = cfg.org, cfg.finance, st.ledger, st.trust
        # a business keeps the share it will put into partnerships this month
        give = np.maximum(led.balance[st.biz0 : st.manager], 0.0) * (1.0 - cfg.partnership.business_money_share)
        if fp.specialised_fund and cfg.scenario.endowments:  # a share to the specialised endowment fund (cash)
            to_fund = give * fp.specialised_fund_donation_share
            led.transfer("specialised_fund_donation", st.biz_orgs, st.ext["specialised_capital"], to_fund)
            give = give - to_fund
        share = fp.endowment_donation_share if cfg.scenario.endowments else 0.0
        bsrc, bdst, cash_amt, e_amt = business_giving(
            tr.edges_in_cell(BUSINESS_TO_NGO), tr.ties(), st.orgs(), st.layout(), give, st.ngos(), share
        )
        if bsrc.size:
            slot = bdst - st.ngo0
            led.transfer("donation_business", bsrc, bdst, cash_amt)
            if e_amt.any():
                led.transfer("endowment_donation", bsrc, st.cap0 + slot, e_amt)
                match = endowment_gifts(
                    slot, e_amt, st.ngo_endow_state, st.ngo_endow_intent, st.ngo_endow_first, st.t,
                    fp.endowment_match,
                )  # fmt: skip
                room = max(led.balance[st.region] - st.social_order_left, 0.0)
                if match.sum() > room:  # the region matches within what the social orders leave
                    match *= room / match.sum()
                ms = np.flatnonzero(match > 0)  # (a policy option, off by default: finance.endowment_match)
                led.transfer("endowment_match", st.region, st.cap0 + ms, match[ms])
        # citizens give by reputation (mean incoming trust)
        alive_slots = st.alive_slots()
        rep = st.trust.reputation[st.ngo0 + alive_slots]
        amt = op.citizen_donation_mean * rep
        if cfg.scenario.endowments and fp.endowment_citizen_share > 0:  # part of it to a forming endowment's capital
            forming = st.ngo_endow_intent[alive_slots] & (st.ngo_endow_state[alive_slots] < 2)
            e_amt = np.where(forming, amt * fp.endowment_citizen_share, 0.0)
            to_cap = np.flatnonzero(e_amt > 0)
            led.transfer("endowment_donation", st.ext["citizens"], st.cap0 + alive_slots[to_cap], e_amt[to_cap])
            endowment_gifts(
                alive_slots[to_cap], e_amt[to_cap], st.ngo_endow_state, st.ngo_endow_intent, st.ngo_endow_first, st.t, 0.0
            )  # starts the formation window; no match for citizens' gifts
            amt = amt - e_amt
        led.transfer("donation_citizens", st.ext["citizens"], st.ngo0 + alive_slots, amt)
        st.ngo_income_month[alive_slots] += amt


# ----------------------------------------------------------------- kernels
@njit(cache=True, nogil=True)
def business_giving(
    candidates: np.ndarray, ties: Ties, orgs: OrgArrays, lay: Layout, give: np.ndarray, ngos: NGOArrays, endow_share: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Donations of businesses to the living NGOs they have ties with, in proportion to trust squared.

    A business whose ties all have zero trust gives nothing.

    ``candidates`` are the business-to-NGO edges (ascending); the active ones
    to a living NGO give. Business ``b`` gives ``give[b - biz0]`` in all; the
    part ``endow_share`` (0 without endowments) of a donation to an NGO
    forming an endowment goes to its endowment, the rest is added to the NGO's
    income of the month.

    Returns:
        ``(business, NGO, cash part, endowment part)`` per tie, in edge order.
    """
    src, dst, prior_cell, _, r, s, active, _, _, _, institutional, _, w, _ = ties
    sector, _, alive, _ = orgs
    _, _, biz0, _, _, _, _, _ = lay
    ngo0, _, _, _, _, _, _, _, endow_intent, endow_state, _, ngo_income, _, _ = ngos
    sel = np.empty(candidates.size, np.int64)
    m = 0
    for q in range(candidates.size):
        k = candidates[q]
        if active[k] and alive[dst[k]] and sector[src[k]] == ag.SEC_BUSINESS and sector[dst[k]] == ag.SEC_NGO:
            sel[m] = k
            m += 1
    inst_flat = institutional.reshape(-1)
    wt = np.empty(m)
    wsum = np.zeros(give.size)
    for q in range(m):
        t = edge_trust(sel[q], r, s, prior_cell, inst_flat, w)
        wt[q] = t * t
        wsum[src[sel[q]] - biz0] += wt[q]
    b_out = np.empty(m, np.int64)
    n_out = np.empty(m, np.int64)
    cash = np.empty(m)
    endow = np.empty(m)
    for q in range(m):
        b = src[sel[q]]
        o = dst[sel[q]]
        # a business whose every tie has zero trust gives nothing (no weight to share its budget by)
        amount = give[b - biz0] * wt[q] / wsum[b - biz0] if wsum[b - biz0] > 0.0 else 0.0
        slot = o - ngo0
        to_endow = endow_intent[slot] and endow_state[slot] < 2
        e = amount * (1.0 if to_endow else 0.0) * endow_share
        b_out[q] = b
        n_out[q] = o
        cash[q] = amount - e
        endow[q] = e
        ngo_income[slot] += cash[q]
    return b_out, n_out, cash, endow


@njit(cache=True, nogil=True)
def endowment_gifts(
    slot: np.ndarray,
    gift: np.ndarray,
    endow_state: np.ndarray,
    endow_intent: np.ndarray,
    endow_first: np.ndarray,
    now: int,
    match_rate: float,
) -> np.ndarray:
    """Matching asked for business gifts to endowments, and endowments that start forming.

    Gift ``k`` went to the endowment of NGO slot ``slot[k]``; gifts to
    endowments not yet formed (state < 2) are matched at ``match_rate``. An
    NGO that intends an endowment and receives its first gift starts forming
    one (state 1) this month.

    Returns:
        The match asked for, per NGO slot.
    """
    match = np.zeros(endow_state.size)
    for k in range(slot.size):
        match[slot[k]] += gift[k] * (1.0 if endow_state[slot[k]] < 2 else 0.0)
    for i in range(match.size):
        match[i] = match[i] * match_rate
    for k in range(slot.size):
        i = slot[k]
        if endow_intent[i] and endow_state[i] < 2 and gift[k] > 0 and endow_first[i] < 0:
            endow_first[i] = now
            endow_state[i] = 1
    return match

