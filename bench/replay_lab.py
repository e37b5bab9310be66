"""Replay lab for the wait estimator (no engine needed).

Reads a day folder (``trace.csv`` + ``meta.json``, the format of ``../shared/replay``),
rebuilds the :class:`kiosk.estimate.estimator.HallView` at every event straight from the trace,
feeds :meth:`WaitEstimator.observe` with domain-event dicts, and records at every
``arrive`` the estimate the kiosk would print (using only what happened before).
It also runs the four classic predictors (naive, ql, les, hol) on the same day.

    python -m bench.replay_lab DAY_DIR --out predictions.csv      # then score.py
    python -m bench.replay_lab DAY_DIR --score                    # built-in scoring
    python -m bench.replay_lab --generated 8 [--scenarios calm,peak,...]

Each figure is printed as one JSON object per line (the bench contract).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

from kiosk.estimate.estimator import CounterView, HallView, WaitEstimator, WaitingTicket

BASELINES = ("naive", "ql", "les", "hol")


def load_day(day: Path) -> tuple[dict, list[dict]]:
    meta = json.loads((day / "meta.json").read_text())
    with open(day / "trace.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return meta, rows


def counter_number(cid: str) -> int:
    digits = "".join(ch for ch in str(cid) if ch.isdigit())
    return int(digits) if digits else abs(hash(cid)) % 10_000


class _Baselines:
    """The classic predictors, computed from the same reconstructed state.

    naive: people ahead (same service) x mean service time / open counters
    ql:    Ibrahim & Whitt's queue-length predictor (n + 1) x E[S] / s when every
           counter serving the service is busy, else 0 (s = open counters serving it)
    les:   the wait of the last customer of the service to enter service
    hol:   the current wait of the head of the service's line (0 when empty)
    """

    def __init__(self, prior_s: float) -> None:
        self.prior_s = prior_s
        self.sums: dict[str, list[float]] = {}
        self.last_wait: dict[str, float] = {}

    def mean(self, svc: str) -> float:
        s = self.sums.get(svc)
        if s and s[1] > 0:
            return s[0] / s[1]
        tot = sum(v[0] for v in self.sums.values())
        n = sum(v[1] for v in self.sums.values())
        return tot / n if n else self.prior_s

    def finished(self, svc: str, dur: float) -> None:
        s = self.sums.setdefault(svc, [0.0, 0])
        s[0] += dur
        s[1] += 1

    def predict(self, ticket: WaitingTicket, hall: HallView) -> dict[str, float]:
        now = hall.now
        ahead = [t for t in hall.waiting if t.service == ticket.service
                 and (t.queued_at, t.ticket_id) < (ticket.queued_at, ticket.ticket_id)]
        open_all = [c for c in hall.counters if c.state == "open"]
        serving = [c for c in open_all if ticket.service in c.services]
        m = self.mean(ticket.service)
        n = len(ahead)
        naive = n * m / len(open_all) if open_all else 0.0
        all_busy = serving and all(c.busy_service is not None for c in serving)
        ql = (n + 1) * m / len(serving) if all_busy else (n * m / len(serving) if serving else 0.0)
        les = self.last_wait.get(ticket.service, 0.0)
        hol = now - ahead[0].queued_at if ahead else 0.0
        return {"naive": naive, "ql": ql, "les": les, "hol": hol}


def replay(day: Path, *, prior_s: float = 300.0, starvation_s: float = math.inf,
           estimator: WaitEstimator | None = None, baselines: bool = True,
           reopen_breaks: bool = True, run_estimator: bool = True,
           phantom_requeue: bool = False) -> dict:
    """Replay one day; returns predictions per predictor and the estimator's timing.

    ``phantom_requeue`` stress-tests an engine that puts no-shows back in the line (at
    their original place) although the recorded hall never calls them again."""
    meta, rows = load_day(day)
    h0, m0 = (int(x) for x in meta.get("open_clock", "09:00").split(":")[:2])
    services = list(meta.get("services", {}))
    counters_meta = meta["counters"]
    est = estimator or WaitEstimator({s: prior_s for s in services}, reopen_breaks=reopen_breaks)
    base = _Baselines(prior_s) if baselines else None
    limits = {s: starvation_s for s in services}
    limits.update({k: float(v) for k, v in meta.get("starvation_limit_s", {}).items()})

    ids: dict[str, int] = {}
    waiting: dict[int, WaitingTicket] = {}
    state = {cid: "closed" for cid in counters_meta}
    busy: dict[str, tuple[str, float, int]] = {}  # counter -> (service, called_at, tid)
    called_at: dict[int, float] = {}
    queued_at: dict[int, float] = {}
    preds: dict[str, dict[str, float]] = {"yours": {}}
    for b in BASELINES:
        preds[b] = {}
    est_time = 0.0
    n_est = 0
    times: list[float] = []

    def hall(now: float) -> HallView:
        hour = int((h0 * 3600 + m0 * 60 + now) // 3600) % 24
        cvs = []
        for cid, cm in counters_meta.items():
            b = busy.get(cid)
            cvs.append(CounterView(
                number=counter_number(cid), services=tuple(cm["services"]),
                vip_first=bool(cm.get("vip_first")), state=state[cid],
                busy_service=b[0] if b else None, busy_since=b[1] if b else None))
        return HallView(now=now, hour=hour, waiting=tuple(waiting.values()),
                        counters=tuple(cvs), priority_at=meta.get("priority_at", "vip_first"),
                        starvation_limit_s=limits)

    for r in rows:
        ts = float(r["ts"])
        ev = r["event"]
        name = r.get("ticket") or ""
        svc = r.get("service") or None
        prio = int(r["priority"]) if r.get("priority") not in (None, "") else 0
        cid = r.get("counter") or None
        cnum = counter_number(cid) if cid else None
        if ev == "arrive":
            tid = ids.setdefault(name, len(ids) + 1)
            t = WaitingTicket(ticket_id=tid, service=svc, priority=prio, queued_at=ts)
            waiting[tid] = t
            queued_at[tid] = ts
            hv = hall(ts)
            if run_estimator:
                t0 = time.process_time()  # CPU time: robust to other jobs sharing the machine
                p = est.estimate_for(hv, tid)
                dt = time.process_time() - t0
                est_time += dt
                times.append(dt)
                n_est += 1
                preds["yours"][name] = p
            if base:
                for k, v in base.predict(t, hv).items():
                    preds[k][name] = v
            est.observe({"type": "ticket.issued", "ticket_id": tid, "ticket": name,
                         "service": svc, "priority": prio}, ts)
        elif ev == "call":
            tid = ids[name]
            t = waiting.pop(tid, None)
            wait = ts - t.queued_at if t else 0.0
            busy[cid] = (svc, ts, tid)
            called_at[tid] = ts
            if base:
                base.last_wait[svc] = wait
            est.observe({"type": "ticket.called", "ticket_id": tid, "ticket": name, "service": svc,
                         "priority": prio, "counter": cnum, "wait_s": wait}, ts)
        elif ev == "start":
            tid = ids[name]
            est.observe({"type": "ticket.started", "ticket_id": tid, "ticket": name,
                         "service": svc, "priority": prio, "counter": cnum}, ts)
        elif ev == "finish":
            tid = ids[name]
            dur = ts - called_at.get(tid, ts)
            busy.pop(cid, None)
            if base:
                base.finished(svc, dur)
            est.observe({"type": "ticket.finished", "ticket_id": tid, "ticket": name, "service": svc,
                         "priority": prio, "counter": cnum, "service_s": dur}, ts)
        elif ev == "noshow":
            tid = ids[name]
            busy.pop(cid, None)
            if phantom_requeue:
                waiting[tid] = WaitingTicket(ticket_id=tid, service=svc, priority=prio,
                                             queued_at=queued_at[tid])
            est.observe({"type": "ticket.noshow", "ticket_id": tid, "ticket": name, "service": svc,
                         "priority": prio, "counter": cnum, "requeued": phantom_requeue}, ts)
        elif ev == "counter_open":
            state[cid] = "open"
            est.observe({"type": "counter.opened", "counter": cnum}, ts)
        elif ev == "counter_close":
            state[cid] = "closed"
            est.observe({"type": "counter.closed", "counter": cnum}, ts)
        elif ev == "counter_pause":
            state[cid] = "paused"
            est.observe({"type": "counter.paused", "counter": cnum}, ts)
    return {"preds": preds, "est_time_s": est_time, "n_est": n_est, "times": times}


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))]


def read_truth(day: Path) -> dict[str, float]:
    with open(day / "truth.csv", newline="") as f:
        return {r["ticket"]: float(r["wait_s"]) for r in csv.DictReader(f)}


def mae_min(truth: dict[str, float], pred: dict[str, float]) -> float:
    errs = []
    for t, a in truth.items():
        g = pred.get(t, 0.0)
        if not math.isfinite(g) or g < 0:
            g = 0.0
        errs.append(abs(g - a))
    return statistics.fmean(errs) / 60 if errs else 0.0


def write_predictions(path: Path, pred: dict[str, float]) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["ticket", "predicted_wait_s"])
        for t, v in pred.items():
            w.writerow([t, f"{v:.1f}"])


def score_day(day: Path, **kw) -> dict:
    res = replay(day, **kw)
    truth = read_truth(day)
    maes = {k: mae_min(truth, v) for k, v in res["preds"].items()}
    best = min(maes[b] for b in BASELINES)
    return {"mae_min": maes, "ratio": maes["yours"] / best if best > 0 else float("nan"),
            "ratios": {b: maes["yours"] / maes[b] if maes[b] > 0 else float("nan") for b in BASELINES},
            "est_ms_per_ticket": 1000 * res["est_time_s"] / max(res["n_est"], 1),
            "est_time_s": res["est_time_s"], "n": res["n_est"]}


def run_generated(n: int, scenarios: list[str], seed0: int, **kw) -> list[dict]:
    from bench.gen_day import generate

    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for sc in scenarios:
            ratios, per_base, costs, ests = [], {b: [] for b in BASELINES}, [], []
            for i in range(n):
                d = Path(tmp) / f"{sc}_{i}"
                generate(sc, seed0 + i, d)
                s = score_day(d, **kw)
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
    kw = {"prior_s": a.prior_s, "starvation_s": a.starvation_min * 60, "reopen_breaks": a.reopen_breaks,
          "phantom_requeue": a.phantom_requeue}
    if a.generated:
        for line in run_generated(a.generated, a.scenarios.split(","), a.seed, **kw):
            print(json.dumps(line))
        return 0
    if a.day is None:
        ap.error("DAY_DIR or --generated N")
    res = replay(a.day, **kw)
    if a.out:
        write_predictions(a.out, res["preds"]["yours"])
    if a.baseline_dir:
        a.baseline_dir.mkdir(parents=True, exist_ok=True)
        for b in BASELINES:
            write_predictions(a.baseline_dir / f"baseline_{b}.csv", res["preds"][b])
    t = res["times"]
    print(json.dumps({"metric": "wait_estimate_cpu_ms", "p50": 1000 * percentile(t, 0.5),
                      "p99": 1000 * percentile(t, 0.99), "mean": 1000 * res["est_time_s"] / max(res["n_est"], 1),
                      "day_total_s": res["est_time_s"], "n": res["n_est"], "unit": "ms"}))
    if a.score and (a.day / "truth.csv").exists():
        s = score_day(a.day, **kw)
        print(json.dumps({"metric": "wait_estimate_mae_ratio", "day": str(a.day), "ratio": s["ratio"],
                          "mae_min": s["mae_min"], "unit": "ratio"}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
