"""Community foundations: local donations, local grant competitions, named and family funds.

Parameters: :class:`sim.params.CommunityFoundationParams` (``cfg.community_foundations``)
and ``cfg.org.named_fund_motivation`` (:class:`sim.params.OrgParams`).

The concept (s.IV.3.2, "Комплексные или комбинированные механизмы") describes a
community foundation (фонд местного сообщества) as a charitable fund working on
one territory that raises private donations (of citizens and local business) and
corporate gifts, manages them "including financial instruments to grow capital",
and gives the money as **grants to local NGOs in competitions**. Its tools include
**named funds** (именной фонд: the donor's name stays on the programme, "an added
motivation that draws business and the authorities into long co-operation") and
**family funds** (фамильный фонд: a founder's personal money forms an inviolable
capital of which only the income goes to charity).

In the model each municipality has one foundation (``enabled``). Every month
citizens give it ``citizen_donations`` and each local business gives it
``business_share`` of its giving budget (before the rest goes to NGOs directly,
:mod:`sim.mechanisms.giving`). In January some businesses found a named fund
(``named_fund_prob``): a business with one raises its CSR budget by
``org.named_fund_motivation`` times its gift to the foundation (the named fund is
the added motivation; the extra is new CSR money from its profit). Also in
January a foundation may receive a family fund (``family_fund_prob``,
``family_fund_size``): its capital is never spent; it earns the market return
(own draw, the endowment return parameters) and only a positive return is added
to the foundation's grant money. In ``competition_month`` each foundation runs a
local competition: living NGOs of its territory apply (``apply_prob``), are scored
on capacity plus noise (``score_noise``) and the best are funded ``grant_size``
each until the foundation's money is used up, so its grants never exceed what it
collected. Money: ledger accounts ``community_foundations`` (the foundations'
cash; :attr:`CommunityFoundations.cash` splits it by territory) and
``cf_family_funds`` (family capital; :attr:`CommunityFoundations.family`), both
never overdrawn; stream ``community_foundations``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.mechanisms.base import Mechanism
from sim.mechanisms.endowments import market_return

if TYPE_CHECKING:
    from sim.model import CrossSectorModel


class CommunityFoundations(Mechanism):
    """One month of the municipalities' community foundations (stream ``community_foundations``)."""

    name = "community_foundations"
    group = "community_foundations"

    def __init__(self, model: CrossSectorModel) -> None:
        super().__init__(model)
        st = self.state
        self.cash = np.zeros(st.n_muni)
        """Each territory's share of the foundations' cash (sums to the ``community_foundations`` account)."""
        self.family = np.zeros(st.n_muni)
        """Each territory's family-fund capital (sums to the ``cf_family_funds`` account)."""
        self.named = np.zeros(st.biz_orgs.size, bool)
        """Businesses that hold a named fund in their municipality's foundation."""
        self.collected = np.zeros(st.n_muni)
        """Money each foundation has received so far (donations and family-fund income)."""
        self.granted = np.zeros(st.n_muni)
        """Money each foundation has given in grants so far."""

    def step(self) -> None:
        """Named and family funds in January, local donations every month, the competition once a year."""
        p = self.cfg.community_foundations
        if not p.enabled:
            return
        st = self.state
        rng = self.model.streams["community_foundations"]
        if st.t % 12 == 0:
            self.found_funds(rng)
        self.family_income(rng)
        self.donations()
        if st.t % 12 == p.competition_month - 1:
            self.competition(rng)

    def found_funds(self, rng: np.random.Generator) -> None:
        """January: businesses found named funds; founders put family funds into the foundations."""
        st, p = self.state, self.cfg.community_foundations
        new = ~self.named & (rng.random(self.named.size) < p.named_fund_prob)
        self.named |= new
        st.counts["cf_named_funds_founded"] += int(new.sum())
        fam = np.flatnonzero(rng.random(st.n_muni) < p.family_fund_prob)
        if fam.size and p.family_fund_size > 0:
            amount = np.full(fam.size, p.family_fund_size)
            st.ledger.transfer("cf_family_fund", st.ext["citizens"], st.ext["cf_family_funds"], amount)
            self.family[fam] += p.family_fund_size

    def family_income(self, rng: np.random.Generator) -> None:
        """The family funds' market return: a gain goes to the grant money, a loss reduces the capital (never below 0)."""
        st = self.state
        if not self.family.any():
            return
        r = market_return(self.cfg.finance, rng)
        led = st.ledger
        if r >= 0:
            gain = self.family * r
            led.transfer("cf_fund_return", st.ext["financial_market"], st.ext["community_foundations"], float(gain.sum()))
            self.cash += gain
            self.collected += gain
        else:
            loss = np.minimum(self.family * -r, self.family)
            led.transfer("cf_fund_return", st.ext["cf_family_funds"], st.ext["financial_market"], float(loss.sum()))
            self.family -= loss

    def donations(self) -> None:
        """Citizens' and local business's gifts of the month; a named fund raises its business's CSR budget."""
        st, cfg = self.state, self.cfg
        p, led = cfg.community_foundations, st.ledger
        cf = st.ext["community_foundations"]
        citizens = np.full(st.n_muni, p.citizen_donations)
        led.transfer("cf_donation", st.ext["citizens"], np.full(st.n_muni, cf), citizens)
        biz = st.biz_orgs
        gift = np.maximum(led.balance[biz], 0.0) * (1.0 - cfg.partnership.business_money_share) * p.business_share
        extra = np.where(self.named, cfg.org.named_fund_motivation * gift, 0.0)
        led.transfer("business_profit", st.ext["business_market"], biz[self.named], extra[self.named])
        gift = gift + extra
        led.transfer("cf_donation", biz, np.full(biz.size, cf), gift)
        muni = st.org_municipality[biz]
        got = citizens + np.bincount(muni, weights=gift, minlength=st.n_muni)
        self.cash += got
        self.collected += got
        st.counts["cf_donations"] += float(got.sum())
        st.counts["cf_named_fund_gifts"] += float(gift[self.named].sum())

    def competition(self, rng: np.random.Generator) -> None:
        """Each foundation's local grant competition among the living NGOs of its territory."""
        st, p = self.state, self.cfg.community_foundations
        slots = st.alive_slots()
        apply = slots[rng.random(slots.size) < p.apply_prob]
        score = st.ngo_capacity[apply] + rng.normal(0.0, p.score_noise, apply.size)
        muni = st.org_municipality[st.ngo0 + apply]
        order = np.lexsort((-score, muni))
        winners, amounts = [], []
        left = self.cash.copy()
        for i in order.tolist():
            m = int(muni[i])
            if left[m] <= 1e-9:
                continue
            a = min(p.grant_size, left[m])
            left[m] -= a
            winners.append(int(apply[i]))
            amounts.append(a)
        st.counts["cf_applications"] += apply.size
        if not winners:
            return
        w, a = np.array(winners, np.int64), np.array(amounts)
        st.ledger.transfer("cf_grant", st.ext["community_foundations"], st.ngo0 + w, a)
        st.ngo_income_month[w] += a
        spent = self.cash - np.maximum(left, 0.0)
        self.granted += spent
        self.cash = np.maximum(left, 0.0)
        st.counts["cf_grants"] += w.size
        st.counts["cf_grant_amount"] += float(a.sum())
