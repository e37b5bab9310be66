"""What HQ knows about every branch, fed with (topic, payload) pairs from MQTT.

`MonitorState` keeps one `BranchState` per branch: online/offline and since when, waiting per
service, longest wait, open counters, alert level, open device faults, events per minute.
Events are counted once by id (a window of recent ids per branch) and handed to an optional
`Recorder`.
"""
from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from kiosk.hq.recorder import Recorder

EPM_WINDOW_S = 60.0
DEDUP_WINDOW = 1024  # ids remembered per branch (> a kiosk's in-flight window; the recording has the rest)


@dataclass
class BranchState:
    branch: str
    online: bool | None = None
    since: str | None = None
    version: str | None = None
    waiting: dict[str, int] = field(default_factory=dict)
    longest_wait_s: float | None = None
    open_counters: int | None = None
    alert_level: int = 0
    alert_reason: str = ""
    events: int = 0
    duplicates: int = 0
    last_seq: int = 0
    last_seen: float = 0.0
    last_stats: dict[str, Any] | None = None
    devices: dict[str, dict[str, Any]] = field(default_factory=dict)   # open faults: name → kind, reason, since
    _recent: deque = field(default_factory=deque, repr=False)
    _ids: set = field(default_factory=set, repr=False)
    _id_order: deque = field(default_factory=deque, repr=False)

    def seen(self, event_id: str) -> bool:
        """True if this event id was counted already; else remember it."""
        if event_id in self._ids:
            return True
        self._ids.add(event_id)
        self._id_order.append(event_id)
        if len(self._id_order) > DEDUP_WINDOW:
            self._ids.discard(self._id_order.popleft())
        return False

    def events_per_minute(self, now: float) -> int:
        r = self._recent
        while r and r[0] < now - EPM_WINDOW_S:
            r.popleft()
        return len(r)

    def as_dict(self, now: float) -> dict[str, Any]:
        return {"branch": self.branch, "online": self.online, "since": self.since, "version": self.version,
                "waiting": dict(self.waiting), "longest_wait_s": self.longest_wait_s,
                "open_counters": self.open_counters, "alert_level": self.alert_level,
                "alert_reason": self.alert_reason, "events": self.events, "duplicates": self.duplicates,
                "last_seq": self.last_seq, "events_per_min": self.events_per_minute(now),
                "devices": {k: dict(v) for k, v in sorted(self.devices.items())}}


def _device_fault(doc: dict[str, Any]) -> dict[str, Any]:
    return {"kind": str(doc.get("kind") or ""), "reason": str(doc.get("reason") or ""), "since": doc.get("since")}


class MonitorState:
    """The table of branches, fed with (topic, payload) pairs. Thread-safe."""

    def __init__(self, prefix: str = "kiosk", recorder: Recorder | None = None) -> None:
        self.prefix = prefix.rstrip("/") + "/"
        self.recorder = recorder
        self.branches: dict[str, BranchState] = {}
        self.messages = 0
        self.bad = 0
        self.events = 0
        self.duplicates = 0
        self.lock = threading.Lock()

    def branch(self, name: str) -> BranchState:
        b = self.branches.get(name)
        if b is None:
            b = self.branches[name] = BranchState(name)
        return b

    def ingest(self, topic: str, payload: bytes, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        if not topic.startswith(self.prefix):
            return
        rest = topic[len(self.prefix):]
        name, _, kind = rest.partition("/")
        if not name or not kind or kind.startswith(("cmd/", "reply/")):
            return
        try:
            doc = json.loads(payload)
        except ValueError:
            doc = None
        if not isinstance(doc, dict):
            with self.lock:
                self.bad += 1
            return
        with self.lock:
            self.messages += 1
            b = self.branch(name)
            b.last_seen = now
            if kind == "events":
                self._event(b, doc, payload, now)
            elif kind == "status":
                state = doc.get("state")
                b.online = state == "online" if state in ("online", "offline") else None
                b.since = doc.get("since") or doc.get("ts")
                b.version = doc.get("version")
            elif kind == "queue":
                services = doc.get("services") or []
                b.waiting = {str(s.get("service")): int(s.get("waiting") or 0) for s in services if isinstance(s, dict)}
                waits = [s.get("longest_wait_s") or 0 for s in services if isinstance(s, dict)]
                b.longest_wait_s = max(waits) if waits else 0.0
                b.open_counters = doc.get("open_counters")
                alert = doc.get("alert")
                if isinstance(alert, dict):
                    b.alert_level = int(alert.get("level") or 0)
                    b.alert_reason = str(alert.get("reason") or "")
                devices = doc.get("devices")
                if isinstance(devices, dict):       # kiosks before 0.1.0's schema 2 send none
                    b.devices = {str(k): _device_fault(v) for k, v in devices.items() if isinstance(v, dict)}
            elif kind == "alerts":
                b.alert_level = int(doc.get("level") or 0)
                b.alert_reason = str(doc.get("reason") or "")
                if doc.get("open_counters") is not None:
                    b.open_counters = doc["open_counters"]
            elif kind == "stats/hourly":
                b.last_stats = doc

    def _event(self, b: BranchState, doc: dict[str, Any], payload: bytes, now: float) -> None:
        event_id = doc.get("id")
        if not isinstance(event_id, str) or not event_id:
            self.bad += 1
            return
        if b.seen(event_id):
            b.duplicates += 1
            self.duplicates += 1
            return
        b.events += 1
        self.events += 1
        recent = b._recent
        recent.append(now)
        while recent[0] < now - EPM_WINDOW_S:
            recent.popleft()
        seq = doc.get("seq")
        if isinstance(seq, int) and seq > b.last_seq:
            b.last_seq = seq
        kind = doc.get("type")
        if kind in ("alert.raised", "alert.cleared"):
            b.alert_level = int(doc.get("level") or 0)
        elif kind == "device.fault" and doc.get("device"):
            b.devices[str(doc["device"])] = _device_fault({**doc, "since": doc.get("ts")})
        elif kind == "device.recovered" and doc.get("device"):
            b.devices.pop(str(doc["device"]), None)
        if self.recorder is not None:
            self.recorder.add((event_id, b.branch, seq if isinstance(seq, int) else None, str(doc.get("type")),
                               doc.get("ts"), doc.get("day"), payload.decode("utf-8", "replace")))

    def snapshot(self, now: float | None = None) -> list[dict[str, Any]]:
        now = time.monotonic() if now is None else now
        with self.lock:
            return [self.branches[k].as_dict(now) for k in sorted(self.branches)]

    def totals(self) -> dict[str, int]:
        return {"branches": len(self.branches), "events": self.events, "duplicates": self.duplicates,
                "messages": self.messages, "bad": self.bad}
