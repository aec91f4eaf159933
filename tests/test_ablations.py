"""Mechanism on vs off, everything else equal, paired over the fixed seeds (conftest.SEEDS).

Each test fails when its mechanism is removed or inverted: the "off" arm sets
the mechanism's switch or parameter to a neutral value, and the paired
difference over 8 seeds must be positive with 95% confidence
(:func:`conftest.assert_increases`).
"""

from __future__ import annotations

import numpy as np
from conftest import SEEDS, assert_increases, has_tie, make_cfg, over_seeds, pair_trust, reputation

from sim.model import CrossSectorModel, run_model


def _flow_dst(m, channel: str, step: int) -> np.ndarray:
    f = m.flows()
    f = f[(f["channel"].astype(str) == channel) & (f["step"] == step)]
    return f["dst"].to_numpy()


# ------------------------------------------------------------------ grants
def test_regional_grants_favour_ngos_the_region_trusts():
    """Tie bias (BRIEF s.3.3): regional winners are trusted by the region more than the average NGO; off = no bias."""

    def winners_trust_edge(seed: int, bias: float) -> float:
        cfg = make_cfg(steps=16, seed=seed, **{"finance.score_bias_tie": bias, "finance.score_capacity": 0.0,
                                              "finance.score_experience": 0.0, "finance.apply_prob_novice": 0.6})  # fmt: skip
        m = CrossSectorModel(cfg)
        for _ in range(15):  # last year's grants left the region ties to its grantees
            m.step()
        orgs = m.ngo0 + np.flatnonzero(m.ngo_alive)
        before = dict(zip(orgs.tolist(), pair_trust(m, np.full(orgs.size, m.region), orgs).tolist(), strict=True))
        m.step()  # the regional programme's April round of the second year
        won = _flow_dst(m, "grant_regional", 16)
        assert won.size > 0
        return float(np.mean([before[o] for o in won.tolist()]) - np.mean(list(before.values())))

    on = over_seeds(lambda s: winners_trust_edge(s, 1.0))
    off = over_seeds(lambda s: winners_trust_edge(s, 0.0))
    assert_increases(on, off, "regional winners' trust edge with the tie bias")


# --------------------------------------------------------------- requests
REQ = {"finance.request_prob": 0.5, "finance.subsidy_size": 1000.0, "finance.request_fulfil_base": 0.1}


def test_requests_are_fulfilled_more_often_the_more_the_municipality_trusts():
    def fulfilled_share(seed: int, w: float) -> float:
        ts = run_model(make_cfg(steps=12, seed=seed, **{**REQ, "finance.request_fulfil_trust": w})).timeseries()
        return float(ts["requests_fulfilled"].sum() / ts["requests"].sum())

    on = over_seeds(lambda s: fulfilled_share(s, 0.9))
    off = over_seeds(lambda s: fulfilled_share(s, 0.0))
    assert_increases(on, off, "share of requests fulfilled with trust counted")


def test_a_fulfilled_request_raises_the_ngos_trust_in_its_municipality():
    """A fulfilled request is kept-promise evidence (NGO -> municipality); unfulfilled ones give none."""
    kw = {**REQ, "finance.request_prob": 1.0, "finance.request_fulfil_base": 0.5, "finance.request_fulfil_trust": 0.0,
          "partnership.proposal_rate": 0.0, "org.turnover_municipal": 0.0, "org.turnover_ngo": 0.0}  # fmt: skip

    def deltas(seed: int) -> tuple[float, float]:
        m = CrossSectorModel(make_cfg(steps=1, seed=seed, **kw))
        orgs = m.ngo0 + np.flatnonzero(m.ngo_alive)
        munis = m.muni0 + m.org_municipality[orgs]
        tied = has_tie(m, orgs, munis)
        orgs, munis = orgs[tied], munis[tied]
        before = pair_trust(m, orgs, munis)
        m.step()
        d = pair_trust(m, orgs, munis) - before
        ok = m.ngo_requests_fulfilled[orgs - m.ngo0] > 0
        assert ok.sum() >= 3 and (~ok).sum() >= 3
        return float(d[ok].mean()), float(d[~ok].mean())

    pairs = [deltas(s) for s in SEEDS]
    assert_increases([p[0] for p in pairs], [p[1] for p in pairs], "trust gain of NGOs whose request was fulfilled")


# ------------------------------------------------------------- one window
ONE_WINDOW = {
    "cluster.enabled": True,
    "cluster.launch_month": 0,
    "cluster.launch_step_months": 0,  # the launch steps and the tiers all in month 0
    "cluster.tier_months": (0, 0, 0),
    "cluster.local_coalitions": 0.0,
    "cluster.strategic_agreements": 0,
    "cluster.sessions": [],
    "cluster.crisis_centre": False,
    "cluster.routing": False,
    "cluster.trust_programme": 0.0,
    "cluster.quality_control": 0.0,
    "cluster.cost": 0.0,
    "region.state_institution_capacity": 200.0,  # capacity does not ration: uptake shows
}


def test_hotline_makes_more_families_aware():
    def aware(seed: int, hotline: bool) -> float:
        cfg = make_cfg(steps=12, seed=seed, **{**ONE_WINDOW, "cluster.online_consultation": False, "cluster.hotline": hotline})
        return float(run_model(cfg).timeseries()["aware_share"].iloc[-1])

    assert_increases(over_seeds(lambda s: aware(s, True)), over_seeds(lambda s: aware(s, False)), "awareness with the hotline")


def test_online_consultation_makes_more_aware_families_apply_and_be_served():
    def served(seed: int, consult: bool) -> float:
        cfg = make_cfg(steps=12, seed=seed, **{**ONE_WINDOW, "cluster.hotline": True, "cluster.online_consultation": consult})
        return float(run_model(cfg).timeseries()["families_served"].sum())

    on, off = over_seeds(lambda s: served(s, True)), over_seeds(lambda s: served(s, False))
    assert_increases(on, off, "families served with online consultation")


# ----------------------------------------------------------------- giving
def test_citizens_give_more_to_ngos_with_a_better_reputation():
    """Citizens' donations follow reputation (mean incoming trust): better-reputed NGOs get more, over seeds."""

    def top_minus_bottom(seed: int) -> float:
        m = CrossSectorModel(make_cfg(steps=1, seed=seed))
        orgs = m.ngo0 + np.flatnonzero(m.ngo_alive)
        rep = reputation(m, orgs)
        m.step()
        f = m.flows()
        f = f[(f["channel"].astype(str) == "donation_citizens") & (f["step"] == 1)]
        got = f.groupby("dst")["amount"].sum().reindex(orgs, fill_value=0.0).to_numpy()
        hi = rep >= np.median(rep)
        return float(got[hi].mean() - got[~hi].mean())

    assert_increases(over_seeds(top_minus_bottom), [0.0] * len(SEEDS), "citizens' donations to better-reputed NGOs")
