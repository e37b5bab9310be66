"""Day generator: a discrete-event simulator of a service hall.

Writes a day folder in the format of ``../shared/replay`` (``trace.csv``, ``meta.json``,
``truth.csv``, and the classic predictors' ``baseline_*.csv`` so that ``score.py`` works
on it), for validating the wait estimator on many days it was never tuned on.

    python -m bench.estimates.gen_day SCENARIO SEED OUT_DIR
    python -m bench.estimates.gen_day --list

The hall: services A (payments), B (general business), V (VIP, priority 1); counters
with the services they serve, calling with the engine's rule
(:func:`kiosk.domain.policy.choose_next`): ``vip_first`` counters call waiting priority
tickets first, otherwise the longest-waiting ticket among the counter's services
(optionally an anti-starvation limit, written to ``meta.json`` as ``starvation_limit_s``:
a normal ticket past it is called before priority tickets).  Arrivals are
a non-homogeneous Poisson process with a time-of-day profile; service times are
lognormal per service (mean and spread drawn per day, slower in some hours); called
customers walk up (10-60 s) or never come (no-show, logged after a 45-90 s grace;
more likely the longer they waited);
staff take a few seconds between customers; counters open in shifts, take breaks
(closing when their current customer is done), and keep serving after closing time
until the queue is empty.

Scenarios: calm, peak, surge (a 2.5-4x rush for an hour or so), closing (counters
close for good mid-day), noshow (25-35 % no-shows), vip (many priority tickets and a
starvation limit).
"""

from __future__ import annotations

import argparse
import csv
import heapq
import json
import sys
from pathlib import Path

import numpy as np

from bench.estimates.trace_replay import BASELINES, replay, write_predictions
from kiosk.domain.policy import Candidate, choose_next

SCENARIOS = {
    # load (arrivals / capacity of the staffed counters), no-show share, priority share
    "calm": dict(rho=(0.55, 0.72), noshow=(0.02, 0.05), vip=(0.05, 0.09)),
    "peak": dict(rho=(0.88, 1.0), noshow=(0.07, 0.12), vip=(0.06, 0.1)),
    "surge": dict(rho=(0.6, 0.75), noshow=(0.04, 0.1), vip=(0.05, 0.1), surge=True),
    "closing": dict(rho=(0.65, 0.8), noshow=(0.04, 0.1), vip=(0.05, 0.1), closing=True),
    "noshow": dict(rho=(0.8, 0.95), noshow=(0.25, 0.35), vip=(0.05, 0.1)),
    "vip": dict(rho=(0.75, 0.9), noshow=(0.04, 0.1), vip=(0.2, 0.3), starvation=True),
}
DAY_S = 9 * 3600.0
HOUR_PROFILE = np.array([0.75, 1.1, 1.05, 1.15, 1.2, 0.8, 0.95, 1.0, 1.0])


def _hall(rng: np.random.Generator) -> dict:
    """Counters: two vip_first generalists, then a random mix of A/B counters."""
    counters = {
        "C1": {"services": ["V", "B", "A"], "vip_first": True},
        "C2": {"services": ["V", "A", "B"], "vip_first": True},
    }
    n_more = int(rng.integers(3, 7))  # 3..6 more counters
    kinds = [["A", "B"], ["A"], ["B"], ["B", "A"]]
    for i in range(n_more):
        s = kinds[int(rng.integers(0, len(kinds)))] if i >= 2 else (["A"] if i == 0 else ["B", "A"])
        counters[f"C{3 + i}"] = {"services": list(s), "vip_first": False}
    return counters


def _schedule(rng, counters: dict, scenario: str) -> dict:
    """Per counter: open time, breaks [(start, end)], planned end (None: till the queue is empty)."""
    plan = {}
    ids = list(counters)
    late = set(rng.choice(ids[1:], size=min(2, len(ids) - 1), replace=False).tolist())
    for k, cid in enumerate(ids):
        start = 0.0 if cid not in late else float(rng.choice([1800.0, 3600.0, 7200.0]))
        breaks = []
        if rng.random() < 0.7:
            b = float(rng.uniform(10000, 20000))
            breaks.append((b, b + float(rng.choice([900.0, 1800.0, 2700.0]))))
        end = None
        if cid in late and rng.random() < 0.6:
            end = start + float(rng.uniform(5.5, 7.5)) * 3600
            if end >= DAY_S:
                end = None
        plan[cid] = {"open": start, "breaks": breaks, "end": end}
    # someone serving every service stays till the end
    for svc in ("A", "B", "V"):
        if not any(svc in counters[c]["services"] and plan[c]["end"] is None for c in ids):
            c = next(c for c in ids if svc in counters[c]["services"])
            plan[c]["end"] = None
    if scenario == "closing":
        # two or three counters close for good (one possibly reopening much later)
        cand = [c for c in ids if plan[c]["end"] is None]
        n = min(len(cand) - 2, int(rng.integers(2, 4)))
        for c in rng.choice(cand, size=max(n, 1), replace=False).tolist():
            t = float(rng.uniform(7000, 22000))
            plan[c]["breaks"] = [b for b in plan[c]["breaks"] if b[1] < t]
            if rng.random() < 0.3:
                plan[c]["breaks"].append((t, t + float(rng.uniform(5400, 9000))))
            else:
                plan[c]["end"] = t
                plan[c]["breaks"] = [b for b in plan[c]["breaks"] if b[1] < t]
        for svc in ("A", "B", "V"):
            if not any(svc in counters[c]["services"] and plan[c]["end"] is None for c in ids):
                c = next(c for c in ids if svc in counters[c]["services"])
                plan[c]["end"] = None
    return plan


def _capacity_per_hour(counters: dict, plan: dict, occupancy_s: float) -> float:
    """Customers per hour the planned staffing can serve (before any mid-day closing)."""
    hours = 0.0
    for c, pl in plan.items():
        end = DAY_S if pl["end"] is None else pl["end"]
        hours += max(end - pl["open"] - sum(b1 - b0 for b0, b1 in pl["breaks"]), 0.0) / 3600
    return hours / (DAY_S / 3600) * 3600 / occupancy_s


def _arrivals(rng, p: dict, capacity_h: float, vip: float, share_a: float) -> list[tuple[float, str, int]]:
    rate_h = float(rng.uniform(*p["rho"])) * capacity_h
    profile = HOUR_PROFILE * rng.uniform(0.85, 1.15, size=HOUR_PROFILE.size)
    profile = profile / profile.mean()
    surge = None
    if p.get("surge"):
        s0 = float(rng.uniform(3600, 6 * 3600))
        surge = (s0, s0 + float(rng.uniform(2700, 5400)), float(rng.uniform(2.5, 4.0)))
    lam_max = rate_h * profile.max() * (surge[2] if surge else 1.0) / 3600
    out, t = [], 0.0
    while True:
        t += float(rng.exponential(1 / lam_max))
        if t >= DAY_S:
            break
        lam = rate_h * profile[min(int(t // 3600), profile.size - 1)] / 3600
        if surge and surge[0] <= t < surge[1]:
            lam *= surge[2]
        if rng.random() * lam_max > lam:
            continue
        u = rng.random()
        if u < vip:
            out.append((t, "V", 1))
        elif u < vip + (1 - vip) * share_a:
            out.append((t, "A", 0))
        else:
            out.append((t, "B", 0))
    return out


def simulate(scenario: str, seed: int) -> tuple[dict, list[tuple], list[dict]]:
    if scenario not in SCENARIOS:
        raise SystemExit(f"unknown scenario {scenario!r}; one of {', '.join(SCENARIOS)}")
    p = SCENARIOS[scenario]
    rng = np.random.default_rng([seed, list(SCENARIOS).index(scenario)])
    counters = _hall(rng)
    plan = _schedule(rng, counters, scenario)
    noshow_p = float(rng.uniform(*p["noshow"]))
    # customers who wait long are more likely gone when called (abandonment)
    leave_w, leave_max = float(rng.uniform(1800, 3600)), float(rng.uniform(0.2, 0.5))
    svc_mean = {"A": float(rng.uniform(180, 330)), "B": float(rng.uniform(380, 650)), "V": float(rng.uniform(280, 520))}
    vip = float(rng.uniform(*p["vip"]))
    share_a = float(rng.uniform(0.45, 0.6))
    mix = vip * svc_mean["V"] + (1 - vip) * (share_a * svc_mean["A"] + (1 - share_a) * svc_mean["B"])
    occupancy = (1 - noshow_p) * (mix + 35.0) + noshow_p * 67.5 + 20.0
    svc_cv = {s: float(rng.uniform(0.45, 0.9)) for s in svc_mean}
    slow = rng.uniform(0.85, 1.2, size=HOUR_PROFILE.size)  # service-time factor per hour
    limits = {"A": 1200.0, "B": 1200.0, "V": 900.0} if p.get("starvation") else None

    def service_time(svc: str, t: float) -> float:
        m = svc_mean[svc] * slow[min(int(t // 3600), slow.size - 1)]
        s2 = np.log(1 + svc_cv[svc] ** 2)
        return float(rng.lognormal(np.log(m) - s2 / 2, np.sqrt(s2)))

    trace: list[tuple] = []
    truth: dict[str, dict] = {}
    waiting: dict[str, Candidate] = {}  # ticket -> its place in the lines
    names: dict[int, str] = {}  # Candidate.ticket_id -> ticket
    numbers = {"A": 0, "B": 0, "V": 0}
    st = {c: {"state": "closed", "busy": None, "pending_close": False, "gen": 0} for c in counters}
    heap: list = []
    seq = 0

    def push(t, kind, *data):
        nonlocal seq
        seq += 1
        heapq.heappush(heap, (t, seq, kind, data))

    for t, svc, prio in _arrivals(rng, p, _capacity_per_hour(counters, plan, occupancy), vip, share_a):
        push(t, "arrive", svc, prio)
    for c, pl in plan.items():
        push(pl["open"], "open", c)
        for b0, b1 in pl["breaks"]:
            if b0 > pl["open"]:
                push(b0, "want_close", c)
                push(b1, "open", c)
        if pl["end"] is not None:
            push(pl["end"], "want_close", c)
    push(DAY_S, "day_end")

    def log(t, ev, ticket="", svc="", prio="", counter=""):
        trace.append((round(t, 1), ev, ticket, svc, prio, counter))

    def pick(c: str, t: float) -> str | None:
        cm = counters[c]
        chosen = choose_next(cm["services"], cm["vip_first"], waiting.values(), t, "vip_first", limits or {})
        return names[chosen.ticket_id] if chosen is not None else None

    def close_now(c, t):
        st[c]["state"] = "closed"
        st[c]["pending_close"] = False
        st[c]["gen"] += 1
        log(t, "counter_close", counter=c)

    def try_call(c: str, t: float) -> None:
        s = st[c]
        if s["state"] != "open" or s["busy"] is not None:
            return
        if s["pending_close"]:
            close_now(c, t)
            return
        k = pick(c, t)
        if k is None:
            if day_over and not any(w.service in counters[c]["services"] for w in waiting.values()):
                close_now(c, t)
            return
        w = waiting.pop(k)
        arr, svc, prio = w.queued_t, w.service, w.priority
        s["busy"] = k
        log(t, "call", k, svc, prio, c)
        truth[k].update(call_ts=round(t, 1), wait_s=round(t, 1) - round(arr, 1), counter=c)
        p_gone = noshow_p + (max(leave_max, noshow_p) - noshow_p) * min(1.0, ((t - arr) / leave_w) ** 2)
        if rng.random() < p_gone:
            truth[k]["noshow"] = 1
            push(t + float(rng.uniform(45, 90)), "noshow", c, k)
        else:
            walk = float(rng.uniform(10, 60))
            push(t + walk, "start", c, k)
            push(t + walk + service_time(svc, t), "finish", c, k)

    day_over = False
    while heap:
        t, _, kind, data = heapq.heappop(heap)
        if kind == "arrive":
            svc, prio = data
            numbers[svc] += 1
            k = f"{svc}{numbers[svc]:03d}"
            waiting[k] = Candidate(len(names) + 1, svc, prio, t)
            names[waiting[k].ticket_id] = k
            truth[k] = {"ticket": k, "service": svc, "priority": prio, "arrive_ts": round(t, 1), "noshow": 0}
            log(t, "arrive", k, svc, prio)
            for c in counters:
                if st[c]["state"] == "open" and st[c]["busy"] is None and svc in counters[c]["services"]:
                    push(t + float(rng.uniform(1, 12)), "ready", c, st[c]["gen"])
        elif kind == "open":
            c = data[0]
            if st[c]["pending_close"]:
                st[c]["pending_close"] = False  # the break is over before it began: skip it
            if st[c]["state"] == "closed" and not (day_over and plan[c]["end"] is not None):
                st[c].update(state="open", pending_close=False)
                st[c]["gen"] += 1
                log(t, "counter_open", counter=c)
                try_call(c, t)
        elif kind == "want_close":
            c = data[0]
            if st[c]["state"] == "open":
                if st[c]["busy"] is None:
                    close_now(c, t)
                else:
                    st[c]["pending_close"] = True
        elif kind == "ready":
            c, gen = data
            if gen == st[c]["gen"]:
                try_call(c, t)
        elif kind == "start":
            c, k = data
            log(t, "start", k, truth[k]["service"], truth[k]["priority"], c)
        elif kind in ("finish", "noshow"):
            c, k = data
            log(t, kind, k, truth[k]["service"], truth[k]["priority"], c)
            st[c]["busy"] = None
            if st[c]["pending_close"]:
                close_now(c, t)
            else:
                st[c]["gen"] += 1
                push(t + float(rng.uniform(0, 40)), "ready", c, st[c]["gen"])
        elif kind == "day_end":
            day_over = True
            for c in counters:
                if st[c]["state"] == "open" and st[c]["busy"] is None:
                    try_call(c, t)
        if day_over and not heap and waiting:
            # nobody left to serve what is waiting: a counter that serves it reopens
            svc = next(iter(waiting.values())).service
            c = next(c for c in counters if svc in counters[c]["services"])
            plan[c]["end"] = None
            push(t + 60, "open", c)

    meta = {
        "scenario": scenario, "seed": seed, "numpy": np.__version__, "open_clock": "09:00",
        "close_ts": int(DAY_S),
        "services": {"A": "payments", "B": "general business", "V": "VIP"},
        "counters": counters,
    }
    if limits:
        meta["starvation_limit_s"] = limits
    rows = [truth[k] for k in sorted(truth, key=lambda k: truth[k]["arrive_ts"])]
    return meta, trace, rows


def generate(scenario: str, seed: int, out: Path, baselines: bool = True) -> Path:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    meta, trace, truth = simulate(scenario, seed)
    (out / "meta.json").write_text(json.dumps(meta, indent=1))
    with open(out / "trace.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["ts", "event", "ticket", "service", "priority", "counter"])
        for row in trace:
            w.writerow([f"{row[0]:.1f}", *row[1:]])
    with open(out / "truth.csv", "w", newline="") as f:
        cols = ["ticket", "service", "priority", "arrive_ts", "call_ts", "wait_s", "counter", "noshow"]
        w = csv.DictWriter(f, fieldnames=cols)
        w.writeheader()
        for r in truth:
            w.writerow({k: (f"{r[k]:.1f}" if isinstance(r[k], float) else r[k]) for k in cols})
    if baselines:
        res = replay(out, None)
        for b in BASELINES:
            write_predictions(out / f"baseline_{b}.csv", res.preds[b])
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenario", nargs="?")
    ap.add_argument("seed", nargs="?", type=int)
    ap.add_argument("out", nargs="?", type=Path)
    ap.add_argument("--list", action="store_true")
    a = ap.parse_args(argv)
    if a.list or a.scenario is None:
        print(json.dumps({"scenarios": list(SCENARIOS)}))
        return 0
    out = generate(a.scenario, a.seed or 0, a.out or Path(f"day_{a.scenario}_{a.seed}"))
    with open(out / "truth.csv", newline="") as f:
        truth = list(csv.DictReader(f))
    waits = [float(r["wait_s"]) for r in truth]
    print(json.dumps({"metric": "generated_day", "scenario": a.scenario, "seed": a.seed or 0,
                      "tickets": len(truth), "noshows": sum(int(r["noshow"]) for r in truth),
                      "mean_wait_min": round(sum(waits) / max(len(waits), 1) / 60, 2),
                      "max_wait_min": round(max(waits, default=0.0) / 60, 2), "out": str(out)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
