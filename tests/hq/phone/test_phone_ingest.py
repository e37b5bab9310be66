"""The follow message at HQ's boundary (`kiosk.hq.ingest.follow`) and the in-memory index of
followed tickets (`kiosk.hq.phone.follow_index`): hostile payloads refused with a code and the
field named; the index replaced whole per branch, changes reported per key, keys not hijacked,
and safe to update from one thread while another reads."""
from __future__ import annotations

import json
import secrets
import threading
from datetime import date, datetime, timedelta

import pytest

from kiosk.hq.ingest import Rejected
from kiosk.hq.ingest.follow import MAX_TICKETS, parse_follow, phone_info, split_follow_topic
from kiosk.hq.phone.branches import public_branches
from kiosk.hq.phone.follow_index import FollowIndex, key_of
from tests.kit.hostile_payloads import js, nested, raw

B = "sh-pudong-01"
TODAY = date.today().isoformat()
TS = datetime.now().astimezone().isoformat(timespec="seconds")


def ticket(n: int = 1, **kw):
    return {"key": f"{n:032x}", "ticket": f"A{n:03d}", "service": "A", "state": "waiting", "ahead": 2,
            "estimate_s": 300.0, "counter": None, "since": TS, **kw}


def follow(tickets=None, **kw):
    return {"v": 1, "ts": TS, "branch": B, "day": TODAY, "tickets": [ticket()] if tickets is None else tickets,
            "calls": [{"ticket": "A000", "counter": 3, "ts": TS}], **kw}


HOSTILE = [
    ("not_json", lambda: b"<html>", "bad_json", None),
    ("empty_list", lambda: b"[]", "not_object", None),
    ("too_large", lambda: js(follow(pad="x" * 1_100_000)), "too_large", None),
    ("too_many_tickets", lambda: js(follow([ticket(i) for i in range(MAX_TICKETS + 1)])), "too_many", "tickets"),
    ("deep", lambda: js(follow(x=nested(13))), "too_deep", None),
    ("nan_estimate", lambda: raw(follow(), "x", "NaN"), "not_finite", None),
    ("version_2", lambda: js(follow(v=2)), "bad_version", "v"),
    ("wrong_branch", lambda: js(follow(branch="other")), "wrong_branch", "branch"),
    ("no_day", lambda: js({k: v for k, v in follow().items() if k != "day"}), "missing_field", "day"),
    ("future_day", lambda: js(follow(day="2999-01-01")), "future", "day"),
    ("tickets_string", lambda: js(follow(tickets="A001")), "bad_type", "tickets"),
    ("ticket_not_object", lambda: js(follow(["A001"])), "bad_type", "tickets[0]"),
    ("key_upper", lambda: js(follow([ticket(key="A" * 32)])), "bad_value", "tickets[0].key"),
    ("key_short", lambda: js(follow([ticket(key="a" * 31)])), "bad_value", "tickets[0].key"),
    ("key_path", lambda: js(follow([ticket(key="../" + "a" * 29)])), "bad_value", "tickets[0].key"),
    ("key_missing", lambda: js(follow([{k: v for k, v in ticket().items() if k != "key"}])), "missing_field",
     "tickets[0].key"),
    ("key_number", lambda: js(follow([ticket(key=12345)])), "bad_type", "tickets[0].key"),
    ("duplicate_key", lambda: js(follow([ticket(1), ticket(1)])), "duplicate", "tickets[1].key"),
    ("script_ticket", lambda: js(follow([ticket(ticket="<script>")])), "bad_value", "tickets[0].ticket"),
    ("long_service", lambda: js(follow([ticket(service="A" * 17)])), "bad_value", "tickets[0].service"),
    ("state_word", lambda: js(follow([ticket(state="vip")])), "bad_value", "tickets[0].state"),
    ("ahead_negative", lambda: js(follow([ticket(ahead=-1)])), "out_of_range", "tickets[0].ahead"),
    ("ahead_string", lambda: js(follow([ticket(ahead="2")])), "bad_type", "tickets[0].ahead"),
    ("ahead_when_called", lambda: js(follow([ticket(state="called", counter=3)])), "bad_value", "tickets[0].ahead"),
    ("counter_zero", lambda: js(follow([ticket(state="called", ahead=None, estimate_s=None, counter=0)])),
     "out_of_range", "tickets[0].counter"),
    ("counter_when_waiting", lambda: js(follow([ticket(counter=3)])), "bad_value", "tickets[0].counter"),
    ("estimate_huge", lambda: js(follow([ticket(estimate_s=1e12)])), "out_of_range", "tickets[0].estimate_s"),
    ("since_object", lambda: js(follow([ticket(since={})])), "bad_type", "tickets[0].since"),
    ("control_char", lambda: js(follow([ticket(ticket="A\u0000")])), "bad_char", None),
    ("calls_six", lambda: js(follow(calls=[{"ticket": "A001", "counter": 1}] * 6)), "too_many", "calls"),
    ("call_counter_word", lambda: js(follow(calls=[{"ticket": "A001", "counter": "3"}])), "bad_type",
     "calls[0].counter"),
]


@pytest.mark.parametrize("name,build,code,field", HOSTILE, ids=[c[0] for c in HOSTILE])
def test_hostile_follow_refused_naming_the_field(name, build, code, field):
    with pytest.raises(Rejected) as exc:
        parse_follow(B, build())
    assert exc.value.code == code, exc.value.message
    if field is not None:
        assert exc.value.field == field, exc.value.message


def test_good_follow_with_2000_tickets_accepted():
    doc = follow([ticket(i) for i in range(MAX_TICKETS)])
    checked = parse_follow(B, js(doc))
    assert len(checked.tickets) == MAX_TICKETS and checked.doc["day"] == TODAY
    assert checked.tickets[5].key == f"{5:032x}" and checked.calls[0].counter == 3


def test_follow_topic():
    assert split_follow_topic("kiosk", f"kiosk/{B}/follow") == B
    assert split_follow_topic("kiosk", f"kiosk/{B}/queue") is None
    assert split_follow_topic("kiosk", "kiosk/a/b/follow") is None
    assert split_follow_topic("kiosk", f"other/{B}/follow") is None


def test_index_view_replace_expire_and_changes():
    index = FollowIndex()
    seen: list[tuple[str, object]] = []
    unsubscribe = index.subscribe(lambda k, v: seen.append((k, v)))
    token = secrets.token_urlsafe(16)
    key = key_of(token)
    assert len(key) == 32 and key == FollowIndex.key_of(token)
    index.update(B, parse_follow(B, js(follow([ticket(key=key), ticket(2)]))).doc)
    v = index.view(key)
    assert v == {"ticket": "A001", "service": "A", "state": "waiting", "ahead": 2, "estimate_s": 300.0,
                 "counter": None, "branch": B, "calls": [{"ticket": "A000", "counter": 3, "ts": TS}], "updated": TS}
    assert index.branch_of(key) == B and {k for k, _ in seen} == {key, f"{2:032x}"}
    seen.clear()
    # the same again: no change reported; then the ticket is called: one change
    index.update(B, follow([ticket(key=key), ticket(2)]))
    assert seen == []
    index.update(B, follow([ticket(key=key, state="called", ahead=None, estimate_s=None, counter=3), ticket(2)]))
    assert [k for k, _ in seen] == [key] and seen[0][1]["counter"] == 3
    seen.clear()
    # no longer listed: gone, reported with None
    index.update(B, follow([ticket(2)]))
    assert index.view(key) is None and index.branch_of(key) is None and (key, None) in seen
    unsubscribe()
    index.update(B, follow([]))
    assert seen == [(key, None)]   # nothing more after unsubscribing


def test_index_of_a_past_day_is_expired():
    """A business day runs until the branch's rollover (04:00 by default, after midnight): yesterday's
    day is still shown; the day before is expired."""
    index = FollowIndex()
    now = datetime.now().astimezone()
    yesterday, before = ((now.date() - timedelta(days=n)).isoformat() for n in (1, 2))
    ts = now.isoformat(timespec="seconds")
    index.update(B, follow([ticket()], day=yesterday, ts=ts))
    assert index.view(f"{1:032x}") is not None
    index.update(B, follow([ticket()], day=before, ts=ts))
    assert index.view(f"{1:032x}") is None


def test_index_key_not_taken_over_by_another_branch():
    index = FollowIndex()
    index.update(B, follow([ticket()]))
    index.update("intruder", follow([ticket(state="called", ahead=None, estimate_s=None, counter=9)],
                                    branch="intruder"))
    v = index.view(f"{1:032x}")
    assert v["branch"] == B and v["state"] == "waiting"


def test_index_updates_and_reads_on_two_threads():
    index = FollowIndex()
    keys = [f"{i:032x}" for i in range(500)]
    errors: list[BaseException] = []

    def writer():
        try:
            for n in range(50):
                index.update(B, follow([ticket(i, ahead=n) for i in range(500)]))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
    t = threading.Thread(target=writer)
    t.start()
    while t.is_alive():
        for k in keys[::50]:
            v = index.view(k)
            assert v is None or v["ticket"].startswith("A")
    t.join()
    assert not errors and index.view(keys[7])["ahead"] == 49 and len(index) == 500


def test_phone_block_cleaned_and_branch_list_has_nothing_else():
    queue = {"services": [{"service": "A", "name": {"zh": "缴费", "en": "Pay", "x": "y"}, "waiting": 3,
                           "estimate_s": 90, "served_today": 40}],
             "counters": [{"counter": 1, "name": {"en": "clerk Wang"}}],
             "phone": {"remote": "yes", "services": ["A", "<b>", 3], "name": {"zh": "浦东", "en": "<i>P</i>"},
                       "lat": 999, "lon": 121.5, "address": "a string", "check_in_min": 60,
                       "quiet": {"zh": "周二 14:00–15:00 人少", "en": ["not", "text"], "fr": "x"}}}
    p = phone_info(queue)
    assert p == {"remote": False, "services": ["A"], "name": {"zh": "浦东", "en": "<i>P</i>"}, "address": {},
                 "lat": None, "lon": 121.5, "check_in_min": 60, "quiet": {"zh": "周二 14:00–15:00 人少"}}
    rows = public_branches([(B, queue, True), ("no-phone", {"services": []}, True)])
    assert rows == [{"branch": B, "name": {"zh": "浦东", "en": "<i>P</i>"}, "address": {}, "lat": None, "lon": 121.5,
                     "online": True, "waiting": 3, "remote": False,
                     "services": [{"service": "A", "name": {"zh": "缴费", "en": "Pay"}, "waiting": 3,
                                   "estimate_s": 90.0, "remote": False}],
                     "quiet": {"zh": "周二 14:00–15:00 人少"}, "appointments": {"services": []}, "forms": {}}]
    assert "clerk" not in json.dumps(rows) and "served_today" not in json.dumps(rows)


def test_followers_keep_alive_from_one_timer_and_push_only_changes(monkeypatch):
    """An open stream gets the view, a keep-alive comment when nothing changed for KEEPALIVE_S (one
    timer for every stream), the new view when its ticket changes, and `expired` when it goes."""
    import asyncio

    from kiosk.hq.phone import routes

    monkeypatch.setattr(routes, "KEEPALIVE_S", 0.1)
    index = FollowIndex()
    index.update(B, follow([ticket()]))
    key = f"{1:032x}"

    async def run() -> list[str]:
        followers = routes.Followers(index)
        followers.attach(asyncio.get_running_loop())
        got: list[str] = []
        stream = followers.stream(key)
        got.append(await anext(stream))
        got.append(await asyncio.wait_for(anext(stream), 2))           # nothing changed: a keep-alive
        index.update(B, follow([ticket(state="called", ahead=None, estimate_s=None, counter=3)]))
        got.append(await asyncio.wait_for(anext(stream), 2))
        index.update(B, follow([]))
        got.append(await asyncio.wait_for(anext(stream), 2))
        followers.close()
        return got

    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(1) as pool:        # a loop of its own (the session's Playwright runs one here)
        first, alive, called, gone = pool.submit(lambda: asyncio.run(run())).result(10)
    assert first.startswith("event: ticket") and alive == ": keepalive\n\n"
    assert called.startswith("event: ticket") and '"counter":3' in called.replace(" ", "")
    assert gone.startswith("event: expired")
