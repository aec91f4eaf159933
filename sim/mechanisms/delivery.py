"""Partnership delivery: members deliver or fail; money moves; output is produced; obligations feed trust.

Parameters: :class:`sim.params.PartnershipParams` (``cfg.partnership``:
commitments, ``gov_money``, ``business_money_share``, ``resource_scale``,
``premises_units``, ``business_inkind_units``, ``ces_rho``, ``productivity``),
:class:`sim.params.OrgParams` (``capacity_learning``) and
:class:`sim.params.ClusterParams` (quality control, trust programme).

Each month each member of an active partnership delivers its contribution
with its commitment probability (a cluster member closes part of the
shortfall; :func:`deliver_contributions`): a municipality pays
``gov_money`` (within the money not reserved for state institutions), a
business a share of its CSR budget, the NGO brings competence and
volunteers. Contributions are turned into services through the CES function
of :func:`sim.partnerships.ces_output`; services count toward the
(municipality, domain) capacity of the month, and the NGO learns
(:func:`deliver_outcomes`). Every delivery or failure is evidence about that
member for each partner tied to it (:func:`pair_evidence`); a tie lost with a
person who left is started again (:func:`stale_pairs`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from numba import njit

from sim.mechanisms.base import Mechanism
from sim.mechanisms.budgets import reserved_state_inst
from sim.mechanisms.commitments import admit_in_order
from sim.mechanisms.formation import PAIR_A, PAIR_B
from sim.partnerships import BIZ, GOV, NGOS, PartnershipArrays, ces_output
from sim.state import N_DOMAINS, Layout, NGOArrays

if TYPE_CHECKING:
    from sim.model import CrossSectorModel

_NO_ORGS = np.zeros(0, bool)


class Delivery(Mechanism):
    """One month of every active partnership (stream ``partnership_delivery``)."""

    name = "delivery"
    group = "partnership"

    def __init__(self, model: CrossSectorModel) -> None:
        super().__init__(model)
        pp = self.cfg.partnership
        self.commitment = np.array([pp.commitment_gov, pp.commitment_business, pp.commitment_ngo_base])
        self.resource_scale = np.asarray(pp.resource_scale, dtype=np.float64)

    def step(self) -> None:
        """Deliver, pay, produce and record evidence."""
        st, pp, op = self.state, self.cfg.partnership, self.cfg.org
        led, ps = st.ledger, st.partnerships
        ids = ps.active_ids()
        st.partnership_capacity = np.zeros((st.n_muni, N_DOMAINS))
        if ids.size == 0:
            return
        rng = self.model.streams["partnership_delivery"]
        k = ids.size
        mem = ps.members[ids]
        u = rng.random((k, 3))
        cl = self.model.cluster  # quality control and the trust-culture programme close part of the shortfall
        member, boost = (cl.member_orgs(), cl.commitment_boost_value()) if cl.active else (_NO_ORGS, 0.0)
        commitments = self.model.mechanisms["commitments"]
        commitments.sync()  # type: ignore[attr-defined]
        late = self.late_payments(k)
        # government money: municipal members pay monthly (the region's grant was paid up front);
        # the recipient is the NGO if any, else the municipality (gov-business); first what is owed from late months
        recipient = np.where(mem[:, NGOS] >= 0, mem[:, NGOS], mem[:, GOV])
        self.pay_arrears(ids, late, recipient)
        gov_pay = commitments.pays[ids] & ~late  # type: ignore[attr-defined]
        terms = tuple(DeliveryTerms(
            self.commitment, pp.gov_money, pp.business_money_share, self.resource_scale, pp.premises_units,
            pp.business_inkind_units, reserved_state_inst(st, self.cfg), st.csr_now, member, boost, gov_pay,
        ))  # fmt: skip
        deliver, gov_amt, biz_amt, x, ngo_slot = deliver_contributions(
            mem, u, ps.money_equiv[ids], st.layout(), st.ngos(), led.balance, terms
        )
        owed = np.flatnonzero(late & deliver[:, GOV] & commitments.pays[ids] & (mem[:, GOV] != st.region))  # type: ignore[attr-defined]
        if owed.size:  # delivered its part, the money comes later
            commitments.arrears[ids[owed]] += pp.gov_money  # type: ignore[attr-defined]
            st.counts["gov_payments_late"] += owed.size
            to_ngo = mem[owed, NGOS]
            np.add.at(st.ngo_late_payments_month, to_ngo[to_ngo >= 0] - st.ngo0, 1)  # read by perception next month
        gi = np.flatnonzero(gov_amt > 0)
        if gi.size:
            led.transfer("partnership_gov", mem[gi, GOV], recipient[gi], pp.gov_money)
        bi = np.flatnonzero(deliver[:, BIZ])
        if bi.size:  # a business in several partnerships pays all of them within its balance
            paid = np.bincount(mem[bi, BIZ] - st.biz0, weights=biz_amt[bi], minlength=st.csr_now.size)
            bal = np.maximum(led.balance[st.biz0 : st.biz0 + paid.size], 0.0)
            scale = np.divide(bal, paid, out=np.ones_like(paid), where=paid > bal)
            biz_amt[bi] *= scale[mem[bi, BIZ] - st.biz0]
            x[bi, 0] = (gov_amt[bi] + biz_amt[bi] + ps.money_equiv[ids[bi]] * deliver[bi, NGOS]) / self.resource_scale[0]
            led.transfer("partnership_business", mem[bi, BIZ], recipient[bi], biz_amt[bi])
        y = ces_output(x, pp.ces_rho, pp.productivity)
        st.counts["partnership_services"] += float(y.sum())
        cap = np.zeros(st.n_muni * N_DOMAINS)
        st.active_ngo = np.zeros(st.n_ngo_slots, bool)
        done = (ids, mem, deliver, gov_amt, biz_amt, ngo_slot, y)  # Delivered
        deliver_outcomes(done, st.layout(), ps.arrays(), st.ngos(), cap, op.capacity_learning)
        st.partnership_capacity = cap.reshape(st.n_muni, N_DOMAINS)
        # obligations -> trust along member pairs (truster a observes trustee b)
        pe = ps.edges[ids]
        rows, cols = stale_pairs(pe, st.trust.active)
        if rows.size:  # a tie was lost with a person who left: the partners start a new one
            pe[rows, cols] = st.trust.ensure_edges(mem[rows, PAIR_A[cols]], mem[rows, PAIR_B[cols]], st.t)
            ps.edges[ids] = pe
        st.trust.record(*pair_evidence(pe, deliver, PAIR_B), st.t)  # evidence about the trustee of each pair

    def late_payments(self, k: int) -> np.ndarray:
        """Which of the ``k`` active partnerships' municipal payments are late this month (none in December)."""
        delay = self.cfg.partnership.gov_payment_delay
        if delay <= 0 or self.state.t % 12 == 11 or self.cfg.partnership.gov_money <= 0:
            return np.zeros(k, bool)
        return self.model.streams["gov_payment_delay"].random(k) < delay

    def pay_arrears(self, ids: np.ndarray, late: np.ndarray, recipient: np.ndarray) -> None:
        """Municipalities pay what they owe from late months, unless this month's payment is late again."""
        st = self.state
        arrears = self.model.mechanisms["commitments"].arrears  # type: ignore[attr-defined]
        owed = np.flatnonzero(arrears[: st.partnerships.n] > 0)
        if owed.size == 0:
            return
        pos = np.searchsorted(ids, owed)
        running = (pos < ids.size) & (ids[np.minimum(pos, ids.size - 1)] == owed)
        again = np.zeros(owed.size, bool)
        again[running] = late[pos[running]]
        pay = owed[~again]  # ended partnerships are paid off now
        mem = st.partnerships.members[pay]
        closed = (mem[:, NGOS] >= 0) & ~st.ngo_alive[np.maximum(mem[:, NGOS] - st.ngo0, 0)]
        if closed.any():  # a closed NGO's arrears lapse (nobody to pay them to; its accounts were liquidated)
            arrears[pay[closed]] = 0.0
            pay, mem = pay[~closed], mem[~closed]
        # within the municipality's balance (the rest stays owed)
        room = np.maximum(st.ledger.balance[st.muni0 : st.biz0], 0.0)
        ok = admit_in_order(mem[:, GOV] - st.muni0, arrears[pay], room)
        pay, mem = pay[ok], mem[ok]
        if pay.size == 0:
            return
        to = np.where(mem[:, NGOS] >= 0, mem[:, NGOS], mem[:, GOV])
        st.ledger.transfer("partnership_gov", mem[:, GOV], to, arrears[pay])
        has_ngo = mem[:, NGOS] >= 0
        np.add.at(st.ngo_income_month, mem[has_ngo, NGOS] - st.ngo0, arrears[pay][has_ngo])
        st.partnerships.money[pay] += arrears[pay]
        arrears[pay] = 0.0


# ----------------------------------------------------------------- kernels
class DeliveryTerms(NamedTuple):
    """What the delivery rules need besides the members and the balances (one month)."""

    commitment: np.ndarray  # gov, business, NGO base
    gov_money: float
    business_share: float
    scale: np.ndarray  # resource units per kind
    premises_units: float
    inkind_units: float
    reserved: np.ndarray  # municipal money reserved for state institutions
    csr_now: np.ndarray  # businesses' CSR budget this month
    cluster_member: np.ndarray  # over organisations (empty: no cluster)
    boost: float
    gov_pay: np.ndarray = np.zeros(0, np.bool_)  # per row: the municipality pays this month (empty: all)


class Delivered(NamedTuple):
    """One month's delivery of the active partnerships ``ids`` (from :func:`deliver_contributions`) and output ``y``."""

    ids: np.ndarray
    mem: np.ndarray
    deliver: np.ndarray
    gov_amt: np.ndarray
    biz_amt: np.ndarray
    ngo_slot: np.ndarray
    y: np.ndarray


@njit(cache=True, nogil=True)
def deliver_contributions(
    mem: np.ndarray,
    u: np.ndarray,
    money_equiv: np.ndarray,
    lay: Layout,
    ngos: NGOArrays,
    balance: np.ndarray,
    terms: DeliveryTerms,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Who delivers in each active partnership this month, the money it brings and the resource units.

    Row ``k`` has members ``mem[k]`` (gov, business, NGO; -1 absent) and
    draws ``u[k]``. A member delivers if its draw is below its commitment:
    ``commitment[0]`` for government, ``commitment[1]`` for business,
    ``commitment[2] + (1 - commitment[2]) * capacity`` for the NGO; a cluster
    member (``cluster_member`` non-empty) closes ``boost`` of its business or
    NGO shortfall. A municipality whose row has ``gov_pay`` (all rows if it is
    empty) pays ``gov_money`` only if its balance less ``reserved`` covers it
    (else its promise is broken); without ``gov_pay`` it delivers its part
    without money this month (commitment cut, or payment late); the region pays
    nothing monthly; a business pays ``min(max(balance, 0), csr *
    business_share)``. Balances are read before any payment of the month; a
    municipality's earlier payments of the month (in row order) count against its balance.
    Resource units ``x``: money, NGO competence (capacity x staff), volunteers,
    premises and in-kind help, each divided by ``scale``.

    Returns:
        ``(deliver (k, 3), government money, business money, resource units x (k, 4), NGO slot)``.
    """
    region, muni0, biz0, _, _, _, _, _ = lay
    ngo0, _, ngo_capacity, _, ngo_staff, ngo_volunteers, _, _, _, _, _, _, _, _ = ngos
    commitment, gov_money, business_share, scale, premises_units, inkind_units, reserved, csr_now = terms[:8]
    cluster_member, boost = terms[8], terms[9]
    gov_pay = terms[10]
    pay_all = gov_pay.size == 0
    avail = balance.copy()  # what each payer has left after this month's earlier payments
    k_all = mem.shape[0]
    deliver = np.empty((k_all, 3), np.bool_)
    gov_amt, biz_amt, x = np.empty(k_all), np.empty(k_all), np.empty((k_all, 4))
    ngo_slot = np.empty(k_all, np.int64)
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
        if d_gov and g != region and (pay_all or gov_pay[k]):
            if avail[g] - reserved[g - muni0] >= gov_money:
                ga = gov_money
                avail[g] -= gov_money
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
    return deliver, gov_amt, biz_amt, x, ngo_slot


@njit(cache=True, nogil=True)
def deliver_outcomes(
    done: Delivered, lay: Layout, parts: PartnershipArrays, ngos: NGOArrays, capacity_out: np.ndarray, learning: float
) -> None:
    """Book a month of partnership delivery.

    Writes output and services, money received, kept and broken counts,
    capacity per (municipality, domain) cell, NGOs' income, learning (an NGO
    that delivered in several partnerships learns once), activity and contact
    with the municipality (``capacity_out``: the zeroed (municipality, domain) cells, flattened).
    """
    region, _, _, _, _, _, _, n_muni = lay
    _, _, p_muni, p_domain, _, p_output, p_services, p_money, p_kept, p_broken = parts
    _, _, ngo_capacity, _, _, _, _, _, _, _, _, ngo_income, active_ngo, contact = ngos
    ids, mem, deliver, gov_amt, biz_amt, ngo_slot, y = done
    n_domains = capacity_out.size // n_muni
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

