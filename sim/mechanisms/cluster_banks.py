"""The cluster's banks of ideas, projects, competences and investors, and its four project classes (concept IV).

Parameters: :class:`sim.params.ClusterParams` (``cfg.cluster``: ``banks``, ``ideas_per_member``, ``idea_pass``,
``class_shares``, ``class_months``, ``competence_candidates``).

The concept (section IV, before Table IV.1): "a bank of ideas (initiatives)
and a bank of social projects are created, which pass a primary assessment
by specialists; then an umbrella system with a bank of partners'
competences, a bank of successful practices and a bank of investors".
Projects are sorted into four groups - life-support, development,
breakthrough and flagship - "to choose the right participants for local and
strategic clustering".

Rules (numbers assumed unless stated):

* Each month every member puts an idea into the idea bank with probability
  ``ideas_per_member``; a share ``idea_pass`` passes the specialists'
  screening into the project bank and is classed by ``class_shares``.
* The competence bank picks the project's NGO: the member NGO (main or
  auxiliary zone) with the highest capacity among ``competence_candidates``
  drawn in the project's municipality (the auxiliary zone's
  competition/rivalry).
* The investor bank picks the business: the providing-zone member of the
  municipality with the largest CSR budget this month (support/assistance).
* Class decides the form and length: life-support and development projects
  are business-NGO local coalitions; breakthrough projects add the
  municipality and flagship projects the region (strategic clustering,
  coordinated by the core); durations ``class_months``.

With ``banks`` off, local coalitions are drawn at random (a member NGO and a
member business of a municipality), as before issue #13.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.mechanisms.formation import create_partnerships
from sim.partnerships import MECHANISMS

PART_OF = "cluster"
"""This module is a part of the cluster mechanism (:mod:`sim.mechanisms.cluster`)."""

if TYPE_CHECKING:
    from sim.mechanisms.cluster import Cluster

PROJECT_CLASSES: tuple[str, ...] = ("life_support", "development", "breakthrough", "flagship")
"""The concept's four project groups, in its order."""


class ProjectBanks:
    """Idea, project, competence and investor banks of the cluster.

    Args:
        cluster: The cluster that owns the banks.
    """

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.ideas = 0
        self.projects_banked = 0
        self.formed = np.zeros(len(PROJECT_CLASSES), np.int64)
        self.log: list[tuple[int, int, int, int, int, float]] = []
        """Projects formed: (month, class, NGO, business, government, NGO capacity at formation); class -1 = random coalition."""

    def month(self, rng: np.random.Generator) -> int:
        """Ideas in, screening, and the projects that form this month.

        Returns:
            The number of projects formed.
        """
        cl = self.cluster
        mdl, p = cl.model, cl.params
        ideas = int(rng.poisson(p.ideas_per_member * int(cl.member.sum())))
        self.ideas += ideas
        n = int(rng.binomial(ideas, p.idea_pass)) if ideas else 0
        if n == 0:
            return 0
        self.projects_banked += n
        cls = rng.choice(len(PROJECT_CLASSES), n, p=np.asarray(p.class_shares))
        munis = rng.integers(0, mdl.n_muni, n)
        ngo = self._competence(rng, munis)
        biz = self._investors()[munis]
        gov = np.where(cls == 2, mdl.muni0 + munis, np.where(cls == 3, mdl.region, -1))
        ok = (ngo >= 0) & ((biz >= 0) | (gov >= 0))
        if not ok.any():
            return 0
        members = np.stack([gov, biz, ngo], axis=1)[ok]
        cls, munis = cls[ok], munis[ok]
        dom = mdl.ngo_domain[members[:, 2] - mdl.ngo0]
        months = np.asarray(p.class_months)[cls]
        strategic = cls >= 2
        for mech, sel in (("cluster_strategic", strategic), ("cluster_local", ~strategic)):
            if sel.any():
                create_partnerships(
                    mdl.state, members[sel], munis[sel], dom[sel], months[sel], MECHANISMS.index(mech), np.zeros(sel.sum())
                )
        self.formed += np.bincount(cls, minlength=len(PROJECT_CLASSES))
        cap = mdl.ngo_capacity[members[:, 2] - mdl.ngo0]
        self.log += [
            (mdl.t, int(c), int(m[2]), int(m[1]), int(m[0]), float(x)) for c, m, x in zip(cls, members, cap, strict=True)
        ]
        return int(ok.sum())

    def _competence(self, rng: np.random.Generator, munis: np.ndarray) -> np.ndarray:
        """The competence bank: the most capable of ``competence_candidates`` member NGOs per project (-1: none)."""
        cl = self.cluster
        mdl = cl.model
        cand = cl.member_ngos(auxiliary=True)
        best = np.full(munis.size, -1, np.int64)
        if cand.size == 0:
            return best
        best_cap = np.full(munis.size, -1.0)
        for _ in range(cl.params.competence_candidates):
            pick, ok = mdl.state.pick_in_municipality(cand, munis, rng.random(munis.size))
            cap = np.where(ok, mdl.ngo_capacity[np.where(ok, pick, mdl.ngo0) - mdl.ngo0], -1.0)
            better = cap > best_cap
            best[better], best_cap[better] = pick[better], cap[better]
        return best

    def _investors(self) -> np.ndarray:
        """The investor bank: per municipality, the providing-zone business with the largest CSR budget (-1: none)."""
        cl = self.cluster
        mdl = cl.model
        biz = cl.member_businesses()
        out = np.full(mdl.n_muni, -1, np.int64)
        if biz.size == 0:
            return out
        csr = mdl.csr_now[biz - mdl.biz0]
        order = np.lexsort((-csr, mdl.org_municipality[biz]))  # by municipality, largest CSR first
        b, m = biz[order], mdl.org_municipality[biz[order]]
        first = np.ones(b.size, bool)
        first[1:] = m[1:] != m[:-1]
        out[m[first]] = b[first]
        return out
