"""Backlog drain after a broker outage.

    python -m bench.backlog_drain [--n 5000,20000]

For each N: N events are committed to a kiosk's outbox while its broker is down; the kiosk
(KioskApp + telemetry, the real publisher, store at synchronous=FULL) is running and
disconnected; then mosquitto starts, and we time from the kiosk's connection until every
event is acknowledged and marked delivered (a `mosquitto_sub` with a persistent QoS 1
session, registered before the outage and run in its own process, checks that every seq
arrives once and in order). ``events_per_cpu_s``: events per CPU second of the kiosk
process, a figure that does not depend on what else the machine runs.
Prints one JSON line per N:
``{"metric": "backlog_drain_events_per_s", "value": …, "n": …, "unit": "events/s", …}``.
"""
from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from bench.metrics import Metric, Target
from kiosk.sim.broker import Broker
from kiosk.sim.processes import stop_process

METRICS = (
    Metric("backlog_drain_events_per_s", "events/s", Target("value", ">=", 2000),
           "a kiosk's outbox kept while the broker was down, from reconnection until every event is delivered"),
)


def sub_cmd(port: int, topic: str, *extra: str) -> list[str]:
    return [shutil.which("mosquitto_sub") or "/usr/bin/mosquitto_sub", "-h", "127.0.0.1", "-p", str(port),
            "-t", topic, "-q", "1", "-c", "-i", "bench-drain-sub", "-V", "mqttv311", *extra]


def commit_backlog(data: Path, settings, n: int) -> int:
    """N ticket-like events committed to the outbox (1,000 per transaction)."""
    from kiosk.storage.store import Store, db_path
    store = Store(db_path(data), synchronous=settings.store.synchronous)
    try:
        t = 0.0
        done = 0
        while done < n:
            with store.transaction():
                for _ in range(min(1000, n - done)):
                    done += 1
                    t += 1.0
                    store.append_event("ticket.issued", "2026-11-23T09:00:00+08:00", t, {
                        "branch": settings.branch.id, "day": "2026-11-23", "ticket": f"A{done % 1000:03d}",
                        "ticket_id": done, "service": "A", "priority": 0, "ahead": 3, "estimate_s": 420.0})
        return store.last_seq()
    finally:
        store.close()


def run_once(n: int, workdir: Path) -> dict:
    from kiosk.app.kiosk_app import KioskApp
    from kiosk.config.settings import DEFAULT_CONFIG, Settings, load_settings
    from kiosk.mqtt.telemetry import Telemetry
    broker = Broker(workdir / "broker", persistence=True)
    port = broker.port
    base = load_settings(DEFAULT_CONFIG).model_dump(mode="json")
    base["mqtt"] = {"enabled": True, "url": f"mqtt://127.0.0.1:{port}", "reconnect_min_s": 0.1,
                    "reconnect_max_s": 0.2, "queue_period_s": 3600}
    settings = Settings.model_validate(base)
    data = workdir / "kiosk"
    topic = f"kiosk/{settings.branch.id}/events"
    # a persistent subscriber session (QoS 1) that survives the outage, so nothing is missed
    broker.start()
    subprocess.run(sub_cmd(port, topic, "-E"), check=True, timeout=30)
    broker.stop()
    last = commit_backlog(data, settings, n)
    tele = Telemetry(settings)
    app = KioskApp(settings, data, uplink=tele).start()
    sub = None
    try:
        if not tele.wait_for("disconnected", 30):
            raise RuntimeError(f"expected the kiosk to be disconnected: {tele.state}")
        broker.start()
        t_up = time.monotonic()
        out = workdir / "received.jsonl"
        with out.open("w") as f:
            sub = subprocess.Popen(sub_cmd(port, topic, "-C", str(n)), stdout=f)
        if not tele.wait_for("connected", 60):
            raise RuntimeError(f"the kiosk did not connect: {tele.state}")
        t_conn = time.monotonic()
        cpu0 = time.process_time()
        while app.loop.call(lambda: app.store.undelivered_count()) > 0:
            time.sleep(0.005)
        t_done = time.monotonic()
        cpu = time.process_time() - cpu0
        sub.wait(120)
        seqs = [json.loads(line)["seq"] for line in out.read_text().splitlines() if line.strip()]
        ordered = all(a < b for a, b in zip(seqs, seqs[1:]))
        lost = len(set(range(1, last + 1)) - set(seqs))
        return {"metric": "backlog_drain_events_per_s", "value": round(n / (t_done - t_conn), 1), "n": n,
                "unit": "events/s", "drain_s": round(t_done - t_conn, 3),
                "from_broker_start_s": round(t_done - t_up, 3), "received": len(seqs), "lost": lost,
                "duplicated": len(seqs) - len(set(seqs)), "in_order": ordered,
                "max_inflight": settings.mqtt.max_inflight, "synchronous": settings.store.synchronous,
                "kiosk_cpu_per_s": round(cpu / (t_done - t_conn), 2),
                "events_per_cpu_s": round(n / cpu, 1) if cpu > 0 else None}
    finally:
        stop_process(sub, signal.SIGKILL, 10)
        app.stop()
        broker.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", default="5000,20000", help="comma-separated backlog sizes")
    args = ap.parse_args()
    for n in (int(x) for x in args.n.split(",")):
        with tempfile.TemporaryDirectory(prefix="backlog-drain-") as d:
            print(json.dumps(run_once(n, Path(d))), flush=True)


if __name__ == "__main__":
    main()
