"""Organisation agents: Mesa agents that are views on the model's arrays.

Each organisation is a :class:`mesa.Agent` so that Mesa's agent sets,
selection and visualisation work, but its state lives in the model's numpy
arrays (indexed by ``org``) so that a monthly step is vectorised. The
mechanisms in :mod:`sim.mechanisms` update the arrays; these classes only read
and describe them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

from sim.params import DOMAINS

if TYPE_CHECKING:
    from sim.model import CrossSectorModel

SECTORS: tuple[str, ...] = (
    "regional_government",
    "municipal_government",
    "business",
    "ngo",
    "management_company",
    "resource_centre",
)
"""Organisation sector codes used in ``model.sector``."""

SEC_REGION, SEC_MUNICIPAL, SEC_BUSINESS, SEC_NGO, SEC_MANAGER, SEC_RC = range(6)


class Organisation(mesa.Agent):
    """Base class: an organisation slot in the model's arrays.

    Args:
        model: The model.
        org: Index of the organisation in the model's arrays and accounts.
    """

    sector_code: int = -1
    model: CrossSectorModel

    def __init__(self, model: CrossSectorModel, org: int) -> None:
        super().__init__(model)
        self.org = org

    @property
    def sector(self) -> str:
        """Sector name."""
        return SECTORS[self.sector_code]

    @property
    def cash(self) -> float:
        """Current balance of the organisation's account, roubles."""
        return float(self.model.ledger.balance[self.org])

    @property
    def municipality(self) -> int:
        """Municipality index (-1 for region-wide organisations)."""
        return int(self.model.org_municipality[self.org])

    def __repr__(self) -> str:
        return f"{type(self).__name__}(org={self.org}, cash={self.cash:,.0f})"


class RegionalGovernment(Organisation):
    """Holds the regional budget, runs grant competitions and social orders."""

    sector_code = SEC_REGION


class MunicipalGovernment(Organisation):
    """One per municipality: small budget, handles NGO requests, has plans."""

    sector_code = SEC_MUNICIPAL

    @property
    def plan_domains(self) -> list[str]:
        """Domains in the authority's plans."""
        m = self.municipality
        return [d for k, d in enumerate(DOMAINS) if self.model.plans[m, k]]


class Business(Organisation):
    """A firm with a CSR budget that depends on profit and motivation."""

    sector_code = SEC_BUSINESS

    @property
    def size_class(self) -> str:
        """small, medium or large."""
        return ("small", "medium", "large")[int(self.model.biz_size[self.org - self.model.biz0])]


class ManagementCompany(Organisation):
    """Licensed manager of NGO endowments (275-FZ)."""

    sector_code = SEC_MANAGER


class NGO(Organisation):
    """A socially oriented NGO; state is in the model's ``ngo_*`` arrays."""

    sector_code = SEC_NGO

    @property
    def slot(self) -> int:
        """Index into the ``ngo_*`` arrays."""
        return self.org - self.model.ngo0

    @property
    def domain(self) -> str:
        """Target domain."""
        return DOMAINS[int(self.model.ngo_domain[self.slot])]

    @property
    def capacity(self) -> float:
        """Professional capacity 0..1."""
        return float(self.model.ngo_capacity[self.slot])

    @property
    def experienced(self) -> bool:
        """Has project experience."""
        return bool(self.model.ngo_experienced[self.slot])

    @property
    def staff(self) -> int:
        """Paid staff."""
        return int(self.model.ngo_staff[self.slot])

    @property
    def volunteers(self) -> float:
        """Volunteers (expected count)."""
        return float(self.model.ngo_volunteers[self.slot])

    @property
    def registered(self) -> bool:
        """Member of the register of social-service providers."""
        return bool(self.model.ngo_registered[self.slot])

    @property
    def endowment_capital(self) -> float:
        """Book value of the NGO's endowment principal, roubles."""
        return float(self.model.ledger.balance[self.model.cap0 + self.slot])


class ResourceCentre(Organisation):
    """An NGO resource centre of one municipality (model per ``rc_model``); state in the model's ``rc`` arrays."""

    sector_code = SEC_RC

    @property
    def kind(self) -> str:
        """Current model of the centre (a municipal RC may have become a centre of public development)."""
        from sim.params import RC_MODELS

        return RC_MODELS[int(self.model.rc.kind[self.municipality])]

    @property
    def stage(self) -> int:
        """Step reached on the way to a centre of public development (0-4)."""
        return int(self.model.rc.stage[self.municipality])
