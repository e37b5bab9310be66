"""HQ dashboard: kiosk event → page update latency and ingest rate with 1,000 branches.

    python -m bench.hq_dashboard [--branches 1000] [--rate 1000] [--seconds 20] [--burst 100000]
                                 [--push-ms 250] [--no-browser] [--db sqlite|postgres]

A local mosquitto, `kiosk hq serve` (`python -m kiosk hq serve`: the real server, recorder +
web) in its own process — on an SQLite file, or with ``--db postgres`` on a throwaway PostgreSQL
(`kiosk.sim.postgres`) — and simulated branches (``--branches 10000`` for the scale-out figure) (paho clients; every branch has a retained status
and queue snapshot, then publishes events with increasing ``seq``).

* ``hq_page_update_latency_ms`` — while the branches publish ``--rate`` events/s in total
  (round-robin), ``--clients`` Python SSE clients (open pages, 10) read ``/api/stream``; for
  every published event, the latency is the time until the first pushed row of its branch
  with ``last_seq`` ≥ its seq (coalesced pushes count for every event they cover), on every
  page (``n`` = events × pages).
* ``mqtt_delivery_latency_ms`` — the baseline of the same run: a plain MQTT subscriber on
  ``kiosk/+/events`` (broker delivery only); ``ratio_to_mqtt_p99`` is reported with the
  page figure.
* ``hq_browser_update_latency_ms`` — the same, measured in headless Chromium (Debian's,
  Playwright) on the branch list page opened with ``?measure=1``: the page stamps each row
  it updates after the next paint (``window.hqLog``). Rows off the screen are only marked
  stale and filled when scrolled into view, so ``n`` counts the events of the rows on the
  screen (``not_rendered``: events of off-screen rows); skipped without chromium/Playwright.
* ``hq_serve_ingest_events_per_s`` — ``--burst`` events published as fast as two publisher
  processes can, from the first publish until the server's recorder has written them all
  (``/api/stats``), with the publishers' own rate alongside.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import deque
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from bench.metrics import Metric, Target
from kiosk.sim.broker import Broker
from kiosk.sim.hq_login import sign_in
from kiosk.sim.net import free_port
from kiosk.sim.processes import stop_process
from kiosk.sim.sse_client import SseStream
from kiosk.sim.waiting import wait_until

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("KIOSK_CHROMIUM", "/usr/bin/chromium")
USER, PASSWORD = "bench", "bench-password"

METRICS = (
    Metric("mqtt_delivery_latency_ms", "ms", what="broker delivery to a plain subscriber (baseline)"),
    Metric("hq_page_update_latency_ms", "ms", Target("p99", "<=", 1000),
           "event published → row pushed to an open page (SSE), every page"),
    Metric("hq_browser_update_latency_ms", "ms", Target("p99", "<=", 1000),
           "event published → row painted in headless Chromium"),
    Metric("hq_serve_ingest_events_per_s", "events/s", Target("value", ">=", 5000),
           "a burst through `kiosk hq serve` until its recorder has written every event"),
    Metric("hq_sse_tick_ms", "ms", what="server time to build one coalesced push"),
)



def pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, int(round(p / 100 * (len(s) - 1)))))]


def figure(metric: str, xs: list[float], **extra: Any) -> dict[str, Any]:
    return {"metric": metric, "p50": round(pct(xs, 50), 1) if xs else None,
            "p99": round(pct(xs, 99), 1) if xs else None, "max": round(max(xs), 1) if xs else None,
            "n": len(xs), "unit": "ms", **extra}


# -- processes ------------------------------------------------------------------------------------
class Server:
    def __init__(self, broker_port: int, workdir: Path, push_ms: float, protocol: str = "5",
                 db: str | None = None) -> None:
        from kiosk.hq.web.auth import Users
        self.db = db or str(workdir / "hq.db")
        users = Users(self.db)
        users.add(USER, "operator", PASSWORD)
        users.close()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(workdir / "server.log", "w")  # noqa: SIM115
        env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        self.proc = subprocess.Popen([sys.executable, "-m", "kiosk", "hq", "serve", "--broker",
                                      f"mqtt://127.0.0.1:{broker_port}", "--db", str(self.db), "--port",
                                      str(self.port), "--push-ms", str(push_ms), "--protocol", protocol],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=env, cwd=str(REPO))
        self.http = httpx.Client(base_url=self.url, timeout=30)

        def up() -> bool:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {(workdir / 'server.log').read_text()[-2000:]}")
            try:
                return self.http.get("/login").status_code == 200
            except httpx.HTTPError:
                return False
        wait_until(up, 30, what="the dashboard")
        assert sign_in(self.http, USER, PASSWORD).status_code == 303
        wait_until(lambda: self.stats().get("connected"), 30, what="the dashboard's MQTT clients")

    def stats(self) -> dict[str, Any]:
        return self.http.get("/api/stats").json()

    def stop(self) -> None:
        self.http.close()
        stop_process(self.proc, signal.SIGTERM, 20)
        self.log.close()


def client(port: int) -> mqtt.Client:
    c = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    c.max_inflight_messages_set(0)
    c.max_queued_messages_set(0)
    c.connect("127.0.0.1", port, 60)
    c.loop_start()
    return c


def branch_name(i: int) -> str:
    return f"sim-{i:04d}"


def queue_snapshot(name: str, waiting: int) -> str:
    services = [{"service": s, "name": {"zh": s, "en": s}, "waiting": waiting // 3, "priority_waiting": 0,
                 "longest_wait_s": 60.0 * waiting, "estimate_s": 120.0 * waiting, "target_wait_s": 600.0,
                 "served_today": 10, "unavailable": None} for s in "ABV"]
    counters = [{"counter": n, "name": {"zh": f"{n}号窗口", "en": f"Counter {n}"}, "state": "open", "ticket": None,
                 "service": None, "ticket_state": None, "busy_s": None, "services": ["A", "B"]} for n in (1, 2, 3, 4)]
    return json.dumps({"v": 1, "ts": time.strftime("%Y-%m-%dT%H:%M:%S+08:00"), "branch": name,
                       "day": time.strftime("%Y-%m-%d"), "waiting": waiting, "open_counters": 4, "services": services,
                       "counters": counters, "alert": {"level": 0, "reason": ""}, "last_seq": 0})


def event(name: str, seq: int) -> str:
    return json.dumps({"v": 1, "id": str(uuid.uuid4()), "seq": seq, "type": "ticket.called",
                       "ts": time.strftime("%Y-%m-%dT%H:%M:%S+08:00"), "branch": name, "day": time.strftime("%Y-%m-%d"),
                       "ticket": f"A{seq % 1000:03d}", "ticket_id": seq, "service": "A", "priority": 0, "counter": 1,
                       "wait_s": 312.4})


# -- the SSE reader ---------------------------------------------------------------------------------
class SseReader:
    """Follows /api/stream; for every pushed row, closes the pending publishes it covers."""

    def __init__(self, server: Server, pending: dict[str, deque], lock: threading.Lock) -> None:
        self.http = httpx.Client(base_url=server.url, cookies=server.http.cookies, timeout=httpx.Timeout(30, read=None))
        self.pending = pending
        self.lock = lock
        self.latencies: list[float] = []
        self.branches: set[str] = set()
        self.frames = 0
        self.bytes = 0
        self._stream = SseStream(self.http, self._frame)

    def _frame(self, event: str, doc: dict, size: int) -> None:
        if event not in ("rows", "full"):
            return
        now = time.monotonic()
        self.frames += 1
        self.bytes += size
        with self.lock:
            for row in doc["rows"]:
                self.branches.add(row["branch"])
                q = self.pending.get(row["branch"])
                while q and q[0][0] <= row["last_seq"]:
                    self.latencies.append((now - q.popleft()[1]) * 1000)

    def close(self) -> None:
        self._stream.close()
        self.http.close()


class MqttBaseline:
    """A plain subscriber on kiosk/+/events: broker delivery latency of the same events."""

    def __init__(self, port: int, pending: dict[str, deque], lock: threading.Lock) -> None:
        self.pending = pending
        self.lock = lock
        self.latencies: list[float] = []
        self.sub = threading.Event()
        self.c = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.c.max_inflight_messages_set(0)
        self.c.on_connect = lambda c, *a: c.subscribe("kiosk/+/events", qos=1)
        self.c.on_subscribe = lambda *a: self.sub.set()
        self.c.on_message = self._msg
        self.c.connect("127.0.0.1", port, 60)
        self.c.loop_start()
        wait_until(self.sub.is_set, 15, what="the baseline subscription")

    def _msg(self, c, u, msg) -> None:  # noqa: ANN001
        now = time.monotonic()
        branch = msg.topic.split("/")[1]
        seq = json.loads(msg.payload)["seq"]
        with self.lock:
            q = self.pending.get(branch)
            while q and q[0][0] <= seq:
                self.latencies.append((now - q.popleft()[1]) * 1000)

    def close(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()


# -- phases ---------------------------------------------------------------------------------------
def publish_state(port: int, n: int) -> None:
    c = client(port)
    try:
        infos = []
        for i in range(n):
            name = branch_name(i)
            infos.append(c.publish(f"kiosk/{name}/status", json.dumps(
                {"v": 1, "state": "online", "since": time.strftime("%Y-%m-%dT%H:%M:%S+08:00"), "version": "0.1.0"}),
                qos=1, retain=True))
            infos.append(c.publish(f"kiosk/{name}/queue", queue_snapshot(name, i % 12), qos=1, retain=True))
        for info in infos:
            info.wait_for_publish(30)
    finally:
        c.disconnect()
        c.loop_stop()


def steady(port: int, n_branches: int, rate: float, seconds: float, seq0: dict[str, int],
           sinks: list[dict[str, deque]], lock: threading.Lock, wall_log: dict | None) -> int:
    """Publish `rate` events/s round-robin for `seconds`; return how many."""
    clients = [client(port) for _ in range(2)]
    sent = 0
    t0 = time.monotonic()
    i = 0
    try:
        while True:
            now = time.monotonic()
            if now - t0 >= seconds:
                break
            due = int((now - t0) * rate) - sent
            for _ in range(max(0, due)):
                name = branch_name(i % n_branches)
                i += 1
                seq0[name] = seq = seq0.get(name, 0) + 1
                payload = event(name, seq)
                stamp = time.monotonic()
                with lock:
                    for sink in sinks:
                        sink.setdefault(name, deque()).append((seq, stamp))
                    if wall_log is not None:
                        wall_log[(name, seq)] = time.time() * 1000
                clients[sent % 2].publish(f"kiosk/{name}/events", payload, qos=1)
                sent += 1
            time.sleep(0.002)
    finally:
        for c in clients:
            c.disconnect()
            c.loop_stop()
    return sent


def _burst_proc(port: int, names: list[str], per_branch: int, start_seq: dict[str, int], q: mp.Queue) -> None:
    c = client(port)
    t0 = time.monotonic()
    infos = []
    for k in range(per_branch):
        for name in names:
            infos.append(c.publish(f"kiosk/{name}/events", event(name, start_seq.get(name, 0) + k + 1), qos=1))
    for info in infos:
        info.wait_for_publish(120)
    q.put(time.monotonic() - t0)
    c.disconnect()
    c.loop_stop()


def burst(server: Server, port: int, n_branches: int, total: int, seq0: dict[str, int],
          protocol: str = "5") -> dict[str, Any]:
    names = [branch_name(i) for i in range(n_branches)]
    per_branch = max(1, total // n_branches)
    total = per_branch * n_branches
    before = server.stats()["recorded"]
    q: mp.Queue = mp.get_context("fork").Queue()
    halves = [names[: n_branches // 2], names[n_branches // 2:]]
    procs = [mp.get_context("fork").Process(target=_burst_proc, args=(port, h, per_branch, seq0, q)) for h in halves]
    t0 = time.monotonic()
    for p in procs:
        p.start()
    wait_until(lambda: server.stats()["recorded"] - before >= total, 300, what="the burst to be recorded", interval=0.05)
    elapsed = time.monotonic() - t0
    pub_s = max(q.get(timeout=60) for _ in procs)
    for p in procs:
        p.join(30)
    for n in names:
        seq0[n] = seq0.get(n, 0) + per_branch
    return {"metric": "hq_serve_ingest_events_per_s", "value": round(total / elapsed, 1), "n": total,
            "unit": "events/s", "branches": n_branches, "publish_events_per_s": round(total / pub_s, 1),
            "via": "kiosk hq serve (recorder + web)", "protocol": protocol}


def browser_latency(server: Server, port: int, n_branches: int, rate: float, seconds: float,
                    seq0: dict[str, int]) -> dict[str, Any] | None:
    if not Path(CHROMIUM).exists():
        return {"metric": "hq_browser_update_latency_ms", "skipped": f"no chromium at {CHROMIUM}"}
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return {"metric": "hq_browser_update_latency_ms", "skipped": "playwright not installed"}
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu",
                               "--disable-background-networking", "--disable-component-update", "--disable-sync",
                               "--no-first-run", "--disable-dev-shm-usage"])
        try:
            page = b.new_page(viewport={"width": 1280, "height": 900})
            page.goto(server.url + "/login?lang=en&next=%2F%3Fmeasure%3D1")
            page.fill("input[name=name]", USER)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_function(f"() => document.body.dataset.rows === '{n_branches}'", timeout=60_000)
            page.evaluate("window.hqLog.length = 0")
            wall: dict = {}
            lock = threading.Lock()
            steady(port, n_branches, rate, seconds, seq0, [], lock, wall)
            time.sleep(1.5)
            log = page.evaluate("window.hqLog")
            renders = page.evaluate("window.hqRenders")
            render_ms = page.evaluate("window.hqRenderMs")
        finally:
            b.close()
    by_branch: dict[str, list[tuple[int, float]]] = {}
    for (name, seq), t in wall.items():
        by_branch.setdefault(name, []).append((seq, t))
    for v in by_branch.values():
        v.sort()
    lat = []
    for name, last_seq, t_render in log:
        q = by_branch.get(name)
        while q and q[0][0] <= last_seq:
            lat.append(t_render - q.pop(0)[1])
    missed = sum(len(v) for v in by_branch.values())
    return figure("hq_browser_update_latency_ms", lat, branches=n_branches, events_per_s=rate, client="chromium",
                  renders=renders, mean_render_ms=round(render_ms / max(renders, 1), 1), not_rendered=missed)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.hq_dashboard", description=__doc__.split("\n")[0])
    ap.add_argument("--branches", type=int, default=1000)
    ap.add_argument("--rate", type=float, default=1000, help="events/s in total during the latency phase (1000)")
    ap.add_argument("--seconds", type=float, default=20, help="length of the latency phase (20 s)")
    ap.add_argument("--burst", type=int, default=100_000, help="events in the ingest burst (100,000)")
    ap.add_argument("--push-ms", type=float, default=250)
    ap.add_argument("--clients", type=int, default=10, help="open pages (SSE clients) during the latency phase (10)")
    ap.add_argument("--no-browser", action="store_true")
    ap.add_argument("--protocol", choices=["5", "3.1.1"], default="5", help="the server's MQTT protocol (5)")
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite",
                    help="the server's database: an SQLite file, or a throwaway PostgreSQL (sqlite)")
    a = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="hq-dashboard-bench-"))
    broker = Broker(work).start()
    server = None
    pg = None
    try:
        target = None
        if a.db == "postgres":
            from kiosk.sim.postgres import PostgresServer
            pg = PostgresServer(work / "pg").start()
            target = pg.create_database("hq")
        server = Server(broker.port, work, a.push_ms, a.protocol, target)
        lock = threading.Lock()
        page_pendings: list[dict[str, deque]] = [{} for _ in range(a.clients)]
        mqtt_pending: dict[str, deque] = {}
        readers = [SseReader(server, p, lock) for p in page_pendings]
        publish_state(broker.port, a.branches)
        wait_until(lambda: all(len(r.branches) >= a.branches for r in readers), 60 + a.branches / 100,
                   what="every branch on the pages")
        baseline = MqttBaseline(broker.port, mqtt_pending, lock)
        seq0: dict[str, int] = {}
        sent = steady(broker.port, a.branches, a.rate, a.seconds, seq0, [*page_pendings, mqtt_pending], lock, None)
        wait_until(lambda: not any(q for p in page_pendings for q in p.values()), 30, what="the last events on the pages")
        baseline.close()
        frames = sum(r.frames for r in readers) // len(readers)
        latencies = [x for r in readers for x in r.latencies]
        base = figure("mqtt_delivery_latency_ms", baseline.latencies, branches=a.branches, events_per_s=a.rate,
                      client="paho subscriber")
        page = figure("hq_page_update_latency_ms", latencies, branches=a.branches, events_per_s=a.rate,
                      seconds=a.seconds, push_ms=a.push_ms, client="python-sse", pages=a.clients,
                      sse_frames_per_page=frames, sse_mb_per_page=round(readers[0].bytes / 1e6, 2), published=sent,
                      db=a.db)
        if base["p99"]:
            page["ratio_to_mqtt_p99"] = round(page["p99"] / base["p99"], 1)
        print(json.dumps(base), flush=True)
        print(json.dumps(page), flush=True)
        for r in readers:
            r.close()
        if not a.no_browser:
            out = browser_latency(server, broker.port, a.branches, a.rate, min(a.seconds, 10), seq0)
            out["db"] = a.db
            print(json.dumps(out), flush=True)
        if a.burst:
            print(json.dumps(burst(server, broker.port, a.branches, a.burst, seq0, a.protocol)), flush=True)
        st = server.stats()
        print(json.dumps({"metric": "hq_sse_tick_ms", "value": st["sse_last_tick_ms"], "unit": "ms",
                          "ticks": st["sse_ticks"], "note": "server time to build one coalesced push"}), flush=True)
    finally:
        if server is not None:
            server.stop()
        broker.stop()
        if pg is not None:
            pg.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
