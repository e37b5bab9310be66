"""The customers' phones on one HQ node: a call reaching 5,000 followed ticket pages, and a remote
ticket from the public API to its number.

    python -m bench.phone_follow [--followers 5000] [--branches 5] [--rounds 5] [--remote 100]

A local mosquitto and a real `kiosk hq serve` (`python -m kiosk.cli.hq_web serve`, with
``--max-connections`` above the followers and ``--max-connections-per-address 0``) in its own
process.

* ``phone_call_to_follower_ms`` — ``--branches`` simulated branches (paho) publish their retained
  status, queue snapshot and follow message, each with followers ÷ branches tickets (keys only:
  ``sha256(token)[:32]``). One SSE stream ``GET /t/{token}/events`` per ticket is opened from a
  client process of its own (raw asyncio streams, spread over several loopback source addresses)
  and every stream waits for its first ``event: ticket``. Then, each round, every branch publishes
  a new follow message in which one more ticket is called at a counter: the ``calls`` list changes,
  so every follower of that branch gets a frame. Per follower and round, the latency runs from the
  publish (monotonic clock, shared by the processes) to the arrival of the frame whose newest call
  is that one (``n`` = followers × rounds; ``missing``: frames that never came).
* ``phone_follow_server_rss_mb`` — the server process's resident memory with every follower
  connected, and its CPU seconds (in all, and during the rounds), from /proc.
* ``phone_remote_ticket_ms`` — a real kiosk (`kiosk.app.kiosk_app.KioskApp`, MQTT on the same
  broker, ``[phone] remote = true``, ``remote_daily_cap = 0``) and the same server:
  ``POST /api/public/{branch}/tickets`` ``{"service": "A"}`` ``--remote`` times, one after the
  other, each from its own loopback source address (the server's quota is 5 remote tickets an
  hour per address, and it has no option to raise it), from sending the request to the ``201``
  with the ticket number read.
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import multiprocessing as mp
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from bench.metrics import Metric, Target
from kiosk.sim.broker import Broker
from kiosk.sim.net import free_port
from kiosk.sim.processes import stop_process
from kiosk.sim.waiting import wait_until

REPO = Path(__file__).resolve().parent.parent
PREFIX = "kiosk"
SOURCES = 8                 # loopback source addresses the followers are spread over (127.0.0.2 …)
CONNECT_AT_ONCE = 200       # connections being opened at the same time (under uvicorn's backlog)
ROUND_TIMEOUT_S = 30.0

METRICS = (
    Metric("phone_call_to_follower_ms", "ms", Target("p99", "<=", 1000),
           "a call in the branch's follow message published → the frame with it on every follower's "
           "SSE stream (GET /t/{token}/events), 5,000 followers on one HQ node"),
    Metric("phone_follow_server_rss_mb", "MB", what="the HQ server process with every follower connected "
                                                    "(RSS; its CPU seconds alongside)"),
    Metric("phone_remote_ticket_ms", "ms", Target("p50", "<=", 300),
           "POST /api/public/{branch}/tickets → 201 with the number, through mosquitto to a running kiosk"),
)


def pct(xs: list[float], p: float) -> float | None:
    s = sorted(xs)
    return round(s[min(len(s) - 1, max(0, int(round(p / 100 * (len(s) - 1)))))], 1) if s else None


def now_iso() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def key_of(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:32]


# -- processes ------------------------------------------------------------------------------------
class HqServer:
    """`python -m kiosk.cli.hq_web serve` on a free port, an SQLite file in `workdir`."""

    def __init__(self, broker: Broker, workdir: Path, max_connections: int) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "server.log"
        self.log = open(self.log_path, "w")  # noqa: SIM115
        env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kiosk.cli.hq_web", "serve", "--broker", broker.url, "--db",
             str(workdir / "hq.db"), "--port", str(self.port), "--max-connections", str(max_connections),
             "--max-connections-per-address", "0"],
            stdout=self.log, stderr=subprocess.STDOUT, env=env, cwd=str(REPO))
        wait_until(self._up, 60, what="the HQ server to listen")

    def _up(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"the HQ server exited {self.proc.returncode}: {self.log_path.read_text()[-3000:]}")
        try:
            return httpx.get(self.url + "/api/public/branches", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def branches(self) -> dict[str, dict[str, Any]]:
        rows = httpx.get(self.url + "/api/public/branches", timeout=10).json()["branches"]
        return {r["branch"]: r for r in rows}

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
        return float("nan")

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        stop_process(self.proc, signal.SIGTERM, 20)
        self.log.close()


class SimBranch:
    """A branch publishing its retained status, queue snapshot and follow message (paho)."""

    def __init__(self, client: mqtt.Client, branch: str, tickets: int) -> None:
        self.client = client
        self.branch = branch
        self.tokens = [secrets.token_urlsafe(16) for _ in range(tickets)]
        since = now_iso()
        self.tickets = [{"key": key_of(tok), "ticket": f"A{i + 1:03d}" if i < 999 else f"B{i - 998:03d}",
                         "service": "A" if i < 999 else "B", "state": "waiting", "ahead": i,
                         "estimate_s": 180.0 * i, "counter": None, "since": since}
                        for i, tok in enumerate(self.tokens)]
        self.calls: list[dict[str, Any]] = []

    def topic(self, kind: str) -> str:
        return f"{PREFIX}/{self.branch}/{kind}"

    def publish(self, kind: str, doc: dict[str, Any]) -> mqtt.MQTTMessageInfo:
        return self.client.publish(self.topic(kind), json.dumps(doc, ensure_ascii=False, separators=(",", ":")),
                                   qos=1, retain=True)

    def retained_state(self) -> list[mqtt.MQTTMessageInfo]:
        day = datetime.now().astimezone().date().isoformat()
        services = [{"service": s, "name": {"zh": f"业务{s}", "en": f"Service {s}"}, "waiting": 500,
                     "estimate_s": 1800.0, "target_wait_s": 600} for s in ("A", "B")]
        queue = {"v": 1, "ts": now_iso(), "branch": self.branch, "day": day, "waiting": len(self.tickets),
                 "open_counters": 4, "services": services,
                 "counters": [{"counter": n, "name": {"zh": f"{n}号窗口", "en": f"Counter {n}"}, "state": "open",
                               "ticket": None, "services": ["A", "B"]} for n in (1, 2, 3, 4)],
                 "phone": {"remote": False, "services": [], "name": {"zh": self.branch, "en": self.branch},
                           "address": {"zh": "", "en": ""}, "lat": None, "lon": None, "check_in_min": 60}}
        return [self.publish("status", {"v": 1, "ts": now_iso(), "state": "online", "branch": self.branch}),
                self.publish("queue", queue), self.follow()]

    def call(self, n: int) -> str:
        """Call the `n`-th ticket (0-based) at a counter; return its number (not yet published)."""
        t = self.tickets[n]
        counter = 1 + n % 4
        t.update(state="called", ahead=None, estimate_s=None, counter=counter)
        for other in self.tickets[n + 1:]:
            if other["state"] == "waiting":
                other["ahead"] = max(0, other["ahead"] - 1)
        self.calls.insert(0, {"ticket": t["ticket"], "counter": counter, "ts": now_iso()})
        del self.calls[5:]
        return t["ticket"]

    def follow(self) -> mqtt.MQTTMessageInfo:
        return self.publish("follow", {"v": 1, "ts": now_iso(), "branch": self.branch,
                                       "day": datetime.now().astimezone().date().isoformat(),
                                       "tickets": self.tickets, "calls": self.calls})


def paho_client(port: int) -> mqtt.Client:
    c = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    c.max_inflight_messages_set(0)
    c.max_queued_messages_set(0)
    c.connect("127.0.0.1", port, 60)
    c.loop_start()
    return c


# -- the followers (a process of their own) ---------------------------------------------------------
class Follower:
    """One SSE stream; `arrivals` maps each newest call's ticket to the monotonic time its first
    frame arrived."""

    def __init__(self, token: str, source: str) -> None:
        self.token = token
        self.source = source
        self.first = asyncio.Event()
        self.arrivals: dict[str, float] = {}
        self.error: str | None = None

    async def run(self, port: int, gate: asyncio.Semaphore, counted: Any) -> None:
        try:
            async with gate:
                reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(self.source, 0),
                                                               limit=1 << 20)
                writer.write(f"GET /t/{self.token}/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                             f"Accept: text/event-stream\r\n\r\n".encode())
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
                status = head.split(" ", 2)[1]
                if status != "200":
                    raise RuntimeError(f"status {status}")
                chunked = "transfer-encoding: chunked" in head.lower()
                await self._frames(reader, chunked, counted, first_only=True)
            await self._frames(reader, chunked, counted, first_only=False)
        except (OSError, RuntimeError, asyncio.IncompleteReadError, ValueError) as exc:
            self.error = f"{type(exc).__name__}: {exc}"
            self.first.set()

    async def _frames(self, reader: asyncio.StreamReader, chunked: bool, counted: Any, first_only: bool) -> None:
        buf = b""
        while True:
            if chunked:
                size = int((await reader.readline()).strip() or b"0", 16)
                if size == 0:
                    return
                data = await reader.readexactly(size + 2)
                buf += data[:-2]
            else:
                data = await reader.read(65536)
                if not data:
                    return
                buf += data
            while b"\n\n" in buf:
                frame, buf = buf.split(b"\n\n", 1)
                now = time.monotonic()
                if not frame.startswith(b"event: ticket"):
                    continue
                view = json.loads(frame.split(b"\ndata: ", 1)[1])
                newest = view["calls"][0]["ticket"] if view["calls"] else ""
                if newest not in self.arrivals:
                    self.arrivals[newest] = now
                    if newest:
                        with counted.get_lock():
                            counted.value += 1
                if first_only:
                    self.first.set()
                    return


def follow_all(port: int, tokens: list[str], conn: Any, counted: Any) -> None:
    """The client process: open every stream, report when each has its first frame, keep reading
    until told to stop, then send back every stream's arrivals."""
    asyncio.run(_follow_all(port, tokens, conn, counted))


async def _follow_all(port: int, tokens: list[str], conn: Any, counted: Any) -> None:
    gate = asyncio.Semaphore(CONNECT_AT_ONCE)
    followers = [Follower(tok, f"127.0.0.{2 + i % SOURCES}") for i, tok in enumerate(tokens)]
    t0 = time.monotonic()
    tasks = [asyncio.create_task(f.run(port, gate, counted)) for f in followers]
    await asyncio.gather(*(f.first.wait() for f in followers))
    errors = [f.error for f in followers if f.error]
    conn.send({"connected": len(followers) - len(errors), "connect_s": round(time.monotonic() - t0, 1),
               "errors": errors[:3]})
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, conn.recv)          # "stop"
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    conn.send([f.arrivals for f in followers])


# -- measurement 1 ------------------------------------------------------------------------------------
def followers_run(broker: Broker, server: HqServer, followers: int, n_branches: int, rounds: int) -> list[dict]:
    per = followers // n_branches
    client = paho_client(broker.port)
    branches = [SimBranch(client, f"bench-phone-{i:02d}", per) for i in range(n_branches)]
    for info in [i for b in branches for i in b.retained_state()]:
        info.wait_for_publish(30)
    last = branches[-1].tokens[-1]
    wait_until(lambda: httpx.get(f"{server.url}/t/{last}", headers={"Accept": "application/json"},
                                 timeout=5).status_code == 200, 60, what="the follow messages at HQ")
    tokens = [tok for b in branches for tok in b.tokens]
    owner = [b for b in branches for _ in b.tokens]
    ctx = mp.get_context("spawn")
    here, there = ctx.Pipe()
    counted = ctx.Value("l", 0)
    proc = ctx.Process(target=follow_all, args=(server.port, tokens, there, counted), daemon=True)
    proc.start()
    try:
        if not here.poll(600):
            raise TimeoutError("the followers did not connect within 600 s")
        ready = here.recv()
        rss = server.rss_mb()
        cpu0 = server.cpu_s()
        published: list[dict[str, tuple[str, float]]] = []    # per round: branch -> (ticket called, when)
        for r in range(rounds):
            time.sleep(1.0)
            payloads = []
            for b in branches:
                ticket = b.call(r)
                doc = {"v": 1, "ts": now_iso(), "branch": b.branch,
                       "day": datetime.now().astimezone().date().isoformat(), "tickets": b.tickets, "calls": b.calls}
                payloads.append((b, ticket, json.dumps(doc, separators=(",", ":"))))
            sent: dict[str, tuple[str, float]] = {}
            infos = []
            for b, ticket, payload in payloads:
                sent[b.branch] = (ticket, time.monotonic())
                infos.append(client.publish(b.topic("follow"), payload, qos=1, retain=True))
            published.append(sent)
            for info in infos:
                info.wait_for_publish(30)
            target = ready["connected"] * (r + 1)
            deadline = time.monotonic() + ROUND_TIMEOUT_S
            while counted.value < target and time.monotonic() < deadline:
                time.sleep(0.05)
        time.sleep(0.5)
        cpu_rounds = server.cpu_s() - cpu0
        here.send("stop")
        if not here.poll(120):
            raise TimeoutError("the followers did not report")
        arrivals = here.recv()
    finally:
        proc.join(30)
        if proc.is_alive():
            proc.kill()
        client.disconnect()
        client.loop_stop()
    by_round: list[list[float]] = [[] for _ in published]
    missing = 0
    for i, seen in enumerate(arrivals):
        for r, sent in enumerate(published):
            ticket, when = sent[owner[i].branch]
            if ticket in seen:
                by_round[r].append((seen[ticket] - when) * 1000)
            else:
                missing += 1
    ms = [x for xs in by_round for x in xs]
    return [{"metric": "phone_call_to_follower_ms", "unit": "ms", "p50": pct(ms, 50), "p99": pct(ms, 99),
             "max": pct(ms, 100), "n": len(ms), "missing": missing, "followers": followers,
             "connected": ready["connected"], "branches": n_branches, "rounds": rounds,
             "p99_by_round": [pct(xs, 99) for xs in by_round], "connect_s": ready["connect_s"],
             "connect_errors": ready["errors"]},
            {"metric": "phone_follow_server_rss_mb", "unit": "MB", "value": rss, "followers": ready["connected"],
             "cpu_s": round(server.cpu_s(), 1), "cpu_s_rounds": round(cpu_rounds, 2)}]


# -- measurement 2 ------------------------------------------------------------------------------------
def kiosk_settings(broker_url: str) -> Any:
    from kiosk.config.settings import DEFAULT_CONFIG, Settings, load_settings
    data = load_settings(DEFAULT_CONFIG).model_dump(mode="json")
    data["mqtt"] = {"enabled": True, "url": broker_url, "reconnect_min_s": 0.2, "reconnect_max_s": 1.0,
                    "queue_min_interval_s": 0.1}
    data["store"] = {**data.get("store", {}), "synchronous": "NORMAL"}
    data["phone"] = {"remote": True, "remote_services": ["A"], "remote_daily_cap": 0,
                     "follow_url": "https://hq.example.com/t/{token}", "lat": 31.23, "lon": 121.47}
    return Settings.model_validate(data)


def remote_run(broker: Broker, server: HqServer, n: int, workdir: Path) -> list[dict]:
    from kiosk.app.kiosk_app import KioskApp
    from kiosk.mqtt.telemetry import Telemetry
    settings = kiosk_settings(broker.url)
    branch = settings.branch.id
    app = KioskApp(settings, workdir / "kiosk", uplink=Telemetry(settings)).start()
    try:
        wait_until(lambda: (row := server.branches().get(branch)) and row["online"] and row["remote"], 60,
                   what="the kiosk's branch online and remote at HQ")
        ms: list[float] = []
        refused: list[str] = []
        for i in range(n):
            source = f"127.0.{1 + i // 250}.{1 + i % 250}"
            with httpx.Client(base_url=server.url, timeout=30,
                              transport=httpx.HTTPTransport(local_address=source)) as http:
                t0 = time.perf_counter()
                r = http.post(f"/api/public/{branch}/tickets", json={"service": "A"})
                ok = r.status_code == 201 and r.json().get("ticket")
                dt = (time.perf_counter() - t0) * 1000
            if ok:
                ms.append(dt)
            else:
                refused.append(f"{r.status_code} {r.text[:120]}")
    finally:
        app.stop()
    return [{"metric": "phone_remote_ticket_ms", "unit": "ms", "p50": pct(ms, 50), "p90": pct(ms, 90),
             "max": pct(ms, 100), "n": len(ms), "refused": len(refused), "first_refusals": refused[:3],
             "sources": "one loopback address per request"}]


def run(followers: int, n_branches: int, rounds: int, remote: int) -> None:
    """Both measurements on one broker and one server; their JSON lines printed as they come."""
    with tempfile.TemporaryDirectory(prefix="phone-follow-") as d:
        workdir = Path(d)
        broker = Broker(workdir / "broker").start()
        server = None
        try:
            server = HqServer(broker, workdir, max_connections=followers + 1000)
            lines = followers_run(broker, server, followers, n_branches, rounds)
            for line in lines:
                print(json.dumps(line, ensure_ascii=False), flush=True)
            lines = remote_run(broker, server, remote, workdir)
            for line in lines:
                print(json.dumps(line, ensure_ascii=False), flush=True)
        finally:
            if server is not None:
                server.stop()
            broker.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--followers", type=int, default=5000, help="SSE streams, one per followed ticket")
    ap.add_argument("--branches", type=int, default=5, help="branches the tickets are spread over (≤ 2000 each)")
    ap.add_argument("--rounds", type=int, default=5, help="calls per branch, each reaching all its followers")
    ap.add_argument("--remote", type=int, default=100, help="remote tickets taken through the public API")
    ap.add_argument("--quick", action="store_true", help="500 followers, 20 remote tickets")
    a = ap.parse_args()
    if a.quick:
        a.followers, a.remote = 500, 20
    if a.followers // a.branches > 2000 or a.followers < a.branches:
        ap.error("each branch follows 1 to 2000 tickets: adjust --followers or --branches")
    run(a.followers, a.branches, a.rounds, a.remote)


if __name__ == "__main__":
    main()
