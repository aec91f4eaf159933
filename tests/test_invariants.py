"""Money adds up; populations add up."""

import numpy as np
import pytest
from conftest import make_cfg

from sim.ledger import CHANNELS
from sim.model import CrossSectorModel, run_model


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


def test_every_flow_has_known_channel_and_positive_amount(model):
    f = model.flows()
    assert (f["amount"] > 0).all()
    assert set(f["channel"].astype(str)) <= set(CHANNELS)


def test_org_cash_is_the_ledger_balance(model):
    for agent in list(model.org_agent.values())[:20]:
        assert agent.cash == model.ledger.balance[agent.org]


def test_dead_ngos_hold_no_money(model):
    dead = np.flatnonzero(~model.ngo_alive & (model.ngo_died >= 0))
    assert np.allclose(model.ledger.balance[model.ngo0 + dead], 0.0)
    assert np.allclose(model.ledger.balance[model.cap0 + dead], 0.0)


def test_ngo_population_adds_up(model):
    ts = model.timeseries()
    start = ts["ngos_alive"].iloc[0]
    assert ts["ngos_alive"].iloc[-1] == start + ts["ngo_births"].sum() - ts["ngo_deaths"].sum()
    assert len(model.ngo_agents()) == int(model.ngo_alive.sum())


def test_family_shares_sum_to_one(model):
    ts = model.timeseries()
    shares = ts[["share_ordinary", "share_at_risk", "share_difficult", "share_crisis"]].sum(axis=1)
    np.testing.assert_allclose(shares, 1.0)
    assert ((ts["wellbeing_mean"] >= 0) & (ts["wellbeing_mean"] <= 1)).all()


def test_conservation_check_catches_a_leak():
    m = CrossSectorModel(make_cfg(steps=3))
    m.step()
    m.ledger.balance[m.ngo0] += 100.0  # a rouble from nowhere
    with pytest.raises(AssertionError, match="imbalance"):
        m.step()


def test_timeseries_flows_match_the_ledger(model):
    ts = model.timeseries().set_index("step")
    f = model.flows()
    by = f.groupby(["step", "channel"], observed=True)["amount"].sum()
    for (step, ch), amount in by.items():
        assert ts.loc[step, f"flow_{ch}"] == pytest.approx(amount)
    assert (ts["ngos_alive"] > 0).all()
    assert ts["families_served"].iloc[1:].sum() == pytest.approx(model.families.times_served.sum())
