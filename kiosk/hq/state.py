"""What HQ knows about every branch, fed with (topic, payload) pairs from MQTT.

`MonitorState` keeps one `BranchState` per branch: online/offline and since when, waiting per
service, longest wait, open counters, alert level, open device faults, events per minute.
Every message passes the ingest boundary (`kiosk.hq.ingest`) first: a rejected message
changes nothing but the branch's `rejected` counts (by topic kind and reason) and its
`problem` (what was refused, naming the field, and when). Events are counted once by id (a
window of recent ids per branch) and handed to an optional `Recorder`.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from kiosk.hq.ingest import Alert, Event, HourlyStats, IngestLimits, Message, Queue, Rejected, Status, parse, \
    split_topic
from kiosk.hq.ingest.messages import device_fault
from kiosk.hq.recorder import Recorder

log = logging.getLogger(__name__)

EPM_WINDOW_S = 60.0
DEDUP_WINDOW = 1024  # ids remembered per branch (> a kiosk's in-flight window; the recording has the rest)
RETAINED_KINDS = ("status", "queue", "alerts")
MAX_BRANCHES = 100_000  # a flood of made-up branch ids cannot grow the table without end


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
    rejected: dict[str, int] = field(default_factory=dict)             # "queue:bad_type" → messages refused
    problem: str | None = None                                         # the last refusal, naming the field
    problem_at: str | None = None                                      # when (UTC, ISO)
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

    def refuse(self, kind: str, rejection: Rejected) -> int:
        """Count a refused message of topic `kind`; the count for its reason."""
        key = f"{kind}:{rejection.code}"
        n = self.rejected[key] = self.rejected.get(key, 0) + 1
        self.problem = f"{kind} message refused ({rejection.code}): {rejection.message}"
        self.problem_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        return n

    def as_dict(self, now: float) -> dict[str, Any]:
        return {"branch": self.branch, "online": self.online, "since": self.since, "version": self.version,
                "waiting": dict(self.waiting), "longest_wait_s": self.longest_wait_s,
                "open_counters": self.open_counters, "alert_level": self.alert_level,
                "alert_reason": self.alert_reason, "events": self.events, "duplicates": self.duplicates,
                "last_seq": self.last_seq, "events_per_min": self.events_per_minute(now),
                "devices": {k: dict(v) for k, v in sorted(self.devices.items())},
                "rejected": dict(self.rejected), "problem": self.problem, "problem_at": self.problem_at}


def _worth_logging(n: int) -> bool:
    """1, 10, 100, …: a branch that keeps sending the same bad message does not flood the log."""
    while n % 10 == 0:
        n //= 10
    return n == 1


class MonitorState:
    """The table of branches, fed with (topic, payload) pairs. Thread-safe."""

    def __init__(self, prefix: str = "kiosk", recorder: Recorder | None = None,
                 limits: IngestLimits | None = None) -> None:
        self.prefix = prefix.rstrip("/")
        self.recorder = recorder
        self.limits = limits or IngestLimits()
        self.branches: dict[str, BranchState] = {}
        self.messages = 0
        self.bad = 0               # messages refused (branch messages and bad topics)
        self.bad_topics = 0        # of which on a topic that names no valid branch
        self.events = 0
        self.duplicates = 0
        self.lock = threading.Lock()

    def branch(self, name: str) -> BranchState | None:
        """The branch's state, made on first sight (None once `MAX_BRANCHES` are known)."""
        b = self.branches.get(name)
        if b is None and len(self.branches) < MAX_BRANCHES:
            b = self.branches[name] = BranchState(name)
        return b

    def ingest(self, topic: str, payload: bytes, now: float | None = None) -> Message | None:
        """Check and apply one message; the clean value, or None (refused, or not a branch
        message HQ reads; replies are checked by their reader, see `check`)."""
        try:
            where = split_topic(self.prefix, topic)
        except Rejected as r:
            self.refuse_topic(topic, r)
            return None
        if where is None or where[1] == "reply":
            return None
        return self.check(where[0], where[1], topic, payload, now)

    def check(self, name: str, kind: str, topic: str, payload: bytes, now: float | None = None) -> Message | None:
        """Validate a `kind` message of branch `name` and apply it; None when refused (or an
        empty payload on a retained topic: the retained message was cleared, nothing to refuse)."""
        if not payload and kind in RETAINED_KINDS:
            return None
        try:
            msg = parse(kind, name, payload, self.limits)
        except Rejected as r:
            self.refuse(name, kind, topic, r)
            return None
        now = time.monotonic() if now is None else now
        with self.lock:
            b = self.branch(name)
            if b is None:
                return None
            self.messages += 1
            b.last_seen = now
            if isinstance(msg, Event):
                self._event(b, msg, payload, now)
            elif isinstance(msg, Status):
                b.online, b.since, b.version = msg.online, msg.since, msg.version
            elif isinstance(msg, Queue):
                self._queue(b, msg)
            elif isinstance(msg, Alert):
                b.alert_level, b.alert_reason = msg.level, msg.reason
                if msg.open_counters is not None:
                    b.open_counters = msg.open_counters
            elif isinstance(msg, HourlyStats):
                b.last_stats = msg.doc
        return msg

    def refuse(self, name: str, kind: str, topic: str, rejection: Rejected) -> None:
        """Count a refused message against its branch (and log the first of a kind)."""
        with self.lock:
            self.bad += 1
            b = self.branch(name)
            n = b.refuse(kind, rejection) if b is not None else 1
        if _worth_logging(n):
            log.warning("branch %s: refused a message on %s (%d so far of this kind): %s", name, topic[:200], n,
                        rejection.message)

    def refuse_topic(self, topic: str, rejection: Rejected) -> None:
        with self.lock:
            self.bad += 1
            self.bad_topics += 1
            n = self.bad_topics
        if _worth_logging(n):
            log.warning("refused a message on %r (%d such so far): %s", topic[:200], n, rejection.message)

    @staticmethod
    def _queue(b: BranchState, q: Queue) -> None:
        b.waiting = q.waiting
        b.longest_wait_s = q.longest_wait_s
        b.open_counters = q.open_counters
        if q.alert is not None:
            b.alert_level, b.alert_reason = q.alert
        if q.devices is not None:           # kiosks before 0.1.0's schema 2 send none
            b.devices = q.devices

    def _event(self, b: BranchState, ev: Event, payload: bytes, now: float) -> None:
        if b.seen(ev.id):
            b.duplicates += 1
            self.duplicates += 1
            return
        b.events += 1
        self.events += 1
        recent = b._recent
        recent.append(now)
        while recent[0] < now - EPM_WINDOW_S:
            recent.popleft()
        if ev.seq > b.last_seq:
            b.last_seq = ev.seq
        doc = ev.doc
        if ev.type in ("alert.raised", "alert.cleared"):
            b.alert_level = doc["level"]
        elif ev.type == "device.fault":
            b.devices[doc["device"]] = device_fault(doc, self.limits, since_key="ts")
        elif ev.type == "device.recovered":
            b.devices.pop(doc["device"], None)
        if self.recorder is not None:
            self.recorder.add_event(b.branch, ev, payload)

    def snapshot(self, now: float | None = None) -> list[dict[str, Any]]:
        now = time.monotonic() if now is None else now
        with self.lock:
            return [self.branches[k].as_dict(now) for k in sorted(self.branches)]

    def totals(self) -> dict[str, int]:
        return {"branches": len(self.branches), "events": self.events, "duplicates": self.duplicates,
                "messages": self.messages, "bad": self.bad, "bad_topics": self.bad_topics}
