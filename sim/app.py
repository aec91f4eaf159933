"""Browser dashboard for strategic sessions (Solara).

Run with ``make dashboard`` (or ``.venv/bin/sim-dashboard``). A trainer picks a
ready scenario, moves a handful of sliders, starts, pauses, steps or resets
the model, and watches the trust network and the outcome curves change; the
A/B mode runs a second policy side by side on the same seed. Russian and
English; every control and chart has a plain-language tooltip; charts export
as PNG and data as CSV.

The model never imports this module; it only reads the model's public state.
"""

from __future__ import annotations

import io
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import matplotlib

matplotlib.use("Agg")
import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402
import solara  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from sim.model import CrossSectorModel  # noqa: E402
from sim.params import Config, replace  # noqa: E402

# ----------------------------------------------------------------- scenarios
SCENARIOS: dict[str, dict[str, Any]] = {
    "volgograd": {
        "en": "Rural district in Volgograd region today",
        "ru": "Сельский район Волгоградской области сегодня",
        "overrides": ["region=volgograd_rural_2021", "calibration=volgograd_2021", "region.families=20000"],
        "rc": "none",
        "cluster": False,
    },
    "kaluga": {
        "en": "Kaluga: NGO support centre at a university",
        "ru": "Калуга: центр поддержки НКО при университете",
        "overrides": [],
        "rc": "municipal_rc",
        "cluster": False,
    },
    "tyumen": {
        "en": "Tyumen district: from a specialist to a municipal RC",
        "ru": "Район Тюменской области: от специалиста к муниципальному РЦ",
        "overrides": ["rc_model.transform=true"],
        "rc": "administrative",
        "cluster": False,
    },
    "ural": {
        "en": "Ural network of resource centres",
        "ru": "Уральская сеть ресурсных центров",
        "overrides": ["rc_model.network=true"],
        "rc": "municipal_rc",
        "cluster": False,
    },
    "cluster": {
        "en": "Pilot region: family-oriented cluster with an endowment",
        "ru": "Пилотный регион: семейно-ориентированный кластер с эндаументом",
        "overrides": ["cluster.endowment=true", "cluster.launch_month=6"],
        "rc": "public_development_centre",
        "cluster": True,
    },
    "stavropol": {
        "en": "Stavropol: volunteers' mentoring with a state centre",
        "ru": "Ставрополь: наставничество волонтёров с государственным центром",
        "overrides": ["org.ngo_volunteers_mean=20", "org.volunteer_recruit=0.6"],
        "rc": "subordinate",
        "cluster": False,
    },
}
RC_MODELS = ["none", "administrative", "subordinate", "municipal_rc", "public_development_centre"]
RC_LABELS = {
    "en": ["none", "specialist in the administration", "municipal institution", "municipal resource centre",
           "centre of public development"],
    "ru": ["нет", "специалист администрации", "подведомственное учреждение", "муниципальный ресурсный центр",
           "центр общественного развития"],
}  # fmt: skip
MONEY_LABELS = {
    "en": ["grants", "social order", "donations", "partnerships", "centres"],
    "ru": ["гранты", "соцзаказ", "пожертвования", "партнёрства", "центры"],
}

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Cross-sector partnerships in the social sphere",
        "scenario": "Scenario",
        "rc": "NGO resource centre",
        "rc_tip": "How NGOs in each district are supported: none, a specialist in the administration, a municipal institution, a municipal resource centre, or a centre of public development.",
        "cluster": "Family cluster",
        "cluster_tip": "A network of organisations around a family resource centre with one-window access for families.",
        "launch": "Cluster starts in month",
        "launch_tip": "When the family cluster is launched.",
        "grants": "Grant budget (x today's)",
        "grants_tip": "Regional and federal grant money for NGO projects, as a multiple of the current budget.",
        "trust": "Trust programme",
        "trust_tip": "How strongly the cluster promotes a culture of kept promises (0 = not at all, 1 = fully).",
        "session": "Strategic session now",
        "session_tip": "Bring government, business and NGOs together this month: they get to know each other and propose joint projects.",
        "start": "Start",
        "pause": "Pause",
        "step": "Step",
        "reset": "Reset",
        "ab": "A/B: compare with policy B",
        "ab_tip": "Run a second policy side by side, with the same random seed.",
        "policy_b": "Policy B",
        "month": "Month",
        "network": "Trust network (colour: sector, width: trust)",
        "network_tip": "Each dot is an organisation; lines are personal ties, thicker when trust is higher.",
        "curves": "Outcomes",
        "curves_tip": "Family wellbeing, families in difficulty reached, partnerships by form, money by channel.",
        "csv": "Data (CSV)",
        "png": "Charts (PNG)",
        "wellbeing": "Family wellbeing",
        "reached": "Families in difficulty reached",
        "partnerships": "Active partnerships",
        "money": "Money by channel, mln roubles/month",
        "lang": "Language",
    },
    "ru": {
        "title": "Межсекторное партнёрство в социальной сфере",
        "scenario": "Сценарий",
        "rc": "Ресурсный центр НКО",
        "rc_tip": "Как поддерживаются НКО в районе: никак, специалист администрации, подведомственное учреждение, муниципальный ресурсный центр или центр общественного развития.",
        "cluster": "Семейный кластер",
        "cluster_tip": "Сеть организаций вокруг семейного ресурсного центра с «одним окном» для семей.",
        "launch": "Кластер начинает работу в месяц",
        "launch_tip": "Когда запускается семейный кластер.",
        "grants": "Грантовый бюджет (× нынешнего)",
        "grants_tip": "Региональные и федеральные гранты на проекты НКО, во сколько раз больше нынешних.",
        "trust": "Программа доверия",
        "trust_tip": "Насколько кластер развивает культуру выполненных обещаний (0 — никак, 1 — полностью).",
        "session": "Стратегическая сессия сейчас",
        "session_tip": "Собрать власть, бизнес и НКО в этом месяце: они знакомятся и предлагают совместные проекты.",
        "start": "Пуск",
        "pause": "Пауза",
        "step": "Шаг",
        "reset": "Сброс",
        "ab": "A/B: сравнить с политикой B",
        "ab_tip": "Запустить вторую политику рядом, с тем же случайным зерном.",
        "policy_b": "Политика B",
        "month": "Месяц",
        "network": "Сеть доверия (цвет — сектор, толщина — доверие)",
        "network_tip": "Точка — организация; линии — личные связи, толще при большем доверии.",
        "curves": "Результаты",
        "curves_tip": "Благополучие семей, охват семей в трудной ситуации, партнёрства по формам, деньги по каналам.",
        "csv": "Данные (CSV)",
        "png": "Графики (PNG)",
        "wellbeing": "Благополучие семей",
        "reached": "Охват семей в трудной ситуации",
        "partnerships": "Действующие партнёрства",
        "money": "Деньги по каналам, млн руб./мес.",
        "lang": "Язык",
    },
}
SECTOR_COLOURS = ["#08519c", "#3182bd", "#fd8d3c", "#31a354", "#969696", "#756bb1"]
FORM_LABELS = {
    "en": ["gov-business", "business-NGO", "gov-NGO", "trilateral"],
    "ru": ["власть-бизнес", "бизнес-НКО", "власть-НКО", "трёхсторонние"],
}
MONEY = {
    "grants": ("flow_grant_regional", "flow_grant_federal"),
    "social order": ("flow_social_order",),
    "donations": ("flow_donation_business", "flow_donation_citizens"),
    "partnerships": ("flow_partnership_gov", "flow_partnership_business"),
    "centres": ("flow_rc_funding", "flow_rc_grant", "flow_rc_programme", "flow_cluster_funding"),
}


@dataclass
class Policy:
    """What the sliders set for one arm."""

    rc: str = "none"
    cluster: bool = False
    launch: int = 12
    grants: float = 1.0
    trust: float = 0.5


def build_config(scenario: str, policy: Policy, seed: int = 1, steps: int = 120) -> Config:
    """Configuration of a scenario with the sliders' policy applied."""
    from sim.cli import compose

    s = SCENARIOS[scenario]
    cfg = compose([*s["overrides"], f"rc_model={policy.rc}", f"cluster={'on' if policy.cluster else 'off'}"])
    return replace(
        cfg,
        **{
            "seed": seed,
            "steps": steps,
            "output.plots": False,
            "cluster.launch_month": policy.launch,
            "cluster.trust_programme": policy.trust,
            "scenario.grant_budget_scale": policy.grants,
        },
    )


@dataclass
class Arm:
    """One running model and what the page shows of it."""

    model: CrossSectorModel
    layout: dict[int, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        g = nx.Graph()
        alive = np.flatnonzero(self.model.alive)
        g.add_nodes_from(alive.tolist())
        tr = self.model.trust
        act = np.flatnonzero(tr.active[: tr.n])
        g.add_edges_from(zip(tr.src[act].tolist(), tr.dst[act].tolist(), strict=True))
        self.layout = nx.spring_layout(g, seed=1, iterations=40)


def network_figure(arm: Arm, title: str) -> Figure:
    """Trust network: nodes coloured by sector, edge width by trust."""
    m = arm.model
    fig = Figure(figsize=(4.6, 4.0))
    ax = fig.add_subplot()
    tr = m.trust
    act = np.flatnonzero(tr.active[: tr.n])
    t = tr.trust(act)
    pos = arm.layout
    segs, widths = [], []
    for k, tt in zip(act.tolist(), t.tolist(), strict=True):
        a, b = int(tr.src[k]), int(tr.dst[k])
        if a in pos and b in pos and a < b:
            segs.append((pos[a], pos[b]))
            widths.append(0.2 + 2.0 * tt**2)
    ax.add_collection(LineCollection(segs, linewidths=widths, colors="#777777", alpha=0.35))
    alive = [o for o in pos if m.alive[o]]
    xy = np.array([pos[o] for o in alive]) if alive else np.zeros((0, 2))
    colours = [SECTOR_COLOURS[int(m.sector[o])] for o in alive]
    ax.scatter(xy[:, 0], xy[:, 1], c=colours, s=14, zorder=3)
    ax.set_axis_off()
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def curves_figure(arm: Arm, lang: str) -> Figure:
    """Four live curves of one model."""
    tx = TEXT[lang]
    ts = arm.model.timeseries()
    fig = Figure(figsize=(7.2, 4.6))
    axes = fig.subplots(2, 2)
    x = ts["step"]
    axes[0, 0].plot(x, ts["wellbeing_mean"], color="k")
    axes[0, 0].set_title(tx["wellbeing"], fontsize=9)
    axes[0, 1].plot(x, ts["reached_in_difficulty"], color="C2")
    axes[0, 1].set_ylim(0, 1)
    axes[0, 1].set_title(tx["reached"], fontsize=9)
    for k, form in enumerate(("gov_business", "business_ngo", "gov_ngo", "trilateral")):
        axes[1, 0].plot(x, ts[f"partnerships_{form}"], label=FORM_LABELS[lang][k])
    axes[1, 0].legend(fontsize=6)
    axes[1, 0].set_title(tx["partnerships"], fontsize=9)
    money = np.array([sum(ts[c] for c in cols) for cols in MONEY.values()]) / 1e6
    axes[1, 1].stackplot(x, money, labels=MONEY_LABELS[lang], alpha=0.85)
    axes[1, 1].legend(fontsize=6, loc="upper left")
    axes[1, 1].set_title(tx["money"], fontsize=9)
    for ax in axes.ravel():
        ax.tick_params(labelsize=7)
    fig.tight_layout()
    return fig


def figure_png(figs: list[Figure]) -> bytes:
    """The given figures stacked into one PNG."""
    from PIL import Image

    images = []
    for f in figs:
        buf = io.BytesIO()
        f.savefig(buf, format="png", dpi=110)
        buf.seek(0)
        images.append(Image.open(buf).convert("RGB"))
    width = max(i.width for i in images)
    out = Image.new("RGB", (width, sum(i.height for i in images)), "white")
    y = 0
    for i in images:
        out.paste(i, (0, y))
        y += i.height
    buf = io.BytesIO()
    out.save(buf, format="PNG")
    return buf.getvalue()


# --------------------------------------------------------------------- state
lang = solara.reactive("en")
scenario = solara.reactive("volgograd")
policy_a = solara.reactive(Policy())
policy_b = solara.reactive(Policy(rc="municipal_rc"))
ab_mode = solara.reactive(False)
playing = solara.reactive(False)
tick = solara.reactive(0)
arms_state: solara.Reactive[dict[str, Arm]] = solara.reactive({})  # per browser session
_lock = threading.Lock()


def reset() -> None:
    """Build the model(s) anew from the scenario and the sliders."""
    arms = {"A": Arm(CrossSectorModel(build_config(scenario.value, policy_a.value)))}
    if ab_mode.value:
        arms["B"] = Arm(CrossSectorModel(build_config(scenario.value, policy_b.value)))
    arms_state.value = arms
    tick.value += 1


def step() -> None:
    """Advance every running model by one month."""
    with _lock:
        for arm in arms_state.value.values():
            if arm.model.running:
                arm.model.step()
    tick.value += 1


def session_now() -> None:
    """Hold a strategic session in every running model now."""
    with _lock:
        for arm in arms_state.value.values():
            arm.model.cluster.session_now()
    tick.value += 1


def choose_scenario(key: str) -> None:
    """Switch scenario: its default policy goes to the sliders of A."""
    s = SCENARIOS[key]
    scenario.value = key
    policy_a.value = Policy(rc=s["rc"], cluster=s["cluster"])
    reset()


@solara.component
def Tip(text: str, child: Any) -> Any:
    """A control with a plain-language tooltip."""
    with solara.Tooltip(text):
        solara.Div(children=[child])


@solara.component
def PolicyControls(policy: solara.Reactive[Policy], title: str) -> None:
    """The sliders of one policy."""
    tx = TEXT[lang.value]
    p = policy.value

    def set_(**kw: Any) -> None:
        policy.value = Policy(**{**p.__dict__, **kw})

    solara.HTML(tag="b", unsafe_innerHTML=title)
    labels = RC_LABELS[lang.value]
    Tip(tx["rc_tip"], solara.Select(label=tx["rc"], values=labels, value=labels[RC_MODELS.index(p.rc)],
                                    on_value=lambda v: set_(rc=RC_MODELS[labels.index(v)])))  # fmt: skip
    Tip(tx["cluster_tip"], solara.Switch(label=tx["cluster"], value=p.cluster, on_value=lambda v: set_(cluster=v)))
    Tip(
        tx["launch_tip"],
        solara.SliderInt(tx["launch"], value=p.launch, min=0, max=60, on_value=lambda v: set_(launch=v), thumb_label="always"),
    )
    Tip(tx["grants_tip"], solara.SliderFloat(tx["grants"], value=p.grants, min=0.0, max=3.0, step=0.1,
                                              on_value=lambda v: set_(grants=v), thumb_label="always"))  # fmt: skip
    Tip(tx["trust_tip"], solara.SliderFloat(tx["trust"], value=p.trust, min=0.0, max=1.0, step=0.1,
                                             on_value=lambda v: set_(trust=v), thumb_label="always"))  # fmt: skip


@solara.component
def Page() -> None:
    """The dashboard page."""
    tx = TEXT[lang.value]
    if not arms_state.value:
        reset()
    _ = tick.value  # re-render on every step

    def loop() -> None:
        while playing.value:
            time.sleep(0.25)
            step()

    solara.lab.use_task(loop, dependencies=[playing.value], prefer_threaded=True)
    solara.Title(tx["title"])
    with solara.Sidebar():
        solara.ToggleButtonsSingle(value=lang, values=["en", "ru"])
        solara.HTML(tag="b", unsafe_innerHTML=tx["scenario"])
        for key, s in SCENARIOS.items():
            solara.Button(s[lang.value], on_click=lambda key=key: choose_scenario(key), text=True,
                          color="primary" if key == scenario.value else None, classes=[f"scenario-{key}"])  # fmt: skip
        PolicyControls(policy_a, "A")
        Tip(tx["ab_tip"], solara.Checkbox(label=tx["ab"], value=ab_mode, on_value=lambda v: reset()))
        if ab_mode.value:
            PolicyControls(policy_b, tx["policy_b"])
    with solara.Column():
        solara.HTML(tag="h2", unsafe_innerHTML=tx["title"])
        with solara.Row():
            if playing.value:
                solara.Button(tx["pause"], on_click=lambda: playing.set(False), classes=["ctl-pause"])
            else:
                solara.Button(tx["start"], on_click=lambda: playing.set(True), classes=["ctl-start"])
            solara.Button(tx["step"], on_click=step, classes=["ctl-step"])
            solara.Button(tx["reset"], on_click=reset, classes=["ctl-reset"])
            Tip(tx["session_tip"], solara.Button(tx["session"], on_click=session_now, classes=["ctl-session"]))
        arms = dict(arms_state.value)
        month = arms["A"].model.t + 1 if "A" in arms else 0
        solara.HTML(
            tag="div",
            unsafe_innerHTML=f"<b>{tx['month']}: <span class='month'>{month}</span></b> — {SCENARIOS[scenario.value][lang.value]}",
        )
        with solara.Columns([1] * len(arms)):
            figs = []
            for name, arm in arms.items():
                with solara.Column():
                    label = "A" if name == "A" else tx["policy_b"]
                    net = network_figure(arm, f"{label}: {tx['network']}")
                    cur = curves_figure(arm, lang.value)
                    figs += [net, cur]
                    Tip(tx["network_tip"], solara.FigureMatplotlib(net, format="png"))
                    Tip(tx["curves_tip"], solara.FigureMatplotlib(cur, format="png"))
        with solara.Row():
            csv = "".join(
                arm.model.timeseries().assign(arm=name).to_csv(index=False, header=(k == 0))
                for k, (name, arm) in enumerate(arms.items())
            )
            solara.FileDownload(csv, filename="timeseries.csv", label=tx["csv"])
            solara.FileDownload(lambda: figure_png(figs), filename="charts.png", label=tx["png"])


def main() -> None:
    """Entry point of ``sim-dashboard``: serve this page with Solara, offline assets included."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ)
    env.setdefault("SOLARA_ASSETS_PROXY_CACHE_DIR", str(root / ".assets" / "solara-cdn"))
    env.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    port = env.get("SIM_DASHBOARD_PORT", "8765")
    cmd = [sys.executable, "-m", "solara", "run", str(Path(__file__)), "--host", "127.0.0.1", "--port", port, "--production",
           "--no-open", *sys.argv[1:]]  # fmt: skip
    raise SystemExit(subprocess.call(cmd, env=env))
