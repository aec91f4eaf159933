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
``u > 1 - p_up`` worsens.
"""

from __future__ import annotations

import numpy as np

from sim.params import FAMILY_STATES, FamilyParams

N_STATES = len(FAMILY_STATES)


def transition_tables(p: FamilyParams) -> tuple[np.ndarray, np.ndarray]:
    """Per-(state, served) thresholds for the one-draw birth-death move.

    Returns:
        ``(down, up_from)``, each of shape ``(2 * N_STATES,)`` indexed by
        ``state * 2 + served``: a family improves if ``u < down`` and worsens if
        ``u >= up_from``.
    """
    down = np.zeros(2 * N_STATES, dtype=np.float32)
    up_from = np.ones(2 * N_STATES, dtype=np.float32)
    for s in range(N_STATES):
        for served in (0, 1):
            pi = p.p_improve[s] * (p.served_improve_factor if served else 1.0)
            pw = p.p_worsen[s] * (p.served_worsen_factor if served else 1.0)
            pi = min(pi, 0.5) if s > 0 else 0.0
            pw = min(pw, 0.5) if s < N_STATES - 1 else 0.0
            down[s * 2 + served] = pi
            up_from[s * 2 + served] = 1.0 - pw
    return down, up_from


def step_states(state: np.ndarray, served: np.ndarray, u: np.ndarray, down: np.ndarray, up_from: np.ndarray) -> None:
    """Advance vulnerability states in place by one month.

    Args:
        state: int8 states, modified in place.
        served: bool, served this month.
        u: uniform draws in [0, 1), one per family.
        down: threshold table from :func:`transition_tables`.
        up_from: threshold table from :func:`transition_tables`.
    """
    code = state * np.int8(2)
    code += served
    state -= u < down[code]
    state += u >= up_from[code]


def step_wellbeing(
    wellbeing: np.ndarray, state: np.ndarray, served: np.ndarray, target: np.ndarray, rate: float, boost: float
) -> None:
    """Move wellbeing toward its state's target and add the service boost (in place)."""
    wellbeing += np.float32(rate) * (target[state] - wellbeing)
    wellbeing += np.float32(boost) * served
    np.clip(wellbeing, 0.0, 1.0, out=wellbeing)


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
        self.municipality = np.sort(rng.integers(0, n_municipalities, size=n)).astype(np.int32)
        self.domain = rng.choice(len(params.need_domain_shares), size=n, p=params.need_domain_shares).astype(np.int8)
        self.state = rng.choice(N_STATES, size=n, p=params.initial_state_shares).astype(np.int8)
        target = np.asarray(params.wellbeing_target, dtype=np.float32)
        self.wellbeing = np.clip(target[self.state] + rng.normal(0, 0.05, n).astype(np.float32), 0, 1).astype(np.float32)
        self.aware = rng.random(n) < params.initial_awareness
        self.served = np.zeros(n, dtype=bool)
        self.last_served = np.full(n, -10_000, dtype=np.int32)
        self.times_served = np.zeros(n, dtype=np.int32)
        self.down, self.up_from = transition_tables(params)
        self.target = target

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> Family:
        if not -self.n <= i < self.n:
            raise IndexError(i)
        return Family(self, i % self.n)

    def count_by_state(self) -> np.ndarray:
        """Number of families in each vulnerability state."""
        return np.bincount(self.state, minlength=N_STATES)


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
        from sim.params import DOMAINS

        return DOMAINS[int(self._pop.domain[self.index])]

    def __repr__(self) -> str:
        return f"Family({self.index}, state={self.state}, wellbeing={self.wellbeing:.2f})"
