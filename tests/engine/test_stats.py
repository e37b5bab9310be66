"""Statistics on a scripted hall with hand-computed figures, Erlang C against textbook values,
and a week of simulated days for the shapes."""
from __future__ import annotations

import json
import math
from datetime import date

import pytest

from kiosk.engine import stats
from kiosk.engine.stats import counters_needed, erlang_c, erlang_c_service_level, percentile

from tests.kit.daysim import Hall, simulated_week

MON, TUE = "2026-11-23", "2026-11-24"


def script_monday_tuesday(hall: Hall) -> None:
    """The scripted days; every figure the tests expect is computed by hand from this."""
    e = hall.engine
    hall.at("09:00")
    hall.open(1, 3)
    for _ in range(10):
        e.issue("A")  # A001…A010, all at 09:00:00
    e.issue("B")  # B001 at 09:00:00
    for k in range(1, 11):  # counter 3 calls A00k at 09:0k: waits 60…600 s, service 60 s (A010: 120 s)
        hall.at(f"09:{k:02d}")
        e.call_ticket(3, f"A{k:03d}")
    hall.at("09:12")
    e.finish(3)
    for number, score in (("A001", 5), ("A002", 4), ("A003", 3), ("A004", 1)):
        e.rate(number, score)
    hall.at("09:20")
    e.call_ticket(1, "B001")  # waited 1200 s: over B's 10-min target
    e.start(1)
    hall.at("09:30")
    e.finish(1)  # service 600 s
    e.rate("B001", 5)
    # hour 10: a double no-show, a transfer, a VIP ticket nobody calls
    hall.at("10:00")
    e.issue("A")  # A011
    e.issue("A")  # A012
    hall.at("10:02")
    e.call_ticket(1, "A012")  # wait 120
    hall.at("10:04")
    e.transfer(1, "B")  # 120 s at counter 1, then a B copy that keeps its place in time
    hall.at("10:05")
    e.call_ticket(3, "A011")  # wait 300
    hall.at("10:06")
    assert e.noshow(3) == ("A011", True)  # back in the queue from 10:06
    hall.at("10:07")
    e.call_ticket(1, "A012")  # the B copy: waited 3 min since the transfer
    hall.at("10:10")
    e.call_ticket(3, "A011")  # wait 240 since the requeue
    hall.at("10:12")
    assert e.noshow(3) == ("A011", False)  # gone for good; 120 s at the counter
    hall.at("10:17")
    e.finish(1)  # the copy: 600 s
    hall.at("10:30")
    e.issue("V")  # V001: still waiting at the rollover → expired
    hall.next_day("09:00")  # Tuesday
    e.issue("A")
    e.issue("A")
    hall.at("11:00")
    e.issue("A")


@pytest.fixture(scope="module")
def scripted(tmp_path_factory):
    hall = Hall(tmp_path_factory.mktemp("scripted") / "kiosk.db")
    script_monday_tuesday(hall)
    yield hall
    hall.close()


def test_percentile_and_mean_by_hand():
    waits = [60.0 * k for k in range(1, 11)]
    assert percentile(waits, 0.9) == pytest.approx(546.0)  # rank 8.1 → 540 + 0.1 × 60
    assert percentile(waits, 0.5) == pytest.approx(330.0)
    assert percentile([42.0], 0.9) == 42.0 and percentile([], 0.9) is None


def test_erlang_c_textbook_values():
    assert erlang_c(3, 2.0) == pytest.approx(4 / 9)  # M/M/3, a = 2: (8/6·3) / (1 + 2 + 2 + 4)
    assert erlang_c(1, 0.5) == pytest.approx(0.5)  # M/M/1: P(wait > 0) = ρ
    assert erlang_c(11, 10.0) == pytest.approx(0.6821, abs=1e-4)
    assert erlang_c(2, 2.0) == 1.0 and erlang_c(5, 0.0) == 0.0
    # the classic sizing example: 100 calls / 30 min, 180 s handling, 80 % answered in 20 s
    assert erlang_c_service_level(13, 200, 180, 20) == pytest.approx(0.7956, abs=1e-4)
    assert erlang_c_service_level(14, 200, 180, 20) == pytest.approx(0.8884, abs=1e-4)
    assert counters_needed(200, 180, 20, 0.8) == 14
    # M/M/1: P(W ≤ t) = 1 − ρ·exp(−(μ − λ)t); λ = 6/h, s = 300 s (ρ = 0.5), t = 600 s
    assert erlang_c_service_level(1, 6, 300, 600) == pytest.approx(1 - 0.5 * math.exp(-1.0))
    assert counters_needed(0, 300, 600) == 0


def test_totals_per_service_and_counter(scripted):
    r = stats.compute(scripted.engine.conn, date(2026, 11, 23), date(2026, 11, 23), scripted.settings)
    t = r["totals"]
    assert (t["arrivals"], t["called"], t["served"], t["noshows"], t["transfers"], t["expired"]) == (14, 14, 12, 1, 1, 1)
    assert t["service_level"] == {"n": 15, "within": 13, "share": round(13 / 15, 4)}
    assert t["satisfaction"] == {"ratings": 5, "satisfied": 3, "share": 0.6, "mean": 3.6}
    svc = {s["service"]: s for s in r["services"]}
    a, b, v = svc["A"], svc["B"], svc["V"]
    a_waits = [60.0 * k for k in range(1, 11)] + [240.0, 120.0]
    assert a["arrivals"] == 12 and a["served"] == 10 and a["noshows"] == 1 and a["transfers"] == 1
    assert a["wait"] == {"n": 12, "mean_s": round(sum(a_waits) / 12, 1), "p90_s": round(percentile(a_waits, 0.9), 1),
                         "max_s": 600.0}
    assert a["service_time"] == {"n": 10, "mean_s": 66.0, "p90_s": 66.0}  # nine × 60 s and one 120 s
    assert a["service_level"]["share"] == 1.0
    assert a["satisfaction"]["share"] == 0.5 and a["satisfaction"]["ratings"] == 4
    # B: B001 (1200 s, a miss) and the transferred A012 whose wait runs from the transfer (180 s)
    assert b["arrivals"] == 1 and b["served"] == 2
    assert b["wait"] == {"n": 2, "mean_s": 690.0, "p90_s": 1098.0, "max_s": 1200.0}
    assert b["service_level"] == {"n": 2, "within": 1, "share": 0.5}
    assert b["service_time"]["mean_s"] == 600.0
    # V: one ticket never called: counted against the service level
    assert v["arrivals"] == 1 and v["expired"] == 1 and v["service_level"] == {"n": 1, "within": 0, "share": 0.0}
    cnt = {c["counter"]: c for c in r["counters"]}
    assert (cnt[3]["called"], cnt[3]["served"], cnt[3]["noshows"], cnt[3]["transfers"]) == (11, 10, 1, 0)
    assert cnt[3]["satisfaction"]["share"] == 0.5
    assert (cnt[1]["called"], cnt[1]["served"], cnt[1]["transfers"]) == (3, 2, 1)
    assert cnt[1]["counter_time_s"] == 600 + 120 + 600.0
    assert "arrivals" not in cnt[1] and cnt[2]["called"] == 0 and cnt[2]["days_active"] == 0
    assert r["staff"]["basis"] == "counter" and len(r["staff"]["staff"]) == 4
    json.dumps(r)  # JSON-able


def test_hourly_summary_by_hand(scripted):
    conn = scripted.engine.conn
    h9 = stats.hourly_summary(conn, MON, 9, settings=scripted.settings)
    assert (h9["v"], h9["day"], h9["hour"], h9["start"]) == (1, MON, 9, "2026-11-23T09:00:00+08:00")
    assert (h9["arrivals"], h9["called"], h9["served"], h9["noshows"]) == (11, 11, 11, 0)
    assert h9["service_level"] == {"n": 11, "within": 10, "share": round(10 / 11, 4)}
    assert h9["wait"]["max_s"] == 1200.0
    assert h9["satisfaction"]["share"] == 0.6
    assert set(h9["services"]) == {"A", "B"} and h9["services"]["A"]["arrivals"] == 10
    assert set(h9["counters"]) == {"1", "3"} and h9["counters"]["3"]["served"] == 10
    h10 = stats.hourly_summary(conn, MON, 10, settings=scripted.settings)
    assert (h10["arrivals"], h10["called"], h10["served"], h10["noshows"], h10["transfers"]) == (3, 3, 1, 1, 1)
    assert h10["wait"]["mean_s"] == 180.0  # 120 (A012), 180 (its B copy), 240 (A011 after the requeue)
    assert h10["expired"] == 1 and h10["service_level"] == {"n": 4, "within": 3, "share": 0.75}  # + V001
    h12 = stats.hourly_summary(conn, MON, 12, settings=scripted.settings)
    assert h12["arrivals"] == 0 and h12["wait"]["mean_s"] is None and h12["services"] == {}
    json.dumps(h12)
    with pytest.raises(ValueError):
        stats.hourly_summary(conn, MON, 24, settings=scripted.settings)


def test_hourly_summary_without_settings_uses_the_configuration(scripted, monkeypatch, tmp_path):
    monkeypatch.setenv("KIOSK_CONFIG", str(tmp_path / "missing.toml"))  # unreadable: 10-min default targets
    h9 = stats.hourly_summary(scripted.engine.conn, MON, 9)
    assert h9["start"] is None and h9["service_level"]["within"] == 10


def test_periods_and_busy_idle_profile(scripted):
    conn = scripted.engine.conn
    by_day = stats.compute(conn, date(2026, 11, 23), date(2026, 11, 24), scripted.settings, by="day")
    assert [(p["period"], p["arrivals"]) for p in by_day["periods"]] == [(MON, 14), (TUE, 3)]
    assert by_day["open_days"] == 2
    by_week = stats.compute(conn, date(2026, 11, 23), date(2026, 11, 24), scripted.settings, by="week")
    assert [(p["period"], p["arrivals"]) for p in by_week["periods"]] == [("2026-W48", 17)]
    by_month = stats.compute(conn, date(2026, 11, 1), date(2026, 11, 30), scripted.settings, by="month")
    assert [p["period"] for p in by_month["periods"]] == ["2026-11"]
    by_hour = stats.compute(conn, date(2026, 11, 23), date(2026, 11, 23), scripted.settings, by="hour")
    hours = {p["period"]: p for p in by_hour["periods"]}
    assert hours["2026-11-23 09h"]["arrivals"] == 11 and hours["2026-11-23 10h"]["arrivals"] == 3
    assert hours["2026-11-23 10h"]["expired"] == 1  # V001, expired at Tuesday's rollover, counts where it arrived
    p = by_day["profile"]
    assert p["hours"] == [9, 10, 11]
    cells = dict(zip(p["hours"], zip(p["mean_arrivals"][0], p["mean_arrivals"][1], p["flags"][0], p["flags"][1])))
    assert cells[9] == (11.0, 2.0, "busy", "idle")  # open cells 11, 3, 2, 1: mean 4.25
    assert cells[10] == (3.0, 0.0, "idle", "closed")
    assert cells[11] == (0.0, 1.0, "closed", "idle")
    assert p["mean"] == 4.25 and p["mean_arrivals"][2] == [None] * len(p["hours"])  # no Wednesday in range
    assert p["busy"] == ["Mon 09h"] and p["open_days"]["Mon"] == 1
    with pytest.raises(ValueError):
        stats.compute(conn, date(2026, 11, 24), date(2026, 11, 23), scripted.settings)
    with pytest.raises(ValueError):
        stats.compute(conn, date(2026, 11, 23), date(2026, 11, 23), scripted.settings, by="year")


def test_staffing_per_hour_uses_erlang_c(scripted):
    r = stats.compute(scripted.engine.conn, date(2026, 11, 23), date(2026, 11, 23), scripted.settings)
    s = r["staffing"]
    assert s["method"] == "erlang_c" and s["target_share"] == 0.8
    # pooled hall target: arrival-weighted mean of the targets (13 × 600 s and V's 300 s) / 14
    assert s["target_wait_s"] == round((13 * 600 + 300) / 14, 1)
    nine = next(h for h in s["by_hour"] if h["hour"] == 9)
    assert nine["arrivals_per_hour"] == 11.0
    # 11 service times finished in hour 9 (≥ 5): their mean is the hour's service time
    assert nine["mean_service_s"] == round((9 * 60 + 120 + 600) / 11, 1)
    assert nine["counters_needed"] == counters_needed(11.0, (9 * 60 + 120 + 600) / 11, s["target_wait_s"], 0.8)
    assert nine["counters_active"] == 2.0  # counters 1 and 3 called in hour 9


@pytest.fixture(scope="module")
def week(tmp_path_factory):
    hall = Hall(simulated_week(tmp_path_factory))
    yield hall
    hall.close()


def test_a_simulated_week_adds_up(week):
    conn = week.engine.conn
    r = stats.compute(conn, date(2026, 11, 23), date(2026, 11, 29), week.settings, by="day")
    t = r["totals"]
    n_tickets = conn.execute("SELECT count(*) FROM tickets WHERE origin_id IS NULL").fetchone()[0]
    assert t["arrivals"] == n_tickets and r["open_days"] == 7
    assert sum(p["arrivals"] for p in r["periods"]) == t["arrivals"]
    assert sum(s["served"] for s in r["services"]) == t["served"] == sum(c["served"] for c in r["counters"])
    done = conn.execute("SELECT count(*) FROM tickets WHERE state = 'done'").fetchone()[0]
    assert t["served"] == done
    # the hours of a day add up to the day
    day = r["periods"][0]
    hourly = [stats.hourly_summary(conn, day["period"], h, settings=week.settings) for h in range(24)]
    for key in ("arrivals", "called", "served", "noshows", "transfers"):
        assert sum(h[key] for h in hourly) == day[key], key
    # busier weekdays than weekends, and the profile has the simulated shape
    wd = {w["weekday"]: w for w in r["by_weekday"]}
    assert wd["Tue"]["arrivals_per_day"] > wd["Sun"]["arrivals_per_day"]
    assert "Sat 10h" in r["profile"]["idle"] or "Sun 10h" in r["profile"]["idle"]
    assert any(b.endswith("10h") for b in r["profile"]["busy"])
    peak = max(r["staffing"]["by_hour"], key=lambda h: h["arrivals_per_hour"])
    quiet = min((h for h in r["staffing"]["by_hour"] if h["arrivals_per_hour"] > 0),
                key=lambda h: h["arrivals_per_hour"])
    assert peak["counters_needed"] >= quiet["counters_needed"] >= 1
    assert all(0 <= (h["expected_service_level"] or 1) <= 1 for h in r["staffing"]["by_hour"])
    matrix = r["staffing"]["by_weekday_hour"]
    assert len(matrix) == 7 and all(len(row) == len(r["profile"]["hours"]) for row in matrix)
    json.dumps(r)
