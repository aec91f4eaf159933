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
def families_month(
    state: np.ndarray,
    aware: np.ndarray,
    served: np.ndarray,
    cell: np.ndarray,
    aware16: np.ndarray,
    apply16: int,
    u_uptake: np.ndarray,
    u_move: np.ndarray,
    down: np.ndarray,
    up_to: np.ndarray,
    target_by_state: np.ndarray,
    wellbeing: np.ndarray,
    counts: np.ndarray,
    rate: float,
    boost: float,
    applicants: np.ndarray,
    last_served: np.ndarray,
    since: int,
) -> tuple[int, int, int]:
    """One pass over families: transition, wellbeing, awareness and applications.

    For each family: the vulnerability state moves down if
    ``u_move < down[code]`` and up if ``u_move < up_to[code]``, with
    ``code = state * 2 + served`` (served *last* month); wellbeing closes
    ``rate`` of the gap to the new state's target, plus ``boost`` if it was
    served (capped at 1); the served flag is cleared. Then, if eligible
    (state >= 1): an unaware family learns of support if
    ``u_uptake < aware16[cell]`` (it can apply from next month), an
    aware one applies if ``u_uptake < apply16`` (each family uses its uptake
    draw for one of the two, so they stay independent); applicants are written to
    ``applicants``.

    Returns:
        ``(applicants, learned, reached)`` where ``reached``
        counts families in state >= 2 last served after month ``since``.
    """
    n_app = 0
    learned = 0
    reached = 0
    for i in range(state.size):
        s = served[i]
        old = state[i]
        new = old
        u = u_move[i]
        code = old * 2 + (1 if s else 0)
        if u < up_to[code]:  # rare: most families stay
            new = old - 1 if u < down[code] else old + 1
            state[i] = new
            counts[old] -= 1
            counts[new] += 1
        w = wellbeing[i]
        w += rate * (target_by_state[new] - w)
        if s:
            w = min(w + boost, 1.0)
            served[i] = False
        wellbeing[i] = w
        reached += (new >= 2) & (last_served[i] > since)
        # branch-free: these flags are random, so branches would mispredict
        e = new >= 1
        a = aware[i]
        u = u_uptake[i]
        app = e & a & (u < apply16)
        c = cell[i]
        learn = e & (not a) & (u < aware16[c])
        aware[i] = a | learn
        applicants[n_app] = i  # kept only if it applied: the slot is reused otherwise
        n_app += app
        learned += learn
    return n_app, learned, reached


@njit(cache=True, nogil=True)
def families_ration(
    applicants: np.ndarray,
    n_app: int,
    u_uptake: np.ndarray,
    cell: np.ndarray,
    capacity: np.ndarray,
    apply16: int,
    served: np.ndarray,
    last_served: np.ndarray,
    times_served: np.ndarray,
    served_per_cell: np.ndarray,
    t: int,
    state: np.ndarray,
    since: int,
    n_domains: int,
    routing: bool,
    crisis: np.ndarray,
) -> tuple[int, int, int]:
    """Ration services among applicants, cell by cell.

    Demand per cell is counted first. With ``routing`` (one window), spare
    capacity of a municipality's cells is shared among its cells with unmet
    demand, in proportion to that demand. An applicant is then served if its
    uptake draw is below ``min(1, capacity/demand) * apply16``, so that,
    given it applied, it is served with probability capacity/demand. Finally,
    a crisis centre (``crisis[m]`` services/month, empty array for none)
    serves unserved applicants in state >= 2 of its municipality with
    probability min(1, crisis/unserved), using the rest of their draw.

    Returns:
        ``(served, newly reached, served by the crisis centre)``; newly
        reached counts served families in state >= 2 who had not been served
        after month ``since``.
    """
    n_cells = capacity.size
    n_muni = n_cells // n_domains
    demand = np.zeros(n_cells)
    for k in range(n_app):
        demand[cell[applicants[k]]] += 1.0
    cap = capacity.copy()
    if routing:
        for m in range(n_muni):
            spare = 0.0
            unmet = 0.0
            for c in range(m * n_domains, (m + 1) * n_domains):
                d = cap[c] - demand[c]
                if d > 0:
                    spare += d
                else:
                    unmet -= d
            if spare > 0 and unmet > 0:
                moved = min(spare, unmet)
                for c in range(m * n_domains, (m + 1) * n_domains):
                    if demand[c] > cap[c]:
                        cap[c] += moved * (demand[c] - capacity[c]) / unmet
    frac16 = np.empty(n_cells)
    for c in range(n_cells):
        frac16[c] = min(1.0, cap[c] / max(demand[c], 1.0)) * apply16
    n_served = 0
    newly = 0
    waiting = np.zeros(n_muni)
    for k in range(n_app):
        i = applicants[k]
        c = cell[i]
        if u_uptake[i] < frac16[c]:
            newly += (state[i] >= 2) & (last_served[i] <= since)
            served[i] = True
            last_served[i] = t
            times_served[i] += 1
            served_per_cell[c] += 1
            n_served += 1
        elif state[i] >= 2:
            waiting[c // n_domains] += 1.0
    n_crisis = 0
    if crisis.size == n_muni:
        for k in range(n_app):
            i = applicants[k]
            c = cell[i]
            if served[i] or state[i] < 2:
                continue
            m = c // n_domains
            share = min(1.0, crisis[m] / max(waiting[m], 1.0))
            lo = frac16[c]
            if (u_uptake[i] - lo) < share * (apply16 - lo):  # the rest of its draw, uniform on [frac16, apply16)
                newly += last_served[i] <= since
                served[i] = True
                last_served[i] = t
                times_served[i] += 1
                n_crisis += 1
                n_served += 1
    return n_served, newly, n_crisis


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
