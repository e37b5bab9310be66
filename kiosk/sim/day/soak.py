"""The soak (issue 8): days at peak load in accelerated time, the kiosk never restarted.

Measures the kiosk's VmRSS over time (growth after the first day must stay under 10 %), the
database (file size, outbox rows) at every night, and scans the log. Delivered events are
pruned by the kiosk's own housekeeping (`event_retention_days`, here 1 hall day), which the
app schedules every hall hour (scaled by the simulated clock's speed). The outbox must stay bounded: from day 3 on, never
more than 1.5 times its size at the end of day 2.
"""
from __future__ import annotations

import json
import sqlite3
import statistics
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable

from kiosk.sim.day.checks import check_day, summary, wait_delivered
from kiosk.sim.day.hall import HallSpec
from kiosk.sim.day.harness import Day, DayOptions, hhmm

PEAK_PER_HOUR = 110   # about what 8 counters serve: the queue stays at its peak level all day
OPEN_HOURS = 12       # 08:00–20:00


@dataclass
class SoakOptions:
    days: int = 7
    speed: float = 1200.0
    seed: int = 8
    out: Path = Path("var/soak")
    retention_days: float = 1.0
    log: Callable[[str], None] = print
    extra: dict = field(default_factory=dict)


class Soak(Day):
    def __init__(self, so: SoakOptions) -> None:
        super().__init__(DayOptions(speed=so.speed, seed=so.seed, out=so.out, faults=False, log=so.log,
                                    hall=HallSpec(retention_days=so.retention_days)))
        self.so = so
        self.samples: list[dict[str, Any]] = []

    def plan(self) -> None:
        import datetime as dt
        base = dt.date.fromisoformat(self.o.day)
        prefixes = ["A", "B", "V"]
        weights = [0.6, 0.32, 0.08]
        for d in range(self.so.days):
            day = (base + dt.timedelta(days=d)).isoformat()
            for n in range(1, self.o.counters + 1):
                self.holding.setdefault(n, None)
                self.at(hhmm(day, "07:45") + timedelta(seconds=20 * n), self.do_open, n)
            first = hhmm(day, "08:00")
            for h in range(OPEN_HOURS):
                for _ in range(self._poisson(PEAK_PER_HOUR)):
                    self.at(first + timedelta(hours=h, seconds=self.rng.uniform(0, 3600)), self.do_issue,
                            self.rng.choices(prefixes, weights)[0])
            self.at(first + timedelta(hours=OPEN_HOURS), self.do_closing)
            self.at(hhmm(day, "23:59"), self.do_sample, d + 1)

    def do_sample(self, day_no: int) -> None:
        db = self.data / "kiosk.db"
        size = sum(p.stat().st_size for p in (db, db.with_name("kiosk.db-wal")) if p.exists())
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
        try:
            rows = conn.execute("SELECT count(*), sum(delivered_at IS NULL) FROM outbox").fetchone()
            tickets = conn.execute("SELECT count(*) FROM tickets").fetchone()[0]
        finally:
            conn.close()
        rss = self.kiosk.rss_kb()
        self.samples.append({"day": day_no, "real_s": round(time.time() - self.origin_real, 1), "rss_kb": rss,
                             "db_bytes": size, "outbox_rows": rows[0], "undelivered": rows[1] or 0,
                             "tickets": tickets})
        self.o.log(f"  day {day_no}: RSS {rss / 1024:.1f} MB, db {size / 1e6:.1f} MB, outbox {rows[0]} rows, "
                   f"{tickets} tickets")


def run_soak(so: SoakOptions) -> dict[str, Any]:
    soak = Soak(so)
    t0 = time.monotonic()
    try:
        soak.setup()
        so.log(f"soak: {so.days} days at {PEAK_PER_HOUR}/h for {OPEN_HOURS} h a day, {so.speed:g}x, "
               f"data {soak.data}")
        soak.plan()
        soak.run()
        wait_delivered(soak.data, soak.hq, 300)
        rss = [kb for _, kb in soak.rss]
        soak.stop_sim = soak.sim_now()
        rc = soak.kiosk.stop()
        report = check_day(soak, rc, starts=1)
    finally:
        soak.teardown()
    # memory: the first day is warm-up; compare the median of day 2 with the median of the last day
    per_day = max(1, len(rss) // so.days)
    base = statistics.median(rss[per_day:2 * per_day]) if len(rss) >= 2 * per_day else rss[0]
    end = statistics.median(rss[-per_day:])
    growth = (end - base) / base * 100
    summary_doc = {
        "days": so.days, "speed": so.speed, "wall_s": round(time.monotonic() - t0, 1),
        "tickets": report["tickets"]["issued"], "events": report["events"]["hq_unique"],
        "rss_mb": {"start": round(rss[0] / 1024, 1), "after_day1": round(base / 1024, 1),
                   "end": round(end / 1024, 1), "max": round(max(rss) / 1024, 1), "growth_pct": round(growth, 1)},
        "db_per_day": soak.samples,
        "outbox_rows_max": max(d["outbox_rows"] for d in soak.samples),
        "outbox_rows_end": soak.samples[-1]["outbox_rows"],
        "db_bytes_end": soak.samples[-1]["db_bytes"] if soak.samples else None,
        "log_warnings": report["log_warnings"],
        "checks_failed": [i for i in report["checks"] if not i["ok"]],
    }
    # bounded: from day 3 on, the outbox holds about retention + 1 days of events, never more than
    # 1.5 times what it held at the end of day 2
    rows = [d["outbox_rows"] for d in soak.samples]
    bounded = len(rows) < 3 or max(rows[2:]) <= 1.5 * rows[1]
    summary_doc["outbox_bounded"] = bounded
    ok = report["ok"] and growth < 10 and bounded
    out = {"ok": ok, "summary": summary_doc, "report": report, "checks_text": summary(report)}
    (soak.out / "soak.json").write_text(json.dumps(out, indent=2, default=str))
    return out

