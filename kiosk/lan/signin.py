"""Who may sign in: a clerk with their ID and PIN (`kiosk.access.clerks.ClerkBook`), the hall
manager with the admin PIN (`kiosk.access.pin.PinGuard`, the touchscreen's lockout file). Both
checks hash with scrypt (tens of milliseconds): call them off the event loop."""
from __future__ import annotations

import threading
from pathlib import Path

from kiosk.access.clerks import ClerkBook
from kiosk.access.pin import PinGuard
from kiosk.domain.errors import BadPin, LockedOut


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
