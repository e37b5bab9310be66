"""Helpers of the event-store tests: checked events as MonitorState hands them to the recorder,
and the day figures computed straight from a list of events (the reference for the rollups)."""
from __future__ import annotations

import json
import random
import uuid
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from kiosk.hq.ingest import Event, parse
from kiosk.hq.recorder import Recorder

TODAY = date.today()
SERVICES = ("A", "B", "V")


def day(back: int) -> str:
    return (TODAY - timedelta(days=back)).isoformat()


def doc(branch: str, seq: int, type_: str, on: str, hour: int = 9, **kw: Any) -> dict[str, Any]:
    return {"v": 1, "id": uuid.uuid4().hex, "seq": seq, "type": type_, "branch": branch, "day": on,
            "ts": f"{on}T{hour:02d}:{seq % 60:02d}:00+08:00", **kw}


def checked(d: dict[str, Any]) -> tuple[Event, bytes]:
    payload = json.dumps(d).encode()
    ev = parse("events", d["branch"], payload)
    assert isinstance(ev, Event)
    return ev, payload


def add_all(rec: Recorder, docs: list[dict[str, Any]]) -> None:
    for d in docs:
        ev, payload = checked(d)
        rec.add_event(d["branch"], ev, payload)


def random_events(rng: random.Random, n: int, branches: list[str], days: list[str]) -> list[dict[str, Any]]:
    out = []
    seqs: dict[str, int] = defaultdict(int)
    for _ in range(n):
        b = rng.choice(branches)
        seqs[b] += 1
        kind = rng.choice(("ticket.issued", "ticket.called", "ticket.finished", "ticket.rated", "ticket.noshow",
                           "counter.opened", "alert.raised"))
        kw: dict[str, Any] = {}
        if kind.startswith("ticket."):
            if rng.random() < 0.9:
                kw["service"] = rng.choice(SERVICES)
            if rng.random() < 0.8:
                kw["counter"] = rng.randint(1, 4)
        if kind == "ticket.called" and rng.random() < 0.9:
            kw["wait_s"] = rng.choice((0, 59.5, 60, 120, 599, 600, 601, 1800.25, rng.uniform(0, 3000)))
        if kind == "ticket.finished" and rng.random() < 0.9:
            kw["service_s"] = round(rng.uniform(10, 900), 3)
        if kind == "ticket.rated" and rng.random() < 0.9:
            kw["score"] = rng.randint(0, 5)
        if kind == "alert.raised":
            kw["level"] = 1
        out.append(doc(b, seqs[b], kind, rng.choice(days), rng.randint(7, 18), **kw))
    return out


def expected(docs: list[dict[str, Any]], targets: dict[str, dict[str, float]]) -> dict[tuple, dict[str, Any]]:
    """Figures per (branch, day) straight from the events (each id once per branch)."""
    seen: set[tuple] = set()
    acc: dict[tuple, dict[str, Any]] = {}
    for d in docs:
        if (d["branch"], d["id"]) in seen:
            continue
        seen.add((d["branch"], d["id"]))
        a = acc.setdefault((d["branch"], d["day"]), {"issued": 0, "called": 0, "served": 0, "noshows": 0,
                                                      "ratings": 0, "satisfied": 0, "within": 0, "waits": [],
                                                      "services": [], "scores": []})
        t = d["type"]
        if t == "ticket.issued":
            a["issued"] += 1
        elif t == "ticket.called":
            a["called"] += 1
            if "wait_s" in d:
                a["waits"].append(d["wait_s"])
                limit = targets.get(d["branch"], {}).get(d.get("service"), 600.0)
                a["within"] += d["wait_s"] <= limit
        elif t == "ticket.finished":
            a["served"] += 1
            if "service_s" in d:
                a["services"].append(d["service_s"])
        elif t == "ticket.noshow":
            a["noshows"] += 1
        elif t == "ticket.rated":
            a["ratings"] += 1
            if "score" in d:
                a["scores"].append(d["score"])
                a["satisfied"] += d["score"] >= 4
    return acc
