"""HQ comparison page over 90 days of history for 1,000 branches: its API timed over HTTP.

    python -m bench.hq_compare [--branches 1000] [--days 90] [--tickets 3] [--requests 30]
                               [--db postgres,sqlite]

For each database (a throwaway PostgreSQL, `kiosk.sim.postgres`; an SQLite file): ``--days``
business days of history for ``--branches`` branches written straight into the database through
HQ's own `kiosk.hq.recorder.Recorder` (so the rollups are made as in production), the event mix of
bench/hq_fleet.py (issued, called, finished, rated, no-show; services A/B/C; counters 1–6;
``--tickets`` tickets per service, branch and day, spread over the opening hours); then a real
`kiosk hq serve` on that database, signed in, and the comparison API timed from a client:

* ``hq_compare_api_ms`` with ``mode`` ``day`` — ``GET /api/compare?day=D`` for ``--requests``
  days drawn from the history (one row per branch), and with ``mode`` ``range`` —
  ``GET /api/compare?from=FIRST&to=LAST`` over the whole history (one row per branch summed over
  the days), ``--requests`` times: p50 / p90 / max in ms, ``via`` the database. The page reads
  only the rollups, so the time depends on branches × days, not on the number of events;
  ``events`` says how many were written.
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.hq_fleet import SERVICES, TICKET_PHASES, Node, add_user, branch_event
from bench.hq_scale import Database
from bench.metrics import Metric, Target
from kiosk.sim.broker import Broker

METRICS = (
    Metric("hq_compare_api_ms", "ms", Target("p50", "<=", 500),
           "comparison API over HTTP with 90 days × 1,000 branches of history (one day, or the whole range)"),
)
OPEN_HOURS = range(9, 17)


def pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, int(round(p / 100 * (len(s) - 1)))))]


def history(db_target: str, branches: int, days: list[date], tickets: int) -> tuple[int, float]:
    """Every branch's events of every day through the Recorder; (events written, seconds)."""
    from kiosk.hq.ingest.messages import Event
    from kiosk.hq.recorder import Recorder
    rng = random.Random(90)
    rec = Recorder(db_target, batch_ms=100, batch_events=20_000, keep_days=(date.today() - days[0]).days + 7)
    per_day = tickets * len(SERVICES) * TICKET_PHASES
    t0 = time.monotonic()
    n = 0
    try:
        for b in range(branches):
            name = f"cmp-{b:04d}"
            seq = 0
            for d in days:
                day = d.isoformat()
                for k in range(per_day):
                    seq += 1
                    hour = OPEN_HOURS[k * len(OPEN_HOURS) // per_day]
                    ts = f"{day}T{hour:02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}+08:00"
                    doc = branch_event(name, seq, day, ts, rng)
                    payload = json.dumps(doc, separators=(",", ":")).encode()
                    rec.add_event(name, Event(doc["id"], seq, doc["type"], ts, day, doc), payload)
                    n += 1
            if b % 50 == 49:
                rec.flush(600)
        if not rec.flush(600):
            raise RuntimeError("the recorder did not write the history within 10 minutes")
        if rec.failed:
            raise RuntimeError(f"the recorder failed {rec.failed} events")
    finally:
        rec.close()
    return n, time.monotonic() - t0


def timed(node: Node, path: str, branches: int) -> float:
    t0 = time.perf_counter()
    r = node.http.get(path)
    ms = (time.perf_counter() - t0) * 1000
    if r.status_code != 200:
        raise RuntimeError(f"GET {path}: {r.status_code} {r.text[:300]}")
    rows = r.json()["rows"]
    if len(rows) != branches:
        raise RuntimeError(f"GET {path}: {len(rows)} rows, not one per branch ({branches})")
    return ms


def figure(xs: list[float], **extra: Any) -> dict[str, Any]:
    return {"metric": "hq_compare_api_ms", "p50": round(pct(xs, 50), 1), "p90": round(pct(xs, 90), 1),
            "max": round(max(xs), 1), "n": len(xs), "unit": "ms", **extra}


def run_one(kind: str, a: argparse.Namespace, work: Path) -> list[dict[str, Any]]:
    days = [date.today() - timedelta(days=a.days - i) for i in range(a.days)]
    db = Database(kind, work / kind)
    broker = None
    node = None
    try:
        add_user(db.target)    # first, as `kiosk hq serve` does: it creates an SQLite file 0600
        events, write_s = history(db.target, a.branches, days, a.tickets)
        broker = Broker(work / kind / "broker").start()
        node = Node(broker.url, db.target, work / kind, name=f"compare-{kind}")
        rng = random.Random(7)
        first, last = days[0].isoformat(), days[-1].isoformat()
        timed(node, f"/api/compare?day={last}", a.branches)   # warm: the first query plans and caches
        day_ms = [timed(node, f"/api/compare?day={rng.choice(days).isoformat()}", a.branches)
                  for _ in range(a.requests)]
        range_ms = [timed(node, f"/api/compare?from={first}&to={last}", a.branches) for _ in range(a.requests)]
        common = {"via": kind, "branches": a.branches, "days": a.days, "events": events,
                  "history_write_events_per_s": round(events / write_s, 1)}
        return [figure(day_ms, mode="day", **common), figure(range_ms, mode="range", first=first, last=last, **common)]
    finally:
        if node is not None:
            node.stop()
        if broker is not None:
            broker.stop()
        db.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.hq_compare", description=__doc__.split("\n")[0])
    ap.add_argument("--branches", type=int, default=1000)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--tickets", type=int, default=3, help="tickets per service, branch and day (3: 36 events)")
    ap.add_argument("--requests", type=int, default=30, help="timed requests per mode (30)")
    ap.add_argument("--db", default="postgres,sqlite", help="comma-separated: postgres, sqlite")
    a = ap.parse_args(argv)
    kinds = [k for k in a.db.split(",") if k]
    if not kinds or set(kinds) - {"postgres", "sqlite"}:
        ap.error("--db takes postgres and/or sqlite")
    if a.branches < 1 or a.days < 1 or a.tickets < 1 or a.requests < 1:
        ap.error("--branches, --days, --tickets and --requests must be ≥ 1")
    work = Path(tempfile.mkdtemp(prefix="hq-compare-bench-"))
    try:
        for kind in kinds:
            (work / kind).mkdir()
            for line in run_one(kind, a, work):
                print(json.dumps(line, ensure_ascii=False), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
