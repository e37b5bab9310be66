"""Hands each branch its bookings: the retained ``{prefix}/{branch}/hq/appointments`` message
(QoS 1) through the web's MQTT state client (`kiosk.hq.web.live.Live.client`):

``{"v": 1, "ts": ISO, "days": {"2026-12-06": [{"code", "service", "slot", "form"?}], …}}`` — the
branch's bookings of its today and tomorrow (its own dates, from its snapshot's UTC offset;
a day without a booking is left out, none at all is ``{"days": {}}``).

`changed(branch)` after every booking and cancellation (any thread): the message at once, and
again `AGAIN_S` later — several HQ nodes share the database, and a node that read it just
before another's booking committed may have published last; the second message, read when
every commit is in, settles it. A thread of its own publishes every branch that takes
appointments or has bookings once HQ's state client is subscribed (the branches' retained
snapshots have come by then) and every `PERIOD_S`, and first NULLs the forms of bookings
whose day is over (`appointments_store.purge_forms`). Every message is checked first with the
kiosk's own `kiosk.mqtt.hq_data.check_appointments`: one it would refuse is not sent (logged).
"""
from __future__ import annotations

import json
import logging
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from kiosk.hq.db import Db
from kiosk.hq.phone import appointments_store as store
from kiosk.hq.phone.appointments_config import branch_tz, rules_of
from kiosk.hq.web.live import Live
from kiosk.mqtt.hq_data import HqDataError, check_appointments

log = logging.getLogger(__name__)

KIND = "hq/appointments"
PERIOD_S = 600.0
SETTLE_S = 1.0      # after the state client's subscription: the retained snapshots arrive meanwhile
READY_WAIT_S = 0.5
AGAIN_S = 2.0
TICK_S = 0.5


def message(days: dict[str, list[dict[str, Any]]], now: datetime) -> dict[str, Any]:
    return {"v": 1, "ts": now.isoformat(timespec="seconds"), "days": days}


class AppointmentsPublisher:
    """Publishes the branches' bookings from HQ's database `db` over `live`'s state client."""

    def __init__(self, live: Live, db: Db, *, period_s: float = PERIOD_S) -> None:
        self.live = live
        self.db = db
        self.period_s = period_s
        self._lock = threading.Lock()   # one publisher at a time: a branch's messages leave in order
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._again: dict[str, float] = {}   # branch -> when to publish it again (monotonic)
        self._again_lock = threading.Lock()
        self.published = 0

    def topic(self, branch: str) -> str:
        return f"{self.live.prefix}/{branch}/{KIND}"

    def _now(self, branch: str) -> datetime:
        snapshot = self.live.queue_snapshot(branch)
        return datetime.now(branch_tz(snapshot) if snapshot is not None else timezone.utc)

    def publish(self, branch: str) -> None:
        """Publish the branch's bookings of its today and tomorrow now (retained, QoS 1)."""
        with self._lock:
            now = self._now(branch)
            days = [now.date().isoformat(), (now.date() + timedelta(days=1)).isoformat()]
            with self.db.connection() as conn:
                doc = message(store.bookings(conn, branch, days), now)
            payload = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
            try:
                check_appointments(payload)   # what the kiosk will check: never send what it refuses
            except HqDataError as exc:
                log.error("the bookings of %s are not sent: the kiosk would refuse them (%s)", branch, exc)
                return
            info = self.live.client.publish(self.topic(branch), payload, qos=1, retain=True)
            if info.rc != 0:
                log.warning("publishing the bookings of %s: not connected (rc %s); the next round sends them",
                            branch, info.rc)
            self.published += 1

    def changed(self, branch: str) -> None:
        """A booking of `branch` was made or cancelled: publish now, and again in `AGAIN_S`."""
        with self._again_lock:
            self._again[branch] = time.monotonic() + AGAIN_S
        self.publish(branch)

    def _due(self) -> list[str]:
        now = time.monotonic()
        with self._again_lock:
            due = [b for b, t in self._again.items() if t <= now]
            for b in due:
                del self._again[b]
        return due

    def branches(self) -> set[str]:
        """Every branch that takes appointments now or has a booking from yesterday (UTC) on."""
        names = {name for name, q, _ in self.live.queue_snapshots() if rules_of(q) is not None}
        since = (datetime.now(timezone.utc).date() - timedelta(days=1)).isoformat()
        with self.db.connection() as conn:
            return names | store.branches_from(conn, since)

    def purge(self) -> int:
        """NULL the forms of the bookings whose day is over (on each branch's clock)."""
        before = {name: datetime.now(branch_tz(q)).date().isoformat() for name, q, _ in self.live.queue_snapshots()}
        # on no clock on earth is a day still running once UTC is two days past it
        default = (datetime.now(timezone.utc).date() - timedelta(days=1)).isoformat()
        with self.db.connection() as conn:
            return store.purge_forms(conn, before, default)

    def round(self) -> None:
        """One periodic round: purge the forms of past days, then publish every branch."""
        self.purge()
        for branch in sorted(self.branches()):
            self.publish(branch)

    # -- the thread -----------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="hq-appointments", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def _run(self) -> None:
        while not self.live.ready():
            if self._stop.wait(READY_WAIT_S):
                return
        if self._stop.wait(SETTLE_S):
            return
        next_round = time.monotonic()
        while not self._stop.is_set():
            try:
                if time.monotonic() >= next_round:
                    next_round = time.monotonic() + self.period_s
                    self.round()
                for branch in self._due():
                    self.publish(branch)
            except Exception:  # noqa: BLE001 — the database may be away for a while: the next round retries
                log.exception("publishing the branches' bookings")
            self._stop.wait(TICK_S)


__all__ = ["KIND", "PERIOD_S", "AppointmentsPublisher", "message"]
