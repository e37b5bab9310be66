"""`OutboxDrain`: publish the outbox to ``{branch}/events``, in ``seq`` order, at least once.

The outbox is the source of truth. Events are published at QoS 1 with at most
``mqtt.max_inflight`` unacknowledged (never more than the broker's MQTT 5 Receive
Maximum); an event is marked delivered only when the broker's PUBACK arrives. Each
connection starts again from the first undelivered ``seq``, so nothing depends on paho's
in-memory queue, and a broker outage, a kiosk restart or a power cut loses nothing (an
event whose PUBACK was lost is sent again; HQ de-duplicates by ``id``).

HQ's ``resend`` marks delivered events undelivered again (on the core thread, in the
database): the drain looks for an undelivered event behind its position at most every
``REWIND_CHECK_S`` and goes back to it, so nothing but the database is shared between the threads.

Runs on the telemetry thread, on that thread's own `Store`; only `nudge()` is called from
the core thread.
"""
from __future__ import annotations

import logging

from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.reasoncodes import ReasonCode

from kiosk.mqtt.connection import BrokerLink
from kiosk.mqtt.topics import dumps, iso_ts
from kiosk.storage.store import OutboxEvent, Store

log = logging.getLogger(__name__)

KEPT_AT_BRANCH = ("follow",)
"""Event fields never published: a ticket's raw follow token opens its page on HQ; HQ learns only
its key, from the follow message (`kiosk.engine.remote_tickets`)."""


def published(ev: OutboxEvent) -> dict:
    """The event as it goes to HQ: `as_message()` without the fields kept at the branch."""
    msg = ev.as_message()
    for k in KEPT_AT_BRANCH:
        msg.pop(k, None)
    return msg

POLL_OUTBOX_S = 1.0
BACKLOG_REFRESH_S = 2.0
REWIND_CHECK_S = 0.5


class OutboxDrain:
    """Publishes undelivered events and marks them delivered; counts the backlog."""

    def __init__(self, link: BrokerLink, topic: str, max_inflight: int) -> None:
        self.link = link
        self.topic = topic
        self.max_inflight = max_inflight
        self.backlog: int | None = None  # undelivered events, for the admin screen
        self.inflight: dict[int, int] = {}  # mid → seq, published and not yet acknowledged
        self.refusals = 0  # consecutive events the broker refused (or dropped us for)
        self.lost = False  # the broker refused an event: reconnect and retry from the first undelivered
        self.lost_reason: str | None = None
        self.published = 0
        self.delivered = 0
        self._pending = True  # there may be events to publish (set from the core thread too)
        self._acked: list[int] = []
        self._acked_since_connect = False
        self._sent_seq = 0
        self._cap = max_inflight
        self._last_poll = 0.0
        self._last_backlog = 0.0
        self._last_rewind_check = 0.0
        self.rewinds = 0  # times the drain went back for events marked undelivered again (resend)

    def nudge(self) -> None:
        """An event was committed (core thread): look at the outbox soon."""
        self._pending = True

    def count_backlog(self, store: Store, now: float) -> None:
        """Count the undelivered events again (every BACKLOG_REFRESH_S)."""
        if now - self._last_backlog >= BACKLOG_REFRESH_S:
            self._last_backlog = now
            self.backlog = store.undelivered_count()

    # -- a connection -------------------------------------------------------------------------------
    def restart(self) -> None:
        """A new connection: start again from the first undelivered event."""
        self.inflight.clear()
        self._acked.clear()
        self._acked_since_connect = False
        self._sent_seq = 0
        self._cap = self.max_inflight
        rm = self.link.receive_maximum
        if rm is not None:
            self._cap = min(self._cap, rm)
        self.lost = False
        self.lost_reason = None
        self._pending = True

    def connection_lost(self, err: str | None) -> str | None:
        """Forget what is in flight; the error to report (explained when the broker dropped us
        before acknowledging anything: mosquitto drops an MQTT 5 client whose publish its ACL denies)."""
        if self.inflight and not self._acked_since_connect:
            seq = min(self.inflight.values())
            self.refusals += 1
            err = (f"{err or 'connection lost'} while publishing event {seq}, before any acknowledgement "
                   f"(does the broker's ACL allow {self.topic}?)")
        self.inflight.clear()
        return err

    def on_puback(self, mid: int, reason_code: ReasonCode) -> bool:
        """A PUBACK (telemetry thread, inside the client's loop); False if `mid` is not an event."""
        seq = self.inflight.pop(mid, None)
        if seq is None:
            return False
        if getattr(reason_code, "is_failure", False):
            log.error("the broker refused event seq %d: %s (check its ACL)", seq, reason_code)
            self.lost_reason = f"the broker refused event {seq}: {reason_code} (check its ACL)"
            self.refusals += 1
            self.lost = True
            return True
        self.refusals = 0
        self._acked_since_connect = True
        self._acked.append(seq)
        return True

    # -- each step ----------------------------------------------------------------------------------
    def flush_acks(self, store: Store) -> None:
        """Mark the acknowledged events delivered."""
        if not self._acked:
            return
        seqs, self._acked = self._acked, []
        store.mark_delivered(seqs, iso_ts())
        self.delivered += len(seqs)
        self._pending = True  # room in the window: look for more
        if self.backlog is not None:
            self.backlog = max(0, self.backlog - len(seqs))

    def drain(self, store: Store, now: float) -> None:
        """Publish the next undelivered events, as many as the in-flight window has room for."""
        room = self._cap - len(self.inflight)
        if room <= 0:
            return
        if not self._pending and now - self._last_poll < POLL_OUTBOX_S:
            return
        self._pending = False
        self._last_poll = now
        flying = set(self.inflight.values())
        if now - self._last_rewind_check >= REWIND_CHECK_S:
            self._last_rewind_check = now
            self._rewind(store, flying)
        events = store.events_after(self._sent_seq, limit=room, undelivered_only=True)
        if not events:
            if not self.inflight:
                self.backlog = store.undelivered_count()
            return
        for ev in events:
            if ev.seq in flying:  # after a rewind: already published, its PUBACK is on the way
                self._sent_seq = ev.seq
                continue
            info = self.link.publish(self.topic, dumps(published(ev)))
            if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                self.lost = True
                return
            self.inflight[info.mid] = ev.seq
            self._sent_seq = ev.seq
            self.published += 1
        if len(events) == room:
            self._pending = True

    def _rewind(self, store: Store, flying: set[int]) -> None:
        """Go back to the first undelivered event behind the position that is not in flight."""
        if not self._sent_seq:
            return
        for seq in store.undelivered_upto(self._sent_seq, len(flying) + 1):
            if seq not in flying:
                log.info("going back to event %d to publish it again (resend)", seq)
                self._sent_seq = seq - 1
                self.rewinds += 1
                return
