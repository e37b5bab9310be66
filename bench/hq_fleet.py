"""The equipment of the HQ scale-out benchmarks and tests: simulated branches, HQ nodes, CPU.

* `branch_event` — one event of a branch's day, a realistic mix: each ticket is issued, called
  (with its wait) or a no-show, finished (with its service time) and mostly rated, over services
  A/B/C and counters 1–6; the id is derived from (branch, seq), so a redelivered event is the same
  event.
* `publish_branches` — in a forked process per slice of branches (one MQTT connection each: the
  topic names the branch), first every branch's retained status and queue snapshot, then
  ``per_branch`` events with seq 1…n, round-robin over the slice, at QoS 1.
* `Node` — `python -m kiosk hq serve --db TARGET …` in its own process, signed in over HTTP.
* `cpu_seconds` / `postgres_pids` — user + system CPU from /proc/PID/stat, for a process and for
  a PostgreSQL server with its backends (a backend that ended is in the postmaster's cutime).
"""
from __future__ import annotations

import json
import multiprocessing as mp
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench.hq_dashboard import client, queue_snapshot
from kiosk.sim.hq_login import sign_in
from kiosk.sim.net import free_port
from kiosk.sim.processes import stop_process
from kiosk.sim.waiting import wait_until

REPO = Path(__file__).resolve().parent.parent
USER, PASSWORD = "bench", "bench-password"
SERVICES = ("A", "B", "C")
TICKET_PHASES = 4          # issued, called | noshow, finished | nothing, rated
_IDS = uuid.UUID("6f1d4a52-30c1-4c38-9a44-6b1f1e0b1c10")
_TICKS = os.sysconf("SC_CLK_TCK")


def branch_name(i: int) -> str:
    return f"sim-{i:05d}"


def event_id(branch: str, seq: int) -> str:
    return str(uuid.uuid5(_IDS, f"{branch}/{seq}"))


def branch_event(branch: str, seq: int, day: str, ts: str, rng: random.Random) -> dict[str, Any]:
    """Event `seq` (1…) of `branch`: four per ticket — issued, called, finished, rated; every 12th
    ticket is a no-show instead of a call (and its third event another ticket's issue); one ticket
    in four is called again instead of rated."""
    ticket, phase = divmod(seq - 1, TICKET_PHASES)
    service = SERVICES[ticket % 3]
    doc: dict[str, Any] = {"v": 1, "id": event_id(branch, seq), "seq": seq, "ts": ts, "branch": branch, "day": day,
                           "ticket": f"{service}{ticket % 1000:03d}", "ticket_id": ticket + 1, "service": service,
                           "priority": 0}
    noshow = ticket % 12 == 5
    counter = 1 + ticket % 6
    if phase == 0:
        doc.update(type="ticket.issued", estimate_s=round(rng.uniform(60, 900), 1))
    elif phase == 1 and noshow:
        doc.update(type="ticket.noshow", counter=counter)
    elif phase == 1:
        doc.update(type="ticket.called", counter=counter, wait_s=round(rng.expovariate(1 / 420), 1))
    elif phase == 2 and noshow:
        doc.update(type="ticket.issued", estimate_s=round(rng.uniform(60, 900), 1))
    elif phase == 2:
        doc.update(type="ticket.finished", counter=counter, service_s=round(rng.uniform(90, 900), 1))
    elif ticket % 4 == 3:
        doc.update(type="ticket.called", counter=counter, wait_s=round(rng.expovariate(1 / 420), 1))
    else:
        doc.update(type="ticket.rated", counter=counter, score=rng.choice((2, 3, 4, 4, 5, 5, 5)))
    return doc


def now_ts() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+08:00")


def status_doc() -> str:
    return json.dumps({"v": 1, "state": "online", "since": now_ts(), "version": "0.1.0"})


def _publisher(port: int, names: list[str], per_branch: int, first_seq: int, state: bool,
               out: mp.Queue) -> None:
    c = client(port)
    rng = random.Random(names[0] if names else 0)
    day = time.strftime("%Y-%m-%d")
    t0 = time.monotonic()
    infos = []
    if state:
        for name in names:
            infos.append(c.publish(f"kiosk/{name}/status", status_doc(), qos=1, retain=True))
            infos.append(c.publish(f"kiosk/{name}/queue", queue_snapshot(name, rng.randrange(12)), qos=1, retain=True))
    for k in range(per_branch):
        ts = now_ts()
        for name in names:
            doc = branch_event(name, first_seq + k, day, ts, rng)
            infos.append(c.publish(f"kiosk/{name}/events", json.dumps(doc, separators=(",", ":")), qos=1))
    for info in infos:
        info.wait_for_publish(600)
    out.put((time.monotonic() - t0, time.process_time()))
    c.disconnect()
    c.loop_stop()


class Publishers:
    """`procs` forked processes, each publishing for its slice of `names` (see `_publisher`)."""

    def __init__(self, port: int, names: list[str], procs: int, per_branch: int, *, first_seq: int = 1,
                 state: bool = False) -> None:
        ctx = mp.get_context("fork")
        self.out: mp.Queue = ctx.Queue()
        slices = [names[i::procs] for i in range(procs)]
        self.procs = [ctx.Process(target=_publisher, args=(port, s, per_branch, first_seq, state, self.out))
                      for s in slices if s]

    def start(self) -> Publishers:
        for p in self.procs:
            p.start()
        return self

    def join(self, timeout: float = 600) -> tuple[float, float]:
        """The slowest publisher's time from its first publish to its last PUBACK (s), and the
        publishers' CPU-seconds in all."""
        done = [self.out.get(timeout=timeout) for _ in self.procs]
        for p in self.procs:
            p.join(30)
        return max(d[0] for d in done), sum(d[1] for d in done)


def publish_state(port: int, names: list[str], procs: int = 2) -> None:
    """Every branch's retained status and queue snapshot (no events)."""
    Publishers(port, names, procs, 0, state=True).start().join()


# -- HQ nodes ---------------------------------------------------------------------------------------
def add_user(db_target: str, user: str = USER, password: str = PASSWORD) -> None:
    from kiosk.hq.web.auth import Users
    users = Users(db_target)
    try:
        users.add(user, "operator", password, replace=True)
    finally:
        users.close()


class Node:
    """One `kiosk hq serve` process on `db_target` (an SQLite file or a postgresql:// URL)."""

    def __init__(self, broker_url: str, db_target: str, workdir: Path, *extra: str, user: str = USER,
                 password: str = PASSWORD, name: str = "node") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"{name}-{self.port}.log"
        self.log = open(self.log_path, "w")  # noqa: SIM115
        env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        self.proc = subprocess.Popen([sys.executable, "-m", "kiosk", "hq", "serve", "--broker", broker_url, "--db",
                                      db_target, "--port", str(self.port), *extra],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=env, cwd=str(REPO))
        self.http = httpx.Client(base_url=self.url, timeout=60)
        try:
            wait_until(self._up, 60, what=f"{name} to listen")
            r = sign_in(self.http, user, password)
            if r.status_code != 303:
                raise RuntimeError(f"{name}: sign-in answered {r.status_code}: {r.text[:300]}")
            wait_until(lambda: self.stats().get("connected"), 60, what=f"{name}'s MQTT clients")
        except BaseException:
            self.stop()
            raise

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _up(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"the node exited {self.proc.returncode}: {self.log_path.read_text()[-3000:]}")
        try:
            return self.http.get("/login").status_code == 200
        except httpx.HTTPError:
            return False

    def stats(self) -> dict[str, Any]:
        return self.http.get("/api/stats").json()

    def branches(self) -> list[dict[str, Any]]:
        return self.http.get("/api/branches").json()["rows"]

    def kill(self) -> None:
        """SIGKILL: nothing is written or sent after this."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def stop(self) -> int | None:
        self.http.close()
        rc = stop_process(self.proc, signal.SIGTERM, 30)
        self.log.close()
        return rc


# -- CPU ----------------------------------------------------------------------------------------------
def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()


def cpu_seconds(pid: int, *, children: bool = False) -> float:
    """User + system CPU of `pid` (its threads included); with `children`, also of its reaped children."""
    f = _stat(pid)
    if f is None:
        return 0.0
    ticks = int(f[11]) + int(f[12]) + ((int(f[13]) + int(f[14])) if children else 0)
    return ticks / _TICKS


def postgres_cpu_seconds(data_dir: Path) -> float:
    """The postmaster (with the backends it reaped) plus every backend still running."""
    master = int((data_dir / "postmaster.pid").read_text().split()[0])
    total = cpu_seconds(master, children=True)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            f = _stat(int(entry.name))
            if f is not None and int(f[1]) == master:
                total += (int(f[11]) + int(f[12])) / _TICKS
    return total
