"""The tickets phones follow, in memory, by key (`key_of(token)`: the first 32 hex digits of
the token's SHA-256; branches publish keys only, never tokens).

`FollowIndex.update(branch, doc)` takes a checked follow message (`kiosk.hq.ingest.follow`)
and replaces that branch's tickets whole: a ticket no longer listed is gone (its page 404s).
It runs on the MQTT thread; `view`, `branch_of` run on the web's event loop: one lock guards
the maps, and the subscribers are called after it is released, once for each key whose view
changed (the new view, or None when the ticket is gone). A key already held by one branch is
not taken over by another (a branch cannot hijack another's ticket page). A branch's message
of a business day before yesterday (its own UTC offset; a business day may run past midnight
until the rollover) holds only expired tickets.
"""
from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from kiosk.hq.phone.views import calls_view, ticket_view

log = logging.getLogger(__name__)

Subscriber = Callable[[str, "dict[str, Any] | None"], None]


def key_of(token: str) -> str:
    """The key a branch publishes for the follow token `token`."""
    return hashlib.sha256(token.encode()).hexdigest()[:32]


def _yesterday_like(ts: Any) -> str:
    """Yesterday, in the UTC offset of the ISO time `ts` (the server's own when it has none): a
    branch's business day starts at its rollover time (04:00 by default), so between midnight and
    then its day is still yesterday's date."""
    try:
        tz = datetime.fromisoformat(ts.replace("Z", "+00:00")).tzinfo if isinstance(ts, str) else None
    except ValueError:
        tz = None
    now = datetime.now(tz) if tz is not None else datetime.now().astimezone()
    return (now.date() - timedelta(days=1)).isoformat()


class FollowIndex:
    """Followed tickets of every branch by key; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._views: dict[str, dict[str, Any]] = {}          # key -> view
        self._owner: dict[str, str] = {}                     # key -> branch
        self._keys: dict[str, frozenset[str]] = {}           # branch -> its keys
        self._day: dict[str, tuple[str, Any]] = {}           # branch -> (day, ts) of its last message
        self._subscribers: list[Subscriber] = []

    key_of = staticmethod(key_of)

    def update(self, branch: str, doc: dict[str, Any]) -> None:
        """A checked follow message of `branch` replaces its tickets whole."""
        calls = calls_view(doc)
        updated = doc.get("ts")
        changed: list[tuple[str, dict[str, Any] | None]] = []
        with self._lock:
            old = self._keys.get(branch, frozenset())
            mine: set[str] = set()
            for t in doc.get("tickets") or []:
                key = t["key"]
                owner = self._owner.get(key)
                if owner is not None and owner != branch:
                    log.warning("branch %s published a key of branch %s: ignored", branch, owner)
                    continue
                view = ticket_view(branch, t, calls, updated)
                mine.add(key)
                before = self._views.get(key)
                self._views[key] = view
                self._owner[key] = branch
                if before is None or _differs(before, view):
                    changed.append((key, view))
            for key in old - mine:
                self._views.pop(key, None)
                self._owner.pop(key, None)
                changed.append((key, None))
            self._keys[branch] = frozenset(mine)
            self._day[branch] = (doc.get("day"), updated)
            subscribers = list(self._subscribers)
        self._notify(subscribers, changed)

    def forget(self, branch: str) -> None:
        """The branch's tickets are gone (its retained message was cleared)."""
        with self._lock:
            keys = self._keys.pop(branch, frozenset())
            self._day.pop(branch, None)
            for key in keys:
                self._views.pop(key, None)
                self._owner.pop(key, None)
            subscribers = list(self._subscribers)
        self._notify(subscribers, [(k, None) for k in keys])

    def view(self, key: str) -> dict[str, Any] | None:
        """The public view of the ticket with `key`; None when unknown or expired."""
        with self._lock:
            v = self._views.get(key)
            if v is None:
                return None
            day, ts = self._day.get(v["branch"], (None, None))
        if day is not None and day < _yesterday_like(ts):
            return None
        return v

    def branch_of(self, key: str) -> str | None:
        with self._lock:
            return self._owner.get(key)

    def __len__(self) -> int:
        with self._lock:
            return len(self._views)

    def subscribe(self, fn: Subscriber) -> Callable[[], None]:
        """Call `fn(key, view or None)` (on the MQTT thread) for each ticket whose view changes;
        returns the function that unsubscribes it."""
        with self._lock:
            self._subscribers.append(fn)

        def unsubscribe() -> None:
            with self._lock:
                if fn in self._subscribers:
                    self._subscribers.remove(fn)
        return unsubscribe

    @staticmethod
    def _notify(subscribers: list[Subscriber], changed: list[tuple[str, dict[str, Any] | None]]) -> None:
        for fn in subscribers:
            for key, view in changed:
                try:
                    fn(key, view)
                except Exception:  # noqa: BLE001 — one bad subscriber must not stop the others
                    log.exception("a follow subscriber failed")


def _differs(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two views differ in what a phone shows (``updated`` alone is no change)."""
    return any(a.get(k) != b.get(k) for k in b if k != "updated")


__all__ = ["FollowIndex", "key_of"]
