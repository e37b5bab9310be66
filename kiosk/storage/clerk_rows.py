"""The clerks table and the per-kiosk secret, shared by the clerk book (`kiosk.access.clerks`) and
the engine: the clerk id's format, a clerk's row, and the pseudonym HQ sees instead of the id.

A clerk id (工号) is 1–16 of ``[A-Za-z0-9_-]``. HQ never receives it: events carry
``clerk_ref``, the first 12 hex digits of HMAC-SHA256 of the id under this kiosk's secret
(made once, at random, by the schema migration that added clerks).
"""
from __future__ import annotations

import hashlib
import hmac
import re
import sqlite3

from kiosk.domain.errors import BadField

CLERK_ID = re.compile(r"[A-Za-z0-9_-]{1,16}")
REF_HEX = 12


def check_clerk_id(clerk_id: object, field: str = "clerk") -> str:
    """`clerk_id` when it is a well-formed clerk id; `BadField` naming `field` otherwise."""
    if not isinstance(clerk_id, str) or CLERK_ID.fullmatch(clerk_id) is None:
        raise BadField(field, f"a clerk ID is 1 to 16 letters, digits, '-' or '_', not {clerk_id!r:.40}")
    return clerk_id


def clerk_row(conn: sqlite3.Connection, clerk_id: str) -> sqlite3.Row | None:
    return conn.execute("SELECT id, name, pin_hash FROM clerks WHERE id = ?", (clerk_id,)).fetchone()


def kiosk_secret(conn: sqlite3.Connection) -> bytes:
    return bytes.fromhex(conn.execute("SELECT secret FROM kiosk_secret WHERE id = 1").fetchone()[0])


def clerk_ref(secret: bytes, clerk_id: str) -> str:
    """The pseudonym of `clerk_id` that leaves the kiosk (stable per kiosk, not reversible)."""
    return hmac.new(secret, clerk_id.encode(), hashlib.sha256).hexdigest()[:REF_HEX]
