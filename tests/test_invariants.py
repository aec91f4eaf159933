"""Money adds up; populations add up."""

import numpy as np
import pytest
from conftest import make_cfg

from sim.ledger import CHANNELS
from sim.model import CrossSectorModel, run_model
from sim.state import FUND_ACCOUNTS


@pytest.fixture(scope="module")
def model():
    return run_model(make_cfg(steps=36, **{"finance.endowment_share": 0.5, "org.csr_share": (0.2, 0.2, 0.2)}))


def test_ledger_balances_every_step(model):
    ts = model.timeseries()
    assert ts["ledger_imbalance"].notna().all()
    assert (ts["ledger_imbalance"] < 1e-3).all()
    assert abs(model.ledger.balance.sum()) < 1e-3


def test_flow_record_reproduces_every_balance(model):
    f = model.flows()
    n = model.ledger.balance.size
    net = np.bincount(f["dst"], weights=f["amount"], minlength=n) - np.bincount(f["src"], weights=f["amount"], minlength=n)
    np.testing.assert_allclose(net, model.ledger.balance, atol=1e-4)


MG, RG, BIZ, NGO, RC = "municipal_government", "regional_government", "business", "ngo", "resource_centre"
CAP, RES = "endowment_capital", "endowment_reserve"
MC = "management_company"
SF_CAP, SF_RES, CF, CF_FAM = FUND_ACCOUNTS
ROUTES: dict[str, set[tuple[str, str]]] = {
    "opening_balance": {("citizens", NGO), ("citizens", CAP)},
    "budget_regional": {("regional_treasury", RG), (RG, "regional_treasury")},
    "budget_municipal": {("municipal_treasury", MG), (MG, "municipal_treasury")},
    "business_profit": {("business_market", BIZ)},  # also the named-fund CSR top-up
    "grant_regional": {(RG, NGO)},
    "grant_federal": {("federal_budget", NGO)},
    "grant_corporate": {(BIZ, NGO)},
    "social_order": {(RG, NGO)},
    "reporting_cost": {(NGO, "operating_costs")},
    "subsidy": {(MG, NGO)},
    "partnership_gov": {(MG, NGO), (MG, MG)},  # gov-business: the municipality runs the project itself
    "partnership_business": {(BIZ, NGO), (BIZ, MG)},
    "donation_business": {(BIZ, NGO)},
    "donation_citizens": {("citizens", NGO)},
    "founder_contribution": {("citizens", NGO)},
    "endowment_donation": {(BIZ, CAP), (RG, CAP), ("citizens", CAP)},  # (RG, CAP): the cluster's regional seed, an option
    "endowment_match": {(RG, CAP)},
    "endowment_return": {("financial_market", RES), (RES, "financial_market"), (CAP, "financial_market")},
    "endowment_refund": {(CAP, NGO)},
    "endowment_fee": {(RES, MC), (SF_RES, MC)},
    "endowment_payout": {(RES, NGO)},
    "endowment_admin": {(RES, "operating_costs"), (SF_RES, "operating_costs")},
    "state_institutions": {(MG, "state_institutions")},
    "rc_funding": {(MG, RC)},
    "rc_grant": {(RG, RC), ("federal_budget", RC)},
    "rc_costs": {(RC, "operating_costs")},
    "rc_programme": {(MG, RC), (RC, NGO)},
    "cluster_funding": {(RG, NGO)},
    "one_window": {(RG, NGO)},
    "one_window_costs": {(NGO, "operating_costs")},
    "ngo_costs": {(NGO, "operating_costs")},
    "liquidation": {(k, "liquidation") for k in (NGO, CAP, RES)} | {("liquidation", k) for k in (NGO, CAP, RES)},
    "technology_funding": {("regional_treasury", NGO)},
    "house_funding": {("regional_treasury", "ngo_house")},
    "house_costs": {("ngo_house", "operating_costs")},
    "delegated_budget": {("regional_treasury", NGO)},
    "delegated_costs": {(NGO, "operating_costs")},
    "endowment_manager_expenses": {(RES, MC), (SF_RES, MC), (MC, "operating_costs")},
    "specialised_fund_donation": {(BIZ, SF_CAP)},
    "specialised_fund_return": {("financial_market", SF_RES), (SF_RES, "financial_market"), (SF_CAP, "financial_market")},
    "specialised_fund_refund": {(SF_CAP, NGO)},
    "specialised_fund_payout": {(SF_RES, NGO)},
    "cf_donation": {("citizens", CF), (BIZ, CF)},
    "cf_grant": {(CF, NGO)},
    "cf_family_fund": {("citizens", CF_FAM)},
    "cf_fund_return": {("financial_market", CF), (CF_FAM, "financial_market")},
    "fair_donation": {("citizens", NGO)},
}
"""Who may pay whom in each channel: (payer, payee) by account kind, external accounts by name."""


def test_every_flow_goes_the_way_its_channel_allows(model):
    """Money moves only along the declared routes of its channel (a grant never goes to a business, ...)."""
    assert set(ROUTES) == set(CHANNELS)
    from analysis.experiment import compose

    rich = run_model(compose(["steps=24", "rc_model=subordinate", "cluster=on", "cluster.launch_month=3",
                              "cluster.endowment=true", "finance.endowment_share=0.5", "output.plots=false",
                              "org_struct.house=true", "org_struct.centre=true",
                              "community_foundations=on", "fairs=on", "finance.specialised_fund=true",
                              "community_foundations.family_fund_prob=1.0", "cluster.endowment_seed=3e6",
                              "finance.endowment_match=1.0", "finance.endowment_citizen_share=0.5"]))  # fmt: skip
    for m in (model, rich):
        at = m.account_table()
        who = np.where(at["kind"] == "external", at["label"], at["kind"])
        f = m.flows()
        routes = set(zip(f["channel"].astype(str), who[f["src"]], who[f["dst"]], strict=True))
        bad = {(ch, a, b) for ch, a, b in routes if (a, b) not in ROUTES[ch]}
        assert not bad, bad


def test_dead_ngos_hold_no_money(model):
    dead = np.flatnonzero(~model.ngo_alive & (model.ngo_died >= 0))
    assert np.allclose(model.ledger.balance[model.ngo0 + dead], 0.0)
    assert np.allclose(model.ledger.balance[model.cap0 + dead], 0.0)


def test_ngo_population_adds_up(model):
    ts = model.timeseries()
    start = ts["ngos_alive"].iloc[0]
    assert ts["ngos_alive"].iloc[-1] == start + ts["ngo_births"].sum() - ts["ngo_deaths"].sum()
    assert len(model.ngo_agents()) == int(model.ngo_alive.sum())


def test_family_shares_follow_the_families_and_wellbeing_stays_in_range(model):
    ts = model.timeseries()
    fam = model.families
    shares = ts[["share_ordinary", "share_at_risk", "share_difficult", "share_crisis"]].iloc[-1].to_numpy()
    np.testing.assert_allclose(shares, np.bincount(fam.state, minlength=4) / fam.n)
    assert ts["wellbeing_mean"].iloc[-1] == pytest.approx(float(np.mean(fam.wellbeing)))
    assert ((ts["wellbeing_mean"] >= 0) & (ts["wellbeing_mean"] <= 1)).all()


@pytest.mark.parametrize("leak", [1.0, 0.01])
def test_conservation_check_catches_a_rouble_and_a_kopeck(model, leak):
    """A run's own tolerance is far below a kopeck, so a one-rouble (or one-kopeck) leak is caught."""
    led = model.ledger
    assert led.tolerance() < 1e-3
    assert led.check() <= led.tolerance()
    led.balance[model.ngo0] += leak  # money from nowhere
    try:
        with pytest.raises(AssertionError, match="imbalance"):
            led.check()
    finally:
        led.balance[model.ngo0] -= leak


def test_conservation_check_runs_every_step_in_the_model():
    m = CrossSectorModel(make_cfg(steps=3))
    m.step()
    m.ledger.balance[m.ngo0] += 1.0  # a rouble from nowhere
    with pytest.raises(AssertionError, match="imbalance"):
        m.step()


def test_accounts_that_may_not_be_overdrawn():
    """Region, municipalities, businesses, management company, resource centres and endowment principal are never
    negative; the check flags them."""
    m = run_model(make_cfg(steps=24, **{"rc_model.model": "subordinate", "finance.endowment_share": 0.5}))
    kinds = m.account_table()["kind"].to_numpy()
    guarded = set(kinds[m.ledger.no_overdraft])
    own = {"regional_government", "municipal_government", "business", "management_company", "resource_centre",
           "endowment_capital", "external"}  # fmt: skip
    assert guarded == own | set(FUND_ACCOUNTS)
    assert set(m.account_table()["label"][m.ledger.no_overdraft & (kinds == "external")]) == {"ngo_house"}
    assert (m.ledger.balance[m.ledger.no_overdraft] >= -1e-6).all()
    m.ledger.transfer("budget_regional", m.region, m.ext["regional_treasury"], m.ledger.balance[m.region] + 1.0)
    with pytest.raises(AssertionError, match="overdrawn"):
        m.ledger.check()


def test_timeseries_flows_match_the_ledger(model):
    ts = model.timeseries().set_index("step")
    f = model.flows()
    by = f.groupby(["step", "channel"], observed=True)["amount"].sum()
    for (step, ch), amount in by.items():
        assert ts.loc[step, f"flow_{ch}"] == pytest.approx(amount)
    assert (ts["ngos_alive"] > 0).all()
    assert ts["families_served"].iloc[1:].sum() == pytest.approx(model.families.times_served.sum())
