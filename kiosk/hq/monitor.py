"""The HQ monitor: every branch, live, and an optional SQLite record of every event.

`HqMonitor` subscribes to ``{prefix}/+/#`` (or ``$share/GROUP/{prefix}/+/#``, an MQTT 5
shared subscription, so several HQ consumers split the load on a clustered broker) and
keeps one `BranchState` per branch: online/offline and since when, waiting per service,
longest wait, open counters, alert level, events per minute. `render()` draws it as a
plain-text table (ANSI colours and redraw, no curses).

`Recorder` stores events in SQLite, idempotent by event id (``INSERT OR IGNORE`` on the
primary key), batched: one transaction every ``batch_ms`` milliseconds or ``batch_events``
events, on its own thread, so the MQTT thread only parses and appends.
`export_csv()` writes a recording as CSV.
"""
from __future__ import annotations

import csv
import json
import logging
import sqlite3
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

import sqlite_utils

log = logging.getLogger(__name__)

EPM_WINDOW_S = 60.0
DEDUP_WINDOW = 1024  # ids remembered per branch (> a kiosk's in-flight window; the recording has the rest)


# -- per-branch state ---------------------------------------------------------------------------
@dataclass
class BranchState:
    branch: str
    online: bool | None = None
    since: str | None = None
    version: str | None = None
    waiting: dict[str, int] = field(default_factory=dict)
    longest_wait_s: float | None = None
    open_counters: int | None = None
    alert_level: int = 0
    alert_reason: str = ""
    events: int = 0
    duplicates: int = 0
    last_seq: int = 0
    last_seen: float = 0.0
    last_stats: dict[str, Any] | None = None
    devices: dict[str, dict[str, Any]] = field(default_factory=dict)   # open faults: name → kind, reason, since
    _recent: deque = field(default_factory=deque, repr=False)
    _ids: set = field(default_factory=set, repr=False)
    _id_order: deque = field(default_factory=deque, repr=False)

    def seen(self, event_id: str) -> bool:
        """True if this event id was counted already; else remember it."""
        if event_id in self._ids:
            return True
        self._ids.add(event_id)
        self._id_order.append(event_id)
        if len(self._id_order) > DEDUP_WINDOW:
            self._ids.discard(self._id_order.popleft())
        return False

    def events_per_minute(self, now: float) -> int:
        r = self._recent
        while r and r[0] < now - EPM_WINDOW_S:
            r.popleft()
        return len(r)

    def as_dict(self, now: float) -> dict[str, Any]:
        return {"branch": self.branch, "online": self.online, "since": self.since, "version": self.version,
                "waiting": dict(self.waiting), "longest_wait_s": self.longest_wait_s,
                "open_counters": self.open_counters, "alert_level": self.alert_level,
                "alert_reason": self.alert_reason, "events": self.events, "duplicates": self.duplicates,
                "last_seq": self.last_seq, "events_per_min": self.events_per_minute(now),
                "devices": {k: dict(v) for k, v in sorted(self.devices.items())}}


def _device_fault(doc: dict[str, Any]) -> dict[str, Any]:
    return {"kind": str(doc.get("kind") or ""), "reason": str(doc.get("reason") or ""), "since": doc.get("since")}


class MonitorState:
    """The table of branches, fed with (topic, payload) pairs. Thread-safe."""

    def __init__(self, prefix: str = "kiosk", recorder: Recorder | None = None) -> None:
        self.prefix = prefix.rstrip("/") + "/"
        self.recorder = recorder
        self.branches: dict[str, BranchState] = {}
        self.messages = 0
        self.bad = 0
        self.events = 0
        self.duplicates = 0
        self.lock = threading.Lock()

    def branch(self, name: str) -> BranchState:
        b = self.branches.get(name)
        if b is None:
            b = self.branches[name] = BranchState(name)
        return b

    def ingest(self, topic: str, payload: bytes, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        if not topic.startswith(self.prefix):
            return
        rest = topic[len(self.prefix):]
        name, _, kind = rest.partition("/")
        if not name or not kind or kind.startswith(("cmd/", "reply/")):
            return
        try:
            doc = json.loads(payload)
        except ValueError:
            doc = None
        if not isinstance(doc, dict):
            with self.lock:
                self.bad += 1
            return
        with self.lock:
            self.messages += 1
            b = self.branch(name)
            b.last_seen = now
            if kind == "events":
                self._event(b, doc, payload, now)
            elif kind == "status":
                state = doc.get("state")
                b.online = state == "online" if state in ("online", "offline") else None
                b.since = doc.get("since") or doc.get("ts")
                b.version = doc.get("version")
            elif kind == "queue":
                services = doc.get("services") or []
                b.waiting = {str(s.get("service")): int(s.get("waiting") or 0) for s in services if isinstance(s, dict)}
                waits = [s.get("longest_wait_s") or 0 for s in services if isinstance(s, dict)]
                b.longest_wait_s = max(waits) if waits else 0.0
                b.open_counters = doc.get("open_counters")
                alert = doc.get("alert")
                if isinstance(alert, dict):
                    b.alert_level = int(alert.get("level") or 0)
                    b.alert_reason = str(alert.get("reason") or "")
                devices = doc.get("devices")
                if isinstance(devices, dict):       # kiosks before 0.1.0's schema 2 send none
                    b.devices = {str(k): _device_fault(v) for k, v in devices.items() if isinstance(v, dict)}
            elif kind == "alerts":
                b.alert_level = int(doc.get("level") or 0)
                b.alert_reason = str(doc.get("reason") or "")
                if doc.get("open_counters") is not None:
                    b.open_counters = doc["open_counters"]
            elif kind == "stats/hourly":
                b.last_stats = doc

    def _event(self, b: BranchState, doc: dict[str, Any], payload: bytes, now: float) -> None:
        event_id = doc.get("id")
        if not isinstance(event_id, str) or not event_id:
            self.bad += 1
            return
        if b.seen(event_id):
            b.duplicates += 1
            self.duplicates += 1
            return
        b.events += 1
        self.events += 1
        recent = b._recent
        recent.append(now)
        while recent[0] < now - EPM_WINDOW_S:
            recent.popleft()
        seq = doc.get("seq")
        if isinstance(seq, int) and seq > b.last_seq:
            b.last_seq = seq
        kind = doc.get("type")
        if kind in ("alert.raised", "alert.cleared"):
            b.alert_level = int(doc.get("level") or 0)
        elif kind == "device.fault" and doc.get("device"):
            b.devices[str(doc["device"])] = _device_fault({**doc, "since": doc.get("ts")})
        elif kind == "device.recovered" and doc.get("device"):
            b.devices.pop(str(doc["device"]), None)
        if self.recorder is not None:
            self.recorder.add((event_id, b.branch, seq if isinstance(seq, int) else None, str(doc.get("type")),
                               doc.get("ts"), doc.get("day"), payload.decode("utf-8", "replace")))

    def snapshot(self, now: float | None = None) -> list[dict[str, Any]]:
        now = time.monotonic() if now is None else now
        with self.lock:
            return [self.branches[k].as_dict(now) for k in sorted(self.branches)]

    def totals(self) -> dict[str, int]:
        return {"branches": len(self.branches), "events": self.events, "duplicates": self.duplicates,
                "messages": self.messages, "bad": self.bad}


# -- rendering ------------------------------------------------------------------------------------
RED, YELLOW, GREEN, DIM, RESET = "\x1b[31m", "\x1b[33m", "\x1b[32m", "\x1b[2m", "\x1b[0m"
CLEAR = "\x1b[H\x1b[2J"


def _since(iso: str | None) -> str:
    if not iso:
        return "-"
    try:
        dt = datetime.fromisoformat(iso)
    except ValueError:
        return iso[:19]
    return dt.strftime("%m-%d %H:%M:%S")


def _dur(s: float | None) -> str:
    if s is None:
        return "-"
    s = int(s)
    return f"{s // 60}m{s % 60:02d}s" if s < 3600 else f"{s // 3600}h{s % 3600 // 60:02d}m"


def render(rows: list[dict[str, Any]], *, colour: bool = False, max_rows: int | None = None,
           title: str = "") -> str:
    head = ["BRANCH", "STATE", "SINCE", "WAITING", "LONGEST", "OPEN", "ALERT", "DEVICES", "EV/MIN", "EVENTS"]
    table = []
    for r in rows:
        state = {True: "online", False: "offline", None: "?"}[r["online"]]
        waiting = " ".join(f"{k}:{v}" for k, v in sorted(r["waiting"].items())) or "-"
        devices = " ".join(f"{k}:{v['kind']}" for k, v in sorted((r.get("devices") or {}).items())) or "-"
        table.append([r["branch"], state, _since(r["since"]), waiting, _dur(r["longest_wait_s"]),
                      "-" if r["open_counters"] is None else str(r["open_counters"]), str(r["alert_level"]),
                      devices, str(r["events_per_min"]), str(r["events"])])
    shown = table if max_rows is None or len(table) <= max_rows else table[:max_rows]
    widths = [max([len(h)] + [len(t[i]) for t in shown]) for i, h in enumerate(head)]
    lines = []
    if title:
        lines.append(title)
    lines.append("  ".join(h.ljust(w) for h, w in zip(head, widths)).rstrip())
    for t in shown:
        line = "  ".join(c.ljust(w) for c, w in zip(t, widths)).rstrip()
        if colour:
            if t[1] == "offline" or t[6] == "2":
                line = RED + line + RESET
            elif t[6] == "1" or t[7] != "-":
                line = YELLOW + line + RESET
            elif t[1] == "?":
                line = DIM + line + RESET
        lines.append(line)
    if len(shown) < len(table):
        lines.append(f"… {len(table) - len(shown)} more branches")
    return "\n".join(lines) + "\n"


# -- recorder -----------------------------------------------------------------------------------------
EVENT_COLUMNS = ("id", "branch", "seq", "type", "ts", "day", "body", "received")


def open_record_db(path: str | Path) -> sqlite_utils.Database:
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    db = sqlite_utils.Database(conn, execute_plugins=False)   # see kiosk/storage/store.py
    db["events"].create({"id": str, "branch": str, "seq": int, "type": str, "ts": str, "day": str, "body": str,
                         "received": str}, pk="id", not_null={"id", "branch", "body"}, if_not_exists=True)
    db["events"].create_index(["branch", "seq"], if_not_exists=True)
    db["events"].create_index(["type"], if_not_exists=True)
    return db


class Recorder:
    """Batched, idempotent event store (``INSERT OR IGNORE`` on the event id)."""

    def __init__(self, path: str | Path, *, batch_ms: float = 200, batch_events: int = 5000) -> None:
        self.path = Path(path)
        self.db = open_record_db(self.path)
        self.conn: sqlite3.Connection = self.db.conn
        self.batch_s = batch_ms / 1000.0
        self.batch_events = batch_events
        self._pending: deque[tuple] = deque()  # append (MQTT thread) / popleft (writer): thread-safe
        self._cond = threading.Condition()
        self._stop = False
        self.received = 0
        self.inserted = 0
        self.written_batches = 0
        self._flushed = 0
        self._thread = threading.Thread(target=self._run, name="hq-recorder", daemon=True)
        self._thread.start()

    def add(self, row: tuple) -> None:
        """Queue one event row (id, branch, seq, type, ts, day, body). Called from one thread."""
        self._pending.append(row)
        self.received += 1
        if len(self._pending) == self.batch_events:
            with self._cond:
                self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._pending and not self._stop:
                    self._cond.wait(self.batch_s)
                elif len(self._pending) < self.batch_events and not self._stop:
                    self._cond.wait(self.batch_s)
                stop = self._stop
            pending = self._pending
            batch = [pending.popleft() for _ in range(len(pending))]
            if batch:
                self._write(batch)
            with self._cond:
                self._flushed += len(batch)
                self._cond.notify_all()
                if stop and not self._pending:
                    return

    def _write(self, batch: list[tuple]) -> None:
        received = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
        conn = self.conn
        before = conn.total_changes
        try:
            conn.execute("BEGIN")
            conn.executemany("INSERT OR IGNORE INTO events (id, branch, seq, type, ts, day, body, received) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [(*r, received) for r in batch])
            conn.execute("COMMIT")
        except sqlite3.Error:
            log.exception("recording %d events failed", len(batch))
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            return
        self.inserted += conn.total_changes - before
        self.written_batches += 1

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every event added so far is written."""
        deadline = time.monotonic() + timeout
        with self._cond:
            target = self.received
            self._cond.notify()
            while self._flushed < target:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
        return True

    def close(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        self._thread.join(30)
        self.conn.close()

    @property
    def duplicates(self) -> int:
        return self.received - self.inserted


def record_events(path: str | Path, events: Iterable[dict[str, Any]]) -> int:
    """Store already-parsed events (idempotent); returns how many were new. For tools and tests."""
    rec = Recorder(path)
    try:
        for ev in events:
            rec.add((ev["id"], ev.get("branch", ""), ev.get("seq"), ev.get("type"), ev.get("ts"), ev.get("day"),
                     json.dumps(ev, ensure_ascii=False, separators=(",", ":"))))
        rec.flush()
        return rec.inserted
    finally:
        rec.close()


def export_csv(db_path: str | Path, out: str | Path | TextIO, *, branch: str | None = None) -> int:
    """Write the recorded events as CSV (ordered by branch, seq); returns the number of rows."""
    if not Path(db_path).exists():
        raise FileNotFoundError(f"no recording at {db_path}")
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        sql = f"SELECT {', '.join(EVENT_COLUMNS)} FROM events"
        params: tuple = ()
        if branch:
            sql += " WHERE branch = ?"
            params = (branch,)
        sql += " ORDER BY branch, seq, id"
        rows = conn.execute(sql, params)
        own = not hasattr(out, "write")
        f = open(out, "w", newline="", encoding="utf-8") if own else out  # noqa: SIM115
        try:
            w = csv.writer(f)
            w.writerow(EVENT_COLUMNS)
            n = 0
            for r in rows:
                w.writerow(r)
                n += 1
        finally:
            if own:
                f.close()
        return n
    finally:
        conn.close()


# -- the MQTT side ------------------------------------------------------------------------------------
class _BufferedSocket:
    """A socket whose `recv` is served from a 256 KiB read buffer: paho reads a packet in
    three or four small `recv` calls, which at thousands of messages a second costs more than
    the messages. `pending()` tells paho's loop that buffered bytes are ready."""

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self._buf = b""
        self._pos = 0

    def recv(self, n: int) -> bytes:
        if self._pos >= len(self._buf):
            data = self._sock.recv(262144)
            if not data:
                return data
            self._buf, self._pos = data, 0
        out = self._buf[self._pos:self._pos + n]
        self._pos += len(out)
        return out

    def pending(self) -> int:
        inner = self._sock.pending() if hasattr(self._sock, "pending") else 0
        return len(self._buf) - self._pos + inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def _fast_client_class() -> type:
    import paho.mqtt.client as mqtt

    class FastClient(mqtt.Client):
        def _create_socket(self):  # noqa: ANN202 — paho 2.x hook; plain TCP/TLS only
            sock = super()._create_socket()
            return sock if self._transport == "websockets" else _BufferedSocket(sock)

    return FastClient if hasattr(mqtt.Client, "_create_socket") else mqtt.Client


class HqMonitor:
    """Subscribes to every branch and feeds a `MonitorState` (paho's network thread)."""

    def __init__(self, url: str, *, prefix: str = "kiosk", shared: str | None = None, protocol: str = "3.1.1",
                 recorder: Recorder | None = None, client_id: str = "", tls: Any = None,
                 username: str | None = None, password_file: str | None = None) -> None:
        from kiosk.mqtt.telemetry import make_client, parse_url, protocol_of, read_password
        self.broker = parse_url(url)
        self.prefix = prefix.rstrip("/")
        if shared and any(c in shared for c in "/+#"):
            raise ValueError("a shared-subscription group name cannot contain '/', '+' or '#'")
        self.topic = f"$share/{shared}/{self.prefix}/+/#" if shared else f"{self.prefix}/+/#"
        self.state = MonitorState(self.prefix, recorder)
        self.recorder = recorder
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self.last_error: str | None = None
        password = read_password(password_file) if password_file else None
        self.v5 = protocol != "3.1.1"
        self.persistent = bool(client_id)
        self.client = make_client(client_id, protocol_of(protocol), self.broker, tls=tls, username=username,
                                  password=password, max_inflight=1000, clean_session=not self.persistent,
                                  client_class=_fast_client_class())
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *a: self.subscribed.set()
        self.client.reconnect_delay_set(1, 30)

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:  # noqa: ANN001
        if getattr(reason_code, "is_failure", False):
            self.last_error = f"broker refused: {reason_code}"
            return
        self.last_error = None
        self.connected.set()
        client.subscribe(self.topic, qos=1)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:  # noqa: ANN001
        self.connected.clear()
        self.last_error = f"disconnected: {reason_code}"

    def _on_message(self, client, userdata, msg) -> None:  # noqa: ANN001
        self.state.ingest(msg.topic, msg.payload)

    def start(self) -> HqMonitor:
        kwargs: dict[str, Any] = {}
        if self.v5:
            from paho.mqtt.packettypes import PacketTypes
            from paho.mqtt.properties import Properties
            kwargs["clean_start"] = not self.persistent
            if self.persistent:
                props = Properties(PacketTypes.CONNECT)
                props.SessionExpiryInterval = 86400
                kwargs["properties"] = props
        self.client.connect_async(self.broker.host, self.broker.port, 30, **kwargs)
        # our own thread running loop_forever (not loop_start): paho then writes each PUBACK
        # straight to the socket instead of waking its loop through a socket pair
        self._thread = threading.Thread(target=self._loop, name="hq-mqtt", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        try:
            self.client.loop_forever(retry_first_connection=True)
        except Exception as exc:  # noqa: BLE001
            log.exception("HQ monitor MQTT loop failed")
            self.last_error = str(exc)

    def stop(self) -> None:
        self.client.disconnect()
        if getattr(self, "_thread", None) is not None:
            self._thread.join(10)

    def run(self, *, once: bool = False, wait_s: float = 2.0, interval_s: float = 1.0,
            duration_s: float | None = None, out: TextIO | None = None, as_json: bool = False) -> int:
        """Draw the table until interrupted (or once after `wait_s`)."""
        out = out or sys.stdout
        colour = out.isatty() and not as_json
        start = time.monotonic()
        try:
            if once:
                self.subscribed.wait(max(wait_s, 0.1))
                time.sleep(wait_s)
                if self.recorder is not None:
                    self.recorder.flush()
                self._draw(out, colour=False, clear=False, as_json=as_json)
                return 0 if self.subscribed.is_set() else 1
            while duration_s is None or time.monotonic() - start < duration_s:
                self._draw(out, colour=colour, clear=colour, as_json=as_json)
                time.sleep(interval_s)
        except KeyboardInterrupt:
            pass
        return 0

    def _draw(self, out: TextIO, *, colour: bool, clear: bool, as_json: bool) -> None:
        rows = self.state.snapshot()
        if as_json:
            out.write(json.dumps({"branches": rows, "totals": self.state.totals()}, ensure_ascii=False) + "\n")
        else:
            import shutil
            tot = self.state.totals()
            status = "connected" if self.connected.is_set() else f"not connected ({self.last_error or 'connecting'})"
            title = (f"kiosk HQ — {self.broker} {self.topic} — {status} — {tot['branches']} branches, "
                     f"{tot['events']} events")
            if self.recorder is not None:
                title += f", recorded {self.recorder.inserted}"
            max_rows = shutil.get_terminal_size((120, 40)).lines - 4 if clear else None
            out.write((CLEAR if clear else "") + render(rows, colour=colour, max_rows=max_rows, title=title))
        out.flush()
