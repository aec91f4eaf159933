"""The per-step family and trust mechanisms written the idiomatic way.

Families are Mesa agents with a ``step`` method and trust lives on the
attributes of a networkx graph; one step applies the same rules as
:mod:`sim.families` and :mod:`sim.trust` (awareness, applications and
rationing per cell, transitions, wellbeing; gossip, forgetting,
institutional trust, reputation). It exists to measure what the array
layout of :class:`sim.model.CrossSectorModel` buys, and is checked against it
in ``tests/test_idiomatic.py``.
"""

from __future__ import annotations

import random
from collections import defaultdict

import mesa
import networkx as nx
import numpy as np

from sim.mechanisms.families import U16, threshold16
from sim.model import CrossSectorModel
from sim.params import DOMAINS


class FamilyAgent(mesa.Agent):
    """One family as a Mesa agent."""

    def __init__(self, model: IdiomaticModel, state: int, wellbeing: float, aware: bool, muni: int, domain: int) -> None:
        super().__init__(model)
        self.state = state
        self.wellbeing = wellbeing
        self.aware = aware
        self.muni = muni
        self.domain = domain
        self.served = False
        self.applied = False
        self.draw = 0

    def seek(self) -> None:
        """Learn of support, or apply for it."""
        m = self.model
        self.served = False
        self.applied = False
        if self.state < 1:
            return
        if not self.aware:
            if m.rnd.random() < m.p_aware[self.muni]:
                self.aware = True
                m.newly_aware += 1
            return
        u = m.rnd.randrange(U16)
        if u < m.apply16:
            self.applied = True
            self.draw = u
            m.demand[self.muni * len(DOMAINS) + self.domain] += 1

    def get_served(self) -> None:
        """Be served if chosen within the cell's capacity."""
        m = self.model
        if self.applied:
            cell = self.muni * len(DOMAINS) + self.domain
            frac = min(1.0, m.capacity[cell] / max(m.demand[cell], 1))
            if self.draw < frac * m.apply16:
                self.served = True

    def step(self) -> None:
        """Transition and wellbeing."""
        m = self.model
        code = self.state * 2 + int(self.served)
        u = m.rnd.randrange(U16)
        if u < m.down[code]:
            self.state -= 1
        elif u < m.up_to[code]:
            self.state += 1
        self.wellbeing += m.rate * (m.target[self.state] - self.wellbeing)
        if self.served:
            self.wellbeing = min(1.0, self.wellbeing + m.boost)


class IdiomaticModel(mesa.Model):
    """Families as agents and trust on a networkx graph, copied from a vectorised model.

    Args:
        source: A :class:`CrossSectorModel` whose families and ties are copied.
        seed: Seed of the stdlib random generator used for draws.
    """

    def __init__(self, source: CrossSectorModel, seed: int = 0) -> None:
        super().__init__(rng=seed)
        self.rnd = random.Random(seed)
        fam = source.families
        fp = source.cfg.families
        self.down = fam.down.tolist()
        self.up_to = fam.up_to.tolist()
        self.apply16 = int(threshold16(fp.apply_prob))
        self.target = fam.target_by_state.tolist()
        self.rate = fp.wellbeing_rate
        self.boost = fp.service_boost
        for i in range(fam.n):
            FamilyAgent(
                self,
                int(fam.state[i]),
                float(fam.wellbeing[i]),
                bool(fam.aware[i]),
                int(fam.municipality[i]),
                int(fam.domain[i]),
            )
        self.families = list(self.agents_by_type[FamilyAgent])
        self.capacity = [1e9] * (source.n_muni * len(DOMAINS))
        self.p_aware = [0.01] * source.n_muni
        self.trust_params = source.cfg.trust
        self.sector = {int(i): int(source.trust_sector[i]) for i in range(source.n_orgs)}
        self.institutional = {int(i): list(map(float, source.trust.institutional[i])) for i in range(source.n_orgs)}
        g = nx.DiGraph()
        tr = source.trust
        for k in np.flatnonzero(tr.active[: tr.n]).tolist():
            g.add_edge(int(tr.src[k]), int(tr.dst[k]), r=float(tr.r[k]), s=float(tr.s[k]))
        self.graph = g
        self.events: list[tuple[int, int, bool]] = []
        self.newly_aware = 0
        self.demand: defaultdict[int, int] = defaultdict(int)

    def trust_of(self, i: int, j: int) -> float:
        """Beta-reputation trust of i in j from the edge attributes."""
        d = self.graph.edges[i, j]
        w = self.trust_params.prior_weight
        prior = self.institutional[i][self.sector[j]]
        return (d["r"] + w * prior) / (d["r"] + d["s"] + w)

    def step(self) -> None:
        """One month of the family and trust mechanisms, agent by agent and edge by edge."""
        self.demand = defaultdict(int)
        for f in self.families:
            f.seek()
        for f in self.families:
            f.get_served()
        for f in self.families:
            f.step()
        self.trust_step()

    def trust_step(self) -> None:
        """Gossip, forgetting, institutional trust and reputation over the graph."""
        p = self.trust_params
        g = self.graph
        heard_kept: defaultdict[int, float] = defaultdict(float)
        heard_broken: defaultdict[int, float] = defaultdict(float)
        for i, j, kept in self.events:
            if kept:
                g.edges[i, j]["r"] += p.kept_weight
                heard_kept[j] += p.kept_weight
            else:
                g.edges[i, j]["s"] += p.broken_weight
                heard_broken[j] += p.broken_weight
        for _i, j, d in g.edges(data=True):
            d["r"] = (d["r"] + p.gossip * heard_kept[j]) * p.forgetting
            d["s"] = (d["s"] + p.gossip * heard_broken[j]) * p.forgetting
        sums: defaultdict[tuple[int, int], float] = defaultdict(float)
        counts: defaultdict[tuple[int, int], int] = defaultdict(int)
        for i, j in g.edges():
            t = self.trust_of(i, j)
            sums[i, self.sector[j]] += t
            counts[i, self.sector[j]] += 1
        for (i, k), total in sums.items():
            inst = self.institutional[i]
            inst[k] += p.institutional_rate * (total / counts[i, k] - inst[k])
        self.reputation = {j: sum(self.trust_of(i, j) for i in g.predecessors(j)) / max(g.in_degree(j), 1) for j in g.nodes()}
        self.events.clear()
