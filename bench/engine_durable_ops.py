"""Durable engine operations per second next to raw SQLite durable commits per second.

    python -m bench.engine_durable_ops [--ops 600] [--rounds 5]

Both run on the same disk in the same process, WAL + synchronous=FULL, in alternating
rounds; each engine operation (issue, call, finish: one third each) is one durable
transaction with its outbox event. Prints JSON lines (design.md's benchmark contract):
engine ops/s, raw commits/s, and their ratio (target ≥ 0.5).
"""
from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from kiosk.domain.clock import FakeClock
from kiosk.config.settings import DEFAULT_CONFIG, load_settings
from kiosk.engine.queue_engine import QueueEngine
from kiosk.storage.store import Store


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


def engine_ops_per_s(engine: QueueEngine, clock: FakeClock, n: int) -> float:
    cycles = n // 3
    t0 = time.perf_counter()
    for _ in range(cycles):
        engine.issue("A")
        clock.advance(1)
        engine.call_next(3)
        clock.advance(1)
        engine.finish(3)
    dt = time.perf_counter() - t0
    return cycles * 3 / dt


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ops", type=int, default=600)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    settings = load_settings(DEFAULT_CONFIG)
    with tempfile.TemporaryDirectory(dir=".") as tmp:
        clock = FakeClock()
        engine = QueueEngine(Store(Path(tmp) / "kiosk.db", synchronous="FULL"), settings, clock)
        engine.set_counter(3, "open")
        engine_ops_per_s(engine, clock, 60)                       # warm up
        raw_commits_per_s(Path(tmp) / "raw.db", 60)
        eng, raw = [], []
        for _ in range(args.rounds):
            eng.append(engine_ops_per_s(engine, clock, args.ops))
            raw.append(raw_commits_per_s(Path(tmp) / "raw.db", args.ops))
        ratios = [e / r for e, r in zip(eng, raw)]
    n = args.ops * args.rounds
    print(json.dumps({"metric": "engine_durable_ops_per_s", "p50": round(statistics.median(eng), 1), "n": n,
                      "unit": "ops/s"}))
    print(json.dumps({"metric": "sqlite_durable_commits_per_s", "p50": round(statistics.median(raw), 1), "n": n,
                      "unit": "commits/s"}))
    print(json.dumps({"metric": "engine_durable_ops_ratio", "p50": round(statistics.median(ratios), 3),
                      "min": round(min(ratios), 3), "max": round(max(ratios), 3), "n": args.rounds,
                      "unit": "ratio", "target": 0.5}))


if __name__ == "__main__":
    main()
