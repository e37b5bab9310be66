"""Replay lab for the wait estimator (no engine needed).

Scores :class:`kiosk.estimate.WaitEstimator` against the classic predictors on a recorded
day (``trace.csv`` + ``meta.json``, the format of ``../shared/replay``) or on generated
days (:mod:`bench.estimates.gen_day`), replayed by :mod:`bench.estimates.trace_replay`.

    python -m bench.estimates.replay_lab DAY_DIR --out predictions.csv      # then score.py
    python -m bench.estimates.replay_lab DAY_DIR --score                    # built-in scoring
    python -m bench.estimates.replay_lab --generated 8 [--scenarios calm,peak,...]

Each figure is printed as one JSON object per line (the bench contract).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import statistics
import sys
import tempfile
from pathlib import Path

from bench.estimates.gen_day import generate
from bench.estimates.trace_replay import BASELINES, ReplayResult, load_day, read_truth, replay, write_predictions
from kiosk.estimate import EstimatorParams, WaitEstimator


def replay_estimator(day: Path, params: EstimatorParams, *, prior_s: float = 300.0, **kw) -> ReplayResult:
    """Replay ``day`` with a fresh estimator (every service gets the prior ``prior_s``)."""
    services = list(load_day(day)[0].get("services", {}))
    return replay(day, WaitEstimator({s: prior_s for s in services}, params=params), prior_s=prior_s, **kw)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))]


def mae_min(truth: dict[str, float], pred: dict[str, float]) -> float:
    errs = []
    for t, a in truth.items():
        g = pred.get(t, 0.0)
        if not math.isfinite(g) or g < 0:
            g = 0.0
        errs.append(abs(g - a))
    return statistics.fmean(errs) / 60 if errs else 0.0


def score(day: Path, res: ReplayResult) -> dict:
    truth = read_truth(day)
    maes = {k: mae_min(truth, v) for k, v in res.preds.items()}
    best = min(maes[b] for b in BASELINES)
    n = len(res.times)
    return {"mae_min": maes, "ratio": maes["yours"] / best if best > 0 else float("nan"),
            "ratios": {b: maes["yours"] / maes[b] if maes[b] > 0 else float("nan") for b in BASELINES},
            "est_ms_per_ticket": 1000 * res.est_time_s / max(n, 1), "est_time_s": res.est_time_s, "n": n}


def run_generated(n: int, scenarios: list[str], seed0: int, params: EstimatorParams, **kw) -> list[dict]:
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for sc in scenarios:
            ratios, per_base, costs, ests = [], {b: [] for b in BASELINES}, [], []
            for i in range(n):
                d = Path(tmp) / f"{sc}_{i}"
                generate(sc, seed0 + i, d)
                s = score(d, replay_estimator(d, params, **kw))
                ratios.append(s["ratio"])
                for b in BASELINES:
                    per_base[b].append(s["ratios"][b])
                costs.append(s["est_ms_per_ticket"])
                ests.append(s["mae_min"]["yours"])
            out.append({"metric": f"wait_estimate_mae_ratio_{sc}", "scenario": sc, "days": n,
                        "ratio_vs_best_mean": statistics.fmean(ratios),
                        "ratio_vs_best_max": max(ratios),
                        **{f"ratio_vs_{b}": statistics.fmean(v) for b, v in per_base.items()},
                        "mae_min_mean": statistics.fmean(ests),
                        "est_ms_per_ticket": statistics.fmean(costs), "unit": "ratio"})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("day", nargs="?", type=Path)
    ap.add_argument("--out", type=Path, help="write ticket,predicted_wait_s here")
    ap.add_argument("--baseline-dir", type=Path, help="also write baseline_*.csv here")
    ap.add_argument("--score", action="store_true", help="print built-in MAE/ratios (needs truth.csv)")
    ap.add_argument("--prior-s", type=float, default=300.0, help="prior service time (s) for every service")
    ap.add_argument("--starvation-min", type=float, default=math.inf)
    ap.add_argument("--no-reopen-breaks", dest="reopen_breaks", action="store_false",
                    help="treat closed counters as gone (no learned break return)")
    ap.add_argument("--phantom-requeue", action="store_true",
                    help="stress test: no-shows go back in the line and are never called")
    ap.add_argument("--generated", type=int, default=0, help="days per scenario to generate and score")
    ap.add_argument("--scenarios", default="calm,peak,surge,closing,noshow,vip")
    ap.add_argument("--seed", type=int, default=1000)
    a = ap.parse_args(argv)
    params = dataclasses.replace(EstimatorParams(), reopen_breaks=a.reopen_breaks)
    kw = {"prior_s": a.prior_s, "starvation_s": a.starvation_min * 60, "phantom_requeue": a.phantom_requeue}
    if a.generated:
        for line in run_generated(a.generated, a.scenarios.split(","), a.seed, params, **kw):
            print(json.dumps(line))
        return 0
    if a.day is None:
        ap.error("DAY_DIR or --generated N")
    res = replay_estimator(a.day, params, **kw)
    if a.out:
        write_predictions(a.out, res.preds["yours"])
    if a.baseline_dir:
        a.baseline_dir.mkdir(parents=True, exist_ok=True)
        for b in BASELINES:
            write_predictions(a.baseline_dir / f"baseline_{b}.csv", res.preds[b])
    t = res.times
    print(json.dumps({"metric": "wait_estimate_cpu_ms", "p50": 1000 * percentile(t, 0.5),
                      "p99": 1000 * percentile(t, 0.99), "mean": 1000 * res.est_time_s / max(len(t), 1),
                      "day_total_s": res.est_time_s, "n": len(t), "unit": "ms"}))
    if a.score and (a.day / "truth.csv").exists():
        s = score(a.day, res)
        print(json.dumps({"metric": "wait_estimate_mae_ratio", "day": str(a.day), "ratio": s["ratio"],
                          "mae_min": s["mae_min"], "unit": "ratio"}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
