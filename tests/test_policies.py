"""Each resource-centre model's and the cluster's defining mechanism."""

from pathlib import Path

import numpy as np
import pytest
from conftest import assert_increases, make_cfg, over_seeds, pair_trust

from analysis.experiment import arm_configs, compose, load_experiment
from sim.mechanisms.budgets import reserved_state_inst
from sim.mechanisms.delivery import DeliveryTerms, deliver_contributions
from sim.mechanisms.resource_centres import MUNI_RC, PDC
from sim.model import CrossSectorModel, run_model
from sim.params import ConfigError, replace

ROOT = Path(__file__).resolve().parent.parent


def rc_cfg(model: str, steps: int = 24, **changes):
    cfg = compose([f"rc_model={model}", f"steps={steps}", "output.plots=false"])
    return replace(cfg, **changes) if changes else cfg


# ------------------------------------------------------------ administrative
def test_specialist_turnover_removes_the_specialists_ties():
    m = CrossSectorModel(rc_cfg("administrative", **{"rc_model.specialist_turnover": 0.0, "trust.tie_rebuild": 0.0}))
    for _ in range(6):
        m.step()
    rc = m.rc.orgs
    n = m.trust.n

    def ties_of_centres():
        act = m.trust.active[:n]
        return int((act & (np.isin(m.trust.src[:n], rc) | np.isin(m.trust.dst[:n], rc))).sum())

    before = ties_of_centres()
    assert before > 0  # support built personal ties with NGOs
    m.trust.replace_person(rc)  # the specialists leave
    assert ties_of_centres() == 0
    # and the model's own hazard does it too
    m2 = CrossSectorModel(rc_cfg("administrative", **{"rc_model.specialist_turnover": 1.0, "trust.tie_rebuild": 0.0}))
    for _ in range(3):
        m2.step()
    n2 = m2.trust.n
    carried = m2.trust.active[:n2] & np.isin(m2.trust.src[:n2], m2.rc.orgs) & (m2.trust.r[:n2] > 1.5)
    assert not carried.any()  # no tie of a specialist survives a month with evidence from before


def test_overload_spreads_support_thin():
    few = CrossSectorModel(rc_cfg("administrative", **{"rc_model.ngos_per_staff": 2.0}))
    many = CrossSectorModel(rc_cfg("administrative", **{"rc_model.ngos_per_staff": 100.0}))
    n_few, n_many = [], []
    for _ in range(6):
        few.step()
        many.step()
        n_few.append(few.rc.n_supported)
        n_many.append(many.rc.n_supported)
    assert np.mean(n_few) <= 2.0 * few.n_muni * 1.5
    assert np.mean(n_many) > 3 * np.mean(n_few)


def test_personal_brokerage_raises_request_fulfilment():
    base = rc_cfg("administrative", 36, **{"rc_model.specialist_turnover": 0.0, "finance.request_fulfil_base": 0.0})

    def share(seed: int, w: float) -> float:
        ts = run_model(replace(base, seed=seed, **{"rc_model.personal_brokerage": w})).timeseries()
        return float(ts["requests_fulfilled"].sum() / ts["requests"].sum())

    on, off = over_seeds(lambda s: share(s, 1.0)), over_seeds(lambda s: share(s, 0.0))
    assert_increases(on, off, "request fulfilment with the specialist's brokerage")


# --------------------------------------------------------------- subordinate
def test_subordinate_serves_only_its_domain():
    m = CrossSectorModel(rc_cfg("subordinate"))
    served_domains = set()
    for _ in range(12):
        m.step()
        s = np.flatnonzero(m.rc.supported)
        muni = m.org_municipality[m.ngo0 + s]
        assert (m.ngo_domain[s] == m.rc.domain[muni]).all()
        served_domains |= set(m.ngo_domain[s].tolist())
    assert served_domains  # it did serve someone


def test_nominal_reporting_means_no_effect():
    real = CrossSectorModel(rc_cfg("subordinate", **{"rc_model.effectiveness": 1.0}))
    nominal = CrossSectorModel(rc_cfg("subordinate", **{"rc_model.effectiveness": 0.0}))
    for _ in range(12):
        real.step()
        nominal.step()
    assert nominal.rc.last_supported.max() < 0  # all of its work was reporting
    assert real.rc.last_supported.max() >= 0


def test_subordinate_funding_is_stable():
    m = run_model(rc_cfg("subordinate", 36))
    f = m.flows()
    paid = f[f["channel"].astype(str) == "rc_funding"]
    assert set(paid["step"]) == {1, 13, 25}  # every January
    assert (m.rc.short_months == 0).all()


# -------------------------------------------------------------- municipal RC
def test_training_raises_capacity():
    base = run_model(make_cfg(steps=36))
    rc = run_model(rc_cfg("municipal_rc", 36, **{"rc_model.transform": False}))
    assert rc.timeseries()["ngo_capacity_mean"].iloc[-1] > base.timeseries()["ngo_capacity_mean"].iloc[-1]


def test_practices_spread_from_the_bank_and_along_ties():
    m = CrossSectorModel(
        rc_cfg(
            "municipal_rc",
            **{"rc_model.practice_adoption": 0.5, "rc_model.transform": False, "rc_model.funding_municipal": 1.0e6},
        )
    )
    counts = []
    for _ in range(12):
        m.step()
        counts.append(int((m.rc.practice & m.ngo_alive).sum()))
    assert counts[-1] > counts[0] > 0
    off = CrossSectorModel(rc_cfg("municipal_rc", **{"rc_model.practice_bank": False, "rc_model.transform": False}))
    for _ in range(6):
        off.step()
    assert not off.rc.practice.any()


def test_outreach_raises_awareness():
    base = rc_cfg("municipal_rc", 24, **{"rc_model.transform": False})

    def aware(seed: int, outreach: float) -> float:
        m = run_model(replace(base, seed=seed, **{"rc_model.outreach": outreach}))
        return float(m.timeseries()["aware_share"].iloc[-1])

    assert_increases(over_seeds(lambda s: aware(s, 0.2)), over_seeds(lambda s: aware(s, 0.0)), "awareness with outreach")


def test_friction_erodes_the_administrations_trust_in_the_centre():
    base = rc_cfg("municipal_rc", 24, **{"rc_model.transform": False})

    def trust(seed: int, friction: float) -> float:
        m = run_model(replace(base, seed=seed, **{"rc_model.friction": friction}))
        return float(pair_trust(m, np.arange(m.muni0, m.biz0), m.rc.orgs).mean())

    lo, hi = over_seeds(lambda s: trust(s, 0.0)), over_seeds(lambda s: trust(s, 3.0))
    assert_increases(lo, hi, "administration's trust in the centre without friction")


def test_unfunded_centre_works_with_fewer_staff():
    m = run_model(rc_cfg("municipal_rc", 24, **{"rc_model.funding_grant_prob": 0.0, "rc_model.transform": False}))
    assert (m.rc.short_months > 0).all()  # no money at all: it cannot pay anyone
    assert m.timeseries()["rc_supported"].iloc[-6:].sum() == 0


def test_transformation_happens_when_conditions_hold_and_fails_when_they_do_not():
    easy = {
        "rc_model.transform_trust": 0.0,
        "rc_model.transform_ties": 0,
        "rc_model.transform_income": 0.0,
        "rc_model.transform_months": 2,
        "rc_model.transform_charity_ties": 0,  # step 4 has a condition since issue #13
        "rc_model.funding_grant_prob": 1.0,
        "rc_model.funding_municipal": 2.0e6,  # grants are won by competing now (issue #13): money must not run out
    }
    m = CrossSectorModel(rc_cfg("municipal_rc", 24, **easy))
    stages = []
    for _ in range(24):
        m.step()
        stages.append(m.rc.stage.copy())
    assert (m.rc.kind == PDC).all()  # 4 steps, each held 2 months
    assert max(s.max() for s in stages) == 4
    hard = CrossSectorModel(rc_cfg("municipal_rc", 24, **{**easy, "rc_model.transform_trust": 1.0}))
    for _ in range(24):
        hard.step()
    assert (hard.rc.kind == MUNI_RC).all() and (hard.rc.stage == 0).all()


# ----------------------------------------------------- public development centre
def test_centre_of_public_development_coexecutes_programmes_and_bridges_sectors():
    m = run_model(rc_cfg("public_development_centre", 24))
    f = m.flows()
    prog = f[f["channel"].astype(str) == "rc_programme"]
    assert (prog["src"].isin(range(m.muni0, m.biz0))).any()  # from the administration to the centre
    assert (prog["dst"] >= m.ngo0).any()  # and on to NGOs
    assert m.rc.bridged > 0
    grants = f[(f["channel"].astype(str) == "rc_grant")]
    assert grants["src"].isin([m.ext["federal_budget"], m.region]).all()  # won in the competitions (issue #13)


def test_charity_development_raises_csr_budgets():
    lo = CrossSectorModel(rc_cfg("public_development_centre", 3, **{"rc_model.charity_development": 0.0}))
    hi = CrossSectorModel(rc_cfg("public_development_centre", 3, **{"rc_model.charity_development": 0.5}))
    lo.step()
    hi.step()
    assert hi.csr_now.sum() == pytest.approx(1.5 * lo.csr_now.sum())


def test_network_costs_staff_time():
    """Network membership takes staff time: fewer NGOs supported, paired over the fixed seeds."""

    def supported(seed: int, network: bool) -> float:
        kw = {"rc_model.network": network, "rc_model.network_cost": 0.9, "rc_model.network_exit": 0.0}
        kw["rc_model.transform"] = False
        m = CrossSectorModel(replace(rc_cfg("municipal_rc", 12), seed=seed, **kw))
        total = 0
        for _ in range(12):
            m.step()
            total += m.rc.n_supported
        return float(total)

    off, on = over_seeds(lambda s: supported(s, False)), over_seeds(lambda s: supported(s, True))
    assert_increases(off, on, "NGOs supported without the network")


# -------------------------------------------------------------------- cluster
def cl_cfg(steps=30, **changes):
    # the launch steps all in month 6 (their order and spacing: tests/test_cluster.py)
    return make_cfg(steps=steps, **{"cluster.enabled": True, "cluster.launch_month": 6, "cluster.launch_step_months": 0,
                                    **changes})  # fmt: skip


def test_cluster_core_is_the_leading_family_ngo_and_zones_are_set():
    m = CrossSectorModel(cl_cfg())
    for _ in range(6):  # months 0-5; the cluster launches in month 6
        m.step()
    assert not m.cluster.launched
    fam = np.flatnonzero(m.ngo_alive & np.isin(m.ngo_domain, (0, 4)))
    leading = m.ngo0 + fam[np.argmax(m.ngo_capacity[fam])]
    for _ in range(2):
        m.step()
    assert m.cluster.launched
    assert m.cluster.core == leading  # the leading family NGO
    zones = m.cluster.zone
    assert zones[m.cluster.core] == 1
    assert set(np.unique(zones[m.ngo0 :][zones[m.ngo0 :] > 0])) <= {1, 2, 4}  # core, main, auxiliary (Table IV.1)
    assert set(np.unique(zones[m.biz0 : m.manager][zones[m.biz0 : m.manager] > 0])) <= {3}  # providing
    assert fam.size > 0
    log = m.partnership_log()
    strategic = log[log["mechanism"] == "cluster_strategic"]
    assert len(strategic) > 0 and (strategic["form"] == "trilateral").all()
    assert ((strategic["planned_end"] - strategic["start"]) == m.cfg.cluster.agreement_months).all()


def test_nothing_happens_before_launch():
    m = CrossSectorModel(cl_cfg(**{"cluster.launch_month": 20}))
    for _ in range(12):
        m.step()
    assert not m.cluster.launched and not m.cluster.member.any()
    assert m.flows()["channel"].astype(str).ne("cluster_funding").all()


def test_crisis_centre_serves_families_in_difficulty():
    m = run_model(cl_cfg(**{"cluster.crisis_capacity": 50.0, "region.state_institution_capacity": 0.0}))
    assert m.timeseries()["families_served_crisis_centre"].sum() > 0
    off = run_model(cl_cfg(**{"cluster.crisis_centre": False}))
    assert off.timeseries()["families_served_crisis_centre"].sum() == 0


def test_routing_uses_spare_capacity():
    kw = {
        "region.state_institution_capacity": 30.0,
        "families.need_domain_shares": (0.96, 0.01, 0.01, 0.01, 0.01),
        "cluster.crisis_centre": False,
    }

    def served(seed: int, routing: bool) -> float:
        m = run_model(replace(cl_cfg(**kw), seed=seed, **{"cluster.routing": routing}))
        return float(m.families.times_served.sum())

    on, off = over_seeds(lambda s: served(s, True)), over_seeds(lambda s: served(s, False))
    assert_increases(on, off, "families served with routing")


def test_quality_control_raises_members_delivery():
    """With full quality control a member business always delivers; an outsider keeps its commitment probability."""
    m = CrossSectorModel(cl_cfg(**{"cluster.quality_control": 1.0, "cluster.coordinator_staff": 100.0}))
    for _ in range(8):
        m.step()
    assert m.cluster.commitment_boost_value() == 1.0
    ps, pp, dl = m.partnerships, m.cfg.partnership, m.mechanisms["delivery"]
    ids = ps.active_ids()
    mem = ps.members[ids]
    u = np.full((ids.size, 3), 0.999)  # above every commitment probability below 1
    terms = tuple(DeliveryTerms(
        dl.commitment, pp.gov_money, pp.business_money_share, dl.resource_scale, pp.premises_units,
        pp.business_inkind_units, reserved_state_inst(m.state, m.cfg), m.csr_now, m.cluster.member_orgs(), 1.0,
    ))  # fmt: skip
    deliver = deliver_contributions(mem, u, ps.money_equiv[ids], m.state.layout(), m.state.ngos(), m.ledger.balance, terms)[0]
    has_biz = mem[:, 1] >= 0
    member_biz = has_biz & m.cluster.member[np.maximum(mem[:, 1], 0)]
    assert member_biz.any() and (has_biz & ~member_biz).any()
    assert deliver[member_biz, 1].all()
    assert not deliver[has_biz & ~member_biz, 1].any()


def test_strategic_session_creates_cross_sector_ties():
    m = CrossSectorModel(cl_cfg(**{"cluster.sessions": [8], "cluster.session_ties": 5.0}))
    for _ in range(9):
        m.step()
    assert m.cluster.session_ties > 0


def test_cluster_endowment_founds_the_centres_capital():
    """By default the centre's endowment forms from donations (no regional money, concept s.VII); with the regional
    seed switched on as a policy option (3 mln, the 275-FZ minimum) it is formed at once from the region's money."""
    m = CrossSectorModel(cl_cfg(**{"cluster.endowment": True}))
    for _ in range(8):
        m.step()
    slot = m.cluster.core - m.ngo0
    assert m.ngo_endow_intent[slot] and m.ngo_endow_state[slot] in (1, 2)
    f = m.flows()
    assert not ((f["src"] == m.region) & (f["dst"] == m.cap0 + slot)).any()
    m = CrossSectorModel(cl_cfg(**{"cluster.endowment": True, "cluster.endowment_seed": 3.0e6}))
    for _ in range(8):
        m.step()
    slot = m.cluster.core - m.ngo0
    assert m.ledger.balance[m.cap0 + slot] >= 3.0e6 - 1e-6
    assert m.ngo_endow_state[slot] == 2


# ----------------------------------------------------------------- experiments
@pytest.mark.parametrize("path", sorted((ROOT / "experiments").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_experiment_builds_and_runs_a_few_steps(path):
    exp = load_experiment(path)
    assert exp.seeds >= 20
    cfgs = arm_configs(exp)
    assert set(cfgs) == set(exp.all_arms())
    for cfg in cfgs.values():
        short = {"steps": 3, "cluster.launch_month": 1} if cfg.cluster.enabled else {"steps": 3}  # launch before the end
        m = CrossSectorModel(replace(cfg, **short))
        for _ in range(3):
            m.step()
        assert m.timeseries().shape[0] == 4


def test_bad_experiment_files_are_rejected(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\narms: {a: [rc_model=nope]}\n")
    with pytest.raises(ConfigError, match="allowed values"):
        arm_configs(load_experiment(bad))
    bad.write_text("name: x\nbogus: 1\narms: {a: []}\n")
    with pytest.raises(ConfigError, match="unknown key 'bogus'"):
        load_experiment(bad)
    bad.write_text("name: x\nseeds: 0\narms: {a: []}\n")
    with pytest.raises(ConfigError, match="seeds"):
        load_experiment(bad)


def test_cluster_training_raises_main_zone_capacity():
    lo = CrossSectorModel(cl_cfg(**{"cluster.training": 0.0}))
    hi = CrossSectorModel(cl_cfg(**{"cluster.training": 0.2}))
    for _ in range(12):
        lo.step()
        hi.step()
    main = np.flatnonzero(hi.cluster.zone[hi.ngo0 :] == 2)
    assert main.size and (hi.ngo_capacity[main] > lo.ngo_capacity[main]).all()
