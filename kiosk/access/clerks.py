"""Counter clerks (工号): their names and PIN hashes in the branch database, and the check of a
clerk's PIN with the admin PIN's hashing and lockout (`kiosk.access.pin`).

A clerk's PIN is stored only as an scrypt hash. Each clerk has their own lockout file in the
data directory (``clerk-<id>-lockout.json``), so it survives restarts and one clerk's wrong
tries never lock another out. An unknown clerk and a wrong PIN get the same answer (`BadPin`)
after the same work, so the IDs cannot be found by trying.
"""
from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from kiosk.access.pin import PinGuard, check_pin_format, hash_pin, verify_pin
from kiosk.config.text import control_character
from kiosk.domain.errors import BadField, BadPin, IllegalState, LockedOut, UnknownClerk
from kiosk.storage.clerk_rows import check_clerk_id, clerk_row
from kiosk.storage.store import Store, db_path

NAME_MAX = 40


@functools.cache
def _decoy() -> str:
    """A real hash of a PIN nobody is given, checked for an unknown clerk (as long as a wrong PIN)."""
    return hash_pin("000000000000", salt=b"kiosk-clerk-decoy")


@dataclass(frozen=True)
class Clerk:
    id: str
    name: str


class ClerkBook:
    """Add, list, remove and verify clerks. Opens its own connection to the branch database (a
    PIN check takes tens of milliseconds of scrypt: never on the kiosk's core thread)."""

    def __init__(self, data_dir: str | os.PathLike, *, store: Store | None = None, free_tries: int = 3,
                 base_s: float = 30.0, max_s: float = 900.0, now: Callable[[], float] = time.time) -> None:
        self.data_dir = Path(data_dir)
        self._own_store = store is None
        self.store = store if store is not None else Store(db_path(self.data_dir))
        self._lockout = {"free_tries": free_tries, "base_s": base_s, "max_s": max_s, "now": now}
        self._lock = threading.RLock()  # one caller at a time on the connection and the lockout files

    def close(self) -> None:
        if self._own_store:
            self.store.close()

    def add(self, clerk_id: str, name: str, pin: str) -> Clerk:
        """A new clerk; `BadField` naming ``clerk``, ``name`` or ``pin``, `IllegalState` if the id is taken."""
        clerk_id = check_clerk_id(clerk_id)
        name = _check_name(name)
        try:
            pin_hash = hash_pin(check_pin_format(pin))
        except (ValueError, TypeError):
            raise BadField("pin", "a clerk's PIN is 4 to 12 digits") from None
        with self._lock, self.store.transaction() as conn:
            if clerk_row(conn, clerk_id) is not None:
                raise IllegalState(f"clerk {clerk_id} exists already (remove them first to set a new PIN)")
            conn.execute("INSERT INTO clerks (id, name, pin_hash, added) VALUES (?, ?, ?, ?)",
                         (clerk_id, name, pin_hash, datetime.now(timezone.utc).isoformat(timespec="seconds")))
        self._guard(clerk_id, pin_hash).path.unlink(missing_ok=True)   # a new clerk starts with no lockout
        return Clerk(clerk_id, name)

    def remove(self, clerk_id: str) -> Clerk:
        """Remove a clerk (signed out of any counter); their served tickets keep their id."""
        clerk_id = check_clerk_id(clerk_id)
        with self._lock, self.store.transaction() as conn:
            row = clerk_row(conn, clerk_id)
            if row is None:
                raise UnknownClerk(f"no clerk {clerk_id}")
            conn.execute("UPDATE counters SET clerk = NULL WHERE clerk = ?", (clerk_id,))
            conn.execute("DELETE FROM clerks WHERE id = ?", (clerk_id,))
        self._guard(clerk_id, None).path.unlink(missing_ok=True)
        return Clerk(row["id"], row["name"])

    def list(self) -> list[Clerk]:
        with self._lock:
            rows = self.store.conn.execute("SELECT id, name FROM clerks ORDER BY id").fetchall()
        return [Clerk(r["id"], r["name"]) for r in rows]

    def get(self, clerk_id: str) -> Clerk | None:
        clerk_id = check_clerk_id(clerk_id)
        with self._lock:
            row = clerk_row(self.store.conn, clerk_id)
        return None if row is None else Clerk(row["id"], row["name"])

    def verify(self, clerk_id: str, pin: str) -> Clerk:
        """The clerk when `pin` is theirs; `BadPin` (wrong ID or PIN) or `LockedOut` otherwise."""
        clerk_id = check_clerk_id(clerk_id)
        with self._lock:
            row = clerk_row(self.store.conn, clerk_id)
            if row is None:
                verify_pin(str(pin), _decoy())
                raise BadPin("wrong clerk ID or PIN")
            guard = self._guard(clerk_id, row["pin_hash"])
            left = guard.locked_for()
            if left > 0:
                raise LockedOut(f"too many wrong PINs: try again in {left:.0f} s", left)
            result = guard.check(str(pin))
        if result.ok:
            return Clerk(row["id"], row["name"])
        if result.locked_s > 0:
            raise BadPin(f"wrong clerk ID or PIN; locked for {result.locked_s:.0f} s")
        raise BadPin("wrong clerk ID or PIN")

    def _guard(self, clerk_id: str, pin_hash: str | None) -> PinGuard:
        return PinGuard(pin_hash, self.data_dir, file=f"clerk-{clerk_id}-lockout.json", **self._lockout)


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise BadField("name", "a clerk needs a name")
    name = name.strip()
    if len(name) > NAME_MAX:
        raise BadField("name", f"at most {NAME_MAX} characters, not {len(name)}")
    found = control_character(name)
    if found is not None:
        raise BadField("name", f"contains a control character U+{ord(found[1]):04X} at position {found[0]}")
    return name
