"""HQ users, password hashes, the command log — tables in the recording's SQLite file.

Passwords: ``hashlib.scrypt`` (n=2**14, r=8, p=1, 16-byte salt), stored as
``scrypt$n$r$p$salt$hash`` (base64). Roles: ``viewer`` (read-only) and ``operator``
(may send HQ commands). The session secret lives in the same file (``hq_meta``), so
sessions survive a restart; a new secret (``rotate_secret``) logs everybody out. Each user
has a session generation: a session is valid only while it carries the user's current
generation, and logout, a password change or ``kiosk hq user revoke`` bump it (every older
session of that user ends). The file holds secrets: it is created 0600, and a file readable
by others is made 0600 with a warning. Failed sign-ins are throttled per name and address
(`kiosk.hq.web.throttle`).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from kiosk.hq.web.throttle import MAX_FAILURES, Lockout, LoginThrottle

ROLES = ("viewer", "operator")
NAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
MIN_PASSWORD = 8
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 14, 8, 1
log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS hq_users (
  name TEXT PRIMARY KEY, role TEXT NOT NULL, pw_hash TEXT NOT NULL, created TEXT NOT NULL,
  generation INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS hq_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS hq_command_log (
  id TEXT PRIMARY KEY, ts TEXT NOT NULL, user TEXT NOT NULL, role TEXT NOT NULL, branch TEXT NOT NULL,
  command TEXT NOT NULL, payload TEXT NOT NULL, status TEXT NOT NULL, reply TEXT, replied TEXT);
CREATE INDEX IF NOT EXISTS hq_command_log_branch ON hq_command_log (branch, ts);
"""


class AuthError(ValueError):
    pass


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    h = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt).decode()}${b64(h).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, h = stored.split("$")
        if kind != "scrypt":
            return False
        want = base64.b64decode(h)
        got = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                             dklen=len(want))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, want)


def private_file(path: str | Path) -> None:
    """Create `path` readable by its owner only (0600), or make an existing one so (with a warning);
    the same for SQLite's companions (-wal, -shm, -journal) that exist."""
    path = Path(path)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    for p in (path, *(Path(f"{path}{suffix}") for suffix in ("-wal", "-shm", "-journal"))):
        try:
            mode = p.stat().st_mode & 0o777
        except FileNotFoundError:
            continue
        if mode & 0o077:
            log.warning("%s was readable by others (mode %03o): it holds the session secret and password hashes; "
                        "set to 0600", p, mode)
            os.chmod(p, 0o600)


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in: the role and session generation, or why not."""

    role: str | None = None
    generation: int = 0
    lockout: Lockout | None = None


_DUMMY_HASH = hash_password(secrets.token_hex(8))  # equal work for unknown names (no user enumeration by timing)


class Users:
    """Users, the session secret and the command log in `path` (thread-safe, own connection)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        private_file(self.path)
        self.conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False, timeout=30)
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.executescript(SCHEMA)
        columns = {r[1] for r in self.conn.execute("PRAGMA table_info(hq_users)")}
        if "generation" not in columns:  # a database from before revocable sessions
            self.conn.execute("ALTER TABLE hq_users ADD COLUMN generation INTEGER NOT NULL DEFAULT 0")
        private_file(self.path)  # the -wal and -shm files SQLite just made
        self.lock = threading.Lock()
        self.throttle = LoginThrottle(self.conn, self.lock)

    def close(self) -> None:
        self.conn.close()

    # -- users ----------------------------------------------------------------------------------
    def add(self, name: str, role: str, password: str, *, replace: bool = False) -> None:
        if not NAME_RE.match(name or ""):
            raise AuthError("a user name is 1-64 letters, digits or . _ @ -")
        if role not in ROLES:
            raise AuthError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        if len(password) < MIN_PASSWORD:
            raise AuthError(f"the password needs at least {MIN_PASSWORD} characters")
        h = hash_password(password)
        with self.lock:
            exists = self.conn.execute("SELECT 1 FROM hq_users WHERE name = ?", (name,)).fetchone()
            if exists and not replace:
                raise AuthError(f"user {name!r} exists (use --replace to change the password or role)")
            if exists:  # a new password ends every session of the old one
                self.conn.execute("UPDATE hq_users SET role = ?, pw_hash = ?, generation = generation + 1 "
                                  "WHERE name = ?", (role, h, name))
            else:
                self.conn.execute("INSERT INTO hq_users (name, role, pw_hash, created) VALUES (?, ?, ?, ?)",
                                  (name, role, h, _now()))

    def revoke(self, name: str) -> bool:
        """End every session of `name` (the user signs in again); False if there is no such user."""
        with self.lock:
            return self.conn.execute("UPDATE hq_users SET generation = generation + 1 WHERE name = ?",
                                     (name,)).rowcount > 0

    def remove(self, name: str) -> bool:
        with self.lock:
            return self.conn.execute("DELETE FROM hq_users WHERE name = ?", (name,)).rowcount > 0

    def list(self) -> list[dict[str, str]]:
        with self.lock:
            rows = self.conn.execute("SELECT name, role, created FROM hq_users ORDER BY name").fetchall()
        return [{"name": n, "role": r, "created": c} for n, r, c in rows]

    def role_of(self, name: str) -> str | None:
        with self.lock:
            row = self.conn.execute("SELECT role FROM hq_users WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def session_role(self, name: Any, generation: Any) -> str | None:
        """The role of a session's user, or None if the user is gone or the session was revoked."""
        if not isinstance(name, str) or not isinstance(generation, int) or isinstance(generation, bool):
            return None
        with self.lock:
            row = self.conn.execute("SELECT role FROM hq_users WHERE name = ? AND generation = ?",
                                    (name, generation)).fetchone()
        return row[0] if row else None

    def locked(self, name: str, address: str | None = None) -> bool:
        return self.throttle.lockout(name, address) is not None

    def sign_in(self, name: str, password: str, address: str | None = None) -> SignIn:
        """Check a password, unless the name or the address is locked out; failures are counted."""
        lock = self.throttle.lockout(name, address)
        if lock is not None:
            return SignIn(lockout=lock)
        with self.lock:
            row = self.conn.execute("SELECT role, pw_hash, generation FROM hq_users WHERE name = ?",
                                    (name,)).fetchone()
        ok = verify_password(password, row[1] if row else _DUMMY_HASH) and row is not None
        if not ok:
            self.throttle.failed(name, address)
            return SignIn(lockout=self.throttle.lockout(name, address))
        self.throttle.succeeded(name)
        return SignIn(role=row[0], generation=row[2])

    def authenticate(self, name: str, password: str, address: str | None = None) -> str | None:
        """The user's role if the password is right, else None (also None while locked out)."""
        return self.sign_in(name, password, address).role

    # -- session secret -------------------------------------------------------------------------
    def secret(self) -> str:
        with self.lock:
            row = self.conn.execute("SELECT value FROM hq_meta WHERE key = 'session_secret'").fetchone()
            if row:
                return row[0]
            value = secrets.token_urlsafe(48)
            self.conn.execute("INSERT OR IGNORE INTO hq_meta (key, value) VALUES ('session_secret', ?)", (value,))
            return self.conn.execute("SELECT value FROM hq_meta WHERE key = 'session_secret'").fetchone()[0]

    def rotate_secret(self) -> None:
        with self.lock:
            self.conn.execute("DELETE FROM hq_meta WHERE key = 'session_secret'")

    # -- command log ----------------------------------------------------------------------------
    def log_command(self, cmd_id: str, user: str, role: str, branch: str, command: str, payload: Any,
                    status: str) -> None:
        with self.lock:
            self.conn.execute("INSERT INTO hq_command_log (id, ts, user, role, branch, command, payload, status) "
                              "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                              (cmd_id, _now(), user, role, branch, command,
                               json.dumps(payload, ensure_ascii=False), status))

    def log_reply(self, cmd_id: str, status: str, reply: Any) -> None:
        with self.lock:
            self.conn.execute("UPDATE hq_command_log SET status = ?, reply = ?, replied = ? WHERE id = ?",
                              (status, json.dumps(reply, ensure_ascii=False) if reply is not None else None,
                               _now(), cmd_id))

    def commands(self, branch: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        sql = "SELECT id, ts, user, role, branch, command, payload, status, reply, replied FROM hq_command_log"
        params: tuple = ()
        if branch:
            sql += " WHERE branch = ?"
            params = (branch,)
        sql += " ORDER BY ts DESC, rowid DESC LIMIT ?"
        with self.lock:
            rows = self.conn.execute(sql, (*params, limit)).fetchall()
        keys = ("id", "ts", "user", "role", "branch", "command", "payload", "status", "reply", "replied")
        out = []
        for r in rows:
            d = dict(zip(keys, r))
            for k in ("payload", "reply"):
                if d[k] is not None:
                    try:
                        d[k] = json.loads(d[k])
                    except ValueError:
                        pass
            out.append(d)
        return out


__all__ = ["MAX_FAILURES", "ROLES", "AuthError", "SignIn", "Users", "hash_password", "private_file", "verify_password"]
