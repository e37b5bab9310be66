"""The figures per clerk equal what the tickets say: over random days of sign-ins, calls,
services, no-shows, transfers and ratings, each clerk's figures (`clerk_day`, and `clerks` in
the statistics) equal those the test works out from its own record of who was at which counter."""
from __future__ import annotations

import tempfile
from datetime import date, datetime
from pathlib import Path

import hypothesis.strategies as st
from hypothesis import HealthCheck, given, settings as hsettings

from kiosk.config.settings import DEFAULT_CONFIG, load_settings
from kiosk.domain import errors
from kiosk.domain.clock import FakeClock
from kiosk.engine import stats
from kiosk.engine.queue_engine import QueueEngine
from kiosk.storage.store import Store
from tests.engine.test_clerks_at_counters import add_clerks
from tests.kit.settings import CN

SETTINGS = load_settings(DEFAULT_CONFIG)
CLERKS = ("E1", "E2", "E3")
COUNTERS = (1, 2, 3, 4)

ISSUE = st.tuples(st.just("issue"), st.sampled_from("AABV"))
CALL = st.tuples(st.just("call"), st.sampled_from(COUNTERS))
FINISH = st.tuples(st.just("finish"), st.sampled_from(COUNTERS))
op = st.one_of(
    ISSUE, ISSUE, CALL, CALL, FINISH,
    st.tuples(st.just("sign_in"), st.sampled_from(COUNTERS), st.sampled_from(CLERKS)),
    st.tuples(st.just("sign_out"), st.sampled_from(COUNTERS)),
    st.tuples(st.just("call"), st.sampled_from(COUNTERS)),
    st.tuples(st.just("start"), st.sampled_from(COUNTERS)),
    st.tuples(st.just("finish"), st.sampled_from(COUNTERS)),
    st.tuples(st.just("noshow"), st.sampled_from(COUNTERS)),
    st.tuples(st.just("transfer"), st.sampled_from(COUNTERS), st.sampled_from("AB")),
    st.tuples(st.just("rate"), st.integers(0, 50), st.integers(1, 5)),
    st.tuples(st.just("wait"), st.integers(5, 900)),
)


class Record:
    """The test's own account of the day: who sits where, and who handled each ticket."""

    def __init__(self, engine: QueueEngine) -> None:
        self.engine = engine
        self.at: dict[int, str | None] = dict.fromkeys(COUNTERS)
        self.holder: dict[int, str | None] = {}         # ticket id → clerk who handled it last
        self.called_t: dict[int, float] = {}
        self.served: list[tuple[int, str, float]] = []   # (ticket id, service, time at the counter)
        self.ended: dict[int, str] = {}                  # ticket id → 'noshow' | 'transferred'
        self.rated: dict[int, int] = {}

    def now(self) -> float:
        return self.engine.time.now()

    def apply(self, o: tuple) -> None:
        e, kind = self.engine, o[0]
        try:
            if kind == "issue":
                e.issue(o[1])
            elif kind == "sign_in":
                e.sign_in(o[1], o[2])
                self.at = {c: (None if who == o[2] else who) for c, who in self.at.items()}
                self.at[o[1]] = o[2]
            elif kind == "sign_out":
                e.sign_out(o[1])
                self.at[o[1]] = None
            elif kind == "call":
                before = self._held(o[1])
                r = e.call_next(o[1])
                if before is not None:
                    self._finished(o[1], before)
                if r is not None:
                    self.holder[r.ticket_id] = self.at[o[1]]
                    self.called_t[r.ticket_id] = self.now()
            elif kind == "start":
                e.start(o[1])
                tid = self._held(o[1])
                self.holder[tid] = self.at[o[1]] or self.holder[tid]
            elif kind == "finish":
                tid = self._held(o[1])
                e.finish(o[1])
                self._finished(o[1], tid)
            elif kind == "noshow":
                tid = self._held(o[1])
                _, requeued = e.noshow(o[1])
                if not requeued:
                    self.holder[tid] = self.at[o[1]] or self.holder[tid]
                    self.ended[tid] = "noshow"
            elif kind == "transfer":
                tid = self._held(o[1])
                e.transfer(o[1], o[2])
                self.holder[tid] = self.at[o[1]] or self.holder[tid]
                self.ended[tid] = "transferred"
            elif kind == "rate":
                done = [t for t, _, _ in self.served if t not in self.rated]
                if done:
                    tid = done[o[1] % len(done)]
                    number = e.conn.execute("SELECT number FROM tickets WHERE id = ?", (tid,)).fetchone()[0]
                    e.rate(number, o[2])
                    self.rated[tid] = o[2]
            else:
                e.clock.advance(o[1])
        except errors.QueueError:
            pass                                          # refused: nothing changed (other tests say so)

    def _held(self, counter: int) -> int | None:
        return self.engine.conn.execute("SELECT ticket_id FROM counters WHERE number = ?", (counter,)).fetchone()[0]

    def _finished(self, counter: int, tid: int) -> None:
        self.holder[tid] = self.at[counter] or self.holder[tid]
        service = self.engine.conn.execute("SELECT service FROM tickets WHERE id = ?", (tid,)).fetchone()[0]
        self.served.append((tid, service, self.now() - self.called_t[tid]))

    def expected(self, clerk: str) -> dict:
        mine = [(t, svc, s) for t, svc, s in self.served if self.holder[t] == clerk]
        times = [s for _, _, s in mine]
        limits = {s.prefix: s.counter_limit_min * 60 for s in SETTINGS.services}
        scores = [self.rated[t] for t in self.rated if self.holder[t] == clerk]
        return {
            "served": len(mine),
            "noshows": sum(1 for t, how in self.ended.items() if how == "noshow" and self.holder[t] == clerk),
            "transfers": sum(1 for t, how in self.ended.items() if how == "transferred" and self.holder[t] == clerk),
            "n": len(times),
            "mean_s": round(sum(times) / len(times), 1) if times else None,
            "p90_s": round(stats.percentile(times, 0.9), 1) if times else None,
            "within": sum(1 for _, svc, s in mine if s <= limits[svc]),
            "ratings": len(scores),
            "satisfied": sum(1 for x in scores if x >= 4),
        }


def observed(fig: dict) -> dict:
    return {"served": fig["served"], "noshows": fig["noshows"], "transfers": fig["transfers"],
            "n": fig["service_time"]["n"], "mean_s": fig["service_time"]["mean_s"],
            "p90_s": fig["service_time"]["p90_s"], "within": fig["counter_limit"]["within"],
            "ratings": fig["satisfaction"]["ratings"], "satisfied": fig["satisfaction"]["satisfied"]}


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(op, min_size=20, max_size=100))
def test_the_figures_per_clerk_equal_what_the_tickets_say(ops):
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "k.db", synchronous="OFF")
        try:
            engine = QueueEngine(store, SETTINGS, FakeClock(wall=datetime(2026, 11, 23, 9, 0, tzinfo=CN), tz=CN))
            add_clerks(engine, *CLERKS)
            for c in COUNTERS:
                engine.set_counter(c, "open")
            record = Record(engine)
            for o in ops:
                record.apply(o)
            day = date(2026, 11, 23)
            in_stats = {c["clerk"]: c for c in stats.compute(store.conn, day, day, SETTINGS)["clerks"]}
            for clerk in CLERKS:
                want = record.expected(clerk)
                got = engine.clerk_day(clerk)
                assert observed(got) == want, clerk
                if clerk in in_stats:
                    assert observed(in_stats[clerk]) == want
                else:
                    assert want["served"] == want["noshows"] == want["transfers"] == 0
        finally:
            store.close()


def test_a_clerk_who_served_nobody_has_empty_figures(engine):
    add_clerks(engine, "E9")
    fig = engine.clerk_day("E9")
    assert (fig["served"], fig["service_time"]["mean_s"], fig["satisfaction"]["share"], fig["counter"]) == (
        0, None, None, None)
