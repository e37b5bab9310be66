"""Who is asking: Bearer tokens of signed-in staff (kept in memory, with an expiry) and the
device tokens of the config (`[[lan.device_tokens]]`, kept as SHA-256 only).

A staff token is 256 random bits (`secrets.token_urlsafe(32)`); the book keys it by its SHA-256,
so a lookup compares digests, never the token itself. Signing out revokes it; a clerk who signs
in again (here or at another counter) ends their earlier tokens, and a clerk signing in at a
counter ends the tokens of whoever was signed in there before. A restart ends every token.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from kiosk.config.lan import DeviceToken

CLERK, MANAGER, DEVICE = "clerk", "manager", "device"


@dataclass(frozen=True)
class Principal:
    """A signed-in clerk (at `counter`, or on the floor when None), the hall manager, or a device."""

    role: str
    name: str
    clerk: str | None = None
    counter: int | None = None

    def describe(self) -> str:
        where = f" at counter {self.counter}" if self.counter is not None else ""
        return f"{self.role} {self.name}{where}"


@dataclass
class _Entry:
    principal: Principal
    expires: float


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


class TokenBook:
    """Staff tokens in memory; device tokens from the config."""

    def __init__(self, devices: list[DeviceToken], ttl_s: float, now: Callable[[], float] = time.monotonic) -> None:
        self._devices = list(devices)
        self.ttl_s = ttl_s
        self._now = now
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}

    def issue(self, who: Principal) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._sweep()
            if who.role == CLERK:
                self._drop(lambda p: p.role == CLERK and (p.clerk == who.clerk or
                                                          (who.counter is not None and p.counter == who.counter)))
            self._entries[_digest(token)] = _Entry(who, self._now() + self.ttl_s)
        return token

    def lookup(self, token: str) -> Principal | None:
        """The staff member or device of `token`, None when unknown, expired or revoked."""
        if not token or len(token) > 256:
            return None
        digest = _digest(token)
        for d in self._devices:
            if hmac.compare_digest(digest, d.sha256):
                return Principal(DEVICE, d.name)
        with self._lock:
            entry = self._entries.get(digest)
            if entry is None:
                return None
            if entry.expires <= self._now():
                del self._entries[digest]
                return None
            return entry.principal

    def revoke(self, token: str) -> Principal | None:
        with self._lock:
            entry = self._entries.pop(_digest(token), None)
        return entry.principal if entry else None

    def active(self) -> int:
        with self._lock:
            self._sweep()
            return len(self._entries)

    def _drop(self, match: Callable[[Principal], bool]) -> None:
        for k in [k for k, e in self._entries.items() if match(e.principal)]:
            del self._entries[k]

    def _sweep(self) -> None:
        now = self._now()
        for k in [k for k, e in self._entries.items() if e.expires <= now]:
            del self._entries[k]
