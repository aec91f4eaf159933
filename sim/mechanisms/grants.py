"""Grant competitions: named funds, each with its own calendar, budget, award sizes and project lengths.

Parameters: :class:`sim.params.FinanceParams` (``cfg.finance``: ``funds``, a
list of :class:`sim.params.FundParams`; application probabilities, score
weights, ``score_noise``, ``score_bias_tie``, ``effort_cost``, ``lottery``,
``lottery_bar``), :class:`sim.params.RegionParams` (grant budgets),
:class:`sim.params.ScenarioParams` (``grant_budget_scale``) and
:class:`sim.params.RCParams` (``project_help``, ``score_help``: a resource
centre's help).

A fund runs a competition in each of its ``months``. Its annual budget is its
``budget_share`` of the payer's grant money (the federal or the regional grant
budget, or the businesses' annual CSR budget: the corporate fund, which the
businesses endow from profit in proportion to their CSR and which the business
with the largest CSR leads), split equally over its competitions. In a competition each
alive NGO applies with a probability that is higher for experienced NGOs,
times its own lifelong propensity to compete (``apply_propensity_shape`` k > 0:
a Gamma(k, 1/k) multiplier with mean 1, drawn once per NGO on the stream
``apply_propensity``; 0, the default: all NGOs alike), plus a resource
centre's ``project_help`` for those it supported within a year. Applications are scored
``score_capacity * capacity + score_experience * experienced + noise`` (+ the
centre's help; a fund with ``tie_bias`` adds ``score_bias_tie`` times the
payer's trust in the NGO). Without the lottery the best are funded in score
order; with ``finance.lottery`` the best ``lottery_bar`` share passes the
quality bar and is funded in a random order (Gross & Bergstrom 2019). Awards
are drawn from the fund's ``grant_size`` range and funded while the budget
lasts (the region's: after what the social orders still need). Each award is paid up front and starts a competitive
project of a length drawn from the fund's ``duration`` range (gov-NGO with the
region for a state fund; business-NGO with the company for the corporate fund,
which then takes part as any business member). Funds
with different calendars and project lengths overlap, so active projects do
not all end in one month.
"""

from __future__ import annotations

import numpy as np

from sim.mechanisms.base import Mechanism
from sim.mechanisms.formation import create_partnerships
from sim.params import FundParams

CHANNEL = {"federal": "grant_federal", "regional": "grant_regional", "business": "grant_corporate"}
"""Ledger channel of a fund's awards by payer."""


def award_order(score: np.ndarray, lottery: bool, bar: float, u: np.ndarray) -> np.ndarray:
    """Positions of the applicants in the order they are funded.

    Without the lottery: best score first (ties in application order).
    With it: the best ``ceil(bar * n)`` applicants pass the quality bar and
    are funded in the random order of ``u``; the others are not funded.
    """
    order = np.argsort(-score, kind="stable")
    if not lottery:
        return order
    n_pass = int(np.ceil(bar * score.size))
    passed = order[:n_pass]
    return passed[np.argsort(u[passed], kind="stable")]


class Grants(Mechanism):
    """The funds' competitions in their months (stream ``competition_<fund name>``)."""

    name = "grants"
    group = "finance"

    def step(self) -> None:
        """Run the competitions of this month, in the order the funds are listed."""
        month = self.state.t % 12 + 1
        for fund in self.cfg.finance.funds:
            if month in fund.months:
                payer, budget = self.fund_budget(fund)
                if payer >= 0:
                    self.competition(fund, payer, budget)

    def fund_budget(self, fund: FundParams) -> tuple[int, float]:
        """Paying account of ``fund`` and the money of one of its competitions (account -1: no payer)."""
        st, rp, sc = self.state, self.cfg.region, self.cfg.scenario
        per = fund.budget_share / len(fund.months)
        if fund.payer == "federal":
            return st.ext["federal_budget"], rp.federal_grant_budget * sc.grant_budget_scale * per
        if fund.payer == "regional":
            return st.region, rp.regional_grant_budget * sc.grant_budget_scale * per
        if st.biz_orgs.size == 0 or st.csr_month.sum() <= 0:
            return -1, 0.0
        lead = int(st.biz_orgs[int(np.argmax(st.csr_month))])  # the business with the largest CSR leads the fund
        return lead, float(st.csr_month.sum()) * 12 * per

    def competition(self, fund: FundParams, payer: int, budget: float) -> None:
        """One competition of ``fund`` paid by account ``payer`` from ``budget`` roubles.

        Args:
            fund: The fund.
            payer: Paying account.
            budget: Money of the competition, roubles.
        """
        st, fp, led = self.state, self.cfg.finance, self.state.ledger
        rc = self.model.rc
        rng = self.model.streams[f"competition_{fund.name}"]
        slots = st.alive_slots()
        p_apply = np.where(st.ngo_experienced[slots], fp.apply_prob_experienced, fp.apply_prob_novice)
        p_apply = np.minimum(1.0, p_apply * self.propensity(slots))
        helped = rc.last_supported[slots] > st.t - 12  # supported by a resource centre within a year
        p_apply = np.minimum(1.0, p_apply + self.cfg.rc_model.project_help * helped)
        u = rng.random(slots.size)
        noise = rng.normal(0.0, fp.score_noise, slots.size)
        draw = rng.random(slots.size)  # the lottery's order
        apps = slots[u < p_apply]
        noise, draw = noise[u < p_apply], draw[u < p_apply]
        st.counts["grant_applications"] += apps.size
        st.counts["grant_effort_cost"] += apps.size * fp.effort_cost
        st.ngo_applications[apps] += 1
        if payer == st.region:
            budget = min(budget, max(led.balance[st.region] - st.social_order_left, 0.0))
        if apps.size == 0 or budget <= 0:
            return
        score = fp.score_capacity * st.ngo_capacity[apps] + fp.score_experience * st.ngo_experienced[apps] + noise
        score += self.cfg.rc_model.score_help * (rc.last_supported[apps] > st.t - 12)
        if fund.tie_bias and fp.score_bias_tie > 0 and payer != st.ext["federal_budget"]:
            score += fp.score_bias_tie * st.trust.pair_trust(np.full(apps.size, payer), st.ngo0 + apps)
        lo, hi = fund.grant_size
        size = lo + (hi - lo) * rng.random(apps.size)
        ids, c_orgs, c_size = apps, np.zeros(0, np.int64), np.zeros(0)
        if fund.payer != "business":  # resource centres apply to the state funds on the same terms (issue #13; own stream)
            c_rng = self.model.streams[f"rc_grants_{fund.name}"]
            c_orgs, c_score, c_size = rc.applications(c_rng, budget)
            if c_orgs.size:
                ids = np.concatenate([apps, -1 - np.arange(c_orgs.size)])  # -1 - i: the i-th centre
                score = np.concatenate([score, c_score])
                size = np.concatenate([size, c_size])
                draw = np.concatenate([draw, c_rng.random(c_orgs.size)])
        order = award_order(score, fp.lottery, fp.lottery_bar, draw)
        n_awards = int(np.searchsorted(np.cumsum(size[order]), budget, side="right"))  # funded while the budget lasts
        won = order[:n_awards]
        won_ids = ids[won]
        c_won = -1 - won_ids[won_ids < 0]
        rc.award(fund.name, payer, c_orgs[c_won], c_size[c_won])
        winners, size = won_ids[won_ids >= 0], size[won][won_ids >= 0]
        if winners.size == 0:
            return
        d_lo, d_hi = fund.duration
        duration = rng.integers(d_lo, d_hi + 1, winners.size)
        if fund.payer == "business":
            self.pay_corporate(winners, size)
        else:
            led.transfer(CHANNEL[fund.payer], payer, st.ngo0 + winners, size)
        st.ngo_income_month[winners] += size
        st.ngo_grants[winners] += 1
        st.counts["grants_awarded"] += winners.size
        orgs = st.ngo0 + winners
        # a state fund's project is a gov-NGO partnership with the region; a corporate one a business-NGO one
        corporate = fund.payer == "business"
        gov, biz = (-1, payer) if corporate else (st.region, -1)
        members = np.stack([np.full(winners.size, gov), np.full(winners.size, biz), orgs], axis=1)
        create_partnerships(
            st, members, st.org_municipality[orgs], st.ngo_domain[winners], duration, 1, size / duration
        )

    def propensity(self, slots: np.ndarray) -> np.ndarray | float:
        """Each NGO's lifelong multiplier of its probability of applying (:meth:`lifelong_multiplier`)."""
        return self.lifelong_multiplier(self.state.ngo_apply_propensity, slots,
                                        self.cfg.finance.apply_propensity_shape, "apply_propensity")  # fmt: skip

    def pay_corporate(self, winners: np.ndarray, size: np.ndarray) -> None:
        """The businesses endow the corporate fund from profit, each in proportion to its CSR budget, and it pays the awards."""
        st, led = self.state, self.state.ledger
        share = st.csr_month / st.csr_month.sum()
        give = share[:, None] * size[None, :]  # (business, award)
        led.transfer("business_profit", st.ext["business_market"], st.biz_orgs, give.sum(axis=1))
        src = np.repeat(st.biz_orgs, winners.size)
        dst = np.tile(st.ngo0 + winners, st.biz_orgs.size)
        led.transfer("grant_corporate", src, dst, give.reshape(-1))
