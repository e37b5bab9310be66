"""Durable engine operations per second next to raw SQLite durable commits per second, with
nobody waiting and with a queue of 30.

    python -m bench.engine_durable_ops [--ops 600] [--rounds 5] [--waiting 0,30]

Both run on the same disk in the same process, WAL + synchronous=FULL, in alternating rounds
(engine with 0 waiting, raw, engine with 30 waiting, raw, …); each engine operation (issue,
call, finish: one third each) is one durable transaction with its outbox event, the issue with
its wait estimate. With 30 waiting every issue estimates a ticket with 30 people ahead and every
call chooses among 31 (the queue is filled before the rounds and stays at 30). Prints JSON lines,
each with ``"waiting"``: engine ops/s, the ratio to the raw commits of the same round (target
≥ 0.5 for every queue length), the issue's own time, and the raw commits/s.
"""
from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from bench.metrics import Metric, Target
from kiosk.config.settings import DEFAULT_CONFIG, load_settings
from kiosk.domain.clock import FakeClock
from kiosk.engine.queue_engine import QueueEngine
from kiosk.storage.store import Store

METRICS = (
    Metric("engine_durable_ops_per_s", "ops/s", what="issue/call/finish per second, one durable transaction each"),
    Metric("sqlite_durable_commits_per_s", "commits/s", what="one-row durable commits per second, same disk"),
    Metric("engine_durable_ops_ratio", "ratio", Target("p50", ">=", 0.5),
           what="engine ops/s ÷ raw commits/s of the same round, per queue length (field waiting)"),
    Metric("engine_issue_ms", "ms", what="one issue (transaction, outbox event, wait estimate), per queue length"),
)


def raw_commits_per_s(path: Path, n: int) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, a TEXT, b REAL)")
    t0 = time.perf_counter()
    for i in range(n):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t (a, b) VALUES (?, ?)", ("x" * 40, i))
        conn.execute("COMMIT")
    dt = time.perf_counter() - t0
    conn.close()
    return n / dt


class Hall:
    """One engine on its own database with `waiting` tickets kept in the queue."""

    def __init__(self, path: Path, settings, waiting: int) -> None:  # noqa: ANN001
        self.clock = FakeClock()
        self.engine = QueueEngine(Store(path, synchronous="FULL"), settings, self.clock)
        self.engine.set_counter(3, "open")
        self.waiting = waiting
        for _ in range(waiting):
            self.engine.issue("A")
            self.clock.advance(1)
        self.issue_ms: list[float] = []

    def ops_per_s(self, n: int) -> float:
        engine, clock = self.engine, self.clock
        cycles = n // 3
        t0 = time.perf_counter()
        for _ in range(cycles):
            t_issue = time.perf_counter()
            engine.issue("A")
            self.issue_ms.append((time.perf_counter() - t_issue) * 1000)
            clock.advance(1)
            engine.call_next(3)
            clock.advance(1)
            engine.finish(3)
        dt = time.perf_counter() - t0
        return cycles * 3 / dt


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.engine_durable_ops", description=__doc__.splitlines()[0])
    ap.add_argument("--ops", type=int, default=600)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--waiting", default="0,30", help="queue lengths (comma-separated)")
    args = ap.parse_args()
    settings = load_settings(DEFAULT_CONFIG)
    queues = [int(w) for w in args.waiting.split(",")]
    with tempfile.TemporaryDirectory(dir=".") as tmp:
        halls = [Hall(Path(tmp) / f"kiosk-{w}.db", settings, w) for w in queues]
        for hall in halls:                                        # warm up
            hall.ops_per_s(60)
            hall.issue_ms.clear()
        raw_commits_per_s(Path(tmp) / "raw.db", 60)
        eng: dict[int, list[float]] = {w: [] for w in queues}
        ratios: dict[int, list[float]] = {w: [] for w in queues}
        raw: list[float] = []
        for _ in range(args.rounds):
            for hall in halls:
                e = hall.ops_per_s(args.ops)
                r = raw_commits_per_s(Path(tmp) / "raw.db", args.ops)
                eng[hall.waiting].append(e)
                ratios[hall.waiting].append(e / r)
                raw.append(r)
    n = args.ops * args.rounds
    print(json.dumps({"metric": "sqlite_durable_commits_per_s", "p50": round(statistics.median(raw), 1),
                      "n": n * len(queues), "unit": "commits/s"}))
    for hall in halls:
        w = hall.waiting
        print(json.dumps({"metric": "engine_durable_ops_per_s", "waiting": w, "p50": round(statistics.median(eng[w]), 1),
                          "n": n, "unit": "ops/s"}))
        print(json.dumps({"metric": "engine_durable_ops_ratio", "waiting": w,
                          "p50": round(statistics.median(ratios[w]), 3), "min": round(min(ratios[w]), 3),
                          "max": round(max(ratios[w]), 3), "n": args.rounds, "unit": "ratio", "target": 0.5}))
        ms = sorted(hall.issue_ms)
        print(json.dumps({"metric": "engine_issue_ms", "waiting": w, "p50": round(statistics.median(ms), 3),
                          "p99": round(ms[min(len(ms) - 1, int(0.99 * (len(ms) - 1) + 0.5))], 3), "n": len(ms),
                          "unit": "ms"}))


if __name__ == "__main__":
    main()
