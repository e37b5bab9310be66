"""HQ users, password hashes, the command log — tables in the recording's SQLite file.

Passwords: ``hashlib.scrypt`` (n=2**14, r=8, p=1, 16-byte salt), stored as
``scrypt$n$r$p$salt$hash`` (base64). Roles: ``viewer`` (read-only) and ``operator``
(may send HQ commands). The session secret lives in the same file (``hq_meta``), so
sessions survive a restart; a new secret (``rotate_secret``) logs everybody out.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import sqlite3
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROLES = ("viewer", "operator")
NAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
MIN_PASSWORD = 8
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 14, 8, 1
MAX_FAILURES = 5          # failed logins per name …
FAILURE_WINDOW_S = 300.0  # … within this window lock the name …
LOCKOUT_S = 60.0          # … for this long

SCHEMA = """
CREATE TABLE IF NOT EXISTS hq_users (
  name TEXT PRIMARY KEY, role TEXT NOT NULL, pw_hash TEXT NOT NULL, created TEXT NOT NULL);
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


_DUMMY_HASH = hash_password(secrets.token_hex(8))  # equal work for unknown names (no user enumeration by timing)


class Users:
    """Users, the session secret and the command log in `path` (thread-safe, own connection)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False, timeout=30)
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.executescript(SCHEMA)
        self.lock = threading.Lock()
        self._failures: dict[str, list[float]] = {}

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
            self.conn.execute("INSERT OR REPLACE INTO hq_users (name, role, pw_hash, created) VALUES (?, ?, ?, ?)",
                              (name, role, h, _now()))

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

    def locked(self, name: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self.lock:
            recent = [t for t in self._failures.get(name, []) if t > now - FAILURE_WINDOW_S]
            self._failures[name] = recent
            return len(recent) >= MAX_FAILURES and now - recent[-1] < LOCKOUT_S

    def authenticate(self, name: str, password: str) -> str | None:
        """The user's role if the password is right, else None (also None while locked out)."""
        if self.locked(name):
            return None
        with self.lock:
            row = self.conn.execute("SELECT role, pw_hash FROM hq_users WHERE name = ?", (name,)).fetchone()
        ok = verify_password(password, row[1] if row else _DUMMY_HASH) and row is not None
        if not ok:
            with self.lock:
                self._failures.setdefault(name, []).append(time.monotonic())
            return None
        with self.lock:
            self._failures.pop(name, None)
        return row[0]

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
