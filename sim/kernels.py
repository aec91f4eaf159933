"""Compiled inner loops (numba) for the two per-step passes over large arrays.

The model's state stays in numpy arrays; these kernels only fuse the
per-family and per-edge arithmetic of one month into single loops, so that a
region of 100,000 families and 20,000 ties takes well under a millisecond.
All random draws are made outside, from the mechanism's named stream, and
passed in as arrays. ``tests/test_kernels.py`` checks each kernel against a
plain per-element Python version of the same rules.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def families_seek(
    state: np.ndarray,
    aware: np.ndarray,
    cell: np.ndarray,
    muni: np.ndarray,
    aware16: np.ndarray,
    apply16: int,
    u_aware: np.ndarray,
    u_apply: np.ndarray,
    demand: np.ndarray,
    applied: np.ndarray,
) -> int:
    """Awareness and applications: fills ``demand`` per cell and the ``applied`` flags.

    An eligible (state >= 1) unaware family learns of support if
    ``u_aware < aware16[its municipality]`` (it can apply from next month); an
    eligible aware family applies if ``u_apply < apply16``.

    Returns:
        The number of families that learned of support.
    """
    learned = 0
    for i in range(state.size):  # branch-free: the flags are random, so branches would mispredict
        e = state[i] >= 1
        a = aware[i]
        learn = e & (not a) & (u_aware[i] < aware16[muni[i]])
        app = e & a & (u_apply[i] < apply16)
        aware[i] = a | learn
        applied[i] = app
        demand[cell[i]] += app
        learned += learn
    return learned


@njit(cache=True, nogil=True)
def families_serve_and_step(
    state: np.ndarray,
    served: np.ndarray,
    applied: np.ndarray,
    cell: np.ndarray,
    u_apply: np.ndarray,
    u_move: np.ndarray,
    frac16: np.ndarray,
    down: np.ndarray,
    up_to: np.ndarray,
    target_by_state: np.ndarray,
    wellbeing: np.ndarray,
    last_served: np.ndarray,
    times_served: np.ndarray,
    counts: np.ndarray,
    served_per_cell: np.ndarray,
    rate: float,
    boost: float,
    t: int,
) -> int:
    """Rationing, state transitions and wellbeing in one pass.

    An applicant is served if ``u_apply < frac16[cell]`` (``frac16`` is the
    cell's capacity/demand share times the application threshold, so that,
    given it applied, the chance is capacity/demand). Then the family moves
    down if ``u_move < down[code]``, up if ``u_move < up_to[code]``
    (``code = state * 2 + served``), and its wellbeing closes ``rate`` of the
    gap to its state's target, plus ``boost`` if served (capped at 1).

    Returns:
        The number of families served.
    """
    n_served = 0
    for i in range(state.size):
        s = applied[i] & (u_apply[i] < frac16[cell[i]])
        served[i] = s
        if s:
            n_served += 1
            last_served[i] = t
            times_served[i] += 1
            served_per_cell[cell[i]] += 1
        old = state[i]
        code = old * 2 + (1 if s else 0)
        u = u_move[i]
        new = old
        if u < up_to[code]:  # rare: most families stay
            new = old - 1 if u < down[code] else old + 1
            state[i] = new
            counts[old] -= 1
            counts[new] += 1
        w = wellbeing[i]
        w += rate * (target_by_state[new] - w)
        if s:
            w = min(w + boost, 1.0)
        wellbeing[i] = w
    return n_served


@njit(cache=True, nogil=True)
def trust_month(
    src: np.ndarray,
    dst: np.ndarray,
    prior_cell: np.ndarray,
    pair_cell: np.ndarray,
    r: np.ndarray,
    s: np.ndarray,
    active: np.ndarray,
    heard_kept: np.ndarray,
    heard_broken: np.ndarray,
    institutional: np.ndarray,
    gossip: float,
    forgetting: float,
    w: float,
    trust_out: np.ndarray,
    inst_sum: np.ndarray,
    inst_cnt: np.ndarray,
    rep_sum: np.ndarray,
    rep_cnt: np.ndarray,
    pair_sum: np.ndarray,
    pair_cnt: np.ndarray,
) -> None:
    """Gossip, forgetting and the month-end trust of every edge, with the sums for summaries.

    For each active edge i->j: ``r += gossip * heard_kept[j]``,
    ``s += gossip * heard_broken[j]``; then (all edges) ``r, s *= forgetting``;
    trust is the beta reputation with the institutional prior; sums by
    (src, sector of dst), by dst and by sector pair are accumulated over
    active edges.
    """
    for k in range(src.size):
        a = active[k]
        j = dst[k]
        rk = r[k]
        sk = s[k]
        if a:
            rk += gossip * heard_kept[j]
            sk += gossip * heard_broken[j]
        rk *= forgetting
        sk *= forgetting
        r[k] = rk
        s[k] = sk
        t = (rk + w * institutional[prior_cell[k]]) / (rk + sk + w)
        trust_out[k] = t
        if a:
            c = prior_cell[k]
            inst_sum[c] += t
            inst_cnt[c] += 1.0
            rep_sum[j] += t
            rep_cnt[j] += 1.0
            p = pair_cell[k]
            pair_sum[p] += t
            pair_cnt[p] += 1.0
