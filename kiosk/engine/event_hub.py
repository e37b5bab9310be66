"""The event hub: committed domain events, in `seq` order, to every in-process listener.

Events committed by this process arrive right after their commit; events committed by
another process on the same database (the CLI next to a running kiosk) are picked up by
`poll()`, which the core loop runs periodically. Each event reaches each listener once.
Listeners run on the core thread and must not block: devices, the UI and MQTT hand the
event to their own worker or to Kivy's Clock.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from kiosk.storage.store import OutboxEvent, Store

log = logging.getLogger(__name__)

Listener = Callable[[dict[str, Any]], None]


class EventHub:
    def __init__(self, store: Store, start_after: int | None = None) -> None:
        self._store = store
        self._listeners: list[Listener] = []
        self.last_seq = store.last_seq() if start_after is None else start_after

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """`listener(event_message)` for every new event; returns an unsubscribe function."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def publish(self, events: list[OutboxEvent]) -> None:
        """Called by the engine after each local commit."""
        for ev in events:
            if ev.seq <= self.last_seq:
                continue
            if ev.seq > self.last_seq + 1:
                self.poll(upto=ev.seq - 1)  # another process committed in between
            self._deliver(ev)

    def poll(self, upto: int | None = None) -> int:
        """Deliver events committed by other processes. Returns how many were delivered."""
        n = 0
        while True:
            batch = self._store.events_after(self.last_seq, 500)
            batch = [e for e in batch if upto is None or e.seq <= upto]
            if not batch:
                return n
            for ev in batch:
                self._deliver(ev)
                n += 1

    def _deliver(self, ev: OutboxEvent) -> None:
        self.last_seq = ev.seq
        msg = {k: v for k, v in ev.as_message().items() if k != "t"}
        for listener in list(self._listeners):
            try:
                listener(msg)
            except Exception:  # noqa: BLE001 — one broken listener must not starve the others
                log.exception("event listener %r failed on %s", listener, ev.type)
