import numpy as np
import pytest

from sim.ledger import CH, Ledger


def test_transfer_conserves_and_records():
    led = Ledger(5)
    led.transfer("grant_regional", 0, np.array([1, 2, 3]), np.array([10.0, 20.0, 0.0]))
    led.transfer("ngo_costs", np.array([1, 2]), 4, 5.0)
    assert led.balance.sum() == pytest.approx(0.0)
    assert led.balance.tolist() == [-30.0, 5.0, 15.0, 0.0, 10.0]
    led.check()
    led.close_step(1)
    f = led.flows()
    assert set(f["channel"]) == {CH["grant_regional"], CH["ngo_costs"]}
    # the record reproduces the balances
    net = np.bincount(f["dst"], weights=f["amount"], minlength=5) - np.bincount(f["src"], weights=f["amount"], minlength=5)
    np.testing.assert_allclose(net, led.balance)


@pytest.mark.parametrize("amount", [-1.0, np.nan, np.inf])
def test_bad_amounts_rejected(amount):
    led = Ledger(2)
    with pytest.raises(ValueError):
        led.transfer("subsidy", 0, 1, amount)
    assert led.balance.tolist() == [0.0, 0.0]


def test_unknown_channel_rejected():
    with pytest.raises(KeyError):
        Ledger(2).transfer("magic", 0, 1, 1.0)


def test_check_detects_created_money():
    led = Ledger(2)
    led.transfer("subsidy", 0, 1, 5.0)
    led.balance[1] += 1.0  # money from nowhere
    with pytest.raises(AssertionError, match="imbalance"):
        led.check()


def test_forbidden_overdraft_is_flagged_and_allowed_overdraft_is_not():
    led = Ledger(3, {2: "citizens"})
    led.forbid_overdraft(np.array([1]))
    led.transfer("donation_citizens", 2, 0, 10.0)  # an external source goes negative: allowed
    led.transfer("subsidy", 0, 1, 4.0)
    led.transfer("ngo_costs", 1, 0, 4.0)  # back to exactly zero: allowed
    assert led.check() == 0.0
    led.transfer("ngo_costs", 1, 0, 0.01)  # one kopeck into the red
    with pytest.raises(AssertionError, match="account 1 overdrawn"):
        led.check()
