"""Appointments (预约) at the kiosk. Promises to the customer who booked: checked in within the
window (15 min before to 10 min after the slot), they are queued as if they had come 10 minutes
before their slot — called before the walk-ins who came after that, never before a VIP; after
the window they get an ordinary ticket and are told so; too early, they are told when to come.
Promises to the branch: a booking is used once; bookings nobody came for are counted missed; the
day's list, once here, works without HQ; cancellations from HQ remove what was not used."""
from __future__ import annotations

import pytest

from kiosk.config.settings import Settings
from kiosk.domain import errors

DAY = "2026-11-23"       # the conftest's FakeClock starts at 09:00 on this day (Asia/Shanghai)


def booking_settings(settings: Settings) -> Settings:
    data = settings.model_dump(mode="json")
    data["phone"] = {"appointments": {"services": ["A", "B"], "slot_min": 30, "capacity": 2,
                                      "hours": ["09:00-12:00"], "head_start_min": 10}}
    return Settings.model_validate(data)


@pytest.fixture
def engine(make_engine, settings):
    e = make_engine(booking_settings(settings))
    e.store_appointments({DAY: [{"code": "12345678", "service": "A", "slot": "10:00"},
                                {"code": "87654321", "service": "B", "slot": "10:00",
                                 "form": {"document": "passport"}},
                                {"code": "11112222", "service": "A", "slot": "11:00"}]})
    return e


def at(clock, hhmm: str) -> None:
    """Move the clock forward to HH:MM of the test's day."""
    h, m = map(int, hhmm.split(":"))
    target = clock.wall().replace(hour=h, minute=m, second=0)
    clock.advance((target - clock.wall()).total_seconds())


def calls(engine, counter: int, n: int) -> list[str]:
    return [engine.call_next(counter).ticket for _ in range(n)]


def test_on_time_an_appointment_is_queued_ten_minutes_before_its_slot(engine, clock):
    at(clock, "09:45")
    w1 = engine.issue("A").ticket
    at(clock, "09:52")
    w2 = engine.issue("A").ticket
    at(clock, "09:55")                                        # 5 minutes early: within the window
    t = engine.check_in("12345678")
    assert t["appointment"] == {"slot": "10:00", "late": False} and t["state"] == "waiting"
    at(clock, "09:58")
    w3 = engine.issue("A").ticket
    assert calls(engine, 3, 4) == [w1, t["number"], w2, w3]   # as if it came at 09:50


def test_a_vip_still_goes_first(engine, clock):
    at(clock, "10:00")
    appt = engine.check_in("12345678")["number"]
    vip = engine.issue("V").ticket
    assert calls(engine, 1, 2) == [vip, appt]


def test_late_is_an_ordinary_ticket_and_early_is_told_when(engine, clock):
    at(clock, "09:40")
    with pytest.raises(errors.IllegalState, match="at 10:00: please check in from 09:45"):
        engine.check_in("12345678")
    assert engine.conn.execute("SELECT count(*) FROM tickets").fetchone()[0] == 0
    at(clock, "10:05")
    walk_in = engine.issue("A").ticket
    at(clock, "10:15")                                        # 15 minutes late (> 10)
    t = engine.check_in("12345678")
    assert t["appointment"] == {"slot": "10:00", "late": True}
    assert calls(engine, 3, 2) == [walk_in, t["number"]]      # queued now, after who came before
    assert engine.appointment_figures(DAY) == {"booked": 2, "checked_in": 0, "late": 1, "missed": 0}


def test_a_booking_is_used_once_and_unknown_codes_are_refused(engine, clock):
    at(clock, "10:00")
    t = engine.check_in("12345678")
    with pytest.raises(errors.IllegalState, match=f"already checked in \\(ticket {t['number']}\\)"):
        engine.check_in("12345678")
    with pytest.raises(errors.UnknownTicket, match="no appointment with this code today"):
        engine.check_in("99999999")
    assert engine.conn.execute("SELECT count(*) FROM tickets").fetchone()[0] == 1


def test_missed_when_nobody_came_and_counted(engine, clock):
    at(clock, "10:10")
    engine.tick()
    assert engine.appointment_figures(DAY)["missed"] == 0      # still within the window
    at(clock, "10:11")
    engine.tick()
    assert engine.appointment_figures(DAY) == {"booked": 1, "checked_in": 0, "late": 0, "missed": 2}
    types = [r[0] for r in engine.conn.execute("SELECT type FROM outbox ORDER BY seq")]
    assert types.count("appointment.missed") == 2
    t = engine.check_in("12345678")                            # comes after all: an ordinary ticket
    assert t["appointment"]["late"] is True
    assert engine.appointment_figures(DAY)["late"] == 1


def test_the_form_booked_on_the_phone_comes_with_the_ticket(engine, clock):
    at(clock, "10:00")
    t = engine.check_in("87654321")
    assert '"document":"passport"' in t["form"]


def test_hq_updates_replace_what_was_not_used(engine, clock):
    at(clock, "10:00")
    engine.check_in("12345678")
    out = engine.store_appointments({DAY: [{"code": "11112222", "service": "A", "slot": "11:30"},
                                           {"code": "33334444", "service": "B", "slot": "11:00"}]})
    rows = {r[0]: (r[1], r[2]) for r in engine.conn.execute("SELECT code, slot, state FROM appointments")}
    assert rows == {"12345678": ("10:00", "checked_in"),      # used: kept whatever HQ says
                    "11112222": ("11:30", "booked"),          # moved
                    "33334444": ("11:00", "booked")}          # new; 87654321 cancelled
    assert out["removed"] == 1


def test_an_appointments_day_is_the_calendar_date_booked_not_the_business_day(engine, clock):
    """A hall open past midnight: at 01:25 on the 24th the business day is still the 23rd (it runs
    until the 04:00 rollover), and a booking for the 24th at 01:30 checks in; so does one for
    23:55 on the 23rd checked in at 00:03."""
    nxt = "2026-11-24"
    engine.store_appointments({DAY: [{"code": "77778888", "service": "A", "slot": "23:55"}],
                               nxt: [{"code": "55556666", "service": "A", "slot": "01:30"}]})
    at(clock, "23:50")
    clock.advance(13 * 60)                                     # 00:03 on the 24th
    assert engine.check_in("77778888")["appointment"] == {"slot": "23:55", "late": False}
    clock.advance(82 * 60)                                     # 01:25
    assert engine.current_day() == DAY
    t = engine.check_in("55556666")
    assert t["appointment"] == {"slot": "01:30", "late": False}


def test_kiosk_stats_counts_the_outcomes(engine, clock, settings):
    from datetime import date

    from kiosk.engine.stats import compute
    at(clock, "10:00")
    engine.check_in("12345678")
    at(clock, "10:15")
    engine.tick()                                              # 87654321 (10:00) is missed now
    out = compute(engine.conn, date.fromisoformat(DAY), date.fromisoformat(DAY), engine.settings)
    assert out["appointments"] == {"booked": 1, "checked_in": 1, "late": 0, "missed": 1}


def test_an_appointments_wait_is_counted_from_its_arrival(engine, clock):
    """Its head start orders the line; the wait reported (the call, the statistics) is the time the
    customer really spent in the hall."""
    at(clock, "09:55")
    engine.check_in("12345678")                                 # queued as of 09:50
    at(clock, "10:00")
    assert engine.call_next(3).wait_s == pytest.approx(300)
