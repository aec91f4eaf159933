"""Compiled inner loops (numba) of the per-step mechanisms.

The model's state stays in numpy arrays; these kernels fuse each mechanism's
arithmetic over families, trust edges, NGOs and partnerships into single
loops, so that a month of a region of 100,000 families, 1,000 organisations
and 20,000 ties takes about two milliseconds. In order of the step:

- families: :func:`families_transitions`, :func:`families_uptake`,
  :func:`families_ration`;
- trust edges: the key table (:func:`find_edges`, :func:`ensure_edges`,
  :func:`build_table`, :func:`tie_and_trust`), ties lost and renewed
  (:func:`incidence`, :func:`drop_org_ties`, :func:`geometric_positions`,
  :func:`renew_ties`), evidence (:func:`record_evidence`), the monthly pass
  (:func:`trust_month`, :func:`trust_summaries`);
- money: :func:`ledger_book`;
- organisations: giving, requests, proposals and acceptance, delivery,
  services, endowments, NGO life, dissolution, month-end bookkeeping.

Rules for every kernel: all random draws are made outside, from the
mechanism's named stream, and passed in as arrays; floating-point operations
are those of the plain numpy rules, in the same order (``exp`` and powers stay
in numpy, whose vectorised versions may differ in the last bit), so results
are bit-for-bit those of the numpy version. ``tests/test_kernels.py`` and
``tests/test_kernels_org.py`` check each kernel against it.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def families_transitions(
    state: np.ndarray,
    served: np.ndarray,
    u_move: np.ndarray,
    down: np.ndarray,
    up_to: np.ndarray,
    target_by_state: np.ndarray,
    wellbeing: np.ndarray,
    counts: np.ndarray,
    rate: float,
    boost: float,
    last_served: np.ndarray,
    since: int,
) -> int:
    """First pass over families: vulnerability transitions and wellbeing.

    For each family: the vulnerability state moves down if
    ``u_move < down[code]`` and up if ``u_move < up_to[code]``, with
    ``code = state * 2 + served`` (served *last* month; ``down <= up_to``);
    wellbeing closes ``rate`` of the gap to the new state's target, plus
    ``boost`` if it was served (capped at 1); the served flag is cleared;
    ``counts`` become the number of families per state.

    The three loops are written without branches or table lookups (the
    eight thresholds and four targets are selected) so that they compile to
    vector instructions; ``tests/test_kernels.py`` checks them against a
    per-family reference.

    Returns:
        The number of families in state >= 2 last served after month ``since``.
    """
    i32 = np.int32
    d0, d1, d2, d3 = i32(down[0]), i32(down[1]), i32(down[2]), i32(down[3])
    d4, d5, d6, d7 = i32(down[4]), i32(down[5]), i32(down[6]), i32(down[7])
    u0, u1, u2, u3 = i32(up_to[0]), i32(up_to[1]), i32(up_to[2]), i32(up_to[3])
    u4, u5, u6, u7 = i32(up_to[4]), i32(up_to[5]), i32(up_to[6]), i32(up_to[7])
    sv = served.view(np.uint8)
    n = state.size
    for i in range(n):  # moves
        old = i32(state[i])
        s = i32(sv[i])
        u = i32(u_move[i])
        dn = d1 if s != 0 else d0
        up = u1 if s != 0 else u0
        dn = (d3 if s != 0 else d2) if old == 1 else dn
        up = (u3 if s != 0 else u2) if old == 1 else up
        dn = (d5 if s != 0 else d4) if old == 2 else dn
        up = (u5 if s != 0 else u4) if old == 2 else up
        dn = (d7 if s != 0 else d6) if old == 3 else dn
        up = (u7 if s != 0 else u6) if old == 3 else up
        state[i] = np.int8(old + (i32(1) if u < up else i32(0)) - (i32(2) if u < dn else i32(0)))
    t0, t1, t2, t3 = target_by_state[0], target_by_state[1], target_by_state[2], target_by_state[3]
    one = np.float32(1.0)
    for i in range(n):  # wellbeing after last month's services
        new = i32(state[i])
        target = t0 if new == 0 else (t1 if new == 1 else (t2 if new == 2 else t3))
        w = wellbeing[i]
        w = w + rate * (target - w)
        wellbeing[i] = min(w + boost, one) if sv[i] != 0 else w
        sv[i] = np.uint8(0)
    c1, c2, c3, reached = i32(0), i32(0), i32(0), i32(0)
    since32 = i32(since)
    for i in range(n):  # counts
        new = i32(state[i])
        c1 += i32(new == 1)
        c2 += i32(new == 2)
        c3 += i32(new == 3)
        reached += i32(new >= 2) & i32(last_served[i] > since32)
    counts[0] = n - c1 - c2 - c3
    counts[1] = c1
    counts[2] = c2
    counts[3] = c3
    return reached


@njit(cache=True, nogil=True)
def families_uptake(
    state: np.ndarray,
    aware: np.ndarray,
    bounds: np.ndarray,
    aware16: np.ndarray,
    apply16: int,
    u_uptake: np.ndarray,
    applicants: np.ndarray,
    flags: np.ndarray,
    cell: np.ndarray,
    app_u: np.ndarray,
    app_cell: np.ndarray,
    app_state: np.ndarray,
) -> tuple[int, int]:
    """Second pass over families: awareness and applications (after :func:`families_transitions`).

    Families are stored by municipality: those of municipality ``m`` are
    ``bounds[m]:bounds[m + 1]``. An eligible family (state >= 1) that is
    unaware learns of support if ``u_uptake < aware16[m]`` (it can apply
    from next month); an aware one applies if ``u_uptake < apply16`` (each
    family uses its uptake draw for one of the two, so they stay
    independent). Applicants are written to ``applicants`` in order, with
    their draw, cell and state in ``app_u``, ``app_cell``, ``app_state``;
    ``flags`` is scratch space.

    Returns:
        ``(applicants, families aware now)``.
    """
    i32 = np.int32
    ap = i32(apply16)
    aw = aware.view(np.uint8)
    for m in range(bounds.size - 1):
        lo, hi = bounds[m], bounds[m + 1]
        st, a_, u_, f_ = state[lo:hi], aw[lo:hi], u_uptake[lo:hi], flags[lo:hi]  # slices: the loop vectorises
        th = i32(aware16[m])
        for i in range(st.size):
            e = i32(st[i] >= 1)
            a = i32(a_[i])
            u = i32(u_[i])
            learn = e & (a ^ 1) & i32(u < th)
            a_[i] = np.uint8(a | learn)
            f_[i] = np.uint8(e & a & i32(u < ap))
    n_app = 0
    for i in range(flags.size):
        applicants[n_app] = i  # kept only if it applied: the slot is reused otherwise
        n_app += flags[i]
    for k in range(n_app):  # what rationing needs of each applicant, in order
        i = applicants[k]
        app_u[k] = u_uptake[i]
        app_cell[k] = cell[i]
        app_state[k] = state[i]
    n_aware = 0
    for i in range(aw.size):
        n_aware += aw[i]
    return n_app, n_aware


@njit(cache=True, nogil=True)
def families_ration(
    applicants: np.ndarray,
    n_app: int,
    app_u: np.ndarray,
    app_cell: np.ndarray,
    app_state: np.ndarray,
    capacity: np.ndarray,
    apply16: int,
    served: np.ndarray,
    last_served: np.ndarray,
    times_served: np.ndarray,
    served_per_cell: np.ndarray,
    t: int,
    since: int,
    n_domains: int,
    routing: bool,
    crisis: np.ndarray,
) -> tuple[int, int, int]:
    """Ration services among applicants, cell by cell.

    Applicant ``k`` is family ``applicants[k]``, with uptake draw
    ``app_u[k]``, cell ``app_cell[k]`` and state ``app_state[k]`` (copied by
    :func:`families_uptake`, so that this pass reads them in order). Demand
    per cell is counted first. With ``routing`` (one window), spare
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
        demand[app_cell[k]] += 1.0
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
    got = np.zeros(n_app, np.bool_)
    for k in range(n_app):
        c = app_cell[k]
        if app_u[k] < frac16[c]:
            i = applicants[k]
            newly += (app_state[k] >= 2) & (last_served[i] <= since)
            got[k] = True
            served[i] = True
            last_served[i] = t
            times_served[i] += 1
            served_per_cell[c] += 1
            n_served += 1
        elif app_state[k] >= 2:
            waiting[c // n_domains] += 1.0
    n_crisis = 0
    if crisis.size == n_muni:
        for k in range(n_app):
            c = app_cell[k]
            if got[k] or app_state[k] < 2:
                continue
            i = applicants[k]
            m = c // n_domains
            share = min(1.0, crisis[m] / max(waiting[m], 1.0))
            lo = frac16[c]
            if (app_u[k] - lo) < share * (apply16 - lo):  # the rest of its draw, uniform on [frac16, apply16)
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


@njit(cache=True, nogil=True)
def ledger_book(
    balance: np.ndarray,
    src: np.ndarray,
    dst: np.ndarray,
    amount: np.ndarray,
    total: float,
    channel: int,
    rec_channel: np.ndarray,
    rec_src: np.ndarray,
    rec_dst: np.ndarray,
    rec_amount: np.ndarray,
    pos: int,
) -> bool:
    """Move ``amount[k]`` from ``balance[src[k]]`` to ``balance[dst[k]]`` and record the rows from ``pos``.

    A side with one element while there are more rows is one account for
    every row: it is booked ``total`` (the caller's sum of ``amount``) in one
    go; otherwise rows are booked in order (as ``np.subtract.at`` /
    ``np.add.at``). Nothing moves if any amount is negative or NaN.

    Returns:
        False if an amount was negative or NaN (nothing moved), else True.
    """
    n = amount.size
    for k in range(n):
        if not amount[k] >= 0.0:
            return False
    if src.size == n and n > 1:
        for k in range(n):
            balance[src[k]] -= amount[k]
    else:
        balance[src[0]] -= total
    if dst.size == n and n > 1:
        for k in range(n):
            balance[dst[k]] += amount[k]
    else:
        balance[dst[0]] += total
    one_src = src.size == 1
    one_dst = dst.size == 1
    for k in range(n):
        rec_channel[pos + k] = channel
        rec_src[pos + k] = src[0] if one_src else src[k]
        rec_dst[pos + k] = dst[0] if one_dst else dst[k]
        rec_amount[pos + k] = amount[k]
    return True


@njit(cache=True, nogil=True)
def unhear(x: np.ndarray, edges: np.ndarray, active: np.ndarray, amount: float) -> None:
    """Take back ``amount`` of gossip from each listed edge that is still active (in order)."""
    for k in range(edges.size):
        e = edges[k]
        if active[e]:
            x[e] -= amount


@njit(cache=True, nogil=True, error_model="numpy")
def trust_summaries(
    institutional: np.ndarray,
    trust_sector: np.ndarray,
    inst_sum: np.ndarray,
    inst_cnt: np.ndarray,
    rep_sum: np.ndarray,
    rep_cnt: np.ndarray,
    pair_sum: np.ndarray,
    pair_cnt: np.ndarray,
    rate: float,
    reputation: np.ndarray,
    pair_means: np.ndarray,
) -> None:
    """Reputation, sector-pair means and the institutional-trust move from the monthly sums.

    Reputation is the mean incoming trust (the sector-mean institutional trust
    where nobody has a tie); pair means are NaN where a sector pair has no
    active tie; each institutional cell with ties moves ``rate`` of the way to
    the mean personal trust of those ties.
    """
    n, k = institutional.shape
    base = np.zeros(k)
    for i in range(n):
        for c in range(k):
            base[c] += institutional[i, c]
    for c in range(k):
        base[c] = base[c] / n
    for i in range(n):
        if rep_cnt[i] > 0:
            reputation[i] = rep_sum[i] / max(rep_cnt[i], 1e-12)
        else:
            reputation[i] = base[trust_sector[i]]
    for p in range(pair_sum.size):
        pair_means[p] = pair_sum[p] / pair_cnt[p]
    if rate > 0:
        flat = institutional.reshape(-1)
        for c in range(flat.size):
            old = flat[c]
            target = inst_sum[c] / inst_cnt[c] if inst_cnt[c] > 0 else old
            flat[c] = old + (target - old) * rate


_HASH_MULT = np.uint64(0x9E3779B97F4A7C15)


@njit(cache=True, nogil=True, inline="always")
def _slot(key: int, mask: int) -> int:
    return int((np.uint64(key) * _HASH_MULT) >> np.uint64(32)) & mask


@njit(cache=True, nogil=True, inline="always")
def _probe(hkeys: np.ndarray, hedge: np.ndarray, key: int) -> int:
    """Edge of ``key`` in the open-addressing table (dormant edges too), -1 if the pair has none."""
    mask = hkeys.size - 1
    h = _slot(key, mask)
    while hkeys[h] != -1:
        if hkeys[h] == key:
            return hedge[h]
        h = (h + 1) & mask
    return -1


@njit(cache=True, nogil=True)
def find_edges(hkeys: np.ndarray, hedge: np.ndarray, query: np.ndarray, active: np.ndarray, only_active: bool) -> np.ndarray:
    """Edge of each query key in the open-addressing table ``hkeys``/``hedge`` (-1 if absent, or dormant with ``only_active``)."""
    out = np.full(query.size, -1, np.int64)
    for q in range(query.size):
        e = _probe(hkeys, hedge, query[q])
        if e >= 0 and (not only_active or active[e]):
            out[q] = e
    return out


@njit(cache=True, nogil=True)
def ensure_edges(
    hkeys: np.ndarray,
    hedge: np.ndarray,
    src: np.ndarray,
    dst: np.ndarray,
    n0: int,
    n_orgs: int,
    trust_sector: np.ndarray,
    e_src: np.ndarray,
    e_dst: np.ndarray,
    prior_cell: np.ndarray,
    pair_cell: np.ndarray,
    active: np.ndarray,
    r: np.ndarray,
    s: np.ndarray,
    last_contact: np.ndarray,
    evidence: float,
    step: int,
) -> tuple[np.ndarray, int, int]:
    """Edge of each pair ``src[k] -> dst[k]``, creating missing edges and re-activating dormant ones.

    New edges are numbered from ``n0`` in order of first appearance (a new
    pair may repeat); the key table must have room for them (the caller keeps
    it at most half full) and the edge arrays room from ``n0``. A created or
    re-activated tie starts with ``evidence`` kept obligations and no broken
    ones, in contact at ``step``.

    Returns:
        ``(edge of each pair, edges created, edges created or re-activated)``.
    """
    mask = hkeys.size - 1
    out = np.empty(src.size, np.int64)
    n_new = 0
    for k in range(src.size):
        key = src[k] * n_orgs + dst[k]
        h = _slot(key, mask)
        while hkeys[h] != -1 and hkeys[h] != key:
            h = (h + 1) & mask
        if hkeys[h] == -1:
            e = n0 + n_new
            hkeys[h] = key
            hedge[h] = e
            n_new += 1
            e_src[e] = src[k]
            e_dst[e] = dst[k]
            prior_cell[e] = src[k] * 3 + trust_sector[dst[k]]
            pair_cell[e] = trust_sector[src[k]] * 3 + trust_sector[dst[k]]
            active[e] = False
        out[k] = hedge[h]
    changed = 0
    for k in range(src.size):
        e = out[k]
        if not active[e]:
            active[e] = True
            r[e] = evidence
            s[e] = 0.0
            last_contact[e] = step
            changed += 1
    return out, n_new, changed


@njit(cache=True, nogil=True)
def build_table(hkeys: np.ndarray, hedge: np.ndarray, keys: np.ndarray) -> None:
    """Fill an empty table with ``keys`` (edge ``k`` has key ``keys[k]``; keys are distinct)."""
    mask = hkeys.size - 1
    for k in range(keys.size):
        h = _slot(keys[k], mask)
        while hkeys[h] != -1:
            h = (h + 1) & mask
        hkeys[h] = keys[k]
        hedge[h] = k


@njit(cache=True, nogil=True)
def record_evidence(
    edges: np.ndarray,
    kept: np.ndarray,
    r: np.ndarray,
    s: np.ndarray,
    last_contact: np.ndarray,
    dst: np.ndarray,
    heard_kept: np.ndarray,
    heard_broken: np.ndarray,
    kept_weight: float,
    broken_weight: float,
    step: int,
    gossip: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Kept (``kept[k]``) or broken obligations along ``edges``, in order; gossip about each trustee is queued.

    Returns:
        ``(edges with a kept obligation, edges with a broken one)``, in order.
    """
    m = edges.size
    n_kept = 0
    for k in range(m):
        n_kept += kept[k]
    ke = np.empty(n_kept, np.int64)
    be = np.empty(m - n_kept, np.int64)
    a = 0
    b = 0
    for k in range(m):
        e = edges[k]
        if kept[k]:
            r[e] += kept_weight
            ke[a] = e
            a += 1
        else:
            s[e] += broken_weight
            be[b] = e
            b += 1
        last_contact[e] = step
    if gossip:
        for k in range(a):
            heard_kept[dst[ke[k]]] += kept_weight
        for k in range(b):
            heard_broken[dst[be[k]]] += broken_weight
    return ke, be


@njit(cache=True, nogil=True)
def deliver_contributions(
    mem: np.ndarray,
    u: np.ndarray,
    money_equiv: np.ndarray,
    ngo0: int,
    region: int,
    muni0: int,
    biz0: int,
    ngo_capacity: np.ndarray,
    ngo_staff: np.ndarray,
    ngo_volunteers: np.ndarray,
    balance: np.ndarray,
    reserved: np.ndarray,
    csr_now: np.ndarray,
    cluster_member: np.ndarray,
    boost: float,
    commitment: np.ndarray,
    gov_money: float,
    business_share: float,
    scale: np.ndarray,
    premises_units: float,
    inkind_units: float,
    deliver: np.ndarray,
    gov_amt: np.ndarray,
    biz_amt: np.ndarray,
    x: np.ndarray,
    ngo_slot: np.ndarray,
) -> None:
    """Who delivers in each active partnership this month, the money it brings and the resource units.

    Row ``k`` has members ``mem[k]`` (gov, business, NGO; -1 absent) and
    draws ``u[k]``. A member delivers if its draw is below its commitment:
    ``commitment[0]`` for government, ``commitment[1]`` for business,
    ``commitment[2] + (1 - commitment[2]) * capacity`` for the NGO; a cluster
    member (``cluster_member`` non-empty) closes ``boost`` of its business or
    NGO shortfall. A municipality pays ``gov_money`` only if its balance less
    ``reserved`` covers it (else its promise is broken); the region pays
    nothing monthly; a business pays ``min(max(balance, 0), csr *
    business_share)``. Balances are read before any payment of the month.
    Resource units ``x``: money, NGO competence (capacity x staff), volunteers,
    premises and in-kind help, each divided by ``scale``.
    """
    cluster = cluster_member.size > 0
    for k in range(mem.shape[0]):
        g = mem[k, 0]
        b = mem[k, 1]
        o = mem[k, 2]
        slot = o - ngo0 if o >= 0 else 0
        ngo_slot[k] = slot
        c_biz = commitment[1]
        c_ngo = commitment[2] + (1 - commitment[2]) * ngo_capacity[slot]
        if cluster:
            bb = boost if (b >= 0 and cluster_member[b]) else 0.0
            c_biz += (1 - c_biz) * bb
            bn = boost if (o >= 0 and cluster_member[o]) else 0.0
            c_ngo += (1 - c_ngo) * bn
        d_gov = g >= 0 and u[k, 0] < commitment[0]
        d_biz = b >= 0 and u[k, 1] < c_biz
        d_ngo = o >= 0 and u[k, 2] < c_ngo
        ga = 0.0
        if d_gov and g != region:
            if balance[g] - reserved[g - muni0] >= gov_money:
                ga = gov_money
            else:
                d_gov = False  # no money: the promise is broken
        ba = 0.0
        if d_biz:
            ba = min(max(balance[b], 0.0), csr_now[b - biz0] * business_share)
        deliver[k, 0] = d_gov
        deliver[k, 1] = d_biz
        deliver[k, 2] = d_ngo
        gov_amt[k] = ga
        biz_amt[k] = ba
        fn = 1.0 if d_ngo else 0.0
        x[k, 0] = (ga + ba + money_equiv[k] * fn) / scale[0]
        x[k, 1] = fn * ngo_capacity[slot] * max(ngo_staff[slot], 1) / scale[1]
        x[k, 2] = fn * ngo_volunteers[slot] / scale[2]
        fg = 1.0 if (d_gov and g != region) else 0.0
        fb = 1.0 if d_biz else 0.0
        x[k, 3] = (fg * premises_units + fb * inkind_units) / scale[3]


@njit(cache=True, nogil=True)
def deliver_outcomes(
    ids: np.ndarray,
    mem: np.ndarray,
    deliver: np.ndarray,
    gov_amt: np.ndarray,
    biz_amt: np.ndarray,
    y: np.ndarray,
    ngo_slot: np.ndarray,
    region: int,
    p_muni: np.ndarray,
    p_domain: np.ndarray,
    p_output: np.ndarray,
    p_services: np.ndarray,
    p_money: np.ndarray,
    p_kept: np.ndarray,
    p_broken: np.ndarray,
    n_domains: int,
    capacity_out: np.ndarray,
    ngo_income: np.ndarray,
    ngo_capacity: np.ndarray,
    learning: float,
    active_ngo: np.ndarray,
    contact: np.ndarray,
) -> None:
    """Book a month of partnership delivery.

    Writes output and services, money received, kept and broken counts,
    capacity per (municipality, domain) cell, NGOs' income, learning (an NGO
    that delivered in several partnerships learns once), activity and contact
    with the municipality.
    """
    learned = np.zeros(ngo_capacity.size, np.bool_)
    for k in range(ids.size):
        if mem[k, 2] >= 0:
            ngo_income[ngo_slot[k]] += gov_amt[k] + biz_amt[k]
    for k in range(ids.size):
        pid = ids[k]
        p_output[pid] = y[k]
        p_services[pid] += y[k]
        p_money[pid] += gov_amt[k] + biz_amt[k]
        capacity_out[p_muni[pid] * n_domains + p_domain[pid]] += y[k]
        kept = 0
        broken = 0
        for j in range(3):
            if mem[k, j] >= 0:
                if deliver[k, j]:
                    kept += 1
                else:
                    broken += 1
        p_kept[pid] += kept
        p_broken[pid] += broken
        if deliver[k, 2]:
            learned[ngo_slot[k]] = True
        if mem[k, 2] >= 0:
            active_ngo[ngo_slot[k]] = True
            if mem[k, 0] >= 0 and mem[k, 0] != region:
                contact[ngo_slot[k]] = True
    for i in range(learned.size):
        if learned[i]:
            ngo_capacity[i] += learning * (1 - ngo_capacity[i])


@njit(cache=True, nogil=True, inline="always")
def _edge_trust(e: int, r: np.ndarray, s: np.ndarray, prior_cell: np.ndarray, inst_flat: np.ndarray, w: float) -> float:
    """Beta-reputation trust of edge ``e`` (as :meth:`sim.trust.TrustNetwork.trust`)."""
    return (r[e] + w * inst_flat[prior_cell[e]]) / (r[e] + s[e] + w)


@njit(cache=True, nogil=True)
def tie_and_trust(i: int, j: int, n_orgs: int, tables: tuple) -> tuple[int, float]:
    """Active edge ``i -> j`` (-1 if none) and the trust of ``i`` in ``j``: personal on a tie, else institutional.

    ``tables`` is :meth:`sim.trust.TrustNetwork.tables`: ``(hkeys, hedge,
    active, r, s, prior_cell, institutional, trust_sector, prior_weight)``.
    """
    hkeys, hedge, active, r, s, prior_cell, institutional, trust_sector, w = tables
    e = _probe(hkeys, hedge, i * n_orgs + j)
    if e >= 0 and active[e]:
        return e, _edge_trust(e, r, s, prior_cell, institutional.reshape(-1), w)
    return -1, institutional[i, trust_sector[j]]


@njit(cache=True, nogil=True)
def requests_month(
    req: np.ndarray,
    v: np.ndarray,
    ngo0: int,
    muni0: int,
    rc0: int,
    org_municipality: np.ndarray,
    brokerage: float,
    fulfil_base: float,
    fulfil_trust: float,
    can: np.ndarray,
    n_orgs: int,
    tables: tuple,
    subsidy: float,
    ngo_income: np.ndarray,
    counters: tuple,
) -> np.ndarray:
    """Which NGO requests (NGO slots ``req``, draws ``v``) their municipalities fulfil.

    A request is granted with probability ``clip(fulfil_base + fulfil_trust *
    t)``, ``t`` the municipality's trust in the NGO (mixed with its trust in
    the resource centre's specialist who vouches, weight ``brokerage``, when
    ``brokerage`` > 0); each municipality then fulfils granted requests in
    order while its free money allows (``can`` subsidies); a fulfilled
    request adds ``subsidy`` to the NGO's income. ``counters`` are
    ``(requests per NGO slot, fulfilled per NGO slot, requests per
    municipality, fulfilled per municipality, contact with the municipality
    per NGO slot)``, updated here. ``tables``: see :func:`tie_and_trust`.

    Returns:
        Whether each request is fulfilled.
    """
    ngo_requests, ngo_fulfilled, muni_requests, muni_fulfilled, contact = counters
    ok = np.zeros(req.size, np.bool_)
    used = np.zeros(can.size, np.int64)
    for k in range(req.size):
        org = ngo0 + req[k]
        mi = org_municipality[org]
        muni = muni0 + mi
        t = tie_and_trust(muni, org, n_orgs, tables)[1]
        if brokerage > 0:
            t = (1 - brokerage) * t + brokerage * tie_and_trust(rc0 + mi, org, n_orgs, tables)[1]
        p = min(max(fulfil_base + fulfil_trust * t, 0.0), 1.0)
        muni_requests[mi] += 1
        ngo_requests[req[k]] += 1
        contact[req[k]] = True
        if v[k] < p:
            if used[mi] < can[mi]:
                ok[k] = True
                ngo_income[req[k]] += subsidy
                ngo_fulfilled[req[k]] += 1
                muni_fulfilled[mi] += 1
            used[mi] += 1
    return ok


@njit(cache=True, nogil=True)
def pick_in_municipality(sorted_orgs: np.ndarray, sorted_m: np.ndarray, munis: np.ndarray, u: np.ndarray) -> np.ndarray:
    """One of the organisations of each requested municipality, uniformly by ``u`` in [0, 1) (-1 if it has none).

    ``sorted_orgs`` are the candidates sorted by their municipality ``sorted_m``.
    """
    n = sorted_m.size
    out = np.full(munis.size, -1, np.int64)
    for k in range(munis.size):
        m = munis[k]
        lo, hi = 0, n
        while lo < hi:
            mid = (lo + hi) >> 1
            if sorted_m[mid] < m:
                lo = mid + 1
            else:
                hi = mid
        start = lo
        hi = n
        while lo < hi:
            mid = (lo + hi) >> 1
            if sorted_m[mid] <= m:
                lo = mid + 1
            else:
                hi = mid
        count = lo - start
        if count > 0:
            out[k] = sorted_orgs[min(start + int(u[k] * count), n - 1)]
    return out


@njit(cache=True, nogil=True)
def acceptance_terms(
    gov: np.ndarray,
    biz: np.ndarray,
    ngo: np.ndarray,
    ngo0: int,
    ngo_capacity: np.ndarray,
    ngo_domain: np.ndarray,
    sector: np.ndarray,
    sec_municipal: int,
    org_municipality: np.ndarray,
    plans: np.ndarray,
    coef: np.ndarray,
    n_orgs: int,
    tables: tuple,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Logit of each invited member's acceptance of each proposal.

    The NGO (else the business) proposes; the government and the business
    members other than the proposer are invited. ``z = coef[0] + coef[1] *
    trust(member -> proposer) + coef[2] * capacity + coef[3] * plan_fit +
    coef[4] * has_tie``, capacity being the NGO's (0.5 without one) and plan
    fit applying to a municipal member judging an NGO in a domain of its plans.
    ``tables``: see :func:`tie_and_trust`.

    Returns:
        ``(row, z, edge, trust, n_gov)`` per invitation, the government
        invitations (``n_gov`` of them) first, each group in row order.
    """
    k = gov.size
    rows = np.empty(2 * k, np.int64)
    z = np.empty(2 * k)
    edges = np.empty(2 * k, np.int64)
    trust = np.empty(2 * k)
    n = 0
    n_gov = 0
    for side in range(2):
        for q in range(k):
            i = gov[q] if side == 0 else biz[q]
            proposer = ngo[q] if ngo[q] >= 0 else biz[q]
            if i < 0 or i == proposer:
                continue
            slot = max(ngo[q] - ngo0, 0)
            cap = ngo_capacity[slot] if ngo[q] >= 0 else 0.5
            e, t = tie_and_trust(i, proposer, n_orgs, tables)
            fit = sector[i] == sec_municipal and ngo[q] >= 0 and plans[max(org_municipality[i], 0), ngo_domain[slot]]
            rows[n] = q
            z[n] = coef[0] + coef[1] * t + coef[2] * cap + coef[3] * (1.0 if fit else 0.0) + coef[4] * (1.0 if e >= 0 else 0.0)
            edges[n] = e
            trust[n] = t
            n += 1
        if side == 0:
            n_gov = n
    return rows[:n], z[:n], edges[:n], trust[:n], n_gov


@njit(cache=True, nogil=True)
def judgment_attributes(
    slot: np.ndarray,
    munis: np.ndarray,
    plans: np.ndarray,
    ngo_domain: np.ndarray,
    trust: np.ndarray,
    edges: np.ndarray,
    ngo_staff: np.ndarray,
    ngo_volunteers: np.ndarray,
    ngo_capacity: np.ndarray,
) -> np.ndarray:
    """What a municipality saw of each NGO it judged (columns as in the survey's partner-criteria question).

    Plan fit, priority target group (the first domain of its plans), trust,
    scale of activity (staff + volunteers / 10), capacity, personal tie.
    """
    out = np.empty((slot.size, 6))
    for k in range(slot.size):
        m = munis[k]
        d = ngo_domain[slot[k]]
        first = 0
        for c in range(plans.shape[1]):
            if plans[m, c]:
                first = c
                break
        out[k, 0] = 1.0 if plans[m, d] else 0.0
        out[k, 1] = 1.0 if d == first else 0.0
        out[k, 2] = trust[k]
        out[k, 3] = ngo_staff[slot[k]] + ngo_volunteers[slot[k]] / 10.0
        out[k, 4] = ngo_capacity[slot[k]]
        out[k, 5] = 1.0 if edges[k] >= 0 else 0.0
    return out


@njit(cache=True, nogil=True)
def ngo_costs(
    slots: np.ndarray, ngo0: int, staff: np.ndarray, balance: np.ndarray, staff_cost: float, overhead: float
) -> tuple[np.ndarray, np.ndarray]:
    """Costs of NGOs for the month: overhead always, wages only from cash at hand.

    Returns:
        ``(amount due, in arrears)`` per NGO slot in ``slots``.
    """
    amount = np.empty(slots.size)
    arrears = np.empty(slots.size, np.bool_)
    for k in range(slots.size):
        wages = staff[slots[k]] * staff_cost
        paid = min(wages, max(balance[ngo0 + slots[k]] - overhead, 0.0))
        amount[k] = paid + overhead
        arrears[k] = paid < wages
    return amount, arrears


@njit(cache=True, nogil=True)
def ngo_staffing(
    slots: np.ndarray,
    ngo0: int,
    arrears: np.ndarray,
    balance: np.ndarray,
    neg_months: np.ndarray,
    staff: np.ndarray,
    staff_cut_months: int,
    staff_cost: float,
    overhead: float,
    hire_cash_months: float,
) -> None:
    """Count months in arrears or debt; cut or hire staff.

    An NGO that has been so for ``staff_cut_months`` cuts one staff member;
    one with cash for ``hire_cash_months`` of costs (and a new wage) hires one.
    """
    for k in range(slots.size):
        i = slots[k]
        bal = balance[ngo0 + i]
        neg_months[i] = neg_months[i] + 1 if (arrears[k] or bal < 0) else 0
        if neg_months[i] >= staff_cut_months and staff[i] > 0:
            staff[i] -= 1
        cost = staff[i] * staff_cost + overhead
        if bal > hire_cash_months * (cost + staff_cost):
            staff[i] += 1


@njit(cache=True, nogil=True)
def ngo_people(
    slots: np.ndarray,
    ngo0: int,
    volunteers: np.ndarray,
    recruits: np.ndarray,
    active: np.ndarray,
    loss: float,
    gain: float,
    u_register: np.ndarray,
    join_prob: float,
    registered: np.ndarray,
    experienced: np.ndarray,
    capacity: np.ndarray,
    register_threshold: float,
    neg_months: np.ndarray,
    insolvency_months: int,
    balance: np.ndarray,
    staff: np.ndarray,
) -> np.ndarray:
    """Volunteers leave, stay with active NGOs and are recruited; experienced capable NGOs join the register.

    Returns:
        Whether each NGO in ``slots`` dies: insolvent for ``insolvency_months`` and in debt, or nobody left.
    """
    dies = np.empty(slots.size, np.bool_)
    for k in range(slots.size):
        i = slots[k]
        v = volunteers[i]
        v = v * (1 - loss) + v * gain * (1.0 if active[i] else 0.0) + recruits[k]
        volunteers[i] = v
        if (not registered[i]) and experienced[i] and capacity[i] >= register_threshold and u_register[k] < join_prob:
            registered[i] = True
        dies[k] = (neg_months[i] >= insolvency_months and balance[ngo0 + i] < 0) or (v < 1.0 and staff[i] == 0)
    return dies


@njit(cache=True, nogil=True)
def dissolution_reasons(
    ids: np.ndarray,
    members: np.ndarray,
    edges: np.ndarray,
    end: np.ndarray,
    kept: np.ndarray,
    broken: np.ndarray,
    alive: np.ndarray,
    now: int,
    dissolve_trust: float,
    r: np.ndarray,
    s: np.ndarray,
    prior_cell: np.ndarray,
    institutional: np.ndarray,
    w: float,
    ngo0: int,
    ngo_experienced: np.ndarray,
) -> np.ndarray:
    """Why each active partnership ends this month: 0 it goes on, 1 a member died, 2 its term is over, 3 low trust.

    Low trust: the mean trust along its member ties is below ``dissolve_trust``.
    A partnership that ran its term with more kept than broken obligations
    gives its NGO project experience.
    """
    inst_flat = institutional.reshape(-1)
    out = np.zeros(ids.size, np.int8)
    for k in range(ids.size):
        p = ids[k]
        dead = False
        for j in range(3):
            m = members[p, j]
            if m >= 0 and not alive[m]:
                dead = True
        ended = end[p] <= now + 1
        tsum = 0.0
        n_has = 0
        for c in range(edges.shape[1]):
            e = edges[p, c]
            if e >= 0:
                tsum += _edge_trust(e, r, s, prior_cell, inst_flat, w)
                n_has += 1
        mean_t = tsum / n_has if n_has > 0 else 1.0
        if dead:
            out[k] = 1
        elif ended:
            out[k] = 2
            if kept[p] > broken[p] and members[p, 2] >= 0:
                ngo_experienced[members[p, 2] - ngo0] = True
        elif mean_t < dissolve_trust:
            out[k] = 3
    return out


@njit(cache=True, nogil=True)
def business_giving(
    candidates: np.ndarray,
    src: np.ndarray,
    dst: np.ndarray,
    active: np.ndarray,
    alive: np.ndarray,
    sector: np.ndarray,
    sec_business: int,
    sec_ngo: int,
    r: np.ndarray,
    s: np.ndarray,
    prior_cell: np.ndarray,
    institutional: np.ndarray,
    w: float,
    biz0: int,
    give: np.ndarray,
    ngo0: int,
    endowments: bool,
    endow_intent: np.ndarray,
    endow_state: np.ndarray,
    endow_share: float,
    ngo_income: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Donations of businesses to the living NGOs they have ties with, in proportion to trust squared.

    A business whose ties all have zero trust gives nothing.

    ``candidates`` are the business-to-NGO edges (ascending); the active ones
    to a living NGO give. Business ``b`` gives ``give[b - biz0]`` in all; the
    part ``endow_share`` of a donation to an NGO forming an endowment (with
    ``endowments`` on) goes to its endowment, the rest is added to the NGO's
    ``ngo_income``.

    Returns:
        ``(business, NGO, cash part, endowment part)`` per tie, in edge order.
    """
    sel = np.empty(candidates.size, np.int64)
    m = 0
    for q in range(candidates.size):
        k = candidates[q]
        if active[k] and alive[dst[k]] and sector[src[k]] == sec_business and sector[dst[k]] == sec_ngo:
            sel[m] = k
            m += 1
    inst_flat = institutional.reshape(-1)
    wt = np.empty(m)
    wsum = np.zeros(give.size)
    for q in range(m):
        t = _edge_trust(sel[q], r, s, prior_cell, inst_flat, w)
        wt[q] = t * t
        wsum[src[sel[q]] - biz0] += wt[q]
    b_out = np.empty(m, np.int64)
    n_out = np.empty(m, np.int64)
    cash = np.empty(m)
    endow = np.empty(m)
    for q in range(m):
        b = src[sel[q]]
        o = dst[sel[q]]
        # a business whose every tie has zero trust gives nothing (no weight to share its budget by)
        amount = give[b - biz0] * wt[q] / wsum[b - biz0] if wsum[b - biz0] > 0.0 else 0.0
        slot = o - ngo0
        to_endow = endowments and endow_intent[slot] and endow_state[slot] < 2
        e = amount * (1.0 if to_endow else 0.0) * endow_share
        b_out[q] = b
        n_out[q] = o
        cash[q] = amount - e
        endow[q] = e
        ngo_income[slot] += cash[q]
    return b_out, n_out, cash, endow


@njit(cache=True, nogil=True)
def ngo_service_capacity(
    slots: np.ndarray,
    ngo0: int,
    staff: np.ndarray,
    volunteers: np.ndarray,
    capacity: np.ndarray,
    practice: np.ndarray,
    org_municipality: np.ndarray,
    domain: np.ndarray,
    n_domains: int,
    per_staff: float,
    per_volunteer: float,
    practice_productivity: float,
    n_cells: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Services per month each NGO can give, and their sum per (municipality, domain) cell.

    ``staff * per_staff * (1 + practice_productivity * has_practice) *
    capacity + volunteers * per_volunteer``.

    Returns:
        ``(capacity of each NGO, its cell, capacity per cell)``.
    """
    each = np.empty(slots.size)
    cell = np.empty(slots.size, np.int64)
    per_cell = np.zeros(n_cells)
    for k in range(slots.size):
        i = slots[k]
        staff_services = per_staff * (1.0 + practice_productivity * (1.0 if practice[i] else 0.0))
        each[k] = staff[i] * staff_services * capacity[i] + volunteers[i] * per_volunteer
        cell[k] = org_municipality[ngo0 + i] * n_domains + domain[i]
        per_cell[cell[k]] += each[k]
    return each, cell, per_cell


@njit(cache=True, nogil=True)
def service_attribution(
    served_cell: np.ndarray,
    cap: np.ndarray,
    ngo_cap: np.ndarray,
    state_cap: np.ndarray,
    ngo_each: np.ndarray,
    ngo_cell: np.ndarray,
    n_domains: int,
    registered: np.ndarray,
    slots: np.ndarray,
    muni_balance: np.ndarray,
    unit_price: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Share the families served in each cell among its providers in proportion to capacity, and price them.

    NGO ``slots[k]`` gave ``served * its share of the cell's capacity``
    services; state institutions the rest of their share, per municipality.

    Returns:
        ``(social-order bill of each NGO (registered ones only), what each municipality pays its state
        institutions (at most its positive balance ``muni_balance``))``.
    """
    bill = np.empty(ngo_each.size)
    for k in range(ngo_each.size):
        c = ngo_cell[k]
        share = ngo_cap[c] / cap[c] if cap[c] > 0 else 0.0
        own = ngo_each[k] / ngo_cap[c] if ngo_cap[c] > 0 else 0.0
        bill[k] = served_cell[c] * share * own * (1.0 if registered[slots[k]] else 0.0) * unit_price
    n_muni = cap.size // n_domains
    pay = np.empty(n_muni)
    for m in range(n_muni):
        acc = 0.0
        for d in range(n_domains):
            c = m * n_domains + d
            x = served_cell[c] * (state_cap[c] / cap[c] if cap[c] > 0 else 0.0)
            acc = x if d == 0 else acc + x
        pay[m] = min(acc * unit_price, max(muni_balance[m], 0.0))
    return bill, pay


@njit(cache=True, nogil=True)
def group_by_municipality(orgs: np.ndarray, municipality: np.ndarray, n_muni: int) -> tuple[np.ndarray, np.ndarray]:
    """``orgs`` sorted by their municipality (stable: a counting sort), and those municipalities.

    Organisations without a municipality (-1) come first.
    """
    count = np.zeros(n_muni + 2, np.int64)
    for k in range(orgs.size):
        count[municipality[orgs[k]] + 2] += 1
    for m in range(1, n_muni + 2):
        count[m] += count[m - 1]
    out = np.empty(orgs.size, orgs.dtype)
    out_m = np.empty(orgs.size, municipality.dtype)
    for k in range(orgs.size):
        m = municipality[orgs[k]]
        pos = count[m + 1]
        out[pos] = orgs[k]
        out_m[pos] = m
        count[m + 1] += 1
    return out, out_m


@njit(cache=True, nogil=True)
def geometric_positions(log_u: np.ndarray, log_q: float, start: int) -> np.ndarray:
    """Positions of successes of Bernoulli trials, from geometric gaps ``int(log_u / log_q) + 1`` after ``start``.

    ``log_u`` holds ``log(1 - u)`` of uniform draws and ``log_q`` is
    ``log(1 - p)`` (as ``np.cumsum((log_u / log_q).astype(int) + 1) + start``).
    Positions stop growing at ``2**62`` (beyond any array): with a tiny ``p``
    a gap is too large for an integer.
    """
    out = np.empty(log_u.size, np.int64)
    pos = start
    limit = 2.0**62
    for k in range(log_u.size):
        gap = log_u[k] / log_q
        pos = np.int64(limit) if gap >= limit - pos else pos + np.int64(gap) + 1
        out[k] = pos
    return out


@njit(cache=True, nogil=True)
def renew_ties(
    candidates: np.ndarray,
    src: np.ndarray,
    dst: np.ndarray,
    alive: np.ndarray,
    active: np.ndarray,
    r: np.ndarray,
    s: np.ndarray,
    last_contact: np.ndarray,
    step: int,
) -> int:
    """Re-activate, with no evidence, the dormant candidate edges whose two organisations live.

    Returns:
        The number of ties renewed.
    """
    renewed = 0
    for k in range(candidates.size):
        e = candidates[k]
        if not active[e] and alive[src[e]] and alive[dst[e]]:
            active[e] = True
            r[e] = 0.0
            s[e] = 0.0
            last_contact[e] = step
            renewed += 1
    return renewed


@njit(cache=True, nogil=True)
def cell_edges(pair_cell: np.ndarray, cell: int, start: int, stop: int) -> np.ndarray:
    """Edges ``start <= k < stop`` whose sector pair is ``cell``, ascending."""
    out = np.empty(stop - start, np.int64)
    m = 0
    for k in range(start, stop):
        if pair_cell[k] == cell:
            out[m] = k
            m += 1
    return out[:m].copy()


@njit(cache=True, nogil=True)
def incidence(src: np.ndarray, dst: np.ndarray, n: int, n_orgs: int) -> tuple[np.ndarray, np.ndarray]:
    """Edges ``0 <= k < n`` grouped by organisation (each edge under its source and its target): CSR offsets and edges."""
    count = np.zeros(n_orgs + 1, np.int64)
    for k in range(n):
        count[src[k] + 1] += 1
        count[dst[k] + 1] += 1
    for i in range(n_orgs):
        count[i + 1] += count[i]
    edges = np.empty(2 * n, np.int64)
    fill = count[:-1].copy()
    for k in range(n):
        edges[fill[src[k]]] = k
        fill[src[k]] += 1
        edges[fill[dst[k]]] = k
        fill[dst[k]] += 1
    return count, edges


@njit(cache=True, nogil=True)
def drop_org_ties(
    orgs: np.ndarray,
    offsets: np.ndarray,
    inc_edges: np.ndarray,
    indexed: int,
    n: int,
    src: np.ndarray,
    dst: np.ndarray,
    active: np.ndarray,
    r: np.ndarray,
    s: np.ndarray,
    leaving: np.ndarray,
) -> int:
    """Deactivate (and clear the evidence of) every active edge of ``orgs``.

    Edges below ``indexed`` are found through the incidence lists
    ``offsets``/``inc_edges``; edges from ``indexed`` to ``n`` are scanned.
    ``leaving`` marks ``orgs`` (a boolean per organisation).

    Returns:
        The number of edges deactivated.
    """
    lost = 0
    for q in range(orgs.size):
        o = orgs[q]
        for p in range(offsets[o], offsets[o + 1]):
            k = inc_edges[p]
            if active[k]:
                active[k] = False
                r[k] = 0.0
                s[k] = 0.0
                lost += 1
    for k in range(indexed, n):
        if active[k] and (leaving[src[k]] or leaving[dst[k]]):
            active[k] = False
            r[k] = 0.0
            s[k] = 0.0
            lost += 1
    return lost


@njit(cache=True, nogil=True)
def endowment_month(
    state: np.ndarray,
    alive: np.ndarray,
    first: np.ndarray,
    balance: np.ndarray,
    cap0: int,
    res0: int,
    min_capital: float,
    now: int,
    formation_months: int,
    market_return: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Monthly endowment bookkeeping before money moves.

    A forming endowment (state 1) of a living NGO with ``min_capital`` is
    formed (state 2); one still short after ``formation_months`` is given
    up (state 0): its capital is refunded. Every formed endowment earns
    ``market_return`` on its market value (capital + reserve).

    Returns:
        ``(given-up slots, their refunds, formed slots, gains, losses)``.
    """
    n = state.size
    late = np.empty(n, np.int64)
    refund = np.empty(n)
    n_late = 0
    for i in range(n):
        if state[i] == 1 and alive[i]:
            if balance[cap0 + i] >= min_capital:
                state[i] = 2
            elif now - first[i] >= formation_months:
                late[n_late] = i
                refund[n_late] = balance[cap0 + i]
                n_late += 1
                state[i] = 0
                first[i] = -1
    formed = np.empty(n, np.int64)
    gain = np.empty(n)
    loss = np.empty(n)
    n_formed = 0
    for i in range(n):
        if state[i] == 2:
            ret = (balance[cap0 + i] + balance[res0 + i]) * market_return
            formed[n_formed] = i
            gain[n_formed] = max(ret, 0.0)
            loss[n_formed] = max(-ret, 0.0)
            n_formed += 1
    return late[:n_late], refund[:n_late], formed[:n_formed], gain[:n_formed], loss[:n_formed]


@njit(cache=True, nogil=True)
def ngo_month_end(
    alive: np.ndarray,
    contact: np.ndarray,
    contacts: np.ndarray,
    income: np.ndarray,
    income_sum: np.ndarray,
    income_sq: np.ndarray,
    income_months: np.ndarray,
    accumulate_income: bool,
    registered: np.ndarray,
    experienced: np.ndarray,
    practice: np.ndarray,
    endow_state: np.ndarray,
) -> tuple[int, int, int, int, int]:
    """Month-end NGO bookkeeping: months with contact, income moments of alive NGOs, and counts.

    Returns:
        ``(alive, registered, experienced, using a practice, with a formed endowment)``.
    """
    n_alive = n_reg = n_exp = n_prac = n_formed = 0
    for i in range(alive.size):
        contacts[i] += contact[i]
        contact[i] = False
        n_formed += endow_state[i] == 2
        if alive[i]:
            if accumulate_income:
                income_sum[i] += income[i]
                income_sq[i] += income[i] * income[i]
                income_months[i] += 1
            n_alive += 1
            n_reg += registered[i]
            n_exp += experienced[i]
            n_prac += practice[i]
    return n_alive, n_reg, n_exp, n_prac, n_formed


@njit(cache=True, nogil=True)
def proposal_members(
    forms: np.ndarray,
    munis: np.ndarray,
    picks: np.ndarray,
    form_members: np.ndarray,
    muni0: int,
    biz_sorted: np.ndarray,
    biz_m: np.ndarray,
    ngo_sorted: np.ndarray,
    ngo_m: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Members of each proposed partnership: its municipality, a business and an NGO of the municipality.

    Form ``f`` fills the slots ``form_members[f]`` (gov, business, NGO); the
    business and the NGO are picked uniformly by ``picks[:, 0]`` and
    ``picks[:, 1]`` (as :func:`pick_in_municipality`). A proposal is feasible
    if every slot its form needs was filled.

    Returns:
        ``(gov, business, NGO, feasible)``; -1 for an empty slot.
    """
    k = forms.size
    biz = pick_in_municipality(biz_sorted, biz_m, munis, picks[:, 0])
    ngo = pick_in_municipality(ngo_sorted, ngo_m, munis, picks[:, 1])
    gov = np.empty(k, np.int64)
    feasible = np.empty(k, np.bool_)
    for q in range(k):
        f = forms[q]
        has_gov, has_biz, has_ngo = form_members[f, 0], form_members[f, 1], form_members[f, 2]
        feasible[q] = (biz[q] >= 0 or not has_biz) and (ngo[q] >= 0 or not has_ngo)
        gov[q] = muni0 + munis[q] if has_gov else -1
        if not has_biz:
            biz[q] = -1
        if not has_ngo:
            ngo[q] = -1
    return gov, biz, ngo, feasible


@njit(cache=True, nogil=True)
def stale_pairs(pair_edges: np.ndarray, active: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) of each member-pair edge that is no longer active (its tie left with a person)."""
    rows = np.empty(pair_edges.size, np.int64)
    cols = np.empty(pair_edges.size, np.int64)
    m = 0
    for r in range(pair_edges.shape[0]):
        for c in range(pair_edges.shape[1]):
            e = pair_edges[r, c]
            if e >= 0 and not active[e]:
                rows[m] = r
                cols[m] = c
                m += 1
    return rows[:m], cols[:m]


@njit(cache=True, nogil=True)
def pair_evidence(pair_edges: np.ndarray, deliver: np.ndarray, trustee: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Edges of the member pairs (row by row) and whether the trustee of each (member ``trustee[c]``) delivered."""
    edges = np.empty(pair_edges.size, np.int64)
    kept = np.empty(pair_edges.size, np.bool_)
    m = 0
    for r in range(pair_edges.shape[0]):
        for c in range(pair_edges.shape[1]):
            e = pair_edges[r, c]
            if e >= 0:
                edges[m] = e
                kept[m] = deliver[r, trustee[c]]
                m += 1
    return edges[:m], kept[:m]


@njit(cache=True, nogil=True)
def endowment_gifts(
    slot: np.ndarray,
    gift: np.ndarray,
    endow_state: np.ndarray,
    endow_intent: np.ndarray,
    endow_first: np.ndarray,
    now: int,
    match_rate: float,
) -> np.ndarray:
    """Matching asked for business gifts to endowments, and endowments that start forming.

    Gift ``k`` went to the endowment of NGO slot ``slot[k]``; gifts to
    endowments not yet formed (state < 2) are matched at ``match_rate``. An
    NGO that intends an endowment and receives its first gift starts forming
    one (state 1) this month.

    Returns:
        The match asked for, per NGO slot.
    """
    match = np.zeros(endow_state.size)
    for k in range(slot.size):
        match[slot[k]] += gift[k] * (1.0 if endow_state[slot[k]] < 2 else 0.0)
    for i in range(match.size):
        match[i] = match[i] * match_rate
    for k in range(slot.size):
        i = slot[k]
        if endow_intent[i] and endow_state[i] < 2 and gift[k] > 0 and endow_first[i] < 0:
            endow_first[i] = now
            endow_state[i] = 1
    return match


@njit(cache=True, nogil=True)
def trust_update(
    src: np.ndarray,
    dst: np.ndarray,
    prior_cell: np.ndarray,
    pair_cell: np.ndarray,
    r: np.ndarray,
    s: np.ndarray,
    active: np.ndarray,
    heard_kept: np.ndarray,
    heard_broken: np.ndarray,
    own_kept: np.ndarray,
    own_broken: np.ndarray,
    institutional: np.ndarray,
    trust_sector: np.ndarray,
    gossip: float,
    kept_weight: float,
    broken_weight: float,
    forgetting: float,
    w: float,
    rate: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The whole monthly trust update in one call (one release of the GIL).

    The direct party of each event of the month (``own_kept``,
    ``own_broken``) does not hear its own event again (:func:`unhear`); then
    :func:`trust_month` and :func:`trust_summaries`; the gossip heard is
    cleared.

    Returns:
        ``(trust of every edge, reputation, in-degree, sector-pair means)``.
    """
    if gossip > 0:
        unhear(r, own_kept, active, gossip * kept_weight)
        unhear(s, own_broken, active, gossip * broken_weight)
    n = src.size
    n_orgs = institutional.shape[0]
    k = institutional.shape[1]
    t = np.empty(n)
    inst_sum = np.zeros(n_orgs * k)
    inst_cnt = np.zeros(n_orgs * k)
    rep_sum = np.zeros(n_orgs)
    rep_cnt = np.zeros(n_orgs)
    pair_sum = np.zeros(k * k)
    pair_cnt = np.zeros(k * k)
    trust_month(
        src, dst, prior_cell, pair_cell, r, s, active, heard_kept, heard_broken, institutional.reshape(-1), gossip,
        forgetting, w, t, inst_sum, inst_cnt, rep_sum, rep_cnt, pair_sum, pair_cnt,
    )  # fmt: skip
    heard_kept[:] = 0.0
    heard_broken[:] = 0.0
    reputation = np.empty(n_orgs)
    pair_means = np.empty(k * k)
    trust_summaries(
        institutional, trust_sector, inst_sum, inst_cnt, rep_sum, rep_cnt, pair_sum, pair_cnt, rate, reputation,
        pair_means,
    )  # fmt: skip
    return t, reputation, rep_cnt, pair_means
