"""Learning from the day's events: durations, no-shows, counters' breaks, and who is where.

:class:`Learner` takes checked events (:mod:`kiosk.estimate.events`) in order and keeps
what the estimates need: recent durations per kind, per-hour service-time profiles,
no-show outcomes by wait, priority arrivals, and the live state the events imply
(which ticket is at which counter since when, which counter is free, paused or closed,
which tickets are in which line). A bug here raises: nothing is swallowed.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from kiosk.domain.model import EventType
from kiosk.domain.policy import Candidate
from kiosk.estimate.calibration import Calibration
from kiosk.estimate.events import TICKET_CANCELLED, TICKET_EXPIRED, Observed
from kiosk.estimate.params import EstimatorParams
from kiosk.estimate.samples import DurationWindow, NoshowByWait
from kiosk.estimate.starvation import StarvationEvidence

TICKETS_KEPT = 5000  # per-ticket bookkeeping kept (tickets that never get called)
CALLED_KEPT = 500  # called tickets remembered, for a no-show put back in its line


@dataclass(frozen=True)
class InLine:
    """A ticket waiting in a line, as the events tell it."""

    queued_at: float  # its place in time (a requeued or transferred ticket keeps the first)
    service: str
    priority: int  # 0 normal, 1..N priority tier


@dataclass
class AtCounter:
    """The ticket a counter has called."""

    ticket_id: int | None
    called_at: float
    waited_s: float | None  # queued -> called; None when unknown
    started: bool = False  # the customer has reached the counter


@dataclass
class HourProfile:
    """Mean service time of one service in one hour of the day, kept across days."""

    n: float = 0.0
    mean: float = 0.0

    def add(self, seconds: float) -> None:
        self.n = min(self.n + 1.0, 200.0)
        self.mean += (min(seconds, 4 * max(self.mean, 60.0)) - self.mean) / self.n


def _prune(d: dict, limit: int = TICKETS_KEPT) -> None:
    """Keep per-ticket bookkeeping bounded (the oldest entries go first)."""
    if len(d) > limit:
        for k in list(d)[: len(d) - limit // 2]:
            del d[k]


class Learner:
    def __init__(self, params: EstimatorParams, calibration: Calibration) -> None:
        self.params = params
        self.calibration = calibration
        self.starvation = StarvationEvidence()
        self.hour = 12  # local hour of the latest event or estimate
        self.t0: float | None = None  # first event of the day (for arrival rates)
        # learned durations and outcomes (kept across days)
        self.service: dict[str, DurationWindow] = {}  # called -> finished, per service
        self.hour_profile: dict[tuple[str, int], HourProfile] = {}
        self.outcomes: dict[str, deque[int]] = {}  # per service: 1 no-show, 0 served
        self.noshow_by_wait = NoshowByWait(params.noshow_wait_edges_s)
        self.noshow_hold = DurationWindow(60)  # called -> given up as a no-show
        self.walk = DurationWindow(100)  # called -> at the counter
        self.turnaround = DurationWindow(100)  # counter free -> next call, someone waiting
        self.pickup = DurationWindow(60)  # idle counter -> calls a new arrival
        self.pause = DurationWindow(30)
        self.breaks = DurationWindow(30)  # closed -> open again, same day
        self.n_back = 0  # closures that ended in a reopening
        self.finished_n = 0
        # the day's live state
        self.priority_arrivals: dict[str, deque[float]] = {}
        self.issued_at: dict[int, float] = {}
        self.in_line: dict[int, InLine] = {}
        self.called_lines: dict[int, InLine] = {}  # for no-shows put back in their line
        self.passed: dict[int, int] = {}  # waiting ticket -> later tickets of its line called first
        self.at_counter: dict[int, AtCounter] = {}
        self.free_since: dict[int, float] = {}
        self.paused_since: dict[int, float] = {}
        self.closed_since: dict[int, float] = {}
        self.ever_open: set[int] = set()
        self._handlers: dict[str, Callable[[Observed, float], None]] = {
            EventType.TICKET_ISSUED: self._issued, EventType.TICKET_CALLED: self._called,
            EventType.TICKET_STARTED: self._started, EventType.TICKET_FINISHED: self._finished,
            EventType.TICKET_NOSHOW: self._noshow, EventType.TICKET_TRANSFERRED: self._left_line,
            TICKET_CANCELLED: self._left_line, TICKET_EXPIRED: self._left_line,
            EventType.DAY_ROLLOVER: self._new_day, EventType.COUNTER_OPENED: self._counter_opened,
            EventType.COUNTER_PAUSED: self._counter_paused, EventType.COUNTER_CLOSED: self._counter_closed,
        }

    def learn(self, ev: Observed, now: float) -> None:
        if self.t0 is None:
            self.t0 = now
        if ev.hour is not None:
            self.hour = ev.hour
        handler = self._handlers.get(ev.kind)
        if handler is not None:
            handler(ev, now)

    def window(self, service: str) -> DurationWindow:
        w = self.service.get(service)
        if w is None:
            w = self.service[service] = DurationWindow(self.params.window)
        return w

    # ---------------------------------------------------------------- tickets
    def _issued(self, ev: Observed, now: float) -> None:
        if ev.ticket_id is not None:
            self.issued_at[ev.ticket_id] = now
            _prune(self.issued_at)
            if ev.service is not None:
                self.in_line[ev.ticket_id] = InLine(now, ev.service, ev.priority)
                _prune(self.in_line)
        if ev.priority > 0 and ev.service is not None:
            self.priority_arrivals.setdefault(ev.service, deque(maxlen=500)).append(now)

    def _called(self, ev: Observed, now: float) -> None:
        tid, counter = ev.ticket_id, ev.counter
        if tid is not None and counter is not None:
            self._judge_starvation(tid, counter, now)
        line = self.in_line.pop(tid, None) if tid is not None else None
        if line is not None:
            self.called_lines[tid] = line
            _prune(self.called_lines, CALLED_KEPT)
        issued = self.issued_at.pop(tid, None) if tid is not None else None
        if issued is None and ev.wait_s is not None:
            issued = now - ev.wait_s
        if counter is not None:
            free = self.free_since.pop(counter, None)
            if free is not None and issued is not None:
                if issued < free:
                    self.turnaround.add(now - free)
                else:
                    self.pickup.add(now - issued)
            self.at_counter[counter] = AtCounter(tid, now, now - issued if issued is not None else None)
        if issued is not None and ev.service is not None:
            for other, waiting in self.in_line.items():
                if waiting.service == ev.service and waiting.priority == ev.priority and waiting.queued_at < issued:
                    self.passed[other] = self.passed.get(other, 0) + 1
        if tid is not None:
            self.passed.pop(tid, None)
            self.calibration.called(tid, issued, now)

    def _judge_starvation(self, tid: int, counter: int, now: float) -> None:
        me = self.in_line.get(tid)
        if me is None or not self.starvation.watches(counter):
            return
        waiting = [Candidate(t, line.service, line.priority, line.queued_at) for t, line in self.in_line.items()]
        self.starvation.judge_call(Candidate(tid, me.service, me.priority, me.queued_at), counter, now, waiting)

    def _started(self, ev: Observed, now: float) -> None:
        cur = self.at_counter.get(ev.counter) if ev.counter is not None else None
        if cur is not None:
            self.walk.add(now - cur.called_at)
            cur.started = True

    def _finished(self, ev: Observed, now: float) -> None:
        cur = self.at_counter.pop(ev.counter, None) if ev.counter is not None else None
        dur = ev.service_s
        if dur is None and cur is not None:
            dur = now - cur.called_at
        self.finished_n += 1
        if ev.service is not None and dur is not None and dur >= 0:
            self.window(ev.service).add(dur)
            self.hour_profile.setdefault((ev.service, self.hour), HourProfile()).add(dur)
            self.outcomes.setdefault(ev.service, deque(maxlen=100)).append(0)
        self._record_outcome(cur, noshow=False)
        if ev.counter is not None:
            self.free_since[ev.counter] = now

    def _noshow(self, ev: Observed, now: float) -> None:
        cur = self.at_counter.pop(ev.counter, None) if ev.counter is not None else None
        if cur is not None:
            self.noshow_hold.add(now - cur.called_at)
        if ev.service is not None:
            self.outcomes.setdefault(ev.service, deque(maxlen=100)).append(1)
        self._record_outcome(cur, noshow=True)
        if ev.counter is not None:
            self.free_since[ev.counter] = now
        if ev.requeued and ev.ticket_id is not None:
            self.issued_at[ev.ticket_id] = now
            line = self.called_lines.get(ev.ticket_id)
            if line is not None:
                self.in_line[ev.ticket_id] = line  # back in its line (original place in time)

    def _left_line(self, ev: Observed, now: float) -> None:
        """Transferred, cancelled or expired: the ticket leaves its counter or its line."""
        tid = ev.ticket_id
        cur = self.at_counter.get(ev.counter) if ev.counter is not None else None
        if cur is not None and cur.ticket_id == tid:
            del self.at_counter[ev.counter]
            self.free_since[ev.counter] = now
        line = None
        if tid is not None:
            if ev.kind != EventType.TICKET_TRANSFERRED:
                self.issued_at.pop(tid, None)
                self.calibration.forget(tid)
            line = self.in_line.pop(tid, None) or self.called_lines.get(tid)
            self.passed.pop(tid, None)
        if ev.kind == EventType.TICKET_TRANSFERRED and ev.new_ticket_id is not None and ev.to_service is not None:
            # the customer keeps the original place in time, in the new service's line
            t_q = line.queued_at if line is not None else now
            self.in_line[ev.new_ticket_id] = InLine(t_q, ev.to_service, line.priority if line is not None else 0)
            self.issued_at.setdefault(ev.new_ticket_id, t_q)

    def _record_outcome(self, cur: AtCounter | None, noshow: bool) -> None:
        if cur is not None and cur.waited_s is not None:
            self.noshow_by_wait.record(cur.waited_s, noshow)

    # --------------------------------------------------------- day and counters
    def _new_day(self, ev: Observed, now: float) -> None:
        """A new business day: per-day state goes, learned durations stay."""
        for state in (self.issued_at, self.in_line, self.passed, self.at_counter, self.free_since,
                      self.paused_since, self.closed_since, self.priority_arrivals):
            state.clear()
        self.ever_open.clear()
        self.calibration.new_day()
        self.t0 = now

    def _counter_opened(self, ev: Observed, now: float) -> None:
        c = ev.counter
        if c is None:
            return
        paused = self.paused_since.pop(c, None)
        if paused is not None:
            self.pause.add(now - paused)
        closed = self.closed_since.pop(c, None)
        if closed is not None and c in self.ever_open and now - closed < self.params.max_break_s:
            self.breaks.add(now - closed)
            self.n_back += 1
        self.ever_open.add(c)
        if c not in self.at_counter:
            self.free_since[c] = now

    def _counter_paused(self, ev: Observed, now: float) -> None:
        if ev.counter is not None:
            self.paused_since[ev.counter] = now

    def _counter_closed(self, ev: Observed, now: float) -> None:
        c = ev.counter
        if c is not None:
            self.paused_since.pop(c, None)
            self.closed_since[c] = now
            self.free_since.pop(c, None)
