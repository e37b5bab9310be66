"""Where HQ keeps its data: an SQLite file (the default, one server) or PostgreSQL (several).

`open_db(target)` takes a file path or a ``postgresql://`` URL and returns a `Db`; every HQ
module talks to it through `Conn`, which runs the same SQL on both with ``?`` placeholders
(turned into psycopg's ``%s`` for PostgreSQL). Connections are in autocommit mode; a
transaction is ``with conn.transaction():``. `Db.connection()` lends a connection: a fresh
one on SQLite, one from a small pool (psycopg_pool) on PostgreSQL; `Db.connect()` makes a
connection its caller owns (a writer thread keeps one).

What differs between the two is said where it is used, asking `dialect`; the SQL both accept
(``INSERT … ON CONFLICT``, ``RETURNING``, window functions) is preferred.
"""
from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

SQLITE, POSTGRES = "sqlite", "postgres"
POOL_MAX = 8


def is_postgres_url(target: str | Path) -> bool:
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


def shown(target: str | Path) -> str:
    """`target` as it may be printed: a URL without its password."""
    if not is_postgres_url(target):
        return str(target)
    parts = urlsplit(str(target))
    if parts.password is None:
        return str(target)
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def to_pyformat(sql: str) -> str:
    """``?`` placeholders as ``%s`` (and a literal ``%`` as ``%%``), outside quoted text."""
    out = []
    quote = None
    for ch in sql:
        if quote:
            out.append("%%" if ch == "%" else ch)
            if ch == quote:
                quote = None
        elif ch in ("'", '"'):
            quote = ch
            out.append(ch)
        elif ch == "?":
            out.append("%s")
        elif ch == "%":
            out.append("%%")
        else:
            out.append(ch)
    return "".join(out)


class Conn:
    """One connection, SQL with ``?`` placeholders on either database."""

    def __init__(self, raw: Any, dialect: str) -> None:
        self.raw = raw
        self.dialect = dialect
        self._cache: dict[str, str] = {}
        self.made: set[str] = set()   # temporary tables this connection has made (they last as long as it)

    def _sql(self, sql: str) -> str:
        if self.dialect == SQLITE:
            return sql
        s = self._cache.get(sql)
        if s is None:
            s = self._cache[sql] = to_pyformat(sql)
        return s

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement; the cursor (``fetchone``, ``fetchall``, iteration, ``rowcount``)."""
        if self.dialect == SQLITE:
            return self.raw.execute(sql, params)
        return self.raw.execute(self._sql(sql), params if params else None, prepare=False)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        if self.dialect == SQLITE:
            self.raw.executemany(sql, rows)
            return
        with self.raw.cursor() as cur:
            cur.executemany(self._sql(sql), list(rows))

    def executescript(self, script: str) -> None:
        """Statements separated by ``;`` (no parameters), e.g. a schema."""
        if self.dialect == SQLITE:
            self.raw.executescript(script)
            return
        for stmt in (s.strip() for s in script.split(";")):
            if stmt:
                self.raw.execute(stmt)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Conn]:
        """Everything inside commits together, or nothing does (an exception rolls back)."""
        if self.dialect == SQLITE:
            self.raw.execute("BEGIN IMMEDIATE")
            try:
                yield self
            except BaseException:
                if self.raw.in_transaction:
                    self.raw.execute("ROLLBACK")
                raise
            self.raw.execute("COMMIT")
        else:
            made = set(self.made)
            try:
                with self.raw.transaction():
                    yield self
            except BaseException:
                self.made = made     # a temporary table made inside went with the rollback
                raise

    def close(self) -> None:
        self.raw.close()


class Db:
    """An HQ database: an SQLite file or a PostgreSQL URL (`open_db`)."""

    def __init__(self, target: str | Path) -> None:
        self.target = str(target)
        self.dialect = POSTGRES if is_postgres_url(self.target) else SQLITE
        self._pool: Any = None

    def __str__(self) -> str:
        return shown(self.target)

    @property
    def path(self) -> Path | None:
        """The SQLite file (None for PostgreSQL)."""
        return Path(self.target) if self.dialect == SQLITE else None

    def connect(self, *, read_only: bool = False) -> Conn:
        """A new connection, owned by the caller (close it)."""
        if self.dialect == SQLITE:
            raw = sqlite3.connect(self.target, isolation_level=None, check_same_thread=False, timeout=30)
            raw.execute("PRAGMA journal_mode = WAL")
            raw.execute("PRAGMA synchronous = NORMAL")
            if read_only:
                raw.execute("PRAGMA query_only = 1")
            return Conn(raw, SQLITE)
        import psycopg
        raw = psycopg.connect(self.target, autocommit=True)
        if read_only:
            raw.execute("SET default_transaction_read_only = on")
        return Conn(raw, POSTGRES)

    @contextlib.contextmanager
    def connection(self) -> Iterator[Conn]:
        """A connection for one piece of work (pooled on PostgreSQL)."""
        if self.dialect == SQLITE:
            conn = self.connect()
            try:
                yield conn
            finally:
                conn.close()
            return
        if self._pool is None:
            from psycopg_pool import ConnectionPool
            self._pool = ConnectionPool(self.target, min_size=1, max_size=POOL_MAX, kwargs={"autocommit": True},
                                        open=True, name="kiosk-hq")
        with self._pool.connection() as raw:
            yield Conn(raw, POSTGRES)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None


def open_db(target: str | Path) -> Db:
    """The database at `target`: a ``postgresql://`` URL, else an SQLite file path."""
    if not str(target):
        raise ValueError("no database given: a file path or a postgresql:// URL")
    return Db(target)
