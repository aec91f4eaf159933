"""Families: a vulnerability Markov process kept in numpy arrays, and its two monthly mechanisms.

Parameters: :class:`sim.params.FamilyParams` (``cfg.families``). Mechanisms:
:class:`FamilyTransitions` (moves and wellbeing, first in the step) and
:class:`FamilyUptake` (awareness and applications, after the cluster); the
rationing pass :meth:`Families.finish_month` is called by
:class:`~sim.mechanisms.services.Services`. With the second thread the two
passes run beside the organisations' mechanisms.

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

from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from numba import njit

from sim.mechanisms.base import Mechanism, second_thread
from sim.params import DOMAINS, FAMILY_STATES, FamilyParams

if TYPE_CHECKING:
    from concurrent.futures import Future

    from sim.model import CrossSectorModel

N_STATES = len(FAMILY_STATES)
N_DOMAINS = len(DOMAINS)
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


class FamilyArrays(NamedTuple):
    """The family arrays compiled kernels read and write (:meth:`Families.arrays`)."""

    state: np.ndarray
    served: np.ndarray
    wellbeing: np.ndarray
    aware: np.ndarray
    last_served: np.ndarray
    times_served: np.ndarray
    cell: np.ndarray
    counts: np.ndarray


class Applicants(NamedTuple):
    """Buffers of the month's applicants (family, uptake draw, cell, state) and per-family scratch flags."""

    family: np.ndarray
    u: np.ndarray
    cell: np.ndarray
    state: np.ndarray
    flags: np.ndarray


class RationTerms(NamedTuple):
    """The month of a rationing pass: month, start of the reach window, application threshold, routing."""

    t: int
    since: int
    apply16: int
    routing: bool


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
        self._apps = tuple(Applicants(np.empty(n, np.int32), np.empty(n, np.uint16), np.empty(n, np.int32), np.empty(n, np.int8),
                                np.empty(n, np.uint8)))  # fmt: skip
        self.bounds = np.concatenate([[0], np.cumsum(self.per_municipality)]).astype(np.int64)  # families of each municipality
        self._reached: tuple[int, int, int] = (0, -1, 0)
        self.n_aware = int(self.aware.sum())
        self._moved: tuple[int, int] = (-1, 0)  # month of the last transitions pass, families reached then
        self._wellbeing_mean = float(self.wellbeing.sum()) / n

    def arrays(self) -> tuple:
        """The arrays, a plain tuple with the fields of :class:`FamilyArrays`."""
        return (
            self.state, self.served, self.wellbeing, self.aware, self.last_served, self.times_served, self.cell, self.counts
        )

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
        tables = (self.down, self.up_to, self.target_by_state)
        reached = families_transitions(
            self.arrays(), u_mv, tables, np.float32(p.wellbeing_rate), np.float32(p.service_boost), since
        )
        self._moved = (t, reached)
        self._wellbeing_mean = float(self.wellbeing.sum()) / self.n

    def uptake(self, rng_uptake: np.random.Generator, p_aware: np.ndarray, t: int, apply_bonus: float = 0.0) -> None:
        """Awareness and applications of month ``t`` (after :meth:`transitions`)."""
        p = self.params
        if self._moved[0] != t:
            raise RuntimeError(f"families: uptake of month {t} before its transitions")
        u_up = u16(rng_uptake, self.n)
        apply16 = self.apply16 if apply_bonus <= 0 else int(threshold16(min(1.0, p.apply_prob + apply_bonus)))
        n_app, self.n_aware = families_uptake(self.arrays(), self.bounds, threshold16(p_aware), apply16, u_up, self._apps)
        self._begun = (n_app, apply16, t - p.reach_window, self._moved[1])

    def finish_month(self, capacity: np.ndarray, t: int, crisis: np.ndarray | None = None, routing: bool = False) -> np.ndarray:
        """Second part of :meth:`month`: rationing of this month's capacity among the applicants."""
        n_app, apply16, since, reached = self._begun
        served_per_cell = np.zeros(capacity.size)
        crisis_cap = np.zeros(0) if crisis is None else np.asarray(crisis, dtype=np.float64)
        self.n_served, newly, self.n_crisis = families_ration(
            self._apps, n_app, np.asarray(capacity, dtype=np.float64), crisis_cap, self.arrays(), served_per_cell,
            tuple(RationTerms(t, since, apply16, routing)),
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


FAMILY_THREAD_MIN = 20_000
"""Fewest families for which ``output.family_thread`` runs the families' passes in a second thread."""


class FamilyTransitions(Mechanism):
    """Families' vulnerability moves and wellbeing after last month's services (stream ``family_transitions``).

    They depend on nothing of this month, so with ``output.family_thread``
    (and :data:`FAMILY_THREAD_MIN` families or more) they run in the second
    thread while the organisations act (no mechanism before
    :class:`~sim.mechanisms.services.Services`
    touches family state); results are the same either way.
    """

    name = "family_transitions"
    group = "families"

    def __init__(self, model: CrossSectorModel) -> None:
        super().__init__(model)
        self.threaded = self.cfg.output.family_thread and self.cfg.region.families >= FAMILY_THREAD_MIN
        self.jobs: list[Future[None]] = []

    def step(self) -> None:
        """Start (or run) the transitions of this month."""
        args = (self.model.streams["family_transitions"], self.state.t)
        if self.threaded:
            self.jobs.append(second_thread().submit(self.state.families.transitions, *args))
        else:
            self.state.families.transitions(*args)

    def wait(self) -> None:
        """Wait for the families' passes started in the second thread."""
        for job in self.jobs:
            job.result()
        self.jobs.clear()


class FamilyUptake(Mechanism):
    """Families learn of support and apply (stream ``uptake``).

    Their inputs (NGOs per municipality, resource centres, cluster) are
    settled at this point of the step; with the second thread they follow
    the transitions there.
    """

    name = "family_uptake"
    group = "families"

    def step(self) -> None:
        """Start (or run) awareness and applications of this month."""
        st, mdl = self.state, self.model
        fpar, m, fam = self.cfg.families, st.n_muni, st.families
        slots = st.alive_slots()
        providers = np.bincount(st.org_municipality[st.ngo0 + slots], minlength=m) / np.maximum(
            st.families_per_muni / 1000.0, 1e-9
        )
        p_aware = fpar.awareness_base + fpar.awareness_per_provider * providers + mdl.cluster.awareness_bonus()
        if mdl.rc.active:  # centres reaching small settlements (municipal RC, centre of public development)
            p_aware = p_aware + self.cfg.rc_model.outreach * mdl.rc.reaches_settlements()
        args = (mdl.streams["uptake"], np.minimum(p_aware, 1.0), st.t, mdl.cluster.apply_bonus())
        transitions = mdl.mechanisms["family_transitions"]
        if transitions.threaded:  # one worker: runs after the transitions
            transitions.jobs.append(second_thread().submit(fam.uptake, *args))
        else:
            fam.uptake(*args)


# ----------------------------------------------------------------- kernels
@njit(cache=True, nogil=True)
def families_transitions(
    fam: FamilyArrays, u_move: np.ndarray, tables: tuple, rate: float, boost: float, since: int
) -> int:
    """First pass over families: vulnerability transitions and wellbeing.

    For each family: the vulnerability state moves down if
    ``u_move < down[code]`` and up if ``u_move < up_to[code]``, with
    ``code = state * 2 + served`` (served *last* month; ``down <= up_to``);
    wellbeing closes ``rate`` of the gap to the new state's target, plus
    ``boost`` if it was served (capped at 1); the served flag is cleared;
    ``counts`` become the number of families per state.

    The three loops are written without branches or table lookups (the
    eight thresholds and four targets are selected) so that they compile to
    vector instructions; ``tests/test_kernels.py`` checks them against a
    per-family reference.

    Returns:
        The number of families in state >= 2 last served after month ``since``.
    """
    state, served, wellbeing, _, last_served, _, _, counts = fam
    down, up_to, target_by_state = tables
    i32 = np.int32
    d0, d1, d2, d3 = i32(down[0]), i32(down[1]), i32(down[2]), i32(down[3])
    d4, d5, d6, d7 = i32(down[4]), i32(down[5]), i32(down[6]), i32(down[7])
    u0, u1, u2, u3 = i32(up_to[0]), i32(up_to[1]), i32(up_to[2]), i32(up_to[3])
    u4, u5, u6, u7 = i32(up_to[4]), i32(up_to[5]), i32(up_to[6]), i32(up_to[7])
    sv = served.view(np.uint8)
    n = state.size
    for i in range(n):  # moves
        old = i32(state[i])
        s = i32(sv[i])
        u = i32(u_move[i])
        dn = d1 if s != 0 else d0
        up = u1 if s != 0 else u0
        dn = (d3 if s != 0 else d2) if old == 1 else dn
        up = (u3 if s != 0 else u2) if old == 1 else up
        dn = (d5 if s != 0 else d4) if old == 2 else dn
        up = (u5 if s != 0 else u4) if old == 2 else up
        dn = (d7 if s != 0 else d6) if old == 3 else dn
        up = (u7 if s != 0 else u6) if old == 3 else up
        state[i] = np.int8(old + (i32(1) if u < up else i32(0)) - (i32(2) if u < dn else i32(0)))
    t0, t1, t2, t3 = target_by_state[0], target_by_state[1], target_by_state[2], target_by_state[3]
    one = np.float32(1.0)
    for i in range(n):  # wellbeing after last month's services
        new = i32(state[i])
        target = t0 if new == 0 else (t1 if new == 1 else (t2 if new == 2 else t3))
        w = wellbeing[i]
        w = w + rate * (target - w)
        wellbeing[i] = min(w + boost, one) if sv[i] != 0 else w
        sv[i] = np.uint8(0)
    c1, c2, c3, reached = i32(0), i32(0), i32(0), i32(0)
    since32 = i32(since)
    for i in range(n):  # counts
        new = i32(state[i])
        c1 += i32(new == 1)
        c2 += i32(new == 2)
        c3 += i32(new == 3)
        reached += i32(new >= 2) & i32(last_served[i] > since32)
    counts[0] = n - c1 - c2 - c3
    counts[1] = c1
    counts[2] = c2
    counts[3] = c3
    return reached


@njit(cache=True, nogil=True)
def families_uptake(
    fam: FamilyArrays, bounds: np.ndarray, aware16: np.ndarray, apply16: int, u_uptake: np.ndarray, apps: Applicants
) -> tuple[int, int]:
    """Second pass over families: awareness and applications (after :func:`families_transitions`).

    Families are stored by municipality: those of municipality ``m`` are
    ``bounds[m]:bounds[m + 1]``. An eligible family (state >= 1) that is
    unaware learns of support if ``u_uptake < aware16[m]`` (it can apply
    from next month); an aware one applies if ``u_uptake < apply16`` (each
    family uses its uptake draw for one of the two, so they stay
    independent). Applicants are written to ``applicants`` in order, with
    their draw, cell and state in ``app_u``, ``app_cell``, ``app_state``;
    ``flags`` is scratch space.

    Returns:
        ``(applicants, families aware now)``.
    """
    state, _, _, aware, _, _, cell, _ = fam
    applicants, app_u, app_cell, app_state, flags = apps
    i32 = np.int32
    ap = i32(apply16)
    aw = aware.view(np.uint8)
    for m in range(bounds.size - 1):
        lo, hi = bounds[m], bounds[m + 1]
        st, a_, u_, f_ = state[lo:hi], aw[lo:hi], u_uptake[lo:hi], flags[lo:hi]  # slices: the loop vectorises
        th = i32(aware16[m])
        for i in range(st.size):
            e = i32(st[i] >= 1)
            a = i32(a_[i])
            u = i32(u_[i])
            learn = e & (a ^ 1) & i32(u < th)
            a_[i] = np.uint8(a | learn)
            f_[i] = np.uint8(e & a & i32(u < ap))
    n_app = 0
    for i in range(flags.size):
        applicants[n_app] = i  # kept only if it applied: the slot is reused otherwise
        n_app += flags[i]
    for k in range(n_app):  # what rationing needs of each applicant, in order
        i = applicants[k]
        app_u[k] = u_uptake[i]
        app_cell[k] = cell[i]
        app_state[k] = state[i]
    n_aware = 0
    for i in range(aw.size):
        n_aware += aw[i]
    return n_app, n_aware


@njit(cache=True, nogil=True)
def families_ration(
    apps: Applicants,
    n_app: int,
    capacity: np.ndarray,
    crisis: np.ndarray,
    fam: FamilyArrays,
    served_per_cell: np.ndarray,
    terms: RationTerms,
) -> tuple[int, int, int]:
    """Ration services among applicants, cell by cell.

    Applicant ``k`` is family ``applicants[k]``, with uptake draw
    ``app_u[k]``, cell ``app_cell[k]`` and state ``app_state[k]`` (copied by
    :func:`families_uptake`, so that this pass reads them in order). Demand
    per cell is counted first. With ``routing`` (one window), spare
    capacity of a municipality's cells is shared among its cells with unmet
    demand, in proportion to that demand. An applicant is then served if its
    uptake draw is below ``min(1, capacity/demand) * apply16``, so that,
    given it applied, it is served with probability capacity/demand. Finally,
    a crisis centre (``crisis[m]`` services/month, empty array for none)
    serves unserved applicants in state >= 2 of its municipality with
    probability min(1, crisis/unserved), using the rest of their draw.

    Returns:
        ``(served, newly reached, served by the crisis centre)``; newly
        reached counts served families in state >= 2 who had not been served
        after month ``since``.
    """
    _, served, _, _, last_served, times_served, _, _ = fam
    applicants, app_u, app_cell, app_state, _ = apps
    t, since, apply16, routing = terms
    n_domains = N_DOMAINS
    n_cells = capacity.size
    n_muni = n_cells // n_domains
    demand = np.zeros(n_cells)
    for k in range(n_app):
        demand[app_cell[k]] += 1.0
    cap = capacity.copy()
    if routing:
        for m in range(n_muni):
            spare = 0.0
            unmet = 0.0
            for c in range(m * n_domains, (m + 1) * n_domains):
                d = cap[c] - demand[c]
                if d > 0:
                    spare += d
                else:
                    unmet -= d
            if spare > 0 and unmet > 0:
                moved = min(spare, unmet)
                for c in range(m * n_domains, (m + 1) * n_domains):
                    if demand[c] > cap[c]:
                        cap[c] += moved * (demand[c] - capacity[c]) / unmet
    frac16 = np.empty(n_cells)
    for c in range(n_cells):
        frac16[c] = min(1.0, cap[c] / max(demand[c], 1.0)) * apply16
    n_served = 0
    newly = 0
    waiting = np.zeros(n_muni)
    got = np.zeros(n_app, np.bool_)
    for k in range(n_app):
        c = app_cell[k]
        if app_u[k] < frac16[c]:
            i = applicants[k]
            newly += (app_state[k] >= 2) & (last_served[i] <= since)
            got[k] = True
            served[i] = True
            last_served[i] = t
            times_served[i] += 1
            served_per_cell[c] += 1
            n_served += 1
        elif app_state[k] >= 2:
            waiting[c // n_domains] += 1.0
    n_crisis = 0
    if crisis.size == n_muni:
        for k in range(n_app):
            c = app_cell[k]
            if got[k] or app_state[k] < 2:
                continue
            i = applicants[k]
            m = c // n_domains
            share = min(1.0, crisis[m] / max(waiting[m], 1.0))
            lo = frac16[c]
            if (app_u[k] - lo) < share * (apply16 - lo):  # the rest of its draw, uniform on [frac16, apply16)
                newly += last_served[i] <= since
                served[i] = True
                last_served[i] = t
                times_served[i] += 1
                n_crisis += 1
                n_served += 1
    return n_served, newly, n_crisis

