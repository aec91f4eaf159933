"""Each compiled kernel against a plain Python version of the same rules."""

import numpy as np
import pytest

from sim.mechanisms.families import Families, threshold16, transition_tables, u16
from sim.mechanisms.trust import Rates, TrustNetwork, trust_month
from sim.params import FamilyParams, TrustParams


def reference_month(
    state, aware, served, cell, muni, aware16, apply16, u_up, u_mv, capacity, down, up_to, target, wb, rate, boost
):
    """The month of families.py written one family at a time."""
    state, aware, wb = state.copy(), aware.copy(), wb.copy()
    demand = np.zeros(capacity.size)
    applied = np.zeros(state.size, bool)
    for i in range(state.size):
        code = int(state[i]) * 2 + int(served[i])
        if u_mv[i] < down[code]:
            state[i] -= 1
        elif u_mv[i] < up_to[code]:
            state[i] += 1
        w = wb[i] + np.float32(rate) * (target[state[i]] - wb[i])
        if served[i]:
            w = min(w + np.float32(boost), 1.0)
        wb[i] = w
        if state[i] >= 1:
            if aware[i]:
                if u_up[i] < apply16:
                    applied[i] = True
                    demand[cell[i]] += 1
            elif u_up[i] < aware16[muni[i]]:
                aware[i] = True
    new_served = np.zeros(state.size, bool)
    for i in range(state.size):
        frac = min(1.0, capacity[cell[i]] / max(demand[cell[i]], 1))
        new_served[i] = applied[i] and u_up[i] < frac * apply16
    return state, aware, new_served, wb


def test_family_kernels_match_per_family_reference():
    rng = np.random.default_rng(7)
    n, m = 4000, 3
    p = FamilyParams(served_improve_factor=8.0, apply_prob=0.7, initial_awareness=0.4)
    fam = Families(n, m, p, rng)
    fam.served[:] = rng.random(n) < 0.3  # served last month
    cap = rng.uniform(0, 60, m * 5)
    p_aware = np.array([0.2, 0.5, 0.9])
    streams = [np.random.default_rng(100 + k) for k in range(2)]  # uptake, transitions
    u_up, u_mv = (u16(np.random.default_rng(100 + k), n) for k in range(2))
    down, up_to = transition_tables(p)
    exp_state, exp_aware, exp_served, exp_wb = reference_month(
        fam.state, fam.aware, fam.served, fam.cell, fam.municipality, threshold16(p_aware), fam.apply16, u_up, u_mv,
        cap, down, up_to, fam.target_by_state, fam.wellbeing, p.wellbeing_rate, p.service_boost,
    )  # fmt: skip
    per_cell = fam.month(*streams, p_aware, cap, 5)
    np.testing.assert_array_equal(fam.state, exp_state)
    np.testing.assert_array_equal(fam.aware, exp_aware)
    np.testing.assert_array_equal(fam.served, exp_served)
    np.testing.assert_allclose(fam.wellbeing, exp_wb, rtol=1e-6)
    assert fam.n_served == exp_served.sum() == per_cell.sum()
    np.testing.assert_array_equal(fam.counts, np.bincount(fam.state, minlength=4))
    assert (fam.last_served[exp_served] == 5).all()
    assert fam.n_aware == int(fam.aware.sum())


def test_transition_frequencies_match_probabilities():
    p = FamilyParams(initial_state_shares=(0.0, 1.0, 0.0, 0.0), initial_awareness=0.0)
    rng = np.random.default_rng(0)
    fam = Families(400_000, 1, p, rng)
    fam.month(rng, rng, np.array([0.0]), np.zeros(5), 0)
    assert (fam.state == 0).mean() == pytest.approx(p.p_improve[1], abs=0.002)
    assert (fam.state == 2).mean() == pytest.approx(p.p_worsen[1], abs=0.002)


def test_trust_kernel_matches_reference():
    rng = np.random.default_rng(3)
    sectors = np.repeat([0, 1, 2], 20)
    t = TrustNetwork(60, sectors, TrustParams(gossip=0.3, forgetting=0.9, institutional_rate=0.0))
    a = rng.integers(0, 60, 800)
    b = (a + 1 + rng.integers(0, 58, 800)) % 60
    e = t.ensure_edges(a, b, 0, evidence=1.0)
    t.replace_person(np.array([5]))
    n = t.n
    r0, s0, act = t.r[:n].copy(), t.s[:n].copy(), t.active[:n].copy()
    hk, hb = rng.uniform(0, 3, 60), rng.uniform(0, 3, 60)
    inst = t.institutional.reshape(-1)
    out = np.empty(n)
    sums = [np.zeros(180), np.zeros(180), np.zeros(60), np.zeros(60), np.zeros(9), np.zeros(9)]
    rates = tuple(Rates(*t.rates)._replace(prior_weight=2.0))
    trust_month(t.ties(n), (hk, hb), rates, out, tuple(sums))
    for k in range(n):
        j = t.dst[k]
        rk = (r0[k] + (0.3 * hk[j] if act[k] else 0)) * 0.9
        sk = (s0[k] + (0.3 * hb[j] if act[k] else 0)) * 0.9
        assert t.r[k] == pytest.approx(rk) and t.s[k] == pytest.approx(sk)
        prior = inst[t.src[k] * 3 + sectors[j]]
        assert out[k] == pytest.approx((rk + 2 * prior) / (rk + sk + 2))
    assert sums[3].sum() == act.sum()  # one count per active edge
    assert sums[2].sum() == pytest.approx(out[act].sum())
    assert e.size == 800


def test_month_summaries_match_recount():
    rng = np.random.default_rng(11)
    fam = Families(30_000, 4, FamilyParams(initial_awareness=0.5), rng)
    cap = np.full(20, 40.0)
    for t in range(15):
        fam.month(rng, rng, np.full(4, 0.05), cap, t)
        assert fam.wellbeing_mean() == pytest.approx(float(fam.wellbeing.mean(dtype=np.float64)), rel=1e-6)
        sel = fam.state >= 2
        expected = np.count_nonzero(sel & (fam.last_served > t - 12)) / sel.sum()
        assert fam.reached_share(t, 12) == pytest.approx(expected)


def test_u16_draws_are_uniform():
    u = u16(np.random.default_rng(1), 200_001)
    assert u.dtype == np.uint16 and u.size == 200_001
    assert (u < threshold16(0.3)).mean() == pytest.approx(0.3, abs=0.005)
    hist = np.bincount(u >> 12, minlength=16) / u.size
    np.testing.assert_allclose(hist, 1 / 16, atol=0.003)
