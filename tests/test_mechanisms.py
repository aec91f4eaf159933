"""Each mechanism's defining behaviour, in the model."""

import numpy as np
import pytest
from conftest import SEEDS, STEP_ORDER, make_cfg, record_step_order

from sim.mechanisms.families import Families, transition_tables
from sim.mechanisms.formation import create_partnership
from sim.model import CrossSectorModel, run_model
from sim.params import FamilyParams, FundParams
from sim.partnerships import ces_output


# ------------------------------------------------------------------ step order
def test_step_runs_the_mechanisms_in_the_documented_order():
    """Requests are answered before partners are chosen, delivery before services, and so on (ODD 'Process overview')."""
    m = CrossSectorModel(make_cfg(steps=4, **{"output.family_thread": False}))
    m.step()
    calls = record_step_order(m)
    m.step()  # month 2: the presidential fund's competition runs
    assert calls == [name for name, _ in STEP_ORDER]
    calls.clear()
    m.step()  # month 3, a month without competitions: the same order without grants
    assert calls == [name for name, _ in STEP_ORDER if name != "grants"]


# ------------------------------------------------------------------ grants
def test_zero_grant_budget_means_zero_grant_income():
    """The state funds scale with ``grant_budget_scale``; the corporate fund (business money) does not."""
    m = run_model(make_cfg(steps=24, **{"scenario.grant_budget_scale": 0.0}))
    f = m.flows()
    ch = f["channel"].astype(str)
    assert f.loc[ch.isin(["grant_federal", "grant_regional"]), "amount"].sum() == 0.0
    log = m.partnership_log()
    assert ((log["mechanism"] == "competitive") & (log["gov"] >= 0)).sum() == 0
    assert m.timeseries()["grant_applications"].sum() > 0  # NGOs still applied and spent effort


@pytest.mark.parametrize("scale", [1.0, 0.7])
def test_grants_positive_budget_pays_within_budget(scale):
    """Each competition funds awards while its budget lasts, never more (many applicants: the next award would not fit)."""
    kw = {"scenario.grant_budget_scale": scale, "finance.apply_prob_novice": 1.0, "finance.apply_prob_experienced": 1.0}
    m = run_model(make_cfg(steps=12, **kw))
    f = m.flows()
    ch = f["channel"].astype(str)
    funds = {fd.payer: fd for fd in m.cfg.finance.funds}
    for channel, payer, annual in (("grant_federal", "federal", m.cfg.region.federal_grant_budget),
                                   ("grant_regional", "regional", m.cfg.region.regional_grant_budget)):  # fmt: skip
        fund = funds[payer]
        per = annual * scale * fund.budget_share / len(fund.months)
        paid = f[ch == channel].groupby("step")["amount"].sum()
        assert sorted(paid.index.tolist()) == [mo for mo in fund.months if mo <= 12]  # one competition in each month
        assert (paid <= per + 1e-6).all() and (paid > per - fund.grant_size[1]).all()


def test_without_noise_or_bias_the_best_applicants_win():
    cfg = make_cfg(
        steps=3,
        **{
            "finance.score_noise": 0.0,
            "finance.score_bias_tie": 0.0,
            "finance.apply_prob_novice": 1.0,
            "finance.apply_prob_experienced": 1.0,
            "finance.score_experience": 0.0,
        },
    )
    m = CrossSectorModel(cfg)
    m.step()
    m.t = 2
    before = m.ngo_grants.copy()
    fund = FundParams(name="test", payer="federal", grant_size=(1e5, 1e5))
    m.mechanisms["grants"].competition(fund, m.ext["federal_budget"], 5 * 1e5)
    won = np.flatnonzero(m.ngo_grants > before)
    alive = np.flatnonzero(m.ngo_alive)
    best = alive[np.argsort(-m.ngo_capacity[alive], kind="stable")[:5]]
    assert sorted(won.tolist()) == sorted(best.tolist())


def test_tie_bias_favours_connected_applicants():
    cfg = make_cfg(
        steps=3,
        **{
            "finance.score_noise": 0.0,
            "finance.score_capacity": 0.0,
            "finance.score_experience": 0.0,
            "finance.score_bias_tie": 1.0,
            "finance.apply_prob_novice": 1.0,
            "finance.apply_prob_experienced": 1.0,
        },
    )
    m = CrossSectorModel(cfg)
    m.t = 0
    m.mechanisms["budgets"].step()
    fav = int(np.flatnonzero(m.ngo_alive)[-1])
    e = m.trust.ensure_edges(np.array([m.region]), np.array([m.ngo0 + fav]), 0, evidence=50.0)
    assert m.trust.trust(e)[0] > 0.9
    fund = FundParams(name="test", payer="regional", grant_size=(1e5, 1e5), tie_bias=True)
    m.mechanisms["grants"].competition(fund, m.region, 1e5)
    assert np.flatnonzero(m.ngo_grants).tolist() == [fav]


# -------------------------------------------------------------- synergy
def test_ces_output_is_superadditive_across_kinds():
    money = np.array([4.0, 0, 0, 0])
    people = np.array([0, 4.0, 4.0, 0])
    premises = np.array([0, 0, 0, 4.0])
    apart = sum(ces_output(x, 0.3, 1.0) for x in (money, people, premises))
    together = ces_output(money + people + premises, 0.3, 1.0)
    assert together > 2 * apart


def test_trilateral_beats_bilateral_with_same_total_resources():
    total = 12.0
    bilateral = np.array([total / 3, total / 3, total / 3, 0.0])  # gov-NGO without premises? equal split of 3 kinds
    gov_ngo_no_money = np.array([0.0, total / 2, total / 2, 0.0])
    trilateral = np.full(4, total / 4)
    y3 = ces_output(trilateral, 0.3, 1.0)
    assert y3 > ces_output(bilateral, 0.3, 1.0) > ces_output(gov_ngo_no_money, 0.3, 1.0)


def test_ces_linear_case_has_no_synergy():
    a = np.array([2.0, 0, 0, 0])
    b = np.array([0, 2.0, 0, 0])
    assert ces_output(a + b, 1.0, 1.0) == pytest.approx(ces_output(a, 1.0, 1.0) + ces_output(b, 1.0, 1.0))


# ---------------------------------------------------------------- endowments
@pytest.fixture(scope="module", params=SEEDS, ids=lambda s: f"seed{s}")
def endowment_model(request):
    kw = {"finance.endowment_share": 0.5, "org.csr_share": (0.2, 0.2, 0.2), "finance.endowment_return_sd": 0.3}
    cfg = make_cfg(steps=48, seed=request.param, **kw)
    m = CrossSectorModel(cfg)
    caps = []
    for _ in range(cfg.steps):
        formed = m.ngo_endow_state == 2
        before = m.ledger.balance[m.cap0 : m.cap0 + m.n_ngo_slots].copy()
        m.step()
        n = before.size  # slots added during the step (if any) held no endowment before it
        after = m.ledger.balance[m.cap0 : m.cap0 + n]
        reserve = m.ledger.balance[m.res0 : m.res0 + n]
        still = formed & m.ngo_alive[:n]
        caps.append((before[still], after[still], reserve[still]))
    return m, caps


def test_endowment_principal_never_spent(endowment_model):
    """The principal falls only by a market loss the income reserve could not cover (reserve empty), never below 0."""
    m, caps = endowment_model
    assert m.timeseries()["endowments_formed"].max() > 0
    for before, after, reserve in caps:
        fell = after < before - 1e-6
        assert np.all(reserve[fell] <= 1e-6) and np.all(after >= -1e-6)


def test_endowment_payout_only_from_income_and_admin_capped(endowment_model):
    m, _ = endowment_model
    f = m.flows()
    ch = f["channel"].astype(str)
    payout = f.loc[ch == "endowment_payout", "amount"].sum()
    admin = f.loc[ch == "endowment_admin", "amount"].sum()
    fee = f.loc[ch == "endowment_fee", "amount"].sum()
    # the manager's expenses reimbursed (reserve -> manager; the manager's own payment out is the other leg)
    expenses = f.loc[(ch == "endowment_manager_expenses") & (f["dst"] == m.manager), "amount"].sum()
    assert (payout > 0) == (fee > 0)  # a December with positive income pays out (and pays the manager)
    assert admin <= m.cfg.finance.admin_cap_share * (payout + admin + expenses) + 1e-6
    gains = f.loc[(ch == "endowment_return") & (f["src"] == m.ext["financial_market"]), "amount"].sum()
    assert fee <= 0.25 * gains + 1e-6
    # the payout, fees and expenses never exceed positive income
    assert payout + admin + fee + expenses <= gains + 1e-6


@pytest.mark.parametrize("seed", SEEDS)
def test_endowment_refunded_when_minimum_not_reached_in_time(seed):
    cfg = make_cfg(
        steps=30,
        seed=seed,
        **{
            "finance.endowment_share": 1.0,
            "finance.endowment_initial_share": 0.0,
            "finance.endowment_min_capital": 1e12,
            "finance.endowment_match": 0.0,
        },
    )
    m = run_model(cfg)
    f = m.flows()
    ch = f["channel"].astype(str)
    assert f.loc[ch == "endowment_donation", "amount"].sum() > 0
    assert f.loc[ch == "endowment_refund", "amount"].sum() > 0
    assert m.timeseries()["endowments_formed"].max() == 0
    # nothing is left stuck in a forming endowment for more than the formation window
    stale = m.ngo_alive & (m.ngo_endow_first >= 0) & (m.t - m.ngo_endow_first > cfg.finance.endowment_formation_months)
    assert not stale.any()


def test_endowments_off_moves_no_endowment_money():
    m = run_model(make_cfg(steps=24, **{"scenario.endowments": False, "finance.endowment_share": 0.5}))
    f = m.flows()
    assert not f["channel"].astype(str).str.startswith("endowment").any()


# ---------------------------------------------------------------- social order
def test_social_order_pays_only_registered_providers():
    m = run_model(make_cfg(steps=24))
    f = m.flows()
    so = f[f["channel"].astype(str) == "social_order"]
    assert len(so) > 0
    slots = so["dst"].to_numpy() - m.ngo0
    assert m.ngo_registered[slots].all()
    assert so["amount"].sum() <= 2 * m.cfg.region.social_order_budget + 1e-6


def test_social_orders_stop_at_the_annual_budget():
    """With a small social-order line the year's payments reach the budget and never exceed it."""
    m = run_model(make_cfg(steps=24, **{"scenario.social_order_scale": 0.05}))
    budget = m.cfg.region.social_order_budget * 0.05
    f = m.flows()
    so = f[f["channel"].astype(str) == "social_order"]
    by_year = so.groupby((so["step"] - 1) // 12)["amount"].sum()
    assert len(by_year) == 2
    for year, paid in by_year.items():
        assert paid <= budget * (1 + 1e-9), year
        assert paid >= 0.99 * budget, year  # demand exceeds the line: it binds


def test_no_register_no_social_order():
    m = run_model(make_cfg(steps=12, **{"org.register_capacity_threshold": 1.0, "org.ngo_capacity_beta": (0.1, 50.0)}))
    m.ngo_registered[:] = False
    f = m.flows()
    # registered at start only if capacity >= 1.0, which Beta(0.1, 50) never draws
    assert f.loc[f["channel"].astype(str) == "social_order", "amount"].sum() == 0


# ---------------------------------------------------------------- families
def test_service_improves_transitions():
    p = FamilyParams()
    down, up_to = transition_tables(p)
    up = up_to.astype(int) - down.astype(int)
    for s in (1, 2, 3):
        assert down[s * 2 + 1] > down[s * 2 + 0]
    for s in (0, 1, 2):
        assert up[s * 2 + 1] < up[s * 2 + 0]
    assert down[0] == down[1] == 0  # nothing better than ordinary
    assert up[6] == up[7] == 0  # nothing worse than crisis


def test_awareness_and_rationing():
    rng = np.random.default_rng(2)
    fam = Families(
        20_000, 2, FamilyParams(initial_awareness=0.0, apply_prob=1.0, p_worsen=(0, 0, 0, 0), p_improve=(0, 0, 0, 0)), rng
    )
    cap = np.zeros(2 * 5)
    eligible = fam.state >= 1
    # nobody aware: nobody served, some learn in municipality 0 only
    per_cell = fam.month(rng, rng, np.array([0.5, 0.0]), cap + 1e9, 0)
    assert per_cell.sum() == 0 and fam.n_served == 0
    assert fam.aware[fam.municipality == 0].any() and not fam.aware[fam.municipality == 1].any()
    assert not fam.aware[~eligible].any()  # only eligible families seek support
    assert fam.aware[(fam.municipality == 0) & eligible].mean() == pytest.approx(0.5, abs=0.03)
    # capacity rations: each applicant is served with probability capacity/demand of its cell
    cap[:] = 30.0
    per_cell = fam.month(rng, rng, np.array([0.0, 0.0]), cap, 1)
    assert per_cell.sum() == fam.n_served == int((fam.last_served == 1).sum())
    assert per_cell[:5].sum() == pytest.approx(cap[:5].sum(), rel=0.15)  # demand exceeds capacity in municipality 0
    assert per_cell[5:].sum() == 0  # nobody in municipality 1 knows of support
    served = np.flatnonzero(fam.served)
    assert (fam.state[served] >= 1).all() and fam.aware[served].all()
    assert fam.n_aware == int(fam.aware.sum())


def test_family_counts_kept_incrementally_in_the_model():
    m = run_model(make_cfg(steps=12))
    np.testing.assert_array_equal(m.families.count_by_state(), np.bincount(m.families.state, minlength=4))
    assert m.families.n_aware == int(m.families.aware.sum())


def test_more_services_more_families_reached():
    lo = run_model(
        make_cfg(
            steps=24,
            **{
                "region.state_institution_capacity": 0.0,
                "org.services_per_volunteer": 0.0,
                "org.services_per_staff": 0.0,
                "partnership.productivity": 0.0,
            },
        )
    )
    hi = run_model(make_cfg(steps=24))
    assert lo.timeseries()["families_served"].sum() == 0
    assert hi.timeseries()["reached_in_difficulty"].iloc[-1] > 0.1
    assert hi.timeseries()["share_crisis"].iloc[-1] < lo.timeseries()["share_crisis"].iloc[-1]


# ---------------------------------------------------------------- partnerships
def test_acceptance_rises_with_trust_and_plan_fit():
    m = CrossSectorModel(make_cfg(steps=3))
    slot = int(np.flatnonzero(m.ngo_alive)[0])
    ngo = m.ngo0 + slot
    muni = m.muni0 + int(m.org_municipality[ngo])
    base = m.acceptance_probability(muni, -1, ngo)
    e = m.trust.ensure_edges(np.array([muni]), np.array([ngo]), 0)
    m.trust.record(np.repeat(e, 20), np.ones(20, bool), 0)
    trusted = m.acceptance_probability(muni, -1, ngo)
    assert m.trust.trust(e)[0] > 0.8
    assert trusted > base
    m.plans[m.org_municipality[ngo], :] = False
    no_fit = m.acceptance_probability(muni, -1, ngo)
    m.plans[m.org_municipality[ngo], m.ngo_domain[slot]] = True
    fit = m.acceptance_probability(muni, -1, ngo)
    assert fit > no_fit


def test_all_four_forms_occur_and_failures_dissolve():
    m = run_model(
        make_cfg(
            steps=48,
            **{"partnership.proposal_rate": 2.0, "partnership.commitment_ngo_base": 0.1, "org.ngo_capacity_beta": (1.0, 8.0)},
        )
    )
    log = m.partnership_log()
    assert set(log["form"]) == {"gov_business", "business_ngo", "gov_ngo", "trilateral"}
    assert (log["reason"] == "low_trust").any()
    assert (log["broken"] > 0).any()


def _output_by_form(seed: int, rho: float) -> dict[str, float]:
    cfg = make_cfg(
        steps=3,
        seed=seed,
        **{"partnership.commitment_gov": 1.0, "partnership.commitment_business": 1.0,
           "partnership.commitment_ngo_base": 1.0, "partnership.ces_rho": rho},
    )  # fmt: skip
    out = {}
    for name, use in {"tri": (1, 1, 1), "gov_ngo": (1, 0, 1), "biz_ngo": (0, 1, 1), "gov_biz": (1, 1, 0)}.items():
        m = CrossSectorModel(cfg)  # same seed: identical starting state for every form
        m.step()
        slot = int(np.flatnonzero(m.ngo_alive)[0])
        ngo = m.ngo0 + slot
        mi = int(m.org_municipality[ngo])
        members = (m.muni0 + mi if use[0] else -1, m.biz0 if use[1] else -1, ngo if use[2] else -1)
        m.partnerships.active[:] = False
        pid = create_partnership(m.state, members, mi, int(m.ngo_domain[slot]), 12, mechanism=0)
        m.mechanisms["delivery"].step()
        out[name] = float(m.partnerships.output[pid])
    return out


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_trilateral_partnership_has_synergy_in_the_model(seed):
    """Complementary resources (CES, rho < 1): three partners produce more than their pairs add up to.

    With linear output (rho = 1) each member's resources add up, so the trilateral
    output is exactly half the sum of the three bilateral forms; with the default
    complementarity it is clearly more.
    """
    lin = _output_by_form(seed, 1.0)
    pairs_lin = (lin["gov_ngo"] + lin["biz_ngo"] + lin["gov_biz"]) / 2
    assert lin["tri"] == pytest.approx(pairs_lin, rel=1e-9)  # the yardstick: no synergy, no excess
    ces = _output_by_form(seed, make_cfg().partnership.ces_rho)
    assert make_cfg().partnership.ces_rho < 1.0
    assert ces["tri"] > 1.05 * (ces["gov_ngo"] + ces["biz_ngo"] + ces["gov_biz"]) / 2
    assert ces["tri"] > max(ces["gov_ngo"], ces["biz_ngo"], ces["gov_biz"])


# ---------------------------------------------------------------- organisations
def test_turnover_removes_municipal_ties():
    m = CrossSectorModel(make_cfg(steps=3, **{"org.turnover_municipal": 1.0, "trust.tie_rebuild": 0.0}))
    muni_orgs = np.arange(m.muni0, m.biz0)
    n = m.trust.n
    had = int((m.trust.active[:n] & (np.isin(m.trust.src[:n], muni_orgs) | np.isin(m.trust.dst[:n], muni_orgs))).sum())
    assert had > 0
    m.mechanisms["turnover"].step()
    left = int((m.trust.active[:n] & (np.isin(m.trust.src[:n], muni_orgs) | np.isin(m.trust.dst[:n], muni_orgs))).sum())
    assert left == 0


def test_insolvent_ngos_die_and_are_liquidated():
    m = run_model(make_cfg(steps=24, **{"org.overhead_cost": 200_000.0, "org.insolvency_months": 2, "org.ngo_birth_rate": 0.0}))
    ts = m.timeseries()
    assert ts["ngo_deaths"].sum() > 0
    dead = np.flatnonzero(m.ngo_died >= 0)
    assert np.allclose(m.ledger.balance[m.ngo0 + dead], 0.0)
    assert all((m.ngo0 + s) not in m.org_agent for s in dead)


def test_a_dead_ngos_endowment_is_liquidated_too():
    """Closing an NGO liquidates its endowment's capital and reserve as well as its cash."""
    kw = {"org.overhead_cost": 200_000.0, "org.insolvency_months": 2, "org.ngo_birth_rate": 0.0,
          "finance.endowment_share": 1.0, "finance.endowment_initial_share": 1.0}  # fmt: skip
    m = run_model(make_cfg(steps=24, **kw))
    dead = np.flatnonzero(m.ngo_died >= 0)
    assert dead.size > 0
    for base in (m.ngo0, m.cap0, m.res0):
        assert np.allclose(m.ledger.balance[base + dead], 0.0)
    at = m.account_table()
    f = m.flows()
    liq = f[f["channel"].astype(str) == "liquidation"]
    kinds = set(at["kind"].to_numpy()[liq["src"]])
    assert "endowment_capital" in kinds  # the dead NGOs' principal went to liquidation


def test_births_create_agents():
    m = run_model(make_cfg(steps=24, **{"org.ngo_birth_rate": 1.0}))
    born = np.flatnonzero(m.ngo_born > 0)
    assert born.size > 0
    assert all((m.ngo0 + s) in m.org_agent for s in born if m.ngo_alive[s])
