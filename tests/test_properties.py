"""Property-based: random valid configurations drawn from the declared ranges of sim/params.py.

Every draw changes a random handful of declared parameters (any of them, within
its declared bounds, length, sum and order), on a small region and a short run,
and checks after every month: no crash, the ledger balances, no account that
cannot be overdrawn is below zero, no NaN in money or shares, and the family
state shares (counted from the families' own states) sum to 1. Seeded
(derandomized) and bounded, so it runs the same examples in the normal test time.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from typing import Any

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sim.model import CrossSectorModel
from sim.params import ConfigError, build_config, iter_parameters, replace
from sim.state import FUND_ACCOUNTS

logging.getLogger("MESA").setLevel(logging.WARNING)

NO_OVERDRAFT = (
    "endowment_capital", "endowment_reserve", "management_company", "regional_government", "municipal_government",
    "business", *FUND_ACCOUNTS,
)  # fmt: skip
"""Account kinds that cannot be overdrawn: endowments (275-FZ), the manager (only receives fees), the region, the
municipalities and the businesses (pay within what they have), the specialised endowment fund and the community
foundations (sim.state.FUND_ACCOUNTS)."""

SMALL = {
    "region.municipalities": (1, 3),
    "region.ngos": (1, 40),
    "region.businesses": (0, 6),
    "region.families": (10, 1000),
    "region.mean_degree": (0.0, 12.0),
}
"""Size parameters drawn from a small part of their declared range (the property concerns values, not size)."""
SKIP = {"seed", "steps", "region.name", "scenario.name", "scenario.description", "output.plots", "output.check_conservation"}
PARAMS = [(n, d, m) for n, d, m in iter_parameters() if n not in SKIP and (not isinstance(d, str) or m.get("choices"))]
"""Declared parameters drawn (free-text labels such as the scenarios' titles are not model values)."""


def _upper(default: Any, lo: float | None, hi: float | None) -> float:
    if hi is not None:
        return hi
    base = max(abs(float(default)) if not isinstance(default, tuple) else max(abs(float(x)) for x in default), 1.0)
    return max(10.0 * base, (lo or 0.0) + 1.0)


@st.composite
def value_for(draw: st.DrawFn, name: str, default: Any, meta: dict[str, Any]) -> Any:
    """A value allowed by the declaration of parameter ``name``."""
    lo, hi = meta.get("lo"), meta.get("hi")
    if name in SMALL:
        lo, hi = SMALL[name]
    if isinstance(default, bool):
        return draw(st.booleans())
    if isinstance(default, tuple) and default and dataclasses.is_dataclass(default[0]):  # a list of funds
        fields = [f for f in iter_parameters(type(default[0])) if f[0] not in ("name", "months")]
        funds = []
        for i in range(draw(st.integers(0, 4))):
            fund = {f: draw(value_for(f, d, m)) for f, d, m in fields}
            fund["name"] = f"fund{i}"
            fund["months"] = draw(st.lists(st.integers(1, 12), min_size=1, max_size=4, unique=True))
            funds.append(fund)
        return tuple(funds)
    if meta.get("choices"):
        return draw(st.sampled_from(meta["choices"]))
    top = _upper(default, lo, hi)
    low = -top if lo is None else lo
    if isinstance(default, int):
        return draw(st.integers(int(math.ceil(low)), int(min(top, 10_000))))
    if isinstance(default, float):
        return draw(st.one_of(st.just(float(low)), st.just(float(top)), st.floats(low, top, allow_nan=False)))
    assert isinstance(default, tuple)
    n = meta.get("length") or len(default)
    if isinstance(default[0], int):
        elem = st.integers(int(low), int(min(top, 10_000)))
    else:
        elem = st.one_of(st.just(float(low)), st.just(float(top)), st.floats(low, top))
    vals = draw(st.lists(elem, min_size=n, max_size=n))
    if meta.get("sums_to_one"):
        w = np.asarray(vals, float) - low + 1e-3
        vals = (w / w.sum()).tolist()
        vals[-1] = 1.0 - sum(vals[:-1])
        if vals[-1] < 0:  # rounding
            vals[-1] = 0.0
    if meta.get("ascending"):
        vals = sorted(vals)
    return tuple(vals)


@st.composite
def configs(draw: st.DrawFn):
    steps = draw(st.integers(2, 24))
    changes: dict[str, Any] = {"seed": draw(st.integers(0, 2**31)), "steps": steps, "output.plots": False}
    for name in SMALL:  # always a small region
        changes[name] = draw(value_for(name, *next((d, m) for n, d, m in PARAMS if n == name)))
    every = draw(st.booleans())  # either every declared parameter drawn, or a random handful
    handful = st.lists(st.integers(0, len(PARAMS) - 1), min_size=1, max_size=12, unique=True)
    chosen = range(len(PARAMS)) if every else draw(handful)
    for idx in chosen:
        name, default, meta = PARAMS[idx]
        changes[name] = draw(value_for(name, default, meta))
    if changes.get("cluster.enabled") or draw(st.booleans()):
        changes["cluster.enabled"] = changes.get("cluster.enabled", draw(st.booleans()))
        changes["cluster.launch_month"] = draw(st.integers(0, steps - 1))
    try:
        return replace(build_config({}), **changes)
    except ConfigError:  # e.g. shares that do not sum to 1 after rounding
        assume(False)


def check_month(m: CrossSectorModel, kinds: np.ndarray) -> None:
    bal = m.ledger.balance
    assert np.isfinite(bal).all(), "NaN or inf in a balance"
    tol = 1e-9 * max(m.ledger.turnover, 1.0) + 1e-6
    assert abs(float(bal.sum())) <= tol, f"ledger off by {bal.sum()}"
    for kind in NO_OVERDRAFT:
        worst = bal[kinds == kind].min(initial=0.0)
        assert worst >= -tol, f"{kind} account at {worst}"
    cf = m.mechanisms["community_foundations"]  # each territory's share of the foundations' money adds up
    assert abs(cf.cash.sum() - bal[m.ext["community_foundations"]]) <= tol
    assert abs(cf.family.sum() - bal[m.ext["cf_family_funds"]]) <= tol
    assert (cf.cash >= -tol).all() and (cf.family >= -tol).all()
    assert (cf.granted <= cf.collected + tol).all(), "a community foundation granted more than it collected"
    fam = m.families
    counts = np.bincount(fam.state, minlength=4)
    assert counts.size == 4 and fam.state.min() >= 0
    assert counts.sum() == fam.n
    row = m.timeseries().iloc[-1]
    shares = [row["share_ordinary"], row["share_at_risk"], row["share_difficult"], row["share_crisis"]]
    np.testing.assert_allclose(shares, counts / fam.n, atol=1e-12)  # recorded shares are the families' own
    assert abs(sum(shares) - 1.0) < 1e-9
    assert np.isfinite(fam.wellbeing).all() and 0.0 <= fam.wellbeing.min() and fam.wellbeing.max() <= 1.0
    money = [c for c in row.index if c.startswith("flow_") or c in ("ngo_cash_total", "endowment_capital")]
    assert np.isfinite(row[money].to_numpy(float)).all(), "NaN in money"
    rest = [c for c in row.index if not c.startswith("trust_")]  # a sector pair without ties has no mean trust
    assert np.isfinite(row[rest].to_numpy(float)).all(), [c for c in rest if not np.isfinite(float(row[c]))]


def _kinds(m: CrossSectorModel) -> np.ndarray:
    return m.account_table()["kind"].to_numpy()


@settings(
    max_examples=300,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(cfg=configs())
def test_random_valid_configurations_hold_the_invariants(cfg):
    m = CrossSectorModel(cfg)
    kinds = _kinds(m)
    for _ in range(cfg.steps):
        m.step()
        if kinds.size != m.ledger.balance.size:  # NGO slots were added
            kinds = _kinds(m)
        check_month(m, kinds)


@settings(max_examples=40, derandomize=True, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**31),
    mean=st.one_of(st.just(-0.9), st.just(1.0), st.floats(-0.9, 1.0)),
    sd=st.one_of(st.just(0.0), st.just(2.0), st.floats(0.0, 2.0)),
    rule=st.sampled_from(["endowment_income_10", "trust_income_15"]),
    expenses=st.one_of(st.just(0.0), st.floats(0.0, 1e7)),
)
def test_endowment_capital_never_below_zero_under_any_return_draw(seed, mean, sd, rule, expenses):
    """Any declared return mean and s.d. (log-normal draws, losses up to nearly -100%), either admin cap rule and any
    manager's expenses: the NGOs' endowment principal and reserves net of losses, the specialised fund's capital and
    reserve and the community foundations' family funds never go below zero, and the ledger adds up."""
    cfg = replace(build_config({}), **{
        "seed": seed, "steps": 24, "output.plots": False, "region.ngos": 30, "region.families": 300,
        "finance.endowment_share": 0.5, "finance.endowment_min_capital": 5e5, "finance.endowment_return_mean": mean,
        "finance.endowment_return_sd": sd, "finance.admin_cap_rule": rule, "finance.manager_expenses": expenses,
        "finance.specialised_fund": True, "finance.specialised_fund_donation_share": 0.5,
        "community_foundations.enabled": True, "community_foundations.family_fund_prob": 1.0,
        "org.csr_share": (0.2, 0.2, 0.2),
    })  # fmt: skip
    m = CrossSectorModel(cfg)
    kinds = _kinds(m)
    for _ in range(cfg.steps):
        m.step()
        if kinds.size != m.ledger.balance.size:
            kinds = _kinds(m)
        check_month(m, kinds)
        bal = m.ledger.balance
        for kind in ("endowment_capital", *FUND_ACCOUNTS):
            assert bal[kinds == kind].min(initial=0.0) >= -1e-6, kind
