"""`kiosk replay DAY_DIR --out predictions.csv`: drive the real engine through a recorded day.

Reads `trace.csv` and `meta.json` (never `truth.csv`), builds the hall from the meta, and
replays every event on a simulated clock: `arrive` issues a ticket, `call` calls that very
ticket at that counter, `start`, `finish`, `noshow`, `counter_open` and `counter_close` do
what they say. The estimate the engine printed on each ticket is written out, with the
trace's ticket names. See ../shared/replay/README.md.
"""
from __future__ import annotations

import csv
import json
import re
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from kiosk.domain.clock import FakeClock
from kiosk.config.settings import Settings
from kiosk.domain.errors import KioskError
from kiosk.engine.queue_engine import QueueEngine
from kiosk.storage.files import atomic_writer
from kiosk.storage.store import Store

REPLAY_DATE = (2026, 1, 5)  # a Monday; the date only names the business day


class ReplayError(KioskError):
    pass


def settings_from_meta(meta: dict[str, Any]) -> Settings:
    services = [{"prefix": p, "name": {"en": str(n)}, "numbers": [1, 9999], "on_exhausted": "refuse",
                 "starvation_limit_min": 1440, "expected_service_min": 5, "target_wait_min": 10}
                for p, n in meta["services"].items()]
    counters = [{"number": counter_number(cid), "name": {"en": cid}, "services": c["services"],
                 "vip_first": bool(c.get("vip_first"))} for cid, c in meta["counters"].items()]
    return Settings.model_validate({
        "branch": {"id": "replay", "name": {"en": str(meta.get("scenario", "replay"))}},
        "day": {"rollover": "04:00", "timezone": "UTC"},
        "policy": {"priority_at": "vip_first", "noshow_requeue": False, "repeat_guard_s": 0},
        "services": services,
        "counters": counters,
    })


def counter_number(cid: str) -> int:
    m = re.search(r"(\d+)$", cid)
    if not m:
        raise ReplayError(f"counter id {cid!r} has no number")
    return int(m.group(1))


def replay_day(day_dir: str | Path, out: str | Path, *, db_dir: str | Path | None = None) -> dict[str, Any]:
    day_dir = Path(day_dir)
    try:
        meta = json.loads((day_dir / "meta.json").read_text())
        with open(day_dir / "trace.csv", newline="") as f:
            rows = list(csv.DictReader(f))
    except (OSError, ValueError) as exc:
        raise ReplayError(f"cannot read the day in {day_dir}: {exc}") from exc
    settings = settings_from_meta(meta)
    hh, mm = map(int, str(meta.get("open_clock", "09:00")).split(":"))
    start = datetime(*REPLAY_DATE, hh, mm, tzinfo=timezone.utc)
    clock = FakeClock(wall=start, tz=timezone.utc)
    with tempfile.TemporaryDirectory(dir=db_dir) as tmp:
        store = Store(Path(tmp) / "replay.db", synchronous="OFF")
        engine = QueueEngine(store, settings, clock)
        names: dict[str, str] = {}       # trace ticket → engine ticket
        predictions: list[tuple[str, float]] = []
        t0 = 0.0
        for i, row in enumerate(rows, start=2):
            ts = float(row["ts"])
            if ts > t0:
                clock.advance(ts - t0)
                t0 = ts
            try:
                _apply(engine, row, names, predictions)
            except KioskError as exc:
                raise ReplayError(f"trace.csv line {i} ({row['event']} {row.get('ticket') or row.get('counter')}): "
                                  f"{exc}") from exc
        store.close()
    out = Path(out)
    with atomic_writer(out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["ticket", "predicted_wait_s"])
        for ticket, est in predictions:
            w.writerow([ticket, f"{est:.1f}"])
    return {"tickets": len(predictions), "events": len(rows), "out": str(out)}


def _apply(engine: QueueEngine, row: dict[str, str], names: dict[str, str],
           predictions: list[tuple[str, float]]) -> None:
    event = row["event"]
    counter = counter_number(row["counter"]) if row.get("counter") else None
    if event == "arrive":
        issued = engine.issue(row["service"], priority=row.get("priority", "0") not in ("", "0"))
        names[row["ticket"]] = issued.ticket
        predictions.append((row["ticket"], issued.estimate_s))
    elif event == "call":
        engine.call_ticket(counter, names[row["ticket"]])
    elif event == "start":
        engine.start(counter)
    elif event == "finish":
        engine.finish(counter)
    elif event == "noshow":
        engine.noshow(counter)
    elif event == "counter_open":
        engine.set_counter(counter, "open")
    elif event == "counter_close":
        engine.set_counter(counter, "closed")
    else:
        raise ReplayError(f"unknown trace event {event!r}")
