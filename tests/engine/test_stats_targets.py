"""The seeds' targets in the statistics: the share served within the service's time at the counter
(counter_limit_min) per service and counter, and satisfaction against its target for the hall
and each priority tier (the targets from the configuration)."""
from __future__ import annotations

import io
import json
from datetime import date

import pytest

from kiosk.cli.stats import print_stats
from kiosk.engine import stats
from tests.kit.daysim import Hall
from tests.kit.settings import settings_with

DAY = date(2026, 11, 23)


def served(hall: Hall, service: str, counter: int, minutes: float, score: int | None = None,
           tier: str | None = None) -> None:
    t = hall.engine.issue(service, tier=tier)
    hall.engine.call_ticket(counter, t.ticket)
    hall.clock.advance(minutes * 60)
    hall.engine.finish(counter)
    if score is not None:
        hall.engine.rate(t.ticket, score)


@pytest.fixture(scope="module")
def day(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("targets")
    base = Hall(tmp / "base.db")
    services = [s.model_dump(mode="json") for s in base.settings.services]
    tiers = [t.model_dump(mode="json") for t in base.settings.tiers]
    base.close()
    services[1]["counter_limit_min"] = 8  # B: 8 min at the counter
    tiers[1]["satisfaction_target"] = 0.9  # gold expects 90 %
    hall = Hall(tmp / "kiosk.db", settings_with(base.settings, services=services, tiers=tiers,
                                                alerts={"satisfaction_target": 0.75}))
    hall.at("09:00")
    hall.open(1, 3)
    served(hall, "A", 3, 5, score=5)  # within A's 10 min
    served(hall, "A", 3, 10, score=2)  # exactly 10 min: within
    served(hall, "A", 3, 12)  # over
    served(hall, "B", 3, 9, score=4)  # over B's 8 min
    served(hall, "V", 1, 4, score=5, tier="gold")
    served(hall, "V", 1, 4, score=3, tier="gold")  # gold: 1 of 2 satisfied
    data = stats.compute(hall.engine.conn, DAY, DAY, hall.settings)
    yield hall, data
    hall.close()


def test_share_served_within_the_time_at_the_counter(day):
    _, data = day
    svc = {s["service"]: s["counter_limit"] for s in data["services"]}
    assert svc["A"] == {"limit_s": 600.0, "served": 3, "within": 2, "share": round(2 / 3, 4)}
    assert svc["B"] == {"limit_s": 480.0, "served": 1, "within": 0, "share": 0.0}
    assert svc["V"]["within"] == 2 and svc["V"]["share"] == 1.0
    cnt = {c["counter"]: c["counter_limit"] for c in data["counters"]}
    assert cnt[3] == {"served": 4, "within": 2, "share": 0.5}
    assert cnt[1] == {"served": 2, "within": 2, "share": 1.0} and cnt[2]["share"] is None
    assert data["totals"]["counter_limit"] == {"served": 6, "within": 4, "share": round(4 / 6, 4)}


def test_satisfaction_against_the_configured_targets_per_hall_and_tier(day):
    _, data = day
    assert data["satisfaction_target"] == 0.75  # alerts.satisfaction_target, not a constant
    assert data["totals"]["satisfaction"]["share"] == 0.6  # 3 of 5
    tiers = {t["tier"]: t for t in data["tiers"]}
    assert [t["tier"] for t in data["tiers"]] == ["diamond", "gold", "silver"] and tiers["gold"]["rank"] == 2
    assert tiers["gold"]["satisfaction"] == {"scope": "gold", "ratings": 2, "satisfied": 1, "share": 0.5,
                                             "target": 0.9, "met": False}
    assert tiers["diamond"]["satisfaction"]["target"] == 0.75  # no target of its own: the hall's
    assert tiers["diamond"]["satisfaction"]["ratings"] == 0 and tiers["diamond"]["satisfaction"]["met"] is None
    json.dumps(data)


def test_the_stats_table_shows_them(day):
    _, data = day
    out = io.StringIO()
    print_stats(data, out)
    text = out.getvalue()
    assert "time at the counter by service: served within the service's limit" in text
    line = next(l for l in text.splitlines() if l.startswith("B General business") and l.split()[-1].endswith("%")
                and len(l.split()) == 7)
    assert line.split()[-4:] == ["8", "1", "0", "0%"]
    sat = text[text.index("satisfaction against its target"):]
    hall_row = next(l for l in sat.splitlines() if l.startswith("hall"))
    assert hall_row.split() == ["hall", "5", "60%", "75%", "NO"]
    gold = next(l for l in sat.splitlines() if l.startswith("tier gold"))
    assert gold.split()[-4:] == ["2", "50%", "90%", "NO"]
