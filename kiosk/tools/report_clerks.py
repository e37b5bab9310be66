"""The report's section per clerk (工号): the figures of ``clerks`` in `kiosk.engine.stats.compute`
(`kiosk.engine.clerk_stats`, the same as `kiosk stats --json`) as a table — served, time at the
counter (mean, p90), the share served within the service's time limit, ratings and satisfaction,
no-shows and transfers, and the time at the counter with and without pre-acceptance.

Each row is ``<tr data-clerk=ID>`` and each figure's cell names its figure (``data-figure``), so
the page can be read back and checked against the statistics (tests/tools/test_report_clerks.py).
"""
from __future__ import annotations

import html
from typing import Any

COLUMNS: tuple[tuple[str, str], ...] = (
    ("clerk", "工号 Clerk"), ("name", "姓名 Name"), ("served", "办结 Served"),
    ("mean_min", "平均临柜 Mean (min)"), ("p90_min", "p90 (min)"), ("within", "时限内 Within limit"),
    ("within_share", "比例 Share"), ("ratings", "评价 Ratings"), ("satisfied_share", "满意 Satisfied"),
    ("mean_rating", "平均分 Mean rating"), ("noshows", "过号 No-shows"), ("transfers", "转移 Transfers"),
    ("pre_mean_min", "预受理 With pre-acceptance (min)"), ("no_pre_mean_min", "无预受理 Without (min)"),
)


def minutes(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds / 60:.1f}"


def percent(share: float | None) -> str:
    return "–" if share is None else f"{100 * share:.0f}%"


def row_of(c: dict[str, Any]) -> dict[str, str]:
    """One clerk's figures as the table shows them, by column."""
    st, lim, sat, pre = c["service_time"], c["counter_limit"], c["satisfaction"], c["pre_acceptance"]
    return {
        "clerk": c["clerk"], "name": c["name"] or "(removed 已删除)", "served": str(c["served"]),
        "mean_min": minutes(st["mean_s"]), "p90_min": minutes(st["p90_s"]),
        "within": f"{lim['within']}/{lim['served']}", "within_share": percent(lim["share"]),
        "ratings": str(sat["ratings"]), "satisfied_share": percent(sat["share"]),
        "mean_rating": "–" if sat["mean"] is None else f"{sat['mean']:.2f}",
        "noshows": str(c["noshows"]), "transfers": str(c["transfers"]),
        "pre_mean_min": minutes(pre["with"]["mean_s"]), "no_pre_mean_min": minutes(pre["without"]["mean_s"]),
    }


def clerks_section(data: dict[str, Any]) -> str:
    """The section's HTML: a heading, the table (or a line saying nobody signed in) and a note."""
    head = "<h2>柜员 Clerks</h2>"
    clerks = data.get("clerks") or []
    if not clerks:
        return head + ("<div class='empty'>这段时间没有柜员登录窗口。No clerk signed in at a counter in this period "
                       "(figures per counter above).</div>")
    th = "".join(f"<th>{label}</th>" for _, label in COLUMNS)
    body = []
    for c in clerks:
        cells = row_of(c)
        body.append(f"<tr data-clerk='{html.escape(c['clerk'], quote=True)}'>" + "".join(
            f"<td data-figure='{key}' class='{'' if key in ('clerk', 'name') else 'n'}'>{html.escape(cells[key])}</td>"
            for key, _ in COLUMNS) + "</tr>")
    return (head + f"<table class='clerks'><thead><tr>{th}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            "<p class='note'>Per clerk (工号): the tickets a clerk handled last — called, served, marked a no-show "
            "or transferred while signed in at the counter. Time at the counter: call to finish of those served "
            "(mean, 90th percentile); within limit: at most the service's counter_limit_min; satisfied: ratings "
            "4–5 of 5 of the customers they served. The same figures as <code>kiosk stats --json</code> "
            "(<code>clerks</code>; docs/statistics.md, Per clerk).</p>")
