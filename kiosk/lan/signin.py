"""Who may sign in: a clerk with their ID and PIN (`kiosk.access.clerks.ClerkBook`), the hall
manager with the admin PIN (`kiosk.access.pin.PinGuard`, the touchscreen's lockout file). Both
checks hash with scrypt (tens of milliseconds): call them off the event loop.

`SignInGate` throttles ``POST /api/session`` per client address and per clerk ID (known or not)
with `kiosk.webkit.throttle.SignInThrottle` in the data directory (`THROTTLE_FILE`): a locked
address or ID gets ``429`` with ``Retry-After`` before any PIN is checked.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
from pathlib import Path

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kiosk.access.clerks import ClerkBook
from kiosk.access.pin import PinGuard
from kiosk.domain.errors import BadPin, LockedOut
from kiosk.webkit.throttle import ID, SignInThrottle

log = logging.getLogger("kiosk.lan")

SESSION_PATH = "/api/session"
THROTTLE_FILE = "lan-signin-failures.db"
_CLERK_ID = re.compile(r"[A-Za-z0-9_-]{1,16}")


class Refused(Exception):
    """A sign-in refused: `status` 401 (wrong ID or PIN) or 429 (locked out for `retry_after_s`)."""

    def __init__(self, status: int, message: str, retry_after_s: float = 0.0) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after_s = retry_after_s


class SignIn:
    def __init__(self, admin_pin_hash: str | None, data_dir: Path) -> None:
        self._lock = threading.Lock()
        self._admin_pin_hash = admin_pin_hash
        self._data_dir = Path(data_dir)
        self._book: ClerkBook | None = None   # opened at the first clerk's sign-in

    def close(self) -> None:
        with self._lock:
            if self._book is not None:
                self._book.close()
                self._book = None

    def manager(self, pin: str) -> None:
        """Returns when `pin` is the admin PIN; raises `Refused` otherwise."""
        with self._lock:
            result = PinGuard(self._admin_pin_hash, self._data_dir).check(pin)
        if result.ok:
            return
        if result.no_pin:
            raise Refused(401, "no admin PIN is configured: the manager cannot sign in")
        if result.locked_s > 0:
            raise Refused(429, f"wrong PIN: locked for {result.locked_s:.0f} s", result.locked_s)
        raise Refused(401, "wrong PIN")

    def clerk(self, clerk_id: str, pin: str) -> str:
        """The clerk's name when `pin` is theirs; raises `Refused` otherwise."""
        with self._lock:
            if self._book is None:
                self._book = ClerkBook(self._data_dir)
            book = self._book
        try:
            return book.verify(clerk_id, pin).name
        except LockedOut as exc:
            raise Refused(429, str(exc), exc.locked_s) from None
        except BadPin as exc:
            raise Refused(401, str(exc)) from None


def open_throttle(data_dir: Path) -> SignInThrottle:
    """The sign-in throttle of the hall web app: 5 failures of one clerk ID or 20 from one address
    within 5 minutes lock it for 60 s after the last (in `data_dir` / `THROTTLE_FILE`)."""
    return SignInThrottle(Path(data_dir) / THROTTLE_FILE, max_id_failures=5, max_address_failures=20,
                          window_s=300.0, lockout_s=60.0)


def _clerk_of(body: bytes) -> str | None:
    """The clerk ID a sign-in names, when it is one (anything else is refused by the API itself)."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    clerk = data.get("clerk") if isinstance(data, dict) else None
    return clerk if isinstance(clerk, str) and _CLERK_ID.fullmatch(clerk) else None


class SignInGate:
    """ASGI middleware on ``POST /api/session`` (behind the body limit, which reads the body whole):
    refuses a locked address or clerk ID, and counts each ``401`` as a failure of both (a ``200``
    clears the clerk ID's failures)."""

    def __init__(self, app: ASGIApp, throttle: SignInThrottle) -> None:
        self.app = app
        self.throttle = throttle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != SESSION_PATH:
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        while True:
            msg = await receive()
            messages.append(msg)
            if msg["type"] != "http.request" or not msg.get("more_body", False):
                break
        if messages[-1]["type"] != "http.request":
            return  # the client went away
        clerk = _clerk_of(b"".join(m.get("body", b"") for m in messages))
        client = scope.get("client")
        address = client[0] if client else "?"
        lock = await asyncio.to_thread(self.throttle.lockout, clerk, address)
        if lock is not None:
            whom = f"clerk {clerk}" if lock.scope == ID else "this address"
            log.warning("lan: refused a sign-in from %s%s: throttled for %.0f s", address,
                        f" as clerk {clerk}" if clerk else "", lock.retry_after_s)
            await _throttled(send, "clerk" if lock.scope == ID else None,
                             f"too many failed sign-ins for {whom}: try again in {lock.retry_after_s:.0f} s",
                             lock.retry_after_s)
            return
        status = 0

        async def watched(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        async def replayed() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replayed, watched)
        if status == 401:
            await asyncio.to_thread(self.throttle.failed, clerk, address)
        elif status == 200 and clerk is not None:
            await asyncio.to_thread(self.throttle.succeeded, clerk)


async def _throttled(send: Send, field: str | None, message: str, retry_after_s: float) -> None:
    body = json.dumps({"error": "throttled", "field": field, "message": message}).encode()
    await send({"type": "http.response.start", "status": 429,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"retry-after", str(max(1, int(retry_after_s + 0.999))).encode())]})
    await send({"type": "http.response.body", "body": body})
