"""A fake branch for the phone tests: publishes its retained status, queue snapshot (with the
``phone`` block) and follow message (docs: /tmp design of issue 16, kiosk side) to a real
mosquitto, and answers HQ's ``issue_remote`` commands on ``{prefix}/{branch}/reply/issue_remote``
as a kiosk does (`kiosk.mqtt.protocol.reply_ok` / `reply_error`). Fault switches: `refuse`
(an error code the branch answers with), `silent` (it does not answer). With `appointments` and
`forms` its snapshot's ``phone`` block carries those blocks (design of issue 16, second part),
its clock is `tz`, and it keeps what HQ retains for it on ``{prefix}/{branch}/hq/+`` in `hq_data`. The lead's end-to-end
test uses a real kiosk instead."""
from __future__ import annotations

import hashlib
import json
import secrets
import threading
from datetime import datetime, timedelta, tzinfo
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from kiosk.mqtt import protocol
from kiosk.sim.waiting import wait_until


def key_of(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:32]


def now_iso(tz: tzinfo | None = None) -> str:
    return (datetime.now(tz) if tz is not None else datetime.now().astimezone()).isoformat(timespec="seconds")


APPOINTMENTS = {"services": ["A"], "slot_min": 30, "capacity": 2, "hours": ["00:00-12:00", "12:00-24:00"],
                "days_ahead": 7, "early_min": 15, "late_min": 10}
FORMS = {"A": [{"id": "purpose", "label": {"zh": "业务", "en": "Purpose"}, "type": "choice", "required": True,
                "choices": [{"id": "open", "name": {"zh": "开户", "en": "Open"}},
                            {"id": "close", "name": {"zh": "销户", "en": "Close"}}], "max_length": 200},
               {"id": "note", "label": {"zh": "备注", "en": "Note"}, "type": "text", "required": False,
                "choices": [], "max_length": 20},
               {"id": "elderly", "label": {"zh": "老人", "en": "Elderly"}, "type": "yesno", "required": False,
                "choices": [], "max_length": 200}]}
"""A service's form as a kiosk sends it (`FormField.model_dump`, kiosk/engine/readmodel.py)."""


class PhoneBranch:
    """Branch `branch` on the broker at 127.0.0.1:`port`, with services `services` (all remote)."""

    def __init__(self, port: int, branch: str, *, prefix: str = "kiosk", services: tuple[str, ...] = ("A", "B"),
                 remote: bool = True, appointments: dict[str, Any] | None = None,
                 forms: dict[str, Any] | None = None, tz: tzinfo | None = None) -> None:
        self.branch = branch
        self.appointments = appointments
        self.forms = forms
        self.tz = tz
        self.hq_data: dict[str, Any] = {}   # name -> the latest payload HQ retained for this branch (decoded)
        self.prefix = prefix
        self.services = services
        self.remote = remote
        self.tickets: dict[str, dict[str, Any]] = {}   # key -> ticket entry
        self.calls: list[dict[str, Any]] = []
        self.commands: list[dict[str, Any]] = []
        self.refuse: str | None = None
        self.silent = False
        self.lock = threading.Lock()
        self._numbers = {s: 0 for s in services}
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.will_set(self.topic("status"), json.dumps({"v": 1, "state": "offline", "branch": branch}),
                             qos=1, retain=True)
        self.subscribed = threading.Event()
        self.client.on_connect = lambda c, *a: c.subscribe([(self.topic("cmd/issue_remote"), 1),
                                                            (self.topic("hq/+"), 1)])
        self.client.on_subscribe = lambda *a: self.subscribed.set()
        self.client.on_message = self._on_command
        self.client.connect("127.0.0.1", port, 30)
        self.client.loop_start()
        wait_until(self.subscribed.is_set, 30, what="the fake branch's subscription")

    def topic(self, kind: str) -> str:
        return f"{self.prefix}/{self.branch}/{kind}"

    def _publish(self, kind: str, doc: dict[str, Any] | bytes, wait: bool = True) -> None:
        """Publish retained; `wait` for the broker's ack (never on paho's own thread: it would hang)."""
        payload = doc if isinstance(doc, bytes) else json.dumps(doc, ensure_ascii=False).encode()
        info = self.client.publish(self.topic(kind), payload, qos=1, retain=True)
        if wait:
            info.wait_for_publish(10)

    # -- retained state ---------------------------------------------------------------------------
    def status(self, online: bool = True) -> None:
        self._publish("status", {"v": 1, "ts": now_iso(), "branch": self.branch,
                                 "state": "online" if online else "offline", "since": now_iso()})

    def queue(self, waiting: int = 2) -> None:
        services = [{"service": s, "name": {"zh": f"业务{s}", "en": f"Service {s}"}, "waiting": waiting,
                     "estimate_s": 120.0 * waiting, "target_wait_s": 600} for s in self.services]
        phone = {"remote": self.remote, "services": list(self.services), "name": {"zh": "浦东支行", "en": "Pudong"},
                 "address": {"zh": "浦东大道1号", "en": "1 Pudong Ave"}, "lat": 31.23, "lon": 121.5, "check_in_min": 60}
        if self.appointments is not None:
            phone["appointments"] = self.appointments
        if self.forms is not None:
            phone["forms"] = self.forms
        self._publish("queue", {"v": 1, "ts": now_iso(self.tz), "branch": self.branch,
                                "day": datetime.fromisoformat(now_iso(self.tz)).date().isoformat(),
                                "waiting": waiting * len(self.services), "open_counters": 1, "services": services,
                                "counters": [{"counter": 3, "name": {"zh": "3号窗口", "en": "Counter 3"},
                                              "state": "open", "ticket": "A001", "services": list(self.services)}],
                                "phone": phone})

    def online(self) -> PhoneBranch:
        self.status(True)
        self.queue()
        self.follow()
        return self

    def follow_doc(self) -> dict[str, Any]:
        with self.lock:
            return {"v": 1, "ts": now_iso(), "branch": self.branch,
                    "day": datetime.now().astimezone().date().isoformat(),
                    "tickets": list(self.tickets.values()), "calls": list(self.calls)}

    def follow(self, raw: bytes | None = None, *, wait: bool = True) -> None:
        """Publish the follow message (or `raw` bytes on its topic)."""
        self._publish("follow", raw if raw is not None else self.follow_doc(), wait)

    # -- tickets ------------------------------------------------------------------------------------
    def add_ticket(self, service: str = "A", state: str = "waiting", ahead: int | None = 2,
                   token: str | None = None) -> tuple[str, str]:
        """A new ticket (not yet published): (its token, its number)."""
        token = token or secrets.token_urlsafe(16)
        with self.lock:
            self._numbers[service] += 1
            number = f"{service}{self._numbers[service]:03d}"
            self.tickets[key_of(token)] = {
                "key": key_of(token), "ticket": number, "service": service, "state": state,
                "ahead": ahead, "estimate_s": None if ahead is None else 150.0 * ahead, "counter": None,
                "since": now_iso()}
        return token, number

    def call(self, token: str, counter: int = 3) -> None:
        """Call the ticket to `counter` (not yet published)."""
        with self.lock:
            t = self.tickets[key_of(token)]
            t.update(state="called", ahead=None, estimate_s=None, counter=counter)
            self.calls.insert(0, {"ticket": t["ticket"], "counter": counter, "ts": now_iso()})
            del self.calls[5:]

    def drop(self, token: str) -> None:
        with self.lock:
            self.tickets.pop(key_of(token), None)

    # -- commands ---------------------------------------------------------------------------------------
    def _on_command(self, client, userdata, msg) -> None:  # noqa: ANN001
        if "/hq/" in msg.topic:
            with self.lock:
                self.hq_data[msg.topic.rsplit("/", 1)[1]] = json.loads(msg.payload) if msg.payload else None
            return
        if msg.retain:
            return
        doc = json.loads(msg.payload)
        with self.lock:
            self.commands.append(doc)
        if self.silent:
            return
        cmd_id, service = doc.get("id"), doc.get("service")
        if self.refuse is not None:
            reply = protocol.reply_error("issue_remote", cmd_id, self.refuse, f"the branch refuses ({self.refuse})")
        elif service not in self.services:
            reply = protocol.reply_error("issue_remote", cmd_id, "remote_off", f"no remote tickets for {service!r}")
        else:
            token, number = self.add_ticket(service, "parked", ahead=1)
            self.follow(wait=False)   # as a kiosk: the follow message, then the reply
            by = (datetime.now().astimezone() + timedelta(minutes=60)).isoformat(timespec="seconds")
            reply = protocol.reply_ok("issue_remote", cmd_id, {
                "ticket": number, "ticket_id": len(self.tickets), "service": service, "follow_token": token,
                "check_in_code": f"{secrets.randbelow(10 ** 6):06d}", "ahead": 1, "estimate_s": 150.0,
                "check_in_by": by}, now_iso())
        client.publish(self.topic("reply/issue_remote"), protocol.encode(reply), qos=1)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
