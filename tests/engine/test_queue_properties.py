"""Invariants of the queue under any sequence of commands (hypothesis state machine).

A model of the waiting line is kept beside the engine; after every step:
- a number is issued once per business day;
- a ticket is with at most one counter, and a counter holds only a called/serving ticket;
- each call picks what the rule says (priority first at vip_first counters, then the counter's
  preferred service at strict counters, else FIFO; all priority tickets are of one tier here and
  no starvation limit is reached);
- counts add up: every issued ticket ends in exactly one live row, and waiting matches the model.
"""
from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

import hypothesis.strategies as st
from hypothesis import HealthCheck, settings as hsettings
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from kiosk.domain import errors
from kiosk.domain.clock import FakeClock
from kiosk.config.settings import DEFAULT_CONFIG, load_settings
from kiosk.engine.queue_engine import QueueEngine
from kiosk.engine.readmodel import snapshot
from kiosk.storage.store import Store
from tests.kit.settings import CN, settings_with

BASE = load_settings(DEFAULT_CONFIG)
_svcs = BASE.model_dump(mode="json")["services"]
for s in _svcs:
    s.update(numbers=[1, 60], on_exhausted="refuse", starvation_limit_min=1440)
SETTINGS = settings_with(BASE, services=_svcs)
COUNTERS = [c.number for c in SETTINGS.counters]
SERVICES = [s.prefix for s in SETTINGS.services]


class QueueMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.TemporaryDirectory()
        self.clock = FakeClock(wall=datetime(2026, 11, 23, 9, 0, tzinfo=CN), tz=CN)
        self.store = Store(Path(self.tmp.name) / "k.db", synchronous="OFF")
        self.engine = QueueEngine(self.store, SETTINGS, self.clock)
        for c in COUNTERS:
            self.engine.set_counter(c, "open")
        self.waiting: dict[int, tuple[float, int, str]] = {}   # ticket id -> (queued_t, priority, service)
        self.at: dict[int, int] = {}                            # counter -> ticket id
        self.issued_numbers: set[tuple[str, str]] = set()

    def teardown(self) -> None:
        self.store.close()
        self.tmp.cleanup()

    def _now(self) -> float:
        return self.engine.time.now()

    @rule(service=st.sampled_from(SERVICES), priority=st.booleans(), dt=st.floats(0, 120))
    def issue(self, service, priority, dt):
        self.clock.advance(dt)
        try:
            t = self.engine.issue(service, priority=priority)
        except errors.RangeExhausted:
            return
        key = (t.day, t.ticket)
        assert key not in self.issued_numbers, f"{t.ticket} issued twice on {t.day}"
        self.issued_numbers.add(key)
        self.waiting[t.ticket_id] = (self._now(), t.priority, t.service)

    def _expected(self, counter: int) -> int | None:
        cfg = SETTINGS.counter(counter)
        eligible = {tid: v for tid, v in self.waiting.items() if v[2] in cfg.services}
        if not eligible:
            return None
        rank = {s: i for i, s in enumerate(cfg.services)}
        if cfg.vip_first:
            vip = {tid: v for tid, v in eligible.items() if v[1]}
            if vip:
                return min(vip, key=lambda tid: (vip[tid][0], rank[vip[tid][2]], tid))
        if cfg.order == "strict":
            return min(eligible, key=lambda tid: (rank[eligible[tid][2]], eligible[tid][0], tid))
        return min(eligible, key=lambda tid: (eligible[tid][0], rank[eligible[tid][2]], tid))

    @rule(counter=st.sampled_from(COUNTERS), dt=st.floats(0, 300))
    def call_next(self, counter, dt):
        self.clock.advance(dt)
        expected = self._expected(counter)
        self.at.pop(counter, None)                               # next finishes the current ticket
        r = self.engine.call_next(counter)
        if expected is None:
            assert r is None
            return
        assert r is not None and r.ticket_id == expected, f"counter {counter} called {r} not id {expected}"
        del self.waiting[r.ticket_id]
        self.at[counter] = r.ticket_id

    @precondition(lambda self: self.at)
    @rule(data=st.data(), action=st.sampled_from(["finish", "noshow", "recall", "start", "transfer"]))
    def counter_action(self, data, action):
        counter = data.draw(st.sampled_from(sorted(self.at)))
        self.clock.advance(data.draw(st.floats(0, 200)))
        tid = self.at[counter]
        if action == "finish":
            self.engine.finish(counter)
            del self.at[counter]
        elif action == "recall":
            try:
                self.engine.recall(counter)
            except errors.IllegalState:
                pass                                             # already serving
        elif action == "start":
            try:
                self.engine.start(counter)
            except errors.IllegalState:
                pass
        elif action == "noshow":
            try:
                _, requeued = self.engine.noshow(counter)
            except errors.IllegalState:
                return
            del self.at[counter]
            if requeued:
                self.waiting[tid] = (self._now(), *self._prio_service(tid))
        else:
            to = data.draw(st.sampled_from(SERVICES))
            try:
                self.engine.transfer(counter, to)
            except errors.IllegalState:
                return
            del self.at[counter]
            row = self.engine.conn.execute("SELECT id, queued_t, priority FROM tickets WHERE origin_id IS NOT NULL "
                                           "ORDER BY id DESC LIMIT 1").fetchone()
            self.waiting[row["id"]] = (row["queued_t"], row["priority"], to)

    def _prio_service(self, tid: int) -> tuple[int, str]:
        row = self.engine.conn.execute("SELECT priority, service FROM tickets WHERE id = ?", (tid,)).fetchone()
        return row["priority"], row["service"]

    @rule(counter=st.sampled_from(COUNTERS), state=st.sampled_from(["open", "paused", "closed"]))
    def set_counter(self, counter, state):
        try:
            self.engine.set_counter(counter, state)
        except errors.IllegalState:
            assert state == "closed" and counter in self.at
            return
        if state != "open":
            # keep the model simple: reopen so later calls are legal
            self.engine.set_counter(counter, "open")

    @invariant()
    def one_counter_per_ticket(self):
        rows = self.engine.conn.execute("SELECT c.number, c.ticket_id, t.state, t.counter FROM counters c "
                                        "JOIN tickets t ON t.id = c.ticket_id").fetchall()
        held = [r["ticket_id"] for r in rows]
        assert len(held) == len(set(held))
        for r in rows:
            assert r["state"] in ("called", "serving") and r["counter"] == r["number"]
        at_counter = self.engine.conn.execute(
            "SELECT count(*) FROM tickets WHERE state IN ('called', 'serving')").fetchone()[0]
        assert at_counter == len(rows) == len(self.at)

    @invariant()
    def counts_add_up(self):
        conn = self.engine.conn
        issued = conn.execute("SELECT count(*) FROM tickets WHERE seq IS NOT NULL").fetchone()[0]
        live = conn.execute("SELECT count(*) FROM tickets WHERE state != 'transferred'").fetchone()[0]
        assert issued == live == len(self.issued_numbers)
        snap = snapshot(self.engine)
        assert snap["waiting"] == len(self.waiting)
        waiting_ids = {r[0] for r in conn.execute("SELECT id FROM tickets WHERE state = 'waiting'")}
        assert waiting_ids == set(self.waiting)


QueueMachine.TestCase.settings = hsettings(max_examples=60, stateful_step_count=40, deadline=None,
                                           suppress_health_check=[HealthCheck.too_slow])
TestQueueInvariants = QueueMachine.TestCase
