"""HQ ingest: 1,000 simulated branches publishing into a local mosquitto, taken by one
`HqMonitor` with a recorder (`kiosk hq --record`) and, under the same load, by the real
`kiosk hq serve` process (recorder + web dashboard).

    python -m bench.hq_ingest [--branches 1000] [--events 30] [--procs 2] [--dup-every 50]
                              [--modes live,backlog,serve]

Branches are simulated by `--procs` publisher processes (one MQTT connection each, 500
branch topics per connection by default): a retained status and queue per branch, then
`--events` events per branch in seq order at QoS 1, round-robin across the branches; every
`--dup-every`-th event is published twice (a redelivery) to check that nothing is counted
twice. Two figures:

* ``hq_ingest_events_per_s`` (live): monitor subscribed while the branches publish; from
  the first publish until every event is in the SQLite recording;
* ``hq_ingest_backlog_events_per_s``: the monitor (a persistent MQTT 5 session) is away
  while the branches publish, then comes back; from its reconnection until every event is
  recorded — the monitor's own capacity, not the publishers';
* ``hq_serve_ingest_events_per_s``: the same live load into `python -m kiosk hq serve` in its
  own process (the HQ server as deployed: recorder, branch table and web server in one
  process), from the first publish until ``/api/stats`` counts every event recorded; lost
  and duplicated from its database. ``server_cpu_per_s`` / ``events_per_cpu_s`` from the
  server process's CPU time.

``monitor_cpu_per_s`` is the monitor process's CPU time per second of wall time (below 1:
it waited for the CPU or the broker) and ``events_per_cpu_s`` its events per CPU second, a
figure that does not depend on what else the machine runs. Each line also carries ``lost`` (expected events missing from the recording),
``duplicated`` (events counted or recorded more than once) and the duplicates absorbed.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sqlite3
import tempfile
import time
import uuid
from pathlib import Path

from bench.metrics import Metric, Target
from kiosk.sim.broker import Broker
from kiosk.sim.waiting import wait_until

METRICS = (
    Metric("hq_ingest_events_per_s", "events/s", Target("value", ">=", 5000),
           "HqMonitor + recorder, subscribed while the branches publish"),
    Metric("hq_ingest_backlog_events_per_s", "events/s", what="HqMonitor + recorder draining a persistent session"),
    Metric("hq_serve_ingest_events_per_s", "events/s", Target("value", ">=", 5000),
           "the same live load through the real `kiosk hq serve` process"),
)

NS = uuid.UUID("6f1c1c7e-6a52-4f8e-9f4e-1b2f0d0c0a01")


def event_id(branch: str, seq: int) -> str:
    return str(uuid.uuid5(NS, f"{branch}/{seq}"))


def branch_name(i: int) -> str:
    return f"b{i:04d}"


def publisher(port: int, branches: list[str], events: int, dup_every: int, go, done_q) -> None:  # noqa: ANN001
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion
    acked = [0]
    c = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    c.max_inflight_messages_set(0)
    c.max_queued_messages_set(0)
    c.on_publish = lambda *a: acked.__setitem__(0, acked[0] + 1)
    c.connect("127.0.0.1", port, 60)
    c.loop_start()
    go.wait()
    sent = 0
    dups = 0
    for b in branches:
        c.publish(f"kiosk/{b}/status", json.dumps({"v": 1, "ts": "2026-11-23T09:00:00+08:00", "state": "online",
                                                   "version": "0.1.0", "since": "2026-11-23T08:00:00+08:00"}),
                  qos=1, retain=True)
        c.publish(f"kiosk/{b}/queue", json.dumps({"v": 1, "branch": b, "waiting": 3, "open_counters": 2,
                                                  "services": [{"service": "A", "waiting": 3,
                                                                "longest_wait_s": 60.0}],
                                                  "alert": {"level": 0, "reason": ""}}), qos=1, retain=True)
        sent += 2
    n = 0
    for seq in range(1, events + 1):
        for b in branches:
            payload = json.dumps({"v": 1, "id": event_id(b, seq), "seq": seq, "type": "ticket.issued",
                                  "ts": "2026-11-23T09:00:00+08:00", "branch": b, "day": "2026-11-23",
                                  "ticket": f"A{seq:03d}", "ticket_id": seq, "service": "A", "priority": 0,
                                  "ahead": 3, "estimate_s": 420.0}, separators=(",", ":"))
            c.publish(f"kiosk/{b}/events", payload, qos=1)
            sent += 1
            n += 1
            if dup_every and n % dup_every == 0:
                c.publish(f"kiosk/{b}/events", payload, qos=1)
                sent += 1
                dups += 1
            if n % 2000 == 0:  # do not run ahead of the broker by more than a few thousand
                while sent - acked[0] > 5000:
                    time.sleep(0.001)
    while acked[0] < sent:
        time.sleep(0.005)
    c.disconnect()
    c.loop_stop()
    done_q.put({"sent": sent, "dups": dups})


def count_recorded(db: Path, expected: set[str]) -> tuple[int, int]:
    conn = sqlite3.connect(db)
    try:
        ids = [r[0] for r in conn.execute("SELECT id FROM events")]
    finally:
        conn.close()
    return len(expected - set(ids)), len(ids) - len(set(ids))


def run(mode: str, n_branches: int, events: int, procs: int, dup_every: int, workdir: Path) -> dict:
    from kiosk.hq.monitor import HqMonitor
    from kiosk.hq.recorder import Recorder
    broker = Broker(workdir / f"broker-{mode}").start()
    port, url = broker.port, broker.url
    db = workdir / f"hq-{mode}.db"
    rec = Recorder(db)
    branches = [branch_name(i) for i in range(n_branches)]
    expected = {event_id(b, s) for b in branches for s in range(1, events + 1)}
    ctx = mp.get_context("spawn")
    go, done_q = ctx.Event(), ctx.Queue()
    chunks = [branches[i::procs] for i in range(procs)]
    ps = [ctx.Process(target=publisher, args=(port, ch, events, dup_every, go, done_q), daemon=True) for ch in chunks]
    mon = None
    try:
        for p in ps:
            p.start()
        mon = HqMonitor(url, recorder=rec, client_id="bench-hq" if mode == "backlog" else "").start()
        if not mon.subscribed.wait(30):
            raise RuntimeError("the monitor did not subscribe")
        if mode == "backlog":
            mon.stop()  # away; the broker keeps the session and queues every event
        time.sleep(1.0)  # publishers connected
        t0, cpu0 = time.monotonic(), time.process_time()
        go.set()
        results = [done_q.get(timeout=600) for _ in ps]
        t_pub = time.monotonic()
        if mode == "backlog":
            mon = HqMonitor(url, recorder=rec, client_id="bench-hq").start()
            if not mon.connected.wait(30):
                raise RuntimeError("the monitor did not reconnect")
            t0, cpu0 = time.monotonic(), time.process_time()
        deadline = time.monotonic() + 600
        while mon.state.totals()["events"] < len(expected) and time.monotonic() < deadline:
            time.sleep(0.005)
        rec.flush()
        t_end = time.monotonic()
        cpu = time.process_time() - cpu0
        time.sleep(0.5)  # late duplicates, if any, would show now
        rec.flush()
        tot = mon.state.totals()
        lost, dup_rows = count_recorded(db, expected)
        sent = sum(r["sent"] for r in results)
        dups = sum(r["dups"] for r in results)
        metric = "hq_ingest_events_per_s" if mode == "live" else "hq_ingest_backlog_events_per_s"
        return {"metric": metric, "value": round(len(expected) / (t_end - t0), 1), "n": len(expected),
                "unit": "events/s", "branches": n_branches, "publishers": procs, "seconds": round(t_end - t0, 3),
                "publish_s": round(t_pub - t0, 3) if mode == "live" else None, "messages_sent": sent,
                "redeliveries_sent": dups, "lost": lost,
                "duplicated": max(0, tot["events"] - len(expected)) + dup_rows,
                "duplicates_absorbed": tot["duplicates"], "recorded": rec.inserted, "monitor_cpu_per_s": round(cpu / (t_end - t0), 2),
                "events_per_cpu_s": round(len(expected) / cpu, 1) if cpu > 0 else None}
    finally:
        if mon is not None:
            mon.stop()
        rec.close()
        for p in ps:
            p.join(5)
            if p.is_alive():
                p.kill()
        broker.stop()


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of process `pid` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_serve(n_branches: int, events: int, procs: int, dup_every: int, workdir: Path) -> dict:
    """The live load into `kiosk hq serve` (bench.hq_dashboard.Server starts it and logs in)."""
    from bench.hq_dashboard import Server
    broker = Broker(workdir / "broker-serve").start()
    branches = [branch_name(i) for i in range(n_branches)]
    expected = {event_id(b, s) for b in branches for s in range(1, events + 1)}
    ctx = mp.get_context("spawn")
    go, done_q = ctx.Event(), ctx.Queue()
    ps = [ctx.Process(target=publisher, args=(broker.port, branches[i::procs], events, dup_every, go, done_q),
                      daemon=True) for i in range(procs)]
    server = None
    try:
        server = Server(broker.port, workdir, push_ms=250)
        for p in ps:
            p.start()
        time.sleep(1.0)  # publishers connected
        before = server.stats()["recorded"]
        t0, cpu0 = time.monotonic(), _cpu_s(server.proc.pid)
        go.set()
        wait_until(lambda: server.stats()["recorded"] - before >= len(expected), 600,
                   what="every event recorded by kiosk hq serve", interval=0.02)
        t_end, cpu = time.monotonic(), _cpu_s(server.proc.pid) - cpu0
        results = [done_q.get(timeout=600) for _ in ps]
        time.sleep(0.5)  # late duplicates, if any, would show now
        stats = server.stats()
        lost, dup_rows = count_recorded(server.db, expected)
        return {"metric": "hq_serve_ingest_events_per_s", "value": round(len(expected) / (t_end - t0), 1),
                "n": len(expected), "unit": "events/s", "via": "python -m kiosk hq serve (recorder + web)",
                "branches": n_branches, "publishers": procs, "seconds": round(t_end - t0, 3),
                "messages_sent": sum(r["sent"] for r in results),
                "redeliveries_sent": sum(r["dups"] for r in results), "lost": lost,
                "duplicated": max(0, stats["recorded"] - before - len(expected)) + dup_rows,
                "server_cpu_per_s": round(cpu / (t_end - t0), 2),
                "events_per_cpu_s": round(len(expected) / cpu, 1) if cpu > 0 else None}
    finally:
        if server is not None:
            server.stop()
        for p in ps:
            p.join(5)
            if p.is_alive():
                p.kill()
        broker.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--branches", type=int, default=1000)
    ap.add_argument("--events", type=int, default=30, help="events per branch")
    ap.add_argument("--procs", type=int, default=2, help="publisher processes")
    ap.add_argument("--dup-every", type=int, default=50, help="publish every N-th event twice (0: never)")
    ap.add_argument("--modes", default="live,backlog,serve", help="live, backlog (HqMonitor), serve (kiosk hq serve)")
    args = ap.parse_args()
    for mode in args.modes.split(","):
        with tempfile.TemporaryDirectory(prefix="hq-ingest-") as d:
            if mode == "serve":
                doc = run_serve(args.branches, args.events, args.procs, args.dup_every, Path(d))
            else:
                doc = run(mode, args.branches, args.events, args.procs, args.dup_every, Path(d))
            print(json.dumps(doc), flush=True)


if __name__ == "__main__":
    main()
