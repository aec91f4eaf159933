"""Each resource-centre model's and the cluster's defining mechanism."""

from pathlib import Path

import numpy as np
import pytest
from conftest import make_cfg

from analysis.experiment import arm_configs, compose, load_experiment
from sim.model import CrossSectorModel, run_model
from sim.params import ConfigError, replace
from sim.policies import MUNI_RC, PDC

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
    kw = {"rc_model.specialist_turnover": 0.0, "finance.request_fulfil_base": 0.0}
    lo = run_model(rc_cfg("administrative", 36, **{**kw, "rc_model.personal_brokerage": 0.0}))
    hi = run_model(rc_cfg("administrative", 36, **{**kw, "rc_model.personal_brokerage": 1.0}))
    share = lambda m: m.timeseries()["requests_fulfilled"].sum() / m.timeseries()["requests"].sum()  # noqa: E731
    assert share(hi) > share(lo)


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
    lo = run_model(rc_cfg("municipal_rc", 24, **{"rc_model.outreach": 0.0, "rc_model.transform": False}))
    hi = run_model(rc_cfg("municipal_rc", 24, **{"rc_model.outreach": 0.2, "rc_model.transform": False}))
    assert hi.timeseries()["aware_share"].iloc[-1] > lo.timeseries()["aware_share"].iloc[-1]


def test_friction_erodes_the_administrations_trust_in_the_centre():
    lo = run_model(rc_cfg("municipal_rc", 24, **{"rc_model.friction": 0.0, "rc_model.transform": False}))
    hi = run_model(rc_cfg("municipal_rc", 24, **{"rc_model.friction": 3.0, "rc_model.transform": False}))
    t = lambda m: m.trust.pair_trust(np.arange(m.muni0, m.biz0), m.rc.orgs).mean()  # noqa: E731
    assert t(hi) < t(lo)


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
        "rc_model.funding_grant_prob": 1.0,
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
    assert (grants["src"] == m.ext["federal_budget"]).all()  # money brought in from outside


def test_charity_development_raises_csr_budgets():
    lo = CrossSectorModel(rc_cfg("public_development_centre", 3, **{"rc_model.charity_development": 0.0}))
    hi = CrossSectorModel(rc_cfg("public_development_centre", 3, **{"rc_model.charity_development": 0.5}))
    lo.step()
    hi.step()
    assert hi._csr_now.sum() == pytest.approx(1.5 * lo._csr_now.sum())


def test_network_costs_staff_time():
    on = CrossSectorModel(
        rc_cfg(
            "municipal_rc",
            **{"rc_model.network": True, "rc_model.network_cost": 0.9, "rc_model.network_exit": 0.0, "rc_model.transform": False},
        )
    )
    off = CrossSectorModel(rc_cfg("municipal_rc", **{"rc_model.network": False, "rc_model.transform": False}))
    a, b = [], []
    for _ in range(12):
        on.step()
        off.step()
        a.append(on.rc.n_supported)
        b.append(off.rc.n_supported)
    assert sum(a) < sum(b)


# -------------------------------------------------------------------- cluster
def cl_cfg(steps=30, **changes):
    return make_cfg(steps=steps, **{"cluster.enabled": True, "cluster.launch_month": 6, **changes})


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
    assert set(np.unique(zones[m.ngo0 :][zones[m.ngo0 :] > 0])) <= {1, 2}
    assert set(np.unique(zones[m.biz0 : m.manager][zones[m.biz0 : m.manager] > 0])) <= {3, 4}
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


def test_one_window_raises_uptake_with_everything_else_equal():
    kw = {
        "cluster.local_coalitions": 0.0,
        "cluster.strategic_agreements": 0,
        "cluster.sessions": [],
        "cluster.crisis_centre": False,
        "cluster.routing": False,
        "cluster.trust_programme": 0.0,
        "cluster.quality_control": 0.0,
        "cluster.cost": 0.0,
    }
    off = run_model(cl_cfg(**{**kw, "cluster.hotline": False, "cluster.online_consultation": False}))
    on = run_model(cl_cfg(**kw))
    a, b = off.timeseries().iloc[-1], on.timeseries().iloc[-1]
    assert b["aware_share"] > a["aware_share"]
    assert on.families.times_served.sum() > off.families.times_served.sum()


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
    off = run_model(cl_cfg(**{**kw, "cluster.routing": False}))
    on = run_model(cl_cfg(**kw))
    assert on.families.times_served.sum() > off.families.times_served.sum()


def test_quality_control_raises_members_delivery():
    m = CrossSectorModel(cl_cfg(**{"cluster.quality_control": 1.0, "cluster.coordinator_staff": 100.0}))
    for _ in range(8):
        m.step()
    members = np.flatnonzero(m.cluster.member)
    assert (m.cluster.commitment_boost(members) == 1.0).all()
    outsiders = np.flatnonzero(~m.cluster.member & m.alive)
    assert (m.cluster.commitment_boost(outsiders) == 0.0).all()


def test_strategic_session_creates_cross_sector_ties():
    m = CrossSectorModel(cl_cfg(**{"cluster.sessions": [8], "cluster.session_ties": 5.0}))
    for _ in range(9):
        m.step()
    assert m.cluster.session_ties > 0


def test_cluster_endowment_founds_the_centres_capital():
    m = CrossSectorModel(cl_cfg(**{"cluster.endowment": True}))
    for _ in range(8):
        m.step()
    slot = m.cluster.core - m.ngo0
    assert m.ledger.balance[m.cap0 + slot] >= m.cfg.cluster.endowment_seed
    assert m.ngo_endow_state[slot] == 2


# ----------------------------------------------------------------- experiments
@pytest.mark.parametrize("path", sorted((ROOT / "experiments").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_experiment_builds_and_runs_a_few_steps(path):
    exp = load_experiment(path)
    assert exp.seeds >= 20
    cfgs = arm_configs(exp)
    assert set(cfgs) == set(exp.arms)
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
