"""Trust: directed personal ties (beta reputation) and institutional trust.

Personal trust of organisation ``i`` in ``j`` is a beta reputation with the
agent's institutional trust in ``j``'s sector as prior (Jøsang & Ismail 2002):

    trust_ij = (r_ij + w * I[i, sector(j)]) / (r_ij + s_ij + w)

where ``r`` and ``s`` count kept and broken obligations (a broken one adds
``broken_weight`` > ``kept_weight``, so trust falls faster than it rises),
both multiplied by ``forgetting`` every month so that, without contact, trust
decays toward the institutional prior.

Reputation spreads: when ``j`` keeps or breaks an obligation toward ``i``,
every *other* organisation with a tie to ``j`` receives ``gossip`` times that
evidence at the end of the month. Ties are carried by people: when the key
person of an organisation leaves, all ties of that organisation go dormant;
the successor renews each dormant tie with a monthly probability, starting
again from the institutional prior.

Institutional trust ``I[i, k]`` of agent ``i`` toward sector ``k`` moves each
month toward the mean personal trust of ``i``'s ties into sector ``k``.

All state is in numpy arrays. The monthly update makes one pass over the
edges and leaves the trust vector, each organisation's reputation and the
sector-pair means ready for the rest of the step; networkx is used only to
build the initial graph and for snapshots.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import networkx as nx
import numpy as np
from numba import njit

from sim.mechanisms.base import Mechanism, second_thread
from sim.params import TrustParams

if TYPE_CHECKING:
    from concurrent.futures import Future

    from sim.model import CrossSectorModel

N_TRUST_SECTORS = 3  # gov, business, ngo
_NO_EDGES = np.zeros(0, dtype=np.int64)
TRUST_SECTOR_NAMES = ("gov", "business", "ngo")

_EDGE_ARRAYS = ("src", "dst", "prior_cell", "pair_cell", "r", "s", "active", "last_contact")


class Ties(NamedTuple):
    """The tie arrays and their key table, for compiled kernels (:meth:`TrustNetwork.ties`)."""

    src: np.ndarray
    dst: np.ndarray
    prior_cell: np.ndarray  # src * 3 + sector(dst): index into institutional
    pair_cell: np.ndarray  # sector(src) * 3 + sector(dst)
    r: np.ndarray
    s: np.ndarray
    active: np.ndarray
    last_contact: np.ndarray
    hkeys: np.ndarray  # open-addressing table of keys src * n_orgs + dst (-1 empty)
    hedge: np.ndarray  # edge of each key
    institutional: np.ndarray  # (n_orgs, 3)
    trust_sector: np.ndarray
    prior_weight: float
    n_orgs: int


class Rates(NamedTuple):
    """The trust parameters compiled kernels use (from :class:`sim.params.TrustParams`)."""

    gossip: float
    kept_weight: float
    broken_weight: float
    forgetting: float
    prior_weight: float
    institutional_rate: float


class MonthSums(NamedTuple):
    """Sums of the month-end trust over active ties: by (src, sector of dst), by dst and by sector pair."""

    inst_sum: np.ndarray
    inst_cnt: np.ndarray
    rep_sum: np.ndarray
    rep_cnt: np.ndarray
    pair_sum: np.ndarray
    pair_cnt: np.ndarray


def _table_size(edges: int) -> int:
    """Power-of-two size of a key table that stays at most half full with ``edges`` edges (4x)."""
    return 1 << max(10, int(4 * edges - 1).bit_length())


class TrustNetwork:
    """Directed trust edges in growable arrays.

    Args:
        n_orgs: Number of organisation slots.
        trust_sector: Trust sector (0 gov, 1 business, 2 ngo) of each slot.
        params: Trust parameters.
        capacity: Initial edge capacity.
    """

    def __init__(self, n_orgs: int, trust_sector: np.ndarray, params: TrustParams, capacity: int = 1024) -> None:
        self.params = params
        self.n_orgs = n_orgs
        self.trust_sector = np.asarray(trust_sector, dtype=np.int64)
        self.n = 0
        self.src = np.zeros(capacity, dtype=np.int64)
        self.dst = np.zeros(capacity, dtype=np.int64)
        self.prior_cell = np.zeros(capacity, dtype=np.int64)  # src * 3 + sector(dst): index into institutional
        self.pair_cell = np.zeros(capacity, dtype=np.int64)  # sector(src) * 3 + sector(dst)
        self.r = np.zeros(capacity, dtype=np.float64)
        self.s = np.zeros(capacity, dtype=np.float64)
        self.active = np.zeros(capacity, dtype=bool)
        self.last_contact = np.zeros(capacity, dtype=np.int32)
        # edge index: open-addressing hash table of keys src * n_orgs + dst (-1 empty) and the edge of each
        self._hkeys = np.full(_table_size(capacity), -1, dtype=np.int64)
        self._hedge = np.zeros(self._hkeys.size, dtype=np.int64)
        inst0 = np.asarray(params.initial_institutional, dtype=np.float64).reshape(N_TRUST_SECTORS, N_TRUST_SECTORS)
        self.institutional = inst0[self.trust_sector].copy()  # (n_orgs, 3)
        self._cache: np.ndarray | None = None
        self._cell_edges: dict[int, tuple[int, np.ndarray]] = {}  # cell -> (edges scanned, edges in the cell)
        # edges by organisation (CSR offsets, edges) for the first _inc_n edges; later ones are scanned
        self._inc = (np.zeros(n_orgs + 1, np.int64), np.zeros(0, np.int64))
        self._inc_n = 0
        self._gossip_kept = np.zeros(n_orgs)
        self._gossip_broken = np.zeros(n_orgs)
        self._own: list[tuple[np.ndarray, np.ndarray]] = []  # edges whose own event must not echo back
        self.reputation = np.zeros(n_orgs)
        self.in_degree = np.zeros(n_orgs)
        self.dead = np.zeros(n_orgs, bool)
        self.pair_means = np.full((N_TRUST_SECTORS, N_TRUST_SECTORS), np.nan)
        self.metrics_excluded: np.ndarray | None = None  # orgs left out of pair_means (resource centres, issue #13)
        self.kept_total = 0.0
        self.broken_total = 0.0
        self.updates = 0  # edge-updates counter for benchmarks

    # ----------------------------------------------------------------- edges
    def _grow(self, need: int) -> None:
        cap = self.src.size
        if need <= cap:
            return
        new = max(need, cap * 2)
        for name in _EDGE_ARRAYS:
            old = getattr(self, name)
            arr = np.zeros(new, dtype=old.dtype)
            arr[:cap] = old
            setattr(self, name, arr)

    def edge(self, i: int, j: int) -> int:
        """Index of the active edge i->j, or -1."""
        return int(self._find(np.array([i * self.n_orgs + j], dtype=np.int64), only_active=True)[0])

    def _find(self, keys: np.ndarray, only_active: bool = False) -> np.ndarray:
        """Edge index of each key (dormant too unless ``only_active``), -1 where the pair has no such edge."""
        return find_edges(self._hkeys, self._hedge, keys, self.active, only_active)

    def ensure_edges(self, src: np.ndarray, dst: np.ndarray, step: int, evidence: float = 0.0) -> np.ndarray:
        """Return edge indices for i->j pairs, creating (or re-activating) missing ties.

        A new tie starts with ``evidence`` kept obligations.
        """
        src = np.asarray(src, dtype=np.int64)
        dst = np.asarray(dst, dtype=np.int64)
        room = self.n + src.size
        self._grow(room)
        if 2 * room > self._hkeys.size:
            self._reindex(room)
        out, n_new, changed = ensure_edges(self.ties(), src, dst, self.n, float(evidence), step)
        self.n += n_new
        if changed:
            self._cache = None
        return out

    def add_orgs(self, trust_sector: np.ndarray) -> None:
        """Make room for more organisation slots (appended after the current ones, with no ties yet).

        Args:
            trust_sector: Trust sector of every slot, old and new (length = the new number of slots).
        """
        old, new = self.n_orgs, int(trust_sector.size)
        if new <= old:
            return
        self.n_orgs = new
        self.trust_sector = np.asarray(trust_sector, dtype=np.int64).copy()
        inst0 = np.asarray(self.params.initial_institutional, dtype=np.float64).reshape(N_TRUST_SECTORS, N_TRUST_SECTORS)
        self.institutional = np.concatenate([self.institutional, inst0[self.trust_sector[old:]]])
        for name in ("_gossip_kept", "_gossip_broken", "reputation", "in_degree", "dead"):
            arr = getattr(self, name)
            setattr(self, name, np.concatenate([arr, np.zeros(new - old, arr.dtype)]))
        self._inc = (np.zeros(new + 1, np.int64), np.zeros(0, np.int64))  # rebuilt when next needed
        self._inc_n = 0
        self._reindex(self.n)  # keys are src * n_orgs + dst

    def _reindex(self, room: int = 0) -> None:
        """Rebuild the key table from the edge arrays, with room for ``room`` edges in all."""
        self._hkeys = np.full(_table_size(max(room, self.n)), -1, dtype=np.int64)
        self._hedge = np.zeros(self._hkeys.size, dtype=np.int64)
        build_table(self._hkeys, self._hedge, self.src[: self.n] * self.n_orgs + self.dst[: self.n])

    def build_initial(
        self, orgs: np.ndarray, municipality: np.ndarray, mean_degree: float, cross_share: float, rng: np.random.Generator
    ) -> None:
        """Create the initial tie network (both directions of each tie).

        ``mean_degree`` is the expected number of tie partners of an
        organisation; each tie is stored as two directed edges. Ties inside a
        municipality come from a G(n, p) graph per municipality; a share
        ``cross_share`` is drawn between municipalities (region-wide
        organisations sit in municipality -1).
        """
        pairs: list[tuple[int, int]] = []
        for m in np.unique(municipality):
            members = orgs[municipality == m]
            k = len(members)
            if k < 2:
                continue
            p = min(1.0, mean_degree * (1 - cross_share) / max(k - 1, 1))
            seed = int(rng.integers(2**31))
            if 1.0 - p == 1.0:  # below float resolution: no tie (networkx's G(n, p) would divide by log(1 - p) = 0)
                continue
            g = nx.fast_gnp_random_graph(k, p, seed=seed)
            pairs.extend((int(members[a]), int(members[b])) for a, b in g.edges())
        n_cross = int(round(len(orgs) * mean_degree * cross_share / 2))
        if n_cross and len(orgs) > 1:
            a = rng.choice(orgs, size=n_cross)
            b = rng.choice(orgs, size=n_cross)
            pairs.extend((int(x), int(y)) for x, y in zip(a, b, strict=True) if x != y)
        if pairs:
            arr = np.array(sorted({(min(a, b), max(a, b)) for a, b in pairs}), dtype=np.int64)
            src = np.concatenate([arr[:, 0], arr[:, 1]])
            dst = np.concatenate([arr[:, 1], arr[:, 0]])
            self.ensure_edges(src, dst, 0, evidence=self.params.initial_evidence)
        self.refresh()

    # ---------------------------------------------------------------- values
    def trust(self, idx: np.ndarray | slice | None = None) -> np.ndarray:
        """Personal trust of the given edges (all edges if ``idx`` is None).

        The full vector is cached; it is recomputed only after evidence or
        institutional trust changed. Do not modify the returned array.
        """
        w = self.params.prior_weight
        if idx is not None and self._cache is None:
            prior = self.institutional.reshape(-1)[self.prior_cell[idx]]
            r = self.r[idx]
            return (r + w * prior) / (r + self.s[idx] + w)
        if self._cache is None:
            n = self.n
            prior = self.institutional.reshape(-1)[self.prior_cell[:n]]
            r = self.r[:n]
            self._cache = (r + w * prior) / (r + self.s[:n] + w)
        return self._cache if idx is None else self._cache[idx]

    def lookup(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Indices of the active edges i->j (-1 where there is none)."""
        return self._find(np.asarray(i, dtype=np.int64) * self.n_orgs + np.asarray(j, dtype=np.int64), only_active=True)

    def edges_in_cell(self, cell: int) -> np.ndarray:
        """All edges (active or dormant) of one sector pair ``cell`` (sector(src) * 3 + sector(dst)), ascending.

        Kept up to date incrementally: only edges created since the last call are scanned.
        """
        done, edges = self._cell_edges.get(cell, (0, np.zeros(0, np.int64)))
        if done < self.n:
            edges = np.concatenate([edges, cell_edges(self.pair_cell, cell, done, self.n)])
            self._cell_edges[cell] = (self.n, edges)
        return edges

    @property
    def rates(self) -> tuple:
        """The trust parameters, a plain tuple with the fields of :class:`Rates`."""
        p = self.params
        return (p.gossip, p.kept_weight, p.broken_weight, p.forgetting, p.prior_weight, p.institutional_rate)

    def ties(self, n: int | None = None) -> tuple:
        """The arrays, a plain tuple with the fields of :class:`Ties` (edge arrays cut to the first ``n`` if given).

        Build it anew after edges were added (the arrays may have been reallocated).
        """
        if n is None:
            return (
                self.src, self.dst, self.prior_cell, self.pair_cell, self.r, self.s, self.active, self.last_contact,
                self._hkeys, self._hedge, self.institutional, self.trust_sector, self.params.prior_weight, self.n_orgs,
            )  # fmt: skip
        return (
            self.src[:n], self.dst[:n], self.prior_cell[:n], self.pair_cell[:n], self.r[:n], self.s[:n],
            self.active[:n], self.last_contact[:n], self._hkeys, self._hedge, self.institutional, self.trust_sector,
            self.params.prior_weight, self.n_orgs,
        )  # fmt: skip

    def pair_trust(self, i: np.ndarray, j: np.ndarray, edges: np.ndarray | None = None) -> np.ndarray:
        """Trust of i in j: personal if a tie exists, else institutional.

        ``edges`` may pass the result of :meth:`lookup` for the same pairs.
        """
        i = np.asarray(i, dtype=np.int64)
        j = np.asarray(j, dtype=np.int64)
        out = self.institutional[i, self.trust_sector[j]]
        k = self.lookup(i, j) if edges is None else edges
        has = k >= 0
        if has.any():
            out[has] = self.trust(k[has])
        return out

    # ---------------------------------------------------------------- events
    def record(self, edges: np.ndarray, kept: np.ndarray, step: int) -> None:
        """Record kept (True) or broken (False) obligations along edges i->j.

        The evidence is about ``j`` (the obliged party) and counts at once on
        the edge; the other organisations tied to ``j`` hear of it through
        gossip at the end of the month (:meth:`monthly_update`).
        """
        edges = np.asarray(edges, dtype=np.int64)
        kept = np.asarray(kept, dtype=bool)
        if edges.size == 0:
            return
        p = self.params
        ke, be = record_evidence(edges, kept, self.ties(), (self._gossip_kept, self._gossip_broken), self.rates, step)
        self._cache = None
        self.kept_total += ke.size
        self.broken_total += be.size
        self.updates += edges.size
        if p.gossip > 0:  # cancel each edge's share of its own event in the month-end pass
            self._own.append((ke, be))

    def replace_person(self, orgs: np.ndarray) -> int:
        """Key persons of ``orgs`` leave; the ties they carried go with them.

        Returns:
            The number of ties removed.
        """
        orgs = np.asarray(orgs, dtype=np.int64)
        if orgs.size == 0:
            return 0
        leaving = np.zeros(self.n_orgs, bool)
        leaving[orgs] = True
        n = self.n
        if self._inc_n < n - 4096:  # many edges since the incidence lists were built
            self._inc = incidence(self.src, self.dst, n, self.n_orgs)
            self._inc_n = n
        lost = drop_org_ties(orgs, self._inc, self._inc_n, n, self.ties(), leaving)
        self._cache = None
        return lost

    def remove_org(self, orgs: np.ndarray | int) -> None:
        """Deactivate all ties of organisations that ceased to exist (they are dropped at the next compaction)."""
        orgs = np.atleast_1d(orgs)
        self.replace_person(orgs)
        self.dead[orgs] = True

    def renew(self, p: float, alive: np.ndarray, rng: np.random.Generator, step: int) -> int:
        """Renew each dormant tie between living organisations with probability ``p``.

        A renewed tie starts again from the institutional prior (no evidence).
        Candidates are drawn with geometric gaps, so the cost is about
        ``p`` times the number of edges.

        Returns:
            The number of ties renewed.
        """
        n = self.n
        if p <= 0 or n == 0:
            return 0
        if p >= 1:
            cand = np.arange(n)
        else:
            mean = n * p
            chunk = int(mean + 6 * np.sqrt(mean) + 16)
            log_q = float(np.log1p(-p))
            pos = geometric_positions(np.log(1.0 - rng.random(chunk)), log_q, -1)
            while pos[-1] < n:
                pos = np.concatenate([pos, geometric_positions(np.log(1.0 - rng.random(chunk)), log_q, int(pos[-1]))])
            cand = pos[: np.searchsorted(pos, n)]
        renewed = renew_ties(cand, self.ties(), alive, step)
        if renewed:
            self._cache = None
        return renewed

    def compact(self) -> np.ndarray | None:
        """Drop the ties of dead organisations when they are a third or more of the arrays.

        Dormant ties between living organisations stay: they can be renewed.

        Returns:
            ``None`` if nothing changed, else the old-to-new index map (-1 for
            dropped edges) so that holders of edge indices can remap them.
        """
        n = self.n
        gone = self.dead[self.src[:n]] | self.dead[self.dst[:n]]
        n_gone = int(np.count_nonzero(gone))
        if n < 1024 or n_gone * 3 < n:
            return None
        keep = np.flatnonzero(~gone)
        remap = np.full(n, -1, np.int64)
        remap[keep] = np.arange(keep.size)
        for name in _EDGE_ARRAYS:
            arr = getattr(self, name)
            arr[: keep.size] = arr[keep]
            arr[keep.size : n] = 0
        self.n = keep.size
        self._reindex()
        self._cell_edges.clear()
        self._inc = (np.zeros(self.n_orgs + 1, np.int64), np.zeros(0, np.int64))  # edge indices changed
        self._inc_n = 0
        self._own = [(remap[ke], remap[be]) for ke, be in self._own]
        self._own = [(ke[ke >= 0], be[be >= 0]) for ke, be in self._own]
        self._cache = None
        return remap

    def monthly_update(self) -> None:
        """One pass over all edges: gossip, forgetting, institutional trust, summaries.

        Afterwards :attr:`reputation` (mean trust others place in each
        organisation, institutional where nobody has a tie), :attr:`in_degree`
        and :attr:`pair_means` (mean personal trust by sector pair) are
        current; they use the month-end trust before the institutional update.
        """
        p = self.params
        n = self.n
        own_kept = np.concatenate([ke for ke, _ in self._own]) if self._own else _NO_EDGES
        own_broken = np.concatenate([be for _, be in self._own]) if self._own else _NO_EDGES
        self._own.clear()
        t, self.reputation, self.in_degree, pair_means = trust_update(
            self.ties(n), (self._gossip_kept, self._gossip_broken), (own_kept, own_broken), self.rates
        )
        self.pair_means = pair_means.reshape(N_TRUST_SECTORS, N_TRUST_SECTORS)
        if self.metrics_excluded is not None:
            self._pair_means_without(t)
        self.updates += n
        self._cache = None if p.institutional_rate > 0 else t

    def refresh(self, t: np.ndarray | None = None) -> None:
        """Recompute :attr:`reputation` and :attr:`pair_means` from trust values ``t`` (current if None)."""
        n = self.n
        t = self.trust() if t is None else t
        act = self.active[:n].astype(np.float64)
        ta = t * act
        dst = self.dst[:n]
        sums = np.bincount(dst, weights=ta, minlength=self.n_orgs)
        cnt = np.bincount(dst, weights=act, minlength=self.n_orgs)
        base = self.institutional.mean(axis=0)[self.trust_sector]
        self.reputation = np.where(cnt > 0, sums / np.maximum(cnt, 1e-12), base)
        self.in_degree = cnt
        k = N_TRUST_SECTORS**2
        psum = np.bincount(self.pair_cell[:n], weights=ta, minlength=k)
        pcnt = np.bincount(self.pair_cell[:n], weights=act, minlength=k)
        with np.errstate(invalid="ignore", divide="ignore"):
            self.pair_means = (psum / pcnt).reshape(N_TRUST_SECTORS, N_TRUST_SECTORS)
        if self.metrics_excluded is not None:
            self._pair_means_without(t)

    def exclude_from_metrics(self, orgs: np.ndarray) -> None:
        """Leave the ties of ``orgs`` out of :attr:`pair_means` (their trust still works in every mechanism)."""
        mask = np.zeros(self.n_orgs, bool)
        mask[np.asarray(orgs, dtype=np.int64)] = True
        self.metrics_excluded = mask

    def _pair_means_without(self, t: np.ndarray) -> None:
        """Recompute :attr:`pair_means` from trust ``t`` without the ties of :attr:`metrics_excluded`."""
        n = self.n
        ex = self.metrics_excluded
        if ex.size < self.n_orgs:
            ex = np.concatenate([ex, np.zeros(self.n_orgs - ex.size, bool)])
            self.metrics_excluded = ex
        act = self.active[:n] & ~ex[self.src[:n]] & ~ex[self.dst[:n]]
        k = N_TRUST_SECTORS**2
        cell = self.pair_cell[:n][act]
        psum = np.bincount(cell, weights=t[:n][act], minlength=k)
        pcnt = np.bincount(cell, minlength=k).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            self.pair_means = (psum / pcnt).reshape(N_TRUST_SECTORS, N_TRUST_SECTORS)

    # -------------------------------------------------------------- summaries
    def sector_pair_trust(self) -> np.ndarray:
        """Mean personal trust of active ties by (from-sector, to-sector), 3x3; NaN where none.

        As of the last :meth:`monthly_update` (or :meth:`refresh`).
        """
        return self.pair_means.copy()

    def active_count(self) -> int:
        """Number of active ties."""
        return int(np.count_nonzero(self.active[: self.n]))

    def to_networkx(self) -> nx.DiGraph:
        """Snapshot of active ties as a networkx graph with a ``trust`` attribute."""
        g = nx.DiGraph()
        n = self.n
        act = np.flatnonzero(self.active[:n])
        t = self.trust()
        for k in act.tolist():
            g.add_edge(int(self.src[k]), int(self.dst[k]), trust=float(t[k]))
        return g



class TrustUpdate(Mechanism):
    """The month-end trust update, and the December compaction of dead ties (no random draws).

    Gossip heard this month, forgetting, institutional trust and reputation
    (:meth:`TrustNetwork.monthly_update`). The update reads and changes only
    trust state, so with the second thread (``output.family_thread`` and many
    families) the model launches it right after delivery (:meth:`launch`) and
    it runs while services run (same results); :meth:`step` waits for it.
    """

    name = "trust"
    group = "trust"
    launch_after = "delivery"
    """With the second thread, :meth:`launch` is called after this mechanism's step."""

    def __init__(self, model: CrossSectorModel) -> None:
        super().__init__(model)
        self.job: Future[None] | None = None

    def launch(self) -> None:
        """Start the monthly update in the second thread."""
        self.job = second_thread().submit(self.state.trust.monthly_update)

    def step(self) -> None:
        """Finish (or run) the monthly update; in December, compact the ties of dead organisations."""
        st = self.state
        if self.job is not None:
            self.job.result()
            self.job = None
        else:
            st.trust.monthly_update()
        if st.t % 12 == 11:
            remap = st.trust.compact()
            if remap is not None:  # partnerships hold edge indices
                pe = st.partnerships.edges[: st.partnerships.n]
                has = pe >= 0
                pe[has] = remap[pe[has]]


# ----------------------------------------------------------------- kernels
_HASH_MULT = np.uint64(0x9E3779B97F4A7C15)


@njit(cache=True, nogil=True)
def find_edges(hkeys: np.ndarray, hedge: np.ndarray, query: np.ndarray, active: np.ndarray, only_active: bool) -> np.ndarray:
    """Edge of each query key in the open-addressing table ``hkeys``/``hedge`` (-1 if absent, or dormant with ``only_active``)."""
    out = np.full(query.size, -1, np.int64)
    for q in range(query.size):
        e = _probe(hkeys, hedge, query[q])
        if e >= 0 and (not only_active or active[e]):
            out[q] = e
    return out


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
def ensure_edges(
    ties: Ties, src: np.ndarray, dst: np.ndarray, n0: int, evidence: float, step: int
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
    e_src, e_dst, prior_cell, pair_cell, r, s, active, last_contact, hkeys, hedge, _, trust_sector, _, n_orgs = ties
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
def cell_edges(pair_cell: np.ndarray, cell: int, start: int, stop: int) -> np.ndarray:
    """Edges ``start <= k < stop`` whose sector pair is ``cell``, ascending."""
    out = np.empty(stop - start, np.int64)
    m = 0
    for k in range(start, stop):
        if pair_cell[k] == cell:
            out[m] = k
            m += 1
    return out[:m].copy()


@njit(cache=True, nogil=True, inline="always")
def edge_trust(e: int, r: np.ndarray, s: np.ndarray, prior_cell: np.ndarray, inst_flat: np.ndarray, w: float) -> float:
    """Beta-reputation trust of edge ``e`` (as :meth:`TrustNetwork.trust`)."""
    return (r[e] + w * inst_flat[prior_cell[e]]) / (r[e] + s[e] + w)


@njit(cache=True, nogil=True)
def tie_and_trust(i: int, j: int, ties: Ties) -> tuple[int, float]:
    """Active edge ``i -> j`` (-1 if none) and the trust of ``i`` in ``j``: personal on a tie, else institutional."""
    _, _, prior_cell, _, r, s, active, _, hkeys, hedge, institutional, trust_sector, w, n_orgs = ties
    e = _probe(hkeys, hedge, i * n_orgs + j)
    if e >= 0 and active[e]:
        return e, edge_trust(e, r, s, prior_cell, institutional.reshape(-1), w)
    return -1, institutional[i, trust_sector[j]]


@njit(cache=True, nogil=True)
def record_evidence(
    edges: np.ndarray, kept: np.ndarray, ties: Ties, heard: tuple, rates: Rates, step: int
) -> tuple[np.ndarray, np.ndarray]:
    """Kept (``kept[k]``) or broken obligations along ``edges``, in order; gossip about each trustee is queued.

    Returns:
        ``(edges with a kept obligation, edges with a broken one)``, in order.
    """
    _, dst, _, _, r, s, _, last_contact, _, _, _, _, _, _ = ties
    gossip, kept_weight, broken_weight, _, _, _ = rates
    heard_kept, heard_broken = heard
    gossip_on = gossip > 0
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
    if gossip_on:
        for k in range(a):
            heard_kept[dst[ke[k]]] += kept_weight
        for k in range(b):
            heard_broken[dst[be[k]]] += broken_weight
    return ke, be


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
def drop_org_ties(orgs: np.ndarray, inc: tuple, indexed: int, n: int, ties: Ties, leaving: np.ndarray) -> int:
    """Deactivate (and clear the evidence of) every active edge of ``orgs``.

    Edges below ``indexed`` are found through the incidence lists
    ``offsets``/``inc_edges``; edges from ``indexed`` to ``n`` are scanned.
    ``leaving`` marks ``orgs`` (a boolean per organisation).

    Returns:
        The number of edges deactivated.
    """
    src, dst, _, _, r, s, active, _, _, _, _, _, _, _ = ties
    offsets, inc_edges = inc
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
def renew_ties(candidates: np.ndarray, ties: Ties, alive: np.ndarray, step: int) -> int:
    """Re-activate, with no evidence, the dormant candidate edges whose two organisations live.

    Returns:
        The number of ties renewed.
    """
    src, dst, _, _, r, s, active, last_contact, _, _, _, _, _, _ = ties
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
def unhear(x: np.ndarray, edges: np.ndarray, active: np.ndarray, amount: float) -> None:
    """Take back ``amount`` of gossip from each listed edge that is still active (in order)."""
    for k in range(edges.size):
        e = edges[k]
        if active[e]:
            x[e] -= amount


@njit(cache=True, nogil=True)
def trust_month(ties: Ties, heard: tuple, rates: Rates, trust_out: np.ndarray, sums: MonthSums) -> None:
    """Gossip, forgetting and the month-end trust of every edge, with the sums for summaries.

    For each active edge i->j: ``r += gossip * heard_kept[j]``,
    ``s += gossip * heard_broken[j]``; then (all edges) ``r, s *= forgetting``;
    trust is the beta reputation with the institutional prior; sums by
    (src, sector of dst), by dst and by sector pair are accumulated over
    active edges.
    """
    src, dst, prior_cell, pair_cell, r, s, active, _, _, _, inst2d, _, _, _ = ties
    gossip, _, _, forgetting, w, _ = rates
    heard_kept, heard_broken = heard
    institutional = inst2d.reshape(-1)
    inst_sum, inst_cnt, rep_sum, rep_cnt, pair_sum, pair_cnt = sums
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


@njit(cache=True, nogil=True, error_model="numpy")
def trust_summaries(ties: Ties, sums: MonthSums, rate: float, reputation: np.ndarray, pair_means: np.ndarray) -> None:
    """Reputation, sector-pair means and the institutional-trust move from the monthly sums.

    Reputation is the mean incoming trust (the sector-mean institutional trust
    where nobody has a tie); pair means are NaN where a sector pair has no
    active tie; each institutional cell with ties moves ``rate`` of the way to
    the mean personal trust of those ties.
    """
    _, _, _, _, _, _, _, _, _, _, institutional, trust_sector, _, _ = ties
    inst_sum, inst_cnt, rep_sum, rep_cnt, pair_sum, pair_cnt = sums
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


@njit(cache=True, nogil=True)
def trust_update(ties: Ties, heard: tuple, own: tuple, rates: Rates) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The whole monthly trust update in one call (one release of the GIL).

    The direct party of each event of the month (``own_kept``,
    ``own_broken``) does not hear its own event again (:func:`unhear`); then
    :func:`trust_month` and :func:`trust_summaries`; the gossip heard is
    cleared.

    Returns:
        ``(trust of every edge, reputation, in-degree, sector-pair means)``.
    """
    src, _, _, _, r, s, active, _, _, _, institutional, _, _, _ = ties
    gossip, kept_weight, broken_weight, _, _, institutional_rate = rates
    heard_kept, heard_broken = heard
    own_kept, own_broken = own
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
    sums = (inst_sum, inst_cnt, rep_sum, rep_cnt, pair_sum, pair_cnt)  # MonthSums
    trust_month(ties, heard, rates, t, sums)
    heard_kept[:] = 0.0
    heard_broken[:] = 0.0
    reputation = np.empty(n_orgs)
    pair_means = np.empty(k * k)
    trust_summaries(ties, sums, institutional_rate, reputation, pair_means)
    return t, reputation, rep_cnt, pair_means

