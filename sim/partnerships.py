"""Partnerships as explicit objects, stored as a struct of arrays.

A partnership has up to three members, one per slot: government
(regional or municipal), business and NGO. Its form follows from which slots
are filled: gov-business, business-NGO, gov-NGO or trilateral. Each month
each member delivers its contribution or fails; contributions are four
resource kinds (money, competence, volunteers/activities, premises) and
produce services for the partnership's target families through a CES
production function with complementarity (``rho < 1``)::

    x_k = contribution_k / resource_scale_k
    Y   = productivity * (sum_k x_k**rho / 4) ** (1 / rho) * 4

``Y`` is homogeneous of degree one and concave, hence superadditive: a
partnership that pools different kinds of resources produces more than its
members could with the same resources apart (the synergy of BRIEF 3.1), and
the trilateral form, which can combine all four kinds, gains most.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FORMS: tuple[str, ...] = ("gov_business", "business_ngo", "gov_ngo", "trilateral")
"""Partnership forms, in code order."""

MECHANISMS: tuple[str, ...] = ("negotiated", "competitive")
"""Formation mechanisms: procedural/negotiation (proposal and acceptance) and
competitive (a grant award makes a gov-NGO project)."""

GOV, BIZ, NGOS = 0, 1, 2
"""Member slots."""

PAIRS: tuple[tuple[int, int], ...] = ((0, 1), (0, 2), (1, 0), (1, 2), (2, 0), (2, 1))
"""Ordered member-slot pairs (truster, trustee) whose tie a partnership uses."""

N_RESOURCES = 4  # money, competence, volunteers, premises


def form_of(has_gov: bool, has_biz: bool, has_ngo: bool) -> int:
    """Form code from which member slots are filled."""
    if has_gov and has_biz and has_ngo:
        return 3
    if has_gov and has_biz:
        return 0
    if has_biz and has_ngo:
        return 1
    if has_gov and has_ngo:
        return 2
    raise ValueError("a partnership needs at least two members")


def ces_output(x: np.ndarray, rho: float, productivity: float) -> np.ndarray:
    """Services per month from resource units ``x`` (shape ``(..., 4)``).

    Args:
        x: Non-negative resource units per kind.
        rho: CES exponent; ``rho < 1`` makes kinds complements.
        productivity: Services per unit of the resource index.

    Returns:
        Output per row.
    """
    x = np.maximum(np.asarray(x, dtype=np.float64), 0.0)
    k = x.shape[-1]
    if abs(rho) < 1e-9:
        with np.errstate(divide="ignore"):
            return productivity * k * np.exp(np.mean(np.log(x), axis=-1))
    if rho < 0:
        with np.errstate(divide="ignore"):
            powered = np.where(x > 0, x, np.inf) ** rho
        inner = powered.mean(axis=-1)
        with np.errstate(divide="ignore"):
            return np.where(np.all(x > 0, axis=-1), productivity * k * inner ** (1.0 / rho), 0.0)
    return productivity * k * (np.mean(x**rho, axis=-1)) ** (1.0 / rho)


@dataclass
class LogEntry:
    """A finished (or, at the end of a run, still active) partnership."""

    pid: int
    form: str
    mechanism: str
    municipality: int
    domain: int
    gov: int
    business: int
    ngo: int
    start: int
    end: int
    planned_end: int
    reason: str
    kept: int
    broken: int
    services: float
    money: float


class Partnerships:
    """Registry of partnerships in growable arrays.

    Args:
        capacity: Initial number of slots.
    """

    def __init__(self, capacity: int = 256) -> None:
        self.n = 0
        self._alloc(capacity)
        self.log: list[LogEntry] = []

    def _alloc(self, cap: int) -> None:
        old = self.__dict__.copy()
        self.form = np.zeros(cap, np.int8)
        self.mechanism = np.zeros(cap, np.int8)
        self.muni = np.zeros(cap, np.int32)
        self.domain = np.zeros(cap, np.int8)
        self.start = np.zeros(cap, np.int32)
        self.end = np.zeros(cap, np.int32)
        self.active = np.zeros(cap, bool)
        self.members = np.full((cap, 3), -1, np.int64)
        self.edges = np.full((cap, len(PAIRS)), -1, np.int64)
        self.money_equiv = np.zeros(cap, np.float64)
        self.kept = np.zeros(cap, np.int32)
        self.broken = np.zeros(cap, np.int32)
        self.services = np.zeros(cap, np.float64)
        self.money = np.zeros(cap, np.float64)
        self.output = np.zeros(cap, np.float64)  # services/month in the last step
        if "form" in old:
            n = old["n"]
            for name in (
                "form",
                "mechanism",
                "muni",
                "domain",
                "start",
                "end",
                "active",
                "members",
                "edges",
                "money_equiv",
                "kept",
                "broken",
                "services",
                "money",
                "output",
            ):
                getattr(self, name)[:n] = old[name][:n]

    def add(
        self,
        members: tuple[int, int, int],
        muni: int,
        domain: int,
        start: int,
        duration: int,
        mechanism: int,
        edges: np.ndarray,
        money_equiv: float = 0.0,
    ) -> int:
        """Create a partnership; returns its id."""
        if self.n >= self.form.size:
            self._alloc(self.form.size * 2)
        p = self.n
        self.n += 1
        g, b, o = members
        self.form[p] = form_of(g >= 0, b >= 0, o >= 0)
        self.mechanism[p] = mechanism
        self.muni[p] = muni
        self.domain[p] = domain
        self.start[p] = start
        self.end[p] = start + duration
        self.active[p] = True
        self.members[p] = members
        self.edges[p] = edges
        self.money_equiv[p] = money_equiv
        return p

    def active_ids(self) -> np.ndarray:
        """Ids of active partnerships."""
        return np.flatnonzero(self.active[: self.n])

    def count_active_by_form(self) -> np.ndarray:
        """Active partnerships per form."""
        n = self.n
        return np.bincount(self.form[:n][self.active[:n]], minlength=len(FORMS))

    def close(self, ids: np.ndarray, step: int, reason: str) -> None:
        """End partnerships and write them to the log."""
        for p in np.asarray(ids).tolist():
            if not self.active[p]:
                continue
            self.active[p] = False
            self.log.append(self._entry(p, step, reason))

    def _entry(self, p: int, step: int, reason: str) -> LogEntry:
        g, b, o = (int(x) for x in self.members[p])
        return LogEntry(
            pid=p,
            form=FORMS[int(self.form[p])],
            mechanism=MECHANISMS[int(self.mechanism[p])],
            municipality=int(self.muni[p]),
            domain=int(self.domain[p]),
            gov=g,
            business=b,
            ngo=o,
            start=int(self.start[p]),
            end=step,
            planned_end=int(self.end[p]),
            reason=reason,
            kept=int(self.kept[p]),
            broken=int(self.broken[p]),
            services=float(self.services[p]),
            money=float(self.money[p]),
        )

    def full_log(self, step: int) -> list[LogEntry]:
        """Finished partnerships plus the still active ones (reason 'active')."""
        return self.log + [self._entry(p, step, "active") for p in self.active_ids().tolist()]
