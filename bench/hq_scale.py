"""HQ scale-out: 10,000 simulated branches on one mosquitto, N `kiosk hq serve` nodes on PostgreSQL.

    python -m bench.hq_scale [--branches 10000] [--nodes 2] [--events 200000] [--db postgres|sqlite]
                             [--publishers 3] [--no-profile]

A throwaway PostgreSQL (`kiosk.sim.postgres`; or one SQLite file with ``--db sqlite``), a local
mosquitto, ``--nodes`` HQ nodes (`python -m kiosk hq serve --db … --shared hq`: the events split
by the MQTT 5 shared subscription, the retained state read by every node) and the branches,
simulated by ``--publishers`` processes, each one MQTT connection publishing for its slice of
the branches (the topic names the branch; bench/hq_fleet.py). First every branch's retained
status and queue (each node must show every branch), then ``--events`` events (seq 1…n per
branch, a realistic ticket mix) as fast as the publishers go.

* ``hq_scale_ingest_events_per_s`` — events from the first publish until every one is in the
  database (the nodes' recorders), checked in the database afterwards: ``lost`` (a (branch, seq)
  missing), ``duplicates`` (a (branch, seq) stored twice), ``redelivered`` (events the nodes
  received more than once: allowed at the broker, never in the database), ``rollup_mismatch``
  (rollup_day totals against the events, per type).
* ``hq_scale_events_per_cpu_s`` — events per CPU-second spent in the HQ node processes (user +
  system from /proc/PID/stat over the ingest, every thread).
* ``hq_scale_cpu_s`` — the same interval's CPU-seconds by process: the nodes, mosquitto,
  PostgreSQL (postmaster and backends), the publishers.
* ``hq_scale_node_profile`` — where one node spends its time: py-spy (if installed) samples of
  node 1 during the ingest, by the code the sampled frame is in (``by_part``, % of samples) and
  the busiest functions; without py-spy the line says so and only the split by process stands.
"""
from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.hq_fleet import (Node, Publishers, add_user, branch_name, cpu_seconds, postgres_cpu_seconds,
                            publish_state)
from bench.metrics import Metric, Target
from kiosk.sim.broker import Broker
from kiosk.sim.waiting import wait_until

METRICS = (
    Metric("hq_scale_ingest_events_per_s", "events/s", (Target("lost", "<=", 0), Target("duplicates", "<=", 0),
                                                        Target("rollup_mismatch", "<=", 0)),
           "10,000 branches → N HQ nodes on one database: events/s until all are stored, 0 lost, 0 twice"),
    Metric("hq_scale_events_per_cpu_s", "events/CPU-s", Target("value", ">=", 10000),
           "events per CPU-second of the HQ node processes (user + system) during that ingest"),
    Metric("hq_scale_cpu_s", "CPU-s", what="CPU-seconds of the ingest by process: nodes, mosquitto, PostgreSQL"),
    Metric("hq_scale_node_profile", "% of samples", what="where one node spends its time (py-spy)"),
)

# what a sampled frame belongs to, tried on each frame from the innermost outwards (first match wins)
PARTS = (("psycopg", "database driver (psycopg)"), ("sqlite3", "database driver (sqlite3)"),
         ("kiosk/hq/recorder", "recorder"), ("kiosk/hq/rollup", "recorder"),
         ("kiosk/hq/ingest", "ingest checks"), ("json/", "JSON decoding"),
         ("paho/", "MQTT client (paho)"), ("kiosk/hq/state", "branch table"), ("kiosk/hq/monitor", "branch table"),
         ("kiosk/hq/web/live", "branch table"), ("kiosk/hq/gaps", "gap tracking"),
         ("kiosk/hq/web", "web and SSE"), ("starlette", "web and SSE"), ("uvicorn", "web and SSE"),
         ("asyncio", "web and SSE"), ("threading.py", "threads (locks, waits)"))


def part_of(stack: list[str]) -> str:
    for frame in reversed(stack):
        for needle, part in PARTS:
            if needle in frame:
                return part
    return "other"


def summarise_profile(raw: Path) -> dict[str, Any]:
    """py-spy's raw output (``frame;frame;… count`` per line, outermost first) → % by part and top functions."""
    parts: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack_text, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        stack = stack_text.split(";")
        total += n
        parts[part_of(stack)] += n
        leaves[stack[-1].strip()] += n
    pct = lambda n: round(100 * n / total, 1) if total else 0.0  # noqa: E731
    return {"samples": total, "by_part": {k: pct(v) for k, v in parts.most_common()},
            "top_functions": [[k[:120], pct(v)] for k, v in leaves.most_common(12)]}


class Profiler:
    """py-spy sampling one process (without blocking it) until `stop()`; None where py-spy is missing."""

    def __init__(self, pid: int, out: Path) -> None:
        self.out = out
        self.proc = subprocess.Popen([shutil.which("py-spy") or "py-spy", "record", "--pid", str(pid), "--rate", "97",
                                      "--nonblocking", "--format", "raw", "--output", str(out)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def stop(self) -> dict[str, Any]:
        self.proc.send_signal(signal.SIGINT)
        try:
            _, err = self.proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        if not self.out.exists():
            return {"skipped": f"py-spy wrote nothing: {err.decode(errors='replace')[-300:]}"}
        return summarise_profile(self.out)


class Database:
    """The database the nodes share: a throwaway PostgreSQL or one SQLite file."""

    def __init__(self, kind: str, work: Path) -> None:
        self.kind = kind
        self.pg = None
        if kind == "postgres":
            from kiosk.sim.postgres import PostgresServer
            self.pg = PostgresServer(work / "pg").start()
            self.target = self.pg.create_database("hq")
        else:
            self.target = str(work / "hq.db")

    def cpu_seconds(self) -> float:
        return postgres_cpu_seconds(self.pg.data) if self.pg is not None else 0.0

    def check(self, expected: int, branches: list[str]) -> dict[str, Any]:
        """lost / duplicates by (branch, seq) and the rollups against the events, from the database."""
        from kiosk.hq.db import open_db
        db = open_db(self.target)
        try:
            with db.connection() as conn:
                rows, distinct = conn.execute("SELECT count(*), count(DISTINCT branch || '/' || seq) FROM events "
                                              "WHERE branch LIKE 'sim-%'").fetchone()
                by_type = dict(conn.execute("SELECT type, count(*) FROM events WHERE branch LIKE 'sim-%' "
                                            "GROUP BY type").fetchall())
                roll = conn.execute("SELECT sum(issued), sum(called), sum(served), sum(noshows), sum(ratings) "
                                    "FROM rollup_day WHERE branch LIKE 'sim-%'").fetchone()
        finally:
            db.close()
        want = [by_type.get(t, 0) for t in ("ticket.issued", "ticket.called", "ticket.finished", "ticket.noshow",
                                            "ticket.rated")]
        mismatch = sum(abs(int(r or 0) - w) for r, w in zip(roll, want))
        return {"stored": rows, "lost": expected - distinct, "duplicates": rows - distinct,
                "rollup_mismatch": mismatch, "branches": len(branches)}

    def stop(self) -> None:
        if self.pg is not None:
            self.pg.stop()


def recorded(nodes: list[Node]) -> tuple[int, int]:
    """(inserted, received) summed over the nodes' recorders."""
    ins = rec = 0
    for n in nodes:
        s = n.stats()
        ins += s.get("recorded", 0)
        rec += s.get("received", 0)
    return ins, rec


def wait_stored(nodes: list[Node], expected: int, stall_s: float = 60) -> float:
    """Until the nodes' recorders have inserted `expected` events (or made no progress for `stall_s`)."""
    last, since = -1, time.monotonic()
    while True:
        ins, _ = recorded(nodes)
        if ins >= expected:
            return time.monotonic()
        if ins != last:
            last, since = ins, time.monotonic()
        elif time.monotonic() - since > stall_s:
            return time.monotonic()
        time.sleep(0.2)


def run(a: argparse.Namespace, work: Path) -> list[dict[str, Any]]:
    names = [branch_name(i) for i in range(a.branches)]
    per_branch = max(1, a.events // a.branches)
    expected = per_branch * a.branches
    db = Database(a.db, work)
    broker = Broker(work / "broker").start()
    nodes: list[Node] = []
    try:
        add_user(db.target)
        for i in range(a.nodes):
            nodes.append(Node(broker.url, db.target, work, "--shared", "hq", "--protocol", a.protocol,
                              name=f"node{i + 1}"))
        t_state = time.monotonic()
        publish_state(broker.port, names, a.publishers)
        for n in nodes:
            wait_until(lambda n=n: n.stats().get("branches", 0) >= a.branches, 300, interval=0.5,
                       what="every branch on every node")
        state_s = time.monotonic() - t_state
        prof = Profiler(nodes[0].pid, work / "node1.pyspy") if a.profile and shutil.which("py-spy") else None
        cpu0 = {"nodes": sum(cpu_seconds(n.pid) for n in nodes), "mosquitto": cpu_seconds(broker.proc.pid),
                "database": db.cpu_seconds()}
        pubs = Publishers(broker.port, names, a.publishers, per_branch)
        t0 = time.monotonic()
        pubs.start()
        t_end = wait_stored(nodes, expected)
        cpu1 = {"nodes": sum(cpu_seconds(n.pid) for n in nodes), "mosquitto": cpu_seconds(broker.proc.pid),
                "database": db.cpu_seconds()}
        elapsed = t_end - t0
        profile = prof.stop() if prof else {"skipped": "not asked (--no-profile)" if not a.profile else
                                                   "py-spy is not installed (pip install py-spy)"}
        publish_s, pub_cpu = pubs.join()
        time.sleep(1.0)
        ins, received = recorded(nodes)
        per_node = [n.stats().get("received", 0) for n in nodes]
        check = db.check(expected, names)
        if check["lost"]:
            for node in nodes:
                print(f"--- {node.log_path.name} (last lines) ---\n{node.log_path.read_text()[-3000:]}\n"
                      f"stats: {node.stats()}", file=sys.stderr)
        cpu = {k: round(cpu1[k] - cpu0[k], 2) for k in cpu1}
        cpu["publishers"] = round(pub_cpu, 2)
        common = {"branches": a.branches, "nodes": a.nodes, "via": a.db, "protocol": a.protocol}
        return [
            {"metric": "hq_scale_ingest_events_per_s", "value": round(expected / elapsed, 1), "n": expected,
             "unit": "events/s", **common, **check, "redelivered": received - expected,
             "received_per_node": per_node, "publish_events_per_s": round(expected / publish_s, 1),
             "seconds": round(elapsed, 2), "state_messages_s": round(state_s, 1)},
            {"metric": "hq_scale_events_per_cpu_s", "value": round(expected / max(cpu["nodes"], 1e-9), 1),
             "n": expected, "unit": "events/CPU-s", **common, "node_cpu_s": cpu["nodes"],
             "cpu_per_node_s": round(cpu["nodes"] / a.nodes, 2)},
            {"metric": "hq_scale_cpu_s", "unit": "CPU-s", **common, **cpu, "seconds": round(elapsed, 2),
             "events": expected},
            {"metric": "hq_scale_node_profile", "unit": "% of samples", **common, "node": 1, **profile},
        ]
    finally:
        for n in nodes:
            n.stop()
        broker.stop()
        db.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.hq_scale", description=__doc__.split("\n")[0])
    ap.add_argument("--branches", type=int, default=10_000)
    ap.add_argument("--nodes", type=int, default=2)
    ap.add_argument("--events", type=int, default=200_000, help="events in all, spread evenly over the branches")
    ap.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    ap.add_argument("--publishers", type=int, default=3, help="publisher processes (MQTT connections)")
    ap.add_argument("--protocol", choices=["5", "3.1.1"], default="5", help="the nodes' MQTT protocol (5)")
    ap.add_argument("--no-profile", dest="profile", action="store_false", help="do not sample node 1 with py-spy")
    a = ap.parse_args(argv)
    if a.branches < 1 or a.nodes < 1 or a.events < a.branches or a.publishers < 1:
        ap.error("--branches, --nodes, --publishers ≥ 1 and --events ≥ --branches")
    work = Path(tempfile.mkdtemp(prefix="hq-scale-bench-"))
    try:
        for line in run(a, work):
            print(json.dumps(line, ensure_ascii=False), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
