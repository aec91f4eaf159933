"""The family cluster as the concept describes it (issue #13): launch order, zones, agreements, banks, one window."""

import numpy as np
import pytest
from conftest import assert_increases, make_cfg, over_seeds

from analysis.experiment import compose
from sim.mechanisms.cluster import FAMILY_DOMAINS, LAUNCH_STEPS, ZONE_INTERACTION, ZONES
from sim.mechanisms.one_window import TIERS
from sim.model import CrossSectorModel, run_model
from sim.params import ConfigError, replace


def cl_cfg(steps=30, **changes):
    return make_cfg(steps=steps, **{"cluster.enabled": True, "cluster.launch_month": 4, **changes})


def run(cfg):
    m = CrossSectorModel(cfg)
    for _ in range(cfg.steps):
        m.step()
    return m


# ------------------------------------------------------------ launch sequence
def test_launch_follows_the_concepts_order():
    """Strategic session, agreement of intent, decree, centre, agreements; nothing operates before the agreements."""
    cfg = cl_cfg(steps=20, **{"cluster.launch_step_months": 3, "cluster.sessions": []})
    m = CrossSectorModel(cfg)
    seen = []
    for _ in range(cfg.steps):
        m.step()
        seen.append((m.t, m.cluster.stage, int(m.cluster.member.sum()), m.cluster.launched, m.cluster.session_ties))
    events = m.cluster.events
    assert [e[1] for e in events] == list(LAUNCH_STEPS)
    assert [e[0] for e in events] == [4 + 3 * k for k in range(len(LAUNCH_STEPS))]
    session_t, centre_t, agreements_t = events[0][0], events[3][0], events[4][0]
    for t, _stage, members, launched, ties in seen:
        assert (ties > 0) == (t >= session_t)  # the session comes first and makes ties
        assert (members > 0) == (t >= centre_t)  # members join when the centre opens
        assert launched == (t >= agreements_t)  # it operates once the agreements are signed
    log = m.partnership_log()
    strategic = log[log["mechanism"] == "cluster_strategic"]
    assert len(strategic) and strategic["start"].min() == agreements_t
    assert m.flows().query("channel == 'cluster_funding'")["step"].min() == agreements_t + 1


# ------------------------------------------------------------ zones
def test_zones_follow_table_iv1():
    m = run(cl_cfg(steps=12, **{"cluster.launch_step_months": 0}))
    z = m.cluster.zone
    biz = z[m.biz0 : m.manager]
    assert set(np.unique(biz[biz > 0])) == {ZONES.index("providing")}  # small business and trade too
    ngo_z = z[m.ngo0 :]
    dom = m.ngo_domain
    main, aux = ngo_z == ZONES.index("main"), ngo_z == ZONES.index("auxiliary")
    assert main.any() and aux.any()
    assert np.isin(dom[main], FAMILY_DOMAINS).all()  # pro-family NGOs in the main zone
    assert not np.isin(dom[aux], FAMILY_DOMAINS).any()  # social services, volunteers, social entrepreneurs
    assert not (z == ZONES.index("accompanying")).any()  # universities act through training only
    assert ZONE_INTERACTION == {
        "main": "cooperation/mutual help",
        "providing": "assistance/support",
        "auxiliary": "competition/rivalry",
        "accompanying": "cooperation/integration",
    }


# ------------------------------------------------------------ agreements
AGR = {"cluster.launch_step_months": 0, "cluster.agreement_months": 6, "cluster.quality_control": 1.0,
       "cluster.coordinator_staff": 100.0, "region.municipal_support_budget": 50e6}  # fmt: skip


def test_agreements_renew_at_term():
    m = run(cl_cfg(steps=26, **AGR))
    cl, parts = m.cluster, m.partnerships
    assert cl.agreements.size and cl.renewals >= cl.agreements.size // 2
    assert parts.active[cl.agreements].any()  # still running 3 terms later
    assert (parts.end[cl.agreements] - parts.start[cl.agreements] > 6).any()


def test_agreements_lapse_when_the_municipality_has_no_money():
    poor = run(cl_cfg(steps=26, **{**AGR, "region.municipal_support_budget": 0.0, "region.state_institution_capacity": 0.0}))
    assert poor.cluster.renewals == 0 and poor.cluster.lapses > 0


def test_agreements_lapse_when_renewal_is_off_or_conditions_fail():
    off = run(cl_cfg(steps=26, **AGR, **{"cluster.renewal": False}))
    cl, parts = off.cluster, off.partnerships
    assert cl.renewals == 0 and cl.lapses > 0
    assert not parts.active[cl.agreements].any()
    # renewal asks more kept obligations than any agreement can show: none renews
    strict = run(cl_cfg(steps=26, **{**AGR, "cluster.quality_control": 0.0, "cluster.renewal_min_kept": 1.0,
                                     "partnership.commitment_gov": 0.5, "partnership.commitment_business": 0.5}))  # fmt: skip
    assert strict.cluster.lapses > 0
    assert strict.cluster.renewals < strict.cluster.lapses


def test_ngo_ngo_coalitions_form_and_the_weaker_partner_gains():
    m = run(cl_cfg(steps=18, **{"cluster.launch_step_months": 0, "cluster.ngo_coalitions": 3.0}))
    cl = m.cluster
    assert cl.ngo_coalitions > 0
    pairs = cl.ngo_pairs
    assert pairs.size and (pairs >= m.ngo0).all()  # both members are NGOs
    assert (cl.zone[pairs] == ZONES.index("main")).all()

    def weak_gain(seed: int, help_: float) -> float:
        mm = run(replace(cl_cfg(steps=18, **{"cluster.launch_step_months": 0, "cluster.ngo_coalitions": 3.0,
                                             "cluster.mutual_help": help_, "cluster.training": 0.0}), seed=seed))  # fmt: skip
        main = mm.cluster.member_ngos() - mm.ngo0
        return float(mm.ngo_capacity[main].mean())

    assert_increases(over_seeds(lambda s: weak_gain(s, 0.3)), over_seeds(lambda s: weak_gain(s, 0.0)), "main-zone capacity")


# ------------------------------------------------------------ banks
def test_banks_and_project_classes_change_which_projects_form():
    """With the banks projects come in four classes (strategic ones with government) and pick the more capable NGOs."""
    kw = {"cluster.launch_step_months": 0, "cluster.ideas_per_member": 0.1, "cluster.local_coalitions": 1.0}

    def projects(seed: int, banks: bool):
        m = run(replace(cl_cfg(steps=24, **kw), seed=seed, **{"cluster.banks": banks}))
        log = np.array(m.cluster.banks.log, dtype=float).reshape(-1, 6)
        return log

    on = [projects(s, True) for s in range(1, 9)]
    off = [projects(s, False) for s in range(1, 9)]
    assert all((lg[:, 1] == -1).all() for lg in off)  # random coalitions, no classes
    assert all(lg.size and (lg[:, 1] >= 0).all() for lg in on)
    cls = np.concatenate([lg[:, 1] for lg in on])
    assert set(np.unique(cls)) == {0, 1, 2, 3}
    with_gov = np.concatenate([lg[:, 4] >= 0 for lg in on])
    assert (with_gov == (cls >= 2)).all()  # breakthrough and flagship projects bring in government
    assert not any((lg[:, 4] >= 0).any() for lg in off)
    assert_increases([lg[:, 5].mean() for lg in on], [lg[:, 5].mean() for lg in off], "capacity of the projects' NGOs")


# ------------------------------------------------------------ one window
def test_one_window_tiers_open_in_stages():
    m = run(cl_cfg(steps=24, **{"cluster.launch_step_months": 1, "cluster.tier_months": [0, 3, 7]}))
    opened = m.cluster.window.opened_at
    assert opened == m.cluster.events[-1][0]
    assert m.cluster.window.first_open.tolist() == [opened, opened + 3, opened + 7]
    ts = m.timeseries()  # row k is the end of month k - 1
    for k, tier in enumerate(TIERS):
        level = ts[f"one_window_{tier}_level"].to_numpy()
        assert (level[: opened + [0, 3, 7][k] + 1] == 0).all()


@pytest.mark.parametrize("payer", ["region", "core"])
def test_one_window_costs_are_paid_by_someone_and_money_adds_up(payer):
    m = run(cl_cfg(steps=24, **{"cluster.launch_step_months": 0, "cluster.crisis_capacity": 50.0,
                                "cluster.one_window_payer": payer}))  # fmt: skip
    f = m.flows()
    core = m.cluster.core
    costs = f[f["channel"] == "one_window_costs"]
    assert len(costs) and (costs["src"] == core).all() and costs["amount"].sum() > 0
    assert (costs["dst"] == m.ext["operating_costs"]).all()
    paid_in = f[f["channel"] == "one_window"]
    if payer == "region":
        assert (paid_in["src"] == m.region).all() and (paid_in["dst"] == core).all()
        assert paid_in["amount"].sum() == pytest.approx(costs["amount"].sum())
    else:
        assert paid_in.empty
    assert m.cluster.window.paid.sum() == pytest.approx(costs["amount"].sum())
    assert m.cluster.window.paid[2] > 0  # the crisis centre's services are paid for
    assert np.nanmax(np.abs(m.timeseries()["ledger_imbalance"])) < 1e-3
    assert m.ledger.balance[m.region] >= -1e-6


def test_an_unpaid_tier_works_only_at_its_paid_share():
    """The core pays a hotline it cannot afford: it adds almost no awareness; paid by the region it works in full."""
    kw = {"cluster.launch_step_months": 0, "cluster.tier_costs": [1e12, 0.0]}
    poor = CrossSectorModel(cl_cfg(steps=12, **kw, **{"cluster.one_window_payer": "core"}))
    for _ in range(8):
        poor.step()
    assert poor.cluster.window.tier_open(0)
    assert poor.cluster.awareness_bonus() < 1e-3 * poor.cfg.cluster.hotline_awareness
    paid = CrossSectorModel(cl_cfg(steps=12, **{"cluster.launch_step_months": 0}))
    for _ in range(8):
        paid.step()
    assert paid.cluster.awareness_bonus() == pytest.approx(paid.cfg.cluster.hotline_awareness)


# ------------------------------------------------------------ inputs and scenario
@pytest.mark.parametrize(
    ("key", "value", "needle"),
    [
        ("cluster.one_window_payer", "nobody", "allowed values region, core"),
        ("cluster.class_shares", [0.5, 0.5, 0.5, 0.5], "allowed shares summing to 1"),
        ("cluster.tier_months", [0, 1], "allowed exactly 3"),
        ("cluster.renewal_min_kept", 1.5, "allowed 0..1"),
        ("cluster.launch_step_months", -1, "allowed 0..24"),
    ],
)
def test_bad_cluster_values_are_rejected(key, value, needle):
    with pytest.raises(ConfigError, match=needle) as e:
        replace(make_cfg(), **{key: value})
    assert key in str(e.value) and "\n" not in str(e.value)


def test_pilot_cluster_scenario_composes_from_the_concept():
    cfg = compose(["scenario=cluster", "steps=20", "output.plots=false"])
    assert cfg.cluster.enabled and cfg.cluster.endowment and cfg.rc_model.model == "none"
    m = run_model(cfg)
    assert [e[1] for e in m.cluster.events] == list(LAUNCH_STEPS)
    assert m.ngo_endow_state[m.cluster.core - m.ngo0] > 0
