"""The report shows the seeds' targets from the configuration: satisfaction against its target
(hall and tiers; the chart's target line moves with `alerts.satisfaction_target`) and the share
served within the time at the counter, per service and counter."""
from __future__ import annotations

import base64
import re
from datetime import date, datetime

import pytest

from kiosk.engine import stats
from kiosk.tools import report
from tests.kit.daysim import Hall, simulated_week
from tests.kit.settings import CN, settings_with

FROM, TO = date(2026, 11, 23), date(2026, 11, 29)
GENERATED = datetime(2026, 11, 30, 8, 0, tzinfo=CN)


@pytest.fixture(scope="module")
def week(tmp_path_factory):
    hall = Hall(simulated_week(tmp_path_factory))
    yield hall
    hall.close()


def with_target(hall: Hall, target: float):
    return settings_with(hall.settings, alerts={**hall.settings.alerts.model_dump(), "satisfaction_target": target})


def satisfaction_png(page: str) -> bytes:
    m = re.search(r"<img alt='([^']*)' src='data:image/png;base64,([A-Za-z0-9+/=]+)'>"
                  r"<figcaption>Share of ratings of 4 or 5", page)
    assert m, "no satisfaction chart"
    return base64.b64decode(m.group(2))


def test_the_satisfaction_target_comes_from_the_configuration(week):
    pages = {}
    for target in (0.5, 0.95):
        settings = with_target(week, target)
        data = stats.compute(week.engine.conn, FROM, TO, settings)
        pages[target] = report.render_html(data, settings, GENERATED)
    for target, page in pages.items():  # the key figure's card
        card = rf"满意度 Satisfaction</div><div class='s'>\d+ ratings \(target {round(100 * target)}%\)"
        assert re.search(card, page)
    # the chart's dashed line is at the configured target: another target, another picture
    assert satisfaction_png(pages[0.5]) != satisfaction_png(pages[0.95])
    again = report.render_html(stats.compute(week.engine.conn, FROM, TO, with_target(week, 0.5)),
                               with_target(week, 0.5), GENERATED)
    assert satisfaction_png(again) == satisfaction_png(pages[0.5])  # and nothing else moved it


def test_satisfaction_per_tier_and_time_at_the_counter_in_the_page(week):
    data = stats.compute(week.engine.conn, FROM, TO, week.settings)
    page = report.render_html(data, week.settings, GENERATED)
    assert "临柜时长 Time at the counter" in page
    for s in data["services"]:
        share = s["counter_limit"]["share"]
        assert share is not None
        assert f"<td class='n'>{s['counter_limit']['within']}</td><td class='n'>{round(100 * share)}%</td>" in page
    hall = data["totals"]["satisfaction"]
    assert (f"<td class=''>全厅 Hall</td><td class='n'>{hall['ratings']}</td>"
            f"<td class='n'>{round(100 * hall['share'])}%</td><td class='n'>80%</td>") in page
    for t in week.settings.tiers:
        assert f"{t.name.zh} {t.name.en}</td>" in page
