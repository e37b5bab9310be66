"""CPU time per wait estimate when the real engine replays a recorded day (`kiosk replay`).

    python -m bench.estimate_cost [DAY_DIR ...]      # default: ../shared/replay/calm_s1 and peak_s1

One JSON line per day: ``{"metric": "estimate_cpu_ms", "day", "p50", "p99", "n", "total_s"}``
(`time.process_time` around every `forecast_for` / `forecast_service` the engine makes — the
wait and the people ahead from one simulation: the cost an issue pays for what it prints).
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from bench.metrics import Metric
from kiosk.estimate import WaitEstimator
from kiosk.tools.replay import replay_day

METRICS = (
    Metric("estimate_cpu_ms", "ms", what="CPU per wait estimate while the engine replays a sample day"),
)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DAYS = [ROOT.parent / "shared" / "replay" / d for d in ("calm_s1", "peak_s1")]


def timed_replay(day: Path) -> list[float]:
    """Replay `day` through the engine; the CPU seconds of each estimate."""
    times: list[float] = []
    originals = {name: getattr(WaitEstimator, name) for name in ("forecast_for", "forecast_service")}

    def timing(orig):
        def run(self, *args, **kwargs):
            t0 = time.process_time()
            try:
                return orig(self, *args, **kwargs)
            finally:
                times.append(time.process_time() - t0)
        return run
    try:
        for name, orig in originals.items():
            setattr(WaitEstimator, name, timing(orig))
        with tempfile.TemporaryDirectory() as tmp:
            replay_day(day, Path(tmp) / "predictions.csv", db_dir=tmp)
    finally:
        for name, orig in originals.items():
            setattr(WaitEstimator, name, orig)
    return times


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.estimate_cost", description=__doc__.splitlines()[0])
    ap.add_argument("days", nargs="*", type=Path, default=DEFAULT_DAYS)
    a = ap.parse_args(argv)
    for day in a.days:
        if not (day / "trace.csv").exists():
            print(json.dumps({"metric": "estimate_cpu_ms", "day": day.name, "error": f"no trace.csv in {day}"}))
            continue
        times = sorted(timed_replay(day))
        print(json.dumps({"metric": "estimate_cpu_ms", "day": day.name,
                          "p50": round(1000 * statistics.median(times), 3),
                          "p99": round(1000 * times[max(0, int(0.99 * len(times)) - 1)], 3),
                          "n": len(times), "total_s": round(sum(times), 3), "unit": "ms"}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
