"""Trust: directed personal ties (beta reputation) and institutional trust.

Personal trust of organisation ``i`` in ``j`` is a beta reputation with the
agent's institutional trust in ``j``'s sector as prior (Jøsang & Ismail 2002):

    trust_ij = (r_ij + w * I[i, sector(j)]) / (r_ij + s_ij + w)

where ``r`` and ``s`` count kept and broken obligations (a broken one adds
``broken_weight`` > ``kept_weight``, so trust falls faster than it rises),
both multiplied by ``forgetting`` every month so that, without contact, trust
decays toward the institutional prior. Reputation spreads: when ``j`` keeps or
breaks an obligation, every other organisation with a tie to ``j`` receives
``gossip`` times that evidence. Ties are carried by people: each end records
the key person who holds it; when that person leaves, the tie is removed.

Institutional trust ``I[i, k]`` of agent ``i`` toward sector ``k`` moves each
month toward the mean personal trust of ``i``'s ties into sector ``k``.

All state is in numpy arrays; networkx is used only to build the initial
graph and for snapshots.
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from sim.params import TrustParams

N_TRUST_SECTORS = 3  # gov, business, ngo
TRUST_SECTOR_NAMES = ("gov", "business", "ngo")


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
        self.trust_sector = trust_sector
        self.n = 0
        self.src = np.zeros(capacity, dtype=np.int32)
        self.dst = np.zeros(capacity, dtype=np.int32)
        self.r = np.zeros(capacity, dtype=np.float64)
        self.s = np.zeros(capacity, dtype=np.float64)
        self.active = np.zeros(capacity, dtype=bool)
        self.carrier_src = np.zeros(capacity, dtype=np.int64)
        self.carrier_dst = np.zeros(capacity, dtype=np.int64)
        self.last_contact = np.zeros(capacity, dtype=np.int32)
        self.index: dict[int, int] = {}
        inst0 = np.asarray(params.initial_institutional, dtype=np.float64).reshape(N_TRUST_SECTORS, N_TRUST_SECTORS)
        self.institutional = inst0[trust_sector].copy()  # (n_orgs, 3)
        self.person = np.zeros(n_orgs, dtype=np.int64)  # current key person id of each org
        self._next_person = 1
        self.person[:] = np.arange(n_orgs)
        self._next_person = n_orgs
        self.kept_total = 0.0
        self.broken_total = 0.0
        self.updates = 0  # edge-updates counter for benchmarks

    # ----------------------------------------------------------------- edges
    def _grow(self, need: int) -> None:
        cap = self.src.size
        if need <= cap:
            return
        new = max(need, cap * 2)
        for name in ("src", "dst", "r", "s", "active", "carrier_src", "carrier_dst", "last_contact"):
            old = getattr(self, name)
            arr = np.zeros(new, dtype=old.dtype)
            arr[:cap] = old
            setattr(self, name, arr)

    def edge(self, i: int, j: int) -> int:
        """Index of the active edge i->j, or -1."""
        k = self.index.get(i * self.n_orgs + j, -1)
        return k if k >= 0 and self.active[k] else -1

    def ensure_edges(self, src: np.ndarray, dst: np.ndarray, step: int, evidence: float = 0.0) -> np.ndarray:
        """Return edge indices for i->j pairs, creating missing ties.

        A new tie starts with ``evidence`` kept obligations and is carried by
        the current key persons of both ends.
        """
        out = np.empty(len(src), dtype=np.int64)
        for n, (i, j) in enumerate(zip(np.asarray(src).tolist(), np.asarray(dst).tolist(), strict=True)):
            key = i * self.n_orgs + j
            k = self.index.get(key, -1)
            if k < 0:
                self._grow(self.n + 1)
                k = self.n
                self.n += 1
                self.index[key] = k
                self.src[k], self.dst[k] = i, j
            if not self.active[k]:
                self.active[k] = True
                self.r[k], self.s[k] = evidence, 0.0
                self.carrier_src[k], self.carrier_dst[k] = self.person[i], self.person[j]
                self.last_contact[k] = step
            out[n] = k
        return out

    def build_initial(
        self, orgs: np.ndarray, municipality: np.ndarray, mean_degree: float, cross_share: float, rng: np.random.Generator
    ) -> None:
        """Create the initial tie network (both directions of each tie).

        Ties inside a municipality come from a G(n, p) graph per municipality;
        a share ``cross_share`` of ties is drawn between municipalities (this
        includes the regional government, placed in municipality -1).
        """
        pairs: list[tuple[int, int]] = []
        undirected_degree = mean_degree / 2.0
        for m in np.unique(municipality):
            members = orgs[municipality == m]
            k = len(members)
            if k < 2:
                continue
            p = min(1.0, undirected_degree * (1 - cross_share) / max(k - 1, 1))
            g = nx.fast_gnp_random_graph(k, p, seed=int(rng.integers(2**31)))
            pairs.extend((int(members[a]), int(members[b])) for a, b in g.edges())
        n_cross = int(round(len(orgs) * undirected_degree * cross_share))
        if n_cross and len(orgs) > 1:
            a = rng.choice(orgs, size=n_cross)
            b = rng.choice(orgs, size=n_cross)
            pairs.extend((int(x), int(y)) for x, y in zip(a, b, strict=True) if x != y)
        if pairs:
            arr = np.array(sorted(set(pairs)), dtype=np.int64)
            src = np.concatenate([arr[:, 0], arr[:, 1]])
            dst = np.concatenate([arr[:, 1], arr[:, 0]])
            self.ensure_edges(src, dst, 0, evidence=self.params.initial_evidence)

    # ---------------------------------------------------------------- values
    def trust(self, idx: np.ndarray | slice | None = None) -> np.ndarray:
        """Personal trust of the given edges (all edges if ``idx`` is None)."""
        if idx is None:
            idx = slice(0, self.n)
        w = self.params.prior_weight
        prior = self.institutional[self.src[idx], self.trust_sector[self.dst[idx]]]
        return (self.r[idx] + w * prior) / (self.r[idx] + self.s[idx] + w)

    def pair_trust(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Trust of i in j: personal if a tie exists, else institutional."""
        i = np.asarray(i, dtype=np.int64)
        j = np.asarray(j, dtype=np.int64)
        out = self.institutional[i, self.trust_sector[j]].copy()
        for n, (a, b) in enumerate(zip(i.tolist(), j.tolist(), strict=True)):
            k = self.edge(a, b)
            if k >= 0:
                out[n] = self.trust(np.array([k]))[0]
        return out

    # ---------------------------------------------------------------- events
    def record(self, edges: np.ndarray, kept: np.ndarray, step: int) -> None:
        """Record kept (True) or broken (False) obligations along edges i->j.

        The evidence is about ``j`` (the obliged party). Others tied to ``j``
        hear of it through gossip.
        """
        edges = np.asarray(edges, dtype=np.int64)
        kept = np.asarray(kept, dtype=bool)
        if edges.size == 0:
            return
        p = self.params
        np.add.at(self.r, edges[kept], p.kept_weight)
        np.add.at(self.s, edges[~kept], p.broken_weight)
        self.last_contact[edges] = step
        self.kept_total += float(kept.sum())
        self.broken_total += float((~kept).sum())
        if p.gossip > 0:
            about = self.dst[edges]
            kept_about = np.bincount(about[kept], minlength=self.n_orgs) * p.kept_weight
            broken_about = np.bincount(about[~kept], minlength=self.n_orgs) * p.broken_weight
            n = self.n
            heard = self.active[:n].copy()
            heard[edges] = False  # the direct party already counted it
            d = self.dst[:n]
            self.r[:n] += heard * p.gossip * kept_about[d]
            self.s[:n] += heard * p.gossip * broken_about[d]
            self.updates += n
        self.updates += edges.size

    def replace_person(self, orgs: np.ndarray) -> int:
        """Key persons of ``orgs`` leave; the ties they carried go with them.

        Returns:
            The number of ties removed.
        """
        orgs = np.asarray(orgs, dtype=np.int64)
        if orgs.size == 0:
            return 0
        self.person[orgs] = self._next_person + np.arange(orgs.size)
        self._next_person += orgs.size
        n = self.n
        a = self.active[:n]
        lost = a & ((self.carrier_src[:n] != self.person[self.src[:n]]) | (self.carrier_dst[:n] != self.person[self.dst[:n]]))
        self.active[:n] &= ~lost
        self.r[:n][lost] = 0.0
        self.s[:n][lost] = 0.0
        return int(lost.sum())

    def remove_org(self, org: int) -> None:
        """Deactivate all ties of an organisation that ceased to exist."""
        n = self.n
        dead = (self.src[:n] == org) | (self.dst[:n] == org)
        self.active[:n] &= ~dead

    def monthly_update(self) -> None:
        """Forget old evidence and move institutional trust toward observed ties."""
        p = self.params
        n = self.n
        self.r[:n] *= p.forgetting
        self.s[:n] *= p.forgetting
        self.updates += n
        if p.institutional_rate <= 0 or n == 0:
            return
        act = self.active[:n]
        t = self.trust()
        cell = self.src[:n].astype(np.int64) * N_TRUST_SECTORS + self.trust_sector[self.dst[:n]]
        size = self.n_orgs * N_TRUST_SECTORS
        sums = np.bincount(cell, weights=t * act, minlength=size)
        cnt = np.bincount(cell, weights=act.astype(np.float64), minlength=size)
        inst = self.institutional.reshape(-1)
        has = cnt > 0
        inst[has] += p.institutional_rate * (sums[has] / cnt[has] - inst[has])

    # -------------------------------------------------------------- summaries
    def sector_pair_trust(self) -> np.ndarray:
        """Mean personal trust of active ties by (from-sector, to-sector), 3x3; NaN where none."""
        n = self.n
        act = self.active[:n]
        if not act.any():
            return np.full((N_TRUST_SECTORS, N_TRUST_SECTORS), np.nan)
        t = self.trust()[act]
        cell = self.trust_sector[self.src[:n][act]] * N_TRUST_SECTORS + self.trust_sector[self.dst[:n][act]]
        sums = np.bincount(cell, weights=t, minlength=N_TRUST_SECTORS**2)
        cnt = np.bincount(cell, minlength=N_TRUST_SECTORS**2)
        with np.errstate(invalid="ignore", divide="ignore"):
            return (sums / cnt).reshape(N_TRUST_SECTORS, N_TRUST_SECTORS)

    def active_count(self) -> int:
        """Number of active ties."""
        return int(self.active[: self.n].sum())

    def to_networkx(self) -> nx.DiGraph:
        """Snapshot of active ties as a networkx graph with a ``trust`` attribute."""
        g = nx.DiGraph()
        n = self.n
        act = np.flatnonzero(self.active[:n])
        t = self.trust()
        for k in act.tolist():
            g.add_edge(int(self.src[k]), int(self.dst[k]), trust=float(t[k]))
        return g
