"""The queue engine: issuing, calling order, counter actions, illegal operations, days and time."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from kiosk.domain import errors
from kiosk.engine.readmodel import snapshot
from tests.kit.settings import CN, settings_with


def events(engine, type_=None):
    out = [e.as_message() for e in engine.store.events_after(0, 100000)]
    return [e for e in out if type_ is None or e["type"] == type_]


def state_of(engine, number):
    return engine.ticket(number)["state"]


def test_issue_numbers_ahead_and_event(engine, clock):
    a1 = engine.issue("A")
    clock.advance(10)
    a2 = engine.issue("a")
    b1 = engine.issue("B")
    assert (a1.ticket, a2.ticket, b1.ticket) == ("A001", "A002", "B001")
    assert (a1.ahead, a2.ahead, b1.ahead) == (0, 1, 0)
    ev = events(engine, "ticket.issued")
    assert [e["ticket"] for e in ev] == ["A001", "A002", "B001"]
    assert ev[1]["ahead"] == 1 and ev[1]["service"] == "A" and ev[1]["priority"] == 0
    assert "estimate_s" in ev[1] and ev[1]["estimate_s"] >= 0
    assert [e["seq"] for e in events(engine)] == sorted(e["seq"] for e in events(engine))
    assert len({e["id"] for e in events(engine)}) == len(events(engine))


def test_vip_service_tickets_are_priority_of_the_lowest_tier_unless_a_tier_is_given(engine):
    v = engine.issue("V")
    p = engine.issue("A", priority=True)
    assert v.priority == 3 and p.priority == 3          # silver: the sample hall's lowest tier
    assert engine.issue("V", tier="diamond").priority == 1
    assert engine.issue("A", tier="gold").priority == 2
    assert events(engine, "ticket.issued")[-1]["priority"] == 2
    with pytest.raises(errors.UnknownTier, match="platinum"):
        engine.issue("A", tier="platinum")


def with_order(settings, order):
    return settings_with(settings, counters=[{**c.model_dump(mode="json"), "order": order} for c in settings.counters])


def test_fifo_across_a_counters_services(make_engine, settings, clock):
    engine = make_engine(with_order(settings, "fifo"))
    engine.issue("B"); clock.advance(5)
    engine.issue("A"); clock.advance(5)
    engine.issue("B")
    # counter 3 serves A and B: oldest first regardless of service
    assert [engine.call_next(3).ticket for _ in range(3)] == ["B001", "A001", "B002"]
    assert engine.call_next(3) is None


def test_priority_first_only_at_vip_first_counters(engine, clock):
    engine.issue("A"); clock.advance(5)
    engine.issue("A", priority=True); clock.advance(5)
    assert engine.call_next(3).ticket == "A001"          # counter 3 is not vip_first: FIFO
    engine.issue("A"); clock.advance(5)
    engine.issue("V")
    assert engine.call_next(1).ticket == "A002"          # priority ticket (older) first
    assert engine.call_next(1).ticket == "V001"          # then the other priority ticket
    assert engine.call_next(1).ticket == "A003"


def test_a_strict_counter_calls_its_preferred_service_first_until_the_other_starves(engine, clock, settings):
    # issue 13: counter 4 `services = ["B", "A"]` called A001 before B001
    engine.issue("A"); clock.advance(5)
    engine.issue("B"); clock.advance(5)
    engine.issue("A")
    assert engine.call_next(4).ticket == "B001"
    clock.advance(settings.service("A").starvation_limit_min * 60)
    engine.issue("B")
    assert engine.call_next(4).ticket == "A001"          # past A's limit: no longer passed over
    assert engine.call_next(4).ticket == "A002"          # also past it now
    assert engine.call_next(4).ticket == "B002"


def test_anti_starvation_never_beats_priority_at_a_vip_first_counter(engine, clock, settings):
    engine.issue("B")
    clock.advance(settings.service("B").starvation_limit_min * 60 + 1)
    engine.issue("V")
    assert engine.call_next(1).ticket == "V001"
    assert engine.call_next(1).ticket == "B001"


def test_people_ahead_counts_every_ticket_the_rule_calls_first_across_services(make_engine, settings, clock):
    # issue 13: counter 3 serves A and B; with B001 and B002 waiting a new A ticket said "0 ahead"
    engine = make_engine(settings_with(settings, counters=[
        {"number": 3, "services": ["A", "B"]}, {"number": 1, "services": ["V"], "vip_first": True}]),
        open_counters=False)
    engine.set_counter(3, "open")
    engine.issue("B"); clock.advance(5)
    engine.issue("B"); clock.advance(5)
    a = engine.issue("A")
    assert a.ahead == 2
    called = [engine.call_next(3).ticket for _ in range(3)]
    assert called.index(a.ticket) == a.ahead


def test_a_priority_ticket_counts_only_what_is_called_before_it(engine, clock):
    for _ in range(4):
        engine.issue("A"); clock.advance(5)
    v = engine.issue("V")
    assert v.ahead == 0
    assert engine.call_next(1).ticket == v.ticket


def test_call_by_number_and_wrong_service(engine):
    engine.issue("A"); engine.issue("A"); engine.issue("V")
    assert engine.call_ticket(3, "a002").ticket == "A002"
    with pytest.raises(errors.IllegalState, match="does not serve service V"):
        engine.call_ticket(4, "V001")
    with pytest.raises(errors.UnknownTicket):
        engine.call_ticket(3, "A999")


def test_next_finishes_the_current_ticket_with_measured_times(engine, clock):
    engine.issue("A")
    clock.advance(60)
    engine.issue("A")
    r = engine.call_next(3)
    assert r.wait_s == pytest.approx(60)
    clock.advance(30)
    engine.start(3)
    clock.advance(90)
    engine.call_next(3)
    fin = events(engine, "ticket.finished")
    assert fin[0]["ticket"] == "A001" and fin[0]["service_s"] == pytest.approx(120) and fin[0]["counter"] == 3
    called = events(engine, "ticket.called")
    assert called[1]["wait_s"] == pytest.approx(120)
    assert state_of(engine, "A001") == "done" and state_of(engine, "A002") == "called"


def test_recall_noshow_requeued_once(engine, clock):
    engine.issue("A"); engine.issue("A")
    engine.call_next(3)
    clock.advance(30)
    assert engine.recall(3).ticket == "A001"
    clock.advance(60)
    assert engine.noshow(3) == ("A001", True)
    assert state_of(engine, "A001") == "waiting"
    assert engine.call_next(3).ticket == "A002"          # requeued at the back
    assert engine.call_next(3).ticket == "A001"
    assert engine.noshow(3) == ("A001", False)
    assert state_of(engine, "A001") == "noshow"
    assert [e["recalls"] for e in events(engine, "ticket.recalled")] == [1]


def test_transfer_keeps_the_original_place_in_time(engine, clock):
    engine.issue("A"); clock.advance(10)
    engine.issue("B"); clock.advance(10)
    engine.call_next(3)                                   # A001
    assert engine.transfer(3, "B") == "A001"
    assert engine.call_next(4).ticket == "A001"          # issued before B001: first in B
    tr = events(engine, "ticket.transferred")[0]
    assert tr["to_service"] == "B" and tr["service"] == "A"
    rows = engine.conn.execute("SELECT state, service FROM tickets WHERE number = 'A001' ORDER BY id").fetchall()
    assert [tuple(r) for r in rows] == [("transferred", "A"), ("called", "B")]


def test_rate_finished_ticket_and_rating_pad(engine):
    engine.issue("A"); engine.issue("A")
    engine.call_next(3); engine.finish(3)
    assert engine.rate("A001", 5) == "A001"
    with pytest.raises(errors.IllegalState, match="already been rated"):
        engine.rate("A001", 4)
    with pytest.raises(errors.IllegalState, match="1 to 5"):
        engine.rate("A001", 9)
    engine.call_next(3)
    assert engine.rate_at_counter(3, 1) == "A002"
    assert [e["score"] for e in events(engine, "ticket.rated")] == [5, 1]


def test_counter_states(engine):
    engine.issue("A")
    engine.set_counter(3, "paused")
    with pytest.raises(errors.CounterNotOpen, match="counter 3 is paused"):
        engine.call_next(3)
    engine.set_counter(3, "open")
    engine.call_next(3)
    with pytest.raises(errors.IllegalState, match="still has ticket A001"):
        engine.set_counter(3, "closed")
    engine.finish(3)
    assert engine.set_counter(3, "closed") == "closed"
    types = [e["type"] for e in events(engine) if e["type"].startswith("counter.")]
    assert types[-3:] == ["counter.paused", "counter.opened", "counter.closed"]


@pytest.mark.parametrize("op, exc", [
    (lambda e: e.finish(3), errors.NothingCalled),
    (lambda e: e.recall(3), errors.NothingCalled),
    (lambda e: e.call_next(99), errors.UnknownCounter),
    (lambda e: e.issue("Z"), errors.UnknownService),
    (lambda e: e.rate("A777", 5), errors.UnknownTicket),
    (lambda e: e.transfer(3, "Q"), errors.UnknownService),
    (lambda e: e.set_counter(3, "asleep"), errors.IllegalState),
])
def test_illegal_operations_change_nothing(engine, op, exc):
    engine.issue("A")
    before = (engine.store.last_seq(), engine.conn.execute("SELECT * FROM tickets").fetchall())
    with pytest.raises(exc) as info:
        op(engine)
    assert str(info.value)
    after = (engine.store.last_seq(), engine.conn.execute("SELECT * FROM tickets").fetchall())
    assert [tuple(r) for r in before[1]] == [tuple(r) for r in after[1]] and before[0] == after[0]


def test_call_at_closed_counter(make_engine):
    engine = make_engine(open_counters=False)
    engine.issue("A")
    with pytest.raises(errors.CounterNotOpen, match="closed"):
        engine.call_next(3)


def test_range_refuse_and_wrap(make_engine, settings):
    svcs = settings.model_dump(mode="json")["services"]
    svcs[0].update(numbers=[1, 3], on_exhausted="refuse")
    svcs[1].update(numbers=[1, 3], on_exhausted="wrap")
    engine = make_engine(settings_with(settings, services=svcs))
    assert [engine.issue("A").ticket for _ in range(3)] == ["A001", "A002", "A003"]
    with pytest.raises(errors.RangeExhausted, match="refuse"):
        engine.issue("A")
    assert [engine.issue("B").ticket for _ in range(3)] == ["B001", "B002", "B003"]
    with pytest.raises(errors.RangeExhausted, match="still in the queue"):
        engine.issue("B")
    engine.call_next(4)                                  # B001 leaves the queue…
    engine.finish(4)
    assert engine.issue("B").ticket == "B001"            # …so its number may be used again


def test_daily_cap_and_opening_hours(make_engine, settings, clock):
    svcs = settings.model_dump(mode="json")["services"]
    svcs[0].update(daily_cap=2)
    svcs[1].update(hours=["10:00-12:00", "13:00-17:00"])
    engine = make_engine(settings_with(settings, services=svcs))
    engine.issue("A"); engine.issue("A")
    with pytest.raises(errors.DailyCapReached):
        engine.issue("A")
    with pytest.raises(errors.ServiceClosed, match="10:00-12:00, 13:00-17:00"):
        engine.issue("B")                                # it is 09:00
    snap = snapshot(engine)
    assert {s["service"]: s["unavailable"] for s in snap["services"]} == {"A": "daily_cap", "B": "hours", "V": None}
    clock.advance(3600)
    assert engine.issue("B").ticket == "B001"
    engine.set_service_hours("B", ["14:00-15:00"])
    with pytest.raises(errors.ServiceClosed):
        engine.issue("B")


def test_rollover_once_per_day_expires_and_keeps_history(engine, clock):
    engine.issue("A"); engine.issue("A")
    engine.call_next(3)
    day1 = engine.current_day()
    clock.advance(20 * 3600)                             # 05:00 next day, past the 04:00 rollover
    t = engine.issue("A")
    assert t.ticket == "A001" and t.day != day1          # numbering restarts
    rows = engine.conn.execute("SELECT day, state FROM tickets WHERE day = ?", (day1,)).fetchall()
    assert sorted(r["state"] for r in rows) == ["expired", "expired"]   # history kept
    roll = events(engine, "day.rollover")
    assert len(roll) == 1 and roll[0]["expired"] == 2 and roll[0]["to_day"] == t.day
    engine.tick(); engine.tick()
    assert len(events(engine, "day.rollover")) == 1


def test_wall_clock_jumps_give_no_negative_wait_and_no_extra_rollover(engine, clock):
    engine.issue("A")
    day = engine.current_day()
    clock.set_wall(datetime(1970, 1, 1, 0, 0, tzinfo=CN))          # NTP not synced yet
    clock.advance(30)
    engine.issue("A")
    clock.set_wall(datetime(2026, 11, 23, 8, 0, tzinfo=CN))         # one hour back
    clock.advance(30)
    r = engine.call_next(3)
    assert r.wait_s == pytest.approx(60)                  # measured on the monotonic timeline
    assert engine.current_day() == day
    clock.set_wall(datetime(2026, 11, 23, 10, 0, tzinfo=CN))        # one hour forward
    engine.tick()
    assert engine.current_day() == day and events(engine, "day.rollover") == []


def test_restart_after_power_cut_continues_hall_time(make_engine, engine, clock, tmp_path):
    engine.issue("A")
    clock.advance(100)
    engine.tick()                                         # the core loop records hall time periodically
    clock.reboot(wall=datetime(1970, 1, 1, 0, 0, 5, tzinfo=CN))      # no RTC: boots in 1970
    engine2 = make_engine(path=tmp_path / "kiosk.db", open_counters=False)
    clock.advance(20)
    r = engine2.call_next(3)
    assert r.ticket == "A001" and r.wait_s == pytest.approx(120)  # never negative, never lost


def test_snapshot_shape(engine, clock):
    engine.issue("A"); clock.advance(42); engine.issue("V")
    engine.call_next(1)
    snap = snapshot(engine)
    json.dumps(snap)
    a = next(s for s in snap["services"] if s["service"] == "A")
    assert a["waiting"] == 1 and a["longest_wait_s"] == pytest.approx(42)
    c1 = next(c for c in snap["counters"] if c["counter"] == 1)
    assert c1["ticket"] == "V001" and c1["state"] == "open"
    assert snap["waiting"] == 1 and snap["open_counters"] == 4
    assert snap["devices"] == {}


def test_snapshot_lists_the_open_device_faults(engine):
    engine.record_device("printer", True, "paper_out", "paper end")
    engine.record_device("hall-board", True, "unplugged", "port gone")
    engine.record_device("printer", True, "cover_open", "cover")        # a new kind replaces the old
    engine.record_device("hall-board", False, "unplugged", "unplugged cleared")
    devices = snapshot(engine)["devices"]
    assert list(devices) == ["printer"]
    assert devices["printer"]["kind"] == "cover_open" and devices["printer"]["reason"] == "cover"
    assert devices["printer"]["since"].startswith("20")
    assert [e["type"] for e in events(engine)][-4:] == ["device.fault", "device.fault", "device.fault",
                                                        "device.recovered"]


def test_print_outcome_recorded(engine):
    t = engine.issue("A")
    engine.record_print(t.ticket_id, False, "paper out", "paper_out")
    assert engine.ticket("A001")["printed"] == "failed"
    ev = events(engine, "ticket.print_failed")[0]
    assert ev["reason"] == "paper out" and ev["kind"] == "paper_out" and ev["ticket"] == "A001"
    engine.record_print(t.ticket_id, True)
    assert engine.ticket("A001")["printed"] == "ok"
    assert "kind" not in events(engine, "ticket.printed")[0]


def test_manual_rollover(engine):
    engine.issue("A")
    day = engine.current_day()
    new = engine.rollover()
    assert new == (datetime.fromisoformat(day) + timedelta(days=1)).date().isoformat()
    assert engine.issue("A").ticket == "A001"


def test_prints_interrupted_by_a_restart_are_recorded_failed(engine):
    a = engine.issue("A")
    b = engine.issue("A")
    engine.record_print(a.ticket_id, True)
    assert engine.fail_interrupted_prints() == ["A002"]
    assert engine.ticket("A002")["printed"] == "failed" and engine.ticket("A001")["printed"] == "ok"
    ev = events(engine, "ticket.print_failed")
    assert [e["ticket"] for e in ev] == ["A002"] and "restarted" in ev[0]["reason"] and b.ticket == "A002"
    assert engine.fail_interrupted_prints() == []
