"""Public councils that matter: seats by rule, rotation, and the voice a seat gives an NGO.

Parameters: :class:`sim.params.CouncilParams` (``cfg.councils``: ``seat_rule``,
``term_months``, ``voice``) and :class:`sim.params.OrgParams`
(``cfg.org.council_seats``).

Each January every municipality fills the vacant NGO seats of its public
council (``council_seats`` per municipality): seats of NGOs that died are
vacant, and a seat held ``term_months`` or longer rotates (its holder sits
out that January). Vacancies go to the alive NGOs of the municipality not
seated, by ``seat_rule``: the NGOs the municipality trusts most (default),
the most capable, or by lot (stream ``councils``). A seat holder's
``ngo_voice`` (shared state, 1 without a seat) is ``1 + voice``; the
requests mechanism multiplies the probability that a request is heard by
it, the formation mechanism the municipality's acceptance of the NGO's
proposal, and the socio-technological mechanism the chance that the NGO's
practice is adopted (concept IV.3.2: councils are a negotiated mechanism
acting for a fixed period; VIII.4: initiatives reach the authority through
councils and public chambers). With ``plan_influence`` > 0 (a policy lever,
off by default) each January a seat holder's domain enters its
municipality's plan with that probability (the municipality's priority, the
first domain of its plan, is unchanged).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.mechanisms.base import Mechanism

if TYPE_CHECKING:
    from sim.model import CrossSectorModel


def voice_factor(state: object, ngo_orgs: np.ndarray) -> np.ndarray:
    """The voice of each NGO organisation in ``ngo_orgs`` (1 where the entry is -1, i.e. no NGO).

    Args:
        state: The shared :class:`~sim.state.State`.
        ngo_orgs: NGO organisation indices, -1 for none.
    """
    ngo_orgs = np.asarray(ngo_orgs, dtype=np.int64)
    slot = np.maximum(ngo_orgs - state.ngo0, 0)  # type: ignore[attr-defined]
    return np.where(ngo_orgs >= 0, state.ngo_voice[slot], 1.0)  # type: ignore[attr-defined]


class Councils(Mechanism):
    """Seats on the municipalities' public councils each January (stream ``councils``)."""

    name = "councils"
    group = "councils"

    def __init__(self, model: CrossSectorModel) -> None:
        super().__init__(model)
        self.since = np.full(self.state.n_ngo_slots, -1, np.int32)
        """Month each NGO slot took its current seat (-1: no seat)."""
        self.seatings = 0
        """Seats filled so far (all Januaries)."""

    def add_ngo_slots(self, old: int, add: int) -> None:
        """New NGO slots hold no seat."""
        self.since = np.concatenate([self.since, np.full(add, -1, np.int32)])

    def step(self) -> None:
        """In January: vacate, rotate and fill the seats; set every NGO's voice."""
        st = self.state
        if st.t % 12 != 0:
            return
        seats = self.cfg.org.council_seats
        cp = self.cfg.councils
        alive = st.ngo_alive
        held = st.ngo_council & alive
        rotate = held & (self.since >= 0) & (st.t - self.since >= cp.term_months)
        held &= ~rotate
        st.ngo_council[:] = held
        self.since[~held] = -1
        if seats > 0:
            self._fill(seats, held, rotate)
        st.ngo_voice[:] = np.where(st.ngo_council, 1.0 + cp.voice, 1.0)
        if cp.plan_influence > 0:
            self._plans(cp.plan_influence)

    def _plans(self, influence: float) -> None:
        """Each seat holder's domain enters its municipality's plan with probability ``influence``."""
        st = self.state
        seated = np.flatnonzero(st.ngo_council)
        hit = seated[self.model.streams["councils"].random(seated.size) < influence]
        st.plans[st.org_municipality[st.ngo0 + hit], st.ngo_domain[hit]] = True

    def _fill(self, seats: int, held: np.ndarray, barred: np.ndarray) -> None:
        """Fill each municipality's vacant seats by the seat rule among eligible alive NGOs."""
        st, rule = self.state, self.cfg.councils.seat_rule
        slots = st.alive_slots()
        orgs = st.ngo0 + slots
        muni = st.org_municipality[orgs]
        taken = np.bincount(muni[held[slots]], minlength=st.n_muni)
        ok = ~held[slots] & ~barred[slots]
        cand, cm = slots[ok], muni[ok]
        if cand.size == 0:
            return
        if rule == "trust":
            score = st.trust.pair_trust(st.muni0 + cm, st.ngo0 + cand)
        elif rule == "capacity":
            score = st.ngo_capacity[cand]
        else:  # lottery
            score = self.model.streams["councils"].random(cand.size)
        order = np.lexsort((-score, cm))
        sorted_m = cm[order]
        rank = np.arange(order.size) - np.searchsorted(sorted_m, sorted_m, side="left")
        new = cand[order[rank < seats - taken[sorted_m]]]
        st.ngo_council[new] = True
        self.since[new] = st.t
        self.seatings += int(new.size)
