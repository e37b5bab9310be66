"""The notifier: the alert requests of the tickets phones follow, in memory only, and the
notices their views set off.

`attach(index)` subscribes to the follow index; the index's callback (on the MQTT thread) only
queues the view of a watched ticket. One decision thread applies the rule
(`kiosk.hq.phone.notify.decide`) and hands each notice to a few delivery threads (Web Push,
the webhook), so a slow push service or gateway never holds up MQTT or another ticket.
A ticket's requests — its phone numbers and subscriptions with them — are dropped when its
view goes (expired, or the index drops it), and by a sweep every minute for those the index
no longer shows (the day ended). Nothing is written to a database; logs name a masked phone
and a push service's host at most.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, replace
from typing import Any

from kiosk.hq.phone.notify.decide import CALLED, Fired, carried, due
from kiosk.hq.phone.notify.messages import push_payload, webhook_doc
from kiosk.hq.phone.notify.options import (NotifyConfigError, check_subject, check_webhook_url, load_vapid,
                                           public_key_b64)
from kiosk.hq.phone.notify.request import AlertRefused, AlertRequest, PushSubscription
from kiosk.hq.phone.notify.senders import PushResult, PushSender, WebhookSender

log = logging.getLogger(__name__)

MAX_PER_TICKET = 3
MAX_TICKETS_PER_PHONE = 2  # a phone number is told about at most this many tickets at once (no SMS flood)
SWEEP_S = 60.0
DELIVERY_THREADS = 2


class TooManyAlerts(AlertRefused):
    """A ticket already has its most alert requests."""


@dataclass
class _Watch:
    token: str
    req: AlertRequest
    fired: Fired


@dataclass(frozen=True)
class _Notice:
    key: str
    token: str
    req: AlertRequest
    event: str
    view: dict[str, Any]


def _same_channel(a: AlertRequest, b: AlertRequest) -> bool:
    return ((a.push is not None and b.push is not None and a.push.endpoint == b.push.endpoint)
            or (a.phone is not None and a.phone == b.phone))


class Notifier:
    """Alert requests by ticket key, and the threads that decide and deliver their notices."""

    def __init__(self, push: PushSender | None = None, webhook: WebhookSender | None = None,
                 push_key: str | None = None, allow_insecure_push: bool = False, sweep_s: float = SWEEP_S) -> None:
        self.push = push
        self.webhook = webhook
        self.push_key = push_key
        self.allow_insecure_push = allow_insecure_push
        self.sweep_s = sweep_s
        self._lock = threading.Lock()
        self._watches: dict[str, list[_Watch]] = {}
        self._views: queue.Queue[tuple[str, dict[str, Any] | None] | None] = queue.Queue()
        self._notices: queue.Queue[_Notice | None] = queue.Queue()
        self._busy = 0
        self._idle = threading.Condition()
        self._index: Any = None
        self._unsubscribe: Any = None
        self._threads: list[threading.Thread] = []

    @classmethod
    def from_options(cls, vapid_key_file: str | None, vapid_subject: str | None, webhook_url: str | None,
                     allow_insecure_push: bool = False) -> Notifier:
        """The notifier `kiosk hq serve` builds from --vapid-key, --vapid-subject, --notify-webhook;
        `NotifyConfigError` names a bad option."""
        push = key = None
        if vapid_key_file or vapid_subject:
            if not (vapid_key_file and vapid_subject):
                raise NotifyConfigError("--vapid-key and --vapid-subject go together")
            vapid = load_vapid(vapid_key_file)
            push = PushSender(vapid, check_subject(vapid_subject), allow_insecure_push)
            key = public_key_b64(vapid)
        webhook = WebhookSender(check_webhook_url(webhook_url)) if webhook_url else None
        return cls(push, webhook, key, allow_insecure_push)

    # -- life ------------------------------------------------------------------------------
    def attach(self, index: Any) -> None:
        """Follow `index` (a `FollowIndex`) and start the decision and delivery threads."""
        if self._index is not None:
            raise RuntimeError("the notifier is already attached")
        self._index = index
        self._threads = [threading.Thread(target=self._decide_loop, name="notify-decide", daemon=True)]
        self._threads += [threading.Thread(target=self._deliver_loop, name=f"notify-deliver-{i}", daemon=True)
                          for i in range(DELIVERY_THREADS)]
        for t in self._threads:
            t.start()
        self._unsubscribe = index.subscribe(self._on_view)

    def close(self, timeout: float = 5.0) -> None:
        """Stop following the index, finish what is queued (up to `timeout`), forget every request."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._threads:
            self._views.put(None)
            self._threads[0].join(timeout)
            for _ in self._threads[1:]:
                self._notices.put(None)
            for t in self._threads[1:]:
                t.join(timeout)
            self._threads = []
        with self._lock:
            self._watches.clear()

    # -- requests --------------------------------------------------------------------------
    def register(self, token: str, key: str, req: AlertRequest, view: dict[str, Any]) -> None:
        """Keep `req` for the ticket `key` (whose current view is `view`); it replaces a request
        of the same channel (push endpoint or phone). `AlertRefused` / `TooManyAlerts` say why not."""
        if req.push is not None and self.push is None:
            raise AlertRefused("push notifications are not configured on this server")
        if req.phone is not None and self.webhook is None:
            raise AlertRefused("text messages are not configured on this server")
        with self._lock:
            watches = self._watches.get(key, [])
            fired = Fired()
            keep = []
            for w in watches:
                if _same_channel(w.req, req):
                    fired = carried(w.req, w.fired, req)
                else:
                    keep.append(w)
            if len(keep) >= MAX_PER_TICKET:
                raise TooManyAlerts(f"a ticket has at most {MAX_PER_TICKET} alert requests")
            if req.phone is not None:
                others = sum(1 for k, ws in self._watches.items()
                             if k != key and any(w.req.phone == req.phone for w in ws))
                if others >= MAX_TICKETS_PER_PHONE:
                    raise TooManyAlerts(f"this phone number already gets notices for {others} other tickets "
                                        f"(at most {MAX_TICKETS_PER_PHONE})")
            keep.append(_Watch(token, req, fired))
            self._watches[key] = keep
        self._queue_view(key, view)

    def pending(self, key: str) -> int:
        """How many alert requests the ticket `key` has."""
        with self._lock:
            return len(self._watches.get(key, ()))

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued view is decided and every notice delivered; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout)

    # -- the index's callback (MQTT thread): only queue ------------------------------------
    def _on_view(self, key: str, view: dict[str, Any] | None) -> None:
        if key in self._watches:   # a dict lookup, atomic: no lock taken on the MQTT thread
            self._queue_view(key, view)

    def _queue_view(self, key: str, view: dict[str, Any] | None) -> None:
        self._add_busy(1)
        self._views.put((key, view))

    def _add_busy(self, n: int) -> None:
        with self._idle:
            self._busy += n
            if self._busy == 0:
                self._idle.notify_all()

    # -- decision thread -------------------------------------------------------------------
    def _decide_loop(self) -> None:
        next_sweep = time.monotonic() + self.sweep_s
        while True:
            if time.monotonic() >= next_sweep:
                self._sweep()
                next_sweep = time.monotonic() + self.sweep_s
            try:
                item = self._views.get(timeout=max(0.0, next_sweep - time.monotonic()))
            except queue.Empty:
                continue
            if item is None:
                return
            try:
                self._decide(*item)
            except Exception:  # noqa: BLE001 — one bad view must not stop the notices of others
                log.exception("deciding a ticket's notices failed")
            finally:
                self._add_busy(-1)

    def _decide(self, key: str, view: dict[str, Any] | None) -> None:
        if view is None:
            self._forget(key, "its ticket is gone")
            return
        notices = []
        with self._lock:
            for w in self._watches.get(key, ()):
                w.fired, events = due(w.req, w.fired, view)
                notices += [_Notice(key, w.token, w.req, e, view) for e in events]
        for n in notices:
            self._add_busy(1)
            self._notices.put(n)

    def _sweep(self) -> None:
        """Forget the requests of tickets the index no longer shows (expired, or the day ended)."""
        with self._lock:
            keys = list(self._watches)
        for key in keys:
            if self._index.view(key) is None:
                self._forget(key, "its ticket is no longer shown")

    def _forget(self, key: str, why: str) -> None:
        with self._lock:
            n = len(self._watches.pop(key, ()))
        if n:
            log.info("dropped %d alert request(s): %s", n, why)

    # -- delivery threads ------------------------------------------------------------------
    def _deliver_loop(self) -> None:
        while True:
            n = self._notices.get()
            if n is None:
                return
            try:
                self._deliver(n)
            except Exception:  # noqa: BLE001 — one failed notice must not stop the others
                log.exception("delivering a notice failed")
            finally:
                self._add_busy(-1)

    def _deliver(self, n: _Notice) -> None:
        if n.req.push is not None and self.push is not None:
            urgency = "high" if n.event == CALLED else "normal"
            result = self.push.send(n.req.push, push_payload(n.event, n.view, f"/t/{n.token}"), urgency)
            if result is PushResult.GONE:
                self._drop_push(n.key, n.req.push)
        if n.req.phone is not None and self.webhook is not None:
            self.webhook.send(webhook_doc(n.event, n.view, n.req.phone))

    def _drop_push(self, key: str, sub: PushSubscription) -> None:
        with self._lock:
            kept = []
            for w in self._watches.get(key, ()):
                if w.req.push is not None and w.req.push.endpoint == sub.endpoint:
                    if w.req.phone is None:
                        continue
                    w.req = replace(w.req, push=None)
                kept.append(w)
            if kept:
                self._watches[key] = kept
            else:
                self._watches.pop(key, None)


__all__ = ["MAX_PER_TICKET", "MAX_TICKETS_PER_PHONE", "Notifier", "NotifyConfigError", "TooManyAlerts"]
