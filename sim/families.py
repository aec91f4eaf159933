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
``p_down <= u < p_down + p_up`` worsens.

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

from sim.params import DOMAINS, FAMILY_STATES, FamilyParams

N_STATES = len(FAMILY_STATES)
U16 = 65536


def u16(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` uniform 16-bit integers from ``rng``'s bit generator (fast)."""
    return rng.bit_generator.random_raw((n + 3) // 4).view(np.uint16)[:n]


def threshold16(p: np.ndarray | float) -> np.ndarray:
    """Probabilities as 16-bit thresholds: ``u16 < threshold16(p)`` has probability ``p`` (to 1/65536)."""
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


def draw_candidates(rng: np.random.Generator, n: int, p_max: float) -> np.ndarray:
    """Indices of the families whose draw falls below ``p_max`` (sorted).

    Same distribution as testing ``u < p_max`` for each of ``n`` families,
    at a cost of about ``n * p_max`` draws: the gaps between candidates are
    geometric, ``1 + floor(log(V) / log(1 - p_max))`` with ``V`` uniform on
    (0, 1].
    """
    if p_max <= 0.0 or n == 0:
        return np.zeros(0, np.int64)
    if p_max >= 1.0:
        return np.arange(n, dtype=np.int64)
    mean = n * p_max
    chunk = int(mean + 6.0 * np.sqrt(mean) + 16)
    scale = 1.0 / np.log1p(-p_max)
    pos = np.empty(0, np.int64)
    last = -1
    while last < n:  # one chunk almost always suffices
        v = 1.0 - rng.random(chunk)  # in (0, 1]
        gaps = (np.log(v) * scale).astype(np.int64) + 1
        more = np.cumsum(gaps) + last
        pos = np.concatenate([pos, more]) if pos.size else more
        last = int(pos[-1])
    return pos[: np.searchsorted(pos, n)]


def step_states(
    state: np.ndarray, served: np.ndarray, cand: np.ndarray, uc: np.ndarray, down: np.ndarray, up_to: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Advance vulnerability states in place by one month.

    Only candidates (families whose draw is below the largest threshold,
    :func:`draw_candidates`) can move; ``uc`` are their 16-bit draws,
    uniform below that threshold.

    Args:
        state: int8 states, modified in place.
        served: bool, served this month.
        cand: indices of candidate families.
        uc: their 16-bit draws.
        down: improvement thresholds from :func:`transition_tables`.
        up_to: worsening upper thresholds from :func:`transition_tables`.

    Returns:
        ``(moved, old, new)``: indices of the families that moved and the
        state counts of those families before and after (for incremental
        bookkeeping).
    """
    code = state[cand].astype(np.intp) * 2 + served[cand]
    improve = uc < down[code]
    worsen = ~improve & (uc < up_to[code])
    moved = cand[improve | worsen]
    old = np.bincount(state[moved], minlength=N_STATES)
    state[cand[improve]] -= 1
    state[cand[worsen]] += 1
    new = np.bincount(state[moved], minlength=N_STATES)
    return moved, old, new


def draw_transitions(rng: np.random.Generator, n: int, up_to: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Candidates for a move and their 16-bit draws (uniform below ``max(up_to)``)."""
    top = int(up_to.max())
    cand = draw_candidates(rng, n, top / U16)
    uc = (u16(rng, cand.size).astype(np.uint32) * top >> 16).astype(np.uint16)
    return cand, uc


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
        self.cell = self.municipality.astype(np.int64) * len(DOMAINS) + self.domain
        self.state = rng.choice(N_STATES, size=n, p=params.initial_state_shares).astype(np.int8)
        self.target_by_state = np.asarray(params.wellbeing_target, dtype=np.float32)
        self.target = self.target_by_state[self.state]
        self.wellbeing = np.clip(self.target + rng.normal(0, 0.05, n).astype(np.float32), 0, 1).astype(np.float32)
        self.aware = rng.random(n) < params.initial_awareness
        self.served = np.zeros(n, dtype=bool)
        self.last_served = np.full(n, -10_000, dtype=np.int32)
        self.times_served = np.zeros(n, dtype=np.int32)
        self.down, self.up_to = transition_tables(params)
        self.apply16 = int(threshold16(params.apply_prob))
        self.counts = np.bincount(self.state, minlength=N_STATES)
        self.n_aware = int(self.aware.sum())

    # ------------------------------------------------------------ mechanisms
    def seek_support(
        self,
        rng_awareness: np.random.Generator,
        rng_service: np.random.Generator,
        p_aware: np.ndarray,
        capacity: np.ndarray,
        t: int,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Awareness, applications and rationing for one month.

        Args:
            rng_awareness: Stream for learning of support.
            rng_service: Stream for applying and being chosen.
            p_aware: Probability per municipality that an eligible unaware family learns of support.
            capacity: Services available per (municipality, domain) cell, flattened.
            t: Current month index.

        Returns:
            ``(served_idx, served_per_cell)``.
        """
        n = self.n
        elig = self.state >= 1
        # learning of support (families who learn apply from next month)
        thr = np.repeat(threshold16(p_aware), self.per_municipality)
        learn = elig & ~self.aware & (u16(rng_awareness, n) < thr)
        self.n_aware += int(np.count_nonzero(learn))
        # applications of aware eligible families, then rationing per cell
        u = u16(rng_service, n)
        app = np.flatnonzero(elig & self.aware & (u < self.apply16))
        self.aware |= learn
        cell = self.cell[app]
        demand = np.bincount(cell, minlength=capacity.size)
        frac = np.minimum(1.0, capacity / np.maximum(demand, 1))
        # conditional on applying, u / apply16 is uniform on [0, 1): reuse it to choose who is served
        got = u[app] < frac[cell] * self.apply16
        served_idx = app[got]
        self.served[:] = False
        self.served[served_idx] = True
        self.last_served[served_idx] = t
        self.times_served[served_idx] += 1
        return served_idx, np.bincount(cell[got], minlength=capacity.size).astype(np.float64)

    def step(self, rng: np.random.Generator, served_idx: np.ndarray) -> None:
        """One month of state transitions and wellbeing; draws come from ``rng``."""
        p = self.params
        cand, uc = draw_transitions(rng, self.n, self.up_to)
        moved, old, new = step_states(self.state, self.served, cand, uc, self.down, self.up_to)
        self.counts += new - old
        self.target[moved] = self.target_by_state[self.state[moved]]
        gap = self.target - self.wellbeing
        gap *= np.float32(p.wellbeing_rate)
        self.wellbeing += gap  # toward a target in [0, 1]: stays in [0, 1]
        if served_idx.size:
            boosted = self.wellbeing[served_idx] + np.float32(p.service_boost)
            self.wellbeing[served_idx] = np.minimum(boosted, np.float32(1.0))

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
        """Share of families in state >= ``min_state`` served within the last ``window`` months."""
        sel = self.state >= min_state
        nd = int(np.count_nonzero(sel))
        if nd == 0:
            return 0.0
        return int(np.count_nonzero(sel & (self.last_served > t - window))) / nd


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
