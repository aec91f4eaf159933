"""Families: a vulnerability Markov process kept in numpy arrays.

Families are far too many to be Mesa agents (tens of thousands to a million),
so their state lives in arrays of a :class:`Families` population; a
:class:`Family` object is a light view on one row for code and tests that
want an agent-like API.

The vulnerability state is a birth-death chain over
``ordinary < at_risk < difficult < crisis``: each month a family moves one
state up (worse) with ``p_worsen[state]`` or one down (better) with
``p_improve[state]``; being served multiplies the first by
``served_worsen_factor`` and the second by ``served_improve_factor``. One
uniform draw per family decides the move: ``u < p_down`` improves,
``p_down <= u < p_down + p_up`` worsens. A service takes effect in the month
after it is given: the move and the wellbeing boost of month t use whether
the family was served in month t-1.

Support is application-based (BRIEF s.2): an eligible family (state at
least ``at_risk``) that does not know of support learns of it with a
monthly probability that grows with the number of providers around it; an
aware eligible family applies with ``apply_prob``; applicants in each
(municipality, need domain) cell are served up to the cell's capacity,
chosen at random.

Per-family draws are 16-bit uniforms (``u16``), so probabilities are
resolved to 1/65536; this keeps a month of 100,000 families well under a
millisecond.
"""

from __future__ import annotations

import numpy as np

from sim.kernels import families_ration, families_transitions, families_uptake
from sim.params import DOMAINS, FAMILY_STATES, FamilyParams

N_STATES = len(FAMILY_STATES)
U16 = 65536


def u16(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` uniform 16-bit integers from ``rng``'s bit generator (fast)."""
    return rng.bit_generator.random_raw((n + 3) // 4).view(np.uint16)[:n]


def threshold16(p: np.ndarray | float) -> np.ndarray:
    """Convert probabilities to 16-bit thresholds.

    ``u16(...) < threshold16(p)`` then has probability ``p`` to within 1/65536.
    """
    return np.clip(np.rint(np.asarray(p, dtype=np.float64) * U16), 0, U16 - 1).astype(np.uint16)


def transition_tables(p: FamilyParams) -> tuple[np.ndarray, np.ndarray]:
    """Per-(state, served) 16-bit thresholds of the one-draw birth-death move.

    Returns:
        ``(down, up_to)``, each of shape ``(2 * N_STATES,)`` indexed by
        ``state * 2 + served``: with one draw ``u`` a family improves if
        ``u < down`` and worsens if ``down <= u < up_to``.
    """
    down = np.zeros(2 * N_STATES, dtype=np.float64)
    up = np.zeros(2 * N_STATES, dtype=np.float64)
    for s in range(N_STATES):
        for served in (0, 1):
            pi = p.p_improve[s] * (p.served_improve_factor if served else 1.0)
            pw = p.p_worsen[s] * (p.served_worsen_factor if served else 1.0)
            down[s * 2 + served] = min(pi, 0.5) if s > 0 else 0.0
            up[s * 2 + served] = min(pw, 0.5) if s < N_STATES - 1 else 0.0
    return threshold16(down), threshold16(down + up)


class Families:
    """Struct-of-arrays population of families.

    Args:
        n: Number of families.
        n_municipalities: Number of municipalities families are spread over.
        params: Family parameters.
        rng: Generator used for the initial draw only.
    """

    def __init__(self, n: int, n_municipalities: int, params: FamilyParams, rng: np.random.Generator) -> None:
        self.n = n
        self.params = params
        self.n_municipalities = n_municipalities
        # families are stored sorted by municipality, so per-municipality values expand with np.repeat
        self.municipality = np.sort(rng.integers(0, n_municipalities, size=n)).astype(np.int32)
        self.per_municipality = np.bincount(self.municipality, minlength=n_municipalities)
        self.domain = rng.choice(len(params.need_domain_shares), size=n, p=params.need_domain_shares).astype(np.int8)
        self.cell = (self.municipality.astype(np.int64) * len(DOMAINS) + self.domain).astype(np.int32)
        self.state = rng.choice(N_STATES, size=n, p=params.initial_state_shares).astype(np.int8)
        self.target_by_state = np.asarray(params.wellbeing_target, dtype=np.float32)
        self.wellbeing = np.clip(self.target_by_state[self.state] + rng.normal(0, 0.05, n).astype(np.float32), 0, 1).astype(
            np.float32
        )
        self.aware = rng.random(n) < params.initial_awareness
        self.served = np.zeros(n, dtype=bool)
        self.last_served = np.full(n, -10_000, dtype=np.int32)
        self.times_served = np.zeros(n, dtype=np.int32)
        self.down, self.up_to = transition_tables(params)
        self.apply16 = int(threshold16(params.apply_prob))
        self.counts = np.bincount(self.state, minlength=N_STATES).astype(np.int64)
        self.n_served = 0
        self.n_crisis = 0
        self._applicants = np.empty(n, np.int32)
        self._flags = np.empty(n, np.uint8)
        self._app = (np.empty(n, np.uint16), np.empty(n, np.int32), np.empty(n, np.int8))  # applicants' draw, cell, state
        self.bounds = np.concatenate([[0], np.cumsum(self.per_municipality)]).astype(np.int64)  # families of each municipality
        self._reached: tuple[int, int, int] = (0, -1, 0)
        self.n_aware = int(self.aware.sum())
        self._moved: tuple[int, int] = (-1, 0)  # month of the last transitions pass, families reached then
        self._wellbeing_mean = float(self.wellbeing.sum()) / n

    # ------------------------------------------------------------ mechanisms
    def month(
        self,
        rng_uptake: np.random.Generator,
        rng_transitions: np.random.Generator,
        p_aware: np.ndarray,
        capacity: np.ndarray,
        t: int,
        apply_bonus: float = 0.0,
        crisis: np.ndarray | None = None,
        routing: bool = False,
    ) -> np.ndarray:
        """One month: transitions and wellbeing (after last month's services), awareness, applications, rationing.

        Args:
            rng_uptake: Stream for uptake: learning of support, applying and being chosen.
            rng_transitions: Stream for vulnerability moves.
            p_aware: Probability per municipality that an eligible unaware family learns of support.
            capacity: Services available per (municipality, domain) cell, flattened.
            t: Current month index.
            apply_bonus: Added probability of applying (one window: online consultation).
            crisis: Crisis-centre services/month per municipality for families in state >= 2 (None: no crisis centre).
            routing: One window routes applicants to spare capacity in their municipality.

        Returns:
            Families served per cell this month.
        """
        self.begin_month(rng_uptake, rng_transitions, p_aware, t, apply_bonus)
        return self.finish_month(capacity, t, crisis, routing)

    def begin_month(
        self, rng_uptake: np.random.Generator, rng_transitions: np.random.Generator, p_aware: np.ndarray, t: int,
        apply_bonus: float = 0.0,
    ) -> None:  # fmt: skip
        """First part of :meth:`month`: transitions and wellbeing, then awareness and applications.

        It reads nothing the organisations change during a step, so the model
        may run it in a second thread while the organisations act.
        """
        self.transitions(rng_transitions, t)
        self.uptake(rng_uptake, p_aware, t, apply_bonus)

    def transitions(self, rng_transitions: np.random.Generator, t: int) -> None:
        """Vulnerability moves and wellbeing after last month's services (needs nothing from this month)."""
        p = self.params
        u_mv = u16(rng_transitions, self.n)
        since = t - p.reach_window
        reached = families_transitions(
            self.state, self.served, u_mv, self.down, self.up_to, self.target_by_state, self.wellbeing, self.counts,
            np.float32(p.wellbeing_rate), np.float32(p.service_boost), self.last_served, since,
        )  # fmt: skip
        self._moved = (t, reached)
        self._wellbeing_mean = float(self.wellbeing.sum()) / self.n

    def uptake(self, rng_uptake: np.random.Generator, p_aware: np.ndarray, t: int, apply_bonus: float = 0.0) -> None:
        """Awareness and applications of month ``t`` (after :meth:`transitions`)."""
        p = self.params
        if self._moved[0] != t:
            raise RuntimeError(f"families: uptake of month {t} before its transitions")
        u_up = u16(rng_uptake, self.n)
        apply16 = self.apply16 if apply_bonus <= 0 else int(threshold16(min(1.0, p.apply_prob + apply_bonus)))
        n_app, self.n_aware = families_uptake(
            self.state, self.aware, self.bounds, threshold16(p_aware), apply16, u_up, self._applicants, self._flags,
            self.cell, *self._app,
        )  # fmt: skip
        self._begun = (n_app, apply16, t - p.reach_window, self._moved[1])

    def finish_month(self, capacity: np.ndarray, t: int, crisis: np.ndarray | None = None, routing: bool = False) -> np.ndarray:
        """Second part of :meth:`month`: rationing of this month's capacity among the applicants."""
        n_app, apply16, since, reached = self._begun
        served_per_cell = np.zeros(capacity.size)
        crisis_cap = np.zeros(0) if crisis is None else np.asarray(crisis, dtype=np.float64)
        self.n_served, newly, self.n_crisis = families_ration(
            self._applicants, n_app, *self._app, np.asarray(capacity, dtype=np.float64), apply16, self.served,
            self.last_served, self.times_served, served_per_cell, t, since, len(DOMAINS), routing, crisis_cap,
        )  # fmt: skip
        self._reached = (reached + newly, t, self.params.reach_window)
        return served_per_cell

    # ------------------------------------------------------------- summaries
    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> Family:
        if not -self.n <= i < self.n:
            raise IndexError(i)
        return Family(self, i % self.n)

    def count_by_state(self) -> np.ndarray:
        """Number of families in each vulnerability state (kept incrementally)."""
        return self.counts.copy()

    def reached_share(self, t: int, window: int, min_state: int = 2) -> float:
        """Share of families in state >= ``min_state`` served within the last ``window`` months (up to month t)."""
        difficult = int(self.counts[min_state:].sum())
        if difficult == 0:
            return 0.0
        if min_state == 2 and self._reached[1:] == (t, window):  # counted during this month's pass
            return self._reached[0] / difficult
        sel = self.state >= min_state
        return int(np.count_nonzero(sel & (self.last_served > t - window))) / difficult

    def wellbeing_mean(self) -> float:
        """Mean wellbeing (computed once after each month's transitions, the only pass that changes it)."""
        return self._wellbeing_mean


class Family:
    """View on one family's row (an agent-like API over the arrays)."""

    __slots__ = ("_pop", "index")

    def __init__(self, pop: Families, index: int) -> None:
        self._pop = pop
        self.index = index

    @property
    def state(self) -> str:
        """Vulnerability state name."""
        return FAMILY_STATES[int(self._pop.state[self.index])]

    @property
    def wellbeing(self) -> float:
        """Wellbeing index 0..1."""
        return float(self._pop.wellbeing[self.index])

    @property
    def aware(self) -> bool:
        """Whether the family knows it can apply for support."""
        return bool(self._pop.aware[self.index])

    @property
    def municipality(self) -> int:
        """Index of the municipality the family lives in."""
        return int(self._pop.municipality[self.index])

    @property
    def need(self) -> str:
        """Need domain."""
        return DOMAINS[int(self._pop.domain[self.index])]

    def __repr__(self) -> str:
        return f"Family({self.index}, state={self.state}, wellbeing={self.wellbeing:.2f})"
