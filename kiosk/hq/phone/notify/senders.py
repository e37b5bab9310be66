"""The two ways out: Web Push (pywebpush, signed with the operator's VAPID key) and the
operator's webhook (their SMS / WeChat gateway), both blocking calls for the notifier's
delivery threads.

A push endpoint comes from a browser, so from anyone: it is posted to only when its host
resolves to public addresses (the loopback only when insecure push is allowed, for tests),
redirects are not followed, and nothing of its path (a capability) is logged.
"""
from __future__ import annotations

import enum
import ipaddress
import logging
import socket
import time
from typing import Any
from urllib.parse import urlsplit

import requests
from py_vapid import Vapid
from pywebpush import WebPushException, webpush

from kiosk.hq.phone.notify.request import PushSubscription, mask_phone

log = logging.getLogger(__name__)

PUSH_TTL_S = 900
PUSH_TIMEOUT_S = 10.0
WEBHOOK_TIMEOUT_S = 5.0
WEBHOOK_RETRY_AFTER_S = 1.0


class PushResult(enum.Enum):
    SENT = "sent"
    GONE = "gone"        # the push service says the subscription no longer exists (404/410)
    FAILED = "failed"


def _public_host(host: str, port: int, allow_loopback: bool) -> bool | None:
    """Whether every address `host` resolves to is a public one (or the loopback, if allowed);
    None when it does not resolve now."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return None
    for info in infos:
        addr = ipaddress.ip_address(info[4][0].split("%")[0])
        if not (addr.is_global or (allow_loopback and addr.is_loopback)):
            return False
    return bool(infos) or None


class PushSender:
    """Sends encrypted (aes128gcm) Web Push messages signed with a VAPID key."""

    def __init__(self, vapid: Vapid, subject: str, allow_insecure_push: bool = False) -> None:
        self.vapid = vapid
        self.subject = subject
        self.allow_insecure_push = allow_insecure_push

    def send(self, sub: PushSubscription, payload: str, urgency: str = "normal") -> PushResult:
        parts = urlsplit(sub.endpoint)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        public = _public_host(parts.hostname or "", port, self.allow_insecure_push)
        if public is None:
            log.warning("push to %s failed: the host does not resolve", sub.host)
            return PushResult.FAILED
        if not public:
            log.warning("push to %s refused: it does not resolve to public addresses only", sub.host)
            return PushResult.GONE
        session = requests.Session()
        session.max_redirects = 0
        try:
            webpush(sub.info(), data=payload, vapid_private_key=self.vapid, vapid_claims={"sub": self.subject},
                    ttl=PUSH_TTL_S, timeout=PUSH_TIMEOUT_S, headers={"Urgency": urgency},
                    requests_session=session)
        except WebPushException as exc:
            status = exc.status_code
            if status in (404, 410):
                log.info("push subscription at %s is gone (%s): dropped", sub.host, status)
                return PushResult.GONE
            log.warning("push to %s failed: HTTP %s", sub.host, status)
            return PushResult.FAILED
        except requests.RequestException as exc:
            log.warning("push to %s failed: %s", sub.host, type(exc).__name__)
            return PushResult.FAILED
        finally:
            session.close()
        return PushResult.SENT


class WebhookSender:
    """Posts a notice's JSON to the operator's webhook; a timeout, then one retry."""

    def __init__(self, url: str, timeout_s: float = WEBHOOK_TIMEOUT_S,
                 retry_after_s: float = WEBHOOK_RETRY_AFTER_S) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self.retry_after_s = retry_after_s

    def send(self, doc: dict[str, Any]) -> bool:
        who = mask_phone(doc.get("phone") or "")
        for attempt in (1, 2):
            try:
                r = requests.post(self.url, json=doc, timeout=self.timeout_s, allow_redirects=False)
                if 200 <= r.status_code < 300:
                    return True
                why = f"HTTP {r.status_code}"
            except requests.RequestException as exc:
                why = type(exc).__name__
            log.warning("webhook %s for %s (ticket %s) failed, attempt %d: %s", doc.get("event"), who,
                        doc.get("ticket"), attempt, why)
            if attempt == 1:
                time.sleep(self.retry_after_s)
        return False


__all__ = ["PushResult", "PushSender", "WebhookSender"]
