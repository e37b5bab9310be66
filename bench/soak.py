"""The soak as a benchmark: days at peak load in accelerated time (kiosk/sim/day/soak.py).

    python -m bench.soak [--days 7] [--speed 1200] [--out DIR]

Prints JSON lines: ``soak_rss_growth_pct`` (VmRSS of the kiosk, median of the last day
against the median of day 2, after the first day's warm-up; target < 10 %), ``soak_rss_mb``
(start, after day 1, end, max), ``soak_db_mb`` (database + WAL at the end of each day),
``soak_outbox_rows`` (at the end of each day; retention 1 hall day, the prune run every
hall hour) and ``soak_log_errors`` (ERROR/CRITICAL/Traceback lines in the kiosk's log). Takes
about days × 75 s of real time at 1200×. Not part of the default `python -m bench` run.
"""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from bench.metrics import Metric, Target
from kiosk.sim.day.soak import SoakOptions, run_soak

METRICS = (
    Metric("soak_rss_growth_pct", "%", Target("value", "<=", 10), "VmRSS growth after the first day's warm-up"),
    Metric("soak_rss_mb", "MB", what="VmRSS of the kiosk at the end (start, after day 1, max alongside)"),
    Metric("soak_db_mb", "MB", what="database + WAL at the end"),
    Metric("soak_outbox_rows", "rows", what="outbox rows at the end (bounded by retention)"),
    Metric("soak_log_errors", "lines", Target("value", "<=", 0), "ERROR/CRITICAL/Traceback lines in the kiosk's log"),
)


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.soak")
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--speed", type=float, default=1200.0)
    ap.add_argument("--seed", type=int, default=8)
    ap.add_argument("--out", default="")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="kiosk-soak-") as tmp:
        out = Path(a.out) if a.out else Path(tmp)
        r = run_soak(SoakOptions(days=a.days, speed=a.speed, seed=a.seed, out=out, log=lambda s: None))
    s = r["summary"]
    common = {"days": s["days"], "speed": s["speed"], "tickets": s["tickets"], "events": s["events"]}
    rss = s["rss_mb"]
    print(json.dumps({"metric": "soak_rss_growth_pct", "value": rss["growth_pct"], "unit": "%", **common}))
    print(json.dumps({"metric": "soak_rss_mb", "value": rss["end"], "start": rss["start"],
                      "after_day1": rss["after_day1"], "max": rss["max"], "unit": "MB"}))
    print(json.dumps({"metric": "soak_db_mb", "value": round(s["db_bytes_end"] / 1e6, 2),
                      "per_day": [round(d["db_bytes"] / 1e6, 2) for d in s["db_per_day"]], "unit": "MB"}))
    print(json.dumps({"metric": "soak_outbox_rows", "value": s["outbox_rows_end"], "max": s["outbox_rows_max"],
                      "bounded": s["outbox_bounded"], "retention_days": 1,
                      "per_day": [d["outbox_rows"] for d in s["db_per_day"]], "unit": "rows"}))
    errors = [c for c in s["checks_failed"] if "ERROR" in c["check"]]
    print(json.dumps({"metric": "soak_log_errors", "value": len(errors[0]["detail"]) if errors else 0,
                      "unit": "lines", "checks_failed": len(s["checks_failed"]), "ok": r["ok"]}))


if __name__ == "__main__":
    main()
