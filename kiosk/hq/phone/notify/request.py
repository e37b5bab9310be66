"""The body of ``POST /t/{token}/alerts``, checked strictly: what a phone asks to be told and
how to reach it.

`parse_alert(body, allow_insecure_push)` returns an `AlertRequest` or raises `AlertRefused`
with a message naming what is wrong. Unknown fields are refused; the push endpoint must be an
https URL on a named host (http only to the loopback when the notifier allows it, for tests);
the subscription's keys must decode to a P-256 point and a 16-byte secret; a phone number is
``+`` and 6–15 digits.
"""
from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec

MAX_BODY = 4096
MAX_AHEAD = 50
MIN_MINUTES, MAX_MINUTES = 1, 180
MAX_ENDPOINT = 1024
FIELDS = frozenset({"ahead", "minutes", "on_call", "push", "phone"})
_PHONE_RE = re.compile(r"\+[0-9]{6,15}")
_B64URL_RE = re.compile(r"[A-Za-z0-9_-]+={0,2}")
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


class AlertRefused(ValueError):
    """An alert request that is not accepted; the message says why."""


@dataclass(frozen=True)
class PushSubscription:
    """A browser's PushSubscription: where to post and the keys to encrypt for."""

    endpoint: str
    p256dh: str
    auth: str

    def info(self) -> dict[str, Any]:
        """The subscription_info dict pywebpush expects."""
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}

    @property
    def host(self) -> str:
        """The push service's host (what may be logged: the path is a capability)."""
        return urlsplit(self.endpoint).hostname or "?"


@dataclass(frozen=True)
class AlertRequest:
    """When to tell (`ahead` people or fewer, `minutes` or less, when called) and how."""

    ahead: int | None
    minutes: int | None
    on_call: bool
    push: PushSubscription | None
    phone: str | None


def _int_or_null(doc: dict[str, Any], name: str, lo: int, hi: int) -> int | None:
    v = doc.get(name)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise AlertRefused(f"'{name}' must be a whole number from {lo} to {hi}, or null")
    return v


def _b64url(v: Any, name: str, size: int) -> bytes:
    if not isinstance(v, str) or len(v) > 200 or not _B64URL_RE.fullmatch(v):
        raise AlertRefused(f"push key '{name}' must be base64url text")
    raw = v.rstrip("=")
    try:
        out = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    except (binascii.Error, ValueError):
        raise AlertRefused(f"push key '{name}' is not valid base64url") from None
    if len(out) != size:
        raise AlertRefused(f"push key '{name}' must decode to {size} bytes, not {len(out)}")
    return out


def check_endpoint(endpoint: Any, allow_insecure_push: bool) -> str:
    """The push endpoint if it is one HQ may post to; else `AlertRefused`."""
    if not isinstance(endpoint, str) or not endpoint or len(endpoint) > MAX_ENDPOINT:
        raise AlertRefused(f"push 'endpoint' must be a URL of at most {MAX_ENDPOINT} characters")
    try:
        parts = urlsplit(endpoint)
        host = parts.hostname
        parts.port  # noqa: B018 — raises on a bad port
    except ValueError:
        raise AlertRefused("push 'endpoint' is not a valid URL") from None
    if not host or parts.username is not None or parts.password is not None or parts.fragment:
        raise AlertRefused("push 'endpoint' must be a plain URL with a host (no user, no fragment)")
    if any(ord(c) <= 32 or ord(c) >= 127 for c in endpoint):
        raise AlertRefused("push 'endpoint' must be printable ASCII")
    if allow_insecure_push and parts.scheme in ("http", "https") and host in _LOOPBACK:
        return endpoint
    if parts.scheme != "https":
        raise AlertRefused("push 'endpoint' must be an https URL")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return endpoint
    raise AlertRefused("push 'endpoint' must name a host, not an IP address")


def _push(v: Any, allow_insecure_push: bool) -> PushSubscription | None:
    if v is None:
        return None
    if not isinstance(v, dict):
        raise AlertRefused("'push' must be a PushSubscription object or null")
    unknown = set(v) - {"endpoint", "keys", "expirationTime"}
    if unknown:
        raise AlertRefused(f"unknown push field(s): {', '.join(sorted(map(str, unknown)))[:100]}")
    exp = v.get("expirationTime")
    if exp is not None and (isinstance(exp, bool) or not isinstance(exp, (int, float))):
        raise AlertRefused("push 'expirationTime' must be a number or null")
    endpoint = check_endpoint(v.get("endpoint"), allow_insecure_push)
    keys = v.get("keys")
    if not isinstance(keys, dict) or set(keys) != {"p256dh", "auth"}:
        raise AlertRefused("push 'keys' must hold exactly 'p256dh' and 'auth'")
    point = _b64url(keys["p256dh"], "p256dh", 65)
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        raise AlertRefused("push key 'p256dh' is not a P-256 public key") from None
    _b64url(keys["auth"], "auth", 16)
    return PushSubscription(endpoint, keys["p256dh"], keys["auth"])


def _phone(v: Any) -> str | None:
    if v is None:
        return None
    if not isinstance(v, str) or not _PHONE_RE.fullmatch(v):
        raise AlertRefused("'phone' must be '+' and 6 to 15 digits (e.g. +8613800138000), or null")
    return v


def parse_alert(body: bytes, allow_insecure_push: bool = False) -> AlertRequest:
    """The checked alert request in `body` (JSON); `AlertRefused` names what is wrong."""
    if len(body) > MAX_BODY:
        raise AlertRefused(f"the request is larger than {MAX_BODY} bytes")
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise AlertRefused("the request is not JSON") from None
    if not isinstance(doc, dict):
        raise AlertRefused("the request must be a JSON object")
    unknown = set(doc) - FIELDS
    if unknown:
        raise AlertRefused(f"unknown field(s): {', '.join(sorted(unknown))[:100]}")
    on_call = doc.get("on_call", False)
    if not isinstance(on_call, bool):
        raise AlertRefused("'on_call' must be true or false")
    req = AlertRequest(ahead=_int_or_null(doc, "ahead", 0, MAX_AHEAD),
                       minutes=_int_or_null(doc, "minutes", MIN_MINUTES, MAX_MINUTES),
                       on_call=on_call, push=_push(doc.get("push"), allow_insecure_push),
                       phone=_phone(doc.get("phone")))
    if req.ahead is None and req.minutes is None and not req.on_call:
        raise AlertRefused("nothing to be told: give 'ahead', 'minutes' or 'on_call': true")
    if req.push is None and req.phone is None:
        raise AlertRefused("no way to tell you: give 'push' or 'phone'")
    return req


def mask_phone(phone: str) -> str:
    """A phone number fit for a log line: the country code's first digits and the last two."""
    return phone[:3] + "*" * max(len(phone) - 5, 0) + phone[-2:]


__all__ = ["AlertRefused", "AlertRequest", "MAX_BODY", "PushSubscription", "check_endpoint", "mask_phone",
           "parse_alert"]
