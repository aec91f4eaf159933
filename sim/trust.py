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

import networkx as nx
import numpy as np

from sim.kernels import (
    build_table,
    cell_edges,
    drop_org_ties,
    find_edges,
    geometric_positions,
    incidence,
    record_evidence,
    renew_ties,
    trust_update,
)
from sim.kernels import ensure_edges as kernel_ensure_edges
from sim.params import TrustParams

N_TRUST_SECTORS = 3  # gov, business, ngo
_NO_EDGES = np.zeros(0, dtype=np.int64)
TRUST_SECTOR_NAMES = ("gov", "business", "ngo")

_EDGE_ARRAYS = ("src", "dst", "prior_cell", "pair_cell", "r", "s", "active", "last_contact")


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
        self.kept_total = 0.0
        self.broken_total = 0.0
        self.updates = 0  # edge-updates counter for benchmarks

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
        out, n_new, changed = kernel_ensure_edges(
            self._hkeys, self._hedge, src, dst, self.n, self.n_orgs, self.trust_sector, self.src, self.dst,
            self.prior_cell, self.pair_cell, self.active, self.r, self.s, self.last_contact, float(evidence), step,
        )  # fmt: skip
        self.n += n_new
        if changed:
            self._cache = None
        return out

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

    def tables(self) -> tuple[np.ndarray, ...]:
        """The arrays compiled kernels need to find an edge and its trust (see :func:`sim.kernels.tie_and_trust`).

        Returns:
            ``(hkeys, hedge, active, r, s, prior_cell, institutional, trust_sector)`` and the prior weight last.
        """
        return (
            self._hkeys, self._hedge, self.active, self.r, self.s, self.prior_cell, self.institutional,
            self.trust_sector, self.params.prior_weight,
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
        ke, be = record_evidence(
            edges, kept, self.r, self.s, self.last_contact, self.dst, self._gossip_kept, self._gossip_broken,
            p.kept_weight, p.broken_weight, step, p.gossip > 0,
        )  # fmt: skip
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
        lost = drop_org_ties(
            orgs, *self._inc, self._inc_n, n, self.src, self.dst, self.active, self.r, self.s, leaving
        )  # fmt: skip
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
        renewed = renew_ties(cand, self.src, self.dst, alive, self.active, self.r, self.s, self.last_contact, step)
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
            self.src[:n], self.dst[:n], self.prior_cell[:n], self.pair_cell[:n], self.r[:n], self.s[:n],
            self.active[:n], self._gossip_kept, self._gossip_broken, own_kept, own_broken, self.institutional,
            self.trust_sector, p.gossip, p.kept_weight, p.broken_weight, p.forgetting, p.prior_weight,
            p.institutional_rate,
        )  # fmt: skip
        self.pair_means = pair_means.reshape(N_TRUST_SECTORS, N_TRUST_SECTORS)
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
