"""The MQTT side of the dashboard: the HQ recorder (`kiosk.hq.recorder`) and the branch table of `kiosk.hq.monitor`, plus
what a web page needs on top of them.

Two subscriptions:

* **events** — ``{prefix}/+/events`` through `kiosk.hq.monitor.HqMonitor` (its `MonitorState`
  de-duplicates by id, its `Recorder` stores every event idempotently). With ``shared``
  this is the MQTT 5 shared subscription ``$share/GROUP/{prefix}/+/events``: several
  recorders behind one (clustered) broker split the event load.
* **state** — ``status``, ``queue``, ``alerts``, ``stats/hourly``, ``follow`` and ``reply/+`` on a
  second, *non-shared* client: these are retained and small, every dashboard needs every
  branch, and the broker does not send retained messages to shared subscriptions.

Both feed the same `MonitorState`, whose ingest boundary (`kiosk.hq.ingest`) checks every
message before it touches the state (replies are checked here, before they are matched; follow
messages by `kiosk.hq.ingest.follow`, then they replace the branch's tickets in `follow`, the
`kiosk.hq.phone.follow_index.FollowIndex` the customers' phone pages read); a
refused message marks its branch dirty too, so its problem reaches the pages. No exception
leaves a paho callback (`kiosk.hq.monitor.guarded`). Every message marks its branch *dirty*; the web side
(`sse.Hub`) takes the dirty set a few times a second and pushes only those rows.
The gaps in the recording come from `kiosk.hq.gaps.GapRepair` (`set_gaps`): every row carries
``gaps`` (open), ``missing`` (seqs) and ``gaps_lost`` (seqs lost at the branch); the detail lists them.
HQ commands are published on ``{prefix}/{branch}/cmd/{name}`` with an ``"id"`` that the
kiosk echoes in its reply on ``{prefix}/{branch}/reply/{name}``.
"""
from __future__ import annotations

import json
import logging
import math
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime
from typing import Any

from kiosk.mqtt import protocol as hq_commands
from kiosk.hq.ingest import Event, IngestLimits, Queue, Rejected, parse, split_topic
from kiosk.hq.ingest import valid_branch as _valid_branch
from kiosk.hq.ingest.follow import KIND as FOLLOW, parse_follow, split_follow_topic
from kiosk.hq.monitor import HqMonitor, guarded
from kiosk.hq.phone.follow_index import FollowIndex
from kiosk.hq.recorder import Recorder

log = logging.getLogger(__name__)

RECENT_EVENTS = 50
PENDING_S = 600.0
STATE_KINDS = ("status", "queue", "alerts", "stats/hourly", FOLLOW)


def _now_like(iso: Any) -> str:
    """Now, with the UTC offset of the ISO time `iso` (the server's own when it has none)."""
    try:
        tz = datetime.fromisoformat(iso).tzinfo if isinstance(iso, str) else None
    except ValueError:
        tz = None
    now = datetime.now(tz) if tz is not None else datetime.now().astimezone()
    return now.isoformat(timespec="seconds")


def service_targets(services: list[Any]) -> dict[str, float]:
    """{service: target wait in seconds} from the ``services`` of one branch's queue snapshot."""
    out = {}
    for s in services:
        if not isinstance(s, dict) or not isinstance(s.get("service"), str):
            continue
        t = s.get("target_wait_s")
        if isinstance(t, (int, float)) and not isinstance(t, bool) and math.isfinite(t) and t >= 0:
            out[s["service"]] = float(t)
    return out


def gap_problem(gaps: int, missing: int, lost: int) -> str:
    """A branch's gaps in the recording as its problem (when nothing else is wrong with it)."""
    parts = []
    if gaps:
        parts.append(f"{missing} event{'s' if missing != 1 else ''} missing in {gaps} gap{'s' if gaps != 1 else ''} "
                     "(HQ asked the branch to resend them)")
    if lost:
        parts.append(f"{lost} event{'s' if lost != 1 else ''} lost at the branch (no longer kept there)")
    return "; ".join(parts)


def valid_branch(name: str) -> bool:
    """A branch id a kiosk can have (`kiosk.hq.ingest.valid_branch`)."""
    return _valid_branch(name)


class Live:
    """The recorder, the branch table and per-branch detail, fed by MQTT (paho threads)."""

    def __init__(self, url: str, *, prefix: str = "kiosk", shared: str | None = None, protocol: str = "5",
                 recorder: Recorder | None = None, tls: Any = None, username: str | None = None,
                 password_file: str | None = None, client_id: str = "", limits: IngestLimits | None = None) -> None:
        from kiosk.mqtt.client import make_client, protocol_of, read_password
        self.prefix = prefix.rstrip("/")
        self.monitor = HqMonitor(url, prefix=self.prefix, shared=shared, protocol=protocol, recorder=recorder,
                                 client_id=client_id, tls=tls, username=username, password_file=password_file,
                                 limits=limits)
        # the monitor subscribes to the (shared) event stream only; the state topics come below
        self.monitor.topic = (f"$share/{shared}/" if shared else "") + f"{self.prefix}/+/events"
        self.monitor.client.on_message = guarded(self._on_event_message, "the dashboard's event on_message")
        self.state = self.monitor.state
        self.recorder = recorder
        self.shared = shared
        password = read_password(password_file) if password_file else None
        self.client = make_client("", protocol_of(protocol), self.monitor.broker, tls=tls, username=username,
                                  password=password, max_inflight=100)
        self.client.on_connect = guarded(self._on_state_connect, "the dashboard's state on_connect")
        self.client.on_message = guarded(self._on_state_message, "the dashboard's state on_message")
        self.client.on_subscribe = guarded(lambda *a: self.state_subscribed.set(), "the dashboard's on_subscribe")
        self.client.reconnect_delay_set(1, 30)
        self.state_subscribed = threading.Event()
        self.lock = threading.Lock()
        self.detail: dict[str, dict[str, Any]] = {}
        self.dirty: set[str] = set()
        # branch -> {service: target wait s}, from the branch's last queue snapshot (replaced whole, never mutated)
        self.targets: dict[str, dict[str, float]] = {}
        self.pending: dict[str, tuple[Future, float, str]] = {}  # command id -> (reply future, sent at, branch)
        self.on_reply: Callable[[str, dict[str, Any]], None] | None = None
        self.started = time.monotonic()
        # branch -> its gaps in the recording (`kiosk.hq.gaps.GapRepair` hands them over; replaced whole)
        self.gaps: dict[str, dict[str, Any]] = {}
        self.follow = FollowIndex()   # the tickets phones follow, by key

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> Live:
        self.monitor.start()
        b = self.monitor.broker
        self.client.connect_async(b.host, b.port, 30)
        self.client.loop_start()
        return self

    def stop(self) -> None:
        try:
            self.client.disconnect()
            self.client.loop_stop()
        except Exception:  # noqa: BLE001
            log.exception("stopping the state client")
        self.monitor.stop()

    @property
    def connected(self) -> bool:
        return self.monitor.connected.is_set() and self.client.is_connected()

    def ready(self) -> bool:
        return self.monitor.subscribed.is_set() and self.state_subscribed.is_set()

    # -- MQTT callbacks (paho threads) ----------------------------------------------------------
    def _on_state_connect(self, client, userdata, flags, reason_code, properties) -> None:  # noqa: ANN001
        if getattr(reason_code, "is_failure", False):
            log.warning("broker refused the dashboard's state client: %s", reason_code)
            return
        p = self.prefix
        client.subscribe([(f"{p}/+/status", 1), (f"{p}/+/queue", 1), (f"{p}/+/alerts", 1),
                          (f"{p}/+/stats/hourly", 1), (f"{p}/+/{FOLLOW}", 1), (f"{p}/+/reply/+", 1)])

    def _where(self, topic: str) -> tuple[str, str] | None:
        """(branch, kind) of a branch message; None (a refused topic counted) otherwise."""
        try:
            return split_topic(self.prefix, topic)
        except Rejected as r:
            self.state.refuse_topic(topic, r)
            return None

    def _on_event_message(self, client, userdata, msg) -> None:  # noqa: ANN001
        where = self._where(msg.topic)
        if where is None or where[1] != "events":
            return
        name = where[0]
        st = self.state
        b = st.branches.get(name)
        before = b.events if b is not None else 0
        ev = st.check(name, "events", msg.topic, msg.payload)
        if ev is None:
            with self.lock:
                self.dirty.add(name)   # refused: the branch's problem changed
            return
        b = st.branches.get(name)
        if b is None or b.events == before:
            return  # a duplicate
        assert isinstance(ev, Event)
        alert = None
        if ev.type in ("alert.raised", "alert.cleared"):
            alert = {k: ev.doc.get(k) for k in ("level", "reason", "waiting", "open_counters", "ts")}
        with self.lock:
            d = self._detail(name)
            d["recent"].append(msg.payload)  # raw bytes (checked): 1,000 branches x 50 events stay small
            if alert is not None:
                d["alerts"] = alert
            self.dirty.add(name)

    def _on_state_message(self, client, userdata, msg) -> None:  # noqa: ANN001
        follow_of = split_follow_topic(self.prefix, msg.topic)
        if follow_of is not None:
            self._on_follow(follow_of, msg.topic, msg.payload)
            return
        where = self._where(msg.topic)
        if where is None:
            return
        name, kind = where
        if kind == "reply":
            try:
                parse("reply", name, msg.payload, self.state.limits)
            except Rejected as r:
                self.state.refuse(name, "reply", msg.topic, r)
                with self.lock:
                    self.dirty.add(name)
                return
            self._reply(name, msg.topic.rsplit("/", 1)[1], msg.payload)
            return
        if kind not in STATE_KINDS:
            return
        parsed = self.state.check(name, kind, msg.topic, msg.payload)
        if parsed is None:
            with self.lock:
                self.dirty.add(name)
            return
        doc = parsed.doc
        with self.lock:
            d = self._detail(name)
            key = "stats" if kind == "stats/hourly" else kind
            prev = (d["status"] or {}).get("state")
            if kind == "status" and not msg.retain and prev is not None and prev != doc.get("state"):
                # a change seen live: when it happened (a Last Will carries the session's start, not
                # the moment the kiosk died), in the branch's own UTC offset
                d["state_seen"] = _now_like(doc.get("ts") or doc.get("since"))
            d[key] = doc
            if isinstance(parsed, Queue):
                self.targets[name] = service_targets(doc.get("services") or [])   # its own, replaced whole
            self.dirty.add(name)

    def _on_follow(self, name: str, topic: str, payload: bytes) -> None:
        """A branch's follow message: checked, then its tickets replace the branch's in `follow`;
        refused, only the branch's problem changes."""
        if not valid_branch(name):
            self.state.refuse_topic(topic, Rejected("bad_topic", f"branch id {name[:100]!r} is not one"))
            return
        if not payload:
            self.follow.forget(name)   # the retained message was cleared
            return
        try:
            checked = parse_follow(name, payload)
        except Rejected as r:
            self.state.refuse(name, FOLLOW, topic, r)
            with self.lock:
                self.dirty.add(name)
            return
        self.follow.update(name, checked.doc)

    def _detail(self, name: str) -> dict[str, Any]:
        d = self.detail.get(name)
        if d is None:
            d = self.detail[name] = {"recent": deque(maxlen=RECENT_EVENTS), "queue": None, "status": None,
                                     "alerts": None, "stats": None, "state_seen": None}
        return d

    # -- what the web side reads ----------------------------------------------------------------
    def take_dirty(self) -> set[str]:
        with self.lock:
            d, self.dirty = self.dirty, set()
        return d

    def rows(self, names: set[str] | None = None) -> list[dict[str, Any]]:
        now = time.monotonic()
        st = self.state
        with st.lock:
            keys = st.branches.keys() if names is None else [n for n in names if n in st.branches]
            rows = [st.branches[k].as_dict(now) for k in keys]
        with self.lock:
            for r in rows:
                r["waiting_total"] = sum(r["waiting"].values())
                r["device_faults"] = len(r["devices"])
                d = self.detail.get(r["branch"])
                r["state_seen"] = d.get("state_seen") if d else None
                g = self.gaps.get(r["branch"])
                r["gaps"], r["missing"], r["gaps_lost"] = (g["gaps"], g["missing"], g["lost"]) if g else (0, 0, 0)
                if r["problem"] is None and (r["gaps"] or r["gaps_lost"]):
                    r["problem"] = gap_problem(r["gaps"], r["missing"], r["gaps_lost"])
        return rows

    def branch_detail(self, name: str) -> dict[str, Any] | None:
        rows = self.rows({name})
        if not rows:
            return None
        with self.lock:
            d = self.detail.get(name) or {}
            out = {"row": rows[0], "queue": d.get("queue"), "status": d.get("status"), "alerts": d.get("alerts"),
                   "stats": d.get("stats"), "recent": list(d.get("recent") or [])[::-1],
                   "gaps": list((self.gaps.get(name) or {}).get("list") or [])}
        out["recent"] = [json.loads(p) for p in out["recent"]]
        return out

    def set_gaps(self, view: dict[str, dict[str, Any]]) -> None:
        """The branches' gaps now ({branch: {"gaps", "missing", "lost", "list"}}); the rows that change are pushed."""
        with self.lock:
            old, self.gaps = self.gaps, view
            self.dirty.update(b for b in old.keys() | view.keys() if old.get(b) != view.get(b))

    def online(self, name: str) -> bool:
        """Whether the branch's retained status says it is online now."""
        with self.state.lock:
            b = self.state.branches.get(name)
            return b is not None and b.online is True

    def queue_snapshots(self) -> list[tuple[str, dict[str, Any], bool]]:
        """(branch, its last checked queue snapshot, online) of every branch that sent one."""
        with self.lock:
            snaps = [(name, d["queue"]) for name, d in self.detail.items() if d.get("queue") is not None]
        return [(name, q, self.online(name)) for name, q in snaps]

    def queue_snapshot(self, name: str) -> dict[str, Any] | None:
        """The branch's last checked queue snapshot (None before one came); never mutate it."""
        with self.lock:
            return (self.detail.get(name) or {}).get("queue")

    def known(self, name: str) -> bool:
        with self.state.lock:
            return name in self.state.branches

    def ingest_totals(self) -> dict[str, Any]:
        t = self.state.totals()
        if self.recorder is not None:
            t["recorded"] = self.recorder.inserted
            t["received"] = self.recorder.received
        t["connected"] = self.connected
        t["shared"] = self.shared
        return t

    def limits(self, name: str) -> hq_commands.Limits:
        """What the branch's last queue snapshot says it has (counters, services)."""
        with self.lock:
            q = (self.detail.get(name) or {}).get("queue") or {}
        counters = frozenset(c["counter"] for c in q.get("counters") or [] if isinstance(c, dict)
                             and isinstance(c.get("counter"), int))
        services = frozenset(str(s["service"]) for s in q.get("services") or [] if isinstance(s, dict)
                             and s.get("service"))
        return hq_commands.Limits(counters=counters, services=services)

    # -- HQ commands ----------------------------------------------------------------------------
    def validate(self, branch: str, name: str, args: dict[str, Any]) -> hq_commands.Command:
        """Check a command as the kiosk will (raises `hq_commands.CommandError`)."""
        payload = json.dumps({k: v for k, v in args.items() if k != "id"}, ensure_ascii=False)
        return hq_commands.validate(name, payload, self.limits(branch))

    def send(self, branch: str, name: str, args: dict[str, Any], cmd_id: str | None = None) -> tuple[str, Future]:
        """Publish a (validated) command; the Future gets the kiosk's reply (a dict)."""
        cmd_id = cmd_id or uuid.uuid4().hex
        fut: Future = Future()
        now = time.monotonic()
        with self.lock:
            for k in [k for k, (_, t, _) in self.pending.items() if now - t > PENDING_S]:
                del self.pending[k]  # late replies are still logged for this long
            self.pending[cmd_id] = (fut, now, branch)
        payload = json.dumps({**{k: v for k, v in args.items() if k != "id"}, "id": cmd_id}, ensure_ascii=False)
        info = self.client.publish(f"{self.prefix}/{branch}/cmd/{name}", payload, qos=1)
        if info.rc != 0:
            with self.lock:
                self.pending.pop(cmd_id, None)
            fut.set_exception(ConnectionError(f"not connected to the broker (rc {info.rc})"))
        return cmd_id, fut

    def forget(self, cmd_id: str) -> None:
        with self.lock:
            self.pending.pop(cmd_id, None)

    def _reply(self, branch: str, name: str, payload: bytes) -> None:
        try:
            doc = json.loads(payload)
        except ValueError:
            return
        if not isinstance(doc, dict) or not isinstance(doc.get("id"), str):
            return
        with self.lock:
            entry = self.pending.get(doc["id"])
            if entry is None or entry[2] != branch:
                return  # not ours (another HQ tool, or another branch echoing the id), or we stopped waiting
            del self.pending[doc["id"]]
        fut, _, _ = entry
        if self.on_reply is not None:
            try:
                self.on_reply(doc["id"], doc)
            except Exception:  # noqa: BLE001
                log.exception("logging a reply")
        if not fut.done():
            fut.set_result(doc)
