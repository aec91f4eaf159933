"""Volunteer mentoring of children in a difficult situation (Stavropol case, "Big brother, big sister").

Parameters: :class:`sim.params.MentoringParams` (``cfg.mentoring``).

From ``stavropol_volunteers_case.txt``: the "Movement of Stavropol
volunteers" (at a regional branch of a charitable fund), together with the
state Centre of temporary stay, runs "Big brother, big sister": the basis
is "the individual work of a young volunteer with one particular child" in
a difficult life situation "for no less than one year" (in the source the
year is the child's time in the difficult situation, a selection rule; the
pair's own length is an assumption, ``pair_months``). The programme is
judged by the indicators of a volunteer-child pair: the child's
anticipation of meetings, the number and regularity of meetings, the
quality of the relationship (trust, understanding, no conflicts), and the
child's improvements (emotional state and behaviour, self-esteem, relations
with parents and peers, school, new interests and friends).

Rules (rates assumed unless stated):

* A family has been "in difficulty" for as many consecutive months as it
  has been in state ``difficult`` or ``crisis``; its child is eligible after
  ``eligible_months`` (case: one year) if its need is children at risk.
* Mentors are ``mentor_share`` of the volunteers of alive at-risk-children
  NGOs; a free mentor takes one child (one volunteer, one child).
* The state temporary-stay centre refers ``referrals`` eligible children a
  month per 1000 families; each referred child is paired if a mentor is free.
* Each month a pair has 0-4 weekly meetings (each with ``meeting_prob``);
  each meeting closes ``quality_rate`` of the gap between the relationship
  quality and 1, so quality grows with the pair's duration.
* The child's family gains ``wellbeing_effect * quality`` wellbeing and moves
  one state up with probability ``improve_prob * quality`` each month: the
  longer the pair, the better the outcome.
* A pair ends at ``pair_months`` or earlier with ``break_prob`` a month
  (volunteers leave), or when its NGO closes; the mentor is free again.

Stream ``mentoring``. The programme costs no money in the model (volunteers'
time; the centre is a state institution already paid for).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.mechanisms.base import Mechanism
from sim.params import DOMAINS

if TYPE_CHECKING:
    from sim.model import CrossSectorModel

AT_RISK = DOMAINS.index("at_risk_children")

MENTORING_METRICS: tuple[str, ...] = (
    "mentors_active",
    "mentoring_pairs",
    "mentoring_pair_months_mean",
    "mentoring_meetings",
    "mentoring_quality_mean",
    "mentoring_children_improved",
    "mentoring_pairs_ended",
)
"""Time-series columns: the Stavropol pair-effectiveness indicators the model can follow."""


def grow_quality(quality: np.ndarray, meetings: np.ndarray, rate: float) -> np.ndarray:
    """Relationship quality after this month's meetings: each closes ``rate`` of the gap to 1."""
    return 1.0 - (1.0 - quality) * (1.0 - rate) ** meetings


class Mentoring(Mechanism):
    """Volunteer-child pairs with the state temporary-stay centre.

    Args:
        model: The model.
    """

    name = "mentoring"
    group = "mentoring"

    def __init__(self, model: CrossSectorModel) -> None:
        super().__init__(model)
        self.params = model.cfg.mentoring
        n = model.state.families.n
        self.months_difficult = np.zeros(n, np.int32)
        self.paired = np.zeros(n, bool)
        # pairs (active and ended), growable lists turned to arrays
        self.family = np.zeros(0, np.int64)
        self.ngo = np.zeros(0, np.int64)
        self.start = np.zeros(0, np.int64)
        self.end = np.zeros(0, np.int64)  # planned end
        self.closed = np.zeros(0, np.int64)  # month it ended, -1 active
        self.quality = np.zeros(0)
        self.meetings = np.zeros(0, np.int64)  # meetings so far
        self.state0 = np.zeros(0, np.int8)  # family state when the pair started
        self.improved = np.zeros(0, bool)  # the family moved up during the pair
        self.improved_at = np.zeros(0, np.int64)  # pair month (1 = first) of the first move up, -1 none
        self.meetings_month = 0
        self.mentors = 0
        self.pool: tuple[np.ndarray, np.ndarray] = (np.zeros(0, np.int64), np.zeros(0, np.int64))
        """The mentor pool at this month's pairing: NGO slots and their mentors."""

    @property
    def active(self) -> np.ndarray:
        """Which pairs are running."""
        return self.closed < 0

    def step(self) -> None:
        """Count months in difficulty; refer and pair children; meetings, outcomes and endings."""
        p, mdl = self.params, self.model
        if not p.enabled:
            return
        fam = mdl.state.families
        self.months_difficult = np.where(fam.state >= 2, self.months_difficult + 1, 0)
        self.meetings_month = 0
        if mdl.t < p.start_month:
            return
        rng = mdl.streams["mentoring"]
        act = np.flatnonzero(self.active)
        if act.size:
            self._month_of_pairs(rng, act)
        self._pair_new(rng)

    def _mentor_pool(self) -> tuple[np.ndarray, np.ndarray]:
        """Mentors per alive at-risk-children NGO slot (slots, mentors)."""
        st = self.model.state
        slots = np.flatnonzero(st.ngo_alive & (st.ngo_domain == AT_RISK))
        return slots, np.floor(self.params.mentor_share * st.ngo_volunteers[slots]).astype(np.int64)

    def _pair_new(self, rng: np.random.Generator) -> None:
        p, mdl = self.params, self.model
        fam = mdl.state.families
        slots, mentors = self._mentor_pool()
        self.pool = (slots, mentors)
        self.mentors = int(mentors.sum())
        act = self.active
        busy = np.bincount(self.ngo[act], minlength=mdl.state.n_ngo_slots)[slots] if act.any() else np.zeros(slots.size, int)
        free = np.maximum(mentors - busy, 0)
        if free.sum() == 0:
            return
        eligible = np.flatnonzero(
            (self.months_difficult >= p.eligible_months) & (fam.domain == AT_RISK) & ~self.paired
        )
        k = min(int(rng.poisson(p.referrals * fam.n / 1000.0)), eligible.size, int(free.sum()))
        if k == 0:
            return
        kids = rng.choice(eligible, k, replace=False)
        ngo = np.repeat(slots, free)[rng.permutation(int(free.sum()))[:k]]
        t = mdl.t
        self.family = np.concatenate([self.family, kids])
        self.ngo = np.concatenate([self.ngo, ngo])
        self.start = np.concatenate([self.start, np.full(k, t)])
        self.end = np.concatenate([self.end, np.full(k, t + p.pair_months)])
        self.closed = np.concatenate([self.closed, np.full(k, -1)])
        self.quality = np.concatenate([self.quality, np.zeros(k)])
        self.meetings = np.concatenate([self.meetings, np.zeros(k, np.int64)])
        self.state0 = np.concatenate([self.state0, fam.state[kids]])
        self.improved = np.concatenate([self.improved, np.zeros(k, bool)])
        self.improved_at = np.concatenate([self.improved_at, np.full(k, -1, np.int64)])
        self.paired[kids] = True

    def _month_of_pairs(self, rng: np.random.Generator, act: np.ndarray) -> None:
        p, mdl = self.params, self.model
        fam = mdl.state.families
        meet = rng.binomial(4, p.meeting_prob, act.size)
        self.meetings_month = int(meet.sum())
        self.meetings[act] += meet
        q = grow_quality(self.quality[act], meet, p.quality_rate)
        self.quality[act] = q
        f = self.family[act]
        fam.wellbeing[f] = np.minimum(fam.wellbeing[f] + np.float32(p.wellbeing_effect) * q.astype(np.float32), 1.0)
        up = (rng.random(act.size) < p.improve_prob * q) & (fam.state[f] > 0)
        if up.any():
            fu = f[up]
            old = fam.state[fu].astype(np.int64)
            np.subtract.at(fam.counts, old, 1)
            np.add.at(fam.counts, old - 1, 1)
            fam.state[fu] = (old - 1).astype(np.int8)
            first = act[up][~self.improved[act[up]]]
            self.improved_at[first] = mdl.t + 1 - self.start[first]
            self.improved[act[up]] = True
        t = mdl.t
        ngo_dead = ~mdl.state.ngo_alive[self.ngo[act]]
        ends = (t + 1 >= self.end[act]) | (rng.random(act.size) < p.break_prob) | ngo_dead
        done = act[ends]
        self.closed[done] = t
        self.paired[self.family[done]] = False

    # ------------------------------------------------------------ outputs
    def pair_log(self) -> pd.DataFrame:
        """Every pair: family, NGO slot, start, months so far (or its length), meetings, quality, improved."""
        t = self.model.t
        stop = np.where(self.closed >= 0, self.closed + 1, t + 1)
        return pd.DataFrame({
            "family": self.family,
            "ngo_slot": self.ngo,
            "start": self.start,
            "months": stop - self.start,
            "meetings": self.meetings,
            "quality": self.quality,
            "state_at_start": self.state0,
            "improved": self.improved,
            "improved_at": self.improved_at,
            "active": self.closed < 0,
        })  # fmt: skip

    def metric_values(self) -> list[float]:
        """Values of :data:`MENTORING_METRICS` this month."""
        act = self.active
        n = int(act.sum())
        t = self.model.t
        return [
            self.mentors,
            n,
            float((t + 1 - self.start[act]).mean()) if n else 0.0,
            self.meetings_month if n else 0,
            float(self.quality[act].mean()) if n else 0.0,
            int(self.improved.sum()),
            int((~act).sum()),
        ]
