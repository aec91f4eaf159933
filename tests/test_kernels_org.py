"""The organisation-level kernels against plain numpy versions of the same rules.

The references below are the vectorised numpy code the kernels replaced
(written for clarity, not speed). Each test feeds both the state of a model
in mid-run (a municipal resource centre and the cluster switched on, so that
every branch is used) and compares the results exactly.
"""

import numpy as np
import pytest

from analysis.experiment import compose
from sim import agents as ag
from sim import state
from sim.mechanisms import delivery, dissolution, giving, ngo_life, requests, services, trust
from sim.mechanisms.budgets import reserved_state_inst
from sim.mechanisms.formation import PAIR_A, PAIR_B, create_partnerships
from sim.mechanisms.giving import BUSINESS_TO_NGO
from sim.mechanisms.trust import Rates, Ties, TrustNetwork
from sim.model import N_DOMAINS, CrossSectorModel
from sim.params import TrustParams, replace
from sim.partnerships import BIZ, GOV, NGOS, PartnershipArrays
from sim.state import NGOArrays, OrgArrays


@pytest.fixture(scope="module")
def model() -> CrossSectorModel:
    cfg = compose(["rc_model=municipal_rc", "cluster=on", "steps=30", "output.plots=false", "seed=4"])
    m = CrossSectorModel(replace(cfg, **{"cluster.launch_month": 3}))
    for _ in range(20):
        m.step()
    assert m.cluster.active and m.partnerships.active_ids().size > 20
    return m


def ref_commitment_boost(cluster, orgs: np.ndarray) -> np.ndarray:
    """The cluster's boost of each member's delivery (0 for outsiders and absent members), as numpy."""
    if not cluster.active:
        return np.zeros(len(orgs))
    return np.where(cluster.member[np.maximum(orgs, 0)] & (orgs >= 0), cluster.commitment_boost_value(), 0.0)


def ref_trust(tr: TrustNetwork, idx: np.ndarray) -> np.ndarray:
    w = tr.params.prior_weight
    prior = tr.institutional.reshape(-1)[tr.prior_cell[idx]]
    return (tr.r[idx] + w * prior) / (tr.r[idx] + tr.s[idx] + w)


def ref_pair_trust(tr: TrustNetwork, i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Trust of i in j and the active edge (-1 if none), from a dict of the edge arrays."""
    index = {(int(a), int(b)): k for k, (a, b) in enumerate(zip(tr.src[: tr.n], tr.dst[: tr.n], strict=True))}
    e = np.array([index.get((int(a), int(b)), -1) for a, b in zip(i, j, strict=True)], dtype=np.int64)
    e = np.where((e >= 0) & tr.active[np.maximum(e, 0)], e, -1)
    out = tr.institutional[i, tr.trust_sector[j]]
    has = e >= 0
    out[has] = ref_trust(tr, e[has])
    return out, e


# ------------------------------------------------------------------ edges
def test_edge_table_matches_a_dict_through_growth_turnover_and_compaction():
    rng = np.random.default_rng(0)
    n_orgs = 300
    tr = TrustNetwork(n_orgs, rng.integers(0, 3, n_orgs), TrustParams(), capacity=16)
    ref: dict[tuple[int, int], int] = {}
    for step in range(40):
        a = rng.integers(0, n_orgs, 150)
        b = rng.integers(0, n_orgs, 150)
        a, b = a[a != b], b[a != b]
        out = tr.ensure_edges(a, b, step, evidence=0.5)
        for x, y, e in zip(a.tolist(), b.tolist(), out.tolist(), strict=True):
            ref.setdefault((x, y), len(ref))  # new pairs numbered in order of first appearance
            assert e == ref[(x, y)]
        assert tr.active[out].all()
        if step % 7 == 3:
            tr.replace_person(rng.integers(0, n_orgs, 5))
        if step == 25:  # organisations die; their ties are compacted away and the table rebuilt
            tr.remove_org(np.arange(0, 150))
            remap = tr.compact()
            assert remap is not None
            ref = {k: int(remap[v]) for k, v in ref.items() if remap[v] >= 0}
    for (x, y), e in ref.items():
        assert tr.src[e] == x and tr.dst[e] == y
    qi, qj = rng.integers(0, n_orgs, 2000), rng.integers(0, n_orgs, 2000)
    expected = np.array([ref.get((int(x), int(y)), -1) for x, y in zip(qi, qj, strict=True)])
    expected = np.where((expected >= 0) & tr.active[np.maximum(expected, 0)], expected, -1)
    np.testing.assert_array_equal(tr.lookup(qi, qj), expected)


def test_dropping_ties_by_incidence_lists_matches_a_full_scan():
    rng = np.random.default_rng(1)
    n_orgs = 400
    tr = TrustNetwork(n_orgs, rng.integers(0, 3, n_orgs), TrustParams())
    tr.ensure_edges(rng.integers(0, 200, 6000), rng.integers(200, 400, 6000), 0, evidence=1.0)
    for step in range(1, 8):
        tr.ensure_edges(rng.integers(0, 400, 300), rng.integers(0, 400, 300) // 2 * 2 + 1, step)
        leave = rng.integers(0, n_orgs, 6)
        n = tr.n
        hit = tr.active[:n] & (np.isin(tr.src[:n], leave) | np.isin(tr.dst[:n], leave))
        before_r = tr.r[:n].copy()
        assert tr.replace_person(leave) == hit.sum()
        assert not tr.active[:n][hit].any() and (tr.r[:n][hit] == 0).all()
        np.testing.assert_array_equal(tr.r[:n][~hit], before_r[~hit])
    assert tr._inc_n > 0  # the incidence lists were used


def test_cell_edge_list_follows_new_edges():
    rng = np.random.default_rng(2)
    sectors = rng.integers(0, 3, 100)
    tr = TrustNetwork(100, sectors, TrustParams())
    for step in range(5):
        tr.ensure_edges(rng.integers(0, 100, 200), rng.integers(0, 100, 200), step)
        for cell in range(9):
            np.testing.assert_array_equal(tr.edges_in_cell(cell), np.flatnonzero(tr.pair_cell[: tr.n] == cell))


# ------------------------------------------------------------ partnerships
def test_picks_and_grouping_match_sorting(model):
    m = model
    alive = m.ngo0 + m.alive_slots()
    orgs, munis = state.group_by_municipality(alive, m.org_municipality, m.n_muni)
    order = np.argsort(m.org_municipality[alive], kind="stable")
    np.testing.assert_array_equal(orgs, alive[order])
    np.testing.assert_array_equal(munis, m.org_municipality[alive][order])
    rng = np.random.default_rng(3)
    q, u = rng.integers(0, m.n_muni + 2, 500), rng.random(500)
    start = np.searchsorted(munis, q, side="left")
    count = np.searchsorted(munis, q, side="right") - start
    expected = np.where(count > 0, orgs[np.minimum(start + (u * count).astype(np.int64), orgs.size - 1)], -1)
    np.testing.assert_array_equal(state.pick_in_municipality(orgs, munis, q, u), expected)


def test_acceptance_matches_reference(model):
    m, pp = model, model.cfg.partnership
    rng = np.random.default_rng(4)
    k = 400
    munis = rng.integers(0, m.n_muni, k)
    gov = np.where(rng.random(k) < 0.6, m.muni0 + munis, -1)
    biz = np.where(rng.random(k) < 0.6, rng.choice(m.biz_orgs, k), -1)
    ngo = np.where((rng.random(k) < 0.7) | (gov < 0) | (biz < 0), m.ngo0 + rng.choice(m.alive_slots(), k), -1)
    got = m.acceptance_probabilities(gov, biz, ngo)
    proposer = np.where(ngo >= 0, ngo, biz)
    slot = np.maximum(ngo - m.ngo0, 0)
    cap = np.where(ngo >= 0, m.ngo_capacity[slot], 0.5)
    both = np.concatenate([gov, biz])
    rows = np.concatenate([np.arange(k), np.arange(k)])
    inv = (both >= 0) & (both != np.concatenate([proposer, proposer]))
    rows, i = rows[inv], both[inv]
    t, e = ref_pair_trust(m.trust, i, proposer[rows])
    fit = (m.sector[i] == ag.SEC_MUNICIPAL) & (ngo[rows] >= 0)
    fit &= m.plans[np.maximum(m.org_municipality[i], 0), m.ngo_domain[slot[rows]]]
    z = (
        pp.accept_intercept
        + pp.accept_trust * t
        + pp.accept_capacity * cap[rows]
        + pp.accept_plan_fit * fit
        + pp.accept_personal_tie * (e >= 0)
    )
    expected = np.ones(k)
    np.multiply.at(expected, rows, 1.0 / (1.0 + np.exp(-z)))
    np.testing.assert_array_equal(got, expected)


def test_delivery_matches_reference(model):
    m, pp, ps = model, model.cfg.partnership, model.partnerships
    ids = ps.active_ids()
    k = ids.size
    mem = ps.members[ids]
    u = np.random.default_rng(5).random((k, 3))
    bal = m.ledger.balance.copy()
    reserved = reserved_state_inst(m.state, m.cfg)
    dl = m.mechanisms["delivery"]
    bal[m.muni0 : m.biz0] = np.where(np.arange(m.n_muni) % 2 == 0, reserved + 100 * pp.gov_money, 0.0)  # half cannot pay
    terms = tuple(delivery.DeliveryTerms(
        dl.commitment, pp.gov_money, pp.business_money_share, dl.resource_scale, pp.premises_units,
        pp.business_inkind_units, reserved, m.csr_now, m.cluster.member_orgs(), m.cluster.commitment_boost_value(),
    ))  # fmt: skip
    deliver, gov_amt, biz_amt, x, ngo_slot = delivery.deliver_contributions(
        mem, u, ps.money_equiv[ids], m.state.layout(), m.state.ngos(), bal, terms
    )
    # reference: the vectorised rules
    present = mem >= 0
    slot = np.where(present[:, NGOS], mem[:, NGOS] - m.ngo0, 0)
    d = present.copy()
    d[:, GOV] &= u[:, GOV] < pp.commitment_gov
    c_biz = np.full(k, pp.commitment_business)
    c_ngo = pp.commitment_ngo_base + (1 - pp.commitment_ngo_base) * m.ngo_capacity[slot]
    c_biz += (1 - c_biz) * ref_commitment_boost(m.cluster, mem[:, BIZ])
    c_ngo += (1 - c_ngo) * ref_commitment_boost(m.cluster, mem[:, NGOS])
    d[:, BIZ] &= u[:, BIZ] < c_biz
    d[:, NGOS] &= u[:, NGOS] < c_ngo
    gov = mem[:, GOV]
    ga = np.zeros(k)
    gi = np.flatnonzero(d[:, GOV] & (gov != m.region) & present[:, GOV])
    can = bal[gov[gi]] - reserved[gov[gi] - m.muni0] >= pp.gov_money
    d[gi[~can], GOV] = False
    ga[gi[can]] = pp.gov_money
    ba = np.zeros(k)
    bi = np.flatnonzero(d[:, BIZ])
    ba[bi] = np.minimum(np.maximum(bal[mem[bi, BIZ]], 0.0), m.csr_now[mem[bi, BIZ] - m.biz0] * pp.business_money_share)
    scale = np.asarray(pp.resource_scale)
    xr = np.zeros((k, 4))
    xr[:, 0] = (ga + ba + ps.money_equiv[ids] * d[:, NGOS]) / scale[0]
    xr[:, 1] = d[:, NGOS] * m.ngo_capacity[slot] * np.maximum(m.ngo_staff[slot], 1) / scale[1]
    xr[:, 2] = d[:, NGOS] * m.ngo_volunteers[slot] / scale[2]
    xr[:, 3] = ((d[:, GOV] & (gov != m.region)) * pp.premises_units + d[:, BIZ] * pp.business_inkind_units) / scale[3]
    assert (~can).any() and can.any() and (c_biz > pp.commitment_business).any()  # every branch used
    np.testing.assert_array_equal(deliver, d)
    np.testing.assert_array_equal(gov_amt, ga)
    np.testing.assert_array_equal(biz_amt, ba)
    np.testing.assert_array_equal(x, xr)
    np.testing.assert_array_equal(ngo_slot, slot)

    # outcomes: output, counts, capacity per cell, income, learning, activity, contact
    y = np.random.default_rng(6).random(k)
    out = {name: getattr(ps, name).copy() for name in ("output", "services", "money", "kept", "broken")}
    cap_cells = np.zeros(m.n_muni * N_DOMAINS)
    income, capacity = np.zeros(m.n_ngo_slots), m.ngo_capacity.copy()
    active, contact = np.zeros(m.n_ngo_slots, bool), np.zeros(m.n_ngo_slots, bool)
    parts = tuple(PartnershipArrays(*ps.arrays())._replace(**out))
    ngos = tuple(NGOArrays(*m.state.ngos())._replace(income_month=income, capacity=capacity, active=active, contact=contact))
    done = (ids, mem, deliver, gov_amt, biz_amt, ngo_slot, y)
    delivery.deliver_outcomes(done, m.state.layout(), parts, ngos, cap_cells, 0.1)
    np.testing.assert_array_equal(out["output"][ids], y)
    np.testing.assert_array_equal(out["services"][ids], ps.services[ids] + y)
    np.testing.assert_array_equal(out["kept"][ids], ps.kept[ids] + (d & present).sum(axis=1))
    np.testing.assert_array_equal(out["broken"][ids], ps.broken[ids] + (~d & present).sum(axis=1))
    cells = ps.muni[ids].astype(np.int64) * N_DOMAINS + ps.domain[ids]
    np.testing.assert_array_equal(cap_cells, np.bincount(cells, weights=y, minlength=cap_cells.size))
    inc = np.zeros(m.n_ngo_slots)
    np.add.at(inc, slot[present[:, NGOS]], (ga + ba)[present[:, NGOS]])
    np.testing.assert_array_equal(income, inc)
    learn = m.ngo_capacity.copy()
    learn[slot[d[:, NGOS]]] += 0.1 * (1 - learn[slot[d[:, NGOS]]])
    np.testing.assert_array_equal(capacity, learn)
    exp_active = np.zeros(m.n_ngo_slots, bool)
    exp_active[slot[present[:, NGOS]]] = True
    np.testing.assert_array_equal(active, exp_active)
    exp_contact = np.zeros(m.n_ngo_slots, bool)
    exp_contact[slot[present[:, NGOS] & present[:, GOV] & (gov != m.region)]] = True
    np.testing.assert_array_equal(contact, exp_contact)


def test_evidence_recording_matches_reference(model):
    tr = model.trust
    rng = np.random.default_rng(7)
    edges = rng.choice(np.flatnonzero(tr.active[: tr.n]), 300)  # repeats included
    kept = rng.random(300) < 0.7
    r, s, lc = tr.r.copy(), tr.s.copy(), tr.last_contact.copy()
    hk, hb = np.zeros(tr.n_orgs), np.zeros(tr.n_orgs)
    ties = tuple(Ties(*tr.ties())._replace(r=r, s=s, last_contact=lc))
    rates = tuple(Rates(*tr.rates)._replace(kept_weight=1.0, broken_weight=2.5, gossip=0.5))
    ke, be = trust.record_evidence(edges, kept, ties, (hk, hb), rates, 99)
    rr, sr = tr.r.copy(), tr.s.copy()
    np.add.at(rr, edges[kept], 1.0)
    np.add.at(sr, edges[~kept], 2.5)
    np.testing.assert_array_equal(r, rr)
    np.testing.assert_array_equal(s, sr)
    assert (lc[edges] == 99).all()
    np.testing.assert_array_equal(ke, edges[kept])
    np.testing.assert_array_equal(hb, np.bincount(tr.dst[edges[~kept]], minlength=tr.n_orgs) * 2.5)


def test_dissolution_matches_reference(model):
    m, ps, pp, tr = model, model.partnerships, model.cfg.partnership, model.trust
    ids = ps.active_ids()
    alive = m.alive.copy()
    alive[ps.members[ids[::5], NGOS].clip(0)] = False  # some members died
    experienced = m.ngo_experienced.copy()
    for threshold in (pp.dissolve_trust, 0.6):
        orgs = tuple(OrgArrays(*m.state.orgs())._replace(alive=alive))
        ngos = tuple(NGOArrays(*m.state.ngos())._replace(experienced=experienced))
        why = dissolution.dissolution_reasons(ids, ps.arrays(), orgs, m.t, threshold, tr.ties(), ngos)
        mem = ps.members[ids]
        dead = ((mem >= 0) & ~alive[np.maximum(mem, 0)]).any(axis=1)
        ended = ps.end[ids] <= m.t + 1
        pe = ps.edges[ids]
        has = pe >= 0
        mean_t = np.divide(
            (ref_trust(tr, np.maximum(pe, 0)) * has).sum(axis=1), has.sum(axis=1), out=np.ones(ids.size),
            where=has.sum(axis=1) > 0,
        )  # fmt: skip
        expected = np.select([dead, ended, mean_t < threshold], [1, 2, 3], 0)
        np.testing.assert_array_equal(why, expected)
        done_ok = ended & ~dead & (ps.kept[ids] > ps.broken[ids]) & (mem[:, NGOS] >= 0)
        assert experienced[mem[done_ok, NGOS] - m.ngo0].all()
    assert (why == 1).any() and (why == 3).any()


# ------------------------------------------------------------ money and NGOs
def test_requests_match_reference(model):
    m, fp, tr = model, model.cfg.finance, model.trust
    rng = np.random.default_rng(8)
    req = np.sort(rng.choice(m.alive_slots(), m.alive_slots().size // 2, replace=False))
    v = rng.random(req.size)
    can = rng.integers(0, 4, m.n_muni).astype(float)
    for w in (0.0, 0.5):
        counters = (np.zeros(m.n_ngo_slots, np.int32), np.zeros(m.n_ngo_slots, np.int32), np.zeros(m.n_muni, np.int32),
                    np.zeros(m.n_muni, np.int32), np.zeros(m.n_ngo_slots, bool), np.zeros(m.n_ngo_slots))  # fmt: skip
        income = counters[-1]
        terms = (w, fp.request_fulfil_base, fp.request_fulfil_trust, 7.0)
        ok = requests.requests_month(req, v, m.state.layout(), m.state.orgs(), terms, can, tr.ties(), counters)
        orgs = m.ngo0 + req
        munis = m.muni0 + m.org_municipality[orgs]
        t, _ = ref_pair_trust(tr, munis, orgs)
        if w > 0:
            t = (1 - w) * t + w * ref_pair_trust(tr, m.rc0 + munis - m.muni0, orgs)[0]
        granted = v < np.clip(fp.request_fulfil_base + fp.request_fulfil_trust * t, 0.0, 1.0)
        rank = np.zeros(req.size, np.int64)
        for mi in range(m.n_muni):  # granted requests of a municipality, in order
            k = np.flatnonzero(granted & (munis - m.muni0 == mi))
            rank[k] = np.arange(k.size)
        expected = granted & (rank < can[munis - m.muni0])
        np.testing.assert_array_equal(ok == requests.REQUEST_FULFILLED, expected)
        np.testing.assert_array_equal(ok == requests.REQUEST_UNPAID, granted & ~expected)  # granted, the money ran out
        ngo_req, ngo_ok, muni_req, muni_ok, contact, _ = counters
        np.testing.assert_array_equal(np.flatnonzero(ngo_req), req)
        np.testing.assert_array_equal(np.flatnonzero(contact), req)
        np.testing.assert_array_equal(np.flatnonzero(ngo_ok), req[expected])
        np.testing.assert_array_equal(income[req], 7.0 * expected)
        np.testing.assert_array_equal(muni_req, np.bincount(munis - m.muni0, minlength=m.n_muni))
        np.testing.assert_array_equal(muni_ok, np.bincount(munis[expected] - m.muni0, minlength=m.n_muni))
        assert expected.any() and (granted & ~expected).any()


def test_business_giving_matches_reference(model):
    m, tr, fp = model, model.trust, model.cfg.finance
    give = np.linspace(0.0, 1e5, m.biz_orgs.size)
    income = np.zeros(m.n_ngo_slots)
    state = m.ngo_endow_state.copy()
    state[: m.n_ngo_slots // 2] = 1
    ngos = tuple(NGOArrays(*m.state.ngos())._replace(endow_state=state, income_month=income))
    b, o, cash, endow = giving.business_giving(
        tr.edges_in_cell(BUSINESS_TO_NGO), tr.ties(), m.state.orgs(), m.state.layout(), give, ngos, fp.endowment_donation_share
    )
    n = tr.n
    src, dst = tr.src[:n], tr.dst[:n]
    sel = np.flatnonzero(tr.active[:n] & (tr.pair_cell[:n] == BUSINESS_TO_NGO))
    sel = sel[m.alive[dst[sel]] & (m.sector[src[sel]] == ag.SEC_BUSINESS) & (m.sector[dst[sel]] == ag.SEC_NGO)]
    w = ref_trust(tr, sel) ** 2
    bi = src[sel] - m.biz0
    amount = give[bi] * w / np.bincount(bi, weights=w, minlength=give.size)[bi]
    slot = dst[sel] - m.ngo0
    e_amt = amount * (m.ngo_endow_intent[slot] & (state[slot] < 2)) * fp.endowment_donation_share
    np.testing.assert_array_equal(b, src[sel])
    np.testing.assert_array_equal(o, dst[sel])
    np.testing.assert_array_equal(endow, e_amt)
    np.testing.assert_array_equal(cash, amount - e_amt)
    inc = np.zeros(m.n_ngo_slots)
    np.add.at(inc, slot, amount - e_amt)
    np.testing.assert_array_equal(income, inc)
    assert e_amt.any() and sel.size > 50


def test_service_kernels_match_reference(model):
    m, op = model, model.cfg.org
    slots = m.alive_slots()
    rates = (op.services_per_staff, op.services_per_volunteer, 0.4)
    each, cell, per_cell = services.ngo_service_capacity(
        slots, m.state.ngos(), m.rc.practice, m.state.orgs(), rates, m.n_muni * N_DOMAINS
    )
    staff_services = op.services_per_staff * (1.0 + 0.4 * m.rc.practice[slots])
    exp_each = m.ngo_staff[slots] * staff_services * m.ngo_capacity[slots] + m.ngo_volunteers[slots] * op.services_per_volunteer
    exp_cell = m.org_municipality[m.ngo0 + slots].astype(np.int64) * N_DOMAINS + m.ngo_domain[slots]
    np.testing.assert_array_equal(each, exp_each)
    np.testing.assert_array_equal(cell, exp_cell)
    np.testing.assert_array_equal(per_cell, np.bincount(exp_cell, weights=exp_each, minlength=per_cell.size))
    assert m.rc.practice[slots].any()
    rng = np.random.default_rng(9)
    state_cap = rng.uniform(0, 50, per_cell.size)
    cap = per_cell + state_cap
    cap[::7] = 0.0
    served = np.floor(rng.uniform(0, 1, per_cell.size) * cap)
    registered = rng.random(m.n_ngo_slots) < 0.5
    muni_balance = rng.normal(0, 1e5, m.n_muni)
    caps = (cap, per_cell, state_cap, each, cell)
    bill, pay = services.service_attribution(served, caps, registered, slots, muni_balance, 700.0)
    share_ngo = np.divide(per_cell, cap, out=np.zeros_like(cap), where=cap > 0)
    share_state = np.divide(state_cap, cap, out=np.zeros_like(cap), where=cap > 0)
    own = np.divide(each, per_cell[cell], out=np.zeros_like(each), where=per_cell[cell] > 0)
    ngo_services = served[cell] * share_ngo[cell] * own
    np.testing.assert_array_equal(bill, ngo_services * registered[slots] * 700.0)
    state_services = (served * share_state).reshape(m.n_muni, N_DOMAINS).sum(axis=1)
    np.testing.assert_array_equal(pay, np.minimum(state_services * 700.0, np.maximum(muni_balance, 0.0)))
    assert (pay < state_services * 700.0).any() and (pay > 0).any()


def test_ngo_life_kernels_match_reference(model):
    m, op = model, model.cfg.org
    slots = m.alive_slots()
    orgs = m.ngo0 + slots
    bal = m.ledger.balance.copy()
    bal[orgs] = np.random.default_rng(10).normal(0, 2 * op.staff_cost, slots.size)
    bal[orgs[::5]] = 100 * op.hire_cash_months * (op.staff_cost + op.overhead_cost)  # rich enough to hire
    staff = m.ngo_staff.copy()
    amount, arrears = ngo_life.ngo_costs(slots, m.ngo0, staff, bal, op.staff_cost, op.overhead_cost)
    wages = staff[slots] * op.staff_cost
    paid = np.minimum(wages, np.maximum(bal[orgs] - op.overhead_cost, 0.0))
    np.testing.assert_array_equal(amount, paid + op.overhead_cost)
    np.testing.assert_array_equal(arrears, paid < wages)
    neg = m.ngo_neg_months.copy()
    neg[slots[::3]] = op.staff_cut_months
    neg_ref, staff_ref = neg.copy(), staff.copy()
    rates = tuple(ngo_life.LifeRates(
        op.staff_cost, op.overhead_cost, op.staff_cut_months, op.hire_cash_months, op.volunteer_loss, op.volunteer_gain,
        0.5, op.register_capacity_threshold, op.insolvency_months,
    ))  # fmt: skip
    ngo_life.ngo_staffing(slots, tuple(NGOArrays(*m.state.ngos())._replace(neg_months=neg, staff=staff)), arrears, bal, rates)
    neg_ref[slots] = np.where(arrears | (bal[orgs] < 0), neg_ref[slots] + 1, 0)
    cut = slots[(neg_ref[slots] >= op.staff_cut_months) & (staff_ref[slots] > 0)]
    staff_ref[cut] -= 1
    cost = staff_ref[slots] * op.staff_cost + op.overhead_cost
    staff_ref[slots[bal[orgs] > op.hire_cash_months * (cost + op.staff_cost)]] += 1
    np.testing.assert_array_equal(neg, neg_ref)
    np.testing.assert_array_equal(staff, staff_ref)
    assert cut.size and (staff > m.ngo_staff).any()

    rng = np.random.default_rng(11)
    recruits = rng.poisson(1.0, slots.size).astype(float)
    u = rng.random(slots.size)
    active = rng.random(m.n_ngo_slots) < 0.5
    vol, reg = m.ngo_volunteers.copy(), m.ngo_registered.copy()
    vol[slots[::4]] = 0.0
    vol_ref, reg_ref = vol.copy(), reg.copy()
    ngos = tuple(NGOArrays(*m.state.ngos())._replace(volunteers=vol, active=active, registered=reg, neg_months=neg, staff=staff))
    dies = ngo_life.ngo_people(slots, ngos, recruits, u, bal, rates)
    v = vol_ref[slots]
    vol_ref[slots] = v * (1 - op.volunteer_loss) + v * op.volunteer_gain * active[slots] + recruits
    elig = ~reg_ref[slots] & m.ngo_experienced[slots] & (m.ngo_capacity[slots] >= op.register_capacity_threshold)
    reg_ref[slots[elig & (u < 0.5)]] = True
    exp_dies = ((neg[slots] >= op.insolvency_months) & (bal[orgs] < 0)) | ((vol_ref[slots] < 1.0) & (staff[slots] == 0))
    np.testing.assert_array_equal(vol, vol_ref)
    np.testing.assert_array_equal(reg, reg_ref)
    np.testing.assert_array_equal(dies, exp_dies)


def test_pair_edges_of_new_partnerships_are_created_in_member_order(model):
    m = model
    members = np.array([[m.muni0, m.biz0, m.ngo0 + m.alive_slots()[0]], [m.muni0 + 1, -1, m.ngo0 + m.alive_slots()[1]]])
    ids = create_partnerships(m.state, members, np.array([0, 1]), np.array([0, 1]), np.array([6, 6]), 0, np.zeros(2))
    pe = m.partnerships.edges[ids]
    for r in range(2):
        for c in range(len(PAIR_A)):
            a, b = members[r, PAIR_A[c]], members[r, PAIR_B[c]]
            assert (pe[r, c] >= 0) == (a >= 0 and b >= 0)
            if pe[r, c] >= 0:
                assert (m.trust.src[pe[r, c]], m.trust.dst[pe[r, c]]) == (a, b) and m.trust.active[pe[r, c]]


def test_endowment_gifts_match_reference(model):
    m = model
    rng = np.random.default_rng(12)
    slot = rng.choice(m.alive_slots(), 400)  # an NGO may receive several gifts
    gift = np.where(rng.random(400) < 0.2, 0.0, rng.uniform(0, 1e5, 400))
    state = rng.integers(0, 3, m.n_ngo_slots).astype(np.int8)
    intent = rng.random(m.n_ngo_slots) < 0.5
    first = np.where(rng.random(m.n_ngo_slots) < 0.5, -1, 3).astype(np.int32)
    st, fi = state.copy(), first.copy()
    match = giving.endowment_gifts(slot, gift, st, intent, fi, 17, 0.5)
    forming = gift * (state[slot] < 2)
    np.testing.assert_array_equal(match, np.bincount(slot, weights=forming, minlength=state.size) * 0.5)
    starting = intent[slot] & (state[slot] < 2) & (gift > 0) & (first[slot] < 0)
    state[slot[starting]] = 1
    first[slot[starting]] = 17
    np.testing.assert_array_equal(st, state)
    np.testing.assert_array_equal(fi, first)
    assert starting.any()
