"""Browser dashboard for strategic sessions (Solara), made to be shown to a room on a projector.

Run with ``make dashboard`` (or ``.venv/bin/sim-dashboard``). A trainer picks a ready scenario
(the files of ``configs/scenario/``, the same ones ``sim-run scenario=<key>`` uses), moves the
levers, starts, pauses, steps or resets, holds a strategic session, and compares two policies
(A/B, on shared axes, with bands from a few background seeds). Russian first, English second.

Design for live use:

* One background thread per browser session (:class:`Runner`) steps the models; the page
  only reads its latest snapshot, so a render never changes state and clicks never wait for
  a model step ("Too many renders" cannot happen). The thread stops when the tab closes
  (Solara's kernel close hook) or when no page has been connected for a while.
* Lever changes never silently do nothing: until Reset the page says "changed: press Reset".
* Charts are Vega-Lite, drawn in the browser from locally served assets
  (``scripts/fetch_assets.sh``); new data replaces the datasets in place.

The model never imports this module; model state is read only through :mod:`sim.dashboard_data`.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import threading
import time
from pathlib import Path
from typing import Any

import ipyvuetify as v
import solara
import traitlets

from sim import dashboard_data as dd

log = logging.getLogger("sim.dashboard")
if not log.handlers:
    _h = logging.StreamHandler()
    _h.setFormatter(logging.Formatter("%(asctime)s sim.dashboard %(message)s"))
    log.addHandler(_h)
    log.setLevel(logging.INFO)
    log.propagate = False
logging.getLogger("MESA").setLevel(logging.WARNING)

STEPS = 120  # months a run lasts
BAND_SEEDS = 3  # background seeds per arm for the A/B bands
SPEEDS = [1, 2, 5, 10, 20, 50]  # simulated months per second
REDRAW_S = 0.25  # at most four redraws a second; the model keeps stepping in between
SLOW_S = 1.5  # background-seed bands and the network view redraw at most this often while running
ORPHAN_S = 15.0  # pause a run when no page has been connected for this long
RC_MODELS = ["none", "administrative", "subordinate", "municipal_rc", "public_development_centre"]
ARM_COLOURS = {"A": "#1f5fa8", "B": "#d95f02"}
FONT = 16  # smallest text on the page and in charts, px

# ------------------------------------------------------------------ texts
TEXT: dict[str, dict[str, str]] = {
    "ru": {
        "title": "Межсекторное партнёрство в социальной сфере",
        "scenario": "Сценарий",
        "question": "Вопрос",
        "watch": "Что смотреть",
        "rc": "Ресурсный центр НКО (РЦ)",
        "rc_tip": "РЦ — ресурсный центр: организация, которая обучает и консультирует НКО района. Варианты: нет; специалист администрации; подведомственное учреждение; муниципальный РЦ; центр общественного развития.",
        "cluster": "Семейный кластер",
        "cluster_tip": "Сеть организаций вокруг семейного ресурсного центра с «одним окном» для семей.",
        "launch": "Месяц запуска кластера",
        "grants": "Грантовый бюджет, × к сценарию",
        "trust": "Программа доверия (0–1)",
        "trust_tip": "Насколько кластер развивает культуру выполненных обещаний: 0 — никак, 1 — в полную силу.",
        "session": "Провести стратегическую сессию",
        "session_tip": "Власть, бизнес и НКО встречаются в этом месяце: знакомятся и предлагают совместные проекты.",
        "session_done": "Стратегическая сессия проведена в месяце {m}",
        "start": "Пуск",
        "pause": "Пауза",
        "step": "Шаг",
        "reset": "Сброс",
        "ab": "Сравнить с вариантом B",
        "ab_tip": "Второй вариант политики идёт рядом с тем же зерном случайности; полосы — разброс по ещё трём зёрнам.",
        "arm_a": "Вариант A",
        "arm_b": "Вариант B",
        "month": "Месяц",
        "of": "из",
        "speed": "Месяцев в секунду",
        "seed": "Зерно случайности",
        "changed": "Изменено: нажмите «Сброс», чтобы применить",
        "ended": "Прогон завершён на месяце {m}. Нажмите «Сброс» или выберите другой сценарий.",
        "preparing": "Готовим модель…",
        "results": "Результаты",
        "network": "Сеть",
        "by_muni": "По муниципалитетам",
        "presenter": "Режим показа",
        "controls": "Настройки",
        "fullscreen": "Во весь экран",
        "csv": "Данные (CSV)",
        "save": "Сохранить настройку",
        "load": "Перетащите сюда файл настройки (.json)",
        "loaded": "Настройка загружена: нажмите «Сброс»",
        "bad_setup": "Файл настройки не подошёл: {e}",
        "lang": "Язык",
        "reached": "Охват семей в трудной жизненной ситуации, %",
        "reached_short": "Семьи в трудной жизненной ситуации получили помощь",
        "wellbeing": "Благополучие семей, индекс 0–1",
        "trust_chart": "Доверие между секторами, 0–1",
        "trust_short": "Доверие НКО к администрации",
        "partnerships": "Действующие партнёрства, шт.",
        "partnerships_short": "Действующих партнёрств",
        "money": "Деньги НКО и центрам, млн руб. в месяц",
        "ngos": "Действующие НКО, шт.",
        "diff": "B − A",
        "events": "Отметки: пунктир — события (гранты, запуск кластера, сессии, шаги преобразования РЦ); наведите курсор, чтобы прочитать",
        "net_title": "Сеть доверия: точка — организация (размер — деньги на счёте), линия — личная связь",
        "muni_title": "Муниципалитеты: круг — район (размер — действующие партнёрства, цвет — доверие внутри района)",
        "net_legend": "Серые линии — доверие (толще — выше); цветные — партнёрства по формам; красный пунктир — разорванные с прошлого обновления связи.",
        "sector": "Сектор",
        "form": "Партнёрство",
        "muni": "Муниципалитет",
        "cash": "Деньги, млн руб.",
        "ties": "Связей",
        "n_partnerships": "Партнёрств",
        "ngos_n": "НКО",
        "trust_in": "Доверие внутри",
        "kind": "Событие",
    },
    "en": {
        "title": "Cross-sector partnerships in the social sphere",
        "scenario": "Scenario",
        "question": "Question",
        "watch": "What to watch",
        "rc": "NGO resource centre (RC)",
        "rc_tip": "RC: a resource centre that trains and advises the district's NGOs. Options: none; a specialist in the administration; a municipal institution; a municipal RC; a centre of public development.",
        "cluster": "Family cluster",
        "cluster_tip": "A network of organisations around a family resource centre with one-window access for families.",
        "launch": "Cluster launch month",
        "grants": "Grant budget, × scenario's",
        "trust": "Trust programme (0–1)",
        "trust_tip": "How strongly the cluster promotes a culture of kept promises: 0 = not at all, 1 = fully.",
        "session": "Hold a strategic session",
        "session_tip": "Government, business and NGOs meet this month: they get to know each other and propose joint projects.",
        "session_done": "Strategic session held in month {m}",
        "start": "Start",
        "pause": "Pause",
        "step": "Step",
        "reset": "Reset",
        "ab": "Compare with option B",
        "ab_tip": "A second policy runs alongside on the same random seed; bands show the spread over three more seeds.",
        "arm_a": "Option A",
        "arm_b": "Option B",
        "month": "Month",
        "of": "of",
        "speed": "Months per second",
        "seed": "Random seed",
        "changed": "Changed: press Reset to apply",
        "ended": "The run ended at month {m}. Press Reset or pick another scenario.",
        "preparing": "Preparing the model…",
        "results": "Results",
        "network": "Network",
        "by_muni": "By municipality",
        "presenter": "Presenter mode",
        "controls": "Settings",
        "fullscreen": "Full screen",
        "csv": "Data (CSV)",
        "save": "Save setup",
        "load": "Drop a setup file (.json) here",
        "loaded": "Setup loaded: press Reset",
        "bad_setup": "The setup file did not fit: {e}",
        "lang": "Language",
        "reached": "Families in difficulty reached, %",
        "reached_short": "Families in difficulty reached",
        "wellbeing": "Family wellbeing, index 0–1",
        "trust_chart": "Trust between sectors, 0–1",
        "trust_short": "Trust of NGOs in the administration",
        "partnerships": "Active partnerships, number",
        "partnerships_short": "Active partnerships",
        "money": "Money to NGOs and centres, mln roubles/month",
        "ngos": "NGOs working, number",
        "diff": "B − A",
        "events": "Markers: dashed lines are events (grants, cluster launch, sessions, RC transformation steps); hover to read them",
        "net_title": "Trust network: a dot is an organisation (size: money on its account), a line a personal tie",
        "muni_title": "Municipalities: a circle is a district (size: active partnerships, colour: trust inside it)",
        "net_legend": "Grey lines: trust (thicker = higher); coloured: partnerships by form; red dashes: ties broken since the last update.",
        "sector": "Sector",
        "form": "Partnership",
        "muni": "Municipality",
        "cash": "Money, mln roubles",
        "ties": "Ties",
        "n_partnerships": "Partnerships",
        "ngos_n": "NGOs",
        "trust_in": "Trust inside",
        "kind": "Event",
    },
}
RC_LABELS = {
    "ru": ["нет", "специалист администрации", "подведомственное учреждение", "муниципальный РЦ", "центр общественного развития"],
    "en": ["none", "specialist in the administration", "municipal institution", "municipal RC", "centre of public development"],
}
FORM_LABELS = {
    "ru": {"gov_business": "власть и бизнес", "business_ngo": "бизнес и НКО", "gov_ngo": "власть и НКО", "trilateral": "все три сектора"},
    "en": {"gov_business": "government–business", "business_ngo": "business–NGO", "gov_ngo": "government–NGO", "trilateral": "trilateral"},
}
FORM_COLOURS = ["#7570b3", "#e7298a", "#1b9e77", "#d95f02"]
SECTOR_LABELS = {
    "ru": ["региональная власть", "муниципальная власть", "бизнес", "НКО", "управляющая компания", "ресурсный центр"],
    "en": ["regional government", "municipal government", "business", "NGO", "management company", "resource centre"],
}
SECTOR_COLOURS = ["#08306b", "#4292c6", "#fd8d3c", "#31a354", "#969696", "#756bb1"]
MONEY_LABELS = {
    "ru": {"grants": "гранты", "social_order": "соцзаказ", "donations": "пожертвования", "partnerships": "партнёрства", "centres": "центры"},
    "en": {"grants": "grants", "social_order": "social order", "donations": "donations", "partnerships": "partnerships", "centres": "centres"},
}
MONEY_COLOURS = ["#1b9e77", "#7570b3", "#e6ab02", "#e7298a", "#66a61e"]
TRUST_LINES = {
    "ru": {"trust_ngo_gov": "НКО → администрация", "trust_gov_ngo": "администрация → НКО", "trust_ngo_business": "НКО → бизнес"},
    "en": {"trust_ngo_gov": "NGOs → administration", "trust_gov_ngo": "administration → NGOs", "trust_ngo_business": "NGOs → business"},
}
EVENT_LABELS = {
    "ru": {"grants": "грантовый конкурс", "launch": "запуск кластера", "session": "стратегическая сессия по плану",
           "held": "стратегическая сессия (ведущий)", "transform": "шаг преобразования РЦ"},
    "en": {"grants": "grant round", "launch": "cluster launch", "session": "scheduled strategic session",
           "held": "strategic session (trainer)", "transform": "RC transformation step"},
}  # fmt: skip
EVENT_COLOURS = {"grants": "#bdbdbd", "launch": "#d62728", "session": "#9467bd", "held": "#9467bd", "transform": "#8c564b"}
EXPORT_HEADERS = {
    "ru": {
        "scenario": "Сценарий", "arm": "Вариант", "rc_model": "Модель РЦ", "cluster": "Кластер", "launch_month": "Месяц запуска кластера",
        "grant_scale": "Грантовый бюджет, × к сценарию", "trust_programme": "Программа доверия, 0–1", "seed": "Зерно",
        "step": "Месяц", "wellbeing_mean": "Благополучие семей, индекс 0–1", "reached_pct": "Охват семей в трудной жизненной ситуации, %",
        "ngos_alive": "Действующие НКО, шт.", "trust_ngo_gov": "Доверие НКО к администрации, 0–1",
        "trust_gov_ngo": "Доверие администрации к НКО, 0–1", "trust_ngo_business": "Доверие НКО к бизнесу, 0–1",
        "ties_active": "Личные связи, шт.", "grants_awarded": "Гранты за месяц, шт.", "cluster_members": "Участники кластера, шт.",
        "rc_stage_mean": "Средний шаг преобразования РЦ, 0–4", "rc_public_development_centres": "Центры общественного развития, шт.",
        "partnerships_gov_business": "Партнёрства власти и бизнеса, шт.", "partnerships_business_ngo": "Партнёрства бизнеса и НКО, шт.",
        "partnerships_gov_ngo": "Партнёрства власти и НКО, шт.", "partnerships_trilateral": "Трёхсторонние партнёрства, шт.",
        "partnerships_total": "Действующие партнёрства, шт.", "money_grants": "Гранты, млн руб. в месяц",
        "money_social_order": "Соцзаказ, млн руб. в месяц", "money_donations": "Пожертвования, млн руб. в месяц",
        "money_partnerships": "Деньги партнёрств, млн руб. в месяц", "money_centres": "Деньги центров, млн руб. в месяц",
        "money_total": "Всего денег, млн руб. в месяц",
    },
    "en": {
        "grant_scale": "grant_budget_x_scenario", "trust_programme": "trust_programme_0_1", "step": "month",
        "wellbeing_mean": "wellbeing_index_0_1", "reached_pct": "families_in_difficulty_reached_pct",
        "ngos_alive": "ngos_alive_number", "ties_active": "ties_active_number",
        **{f"money_{k}": f"money_{k}_mln_rub_per_month" for k in ("grants", "social_order", "donations", "partnerships", "centres", "total")},
    },
}  # fmt: skip


def fmt(x: float, lang: str, digits: int = 0, sign: bool = False) -> str:
    """A number as a room reads it: thin-space thousands, decimal comma in Russian."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    x = round(float(x), digits) + 0.0  # no "-0"
    s = f"{x:+,.{digits}f}" if sign and x != 0 else f"{x:,.{digits}f}"
    s = s.replace(",", "\u2009")
    if lang == "ru":
        s = s.replace(".", ",").replace("-", "−")
    else:
        s = s.replace("-", "−")
    return s


# ------------------------------------------------------------------ charts
class VegaChart(v.VuetifyTemplate):
    """A Vega-Lite chart drawn in the browser; ``data`` replaces named datasets without re-embedding."""

    template_file = str(Path(__file__).with_name("vega_chart.vue"))
    spec = traitlets.Dict().tag(sync=True)
    datasets = traitlets.Dict().tag(sync=True)
    locale = traitlets.Dict(allow_none=True, default_value=None).tag(sync=True)
    chart_id = traitlets.Unicode("").tag(sync=True)
    cdn = traitlets.Unicode(None, allow_none=True).tag(sync=True)

    @traitlets.default("cdn")
    def _cdn(self) -> str | None:
        import solara.settings

        return None if solara.settings.assets.proxy else solara.settings.assets.cdn


class FullscreenButton(v.VuetifyTemplate):
    """Toggle the browser's full-screen mode."""

    label = traitlets.Unicode("").tag(sync=True)
    template = traitlets.Unicode(
        """<template><v-btn class="ctl-fullscreen" outlined @click="toggle">{{ label }}</v-btn></template>
<script>module.exports = { methods: { toggle() {
  if (document.fullscreenElement) { document.exitFullscreen(); } else { document.documentElement.requestFullscreen(); }
} } }</script>"""
    ).tag(sync=True)


RU_LOCALE = {"decimal": ",", "thousands": "\u2009", "grouping": [3], "currency": ["", " ₽"], "minus": "−"}
EN_LOCALE = {"decimal": ".", "thousands": ",", "grouping": [3], "currency": ["", " RUB"], "minus": "−"}  # Vega's locale is global
CONFIG = {
    "font": "Roboto, Arial, sans-serif",
    "axis": {"labelFontSize": FONT, "titleFontSize": FONT + 1, "titleFontWeight": "normal", "labelLimit": 400, "grid": True},
    "legend": {"labelFontSize": FONT, "titleFontSize": FONT, "labelLimit": 600, "orient": "top", "symbolSize": 200, "columnPadding": 16,
               "symbolOpacity": 1},
    "title": {"fontSize": FONT + 4, "anchor": "start", "limit": 0, "fontWeight": "bold"},
    "text": {"fontSize": FONT},
    "view": {"stroke": None},
}


def _x(lang: str) -> dict[str, Any]:
    return {
        "field": "m",
        "type": "quantitative",
        "title": TEXT[lang]["month"],
        "scale": {"domain": [0, STEPS], "nice": False},
        "axis": {"values": list(range(0, STEPS + 1, 12)), "format": "d"},
    }


def _events_layer(lang: str) -> dict[str, Any]:
    tx = TEXT[lang]
    return {
        "data": {"name": "events"},
        "mark": {"type": "rule", "strokeDash": [6, 4], "strokeWidth": 2},
        "encoding": {
            "x": {"field": "m", "type": "quantitative"},
            "color": {"field": "c", "type": "nominal", "scale": None, "legend": None},
            "tooltip": [{"field": "m", "title": tx["month"]}, {"field": "label", "title": tx["kind"]}],
        },
    }


def line_spec(title: str, ytitle: str, domain: list[float], series: list[tuple[str, str]], lang: str,
              integer: bool = False, stacked: bool = False, pct: bool = False) -> dict[str, Any]:  # fmt: skip
    """A line (or stacked area) chart over months with fixed axes, event markers and seed bands.

    Args:
        title: Chart title.
        ytitle: Y-axis title with units.
        domain: Fixed y range.
        series: ``(label, colour)`` of the lines, in legend order.
        lang: Language.
        integer: Counts: whole-number ticks.
        stacked: Stacked areas instead of lines.
        pct: Values are percentages.
    """
    tx = TEXT[lang]
    labels, colours = [s[0] for s in series], [s[1] for s in series]
    yfmt = "d" if integer else (".0f" if pct else ".2~f")
    y = {"field": "v", "type": "quantitative", "title": ytitle, "scale": {"domain": domain, "nice": False, "zero": False},
         "axis": {"format": yfmt, "tickMinStep": 1 if integer else None, "tickCount": 6}}  # fmt: skip
    if y["axis"]["tickMinStep"] is None:
        del y["axis"]["tickMinStep"]
    colour = {"field": "s", "type": "nominal", "title": None, "scale": {"domain": labels, "range": colours},
              "legend": {"orient": "top", "columns": 2, "title": None} if len(series) > 1 else None, "sort": labels}  # fmt: skip
    tooltip = [{"field": "s", "title": " "}, {"field": "m", "title": tx["month"]}, {"field": "v", "title": ytitle, "format": ",.2~f"}]
    layers: list[dict[str, Any]] = [
        {
            "data": {"name": "band"},
            "mark": {"type": "area", "opacity": 0.18},
            "encoding": {"x": _x(lang), "y": {**y, "field": "lo"}, "y2": {"field": "hi"}, "color": colour},
        },
        _events_layer(lang),
    ]
    if stacked:
        layers.append({
            "data": {"name": "line"},
            "mark": {"type": "area", "opacity": 0.85, "line": {"strokeWidth": 1}},
            "encoding": {"x": _x(lang), "y": {**y, "stack": "zero"}, "color": colour, "order": {"field": "o"}, "tooltip": tooltip},
        })  # fmt: skip
    else:
        layers.append({
            "data": {"name": "line"},
            "mark": {"type": "line", "strokeWidth": 3.5, "point": False},
            "encoding": {"x": _x(lang), "y": y, "color": colour, "tooltip": tooltip},
        })  # fmt: skip
        layers.append({  # hover dots along every line; the current month as a visible dot
            "data": {"name": "line"},
            "mark": {"type": "point", "size": 90, "filled": True},
            "encoding": {"x": _x(lang), "y": y, "color": colour, "tooltip": tooltip,
                         "opacity": {"condition": {"test": "datum.last", "value": 1}, "value": 0}},
        })  # fmt: skip
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "width": "container",
        "height": "container",
        "autosize": {"type": "fit", "contains": "padding"},
        "title": {"text": wrap(title, 34)},
        "layer": layers,
        "config": CONFIG,
    }


def network_spec(lang: str, narrow: bool = False) -> dict[str, Any]:
    """Trust network: ties by trust, partnerships by form, broken ties, nodes by sector and money; zoom and hover."""
    tx = TEXT[lang]
    forms = list(FORM_LABELS[lang].values())
    sectors = SECTOR_LABELS[lang]
    xs = {"field": "x", "type": "quantitative", "axis": None, "scale": {"domain": [-1.1, 1.1]}}
    ys = {"field": "y", "type": "quantitative", "axis": None, "scale": {"domain": [-1.1, 1.1]}}
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "width": "container",
        "height": "container",
        "autosize": {"type": "fit", "contains": "padding"},
        "title": tx["net_title"],
        "layer": [
            {"data": {"name": "ties"}, "mark": {"type": "rule", "color": "#8c8c8c"},
             "encoding": {"x": xs, "y": ys, "x2": {"field": "x2"}, "y2": {"field": "y2"},
                          "opacity": {"field": "trust", "type": "quantitative", "scale": {"domain": [0, 1], "range": [0.05, 0.6]}, "legend": None},
                          "strokeWidth": {"field": "trust", "type": "quantitative", "scale": {"domain": [0, 1], "range": [0.3, 3]}, "legend": None}}},
            {"data": {"name": "broken"}, "mark": {"type": "rule", "color": "#e41a1c", "strokeDash": [4, 3], "strokeWidth": 2, "opacity": 0.8},
             "encoding": {"x": xs, "y": ys, "x2": {"field": "x2"}, "y2": {"field": "y2"}}},
            {"data": {"name": "partners"}, "mark": {"type": "rule", "strokeWidth": 4, "opacity": 0.9},
             "encoding": {"x": xs, "y": ys, "x2": {"field": "x2"}, "y2": {"field": "y2"},
                          "color": {"field": "f", "type": "nominal", "title": tx["form"], "scale": {"domain": forms, "range": FORM_COLOURS},
                                    "legend": {"orient": "bottom", "direction": "horizontal", "columns": 2 if narrow else 4}},
                          "tooltip": [{"field": "f", "title": tx["form"]}]}},
            {"data": {"name": "nodes"}, "mark": {"type": "circle", "opacity": 0.95, "stroke": "white", "strokeWidth": 1},
             "params": [{"name": "zoom", "select": "interval", "bind": "scales"}],
             "encoding": {"x": xs, "y": ys,
                          "size": {"field": "size", "type": "quantitative", "scale": {"domain": [0, 4], "range": [40, 900]}, "legend": None},
                          "color": {"field": "sector", "type": "nominal", "title": tx["sector"], "scale": {"domain": sectors, "range": SECTOR_COLOURS},
                                    "legend": {"orient": "top", "direction": "horizontal", "columns": 2 if narrow else 3}},
                          "tooltip": [{"field": "sector", "title": tx["sector"]}, {"field": "muni", "title": tx["muni"]},
                                      {"field": "cash", "title": tx["cash"], "format": ",.2f"}, {"field": "ties", "title": tx["ties"]},
                                      {"field": "partnerships", "title": tx["n_partnerships"]}]}},
        ],
        "resolve": {"scale": {"color": "independent", "size": "independent", "opacity": "independent", "strokeWidth": "independent"}},
        "config": CONFIG,
    }  # fmt: skip


def muni_spec(lang: str, pmax: float) -> dict[str, Any]:
    """Municipal aggregate: a circle per municipality, ties between municipalities."""
    tx = TEXT[lang]
    xs = {"field": "x", "type": "quantitative", "axis": None, "scale": {"domain": [-1.2, 1.2]}}
    ys = {"field": "y", "type": "quantitative", "axis": None, "scale": {"domain": [-1.2, 1.2]}}
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "width": "container",
        "height": "container",
        "autosize": {"type": "fit", "contains": "padding"},
        "title": tx["muni_title"],
        "layer": [
            {"data": {"name": "mties"}, "mark": {"type": "rule", "color": "#8c8c8c", "opacity": 0.5},
             "encoding": {"x": xs, "y": ys, "x2": {"field": "x2"}, "y2": {"field": "y2"},
                          "strokeWidth": {"field": "n", "type": "quantitative", "scale": {"range": [1, 8]}, "legend": None}}},
            {"data": {"name": "mnodes"}, "mark": {"type": "circle", "opacity": 0.9, "stroke": "#333"},
             "encoding": {"x": xs, "y": ys,
                          "size": {"field": "partnerships", "type": "quantitative", "scale": {"domain": [0, max(pmax, 1)], "range": [80, 2500]},
                                   "title": tx["n_partnerships"], "legend": None},
                          "color": {"field": "trust", "type": "quantitative", "title": tx["trust_in"], "scale": {"domain": [0, 1], "scheme": "redyellowgreen"},
                                    "legend": {"orient": "top", "gradientLength": 300}},
                          "tooltip": [{"field": "muni", "title": tx["muni"]}, {"field": "partnerships", "title": tx["n_partnerships"]},
                                      {"field": "ngos", "title": tx["ngos_n"]}, {"field": "trust", "title": tx["trust_in"], "format": ".2f"},
                                      {"field": "ties", "title": tx["ties"]}]}},
            {"data": {"name": "mnodes"}, "mark": {"type": "text", "fontSize": FONT, "dy": 0, "fontWeight": "bold"},
             "encoding": {"x": xs, "y": ys, "text": {"field": "muni"}}},
        ],
        "resolve": {"scale": {"size": "independent", "strokeWidth": "independent"}},
        "config": CONFIG,
    }  # fmt: skip


def wrap(text: str, width: int) -> list[str]:
    """Split a chart title into lines of at most ``width`` characters (Vega does not wrap titles)."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def nice_ceiling(x: float, floor: float) -> float:
    """A round upper bound >= x (1, 2, 2.5, 5 x 10^k), at least ``floor``."""
    x = max(x, floor)
    e = 10 ** math.floor(math.log10(x))
    for f in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if f * e >= x:
            return f * e
    return 10 * e


# ------------------------------------------------------------------ runner
@dataclasses.dataclass(frozen=True)
class Setup:
    """What a Reset builds: scenario, the levers of A and B, A/B on or off, seed."""

    scenario: str
    a: dd.Policy
    b: dd.Policy
    ab: bool
    seed: int

    def to_json(self, speed: int, lang: str) -> str:
        """The setup as a file a trainer can save and load."""
        d = {"scenario": self.scenario, "a": dataclasses.asdict(self.a), "b": dataclasses.asdict(self.b), "ab": self.ab,
             "seed": self.seed, "speed": speed, "lang": lang}  # fmt: skip
        return json.dumps(d, ensure_ascii=False, indent=2)

    @staticmethod
    def from_json(text: str) -> tuple[Setup, int, str]:
        """Read a saved setup; ValueError names the bad key."""
        try:
            d = json.loads(text)
        except json.JSONDecodeError as e:
            raise ValueError(f"not JSON ({e.msg})") from None
        if not isinstance(d, dict):
            raise ValueError("not a setup object")
        keys = dd.scenario_keys()
        if d.get("scenario") not in keys:
            raise ValueError(f"scenario={d.get('scenario')!r}: allowed values {', '.join(keys)}")

        def pol(name: str) -> dd.Policy:
            p = d.get(name, {})
            if not isinstance(p, dict) or set(p) - {f.name for f in dataclasses.fields(dd.Policy)}:
                raise ValueError(f"{name}: allowed keys rc, cluster, launch, grants, trust")
            if p.get("rc", "none") not in RC_MODELS:
                raise ValueError(f"{name}.rc={p.get('rc')!r}: allowed values {', '.join(RC_MODELS)}")
            pp = dd.Policy(**p)
            if not (0 <= int(pp.launch) <= STEPS and 0 <= float(pp.grants) <= 3 and 0 <= float(pp.trust) <= 1):
                raise ValueError(f"{name}: launch 0..{STEPS}, grants 0..3, trust 0..1")
            return pp

        seed = d.get("seed", 1)
        if not isinstance(seed, int) or seed < 0:
            raise ValueError("seed: a whole number >= 0")
        speed = d.get("speed", 10)
        if speed not in SPEEDS:
            raise ValueError(f"speed={speed!r}: allowed values {', '.join(map(str, SPEEDS))}")
        lang = d.get("lang", "ru")
        if lang not in TEXT:
            raise ValueError(f"lang={lang!r}: allowed values ru, en")
        return Setup(d["scenario"], pol("a"), pol("b"), bool(d.get("ab", False)), seed), speed, lang


def default_setup(key: str, seed: int = 1, ab: bool = False) -> Setup:
    """A scenario's own levers for A; for B, the same with a municipal RC (or a cluster if A has one)."""
    a = dd.Policy.of(dd.scenario(key).cfg)
    b = dataclasses.replace(a, rc="municipal_rc") if a.rc != "municipal_rc" else dataclasses.replace(a, cluster=True)
    return Setup(key, a, b, ab, seed)


class Runner:
    """One browser session's models, stepped by one background thread.

    The page never steps or builds a model itself: it calls the methods below (which only
    set flags under a lock) and renders :attr:`snapshot`.

    Args:
        notify: Called (outside the lock) after every new snapshot; the page re-renders.
        alive: Returns False when no page has been connected for a while (the run pauses).
    """

    def __init__(self, notify: Any, alive: Any = None) -> None:
        self.notify = notify
        self.alive = alive or (lambda: True)
        self.lock = threading.RLock()
        self.wake = threading.Event()
        self.closed = threading.Event()
        self.setup = default_setup("volgograd" if "volgograd" in dd.scenario_keys() else "baseline")
        self.want: Setup | None = self.setup  # a build to do
        self.models: dict[str, Any] = {}
        self.bands: dict[str, list[Any]] = {}
        self.held: list[int] = []  # months the trainer held a session
        self.nets: dict[str, dd.Network] = {}
        self.playing = False
        self.speed = 10
        self.show_network = False
        self.network_muni = False
        self.message = ""
        self.message_until = 0.0
        self.snapshot: dict[str, Any] = {"ready": False, "month": 0}
        self.ceil: dict[str, float] = {}
        self.steps_done = 0
        self._slow_at = 0.0
        self._next_step = 0.0
        self.thread = threading.Thread(target=self._loop, name="dashboard-runner", daemon=True)
        self.thread.start()

    # ---------------------------------------------------------- commands
    def reset(self, setup: Setup) -> None:
        """Rebuild from ``setup`` at month 0 (in the runner thread)."""
        with self.lock:
            self.want = setup
            self.playing = False
        self.wake.set()

    def set_ab(self, on: bool, b: dd.Policy) -> None:
        """Add (or drop) arm B without resetting A: B catches up to the current month."""
        with self.lock:
            self.setup = dataclasses.replace(self.setup, ab=on, b=b if on else self.setup.b)
            if not on:
                self.models.pop("B", None)
                self.bands.pop("B", None)
        self.wake.set()

    def play(self, on: bool) -> None:
        """Start or pause."""
        with self.lock:
            if on and self.snapshot.get("ended"):
                return
            self.playing = on
            self._next_step = time.perf_counter()
            self._publish_locked()  # the button flips to Start/Pause now
        self.notify()
        self.wake.set()

    def step(self) -> None:
        """One month now (when paused)."""
        with self.lock:
            self.playing = False
            self._step_locked()
            self._publish_locked()
        self.notify()

    def session_now(self) -> None:
        """A strategic session in every model at the current month."""
        with self.lock:
            m = self.snapshot.get("month", 0)
            for model in self._all_models():
                dd.session_now(model)
            self.held.append(m)
            self.message = "session"
            self.message_until = time.time() + 4.0
            self._publish_locked()
        self.notify()

    def set_speed(self, speed: int) -> None:
        """Simulated months per second while running."""
        with self.lock:
            self.speed = int(speed)
        self.wake.set()

    def set_view(self, network: bool, muni: bool) -> None:
        """Compute network data only while the network is on screen."""
        with self.lock:
            self.show_network, self.network_muni = network, muni
            self._publish_locked()
        self.notify()

    def close(self, reason: str = "tab closed") -> None:
        """Stop the thread for good."""
        if not self.closed.is_set():
            log.info("run stopped (%s) at month %s", reason, self.snapshot.get("month"))
        self.closed.set()
        self.wake.set()

    # ---------------------------------------------------------- thread
    def _all_models(self) -> list[Any]:
        return [*self.models.values(), *(m for bs in self.bands.values() for m in bs)]

    def _new_model(self, policy: dd.Policy, seed: int, upto: int) -> Any:
        from sim.model import CrossSectorModel

        model = CrossSectorModel(dd.build_config(self.setup.scenario, policy, seed, STEPS))
        held = list(self.held)
        while dd.month(model) < upto:
            if dd.month(model) in held:
                dd.session_now(model)
            model.step()
        return model

    def _loop(self) -> None:
        last_pub = 0.0
        since_pub = 0
        last_check = time.time()
        while not self.closed.is_set():
            if self.playing and time.time() - last_check > 1.0:
                last_check = time.time()
                if not self.alive():
                    with self.lock:
                        self.playing = False
                    log.info("run paused: no page connected")
            try:
                work = self._work()
            except Exception:  # noqa: BLE001 - keep the session alive and say so
                log.exception("dashboard runner failed")
                with self.lock:
                    self.playing = False
                    self.message = "error"
                    self.message_until = time.time() + 10
                work = "published"
            if work == "published":
                self.notify()
                last_pub, since_pub = time.time(), 0
                continue
            if work == "stepped":
                since_pub += 1
                now = time.time()
                if now - last_pub >= REDRAW_S or self.snapshot.get("ended_now"):
                    with self.lock:
                        self._publish_locked()
                    self.notify()
                    last_pub, since_pub = time.time(), 0
                continue
            expired = self.snapshot.get("message") and time.time() >= self.message_until
            if since_pub or expired:
                with self.lock:
                    self._publish_locked()
                self.notify()
                last_pub, since_pub = time.time(), 0
            self.wake.wait(0.5)
            self.wake.clear()

    def _work(self) -> str:
        """Do one piece of work; say what was done."""
        with self.lock:
            if self.want is not None:
                self.setup, self.want = self.want, None
                self.snapshot = {"ready": False, "month": 0}
                self.models, self.bands, self.held, self.nets, self.ceil = {}, {}, [], {}, {}
                self.models["A"] = self._new_model(self.setup.a, self.setup.seed, 0)
                self._publish_locked()
                return "published"
            month = dd.month(self.models["A"])
            built = ""
            if self.setup.ab and "B" not in self.models:
                self.models["B"] = self._new_model(self.setup.b, self.setup.seed, month)
                built = "published"
            elif self.setup.ab:
                for arm in ("A", "B"):
                    bs = self.bands.setdefault(arm, [])
                    if len(bs) < BAND_SEEDS:
                        pol = self.setup.a if arm == "A" else self.setup.b
                        bs.append(self._new_model(pol, self.setup.seed + 1000 * (len(bs) + 1), month))
                        built = "published" if arm == "B" and len(bs) == BAND_SEEDS else "built"
                        break
            if not self.playing:
                if built == "published":
                    self._publish_locked()
                return built or "idle"
            self._step_locked()
            speed = self.speed
        # pace by the clock: redraws between steps do not slow the run down
        now = time.perf_counter()
        self._next_step = max(self._next_step + 1.0 / speed, now - 0.5)
        wait = self._next_step - now
        if wait > 0:
            time.sleep(wait)
        return "stepped"

    def _step_locked(self) -> None:
        if not self.models or dd.month(self.models["A"]) >= STEPS:
            self.playing = False
            return
        for model in self._all_models():
            if dd.month(model) < STEPS:
                model.step()
        self.steps_done += 1
        if dd.month(self.models["A"]) >= STEPS:
            self.playing = False
            self.snapshot["ended_now"] = True
            log.info("run ended at month %d", STEPS)

    def _publish_locked(self) -> None:
        """Build what the page shows from the models (under the lock)."""
        if "A" not in self.models:
            return
        a = self.models["A"]
        month = dd.month(a)
        snap: dict[str, Any] = {"ready": True, "month": month, "ended": month >= STEPS, "setup": self.setup,
                                "playing": self.playing, "bands_ready": False}  # fmt: skip
        ts = {arm: m.timeseries() for arm, m in self.models.items()}
        snap["series"] = {arm: dd.series(m, ts[arm]) for arm, m in self.models.items()}
        snap["head"] = {arm: dd.headline(m, ts[arm]) for arm, m in self.models.items()}
        snap["events"] = dd.events(a, self.held, ts["A"])
        now = time.time()
        old = self.snapshot
        slow_ok = not self.playing or now - self._slow_at >= SLOW_S or old.get("month") is None
        if self.setup.ab and all(len(self.bands.get(arm, [])) == BAND_SEEDS for arm in self.models):
            if slow_ok or "bands" not in old:  # the background seeds: redrawn about once a second while running
                snap["bands"] = {arm: [snap["series"][arm], *(dd.series(x) for x in self.bands[arm])] for arm in self.models}
            else:
                snap["bands"] = old["bands"]
            snap["bands_ready"] = True
        if self.show_network:  # the network: about once a second and a half while running (layout costs)
            key = "muni" if self.network_muni else "net"
            if slow_ok or key not in old or set(old[key]) != set(self.models):
                if self.network_muni:
                    snap["muni"] = {arm: dd.municipal_view(m) for arm, m in self.models.items()}
                else:
                    snap["net"] = {arm: self.nets.setdefault(arm, dd.Network.new()).view(m) for arm, m in self.models.items()}
            else:
                snap[key] = old[key]
        if slow_ok:
            self._slow_at = now
        snap["message"] = self.message if time.time() < self.message_until else ""
        snap["held_month"] = self.held[-1] if self.held else None
        for key, col, floor in (("partnerships", "partnerships_total", 10), ("money", "money_total", 1), ("ngos", "ngos_alive", 10)):
            top = max(float(s[col].max()) for s in snap["series"].values())
            if "bands" in snap:
                top = max(top, *(float(x[col].max()) for bs in snap["bands"].values() for x in bs))
            if top > self.ceil.get(key, 0.0) * 0.95:
                self.ceil[key] = nice_ceiling(top * 1.25, floor)
        snap["ceil"] = dict(self.ceil)
        self.snapshot = snap


# ------------------------------------------------------------------ page state (one copy per browser session)
lang = solara.reactive("ru")
ui: solara.Reactive[Setup | None] = solara.reactive(None)
view = solara.reactive("results")
muni_view = solara.reactive(False)
presenter = solara.reactive(False)
speed = solara.reactive(10)
tick = solara.reactive(0)
note = solara.reactive("")
_RUNNERS: dict[str, Runner] = {}
_RUNNERS_LOCK = threading.Lock()


def get_runner() -> Runner:
    """The runner of this browser session (created on first use, stopped when the session closes)."""
    from solara.server import kernel_context

    ctx = kernel_context.get_current_context()
    with _RUNNERS_LOCK:
        r = _RUNNERS.get(ctx.id)
        if r is not None:
            return r

        def notify() -> None:
            if ctx.closed_event.is_set():
                return
            t0 = time.perf_counter()
            with ctx:
                tick.value += 1
            renders.append(time.perf_counter() - t0)
            if len(renders) == 40:
                log.info("page redraw (server side): median %.0f ms", 1e3 * sorted(renders)[20])
                renders.clear()

        renders: list[float] = []

        orphan = {"since": None}

        def alive() -> bool:
            connected = any(s == kernel_context.PageStatus.CONNECTED for s in ctx.page_status.values())
            if connected or not ctx.page_status:
                orphan["since"] = None
                return True
            orphan["since"] = orphan["since"] or time.time()
            return time.time() - orphan["since"] < ORPHAN_S

        r = Runner(notify, alive)
        _RUNNERS[ctx.id] = r

        def on_close() -> None:
            r.close("tab closed")
            with _RUNNERS_LOCK:
                _RUNNERS.pop(ctx.id, None)

        ctx.on_close(on_close)
        return r


def active_runners() -> int:
    """Runners with a live thread (the tests check a closed tab leaves none behind)."""
    return sum(1 for r in _RUNNERS.values() if not r.closed.is_set())


CSS = f"""
html, body, .v-application {{ font-size: {FONT}px !important; }}
.v-application .v-btn {{ font-size: {FONT}px !important; text-transform: none !important; letter-spacing: normal; }}
.v-application .v-label, .v-application .v-input, .v-application .v-select__selection,
.v-application .v-list-item__title, .v-application .v-slider__thumb-label, .v-application input {{ font-size: {FONT}px !important; }}
.v-slider__thumb-label span {{ font-size: {FONT - 2}px; }}
.dash-root {{ display: flex; flex-direction: row; width: 100vw; height: 100vh; overflow: hidden; background: white; }}
.dash-side {{ width: 400px; min-width: 400px; height: 100vh; overflow-y: auto; padding: 12px 16px; border-right: 1px solid #ddd; box-sizing: border-box; }}
.dash-main {{ flex: 1 1 auto; min-width: 0; height: 100vh; overflow-y: auto; display: flex; flex-direction: column; padding: 8px 16px; box-sizing: border-box; }}
.dash-top {{ display: flex; flex-wrap: wrap; align-items: center; gap: 8px 12px; }}
.dash-title {{ font-size: 26px; font-weight: bold; line-height: 1.2; margin-right: 12px; }}
.dash-month {{ font-size: 28px; font-weight: bold; white-space: nowrap; }}
.dash-scn {{ font-size: {FONT + 2}px; line-height: 1.3; margin: 2px 0; }}
.dash-heads {{ display: flex; flex-wrap: wrap; gap: 8px 28px; margin: 4px 0; }}
.dash-head {{ display: flex; flex-direction: column; }}
.dash-head .num {{ font-size: 34px; font-weight: bold; line-height: 1.1; }}
.dash-head .lbl {{ font-size: {FONT}px; color: #444; }}
.dash-head .diff {{ font-size: {FONT + 2}px; font-weight: bold; }}
.dash-banner {{ font-size: {FONT + 2}px; padding: 6px 12px; border-radius: 4px; margin: 2px 0; }}
.dash-banner.warn {{ background: #fff3cd; color: #6b4e00; }}
.dash-banner.ok {{ background: #d4edda; color: #155724; }}
.dash-banner.info {{ background: #e2e3f5; color: #222; }}
.dash-grid {{ flex: 1 1 auto; min-height: 0; display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); grid-auto-rows: minmax(300px, 1fr); gap: 10px 18px; }}
.dash-grid.two {{ grid-template-columns: repeat(2, minmax(0, 1fr)); }}
.dash-cell {{ min-height: 300px; min-width: 0; position: relative; }}
.dash-cell > div, .dash-cell .vchart {{ height: 100%; }}
.dash-net {{ flex: 1 1 auto; min-height: 0; display: grid; grid-auto-flow: column; grid-auto-columns: minmax(0, 1fr); gap: 12px; }}
.dash-note {{ font-size: {FONT}px; color: #333; line-height: 1.3; }}
.scenario-btn {{ height: auto !important; min-height: 40px; padding: 6px 10px !important; width: 100%; justify-content: flex-start !important; margin: 2px 0; }}
.scenario-btn .v-btn__content {{ white-space: normal; text-align: left; flex: 1 1 auto; line-height: 1.25; }}
.dash-side h3 {{ font-size: {FONT + 2}px; margin: 10px 0 4px; }}
.vega-embed .vega-actions a {{ font-size: {FONT}px; }}
.vg-tooltip {{ font-size: {FONT}px !important; }}
.vg-tooltip td {{ font-size: {FONT}px !important; }}
@media (max-width: 1500px) {{ .dash-side {{ width: 340px; min-width: 340px; }} .dash-grid {{ grid-template-columns: repeat(2, minmax(0, 1fr)); }} }}
"""


# ------------------------------------------------------------------ components
def _apply_ab(runner: Runner, s: Setup, on: bool) -> None:
    ui.value = dataclasses.replace(s, ab=on)
    runner.set_ab(on, s.b)


@solara.component
def PolicyControls(runner: Runner, which: str, tx: dict[str, str], lg: str) -> None:
    """The levers of one arm."""
    s = ui.value or runner.setup
    p = s.a if which == "a" else s.b

    def set_(**kw: Any) -> None:
        cur = ui.value or runner.setup
        pol = dataclasses.replace(cur.a if which == "a" else cur.b, **kw)
        ui.value = dataclasses.replace(cur, **{which: pol})

    labels = RC_LABELS[lg]
    solara.Select(label=tx["rc"], values=labels, value=labels[RC_MODELS.index(p.rc)], on_value=lambda val: set_(rc=RC_MODELS[labels.index(val)]),
                  classes=[f"ctl-rc-{which}"])  # fmt: skip
    solara.Switch(label=tx["cluster"], value=p.cluster, on_value=lambda val: set_(cluster=val), classes=[f"ctl-cluster-{which}"])
    with solara.Div(classes=[f"ctl-launch-{which}"]):
        solara.SliderInt(tx["launch"], value=p.launch, min=0, max=60, on_value=lambda val: set_(launch=val), thumb_label="always")
    # decimals in the label, written the room's way ("0,5" in Russian); the thumb would show "0.5"
    with solara.Div(classes=[f"ctl-grants-{which}"]):
        solara.SliderFloat(f"{tx['grants']}: {fmt(p.grants, lg, 1)}", value=p.grants, min=0.0, max=3.0, step=0.1,
                           on_value=lambda val: set_(grants=round(val, 2)), thumb_label=False)  # fmt: skip
    with solara.Div(classes=[f"ctl-trust-{which}"]):
        solara.SliderFloat(f"{tx['trust']}: {fmt(p.trust, lg, 1)}", value=p.trust, min=0.0, max=1.0, step=0.1,
                           on_value=lambda val: set_(trust=round(val, 2)), thumb_label=False)  # fmt: skip


@solara.component
def Sidebar(runner: Runner) -> None:
    """Scenario, levers, A/B, seed, speed, save/load."""
    lg = lang.value
    tx = TEXT[lg]
    s = ui.value or runner.setup
    with solara.Div(classes=["dash-side"]):
        solara.ToggleButtonsSingle(value=lg, values=["ru", "en"], on_value=lambda val: lang.set(val), classes=["ctl-lang"])
        solara.HTML(tag="h3", unsafe_innerHTML=tx["scenario"])
        for key in dd.scenario_keys():

            def choose(key: str = key) -> None:
                new = default_setup(key, seed=s.seed, ab=s.ab)
                ui.value = new
                runner.reset(new)

            solara.Button(dd.scenario(key).text("title", lg), on_click=choose, text=key != s.scenario, outlined=key == s.scenario,
                          color="primary", classes=["scenario-btn", f"scenario-{key}"])  # fmt: skip
        solara.HTML(tag="h3", unsafe_innerHTML=tx["arm_a"] if s.ab else tx["controls"])
        solara.HTML(tag="div", unsafe_innerHTML=tx["rc_tip"], classes=["dash-note"])
        PolicyControls(runner, "a", tx, lg)
        with solara.Div(classes=["ctl-ab"]):
            solara.Checkbox(label=tx["ab"], value=s.ab, on_value=lambda on: _apply_ab(runner, ui.value or runner.setup, on))
        solara.HTML(tag="div", unsafe_innerHTML=tx["ab_tip"], classes=["dash-note"])
        if s.ab:
            solara.HTML(tag="h3", unsafe_innerHTML=tx["arm_b"])
            PolicyControls(runner, "b", tx, lg)
        solara.InputInt(tx["seed"], value=s.seed, on_value=lambda val: ui.set(dataclasses.replace(ui.value or runner.setup, seed=max(int(val or 0), 0))),
                        continuous_update=False, classes=["ctl-seed"])  # fmt: skip
        solara.FileDownload(lambda: s.to_json(speed.value, lg).encode(), filename=f"setup_{s.scenario}.json", label=tx["save"])

        def load(f: dict[str, Any]) -> None:
            try:
                new, sp, lgg = Setup.from_json(f["data"].decode("utf-8"))
            except (ValueError, TypeError, UnicodeDecodeError) as e:
                note.value = TEXT[lang.value]["bad_setup"].format(e=e)
                return
            ui.value = new
            speed.value = sp
            runner.set_speed(sp)
            lang.value = lgg
            note.value = TEXT[lgg]["loaded"]

        solara.FileDrop(label=tx["load"], on_file=load, lazy=False)


def _long(df: Any, cols: dict[str, str], arm_label: str | None = None) -> list[dict[str, Any]]:
    m = df["step"].to_numpy().tolist()
    rows = []
    for o, (col, label) in enumerate(cols.items()):
        vals = df[col].to_numpy().tolist()
        name = arm_label or label
        rows += [{"m": mm, "v": vv, "s": name, "o": o, "last": k == len(m) - 1} for k, (mm, vv) in enumerate(zip(m, vals, strict=True))]
    return rows


def chart_data(snap: dict[str, Any], lg: str) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """Spec and data of every chart for a snapshot."""
    tx = TEXT[lg]
    series = snap["series"]
    ab = len(series) > 1
    arms = {arm: tx["arm_a"] if arm == "A" else tx["arm_b"] for arm in series}
    events = [{"m": m, "kind": k, "label": EVENT_LABELS[lg][k], "c": EVENT_COLOURS[k]} for m, k in snap["events"]]
    ceil = snap["ceil"]
    charts: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}

    def bands(col: str, scale: float = 1.0) -> list[dict[str, Any]]:
        if "bands" not in snap:
            return []
        import numpy as np

        rows = []
        for arm, runs in snap["bands"].items():
            n = min(len(r) for r in runs)
            vals = np.stack([r[col].to_numpy()[:n] for r in runs]) * scale
            lo, hi = vals.min(axis=0).tolist(), vals.max(axis=0).tolist()
            steps = runs[0]["step"].to_numpy()[:n].tolist()
            rows += [{"m": m, "lo": a, "hi": b, "s": arms[arm]} for m, a, b in zip(steps, lo, hi, strict=True)]
        return rows

    def arm_lines(col: str, title: str, ytitle: str, domain: list[float], **kw: Any) -> None:
        rows = [r for arm, df in series.items() for r in _long(df, {col: arms[arm]}, arms[arm])]
        spec = line_spec(title, ytitle, domain, [(arms[a], ARM_COLOURS[a]) for a in series], lg, **kw)
        charts[col] = (spec, {"line": rows, "band": bands(col), "events": events})

    a = series["A"]
    arm_lines("reached_pct", tx["reached_short"], "%", [0, 100], pct=True)
    if ab:
        arm_lines("trust_ngo_gov", tx["trust_short"], "0–1", [0, 1])
        arm_lines("partnerships_total", tx["partnerships"], tx["partnerships"].split(",")[-1].strip(), [0, ceil.get("partnerships", 10)],
                  integer=True)  # fmt: skip
        arm_lines("money_total", tx["money"], tx["money"].split(",")[-1].strip(), [0, ceil.get("money", 1)])
    else:
        tl = TRUST_LINES[lg]
        spec = line_spec(tx["trust_chart"], "0–1", [0, 1], list(zip(tl.values(), ["#1f5fa8", "#6baed6", "#fd8d3c"], strict=True)), lg)
        charts["trust"] = (spec, {"line": _long(a, tl), "band": [], "events": events})
        fl = {f"partnerships_{k}": lab for k, lab in FORM_LABELS[lg].items()}
        spec = line_spec(tx["partnerships"], tx["partnerships"].split(",")[-1].strip(), [0, ceil.get("partnerships", 10)],
                         list(zip(fl.values(), FORM_COLOURS, strict=True)), lg, integer=True, stacked=True)  # fmt: skip
        charts["partnerships"] = (spec, {"line": _long(a, fl), "band": [], "events": events})
        ml = {f"money_{k}": lab for k, lab in MONEY_LABELS[lg].items()}
        spec = line_spec(tx["money"], tx["money"].split(",")[-1].strip(), [0, ceil.get("money", 1)],
                         list(zip(ml.values(), MONEY_COLOURS, strict=True)), lg, stacked=True)  # fmt: skip
        charts["money"] = (spec, {"line": _long(a, ml), "band": [], "events": events})
    arm_lines("wellbeing_mean", tx["wellbeing"], tx["wellbeing"].split(",")[-1].strip(), [0.5, 1.0])
    arm_lines("ngos_alive", tx["ngos"], tx["ngos"].split(",")[-1].strip(), [0, ceil.get("ngos", 10)], integer=True)
    return charts


@solara.component
def Chart(key: str, spec: dict[str, Any], data: dict[str, Any], lg: str) -> None:
    """One chart cell."""
    with solara.Div(classes=["dash-cell", f"chart-{key}"]):
        VegaChart.element(spec=spec, datasets=data, chart_id=key, locale=RU_LOCALE if lg == "ru" else EN_LOCALE)


@solara.component
def Headline(snap: dict[str, Any], tx: dict[str, str], lg: str) -> None:
    """Big numbers: families reached, partnerships, trust; in A/B the difference B - A."""
    heads = snap["head"]
    items = [("reached", tx["reached_short"], 0, " %"), ("partnerships", tx["partnerships_short"], 0, ""),
             ("trust", tx["trust_short"], 2, "")]  # fmt: skip
    html = ['<div class="dash-heads">']
    for key, label, digits, unit in items:
        if "B" in heads:
            a, b = heads["A"][key], heads["B"][key]
            d = round(b - a, digits)
            colour = "#1a7f37" if d > 0 else ("#b00020" if d < 0 else "#444")
            unit_d = " п. п." if (unit and lg == "ru") else (" pp" if unit else "")
            html.append(
                f'<div class="dash-head head-{key}"><span class="num"><span style="color:{ARM_COLOURS["A"]}">{fmt(a, lg, digits)}</span>'
                f' / <span style="color:{ARM_COLOURS["B"]}">{fmt(b, lg, digits)}</span>{unit}</span>'
                f'<span class="diff" style="color:{colour}">{tx["diff"]}: {fmt(d, lg, digits, sign=True)}{unit_d}</span>'
                f'<span class="lbl">{label}</span></div>'
            )
        else:
            html.append(f'<div class="dash-head head-{key}"><span class="num">{fmt(heads["A"][key], lg, digits)}{unit}</span>'
                        f'<span class="lbl">{label}</span></div>')  # fmt: skip
    html.append("</div>")
    if "B" in heads:
        setup = snap["setup"]

        def describe(p: dd.Policy) -> str:
            rc = RC_LABELS[lg][RC_MODELS.index(p.rc)]
            cl = f"{tx['cluster'].lower()} ({tx['launch'].lower()} {p.launch})" if p.cluster else ""
            gr = f"{tx['grants'].split(',')[0].lower()} × {fmt(p.grants, lg, 1)}" if p.grants != 1 else ""
            return ", ".join(x for x in (f"{tx['rc'].split('(')[0].strip()}: {rc}", cl, gr) if x)

        html.append(f'<div class="dash-note arms"><b style="color:{ARM_COLOURS["A"]}">{tx["arm_a"]}</b>: {describe(setup.a)}; '
                    f'<b style="color:{ARM_COLOURS["B"]}">{tx["arm_b"]}</b>: {describe(setup.b)}</div>')  # fmt: skip
    solara.HTML(tag="div", unsafe_innerHTML="".join(html))


@solara.component
def Page() -> None:
    """The dashboard page: the controls, and the live part (which alone redraws every few months)."""
    runner = get_runner()
    solara.Title(TEXT[lang.value]["title"])
    solara.Style(CSS)
    with solara.Div(classes=["dash-root"]):
        if not presenter.value:
            Sidebar(runner)
        Main(runner)


@solara.component
def Main(runner: Runner) -> None:
    """Top bar, scenario, banners, headline numbers and charts: re-rendered on every snapshot."""
    _ = tick.value
    lg = lang.value
    tx = TEXT[lg]
    snap = runner.snapshot
    s = ui.value or runner.setup  # until the trainer touches a control: what the runner builds
    applied = snap.get("setup")

    def start() -> None:
        runner.play(True)

    def reset() -> None:
        runner.reset(ui.value or runner.setup)
        note.value = ""

    with solara.Div(classes=["dash-main"]):
        month = snap.get("month", 0)
        with solara.Div(classes=["dash-top"]):
            solara.HTML(tag="span", unsafe_innerHTML=tx["title"], classes=["dash-title"])
            solara.HTML(tag="span", unsafe_innerHTML=f"{tx['month']} <span class='month'>{month}</span> {tx['of']} {STEPS}", classes=["dash-month"])
            if snap.get("playing"):
                solara.Button(tx["pause"], on_click=lambda: runner.play(False), color="primary", classes=["ctl-pause"])
            else:
                solara.Button(tx["start"], on_click=start, color="primary", disabled=bool(snap.get("ended")), classes=["ctl-start"])
            solara.Button(tx["step"], on_click=runner.step, outlined=True, disabled=bool(snap.get("ended")), classes=["ctl-step"])
            solara.Button(tx["reset"], on_click=reset, outlined=True, classes=["ctl-reset"])
            solara.Button(tx["session"], on_click=runner.session_now, outlined=True, color="deep-purple", classes=["ctl-session"])
            views = {tx["results"]: "results", tx["network"]: "network"}
            shown = next(k for k, val in views.items() if val == view.value)
            solara.ToggleButtonsSingle(value=shown, values=list(views), on_value=lambda val: (
                view.set(views[val]), runner.set_view(views[val] == "network", muni_view.value)), classes=["ctl-view"])  # fmt: skip
            with solara.Div(style={"width": "150px"}):
                solara.Select(label=tx["speed"], values=[str(x) for x in SPEEDS], value=str(speed.value),
                              on_value=lambda val: (speed.set(int(val)), runner.set_speed(int(val))), classes=["ctl-speed"])  # fmt: skip
            solara.Button(tx["controls"] if presenter.value else tx["presenter"], on_click=lambda: presenter.set(not presenter.value),
                          text=True, classes=["ctl-presenter"])  # fmt: skip
            FullscreenButton.element(label=tx["fullscreen"])
            if snap.get("ready"):
                _downloads(runner, snap, lg)
        scn = dd.scenario(applied.scenario if applied else s.scenario)
        solara.HTML(tag="div", classes=["dash-scn"], unsafe_innerHTML=(
            f"<b>{scn.text('title', lg)}.</b> {scn.text('about', lg)} <b>{tx['question']}:</b> {scn.text('question', lg)} "
            f"<b>{tx['watch']}:</b> {scn.text('watch', lg)}"))  # fmt: skip
        changed = applied is not None and (s.scenario, s.a, s.seed) != (applied.scenario, applied.a, applied.seed) or (
            applied is not None and s.ab and applied.ab and s.b != applied.b)  # fmt: skip
        if changed:
            solara.HTML(tag="div", unsafe_innerHTML=tx["changed"], classes=["dash-banner", "warn", "changed-banner"])
        if note.value:
            solara.HTML(tag="div", unsafe_innerHTML=note.value, classes=["dash-banner", "info"])
        if snap.get("message") == "session":
            solara.HTML(tag="div", unsafe_innerHTML=tx["session_done"].format(m=snap.get("held_month")),
                        classes=["dash-banner", "ok", "session-banner"])  # fmt: skip
        if snap.get("ended"):
            solara.HTML(tag="div", unsafe_innerHTML=tx["ended"].format(m=month), classes=["dash-banner", "info", "ended-banner"])
        if not snap.get("ready"):
            solara.HTML(tag="div", unsafe_innerHTML=tx["preparing"], classes=["dash-banner", "info"])
            return
        Headline(snap, tx, lg)
        if view.value == "results":
            charts = chart_data(snap, lg)
            with solara.Div(classes=["dash-grid"]):
                for key, (spec, data) in charts.items():
                    Chart(key, spec, data, lg)
            solara.HTML(tag="div", unsafe_innerHTML=tx["events"], classes=["dash-note"])
        else:
            with solara.Div(classes=["ctl-muni"]):
                solara.Checkbox(label=tx["by_muni"], value=muni_view.value, on_value=lambda on: (muni_view.set(on), runner.set_view(True, on)))
            with solara.Div(classes=["dash-net"]):
                for arm in snap["series"]:
                    label = tx["arm_a"] if arm == "A" else tx["arm_b"]
                    if muni_view.value and "muni" in snap:
                        d = snap["muni"][arm]
                        spec = muni_spec(lg, max((n["partnerships"] for n in d["mnodes"]), default=1))
                        ab = len(snap["series"]) > 1
                        spec["title"] = {"text": wrap((f"{label}: " if ab else "") + tx["muni_title"], 34 if ab else 60)}
                        Chart(f"muni-{arm}", spec, d, lg)
                    elif not muni_view.value and "net" in snap:
                        d = dict(snap["net"][arm])
                        d["nodes"] = [{**n, "sector": SECTOR_LABELS[lg][dd.SECTORS.index(n["sector"])]} for n in d["nodes"]]
                        d["partners"] = [{**p, "f": FORM_LABELS[lg][p["form"]]} for p in d["partners"]]
                        ab = len(snap["series"]) > 1
                        spec = network_spec(lg, narrow=ab)
                        spec["title"] = {"text": wrap((f"{label}: " if ab else "") + tx["net_title"], 34 if ab else 60)}
                        Chart(f"net-{arm}", spec, d, lg)
            solara.HTML(tag="div", unsafe_innerHTML=tx["net_legend"], classes=["dash-note"])


def _downloads(runner: Runner, snap: dict[str, Any], lg: str) -> None:
    tx = TEXT[lg]
    setup = snap["setup"]
    month = snap["month"]

    def csv() -> bytes:
        import pandas as pd

        with runner.lock:
            parts = []
            for arm, model in runner.models.items():
                p = setup.a if arm == "A" else setup.b
                meta = {"scenario": setup.scenario, "arm": arm, "rc_model": p.rc, "cluster": p.cluster, "launch_month": p.launch,
                        "grant_scale": p.grants, "trust_programme": p.trust, "seed": setup.seed}  # fmt: skip
                parts.append(dd.export_table(model, meta, EXPORT_HEADERS[lg]))
        df = pd.concat(parts, ignore_index=True)
        if lg == "ru":
            return df.to_csv(index=False, sep=";", decimal=",").encode("utf-8-sig")
        return df.to_csv(index=False).encode("utf-8")

    name = f"{setup.scenario}{'_ab' if len(snap['series']) > 1 else ''}_seed{setup.seed}_month{month:03d}.csv"
    solara.FileDownload(csv, filename=name, label=tx["csv"], children=[solara.Button(tx["csv"], outlined=True, classes=["ctl-csv"])])


def main() -> None:
    """Entry point of ``sim-dashboard``: serve this page with Solara, offline assets included."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ)
    env.setdefault("SOLARA_ASSETS_PROXY_CACHE_DIR", str(root / ".assets" / "solara-cdn"))
    env.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    env.setdefault("SOLARA_THEME_LOADER", "plain")  # no "This website runs on Solara" badge over the charts
    env.setdefault("SOLARA_KERNEL_CULL_TIMEOUT", "2m")  # a tab that vanished without a word frees its session
    port = env.get("SIM_DASHBOARD_PORT", "8765")
    cmd = [sys.executable, "-m", "solara", "run", "sim.app", "--host", "127.0.0.1", "--port", port, "--production",
           "--no-open", *sys.argv[1:]]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, cwd=root)
    import signal

    signal.signal(signal.SIGTERM, lambda *_: proc.terminate())
    try:
        raise SystemExit(proc.wait())
    except KeyboardInterrupt:
        proc.terminate()
        raise SystemExit(proc.wait(timeout=10)) from None
