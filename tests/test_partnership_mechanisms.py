"""Concept IV.3.2 mechanisms: public councils that matter, socio-technological, organisational-structural.

Each defining behaviour is checked against the same model with the mechanism off (directional claims
paired over the fixed seeds of conftest), and the money of each new channel is traced through the ledger.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SEEDS, assert_increases, make_cfg

from sim.model import CrossSectorModel, run_model
from sim.params import ConfigError, build_config

# ------------------------------------------------------------------ councils
COUNCIL_RUN = {
    "councils.seat_rule": "lottery",  # seats by lot: seated and unseated NGOs are comparable
    "finance.request_prob": 0.3,
    "finance.subsidy_size": 5_000.0,
}


def _fulfilment_by_seat(seed: int, voice: float, steps: int = 36) -> tuple[float, float]:
    """Share of requests fulfilled for NGOs while seated and while not seated (all NGOs, all months)."""
    m = CrossSectorModel(make_cfg(steps=steps, seed=seed, **COUNCIL_RUN, **{"councils.voice": voice}))
    st = m.state
    req = {True: 0.0, False: 0.0}
    ful = {True: 0.0, False: 0.0}
    for _ in range(steps):
        r0, f0 = st.ngo_requests.copy(), st.ngo_requests_fulfilled.copy()
        m.step()
        seat = st.ngo_council[: r0.size]  # the seats of this month (set in January, before the requests)
        dr = st.ngo_requests[: r0.size] - r0
        df = st.ngo_requests_fulfilled[: r0.size] - f0
        for s in (True, False):
            req[s] += dr[seat == s].sum()
            ful[s] += df[seat == s].sum()
    return ful[True] / max(req[True], 1.0), ful[False] / max(req[False], 1.0)


def test_council_seat_gets_more_requests_fulfilled_and_councils_without_voice_change_nothing():
    """Seated NGOs (seats by lot) get a larger share of their requests fulfilled than unseated ones, over seeds;
    with ``voice=0`` the seated advantage goes (paired: the gap is larger with voice than without)."""
    gap_on, gap_off = [], []
    for seed in SEEDS:
        a, b = _fulfilment_by_seat(seed, 0.5)
        gap_on.append(a - b)
        a, b = _fulfilment_by_seat(seed, 0.0)
        gap_off.append(a - b)
    assert_increases(gap_on, [0.0] * len(SEEDS), "fulfilled share, seated - unseated, voice 0.5")
    assert_increases(gap_on, gap_off, "seated advantage, voice 0.5 vs voice 0")


def test_councils_without_voice_are_the_same_run_as_no_councils():
    """A seat acts only through the voice: voice 0 gives exactly the run without any seats."""
    cols = ["requests_fulfilled", "partnerships_formed", "tech_adopted", "ngo_cash_total", "families_served"]
    for seed in SEEDS[:3]:
        a = run_model(make_cfg(steps=24, seed=seed, **{"councils.voice": 0.0})).timeseries()
        b = run_model(make_cfg(steps=24, seed=seed, **{"org.council_seats": 0})).timeseries()
        assert b["council_seats"].max() == 0 and a["council_seats"].iloc[1:].min() > 0
        assert a[cols].equals(b[cols])


def test_voice_multiplies_the_municipalitys_acceptance_of_an_ngos_proposal():
    """Formation reads the voice as one factor on acceptance: the same proposals, all accepted at a huge voice."""
    # the logistic acceptance path (officials' criteria off), before any budget is set (budget check off)
    only_gov_ngo = {"partnership.form_weights": (0.0, 0.0, 1.0, 0.0), "partnership.proposal_rate": 5.0,
                    "partnership.accept_intercept": -4.0, "selection.by_criteria": False,
                    "partnership.gov_budget_check": False}  # fmt: skip
    formed = {}
    for voice in (1.0, 1.0e9):
        m = CrossSectorModel(make_cfg(steps=2, **only_gov_ngo))
        m.state.ngo_voice[:] = voice
        m.state.counts = dict.fromkeys(m.state.counts, 0.0)
        m.mechanisms["formation"].step()
        formed[voice] = m.state.counts["partnerships_formed"]
    proposed = m.cfg.partnership.proposal_rate * m.state.n_muni
    assert formed[1.0e9] > formed[1.0] > 0
    assert formed[1.0e9] > 0.5 * proposed  # every (feasible) proposal accepted


def test_seats_rotate_after_their_term():
    """With a 12-month term nobody keeps a seat two Januaries running; with a long term most keep it."""

    def kept(term: int) -> float:
        m = CrossSectorModel(make_cfg(steps=13, **{"councils.term_months": term}))
        m.step()
        first = m.state.ngo_council.copy()
        for _ in range(12):
            m.step()
        return float((first & m.state.ngo_council).sum() / max(first.sum(), 1))

    assert kept(12) == 0.0
    assert kept(240) > 0.5


def test_trust_rule_seats_the_ngos_the_municipality_trusts_most():
    m = CrossSectorModel(make_cfg(steps=2))
    st = m.state
    slots = st.alive_slots()
    orgs = st.ngo0 + slots
    t = st.trust.pair_trust(st.muni0 + st.org_municipality[orgs], orgs)  # as the January seating sees it
    m.step()
    seated = st.ngo_council[slots]
    for mu in range(st.n_muni):
        k = st.org_municipality[orgs] == mu
        if seated[k].any() and (~seated[k]).any():
            assert t[k][seated[k]].min() >= t[k][~seated[k]].max() - 1e-12


# --------------------------------------------------------- socio-technological
TECH_FAST = {"socio_tech.adoption_prob": 0.3, "socio_tech.spread_prob": 0.3}


@pytest.fixture(scope="module")
def tech_model():
    return run_model(make_cfg(steps=48, **TECH_FAST))


def test_a_proven_technology_is_adopted_state_funded_and_spreads(tech_model):
    m = tech_model
    tech = m.mechanisms["socio_technological"]
    ts = m.timeseries()
    assert tech.n_adopted > 0 and ts["flow_technology_funding"].sum() > 0
    # every technology's origin is proven (projects run with results, capacity)
    origin = np.array(tech.origin)
    sp = m.cfg.socio_tech
    assert (m.state.ngo_grants[origin] >= sp.proven_projects).all()
    # the money: from the regional treasury to NGOs implementing an adopted technology, within the yearly budget
    f = m.flows()
    f = f[f["channel"].astype(str) == "technology_funding"]
    assert (f["src"] == m.ext["regional_treasury"]).all()
    assert (tech.tech_of[f["dst"].to_numpy() - m.ngo0] >= 0).all()
    by_year = f.groupby((f["step"] - 1) // 12)["amount"].sum()
    assert (by_year <= sp.budget + 1e-6).all()
    # spread: the technologies are in use in more municipalities than they started in
    assert ts["tech_municipalities"].iloc[-1] > ts["tech_adopted"].iloc[-1]


def test_technologies_spread_only_with_spread():
    for seed in SEEDS[:3]:
        ts = run_model(make_cfg(steps=48, seed=seed, **{**TECH_FAST, "socio_tech.spread_prob": 0.0})).timeseries()
        assert ts["tech_municipalities"].iloc[-1] == ts["tech_adopted"].iloc[-1]


@pytest.mark.parametrize(
    "changes",
    [{"socio_tech.enabled": False}, {"socio_tech.proven_projects": 100}, {"socio_tech.proven_capacity": 1.0}],
    ids=["off", "no_proven_projects", "no_proven_capacity"],
)
def test_off_or_unproven_no_adoption_and_no_technology_money(changes):
    """Switched off, or with no practice proven, nothing is adopted and the new channel carries nothing."""
    for seed in SEEDS[:3]:
        ts = run_model(make_cfg(steps=48, seed=seed, **{**TECH_FAST, **changes})).timeseries()
        assert ts["tech_adopted"].max() == 0
        assert ts["flow_technology_funding"].sum() == 0


def test_socio_technological_funding_raises_ngo_income_over_seeds():
    on = [run_model(make_cfg(steps=48, seed=s, **TECH_FAST)).timeseries()["flow_technology_funding"].sum() for s in SEEDS]
    assert_increases(on, [0.0] * len(SEEDS), "technology funding, on vs none")


# ---------------------------------------------------- organisational-structural
HOUSE = {"org_struct.house": True, "org_struct.house_join_prob": 0.2}


def test_house_of_ngos_lowers_members_costs():
    """Members without staff pay (1 - saving) x overhead, non-members the full overhead; off: everybody the full."""
    for house in (True, False):
        m = CrossSectorModel(make_cfg(steps=6, **{**HOUSE, "org_struct.house": house}))
        life = m.mechanisms["ngo_life"]
        seen = {}
        original = life.step

        def spy(_f=original, _m=m, seen=seen) -> None:
            st = _m.state
            seen["staff"] = st.ngo_staff.copy()
            seen["member"] = _m.mechanisms["organisational_structural"].member.copy()
            seen["alive"] = st.alive_slots().copy()
            _f()

        life.step = spy  # type: ignore[method-assign]
        for _ in range(6):
            m.step()
        f = m.flows()
        f = f[(f["channel"].astype(str) == "ngo_costs") & (f["step"] == 6)]
        paid = dict(zip(f["src"].to_numpy() - m.ngo0, f["amount"], strict=True))
        oh, saving = m.cfg.org.overhead_cost, m.cfg.org_struct.house_overhead_saving
        slots = [s for s in seen["alive"] if seen["staff"][s] == 0]
        members = [s for s in slots if seen["member"][s]]
        others = [s for s in slots if not seen["member"][s]]
        assert others and (members or not house)
        for s in others:
            assert paid.get(s, 0.0) == pytest.approx(oh)
        for s in members:
            assert paid.get(s, 0.0) == pytest.approx(oh * (1 - saving))
        if not house:
            assert not members and m.timeseries()["house_members"].max() == 0


def test_house_leaves_ngos_more_cash_over_seeds_and_its_money_adds_up():
    on, off = [], []
    for seed in SEEDS:
        a = run_model(make_cfg(steps=24, seed=seed, **HOUSE))
        b = run_model(make_cfg(steps=24, seed=seed))
        on.append(a.timeseries()["ngo_cash_total"].iloc[-1] / a.timeseries()["ngos_alive"].iloc[-1])
        off.append(b.timeseries()["ngo_cash_total"].iloc[-1] / b.timeseries()["ngos_alive"].iloc[-1])
        ts = a.timeseries()
        np.testing.assert_allclose(ts["flow_house_funding"], ts["flow_house_costs"])
        assert (ts["flow_house_funding"].iloc[1:] > 0).all() and abs(a.ledger.balance[a.ext["ngo_house"]]) < 1e-6
        assert (ts["ledger_imbalance"] < 1e-3).all()
    assert_increases(on, off, "NGO cash per NGO, house of NGOs on vs off")


CENTRE = {"org_struct.centre": True, "org_struct.centre_launch_month": 3}


def test_delegated_centre_receives_the_budget_and_delivers_the_function():
    m = run_model(make_cfg(steps=24, **CENTRE))
    os_ = m.cfg.org_struct
    ts = m.timeseries()
    f = m.flows()
    got = f[f["channel"].astype(str) == "delegated_budget"]
    assert set(got["step"]) == set(range(os_.centre_launch_month + 1, 25))  # every month from the launch
    assert (got["src"] == m.ext["regional_treasury"]).all()
    centre_orgs = set(got["dst"])
    assert all(m.ngo_domain[o - m.ngo0] == os_.centre_domain for o in centre_orgs)
    np.testing.assert_allclose(got.groupby("step")["amount"].sum(), os_.centre_budget)
    np.testing.assert_allclose(ts["flow_delegated_costs"], ts["flow_delegated_budget"])  # spent on the function
    delivered = ts["centre_services"].to_numpy()
    assert (delivered[: os_.centre_launch_month + 1] == 0).all()
    np.testing.assert_allclose(delivered[os_.centre_launch_month + 1 :], os_.centre_budget / os_.centre_unit_cost)
    assert (ts["ledger_imbalance"] < 1e-3).all()


def test_delegated_centre_serves_more_families_over_seeds():
    on = [run_model(make_cfg(steps=24, seed=s, **CENTRE)).timeseries()["families_served"].sum() for s in SEEDS]
    off = [run_model(make_cfg(steps=24, seed=s)).timeseries()["families_served"].sum() for s in SEEDS]
    assert_increases(on, off, "families served, delegated centre on vs off")


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    "data, key",
    [
        ({"councils": {"seat_rule": "age"}}, "councils.seat_rule"),
        ({"councils": {"term_months": 3}}, "councils.term_months"),
        ({"councils": {"voice": -1.0}}, "councils.voice"),
        ({"socio_tech": {"adoption_prob": 2.0}}, "socio_tech.adoption_prob"),
        ({"socio_tech": {"enabled": "yes"}}, "socio_tech.enabled"),
        ({"socio_tech": {"proven_projects": 0}}, "socio_tech.proven_projects"),
        ({"org_struct": {"centre_domain": 7}}, "org_struct.centre_domain"),
        ({"org_struct": {"house_overhead_saving": 1.5}}, "org_struct.house_overhead_saving"),
        ({"org_struct": {"centre_unit_cost": 0.0}}, "org_struct.centre_unit_cost"),
        ({"org_struct": {"hous": True}}, "org_struct.hous"),
    ],
)
def test_bad_values_name_the_key(data, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")) as e:
        build_config(data)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("influence", [1.0, 0.0])
def test_a_seat_holders_domain_enters_the_municipal_plan_only_with_plan_influence(influence):
    m = CrossSectorModel(make_cfg(steps=2, **{"councils.plan_influence": influence}))
    st = m.state
    before = st.plans.copy()
    m.step()
    seated = np.flatnonzero(st.ngo_council)
    munis, doms = st.org_municipality[st.ngo0 + seated], st.ngo_domain[seated]
    if influence:
        assert st.plans[munis, doms].all() and st.plans.sum() > before.sum()
        assert (st.plans | ~before).all()  # nothing leaves the plans
    else:
        assert (st.plans == before).all() and not before[munis, doms].all()
