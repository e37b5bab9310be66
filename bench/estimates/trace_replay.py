"""Replaying a day's trace without the engine: the hall at every event, straight from the trace.

Reads a day folder (``trace.csv`` + ``meta.json``, the format of ``../shared/replay``),
rebuilds the :class:`kiosk.estimate.HallView` at every event, feeds
:meth:`WaitEstimator.observe` with domain-event dicts, and records at every ``arrive`` the
estimate the kiosk would print (using only what happened before), and the four classic
predictors (naive, ql, les, hol) on the same states.
"""
from __future__ import annotations

import csv
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

from kiosk.estimate import CounterView, HallView, WaitEstimator, WaitingTicket

BASELINES = ("naive", "ql", "les", "hol")


def load_day(day: Path) -> tuple[dict, list[dict]]:
    meta = json.loads((day / "meta.json").read_text())
    with open(day / "trace.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return meta, rows


def read_truth(day: Path) -> dict[str, float]:
    with open(day / "truth.csv", newline="") as f:
        return {r["ticket"]: float(r["wait_s"]) for r in csv.DictReader(f)}


def write_predictions(path: Path, pred: dict[str, float]) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["ticket", "predicted_wait_s"])
        for t, v in pred.items():
            w.writerow([t, f"{v:.1f}"])


def counter_number(cid: str) -> int:
    digits = "".join(ch for ch in str(cid) if ch.isdigit())
    return int(digits) if digits else abs(hash(cid)) % 10_000


class ClassicPredictors:
    """The classic predictors, computed from the same reconstructed state.

    naive: people ahead (same service) x mean service time / open counters
    ql:    Ibrahim & Whitt's queue-length predictor (n + 1) x E[S] / s when every
           counter serving the service is busy, else 0 (s = open counters serving it)
    les:   the wait of the last customer of the service to enter service
    hol:   the current wait of the head of the service's line (0 when empty)
    """

    def __init__(self, prior_s: float) -> None:
        self.prior_s = prior_s
        self.total_s: dict[str, float] = {}
        self.count: dict[str, int] = {}
        self.last_wait: dict[str, float] = {}

    def mean(self, svc: str) -> float:
        if self.count.get(svc):
            return self.total_s[svc] / self.count[svc]
        n = sum(self.count.values())
        return sum(self.total_s.values()) / n if n else self.prior_s

    def finished(self, svc: str, dur: float) -> None:
        self.total_s[svc] = self.total_s.get(svc, 0.0) + dur
        self.count[svc] = self.count.get(svc, 0) + 1

    def predict(self, ticket: WaitingTicket, hall: HallView) -> dict[str, float]:
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
        hol = hall.now - ahead[0].queued_at if ahead else 0.0
        return {"naive": naive, "ql": ql, "les": les, "hol": hol}


@dataclass
class Busy:
    service: str
    called_at: float


@dataclass
class ReplayResult:
    preds: dict[str, dict[str, float]]  # predictor ("yours" or a baseline) -> ticket -> seconds
    times: list[float] = field(default_factory=list)  # CPU seconds of each estimate

    @property
    def est_time_s(self) -> float:
        return sum(self.times)


def replay(day: Path, estimator: WaitEstimator | None, *, prior_s: float = 300.0,
           starvation_s: float = math.inf, baselines: bool = True, phantom_requeue: bool = False) -> ReplayResult:
    """Replay one day with ``estimator`` (None: the baselines only).

    ``phantom_requeue`` stress-tests an engine that puts no-shows back in the line (at
    their original place) although the recorded hall never calls them again."""
    meta, rows = load_day(day)
    h0, m0 = (int(x) for x in meta.get("open_clock", "09:00").split(":")[:2])
    counters_meta = meta["counters"]
    base = ClassicPredictors(prior_s) if baselines else None
    limits = {s: starvation_s for s in meta.get("services", {})}
    limits.update({k: float(v) for k, v in meta.get("starvation_limit_s", {}).items()})

    ids: dict[str, int] = {}
    waiting: dict[int, WaitingTicket] = {}
    state = {cid: "closed" for cid in counters_meta}
    busy: dict[str, Busy] = {}
    called_at: dict[int, float] = {}
    queued_at: dict[int, float] = {}
    result = ReplayResult({name: {} for name in ("yours", *BASELINES)})

    def hall(now: float) -> HallView:
        hour = int((h0 * 3600 + m0 * 60 + now) // 3600) % 24
        cvs = []
        for cid, cm in counters_meta.items():
            b = busy.get(cid)
            cvs.append(CounterView(
                number=counter_number(cid), services=tuple(cm["services"]),
                vip_first=bool(cm.get("vip_first")), state=state[cid],
                busy_service=b.service if b else None, busy_since=b.called_at if b else None))
        return HallView(now=now, hour=hour, waiting=tuple(waiting.values()), counters=tuple(cvs),
                        priority_at=meta.get("priority_at", "vip_first"), starvation_limit_s=limits)

    def observe(event: dict, ts: float) -> None:
        if estimator is not None:
            estimator.observe(event, ts)

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
        else:
            tid = ids[name] if name else None  # a ticket event of a ticket that never arrived: KeyError
        fields = {"ticket_id": tid, "ticket": name, "service": svc, "priority": prio, "counter": cnum}
        if ev == "arrive":
            t = WaitingTicket(ticket_id=tid, service=svc, priority=prio, queued_at=ts)
            waiting[tid] = t
            queued_at[tid] = ts
            hv = hall(ts)
            if estimator is not None:
                t0 = time.process_time()  # CPU time: robust to other jobs sharing the machine
                result.preds["yours"][name] = estimator.estimate_for(hv, tid)
                result.times.append(time.process_time() - t0)
            if base:
                for k, v in base.predict(t, hv).items():
                    result.preds[k][name] = v
            observe({"type": "ticket.issued", "ticket_id": tid, "ticket": name, "service": svc,
                     "priority": prio}, ts)
        elif ev == "call":
            t = waiting.pop(tid, None)
            wait = ts - t.queued_at if t else 0.0
            busy[cid] = Busy(svc, ts)
            called_at[tid] = ts
            if base:
                base.last_wait[svc] = wait
            observe({"type": "ticket.called", **fields, "wait_s": wait}, ts)
        elif ev == "start":
            observe({"type": "ticket.started", **fields}, ts)
        elif ev == "finish":
            dur = ts - called_at.get(tid, ts)
            busy.pop(cid, None)
            if base:
                base.finished(svc, dur)
            observe({"type": "ticket.finished", **fields, "service_s": dur}, ts)
        elif ev == "noshow":
            busy.pop(cid, None)
            if phantom_requeue:
                waiting[tid] = WaitingTicket(ticket_id=tid, service=svc, priority=prio, queued_at=queued_at[tid])
            observe({"type": "ticket.noshow", **fields, "requeued": phantom_requeue}, ts)
        elif ev in ("counter_open", "counter_close", "counter_pause"):
            state[cid] = {"counter_open": "open", "counter_close": "closed", "counter_pause": "paused"}[ev]
            kind = {"counter_open": "counter.opened", "counter_close": "counter.closed",
                    "counter_pause": "counter.paused"}[ev]
            observe({"type": kind, "counter": cnum}, ts)
    return result
