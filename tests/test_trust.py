"""Trust mechanisms: beta reputation, asymmetry, forgetting, gossip, carriers."""

import numpy as np
import pytest

from sim.mechanisms.trust import TrustNetwork
from sim.params import TrustParams

SECTORS = np.array([0, 1, 2, 2, 2])  # gov, business, three NGOs


def net(**kw) -> TrustNetwork:
    return TrustNetwork(5, SECTORS, TrustParams(**kw))


def test_trust_falls_faster_than_it_rises():
    t = net(gossip=0.0)
    e = t.ensure_edges(np.array([0, 0]), np.array([2, 3]), step=0, evidence=2.0)
    before = t.trust(e).copy()
    t.record(e[:1], np.array([True]), 1)
    t.record(e[1:], np.array([False]), 1)
    after = t.trust(e)
    assert before[0] == pytest.approx(before[1])
    rise = after[0] - before[0]
    fall = before[1] - after[1]
    assert rise > 0 and fall > 0
    assert fall > 2 * rise


def test_beta_reputation_formula():
    t = net(gossip=0.0, prior_weight=2.0)
    e = t.ensure_edges(np.array([0]), np.array([2]), 0)
    t.record(np.repeat(e, 3), np.array([True, True, False]), 1)
    prior = t.institutional[0, 2]
    r, s = 2 * 1.0, 1 * 3.0
    assert t.trust(e)[0] == pytest.approx((r + 2 * prior) / (r + s + 2))


def test_trust_decays_toward_institutional_prior_without_contact():
    t = net(forgetting=0.9, institutional_rate=0.0)
    e = t.ensure_edges(np.array([0]), np.array([2]), 0, evidence=10.0)
    prior = t.institutional[0, 2]
    high = t.trust(e)[0]
    for _ in range(60):
        t.monthly_update()
    low = t.trust(e)[0]
    assert high > low
    assert low == pytest.approx(prior, abs=0.01)


def test_gossip_spreads_a_broken_obligation_to_third_parties():
    t = net(gossip=0.5)
    e = t.ensure_edges(np.array([0, 1]), np.array([2, 2]), 0, evidence=2.0)  # gov->ngo2, business->ngo2
    b0 = t.trust(e[1:])[0]
    t.record(e[:1], np.array([False]), 1)  # ngo2 breaks its word to gov
    direct = t.trust(e[:1])[0]
    assert t.trust(e[1:])[0] == b0  # heard only at the month end
    t.monthly_update()
    assert t.trust(e[1:])[0] < b0  # business heard of it
    # the direct party counted the event once, not again through gossip
    assert t.s[e[0]] == pytest.approx(t.params.broken_weight * t.params.forgetting)
    assert direct < b0


def test_tie_goes_with_the_person_who_carried_it():
    t = net()
    e = t.ensure_edges(np.array([0, 3]), np.array([2, 4]), 0, evidence=5.0)
    assert t.edge(0, 2) >= 0 and t.edge(3, 4) >= 0
    lost = t.replace_person(np.array([2]))
    assert lost == 1  # the only tie of org 2
    assert t.edge(0, 2) == -1  # the NGO leader who held the tie left
    assert t.edge(3, 4) == e[1]  # other ties stay
    # a new tie is made with the new person, from scratch
    k = t.ensure_edges(np.array([0]), np.array([2]), 5)[0]
    assert t.r[k] == 0 and t.s[k] == 0


def test_institutional_trust_moves_toward_experience():
    t = net(institutional_rate=0.5, gossip=0.0)
    e = t.ensure_edges(np.array([0]), np.array([2]), 0)
    start = t.institutional[0, 2]
    t.record(np.repeat(e, 5), np.zeros(5, bool), 1)
    t.monthly_update()
    assert t.institutional[0, 2] < start
    assert t.institutional[1, 2] == pytest.approx(TrustParams().initial_institutional[1 * 3 + 2])


def test_perception_is_directional():
    t = net(gossip=0.0)
    e = t.ensure_edges(np.array([0, 2]), np.array([2, 0]), 0, evidence=2.0)
    t.record(e[:1], np.array([False]), 1)  # gov saw ngo fail; the ngo's view of gov is unchanged
    assert t.trust(e[:1])[0] < t.trust(e[1:])[0]


def test_compaction_keeps_active_ties_and_their_values():
    rng = np.random.default_rng(0)
    big = TrustNetwork(100, np.repeat([0, 1, 2, 2], 25), TrustParams(gossip=0.0))
    a = rng.integers(0, 100, 5000)
    b = (a + 1 + rng.integers(0, 98, 5000)) % 100
    e = big.ensure_edges(a, b, 0, evidence=2.0)
    big.record(e[:50], np.arange(50) % 3 == 0, 1)
    before = {(int(big.src[k]), int(big.dst[k])): float(big.trust(np.array([k]))[0]) for k in range(big.n) if big.active[k]}
    big.remove_org(np.arange(60))  # most organisations cease to exist
    kept = {pair: v for pair, v in before.items() if pair[0] >= 60 and pair[1] >= 60}
    remap = big.compact()
    assert remap is not None
    assert big.n == big.active_count() == len(kept)
    assert (remap[e[(a < 60) | (b < 60)]] == -1).all()
    for (i, j), v in kept.items():
        k = big.edge(i, j)
        assert k >= 0 and big.trust(np.array([k]))[0] == pytest.approx(v)


def test_dormant_ties_are_renewed_between_living_organisations_only():
    rng = np.random.default_rng(5)
    big = TrustNetwork(100, np.repeat([0, 1, 2, 2], 25), TrustParams())
    a = rng.integers(0, 100, 20000)
    b = (a + 1 + rng.integers(0, 98, 20000)) % 100
    e = np.unique(big.ensure_edges(a, b, 0, evidence=3.0))
    big.replace_person(np.arange(50))  # half the organisations get a new key person
    dormant = e[~big.active[e]]
    alive = np.ones(100, bool)
    alive[:10] = False  # ten of them closed down
    renewed = big.renew(0.25, alive, rng, 3)
    back = dormant[big.active[dormant]]
    assert renewed == back.size
    eligible = dormant[alive[big.src[dormant]] & alive[big.dst[dormant]]]
    assert back.size == pytest.approx(0.25 * eligible.size, rel=0.1)
    assert alive[big.src[back]].all() and alive[big.dst[back]].all()
    assert (big.r[back] == 0).all() and (big.s[back] == 0).all()  # a new person starts from the prior
