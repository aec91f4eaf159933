"""What the dashboard reads of a model: the one adapter between :mod:`sim.app` and the model.

Only public methods and attributes of :class:`~sim.model.CrossSectorModel` are used
(``timeseries()``, ``partnership_log()``, ``network_table()``, ``account_table()``,
``alive``, ``sector``, ``t``, ``cluster.session_now()``), so a restructuring of the
model only needs this file updated. Scenarios come from the same Hydra config group the
CLI uses (``configs/scenario/<key>.yaml``, ``sim-run scenario=<key>``).
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.params import Config, replace

ROOT = Path(__file__).resolve().parent.parent
SCENARIO_DIR = ROOT / "configs" / "scenario"
FORMS = ("gov_business", "business_ngo", "gov_ngo", "trilateral")
SECTORS = ("regional_government", "municipal_government", "business", "ngo", "management_company", "resource_centre")
MONEY = {  # money reaching NGOs and centres, by channel (timeseries flow columns)
    "grants": ("flow_grant_regional", "flow_grant_federal", "flow_grant_corporate", "flow_cf_grant"),
    "social_order": ("flow_social_order",),
    "donations": ("flow_donation_business", "flow_donation_citizens", "flow_fair_donation"),
    "partnerships": ("flow_partnership_gov", "flow_partnership_business"),
    "centres": ("flow_rc_funding", "flow_rc_grant", "flow_rc_programme", "flow_cluster_funding"),
}


# ------------------------------------------------------------------ scenarios
@dataclass(frozen=True)
class Scenario:
    """A ready scenario as its config file describes it."""

    key: str
    cfg: Config

    def text(self, field: str, lang: str) -> str:
        """A description field (``title``, ``about``, ``question``, ``watch``) in ``lang``."""
        sc = self.cfg.scenario
        if field == "title":
            return sc.title_ru if lang == "ru" else sc.description
        return getattr(sc, f"{field}_ru" if lang == "ru" else field)


def scenario_keys() -> list[str]:
    """Keys of the ready scenarios (the files of ``configs/scenario/``), baseline first."""
    keys = sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))
    return sorted(keys, key=lambda k: (k != "baseline", k))


_COMPOSE_LOCK = threading.Lock()  # Hydra's global state serves one compose at a time


@functools.lru_cache(maxsize=64)
def _compose(overrides: tuple[str, ...]) -> Config:
    from sim.cli import compose as hydra_compose

    return hydra_compose(list(overrides))


def compose(overrides: tuple[str, ...]) -> Config:
    """Validated config of command-line style overrides (cached; configs are immutable; thread-safe)."""
    with _COMPOSE_LOCK:
        return _compose(overrides)


def scenario(key: str) -> Scenario:
    """The ready scenario ``key`` composed exactly as ``sim-run scenario=<key>``."""
    return Scenario(key, compose((f"scenario={key}",)))


@dataclass(frozen=True)
class Policy:
    """The levers a trainer moves for one arm (defaults: the scenario's own settings)."""

    rc: str = "none"
    cluster: bool = False
    launch: int = 12
    grants: float = 1.0  # multiple of the scenario's grant budget
    trust: float = 0.5

    @staticmethod
    def of(cfg: Config) -> Policy:
        """The levers as a composed scenario sets them."""
        return Policy(
            rc=cfg.rc_model.model,
            cluster=cfg.cluster.enabled,
            launch=cfg.cluster.launch_month,
            grants=1.0,
            trust=cfg.cluster.trust_programme,
        )


def build_config(key: str, policy: Policy, seed: int, steps: int) -> Config:
    """Config of scenario ``key`` with the levers of ``policy`` (as ``sim-run scenario=key rc_model=...``)."""
    base = compose((f"scenario={key}", f"rc_model={policy.rc}", f"cluster={'on' if policy.cluster else 'off'}"))
    return replace(
        base,
        **{
            "seed": int(seed),
            "steps": int(steps),
            "output.plots": False,
            "cluster.launch_month": int(policy.launch),
            "cluster.trust_programme": float(policy.trust),
            "scenario.grant_budget_scale": float(base.scenario.grant_budget_scale * policy.grants),
        },
    )


# ------------------------------------------------------------------ model state
def month(model: Any) -> int:
    """Months simulated so far."""
    return int(model.n_records) - 1 if hasattr(model, "n_records") else len(model.timeseries()) - 1


def session_now(model: Any) -> None:
    """Hold a strategic session in the model now (the trainer's button)."""
    model.cluster.session_now()


SERIES = (
    "step",
    "wellbeing_mean",
    "reached_in_difficulty",
    "ngos_alive",
    "trust_ngo_gov",
    "trust_gov_ngo",
    "trust_ngo_business",
    "ties_active",
    "grants_awarded",
    "cluster_members",
    "rc_stage_mean",
    "rc_public_development_centres",
    *(f"partnerships_{f}" for f in FORMS),
)


def series(model: Any, ts: pd.DataFrame | None = None) -> pd.DataFrame:
    """The curves the dashboard draws, one row per month (money in mln roubles/month).

    Args:
        model: The model.
        ts: Its ``timeseries()`` if already at hand.
    """
    ts = model.timeseries() if ts is None else ts
    cols = {c: ts[c].to_numpy() for c in SERIES}
    cols["reached_pct"] = 100.0 * cols["reached_in_difficulty"]
    cols["partnerships_total"] = sum(cols[f"partnerships_{f}"] for f in FORMS)
    total = 0.0
    for name, flows in MONEY.items():
        cols[f"money_{name}"] = sum(ts[c].to_numpy() for c in flows) / 1e6
        total = total + cols[f"money_{name}"]
    cols["money_total"] = total
    return pd.DataFrame(cols)


def events(model: Any, held: list[int], ts: pd.DataFrame | None = None) -> list[tuple[int, str]]:
    """Event markers ``(month, kind)``: grant rounds, cluster launch, sessions, transformation steps.

    Args:
        model: The model.
        held: Months at which the trainer held a strategic session.
        ts: Its ``timeseries()`` if already at hand.
    """
    ts = model.timeseries() if ts is None else ts
    out: list[tuple[int, str]] = []
    steps = ts["step"].to_numpy()
    grants = ts["grants_awarded"].to_numpy()
    out += [(int(s), "grants") for s in steps[(grants > 0) & (steps > 0)]]
    members = ts["cluster_members"].to_numpy()
    launched = np.flatnonzero(members > 0)
    cfg = model.cfg
    if launched.size:
        first = int(steps[launched[0]])
        out.append((first, "launch"))
        out += [(int(t) + 1, "session") for t in cfg.cluster.sessions if first <= int(t) + 1 <= steps[-1]]
    stage = ts["rc_stage_mean"].to_numpy()
    pdc = ts["rc_public_development_centres"].to_numpy()
    level = ts["rc_level_mean"].to_numpy()  # specialist -> municipal RC on the path (issue #13)
    up = np.flatnonzero((np.diff(stage) > 1e-9) | (np.diff(pdc) > 0) | (np.diff(level) > 1e-9)) + 1
    out += [(int(steps[k]), "transform") for k in up]
    out += [(int(m), "held") for m in held]
    return sorted(out)


def headline(model: Any, ts: pd.DataFrame | None = None) -> dict[str, float]:
    """Headline numbers now: families in difficulty reached (%), active partnerships, trust NGO->government."""
    ts = model.timeseries() if ts is None else ts
    last = ts.iloc[-1]
    return {
        "reached": 100.0 * float(last["reached_in_difficulty"]),
        "partnerships": float(sum(last[f"partnerships_{f}"] for f in FORMS)),
        "trust": float(last["trust_ngo_gov"]),
        "wellbeing": float(last["wellbeing_mean"]),
    }


# ------------------------------------------------------------------ network
@dataclass
class Network:
    """Nodes, ties, partnerships and broken ties of one model, with a layout that moves smoothly."""

    pos: dict[int, tuple[float, float]]
    ties: set[tuple[int, int]]

    @staticmethod
    def new() -> Network:
        """An empty layout (filled at the first call of :meth:`view`)."""
        return Network({}, set())

    def view(self, model: Any) -> dict[str, list[dict[str, Any]]]:
        """Rows for the network chart: ``nodes``, ``ties``, ``partners``, ``broken``.

        Ties present at the previous call and gone now are the broken ones. The layout starts
        from the previous positions (a few force-directed iterations), so it follows new ties.
        """
        import networkx as nx

        net = model.network_table()
        acc = model.account_table()
        alive = np.flatnonzero(np.asarray(model.alive))
        src, dst, tr = net["src"].to_numpy(), net["dst"].to_numpy(), net["trust"].to_numpy()
        keep = src < dst
        pairs = {(int(a), int(b)): float(t) for a, b, t in zip(src[keep], dst[keep], tr[keep], strict=True)}
        g = nx.Graph()
        g.add_nodes_from(alive.tolist())
        g.add_weighted_edges_from((a, b, t) for (a, b), t in pairs.items() if a in g and b in g)
        rng = np.random.default_rng(0)
        init = {}
        for n in g.nodes:
            if n in self.pos:
                init[n] = self.pos[n]
            else:
                nb = [self.pos[m] for m in g.neighbors(n) if m in self.pos]
                c = np.mean(nb, axis=0) if nb else rng.uniform(-1, 1, 2)
                init[n] = tuple(np.asarray(c) + rng.normal(0, 0.05, 2))
        fresh = not self.pos
        k = 1.5 / np.sqrt(max(len(g), 1))
        its = 50 if fresh else 3
        pos = nx.spring_layout(g, pos=init, iterations=its, seed=1, weight="weight", k=k, center=(0, 0), scale=None)
        # fit the bulk of the network to the frame (stragglers pinned to its edge), so a few
        # isolated organisations do not shrink everything else to a dot
        xy = np.array(list(pos.values())) if pos else np.zeros((0, 2))
        if len(xy):
            xy = xy - np.median(xy, axis=0)
            scale = max(float(np.quantile(np.abs(xy), 0.95)), 1e-9)
            xy = np.clip(xy / scale, -1.05, 1.05)
        self.pos = {int(n): (float(p[0]), float(p[1])) for n, p in zip(pos, xy, strict=True)}
        broken = [p for p in self.ties if p not in pairs and p[0] in self.pos and p[1] in self.pos]
        self.ties = set(pairs)
        sector = np.asarray(model.sector)
        muni = acc["municipality"].to_numpy()
        cash = acc["balance"].to_numpy()
        degree = dict(g.degree())
        log = model.partnership_log()
        act = log[log["reason"] == "active"]
        n_part = {}
        partners = []
        for row in act.itertuples(index=False):
            members = [int(x) for x in (row.gov, row.business, row.ngo) if int(x) >= 0]
            for x in members:
                n_part[x] = n_part.get(x, 0) + 1
            for i in range(len(members)):
                for j in range(i + 1, len(members)):
                    a, b = members[i], members[j]
                    if a in self.pos and b in self.pos:
                        partners.append(_seg(self.pos, a, b, form=row.form))
        nodes = [
            {
                "id": int(n),
                "x": self.pos[n][0],
                "y": self.pos[n][1],
                "sector": SECTORS[int(sector[n])],
                "muni": int(muni[n]) + 1,
                "cash": float(cash[n]) / 1e6,
                "size": float(np.log10(1.0 + max(cash[n], 0.0) / 1e4)),
                "ties": int(degree.get(n, 0)),
                "partnerships": int(n_part.get(n, 0)),
            }
            for n in alive.tolist()
            if n in self.pos
        ]
        ties = [_seg(self.pos, a, b, trust=t) for (a, b), t in pairs.items() if a in self.pos and b in self.pos]
        return {"nodes": nodes, "ties": ties, "partners": partners, "broken": [_seg(self.pos, a, b) for a, b in broken]}


def _seg(pos: dict[int, tuple[float, float]], a: int, b: int, **kw: Any) -> dict[str, Any]:
    return {"x": pos[a][0], "y": pos[a][1], "x2": pos[b][0], "y2": pos[b][1], **kw}


def municipal_view(model: Any) -> dict[str, list[dict[str, Any]]]:
    """The network aggregated by municipality: nodes sized by active partnerships, ties between municipalities."""
    net = model.network_table()
    log = model.partnership_log()
    m = int(model.n_muni)
    act = log[log["reason"] == "active"]
    parts = np.bincount(act["municipality"].to_numpy().astype(np.int64), minlength=m)[:m] if len(act) else np.zeros(m, int)
    sm, dm, tr = net["src_municipality"].to_numpy(), net["dst_municipality"].to_numpy(), net["trust"].to_numpy()
    ok = (sm >= 0) & (dm >= 0)
    sm, dm, tr = sm[ok], dm[ok], tr[ok]
    inside = sm == dm
    ties_in = np.bincount(sm[inside], minlength=m)[:m]
    trust_in = np.bincount(sm[inside], weights=tr[inside], minlength=m)[:m] / np.maximum(ties_in, 1)
    acc = model.account_table()
    alive = np.asarray(model.alive)
    sector = np.asarray(model.sector)
    ngo = (sector[: len(alive)] == SECTORS.index("ngo")) & alive
    muni = acc["municipality"].to_numpy()[: len(alive)]
    ngos = np.bincount(muni[ngo & (muni >= 0)], minlength=m)[:m]
    cols = int(np.ceil(np.sqrt(m)))
    xy = [((k % cols) / max(cols - 1, 1) * 2 - 1, 1 - (k // cols) / max((m - 1) // cols, 1) * 2) for k in range(m)]
    nodes = [
        {"id": k, "x": xy[k][0], "y": xy[k][1], "muni": k + 1, "partnerships": int(parts[k]), "trust": float(trust_in[k]),
         "ties": int(ties_in[k]), "ngos": int(ngos[k])}
        for k in range(m)
    ]  # fmt: skip
    a, b = np.minimum(sm[~inside], dm[~inside]), np.maximum(sm[~inside], dm[~inside])
    links: dict[tuple[int, int], int] = {}
    for i, j in zip(a.tolist(), b.tolist(), strict=True):
        links[(i, j)] = links.get((i, j), 0) + 1
    ties = [{"x": xy[i][0], "y": xy[i][1], "x2": xy[j][0], "y2": xy[j][1], "n": n} for (i, j), n in links.items()]
    return {"mnodes": nodes, "mties": ties}


# ------------------------------------------------------------------ export
def export_table(model: Any, meta: dict[str, Any], headers: dict[str, str] | None) -> pd.DataFrame:
    """The model's time series for download, with scenario, policy, seed and month columns.

    Args:
        model: The model.
        meta: Columns added to every row (scenario, arm, policy levers, seed).
        headers: Column name -> header with units (e.g. Russian); ``None`` keeps the names.
    """
    df = series(model)
    df = df.drop(columns=["reached_in_difficulty"])
    for k, v in reversed(list(meta.items())):
        df.insert(0, k, v)
    if headers:
        df = df.rename(columns=headers)
    return df
