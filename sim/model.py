"""The cross-sector interaction model of one region in monthly steps.

:class:`CrossSectorModel` is a :class:`mesa.Model`: it builds the shared
:class:`~sim.state.State`, makes the organisations Mesa agents and runs the
mechanisms of :mod:`sim.mechanisms` in the order of :attr:`CrossSectorModel.loop`
(``print(model.loop)``; the order is documented once, in :data:`STEP_ORDER`).
"""

from __future__ import annotations

from typing import Any

import mesa
import numpy as np
import pandas as pd

from sim import agents as ag
from sim.ledger import CHANNELS
from sim.mechanisms.base import Mechanism
from sim.mechanisms.budgets import Budgets
from sim.mechanisms.cluster import Cluster
from sim.mechanisms.commitments import Commitments
from sim.mechanisms.community_foundations import CommunityFoundations
from sim.mechanisms.councils import Councils
from sim.mechanisms.delivery import Delivery
from sim.mechanisms.dissolution import Dissolution
from sim.mechanisms.endowments import Endowments
from sim.mechanisms.fairs import Fairs
from sim.mechanisms.families import FAMILY_THREAD_MIN, FamilyTransitions, FamilyUptake
from sim.mechanisms.formation import Formation
from sim.mechanisms.giving import Giving
from sim.mechanisms.giving_up import GivingUp
from sim.mechanisms.grants import Grants
from sim.mechanisms.mentoring import Mentoring
from sim.mechanisms.ngo_life import NGOLife
from sim.mechanisms.organisational_structural import OrganisationalStructural
from sim.mechanisms.perception import Perception
from sim.mechanisms.recording import METRICS, Recording
from sim.mechanisms.requests import Requests
from sim.mechanisms.resource_centres import ResourceCentres
from sim.mechanisms.services import Services
from sim.mechanisms.socio_technological import SocioTechnological
from sim.mechanisms.trust import TrustUpdate
from sim.mechanisms.turnover import Turnover
from sim.params import Config, replace
from sim.presets import config_from_params
from sim.rng import Streams
from sim.state import COUNTERS, FUND_ACCOUNTS, N_DOMAINS, SHARED, State

__all__ = ["COUNTERS", "FAMILY_THREAD_MIN", "METRICS", "N_DOMAINS", "STEP_ORDER", "CrossSectorModel", "run_model"]

STEP_ORDER: tuple[type[Mechanism], ...] = (
    FamilyTransitions,  # families' moves and wellbeing after last month's services (second thread)
    Budgets,  # 1. annual budgets in January, CSR budgets every month
    Councils,  # 1a. public councils in January: seats, rotation, the NGOs' voice
    Turnover,  # 2. key persons leave (ties go dormant), successors renew ties
    CommunityFoundations,  # 3a. community foundations: local donations, named/family funds, local competitions
    Fairs,  # 3b. NGO fairs: ties with local business, citizens' gifts
    Giving,  # 3. business and citizens' donations, endowment gifts
    ResourceCentres,  # 4. resource centres (rc_model)
    Cluster,  # 5. the family-oriented cluster
    FamilyUptake,  # families learn of support and apply (second thread)
    Commitments,  # municipal money commitments within budget (January renewal; issue #12)
    Grants,  # 6. grant competitions (each fund's months)
    Requests,  # 7. requests to municipalities, subsidies
    Formation,  # 8. partnership proposals and acceptance
    SocioTechnological,  # 8a. proven NGO technologies adopted, funded and spread by the state
    Perception,  # 8b. each side's yardstick for the month's requests, satisfaction
    GivingUp,  # 8c. refused NGOs may stop asking ("tried and failed")
    Delivery,  # 9. partnership contributions, money, output, evidence
    OrganisationalStructural,  # 9a. houses of NGOs, the centre with delegated functions
    Services,  # 10. capacity, rationing, state institutions, social orders
    TrustUpdate,  # 11. gossip, forgetting, institutional trust (second thread, beside 10); December compaction
    Mentoring,  # 11a. volunteer-child pairs with the state temporary-stay centre (Stavropol; off by default)
    Endowments,  # 12. returns, deadlines, December payout
    NGOLife,  # 13. costs, staff, volunteers, register, deaths, births
    Dissolution,  # 14. end of partnerships
    Recording,  # 15. month-end bookkeeping, metrics, ledger check
)
"""The monthly step: each mechanism's ``step`` in this order (see docs/ODD.md, process overview)."""


class CrossSectorModel(mesa.Model):
    """Government, business, NGOs and families in one region.

    Organisations are Mesa agents (:mod:`sim.agents`) whose state lives in
    the arrays of the shared :class:`~sim.state.State` (``model.state``;
    each of its arrays is also ``model.<name>``). Each month the mechanisms
    of :attr:`loop` act on it in order; every random draw comes from a named
    stream of :class:`~sim.rng.Streams` derived from ``cfg.seed``.

    Args:
        cfg: Validated configuration (see :func:`sim.params.build_config`).
        seed: Run seed (overrides ``cfg.seed``; also how :func:`mesa.batch_run` passes seeds).
        **params: Without ``cfg``: plain keyword parameters, e.g. ``steps=36, region="small",
            **{"finance.subsidy_size": 2e5}`` (see :func:`sim.presets.config_from_params`).
    """

    def __init__(self, cfg: Config | None = None, *, seed: int | None = None, **params: Any) -> None:
        if cfg is None:
            cfg = config_from_params(**params, **({} if seed is None else {"seed": seed}))
        elif params:
            raise TypeError("pass either a Config or keyword parameters, not both")
        elif seed is not None and seed != cfg.seed:
            cfg = replace(cfg, seed=seed)
        super().__init__(rng=cfg.seed)
        self.cfg = cfg
        self.streams = Streams(cfg.seed)
        self.state = State.build(cfg, self.streams)
        st = self.state

        # Mesa agents (views on the arrays)
        self.org_agent: dict[int, ag.Organisation] = {}
        self.add_agent(ag.RegionalGovernment, st.region)
        for k in range(st.n_muni):
            self.add_agent(ag.MunicipalGovernment, st.muni0 + k)
        for k in range(cfg.region.businesses):
            self.add_agent(ag.Business, st.biz0 + k)
        self.add_agent(ag.ManagementCompany, st.manager)
        if cfg.rc_model.model != "none":
            for k in range(st.n_muni if cfg.rc_model.tier == "municipal" else 1):
                self.add_agent(ag.ResourceCentre, st.rc0 + k)
        for k in range(cfg.region.ngos):
            self.add_agent(ag.NGO, st.ngo0 + k)

        self.mechanisms: dict[str, Mechanism] = {}
        for cls in STEP_ORDER:
            mech = cls(self)
            self.mechanisms[mech.name] = mech
        self.loop: list[Mechanism] = list(self.mechanisms.values())
        """The mechanisms in step order."""
        self.rc: ResourceCentres = self.mechanisms["resource_centres"]  # type: ignore[assignment]
        self.cluster: Cluster = self.mechanisms["cluster"]  # type: ignore[assignment]
        self.mentoring: Mentoring = self.mechanisms["mentoring"]  # type: ignore[assignment]
        self.recording: Recording = self.mechanisms["recording"]  # type: ignore[assignment]
        # with the second thread, the trust update starts after delivery and runs beside services
        self.family_thread: bool = self.mechanisms["family_transitions"].threaded  # type: ignore[attr-defined]
        """Whether the families' passes and the trust update run in the second thread."""
        trust = self.mechanisms["trust"]
        self._launch_after = {trust.launch_after: trust.launch} if self.family_thread else {}  # type: ignore[attr-defined]
        self.running = True
        self.recording.step()  # row 0: the initial state

    def add_agent(self, cls: type[ag.Organisation], org: int) -> None:
        """Make organisation ``org`` a Mesa agent of class ``cls``."""
        self.org_agent[org] = cls(self, org)

    # ------------------------------------------------------------------ step
    def step(self) -> None:
        """Advance the region by one month: each mechanism of :attr:`loop` in order (:data:`STEP_ORDER`)."""
        st = self.state
        st.t = self.steps - 1
        st.counts = dict.fromkeys(COUNTERS, 0.0)
        st.ngo_income_month[:] = 0.0
        launch = self._launch_after
        for mech in self.loop:
            mech.step()
            if launch and mech.name in launch:
                launch[mech.name]()
        if self.steps >= self.cfg.steps:
            self.running = False

    def step_order(self) -> list[str]:
        """Names of the mechanisms in step order."""
        return [m.name for m in self.loop]

    # --------------------------------------------------------- shared state
    def alive_slots(self) -> np.ndarray:
        """Slots of the alive NGOs, ascending (do not modify; see :meth:`sim.state.State.alive_slots`)."""
        return self.state.alive_slots()

    def ngo_agents(self) -> list[ag.NGO]:
        """Alive NGO agents."""
        return [a for a in self.agents_by_type.get(ag.NGO, [])]  # type: ignore[misc]

    def acceptance_probabilities(self, gov: np.ndarray, biz: np.ndarray, ngo: np.ndarray) -> np.ndarray:
        """Probability that every invited member accepts each proposal (see :mod:`sim.mechanisms.formation`)."""
        return self.mechanisms["formation"].acceptance_probabilities(gov, biz, ngo)  # type: ignore[attr-defined]

    def acceptance_probability(self, gov: int, biz: int, ngo: int) -> float:
        """Scalar form of :meth:`acceptance_probabilities`."""
        return float(self.acceptance_probabilities(np.array([gov]), np.array([biz]), np.array([ngo]))[0])

    @property
    def records(self) -> np.ndarray:
        """The time-series buffer (one row per month, :data:`METRICS` columns)."""
        return self.recording.records

    @property
    def n_records(self) -> int:
        """Rows of :attr:`records` written so far."""
        return self.recording.n_records

    @property
    def history(self) -> dict[str, list[np.ndarray]]:
        """Monthly copies of the cumulative counters (see :data:`sim.mechanisms.recording.HISTORY`)."""
        return self.recording.history

    # ------------------------------------------------------------- outputs
    def timeseries(self) -> pd.DataFrame:
        """Model-level metrics, one row per month (row 0 is the initial state)."""
        return timeseries_frame(self.records[: self.n_records])

    @property
    def datacollector(self) -> mesa.DataCollector:
        """The time series as a :class:`mesa.DataCollector` (what :func:`mesa.batch_run` reads); built on access."""
        dc = mesa.DataCollector()
        ts = self.timeseries()
        dc.model_vars = {name: ts[name].tolist() for name in METRICS}
        dc._collection_steps = list(range(self.n_records))
        return dc

    def flows(self) -> pd.DataFrame:
        """The flow ledger with channel and account labels."""
        df = self.ledger.flows()
        df["channel"] = pd.Categorical.from_codes(df["channel"].to_numpy(), categories=list(CHANNELS))
        return df

    def account_table(self) -> pd.DataFrame:
        """Label, sector and municipality of every ledger account."""
        st = self.state
        n = st.ledger.balance.size
        label = np.empty(n, dtype=object)
        kind = np.empty(n, dtype=object)
        for i in range(st.n_orgs):
            label[i] = f"{ag.SECTORS[st.sector[i]]}_{i}"
            kind[i] = ag.SECTORS[st.sector[i]]
        for k in range(st.n_ngo_slots):
            label[st.cap0 + k] = f"endowment_capital_{st.ngo0 + k}"
            kind[st.cap0 + k] = "endowment_capital"
            label[st.res0 + k] = f"endowment_reserve_{st.ngo0 + k}"
            kind[st.res0 + k] = "endowment_reserve"
        for name, i in st.ext.items():
            label[i] = name
            kind[i] = name if name in FUND_ACCOUNTS else "external"
        muni = np.full(n, -1, np.int32)
        muni[: st.n_orgs] = st.org_municipality
        return pd.DataFrame(
            {
                "account": np.arange(n, dtype=np.int32),
                "label": label,
                "kind": kind,
                "municipality": muni,
                "balance": st.ledger.balance.copy(),
            }
        )

    def partnership_log(self) -> pd.DataFrame:
        """All partnerships of the run (finished and still active), one row each."""
        return pd.DataFrame(self.partnerships.table(self.t))

    def counter_in_window(self, name: str, window: int) -> np.ndarray:
        """Increase of a cumulative counter over the last ``window`` months (``history`` keeps one entry per month)."""
        h = self.history[name]
        last, first = h[-1], h[max(len(h) - 1 - window, 0)]
        if first.size < last.size:  # NGO slots added since: they counted nothing before
            first = np.concatenate([first, np.zeros(last.size - first.size, first.dtype)])
        return last - first

    def ngo_income_cv(self, min_months: int = 12) -> float:
        """Median coefficient of variation of NGOs' monthly income (NGOs observed ``min_months`` or more).

        Lower is more stable income.
        """
        st = self.state
        k = st.ngo_income_months >= min_months
        if not k.any():
            return float("nan")
        n = st.ngo_income_months[k]
        mean = st.ngo_income_sum[k] / n
        var = np.maximum(st.ngo_income_sq[k] / n - mean**2, 0.0)
        cv = np.sqrt(var) / np.maximum(mean, 1e-9)
        return float(np.median(cv))

    def ngo_survival(self) -> float:
        """Share of the NGOs alive at the start that are alive at the end."""
        initial = self.ngo_born == 0
        return float((self.ngo_alive & initial).sum() / max(initial.sum(), 1))

    def network_table(self) -> pd.DataFrame:
        """Active ties at the end: source, target, their sectors and municipalities, trust."""
        tr, st = self.trust, self.state
        k = np.flatnonzero(tr.active[: tr.n])
        src, dst = tr.src[k], tr.dst[k]
        return pd.DataFrame(
            {
                "src": src.astype(np.int32),
                "dst": dst.astype(np.int32),
                "src_sector": pd.Categorical.from_codes(st.sector[src], categories=list(ag.SECTORS)),
                "dst_sector": pd.Categorical.from_codes(st.sector[dst], categories=list(ag.SECTORS)),
                "src_municipality": st.org_municipality[src],
                "dst_municipality": st.org_municipality[dst],
                "trust": tr.trust(k),
            }
        )

    def outcomes(self) -> dict[str, float]:
        """End-of-run outcomes used by experiments, sweeps and sensitivity analysis."""
        from sim.outcomes import outcomes

        return outcomes(self)

    def summary(self) -> dict[str, Any]:
        """Final-state summary used by the regression baseline."""
        ts = self.timeseries()
        last = ts.iloc[-1]
        return {
            "wellbeing_mean": float(last["wellbeing_mean"]),
            "share_crisis": float(last["share_crisis"]),
            "reached_in_difficulty": float(last["reached_in_difficulty"]),
            "ngos_alive": float(last["ngos_alive"]),
            "ties_active": float(last["ties_active"]),
            "partnerships_total": int(self.partnerships.n),
            "grants_total": float(ts["grants_awarded"].sum()),
            "families_served_total": float(ts["families_served"].sum()),
            "ngo_cash_total": float(last["ngo_cash_total"]),
            "trust_ngo_gov": float(last["trust_ngo_gov"]),
        }


TIMESERIES_INT_COLUMNS = ("step", "year", "month")
"""Columns of :meth:`CrossSectorModel.timeseries` stored as int32 (the others float64)."""


def timeseries_frame(records: np.ndarray, job: np.ndarray | None = None) -> pd.DataFrame:
    """The time-series table of rows of :data:`METRICS` (one run's, or the stacked rows of several runs).

    Args:
        records: Rows of the time-series buffer, :data:`METRICS` columns.
        job: Optional ``job`` column (int64) put first, for a sweep's dataset part.
    """
    data: dict[str, np.ndarray] = {} if job is None else {"job": np.asarray(job, dtype=np.int64)}
    for j, name in enumerate(METRICS):
        col = records[:, j]
        data[name] = col.astype(np.int32) if name in TIMESERIES_INT_COLUMNS else col.copy()
    return pd.DataFrame(data, copy=False)


def _forward(name: str) -> property:
    def get(self: CrossSectorModel) -> Any:
        return getattr(self.state, name)

    def set_(self: CrossSectorModel, value: Any) -> None:
        setattr(self.state, name, value)

    return property(get, set_, doc=f"``model.state.{name}`` (see :class:`sim.state.State`).")


for _name in SHARED:
    setattr(CrossSectorModel, _name, _forward(_name))


def run_model(cfg: Config) -> CrossSectorModel:
    """Build a model and run it for ``cfg.steps`` months."""
    model = CrossSectorModel(cfg)
    for _ in range(cfg.steps):
        model.step()
    return model
