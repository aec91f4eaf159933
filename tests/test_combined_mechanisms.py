"""Combined mechanisms (concept s.IV.3.2) and the specialised endowment fund (issue #12): community foundations with
named and family funds, NGO fairs, one capital serving several NGOs. Read off the flow ledger of short runs."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SEEDS, assert_increases, make_cfg

from sim.model import run_model
from sim.params import ConfigError, build_config

CF_ON = {"community_foundations.enabled": True}


def _flows(m):
    f = m.flows()
    return f.assign(channel=f["channel"].astype(str))


# ------------------------------------------------------------------ community foundations
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_community_foundation_grants_never_exceed_what_it_collected(seed):
    """Month by month the foundations' grants stay within the local donations (and family-fund income) received so
    far, and each territory's grants within its own collections; they do run competitions."""
    m = run_model(make_cfg(steps=36, seed=seed, **CF_ON))
    f = _flows(m)
    cf = m.ext["community_foundations"]
    into = f[(f["dst"] == cf)].groupby("step")["amount"].sum()
    out = f[(f["src"] == cf)].groupby("step")["amount"].sum()
    steps = np.arange(m.cfg.steps + 1)
    cum_in = into.reindex(steps, fill_value=0.0).cumsum().to_numpy()
    cum_out = out.reindex(steps, fill_value=0.0).cumsum().to_numpy()
    assert (cum_out <= cum_in + 1e-6).all()
    assert set(f.loc[f["src"] == cf, "channel"]) == {"cf_grant"}
    assert set(f.loc[f["dst"] == cf, "channel"]) <= {"cf_donation", "cf_fund_return"}
    mech = m.mechanisms["community_foundations"]
    assert (mech.granted <= mech.collected + 1e-6).all()
    assert mech.cash.sum() == pytest.approx(m.ledger.balance[cf], abs=1e-6)
    ts = m.timeseries()
    assert ts["cf_grants"].sum() >= 3 and ts["cf_grant_amount"].sum() == pytest.approx(f.loc[f["src"] == cf, "amount"].sum())
    # the grants go to NGOs, in the competition month only
    months = f.loc[f["channel"] == "cf_grant", "step"].unique()
    assert set((months - 1) % 12) == {m.cfg.community_foundations.competition_month - 1}


def test_switching_community_foundations_off_removes_their_grants_and_donations():
    for seed in (1, 2):
        f = _flows(run_model(make_cfg(steps=24, seed=seed)))
        assert not f["channel"].isin(["cf_grant", "cf_donation", "cf_family_fund", "cf_fund_return"]).any()


def test_without_local_donations_a_foundation_has_nothing_to_grant():
    """The grants come from the local donations: no citizens' or business gifts and no family funds -> no grants."""
    kw = {**CF_ON, "community_foundations.citizen_donations": 0.0, "community_foundations.business_share": 0.0,
          "community_foundations.family_fund_prob": 0.0}  # fmt: skip
    ts = run_model(make_cfg(steps=24, **kw)).timeseries()
    assert ts["cf_grants"].sum() == 0 and ts["cf_donations"].sum() == 0


def test_local_competition_funds_the_best_applicants_of_the_territory():
    """Without scoring noise and with every NGO applying, each foundation funds the most capable NGOs of its own
    territory (capacity as it stood when the competition ran, early in the month)."""
    from sim.model import CrossSectorModel

    m = CrossSectorModel(make_cfg(steps=9, **{**CF_ON, "community_foundations.score_noise": 0.0,
                                              "community_foundations.apply_prob": 1.0}))  # fmt: skip
    for _ in range(8):
        m.step()
    capacity, alive = m.ngo_capacity.copy(), np.flatnonzero(m.ngo_alive)
    m.step()  # month 9: the competition
    f = _flows(m)
    g = f[f["channel"] == "cf_grant"]
    assert len(g) > 0
    slots = g["dst"].to_numpy() - m.ngo0
    muni = m.org_municipality[g["dst"].to_numpy()]
    for k in np.unique(muni):
        won = slots[muni == k]
        pool = alive[m.org_municipality[m.ngo0 + alive] == k]
        assert set(won) <= set(pool)  # NGOs of its own territory only
        lost = np.setdiff1d(pool, won)
        if lost.size:
            assert capacity[won].min() >= capacity[lost].max()


def test_family_funds_are_inviolable_only_their_income_is_granted():
    """A family fund's capital never pays a grant: only market gains move from it to the grant money."""
    m = run_model(make_cfg(steps=36, **{**CF_ON, "community_foundations.family_fund_prob": 1.0}))
    f = _flows(m)
    fam = m.ext["cf_family_funds"]
    assert f.loc[f["dst"] == fam, "amount"].sum() > 0
    assert set(f.loc[f["src"] == fam, "dst"]) <= {m.ext["financial_market"]}  # only market losses leave it
    assert m.ledger.balance[fam] >= 0.0
    assert f.loc[(f["channel"] == "cf_fund_return") & (f["dst"] == m.ext["community_foundations"]), "amount"].sum() > 0


# ------------------------------------------------------------------ named funds
def test_named_funds_raise_business_gifts_to_the_foundation():
    """concept s.IV.3.2: the donor's name is an added motivation. With named funds a business's CSR budget grows by
    org.named_fund_motivation of its gift: business money given to the foundations rises over the seeds; with no
    named funds founded the motivation changes nothing."""
    kw = {**CF_ON, "community_foundations.named_fund_prob": 0.5}

    def biz_gifts(seed: int, motivation: float, **extra) -> float:
        m = run_model(make_cfg(steps=24, seed=seed, **{**kw, "org.named_fund_motivation": motivation, **extra}))
        f = _flows(m)
        biz = (f["src"] >= m.biz0) & (f["src"] < m.manager)
        return float(f.loc[(f["channel"] == "cf_donation") & biz, "amount"].sum())

    assert_increases([biz_gifts(s, 0.5) for s in SEEDS], [biz_gifts(s, 0.0) for s in SEEDS], "named-fund gifts")
    none = {"community_foundations.named_fund_prob": 0.0}
    assert biz_gifts(1, 0.5, **none) == biz_gifts(1, 0.0, **none)


# ------------------------------------------------------------------ fairs
def test_fairs_raise_donations_and_business_ties():
    """NGO fairs: over 8 seeds NGOs receive more in donations (citizens' gifts at the fair and business giving along
    the new ties) and hold more business ties than without fairs."""

    def run(seed: int, on: bool) -> tuple[float, float]:
        m = run_model(make_cfg(steps=24, seed=seed, **{"fairs.enabled": on}))
        f = _flows(m)
        don = f.loc[f["channel"].isin(["donation_business", "donation_citizens", "fair_donation"]), "amount"].sum()
        biz = np.arange(m.biz0, m.manager)
        ngos = m.ngo0 + np.flatnonzero(m.ngo_alive)
        k = m.trust.lookup(np.repeat(biz, ngos.size), np.tile(ngos, biz.size))
        return float(don), float(np.count_nonzero(k >= 0))

    on = [run(s, True) for s in SEEDS]
    off = [run(s, False) for s in SEEDS]
    assert_increases([o[0] for o in on], [o[0] for o in off], "donations with fairs")
    assert_increases([o[1] for o in on], [o[1] for o in off], "business-NGO ties with fairs")


def test_fairs_happen_only_in_their_months():
    m = run_model(make_cfg(steps=24, **{"fairs.enabled": True, "fairs.months": (3, 10)}))
    ts = m.timeseries()
    held = ts.loc[ts["fair_participants"] > 0, "step"].to_numpy()  # row `step` closes month index step-1
    assert held.size > 0 and set((held - 1) % 12 + 1) == {3, 10}


# ------------------------------------------------------------------ specialised endowment fund
SF = {"finance.specialised_fund": True, "finance.specialised_fund_donation_share": 0.5, "org.csr_share": (0.2, 0.2, 0.2)}


@pytest.mark.parametrize("rule", ["equal", "capacity"])
def test_specialised_fund_forms_at_the_minimum_and_shares_its_income_by_rule(rule):
    """One capital formed from business cash gifts (at least 3 mln before it earns); each December its payout is shared
    among finance.specialised_fund_ngos NGOs equally or in proportion to capacity."""
    from sim.model import CrossSectorModel

    m = CrossSectorModel(make_cfg(steps=48, **{**SF, "finance.specialised_fund_rule": rule, "finance.specialised_fund_ngos": 4}))
    mech, seen = m.mechanisms["endowments"], {}
    pay = mech.pay_beneficiaries

    def spy(channel, src, amount):  # the beneficiaries' capacity when the fund pays them
        seen[m.state.t + 1] = m.ngo_capacity.copy()
        pay(channel, src, amount)

    mech.pay_beneficiaries = spy
    for _ in range(m.cfg.steps):
        m.step()
    f = _flows(m)
    cap, res = m.ext["specialised_capital"], m.ext["specialised_reserve"]
    assert set(f.loc[f["dst"] == cap, "channel"]) == {"specialised_fund_donation"}
    assert set(f.loc[f["src"] == cap, "channel"]) <= {"specialised_fund_return", "specialised_fund_refund"}
    rets = f[(f["channel"] == "specialised_fund_return")]
    assert len(rets) > 0
    first = int(rets["step"].min())
    net = np.where(f["dst"] == cap, f["amount"], 0.0) - np.where(f["src"] == cap, f["amount"], 0.0)
    this_month = ((f["step"] == first) & (f["channel"] != "specialised_fund_return")).to_numpy()
    before = net[(f["step"] < first).to_numpy()].sum() + net[this_month].sum()
    assert before >= 3.0e6 - 1e-6
    pays = f[f["channel"] == "specialised_fund_payout"]
    assert len(pays) > 0
    for step, g in pays.groupby("step"):
        assert len(g) == 4 and g["src"].eq(res).all()
        a = g["amount"].to_numpy()
        if rule == "equal":
            np.testing.assert_allclose(a, a.mean(), rtol=1e-9)
        else:
            w = seen[int(step)][g["dst"].to_numpy() - m.ngo0]
            np.testing.assert_allclose(a / a.sum(), w / w.sum(), rtol=1e-6)
    assert m.ledger.balance[cap] >= 0 and m.ledger.balance[res] >= 0


def test_specialised_fund_off_by_default_moves_nothing():
    f = _flows(run_model(make_cfg(steps=24, **{"org.csr_share": (0.2, 0.2, 0.2)})))
    assert not f["channel"].str.startswith("specialised_fund").any()


def test_specialised_fund_short_of_the_minimum_goes_back_to_general_use():
    """Short of the minimum when its window closes, the gifts are paid to the beneficiaries, that month."""
    m = run_model(make_cfg(steps=30, **{**SF, "finance.endowment_min_capital": 1e12}))
    f = _flows(m)
    ref = f[f["channel"] == "specialised_fund_refund"]
    gifts = f[f["channel"] == "specialised_fund_donation"]
    assert len(ref) > 0 and (f["channel"] == "specialised_fund_return").sum() == 0
    first_gift = int(gifts["step"].min())
    assert int(ref["step"].min()) - first_gift == m.cfg.finance.endowment_formation_months


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    "data, fragment",
    [
        ({"finance": {"admin_cap_rule": "20pct"}}, "finance.admin_cap_rule='20pct' is not allowed: allowed values"),
        ({"finance": {"manager_expenses_income_cap": 0.05}}, "finance.manager_expenses_income_cap"),
        ({"finance": {"trust_income_cap_share": 0.2}}, "finance.trust_income_cap_share"),
        ({"finance": {"specialised_fund_rule": "lottery"}}, "finance.specialised_fund_rule"),
        ({"finance": {"specialised_fund_ngos": 0}}, "finance.specialised_fund_ngos"),
        ({"community_foundations": {"competition_month": 13}}, "community_foundations.competition_month"),
        ({"community_foundations": {"grant_size": 0.0}}, "community_foundations.grant_size"),
        ({"community_foundations": {"pot": 1}}, "unknown key 'community_foundations.pot'"),
        ({"fairs": {"months": [0]}}, "fairs.months[0]"),
        ({"fairs": {"tie_prob": 1.5}}, "fairs.tie_prob"),
        ({"org": {"named_fund_motivation": -0.1}}, "org.named_fund_motivation"),
    ],
)
def test_bad_values_of_the_new_parameters_give_one_line_errors(data, fragment):
    with pytest.raises(ConfigError) as e:
        build_config(data)
    assert fragment in str(e.value) and "\n" not in str(e.value)
