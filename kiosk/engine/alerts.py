"""Peak alerts with hysteresis: level 0 (calm), 1 (warning), 2 (peak).

Three parts:

* :func:`decide` — pure: (previous state, measurements, now, thresholds) → new state.
  No I/O, no clock; property-tested (tests/engine/test_alerts.py).
* :func:`current_state` — the level every reader sees (``kiosk status``, the screens, HQ):
  the stored state moved on by :func:`decide` with the hall measured now, so it needs no
  running kiosk; the stored state only carries the hysteresis.
* :class:`AlertMonitor` — in the running kiosk: when the level changes it writes
  ``alert_state`` and emits ``alert.raised`` / ``alert.cleared`` (``kind`` ``peak``, with the
  counters to open) in ONE engine transaction, and raises and clears the other kinds of
  alert (:mod:`kiosk.engine.alert_kinds`) in the same one.

Rules (docs/statistics.md, "Peak alerts"):

* raise to level 2 when ``waiting >= level2_per_counter × open counters``, or when people
  wait and no counter is open;
* raise to level 1 when ``waiting >= level1_per_counter × open counters``, or (with
  ``wait_over_target``) when the longest wait of a service is over its target wait;
* a level is *held* while its condition is still true at ``clear_ratio`` × its threshold
  (queue: ``waiting >= clear_ratio × level × open``; target: ``longest wait >= clear_ratio ×
  target``); below that the level steps down, but never sooner than ``min_hold_s`` after
  the last change of level. Raising is immediate.

"Open" counters are those in state ``open``; paused and closed counters do not count.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

from kiosk.config.settings import Settings
from kiosk.domain.model import EventType
from kiosk.engine.alert_kinds import LONG_SERVICE, PEAK, PRIORITY_OVERLOAD, KindAlert, current_kinds, raised_in_outbox
from kiosk.engine.peak_staffing import peak_staffing

log = logging.getLogger(__name__)

# Reason codes (machine-readable; the text beside them is for people).
NONE = "none"  # the initial state: never alerted
CLEARED = "cleared"
NO_COUNTERS = "no_counters"
QUEUE_L2 = "queue_level2"
QUEUE_L1 = "queue_level1"
OVER_TARGET = "wait_over_target"


@dataclass(frozen=True)
class Thresholds:
    level1_per_counter: float = 2.5
    level2_per_counter: float = 3.5
    clear_ratio: float = 0.8
    min_hold_s: float = 60.0
    wait_over_target: bool = True

    @classmethod
    def from_settings(cls, alerts: Any) -> Thresholds:
        return cls(alerts.level1_per_counter, alerts.level2_per_counter, alerts.clear_ratio,
                   alerts.min_hold_s, alerts.wait_over_target)


@dataclass(frozen=True)
class ServiceWait:
    service: str
    longest_wait_s: float  # 0 when nobody waits
    target_s: float


@dataclass(frozen=True)
class Measurements:
    waiting: int
    open_counters: int
    services: tuple[ServiceWait, ...] = ()


@dataclass(frozen=True)
class AlertState:
    level: int = 0
    reason: str = NONE  # a reason code (above)
    since_t: float | None = None  # hall time of the last change of level
    text: str = ""
    over_target: tuple[str, ...] = field(default=())

    @property
    def reason_line(self) -> str:
        """What `alert_state.reason` and the events' ``reason`` hold: ``"<code>: <text>"``."""
        return f"{self.reason}: {self.text}" if self.reason != NONE else ""


def over_target(m: Measurements, ratio: float = 1.0) -> tuple[str, ...]:
    """Services whose longest wait is over ``ratio`` × their target (strictly for ratio 1)."""
    if ratio >= 1.0:
        return tuple(s.service for s in m.services if s.longest_wait_s > s.target_s)
    return tuple(s.service for s in m.services if s.longest_wait_s >= ratio * s.target_s)


def raise_level(m: Measurements, th: Thresholds) -> tuple[int, str]:
    """The level the hall calls for now, with its reason code (no hysteresis)."""
    if m.waiting > 0 and m.open_counters <= 0:
        return 2, NO_COUNTERS
    if m.open_counters > 0 and m.waiting > 0:
        if m.waiting >= th.level2_per_counter * m.open_counters:
            return 2, QUEUE_L2
        if m.waiting >= th.level1_per_counter * m.open_counters:
            return 1, QUEUE_L1
    if th.wait_over_target and over_target(m):
        return 1, OVER_TARGET
    return 0, NONE


def hold_level(m: Measurements, th: Thresholds) -> int:
    """The highest level whose condition still holds at the clearing thresholds."""
    if m.waiting > 0 and m.open_counters <= 0:
        return 2
    level = 0
    if m.open_counters > 0 and m.waiting > 0:
        if m.waiting >= th.clear_ratio * th.level2_per_counter * m.open_counters:
            level = 2
        elif m.waiting >= th.clear_ratio * th.level1_per_counter * m.open_counters:
            level = 1
    if level < 1 and th.wait_over_target and over_target(m, th.clear_ratio):
        level = 1
    return level


def decide(prev: AlertState, m: Measurements, now: float, th: Thresholds) -> AlertState:
    """The new alert state. Returns `prev` itself when the level does not change.

    Up: immediately, to the raise level. Down: only when the hold level is below the current
    level and ``min_hold_s`` has passed since the last change; then to the hold level.
    """
    up, reason = raise_level(m, th)
    if up > prev.level:
        return AlertState(up, reason, now, describe(up, reason, m, th), over_target(m))
    hold = max(hold_level(m, th), up)
    if hold >= prev.level:
        return prev
    if prev.since_t is not None and now - prev.since_t < th.min_hold_s:
        return prev
    if hold == 0:
        return AlertState(0, CLEARED, now, describe(0, CLEARED, m, th), ())
    # stepping down to level 1: say why level 1 still holds
    code = QUEUE_L1 if (m.open_counters > 0 and m.waiting >= th.clear_ratio * th.level1_per_counter
                        * m.open_counters) else OVER_TARGET
    return AlertState(hold, code, now, describe(hold, code, m, th), over_target(m, th.clear_ratio))


def describe(level: int, reason: str, m: Measurements, th: Thresholds) -> str:
    """One line for people (admin banner, HQ)."""
    if reason == NO_COUNTERS:
        return f"{m.waiting} waiting and no counter open"
    if reason in (QUEUE_L1, QUEUE_L2):
        per = m.waiting / m.open_counters if m.open_counters else math.inf
        limit = th.level2_per_counter if reason == QUEUE_L2 else th.level1_per_counter
        head = f"{m.waiting} waiting at {m.open_counters} open counter{'s' if m.open_counters != 1 else ''}"
        if level == (2 if reason == QUEUE_L2 else 1) and per >= limit:
            return f"{head} ({per:.1f} per counter, level {level} at {limit:g})"
        return f"{head} ({per:.1f} per counter)"
    if reason == OVER_TARGET:
        parts = [f"{s.service} {s.longest_wait_s / 60:.0f} min (target {s.target_s / 60:g})"
                 for s in m.services if s.longest_wait_s >= th.clear_ratio * s.target_s and s.longest_wait_s > 0]
        return "longest wait over target: " + (", ".join(parts) or "—")
    return f"{m.waiting} waiting at {m.open_counters} open counter{'s' if m.open_counters != 1 else ''}"


# -- I/O ---------------------------------------------------------------------------------------
def measure(conn: Any, now: float, settings: Any) -> Measurements:
    """Waiting tickets, open counters and each service's longest wait, from the store."""
    waiting = conn.execute("SELECT count(*) FROM tickets WHERE state = 'waiting'").fetchone()[0]
    known = [c.number for c in settings.counters]
    open_ = conn.execute("SELECT count(*) FROM counters WHERE state = 'open' AND number IN (%s)"
                         % ",".join("?" * len(known)), known).fetchone()[0] if known else 0
    oldest = dict(conn.execute("SELECT service, min(queued_t) FROM tickets WHERE state = 'waiting' "
                               "GROUP BY service").fetchall())
    services = tuple(ServiceWait(s.prefix, max(0.0, now - oldest[s.prefix]) if oldest.get(s.prefix) is not None
                                 else 0.0, s.target_wait_min * 60.0) for s in settings.services)
    return Measurements(int(waiting), int(open_), services)


def read_state(conn: Any) -> AlertState:
    row = conn.execute("SELECT level, reason, since_t FROM alert_state WHERE id = 1").fetchone()
    if row is None:
        return AlertState()
    level, line, since = row[0], row[1] or "", row[2]
    code, _, text = line.partition(": ")
    return AlertState(int(level), code or NONE, since, text)


def stored_day(conn: Any) -> str | None:
    """The business day the store is in."""
    row = conn.execute("SELECT day FROM business_day WHERE id = 1").fetchone()
    return row[0] if row else None


def current_state(conn: Any, now: float, settings: Settings) -> tuple[AlertState, Measurements]:
    """The alert state now, as every reader sees it, and the measurements it was decided on."""
    m = measure(conn, now, settings)
    return decide(read_state(conn), m, now, Thresholds.from_settings(settings.alerts)), m


class AlertMonitor:
    """Watches the hall and keeps `alert_state` and the alert events up to date.

    Call :meth:`evaluate` on the core thread (the engine's thread of control) after every
    committed event and every few seconds; it writes only when the level changes or a kind
    alert (long service, satisfaction) appears or goes.
    """

    def __init__(self, engine: Any, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self.thresholds = Thresholds.from_settings(settings.alerts)
        self._busy = False
        self._raised = raised_in_outbox(engine.conn)  # key → body of the kind alerts raised and not cleared

    @property
    def state(self) -> AlertState:
        return read_state(self.engine.conn)

    def evaluate(self) -> AlertState:
        """Measure, decide, and on a change write and emit atomically."""
        if self._busy:  # re-entered from our own event's listeners: nothing new to decide
            return self.state
        self._busy = True
        try:
            conn = self.engine.conn
            prev = read_state(conn)
            now = self.engine.time.now()
            new = decide(prev, measure(conn, now, self.settings), now, self.thresholds)
            kinds = current_kinds(conn, now, self.settings, stored_day(conn))
            if new is prev and kinds.keys() == self._raised.keys():
                return prev
            return self._commit()
        finally:
            self._busy = False

    def _commit(self) -> AlertState:
        """Decide again inside the write transaction (the hall may have moved) and apply."""
        engine = self.engine
        with engine.transaction() as tx:
            prev = read_state(tx.conn)
            m = measure(tx.conn, tx.now, self.settings)
            new = decide(prev, m, tx.now, self.thresholds)
            kinds = current_kinds(tx.conn, tx.now, self.settings, tx.day)
            hall = {"level": new.level, "waiting": m.waiting, "open_counters": m.open_counters}
            if new is not prev:
                self._change_level(tx, prev, new, m)
            for key in self._raised.keys() - kinds.keys():
                self._clear_kind(tx, self._raised[key], hall)
            raised = {}
            for key in kinds.keys() - self._raised.keys():
                raised[key] = self._raise_kind(tx, kinds[key], hall)
        self._raised = {k: v for k, v in self._raised.items() if k in kinds} | raised
        return new

    def _change_level(self, tx: Any, prev: AlertState, new: AlertState, m: Measurements) -> None:
        tx.conn.execute("INSERT INTO alert_state (id, level, reason, since_t) VALUES (1, ?, ?, ?) "
                        "ON CONFLICT (id) DO UPDATE SET level = excluded.level, reason = excluded.reason, "
                        "since_t = excluded.since_t", (new.level, new.reason_line, new.since_t))
        type_ = EventType.ALERT_CLEARED if new.level == 0 else EventType.ALERT_RAISED
        staffing = {}
        if new.level > 0:
            st = peak_staffing(tx.conn, tx.now, self.settings, tx.day, m.waiting, m.open_counters)
            staffing = {"open_counters_needed": st.open_counters_needed, "counters_needed": st.counters_needed,
                        "staffing": st.as_dict()}
        self.engine.emit(tx, type_, kind=PEAK, level=new.level, previous_level=prev.level, reason=new.reason_line,
                         code=new.reason, text=new.text, waiting=m.waiting, open_counters=m.open_counters,
                         over_target=list(over_target(m)),
                         longest_wait_s={s.service: round(s.longest_wait_s, 1) for s in m.services
                                         if s.longest_wait_s > 0}, **staffing)
        log.info("alert level %d -> %d: %s", prev.level, new.level, new.reason_line or "clear")

    def _raise_kind(self, tx: Any, alert: KindAlert, hall: dict[str, Any]) -> dict[str, Any]:
        body = {"kind": alert.kind, **alert.fields}
        self.engine.emit(tx, EventType.ALERT_RAISED, **body, **hall, code=alert.kind,
                         reason=f"{alert.kind}: {alert.text}", text=alert.text)
        log.info("alert %s: %s", alert.kind, alert.text)
        return body

    def _clear_kind(self, tx: Any, raised: dict[str, Any], hall: dict[str, Any]) -> None:
        """Clear a kind alert, named by the fields of the event that raised it."""
        kind = raised.get("kind")
        fields = {k: raised[k] for k in ("kind", "counter", "ticket", "service", "scope") if k in raised}
        if kind == LONG_SERVICE:
            text = f"counter {raised.get('counter')} is done with {raised.get('ticket')}"
        elif kind == PRIORITY_OVERLOAD:
            text = "VIP arrivals are back within the VIP counters' capacity"
        else:
            text = f"satisfaction of {raised.get('scope')} no longer below its target"
        self.engine.emit(tx, EventType.ALERT_CLEARED, **fields, **hall, code=kind, reason=f"{kind}: {text}", text=text)
        log.info("alert %s cleared: %s", kind, text)
