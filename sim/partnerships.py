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

from typing import NamedTuple

import numpy as np

FORMS: tuple[str, ...] = ("gov_business", "business_ngo", "gov_ngo", "trilateral")
"""Partnership forms, in code order."""

MECHANISMS: tuple[str, ...] = ("negotiated", "competitive", "cluster_strategic", "cluster_local")
"""Formation mechanisms: procedural/negotiation (proposal and acceptance),
competitive (a grant award makes a gov-NGO project), and the cluster's
strategic agreements and local coalitions (organisational-structural)."""

FORM_OF_MEMBERS = np.array([-1, -1, -1, 1, -1, 2, 0, 3], dtype=np.int8)
"""Form code by presence bits gov*4 + business*2 + NGO (-1: fewer than two members)."""

GOV, BIZ, NGOS = 0, 1, 2
"""Member slots."""

PAIRS: tuple[tuple[int, int], ...] = ((0, 1), (0, 2), (1, 0), (1, 2), (2, 0), (2, 1))
"""Ordered member-slot pairs (truster, trustee) whose tie a partnership uses."""

N_RESOURCES = 4  # money, competence, volunteers, premises


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
    return productivity * k * (np.power(x, rho).sum(axis=-1) / k) ** (1.0 / rho)


END_REASONS: tuple[str, ...] = ("active", "completed", "low_trust", "member_died")
"""Why a partnership ended (``active``: still running when the log was written)."""


class PartnershipArrays(NamedTuple):
    """The partnership arrays compiled kernels read and write (``Partnerships.arrays()``; index: partnership id)."""

    members: np.ndarray
    edges: np.ndarray
    muni: np.ndarray
    domain: np.ndarray
    end: np.ndarray
    output: np.ndarray
    services: np.ndarray
    money: np.ndarray
    kept: np.ndarray
    broken: np.ndarray


class Partnerships:
    """Registry of partnerships in growable arrays.

    Args:
        capacity: Initial number of slots.
    """

    def __init__(self, capacity: int = 256) -> None:
        self.n = 0
        self._alloc(capacity)

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
        self.closed_at = np.full(cap, -1, np.int32)
        self.reason = np.zeros(cap, np.int8)
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

    def add_many(
        self,
        members: np.ndarray,
        muni: np.ndarray,
        domain: np.ndarray,
        start: int,
        duration: np.ndarray,
        mechanism: int,
        edges: np.ndarray,
        money_equiv: np.ndarray,
    ) -> np.ndarray:
        """Create ``k`` partnerships at once (rows of ``members``: gov, business, NGO; -1 if absent)."""
        k = len(members)
        while self.n + k > self.form.size:
            self._alloc(self.form.size * 2)
        n0 = self.n
        ids = np.arange(n0, n0 + k)
        code = (members >= 0) @ np.array([4, 2, 1])  # gov, business, NGO present
        form = FORM_OF_MEMBERS[code]
        if (form < 0).any():
            raise ValueError("a partnership needs at least two members")
        new = slice(n0, n0 + k)
        self.n += k
        self.form[new] = form
        self.mechanism[new] = mechanism
        self.muni[new] = muni
        self.domain[new] = domain
        self.start[new] = start
        self.end[new] = start + np.maximum(duration, 1)
        self.active[new] = True
        self.members[new] = members
        self.edges[new] = edges
        self.money_equiv[new] = money_equiv
        return ids

    def arrays(self) -> tuple:
        """The arrays, a plain tuple with the fields of :class:`PartnershipArrays` (build it anew each call)."""
        return (
            self.members, self.edges, self.muni, self.domain, self.end, self.output, self.services, self.money, self.kept,
            self.broken,
        )  # fmt: skip

    def active_ids(self) -> np.ndarray:
        """Ids of active partnerships."""
        return np.flatnonzero(self.active[: self.n])

    def count_active_by_form(self) -> np.ndarray:
        """Active partnerships per form."""
        n = self.n
        return np.bincount(self.form[:n][self.active[:n]], minlength=len(FORMS))

    def close(self, ids: np.ndarray, step: int, reason: str) -> None:
        """End active partnerships at ``step`` for ``reason`` (one of :data:`END_REASONS`)."""
        ids = np.asarray(ids, dtype=np.int64)
        ids = ids[self.active[ids]]
        self.active[ids] = False
        self.closed_at[ids] = step
        self.reason[ids] = END_REASONS.index(reason)

    def table(self, step: int) -> dict[str, np.ndarray | list[str]]:
        """All partnerships as columns (still active ones end at ``step`` with reason ``active``)."""
        n = self.n
        end = np.where(self.active[:n], step, self.closed_at[:n])
        return {
            "pid": np.arange(n, dtype=np.int64),
            "form": [FORMS[k] for k in self.form[:n].tolist()],
            "mechanism": [MECHANISMS[k] for k in self.mechanism[:n].tolist()],
            "municipality": self.muni[:n].astype(np.int64),
            "domain": self.domain[:n].astype(np.int64),
            "gov": self.members[:n, 0].copy(),
            "business": self.members[:n, 1].copy(),
            "ngo": self.members[:n, 2].copy(),
            "start": self.start[:n].astype(np.int64),
            "end": end.astype(np.int64),
            "planned_end": self.end[:n].astype(np.int64),
            "reason": [END_REASONS[k] for k in np.where(self.active[:n], 0, self.reason[:n]).tolist()],
            "kept": self.kept[:n].astype(np.int64),
            "broken": self.broken[:n].astype(np.int64),
            "services": self.services[:n].copy(),
            "money": self.money[:n].copy(),
        }
