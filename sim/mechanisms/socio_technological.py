"""Socio-technological mechanism: an NGO's proven technology adopted by the state, funded, and spread.

Parameters: :class:`sim.params.SocioTechParams` (``cfg.socio_tech``).

Concept IV.3.2: socio-technological mechanisms rest on a social technology
(know-how) that "stands out by the effectiveness of spending and the quality
of results" against what state or municipal institutions do (hospices,
foster families, rehabilitation models ...), for particular target groups.

An NGO's practice counts as *proven* when the NGO has won and run
``proven_projects`` grant projects or more and its capacity is at least
``proven_capacity`` (evidence of results; assumption). Each month the region
adopts each proven, not yet adopted practice with probability
``adoption_prob`` times the NGO's voice (a council seat raises it, see
:mod:`sim.mechanisms.councils`); an unproven practice is never adopted.
Adoption opens a funding line: the region pays the implementing NGO
``line_amount`` a month for ``line_months`` (channel ``technology_funding``,
from the regional treasury within the annual ``budget``; lines are paid in
order of adoption while the year's budget lasts). An adopted technology
spreads: each month, with ``spread_prob``, it is taken up in one more
municipality not yet using it, by an alive NGO of the same domain there
(picked by lot) that gains ``transfer_capacity`` of its capacity gap and a
funding line of its own. Draws come from the stream ``socio_tech``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.mechanisms.base import Mechanism

if TYPE_CHECKING:
    from sim.model import CrossSectorModel


class SocioTechnological(Mechanism):
    """Adoption, funding and spread of NGOs' proven technologies (stream ``socio_tech``)."""

    name = "socio_technological"
    group = "socio_tech"

    def __init__(self, model: CrossSectorModel) -> None:
        super().__init__(model)
        s = self.state.n_ngo_slots
        self.tech_of = np.full(s, -1, np.int64)
        """Technology each NGO slot implements (-1: none); a technology is numbered in order of adoption."""
        self.line_end = np.full(s, -1, np.int64)
        """Month each NGO slot's funding line ends (exclusive; -1: no line)."""
        self.origin: list[int] = []
        """NGO slot whose practice each technology is."""
        self.domain: list[int] = []
        """Domain of each technology."""
        self.covered = np.zeros((0, self.state.n_muni), bool)
        """(technology, municipality): where each technology is in use."""
        self.left = 0.0
        """Money left this year for funding lines, roubles."""
        self.paid_total = 0.0
        """Roubles paid on funding lines so far."""

    def add_ngo_slots(self, old: int, add: int) -> None:
        """New NGO slots implement no technology."""
        self.tech_of = np.concatenate([self.tech_of, np.full(add, -1, np.int64)])
        self.line_end = np.concatenate([self.line_end, np.full(add, -1, np.int64)])

    @property
    def n_adopted(self) -> int:
        """Technologies adopted so far."""
        return len(self.origin)

    def implementers(self) -> np.ndarray:
        """Alive NGO slots with a running funding line."""
        st = self.state
        return np.flatnonzero(st.ngo_alive & (self.line_end > st.t) & (self.tech_of >= 0))

    def proven(self) -> np.ndarray:
        """Whether each NGO slot's practice is proven (evidence of results: projects run, capacity)."""
        sp, st = self.cfg.socio_tech, self.state
        return st.ngo_alive & (st.ngo_grants >= sp.proven_projects) & (st.ngo_capacity >= sp.proven_capacity)

    def step(self) -> None:
        """Adopt proven practices, spread adopted ones, pay the funding lines."""
        sp, st = self.cfg.socio_tech, self.state
        if not sp.enabled:
            return
        if st.t % 12 == 0:
            self.left = sp.budget
        rng = self.model.streams["socio_tech"]
        self._adopt(rng)
        self._spread(rng)
        self._pay()

    def _start(self, slots: np.ndarray, tech: np.ndarray) -> None:
        st = self.state
        self.tech_of[slots] = tech
        self.line_end[slots] = st.t + self.cfg.socio_tech.line_months
        self.covered[tech, st.org_municipality[st.ngo0 + slots]] = True

    def _adopt(self, rng: np.random.Generator) -> None:
        st, sp = self.state, self.cfg.socio_tech
        cand = np.flatnonzero(self.proven() & (self.tech_of < 0))
        if cand.size == 0:
            return
        u = rng.random(cand.size)
        new = cand[u < np.minimum(sp.adoption_prob * st.ngo_voice[cand], 1.0)]
        if new.size == 0:
            return
        first = self.n_adopted
        self.origin.extend(new.tolist())
        self.domain.extend(st.ngo_domain[new].tolist())
        self.covered = np.concatenate([self.covered, np.zeros((new.size, st.n_muni), bool)])
        self._start(new, first + np.arange(new.size))
        st.counts["tech_adoptions"] += new.size

    def _spread(self, rng: np.random.Generator) -> None:
        st, sp = self.state, self.cfg.socio_tech
        if self.n_adopted == 0:
            return
        go = np.flatnonzero(rng.random(self.n_adopted) < sp.spread_prob)
        if go.size == 0:
            return
        slots = st.alive_slots()
        free = slots[self.tech_of[slots] < 0]
        muni = st.org_municipality[st.ngo0 + free]
        dom = st.ngo_domain[free]
        for k in go.tolist():  # a few technologies a month at most
            ok = (dom == self.domain[k]) & ~self.covered[k, muni] & (self.tech_of[free] < 0)
            if not ok.any():
                continue
            pool = free[ok]
            m = rng.choice(np.unique(st.org_municipality[st.ngo0 + pool]))
            pool = pool[st.org_municipality[st.ngo0 + pool] == m]
            pick = pool[rng.integers(pool.size)]
            st.ngo_capacity[pick] += sp.transfer_capacity * (1.0 - st.ngo_capacity[pick])
            self._start(np.array([pick]), np.array([k]))
            st.counts["tech_spread"] += 1

    def _pay(self) -> None:
        st, sp = self.state, self.cfg.socio_tech
        imp = self.implementers()
        if imp.size == 0 or sp.line_amount <= 0:
            return
        n = int(min(imp.size, self.left // sp.line_amount))
        if n <= 0:
            return
        paid = imp[np.argsort(self.tech_of[imp], kind="stable")[:n]]  # in order of adoption
        st.ledger.transfer("technology_funding", st.ext["regional_treasury"], st.ngo0 + paid, sp.line_amount)
        st.ngo_income_month[paid] += sp.line_amount
        self.left -= n * sp.line_amount
        self.paid_total += n * sp.line_amount
