"""Grant competitions: where the federal and regional grants are decided.

Parameters: :class:`sim.params.FinanceParams` (``cfg.finance``: ``grant_month``,
``grant_size``, ``grant_duration``, application probabilities, score weights,
``score_noise``, ``score_bias_tie``, ``effort_cost``),
:class:`sim.params.RegionParams` (grant budgets), :class:`sim.params.ScenarioParams`
(``grant_budget_scale``) and :class:`sim.params.RCParams` (``project_help``,
``score_help``: a resource centre's help).

In ``grant_month`` each alive NGO applies with a probability that is higher
for experienced NGOs and for those a resource centre supported within a
year. Applications are scored ``score_capacity * capacity + score_experience
* experienced + noise`` (+ the centre's help; the regional competition adds
``score_bias_tie`` times the region's trust in the NGO) and the best are
funded, in score order, as long as the budget lasts (the region's budget
after what the social orders still need). Each award pays the grant up front
and starts a competitive gov-NGO project (a partnership of
``grant_duration`` months).
"""

from __future__ import annotations

import numpy as np

from sim.mechanisms.base import Mechanism
from sim.mechanisms.formation import create_partnerships


class Grants(Mechanism):
    """The federal and regional competitions of ``grant_month`` (streams ``competition_<channel>``)."""

    name = "grants"
    group = "finance"

    def step(self) -> None:
        """Run the competitions in the grant month."""
        if self.state.t % 12 != self.cfg.finance.grant_month - 1:
            return
        rp, sc, st = self.cfg.region, self.cfg.scenario, self.state
        self.competition(
            "grant_federal", st.ext["federal_budget"], rp.federal_grant_budget * sc.grant_budget_scale, bias=False
        )
        self.competition("grant_regional", st.region, rp.regional_grant_budget * sc.grant_budget_scale, bias=True)

    def competition(self, channel: str, payer: int, budget: float, bias: bool) -> None:
        """One competition paid by account ``payer`` from ``budget`` (ledger channel ``channel``).

        Args:
            channel: ``grant_federal`` or ``grant_regional``.
            payer: Paying account.
            budget: Money of the competition, roubles.
            bias: Whether the payer's trust in an applicant adds to its score.
        """
        st, fp, led = self.state, self.cfg.finance, self.state.ledger
        rc = self.model.rc
        rng = self.model.streams[f"competition_{channel}"]
        slots = st.alive_slots()
        p_apply = np.where(st.ngo_experienced[slots], fp.apply_prob_experienced, fp.apply_prob_novice)
        helped = rc.last_supported[slots] > st.t - 12  # supported by a resource centre within a year
        p_apply = np.minimum(1.0, p_apply + self.cfg.rc_model.project_help * helped)
        u = rng.random(slots.size)
        noise = rng.normal(0.0, fp.score_noise, slots.size)
        apps = slots[u < p_apply]
        noise = noise[u < p_apply]
        st.counts["grant_applications"] += apps.size
        st.counts["grant_effort_cost"] += apps.size * fp.effort_cost
        st.ngo_applications[apps] += 1
        if apps.size == 0 or budget <= 0 or fp.grant_size <= 0:
            return
        if payer == st.region:
            budget = min(budget, max(led.balance[st.region] - st.social_order_left, 0.0))
        score = fp.score_capacity * st.ngo_capacity[apps] + fp.score_experience * st.ngo_experienced[apps] + noise
        score += self.cfg.rc_model.score_help * (rc.last_supported[apps] > st.t - 12)
        if bias and fp.score_bias_tie > 0:
            score += fp.score_bias_tie * st.trust.pair_trust(np.full(apps.size, st.region), st.ngo0 + apps)
        # resource centres apply in the same competition, on the same terms (issue #13; own stream)
        c_orgs, c_score, c_size = rc.applications(self.model.streams[f"rc_grants_{channel}"], budget)
        ids = np.concatenate([apps, -1 - np.arange(c_orgs.size)])  # -1 - i: the i-th centre
        size = np.concatenate([np.full(apps.size, fp.grant_size), c_size])
        ranked = np.argsort(-np.concatenate([score, c_score]), kind="stable")
        won = ranked[np.cumsum(size[ranked]) <= budget + 1e-6]
        won_ids = ids[won]
        c_won = -1 - won_ids[won_ids < 0]
        rc.award(channel, payer, c_orgs[c_won], c_size[c_won])
        winners = won_ids[won_ids >= 0]
        if winners.size == 0:
            return
        led.transfer(channel, payer, st.ngo0 + winners, fp.grant_size)
        st.ngo_income_month[winners] += fp.grant_size
        st.ngo_grants[winners] += 1
        st.counts["grants_awarded"] += winners.size
        orgs = st.ngo0 + winners
        members = np.stack([np.full(winners.size, st.region), np.full(winners.size, -1), orgs], axis=1)
        create_partnerships(
            st,
            members,
            st.org_municipality[orgs],
            st.ngo_domain[winners],
            np.full(winners.size, fp.grant_duration),
            1,
            np.full(winners.size, fp.grant_size / fp.grant_duration),
        )
