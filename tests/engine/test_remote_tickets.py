"""Tickets taken on the phone. Promises to the customer who takes one: it holds its place in the
line from the moment it was taken; it is never called while they are not in the hall (parked) and
counts for nobody's "people ahead" meanwhile; once checked in at the kiosk it is called in that
place; not checked in within the window it expires and says so. Promises to the branch: a remote
cap per service, no remote tickets unless switched on, and every ticket's follow token unguessable."""
from __future__ import annotations

import re

import pytest

from kiosk.config.settings import Settings
from kiosk.domain import errors
from kiosk.engine.follow_view import FollowView
from kiosk.engine.remote_tickets import follow_key, parse_check_in


def remote_settings(settings: Settings, **phone) -> Settings:
    data = settings.model_dump(mode="json")
    data["phone"] = {"remote": True, "check_in_min": 30, "follow_url": "https://hq.example.com/t/{token}", **phone}
    return Settings.model_validate(data)


@pytest.fixture
def engine(make_engine, settings):
    return make_engine(remote_settings(settings))


def called(engine, counter: int) -> str | None:
    r = engine.call_next(counter)
    return r.ticket if r else None


def states(engine) -> dict[str, str]:
    return {r["number"]: r["state"] for r in engine.conn.execute("SELECT number, state FROM tickets")}


def test_parked_until_checked_in_then_called_in_its_place(engine, clock):
    first = engine.issue("A").ticket
    remote = engine.issue_remote("A")
    clock.advance(60)
    later = engine.issue("A").ticket
    assert states(engine)[remote["ticket"]] == "parked"
    # parked: nobody's person ahead, never called — the counter goes past it
    assert engine.issue("A").ahead == 2                          # first and later, not the parked one
    assert called(engine, 1) == first
    assert called(engine, 1) == later
    with pytest.raises(errors.UnknownTicket):
        engine.call_ticket(2, remote["ticket"])                  # not even by number
    # checked in: in its place — before the ticket taken after it
    clock.advance(60)
    ticket = engine.check_in(remote["check_in_code"])
    assert ticket["state"] == "waiting" and ticket["number"] == remote["ticket"]
    after = engine.issue("A").ticket
    assert [called(engine, 1), called(engine, 1)][0] == remote["ticket"]
    assert after in states(engine) and states(engine)[remote["ticket"]] in ("called", "done")


def test_the_reply_hq_passes_to_the_phone(engine, clock):
    r = engine.issue_remote("A")
    assert set(r) == {"ticket", "ticket_id", "service", "follow_token", "check_in_code", "ahead", "estimate_s",
                      "check_in_by"}
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", r["follow_token"]) and re.fullmatch(r"[0-9]{6}", r["check_in_code"])
    assert r["check_in_by"] == "2026-11-23T09:30:00+08:00"         # check_in_min = 30 from 09:00


def test_check_in_by_code_token_or_scanned_url(engine):
    a, b, c = (engine.issue_remote("A") for _ in range(3))
    assert engine.check_in(f" {a['check_in_code']} ")["state"] == "waiting"
    assert engine.check_in(b["follow_token"])["state"] == "waiting"
    assert engine.check_in(f"https://hq.example.com/t/{c['follow_token']}")["state"] == "waiting"


def test_wrong_codes_change_nothing_and_say_why(engine):
    r = engine.issue_remote("A")
    before, last = states(engine), engine.store.last_seq()
    wrong = "000000" if r["check_in_code"] != "000000" else "000001"
    for text, error, words in ((wrong, errors.UnknownTicket, "no remote ticket with this code"),
                               ("12345", errors.UnknownTicket, "not a check-in code"),
                               ("", errors.UnknownTicket, "not a check-in code"),
                               ("x" * 5000, errors.UnknownTicket, "not a check-in code"),
                               ("https://evil.example/t/" + "A" * 22, errors.UnknownTicket, "not a remote ticket")):
        with pytest.raises(error, match=words):
            engine.check_in(text)
    local = engine.issue("A")                                    # a printed ticket is no remote ticket
    with pytest.raises(errors.UnknownTicket, match="not a remote ticket"):
        engine.check_in(local.follow_token)
    engine.check_in(r["check_in_code"])
    with pytest.raises(errors.IllegalState, match="already checked in"):
        engine.check_in(r["check_in_code"])
    assert states(engine)[r["ticket"]] == "waiting" and before[r["ticket"]] == "parked"
    assert engine.store.last_seq() == last + 2                   # the local ticket issued, and the check-in


def test_not_checked_in_in_time_expires_with_an_event(engine, clock):
    r = engine.issue_remote("A")
    clock.advance(29 * 60)
    engine.tick()
    assert states(engine)[r["ticket"]] == "parked"
    clock.advance(61)
    engine.tick()
    assert states(engine)[r["ticket"]] == "expired"
    ev = engine.conn.execute("SELECT type, body FROM outbox ORDER BY seq DESC LIMIT 1").fetchone()
    assert ev["type"] == "ticket.expired" and r["ticket"] in ev["body"]
    with pytest.raises(errors.IllegalState, match="expired at 09:30.*take a new ticket"):
        engine.check_in(r["check_in_code"])


def test_the_day_ends_for_parked_tickets_too(engine, clock):
    r = engine.issue_remote("A")
    engine.rollover()
    assert states(engine)[r["ticket"]] == "expired"


def test_remote_tickets_only_when_switched_on_and_within_the_cap(make_engine, settings):
    off = make_engine(settings)
    with pytest.raises(errors.RemoteOff, match="no remote tickets"):
        off.issue_remote("A")
    only_b = make_engine(remote_settings(settings, remote_services=["B"]))
    with pytest.raises(errors.RemoteOff, match="service A"):
        only_b.issue_remote("A")
    capped = make_engine(remote_settings(settings, remote_daily_cap=2))
    capped.issue_remote("A"), capped.issue_remote("A")
    with pytest.raises(errors.RemoteCapReached, match="2 remote tickets"):
        capped.issue_remote("A")
    capped.issue_remote("B")                                     # per service
    assert capped.issue("A").ticket                              # and the hall still issues at the kiosk
    assert capped.conn.execute("SELECT count(*) FROM tickets WHERE issued_via = 'remote'").fetchone()[0] == 3


def test_follow_tokens_are_unguessable_and_unique(engine):
    tokens = [engine.issue("A").follow_token for _ in range(200)]
    assert len(set(tokens)) == 200 and all(re.fullmatch(r"[A-Za-z0-9_-]{22}", t) for t in tokens)
    assert parse_check_in(tokens[0]) == ("token", tokens[0])


def test_the_follow_view_carries_keys_not_tokens(engine, clock):
    a = engine.issue("A")
    r = engine.issue_remote("A")
    view = FollowView().read(engine)
    text = repr(view)
    assert a.follow_token not in text and r["follow_token"] not in text
    by_key = {t["key"]: t for t in view["tickets"]}
    mine = by_key[follow_key(r["follow_token"])]
    assert mine["state"] == "parked" and mine["ahead"] == 1 and mine["counter"] is None
    engine.call_next(1)
    view = FollowView().read(engine)
    called_now = {t["key"]: t for t in view["tickets"]}[follow_key(a.follow_token)]
    assert called_now["state"] == "called" and called_now["counter"] == 1 and called_now["ahead"] is None
    assert view["calls"][0] == {"ticket": a.ticket, "counter": 1, "ts": "2026-11-23T09:00:00+08:00"}
    assert {t["key"]: t for t in view["tickets"]}[follow_key(r["follow_token"])]["ahead"] == 0


def test_the_follow_message_stays_under_the_brokers_packet_cap(engine):
    """A broker drops a client that sends a packet over its cap (256 KiB in our samples): the
    message keeps within 200 kB, the tickets that left the queue going first, then the newest."""
    import json
    view = FollowView().read(engine)
    entry = {"key": "0" * 32, "ticket": "A001", "service": "A", "state": "waiting", "ahead": 1, "estimate_s": 60.0,
             "counter": None, "since": "2026-11-23T09:00:00+08:00"}
    done = [{**entry, "ticket": f"B{i:03d}", "state": "done", "counter": 1} for i in range(800)]
    waiting = [{**entry, "ticket": f"A{i:03d}"} for i in range(1500)]
    text = FollowView.fit({**view, "tickets": done + waiting}, json.dumps)
    kept = json.loads(text)["tickets"]
    assert len(text.encode()) <= 200_000 and kept and all(t["state"] == "waiting" for t in kept)
    assert [t["ticket"] for t in kept] == [t["ticket"] for t in waiting[:len(kept)]]   # the oldest kept
    small = {**view, "tickets": waiting[:3]}
    assert FollowView.fit(small, json.dumps) == json.dumps(small)


def test_a_remote_tickets_wait_is_counted_from_its_check_in(engine, clock):
    """The statistics and the call's `wait_s` (HQ's "within target", the estimator's learning) count
    the time the customer spent in the hall, not the time before they came."""
    from datetime import date

    from kiosk.engine.stats import compute
    r = engine.issue_remote("A")
    clock.advance(20 * 60)                                       # on the way
    engine.check_in(r["check_in_code"])
    clock.advance(5 * 60)
    assert engine.call_next(1).wait_s == pytest.approx(300)
    out = compute(engine.conn, date(2026, 11, 23), date(2026, 11, 23), engine.settings)
    assert out["services"][0]["wait"]["max_s"] == pytest.approx(300, abs=1)


def test_the_estimators_calibration_keeps_a_remote_tickets_estimate_from_its_check_in(engine, clock):
    """Calibration compares a ticket's first estimate with when it was called: a parked ticket's
    time on the way is no part of the hall's waits, so its estimate is kept at check-in, not at issue."""
    first = engine.estimator._calibration.first
    r = engine.issue_remote("A")
    assert r["ticket_id"] not in first
    clock.advance(600)
    engine.check_in(r["check_in_code"])
    assert first[r["ticket_id"]].at == engine.time.now()
