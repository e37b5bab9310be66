"""`kiosk report`: one self-contained HTML file with charts for a range of business days.

Charts are matplotlib figures rendered with the Agg renderer (``matplotlib.figure.Figure``,
no pyplot, so nothing global is left open) and embedded as base64 PNG: the file has no
external reference and can be mailed or opened offline. Chart labels are bilingual when
the WenQuanYi Zen Hei font is installed (fonts-wqy-zenhei), English otherwise.
"""
from __future__ import annotations

import base64
import html
import io
import math
import sqlite3
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from kiosk.engine import stats
from kiosk.storage.files import write_atomic
from kiosk.tools.report_clerks import clerks_section

CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
CJK_FAMILY = "WenQuanYi Zen Hei"
BLUE, ORANGE, GREEN, RED, GREY = "#2f6db5", "#e07b28", "#3a9a5b", "#c8423b", "#8a8f98"


class _Labels:
    """Chart text: "中文 English" with a CJK font, else English only."""

    def __init__(self) -> None:
        self.cjk = False
        if CJK_FONT.exists():
            try:
                from matplotlib import font_manager
                if CJK_FAMILY not in {f.name for f in font_manager.fontManager.ttflist}:
                    font_manager.fontManager.addfont(str(CJK_FONT))
                self.cjk = True
            except Exception:  # noqa: BLE001 — a broken font file: English labels
                self.cjk = False

    def __call__(self, zh: str, en: str) -> str:
        return f"{zh} {en}" if self.cjk else en

    def rc(self) -> dict[str, Any]:
        fam = [CJK_FAMILY, "DejaVu Sans"] if self.cjk else ["DejaVu Sans"]
        weight = "medium" if self.cjk else "normal"  # the WenQuanYi face has one weight, 500
        return {"font.family": "sans-serif", "font.sans-serif": fam, "font.size": 10, "font.weight": weight,
                "axes.spines.top": False, "axes.spines.right": False,
                "axes.titleweight": weight if self.cjk else "bold", "axes.labelweight": weight,
                "axes.titlesize": 12, "svg.fonttype": "none"}


def _png(draw: Callable[[Any], None], labels: _Labels, size: tuple[float, float] = (9.0, 3.6)) -> str:
    """Draw on a fresh Agg figure and return it as a data: URI."""
    import matplotlib
    from matplotlib.figure import Figure
    with matplotlib.rc_context(labels.rc()):
        fig = Figure(figsize=size, dpi=110, layout="constrained")
        draw(fig)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _min(x: float | None) -> float:
    """Seconds → minutes; a missing value is NaN (a gap in a line, not a zero)."""
    return math.nan if x is None else x / 60.0


# -- the charts ---------------------------------------------------------------------------------
def chart_arrivals_waits(data: dict[str, Any], L: _Labels) -> str:
    rows = data["by_hour"]

    def draw(fig: Any) -> None:
        ax = fig.add_subplot()
        hours = [r["hour"] for r in rows]
        ax.bar(hours, [r["arrivals_per_day"] for r in rows], color=BLUE, alpha=0.75,
               label=L("到达（每天平均）", "arrivals per day (mean)"))
        ax.set_xlabel(L("时段", "hour of day"))
        ax.set_ylabel(L("人数", "customers"))
        ax.set_xticks(hours, [f"{h:02d}" for h in hours])
        ax2 = ax.twinx()
        ax2.spines["right"].set_visible(True)
        ax2.plot(hours, [_min(r["wait"]["mean_s"]) for r in rows], color=ORANGE, marker="o",
                 label=L("平均等待", "mean wait"))
        ax2.plot(hours, [_min(r["wait"]["p90_s"]) for r in rows], color=RED, marker="s", linestyle="--",
                 label=L("90%等待", "p90 wait"))
        ax2.set_ylabel(L("等待（分钟）", "wait (min)"))
        ax2.set_ylim(bottom=0)
        h1, l1 = ax.get_legend_handles_labels()
        h2, l2 = ax2.get_legend_handles_labels()
        fig.legend(h1 + h2, l1 + l2, loc="outside lower center", frameon=False, fontsize=9, ncols=3)
        ax.set_ylim(0, max([r["arrivals_per_day"] for r in rows] + [1]) * 1.1)
        ax.set_title(L("各时段到达与等待", "Arrivals and waits by hour"), loc="left")

    return _png(draw, L)


def chart_service_level(data: dict[str, Any], L: _Labels, target_share: float) -> str:
    rows = [s for s in data["services"] if s["service_level"]["n"]]

    def draw(fig: Any) -> None:
        ax = fig.add_subplot()
        names = [f"{s['service']} {s['name'].get('zh') or ''}".strip() if L.cjk else
                 f"{s['service']} {s['name'].get('en', '')}" for s in rows]
        shares = [100 * (s["service_level"]["share"] or 0) for s in rows]
        colors = [GREEN if v >= 100 * target_share else RED for v in shares]
        y = list(range(len(rows)))
        ax.barh(y, shares, color=colors, height=0.6)
        ax.set_yticks(y, names)
        ax.invert_yaxis()
        ax.axvline(100 * target_share, color=GREY, linestyle="--", linewidth=1)
        ax.text(100 * target_share, -0.5, L("目标", "target") + f" {100 * target_share:.0f}%",
                color=GREY, ha="center", va="bottom", fontsize=8)
        for yi, v, s in zip(y, shares, rows):
            ax.text(min(v, 100) + 1, yi, f"{v:.0f}%  ({s['service_level']['within']}/{s['service_level']['n']}, "
                    + L("目标", "target") + f" {s['target_wait_s'] / 60:g} min)", va="center", fontsize=9)
        ax.set_xlim(0, 135)
        ax.set_xticks([0, 20, 40, 60, 80, 100])
        ax.set_xlabel(L("目标等待时间内叫号的比例 (%)", "share called within the target wait (%)"))
        ax.set_title(L("各业务服务水平", "Service level by service"), loc="left")

    return _png(draw, L, (9.0, 0.9 + 0.55 * max(1, len(rows))))


def satisfaction_bars(data: dict[str, Any], L: _Labels) -> list[tuple[str, dict[str, Any], float]]:
    """(label, satisfaction figure, its target) for the hall, each priority tier and each counter
    that has ratings. The hall's target is the counters' too."""
    hall = data["satisfaction_target"]
    bars = [(L("全厅", "Hall"), data["totals"]["satisfaction"], hall)]
    bars += [(L(t["name"].get("zh") or t["name"]["en"], t["name"]["en"]), t["satisfaction"],
              t["satisfaction"]["target"]) for t in data["tiers"] if t["satisfaction"]["ratings"]]
    bars += [(c["name_zh"] if L.cjk else c["name"], c["satisfaction"], hall) for c in data["counters"]
             if c["satisfaction"]["ratings"]]
    return bars


def chart_satisfaction(data: dict[str, Any], L: _Labels) -> str:
    """Each share of ratings 4–5 against its own target (dashed), both from the figures: the
    targets come from the configuration (``alerts.satisfaction_target``, ``tiers[].satisfaction_target``)."""
    bars = satisfaction_bars(data, L)

    def draw(fig: Any) -> None:
        ax = fig.add_subplot()
        shares = [100 * (s["share"] or 0) for _, s, _ in bars]
        targets = [100 * target for _, _, target in bars]
        x = list(range(len(bars)))
        ax.bar(x, shares, color=[GREEN if v >= t else ORANGE for v, t in zip(shares, targets)], width=0.6)
        ax.set_xticks(x, [name for name, _, _ in bars], fontsize=9)
        ax.hlines(targets, [xi - 0.4 for xi in x], [xi + 0.4 for xi in x], color=GREY, linestyles="--",
                  linewidth=1.2)
        for xi, v, (_, s, _) in zip(x, shares, bars):
            ax.text(xi, v + 2, f"{v:.0f}%\n(n={s['ratings']})", ha="center", va="bottom", fontsize=9)
        ax.set_ylim(0, 118)
        ax.set_yticks([0, 20, 40, 60, 80, 100])
        ax.set_ylabel(L("满意 (4–5分) %", "satisfied (4–5) %"))
        ax.set_title(L("满意度与目标（虚线）", "Satisfaction against its target (dashed)"), loc="left")

    return _png(draw, L, (9.0, 3.2))


def chart_heatmap(data: dict[str, Any], L: _Labels) -> str:
    p = data["profile"]
    zh_days = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]

    def draw(fig: Any) -> None:
        import numpy as np
        ax = fig.add_subplot()
        grid = np.array([[np.nan if v is None else v for v in row] for row in p["mean_arrivals"]], dtype=float)
        masked = np.ma.masked_invalid(grid)
        im = ax.imshow(masked, aspect="auto", cmap="YlOrRd", vmin=0)
        ax.set_facecolor("#eeeeee")
        ax.set_xticks(range(len(p["hours"])), [f"{h:02d}" for h in p["hours"]])
        days = [f"{z} {e}" for z, e in zip(zh_days, p["weekdays"])] if L.cjk else p["weekdays"]
        ax.set_yticks(range(7), days)
        vmax = np.nanmax(grid) if np.isfinite(grid).any() else 1.0
        for wd in range(7):
            for i in range(len(p["hours"])):
                v, flag = p["mean_arrivals"][wd][i], p["flags"][wd][i]
                if v is None:
                    continue
                mark = {"busy": " ▲", "idle": " ▽"}.get(flag, "")
                ax.text(i, wd, f"{v:.0f}{mark}" if v >= 10 else f"{v:.1f}{mark}", ha="center", va="center",
                        fontsize=8, color="white" if v > 0.6 * vmax else "black")
        ax.spines[:].set_visible(False)
        ax.set_xlabel(L("时段", "hour of day"))
        cb = fig.colorbar(im, ax=ax, shrink=0.85, pad=0.01)
        cb.set_label(L("到达/小时", "arrivals/h"))
        ax.set_title(L("忙闲分布（▲忙 ▽闲）", "Busy and idle hours (▲ busy, ▽ idle)"), loc="left")

    return _png(draw, L, (9.0, 3.8))


def chart_staffing(data: dict[str, Any], L: _Labels) -> str:
    rows = data["staffing"]["by_hour"]

    def draw(fig: Any) -> None:
        ax = fig.add_subplot()
        hours = [r["hour"] for r in rows]
        ax.bar(hours, [r["counters_needed"] for r in rows], color=BLUE, alpha=0.8, width=0.6,
               label=L("建议窗口数", "counters needed"))
        ax.plot(hours, [r["counters_active"] for r in rows], color=ORANGE, linewidth=2, marker="D",
                label=L("实际叫号窗口（平均）", "counters working (mean)"))
        for h, r in zip(hours, rows):
            if r["counters_needed"]:
                ax.text(h, 0.12, str(r["counters_needed"]), ha="center", va="bottom", fontsize=10, color="white")
        ax.set_xticks(hours, [f"{h:02d}" for h in hours])
        ax.set_xlabel(L("时段", "hour of day"))
        ax.set_ylabel(L("窗口", "counters"))
        top = max([r["counters_needed"] for r in rows] + [r["counters_active"] for r in rows] + [1])
        ax.set_ylim(0, top * 1.35 + 0.5)
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.legend(loc="upper left", frameon=False, fontsize=9, ncols=2)
        s = data["staffing"]
        ax.set_title(L("各时段建议窗口数", "Recommended counters by hour")
                     + f"  (Erlang C: {100 * s['target_share']:.0f}% ≤ {s['target_wait_s'] / 60:.1f} min)", loc="left")

    return _png(draw, L, (9.0, 3.4))


def chart_daily(data: dict[str, Any], L: _Labels) -> str:
    rows = data["periods"]

    def draw(fig: Any) -> None:
        ax = fig.add_subplot()
        x = list(range(len(rows)))
        ax.bar([i - 0.2 for i in x], [r["arrivals"] for r in rows], width=0.4, color=BLUE, label=L("到达", "arrivals"))
        ax.bar([i + 0.2 for i in x], [r["served"] for r in rows], width=0.4, color=GREEN, label=L("办结", "served"))
        labels = []
        for r in rows:
            try:
                d = date.fromisoformat(r["period"])
                labels.append(f"{d:%m-%d}\n{stats.WEEKDAYS[d.weekday()]}")
            except ValueError:
                labels.append(r["period"])
        ax.set_xticks(x, labels, fontsize=8)
        ax2 = ax.twinx()
        ax2.spines["right"].set_visible(True)
        ax2.plot(x, [_min(r["wait"]["mean_s"]) for r in rows], color=ORANGE, marker="o", label=L("平均等待", "mean wait"))
        ax2.set_ylabel(L("等待（分钟）", "wait (min)"))
        ax2.set_ylim(bottom=0)
        h1, l1 = ax.get_legend_handles_labels()
        h2, l2 = ax2.get_legend_handles_labels()
        fig.legend(h1 + h2, l1 + l2, loc="outside lower center", frameon=False, fontsize=9, ncols=3)
        ax.set_ylim(0, max([r["arrivals"] for r in rows] + [1]) * 1.1)
        ax.set_ylabel(L("人数", "customers"))
        ax.set_title(L("每日到达、办结与等待", "Arrivals, served and waits by day"), loc="left")

    return _png(draw, L, (9.0, 3.2))


# -- the page -----------------------------------------------------------------------------------
def _e(x: Any) -> str:
    return html.escape(str(x))


def _fmt_min(s: float | None) -> str:
    return "–" if s is None else f"{s / 60:.1f}"


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.0f}%"


def _table(head: list[str], rows: list[list[Any]], num_from: int = 1) -> str:
    th = "".join(f"<th>{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td class='{'n' if i >= num_from else ''}'>{_e(c)}</td>"
                                    for i, c in enumerate(r)) + "</tr>" for r in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _kpi(label: str, value: str, note: str = "", bad: bool = False) -> str:
    return (f"<div class='kpi{' bad' if bad else ''}'><div class='v'>{_e(value)}</div>"
            f"<div class='l'>{label}</div><div class='s'>{_e(note)}</div></div>")


CSS = """
body{font-family:"WenQuanYi Zen Hei","Noto Sans CJK SC","PingFang SC","Microsoft YaHei",system-ui,sans-serif;
 margin:0;background:#f4f5f7;color:#1f2328}
main{max-width:1100px;margin:0 auto;padding:24px 32px 48px}
header{background:#1f3b63;color:#fff;padding:22px 32px}
header h1{margin:0;font-size:24px}header p{margin:6px 0 0;opacity:.85}
h2{font-size:18px;margin:32px 0 10px;border-left:4px solid #2f6db5;padding-left:10px}
.kpis{display:grid;grid-template-columns:repeat(4,1fr);gap:12px;margin-top:18px}
.kpi{background:#fff;border-radius:8px;padding:12px 14px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
.kpi .v{font-size:26px;font-weight:700;color:#1f3b63}.kpi.bad .v{color:#c8423b}
.kpi .l{font-size:13px;color:#555}.kpi .s{font-size:12px;color:#888;min-height:1em}
figure{margin:0 0 8px;background:#fff;border-radius:8px;padding:10px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
figure img{width:100%;height:auto;display:block}
figcaption{font-size:12px;color:#666;margin-top:4px}
table{border-collapse:collapse;width:100%;background:#fff;font-size:13px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
th,td{padding:6px 9px;border-bottom:1px solid #e5e7eb;text-align:left}
th{background:#eef2f7;font-weight:600;font-size:12px}td.n{text-align:right;font-variant-numeric:tabular-nums}
.two{display:grid;grid-template-columns:1fr 1fr;gap:16px}
.note{font-size:12px;color:#666;line-height:1.5}
.empty{background:#fff;padding:24px;border-radius:8px;color:#666}
"""


def render_html(data: dict[str, Any], settings: Any, generated: datetime | None = None) -> str:
    """The report page for `stats.compute(...)` output."""
    L = _Labels()
    name = settings.branch.name
    title = f"{name.zh} {name.en}" if name.zh else name.en
    t = data["totals"]
    share = data["staffing"]["target_share"]
    generated = generated or datetime.now(settings.day.tz)
    parts = [f"<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>"
             f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
             f"<title>{_e(title)} · {_e(data['from'])} – {_e(data['to'])}</title><style>{CSS}</style></head><body>",
             f"<header><h1>{_e(title)} · 服务报告 Service report</h1>"
             f"<p>{_e(data['from'])} – {_e(data['to'])} · {data['open_days']} 营业日 business days · "
             f"{_e(settings.branch.id)} · 生成 generated {_e(generated.strftime('%Y-%m-%d %H:%M'))}</p></header><main>"]
    if not t["arrivals"] and not t["called"]:
        parts.append("<div class='empty'>这段时间没有取号记录。No tickets in this period.</div></main></body></html>")
        return "".join(parts)
    sl, sat = t["service_level"]["share"], t["satisfaction"]["share"]
    parts.append("<div class='kpis'>"
                 + _kpi("到达 Arrivals", f"{t['arrivals']}", f"{t['arrivals'] / max(1, data['open_days']):.0f} / day")
                 + _kpi("办结 Served", f"{t['served']}", f"no-shows {t['noshows']} · transfers {t['transfers']}")
                 + _kpi("平均等待 Mean wait", f"{_fmt_min(t['wait']['mean_s'])} min",
                        f"p90 {_fmt_min(t['wait']['p90_s'])} · max {_fmt_min(t['wait']['max_s'])} min")
                 + _kpi("服务水平 Service level", _pct(sl), "called within target", bad=sl is not None and sl < share)
                 + _kpi("满意度 Satisfaction", _pct(sat), f"{t['satisfaction']['ratings']} ratings "
                        f"(target {_pct(data['satisfaction_target'])})", bad=sat is not None
                        and sat < data["satisfaction_target"])
                 + _kpi("办理时长 Service time", f"{_fmt_min(t['service_time']['mean_s'])} min",
                        f"p90 {_fmt_min(t['service_time']['p90_s'])} min")
                 + _kpi("未叫号离开 Expired", f"{t['expired']}", "never called")
                 + _kpi("峰值建议 Peak staffing",
                        f"{max([r['counters_needed'] for r in data['staffing']['by_hour']] + [0])}",
                        "counters (Erlang C)")
                 + "</div>")

    def fig(src: str, caption: str) -> str:
        return f"<figure><img alt='{_e(caption)}' src='{src}'><figcaption>{caption}</figcaption></figure>"

    parts.append("<h2>到达与等待 Arrivals and waits</h2>")
    parts.append(fig(chart_arrivals_waits(data, L),
                     "Arrivals: mean per business day by hour of issue. Waits: tickets called in that hour "
                     "(from issue, or from the transfer for a transferred customer)."))
    if len(data["periods"]) > 1:
        parts.append(fig(chart_daily(data, L), "Per business day."))
    parts.append("<h2>服务水平 Service level</h2>")
    parts.append(fig(chart_service_level(data, L, share),
                     "Share of customers called within their service's target wait; tickets never called count "
                     "as missed."))
    svc_rows = [[f"{s['service']} {s['name'].get('zh') or ''} {s['name'].get('en', '')}", s["arrivals"], s["served"],
                 s["noshows"], s["transfers"], _fmt_min(s["wait"]["mean_s"]), _fmt_min(s["wait"]["p90_s"]),
                 _fmt_min(s["wait"]["max_s"]), _fmt_min(s["service_time"]["mean_s"]), f"{s['target_wait_s'] / 60:g}",
                 _pct(s["service_level"]["share"]), _pct(s["satisfaction"]["share"])] for s in data["services"]]
    parts.append(_table(["业务 Service", "到达 Arrivals", "办结 Served", "过号 No-shows", "转移 Transfers",
                         "平均等待 Mean wait (min)", "p90", "max", "办理 Service (min)", "目标 Target (min)",
                         "服务水平 SL", "满意 Satisfied"], svc_rows))
    parts.append("<h2>窗口 Counters</h2>")
    cnt_rows = [[c["name_zh"] + " " + c["name"], c["days_active"], c["called"], c["served"], c["noshows"],
                 c["transfers"], _fmt_min(c["service_time"]["mean_s"]), _fmt_min(c["service_time"]["p90_s"]),
                 f"{(c['counter_time_s'] or 0) / 3600:.1f}", c["satisfaction"]["ratings"],
                 _pct(c["satisfaction"]["share"])] for c in data["counters"]]
    parts.append(_table(["窗口 Counter", "营业日 Days", "叫号 Called", "办结 Served", "过号 No-shows",
                         "转移 Transfers", "平均办理 Mean service (min)", "p90 (min)", "占用 Busy (h)",
                         "评价 Ratings", "满意 Satisfied"], cnt_rows))
    parts.append(clerks_section(data))
    parts.append("<h2>满意度 Satisfaction</h2>")
    if t["satisfaction"]["ratings"]:
        parts.append(fig(chart_satisfaction(data, L), "Share of ratings of 4 or 5 (of 5) for the hall, each priority "
                         "tier and each counter; dashed: its target (alerts.satisfaction_target, "
                         "tiers[].satisfaction_target); n = ratings."))
        parts.append(_satisfaction_table(data))
    else:
        parts.append("<div class='empty'>No ratings in this period.</div>")
    parts.append("<h2>临柜时长 Time at the counter</h2>")
    parts.append(_counter_limit_tables(data))
    parts.append("<h2>忙闲时段 Busy and idle hours</h2>")
    p = data["profile"]
    parts.append(fig(chart_heatmap(data, L),
                     f"Mean arrivals per hour, weekday × hour, over the open days of each weekday. ▲ busy "
                     f"(≥ {p['busy_factor']:g} × the mean {p['mean']:g}), ▽ idle (≤ {p['idle_factor']:g} × it); "
                     "grey: no open day of that weekday in the range."))
    parts.append(f"<p class='note'><b>Busy 忙:</b> {_e(', '.join(p['busy']) or '–')}<br>"
                 f"<b>Idle 闲:</b> {_e(', '.join(p['idle']) or '–')}</p>")
    parts.append("<h2>建议排班 Recommended staffing</h2>")
    parts.append(fig(chart_staffing(data, L),
                     "Counters needed: the smallest number N for which Erlang C (M/M/N) gives at least the target "
                     "share called within the target wait at the hour's mean arrival rate and service time."))
    st_rows = [[f"{r['hour']:02d}:00", f"{r['arrivals_per_hour']:.1f}", _fmt_min(r["mean_service_s"]),
                f"{r['offered_load']:.2f}", r["counters_needed"], f"{r['counters_active']:.1f}",
                _pct(r["expected_service_level"])] for r in data["staffing"]["by_hour"]]
    parts.append("<div class='two'><div>" + _table(
        ["时段 Hour", "到达/时 Arrivals/h", "办理 Service (min)", "负荷 Load (Erl)", "建议 Needed",
         "实际 Working", "预计 SL"], st_rows) + "</div><div>" + _roster_table(data) + "</div></div>")
    parts.append("<p class='note'>Definitions: docs/statistics.md. Arrivals exclude transfer copies; waits and "
                 "service level are counted in the hour of the call, service times and ratings in the hour of the "
                 "finish.</p></main></body></html>")
    return "".join(parts)


def _satisfaction_table(data: dict[str, Any]) -> str:
    t, target = data["totals"]["satisfaction"], data["satisfaction_target"]
    rows = [["全厅 Hall", t["ratings"], _pct(t["share"]), _pct(target), _met(t["share"], target)]]
    for tier in data["tiers"]:
        s = tier["satisfaction"]
        rows.append([f"{tier['name'].get('zh') or ''} {tier['name']['en']}".strip(), s["ratings"], _pct(s["share"]),
                     _pct(s["target"]), _met(s["share"], s["target"])])
    return _table(["满意度 Satisfaction", "评价 Ratings", "满意 Satisfied", "目标 Target", "达标 Met"], rows)


def _met(share: float | None, target: float) -> str:
    return "–" if share is None else ("✓" if share >= target else "✗")


def _counter_limit_tables(data: dict[str, Any]) -> str:
    """Served within the service's time at the counter (counter_limit_min), per service and counter."""
    svc = [[f"{s['service']} {s['name'].get('zh') or ''} {s['name'].get('en', '')}",
            f"{s['counter_limit']['limit_s'] / 60:g}", s["counter_limit"]["served"], s["counter_limit"]["within"],
            _pct(s["counter_limit"]["share"])] for s in data["services"]]
    tot = data["totals"]["counter_limit"]
    svc.append(["合计 Total", "", tot["served"], tot["within"], _pct(tot["share"])])
    cnt = [[c["name_zh"] + " " + c["name"], c["counter_limit"]["served"], c["counter_limit"]["within"],
            _pct(c["counter_limit"]["share"])] for c in data["counters"]]
    return ("<div class='two'><div>" + _table(["业务 Service", "时限 Limit (min)", "办结 Served", "时限内 Within",
                                                "比例 Share"], svc)
            + "</div><div>" + _table(["窗口 Counter", "办结 Served", "时限内 Within", "比例 Share"], cnt)
            + "</div></div><p class='note'>Time at the counter: from the call to the finish, as the service "
            "time; within: at most the service's counter_limit_min.</p>")


def _roster_table(data: dict[str, Any]) -> str:
    p = data["profile"]
    matrix = data["staffing"]["by_weekday_hour"]
    head = ["周 Day"] + [f"{h:02d}" for h in p["hours"]]
    rows = [[wd] + ["–" if v is None else v for v in row] for wd, row in zip(p["weekdays"], matrix)]
    return ("<p class='note' style='margin:0 0 6px'><b>按星期×时段建议窗口数 Counters needed by weekday × hour</b>"
            "</p>" + _table(head, rows))


def write_report(conn: sqlite3.Connection, settings: Any, date_from: date, date_to: date, out_path: str | Path,
                 *, target_share: float = stats.TARGET_SHARE, generated: datetime | None = None) -> Path:
    """Compute the figures for `date_from`…`date_to` and write the HTML report. Returns its path."""
    data = stats.compute(conn, date_from, date_to, settings, by="day", target_share=target_share)
    page = render_html(data, settings, generated)
    out = Path(out_path)
    if out.parent and not out.parent.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(out, page)
    return out
