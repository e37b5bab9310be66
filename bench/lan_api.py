"""The hall web app's API: one call alone, then 8 counters calling at once while 2 satellites issue.

First one clerk calls 200 times with 20 customers waiting and nothing else happening
(``lan_api_call_alone_latency_ms``: what a call costs through the API). Then the load:

A real kiosk (virtual devices) serves its hall web app with uvicorn on a free port. Eight clerks,
each signed in at their own counter, call the next ticket and finish it through the API
(`POST /api/counter/call`, `/api/counter/finish`), each from its own thread over one HTTP
keep-alive connection; two device-token clients (satellites, `kiosk.app.main_link.MainLink`)
issue tickets at the same time. Afterwards the database is checked: no duplicate number, no
ticket called twice or at two counters, every issued ticket accounted for (served or still waiting).

    python -m bench.lan_api [--seconds 10] [--issue-gap-ms 20]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import sqlite3
import tempfile
import threading
import time
from pathlib import Path

from bench.metrics import Metric, Target
from kiosk.access.clerks import ClerkBook
from kiosk.app.kiosk_app import KioskApp
from kiosk.app.main_link import MainLink
from kiosk.app.outputs import Outputs
from kiosk.config.settings import Settings, load_settings
from kiosk.lan.server import LanServer
from kiosk.storage.store import db_path

METRICS = (
    Metric("lan_api_call_alone_latency_ms", "ms", Target("p50", "<=", 3),
           "POST /api/counter/call answered, one clerk calling with 20 waiting and nothing else happening"),
    Metric("lan_api_call_latency_ms", "ms", Target("p50", "<=", 3),
           "POST /api/counter/call answered, 8 counters calling while 2 satellites issue (FQM: 5.8 ms median)"),
    Metric("lan_api_issue_latency_ms", "ms", what="POST /api/tickets with a device token, answered "
                                                  "(FQM: 9.7 ms median for an issue)"),
    Metric("lan_api_consistency", "count", (Target("duplicate_numbers", "<=", 0), Target("double_calls", "<=", 0),
                                            Target("unaccounted", "<=", 0)),
           "the database after the run: duplicate numbers, tickets called twice, issued tickets missing"),
)
COUNTERS = 8
SATELLITES = 2
EMPTY_RETRY_S = 0.05   # a clerk whose call found nobody tries again this much later
PIN = "4321"


def pct(values: list[float], q: float) -> float | None:
    s = sorted(values)
    return round(s[min(len(s) - 1, int(round(q / 100 * (len(s) - 1))))], 3) if s else None


def hall_of_eight(tokens: list[str]) -> Settings:
    data = load_settings().model_dump(mode="json")
    first = data["counters"][0]
    services = sorted({s for c in data["counters"] for s in c["services"]})
    data["counters"] = [{**first, "number": n, "name": {"zh": f"{n}号窗口", "en": f"Counter {n}"},
                         "services": services} for n in range(1, COUNTERS + 1)]
    data["lan"] = {"enabled": True, "bind": "127.0.0.1", "port": 8090,
                   "device_tokens": [{"name": f"sat{i + 1}", "sha256": hashlib.sha256(t.encode()).hexdigest()}
                                     for i, t in enumerate(tokens)]}
    return Settings.model_validate(data)


def run(seconds: float, issue_gap_s: float) -> list[dict]:
    tokens = [f"bench-satellite-token-{i}-" + "7e1f" * 8 for i in range(SATELLITES)]
    settings = hall_of_eight(tokens)
    with tempfile.TemporaryDirectory(prefix="lan-api-") as d:
        data = Path(d)
        book = ClerkBook(data)
        for n in range(1, COUNTERS + 1):
            book.add(f"c{n:02d}", f"Clerk {n}", PIN)
        book.close()
        app = KioskApp(settings, data, devices=Outputs(settings, simulate=True)).start()
        server = LanServer(app, "127.0.0.1", 0).start()
        try:
            # the clients in a process of their own, as the counters' PCs and the satellites are: in the
            # kiosk's process their threads would take the server's interpreter lock from it
            ctx = multiprocessing.get_context("spawn")
            with ctx.Pool(1) as pool:
                alone = pool.apply(_alone, (server.url, tokens[0]))
                return [alone, *pool.apply(_load, (server.url, data, tokens, seconds, issue_gap_s))]
        finally:
            server.close()
            app.stop()


def _alone(url: str, token: str, calls: int = 200, waiting: int = 20) -> dict:
    """One clerk calls while nothing else happens, `waiting` customers in the queue (a satellite
    tops it up between calls): what one call costs through the API, the figure FQM quotes."""
    sat = MainLink(url, token, timeout_s=3.0)
    anon = MainLink(url, "none-yet-" + "0" * 16)
    clerk = MainLink(url, anon.request("POST", "/api/session", {"clerk": "c01", "pin": PIN, "counter": 1})["token"],
                     timeout_s=3.0)
    anon.close()
    clerk.request("POST", "/api/counter/open", {})
    for _ in range(waiting):
        sat.issue("A")
    ms = []
    for _ in range(calls):
        sat.issue("A")
        t0 = time.perf_counter()
        clerk.request("POST", "/api/counter/call", {})
        ms.append((time.perf_counter() - t0) * 1000)
        clerk.request("POST", "/api/counter/finish", {})
    for _ in range(waiting):                         # leave the queue empty for the load that follows
        clerk.request("POST", "/api/counter/call", {})
        clerk.request("POST", "/api/counter/finish", {})
    clerk.request("DELETE", "/api/session", None)
    clerk.close()
    sat.close()
    return {"metric": "lan_api_call_alone_latency_ms", "unit": "ms", "p50": pct(ms, 50), "p99": pct(ms, 99),
            "max": pct(ms, 100), "n": len(ms), "waiting": waiting}


def _load(url: str, data: Path, tokens: list[str], seconds: float, issue_gap_s: float) -> list[dict]:
    issuing, calling = threading.Event(), threading.Event()
    issuing.set()
    calling.set()
    issued: list[str] = []
    issue_ms: list[float] = []
    call_ms: list[float] = []
    called: list[str] = []
    errors: list[str] = []
    lock = threading.Lock()
    services = ["A", "B"]

    def satellite(i: int) -> None:
        link = MainLink(url, tokens[i], timeout_s=3.0)
        n = 0
        while issuing.is_set():
            t0 = time.perf_counter()
            try:
                answer = link.issue(services[(n + i) % len(services)])
            except Exception as exc:  # noqa: BLE001 — counted, the run goes on
                with lock:
                    errors.append(f"issue: {exc}")
                continue
            dt = (time.perf_counter() - t0) * 1000
            with lock:
                issued.append(answer["ticket"])
                issue_ms.append(dt)
            n += 1
            time.sleep(issue_gap_s)
        link.close()

    def clerk(counter: int) -> None:
        anon = MainLink(url, "none-yet-" + "0" * 16)
        token = anon.request("POST", "/api/session", {"clerk": f"c{counter:02d}", "pin": PIN, "counter": counter})
        anon.close()
        link = MainLink(url, token["token"], timeout_s=3.0)
        link.request("POST", "/api/counter/open", {})
        while calling.is_set():
            t0 = time.perf_counter()
            try:
                out = link.request("POST", "/api/counter/call", {})
            except Exception as exc:  # noqa: BLE001
                with lock:
                    errors.append(f"call: {exc}")
                continue
            dt = (time.perf_counter() - t0) * 1000
            if out["ticket"] is None:
                if not issuing.is_set():
                    break
                time.sleep(EMPTY_RETRY_S)            # nobody waiting: the clerk tries again a moment later
                continue
            with lock:
                call_ms.append(dt)
                called.append(out["ticket"])
            link.request("POST", "/api/counter/finish", {})
        link.close()

    with sqlite3.connect(db_path(data)) as conn:                 # the tickets of the call-alone phase
        before = {n for (n,) in conn.execute("SELECT number FROM tickets")}
    threads = [threading.Thread(target=clerk, args=(c,)) for c in range(1, COUNTERS + 1)]
    threads += [threading.Thread(target=satellite, args=(i,)) for i in range(SATELLITES)]
    t_start = time.perf_counter()
    for t in threads:
        t.start()
    time.sleep(seconds)
    issuing.clear()
    deadline = time.monotonic() + 60
    for t in threads:
        t.join(max(0.1, deadline - time.monotonic()))
    calling.clear()
    elapsed = time.perf_counter() - t_start
    with sqlite3.connect(db_path(data)) as conn:
        dup = conn.execute("SELECT count(*) FROM (SELECT day, number FROM tickets GROUP BY day, number "
                           "HAVING count(*) > 1)").fetchone()[0]
        double = conn.execute("SELECT count(*) FROM (SELECT json_extract(body, '$.ticket') AS t FROM outbox "
                              "WHERE type = 'ticket.called' GROUP BY t HAVING count(*) > 1 "
                              "OR count(DISTINCT json_extract(body, '$.counter')) > 1)").fetchone()[0]
        rows = {n: st for n, st in conn.execute("SELECT number, state FROM tickets") if n not in before}
    unaccounted = sum(1 for n in issued if rows.get(n) not in ("done", "waiting"))
    unaccounted += len(set(rows) - set(issued))
    counts = {"issued": len(issued), "called": len(called), "errors": len(errors), "seconds": round(elapsed, 2)}
    return [
        {"metric": "lan_api_call_latency_ms", "unit": "ms", "p50": pct(call_ms, 50), "p99": pct(call_ms, 99),
         "max": pct(call_ms, 100), "n": len(call_ms), "counters": COUNTERS, "satellites": SATELLITES},
        {"metric": "lan_api_issue_latency_ms", "unit": "ms", "p50": pct(issue_ms, 50), "p99": pct(issue_ms, 99),
         "max": pct(issue_ms, 100), "n": len(issue_ms)},
        {"metric": "lan_api_consistency", "unit": "count", "duplicate_numbers": dup, "double_calls": double,
         "unaccounted": unaccounted, **counts, "first_errors": errors[:3]},
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0, help="how long the satellites issue")
    ap.add_argument("--issue-gap-ms", type=float, default=20.0,
                    help="each satellite's pause between two tickets (20: 100 tickets a second from the two)")
    a = ap.parse_args()
    for line in run(a.seconds, a.issue_gap_ms / 1000):
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
