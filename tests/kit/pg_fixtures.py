"""Fixtures for the tests that need PostgreSQL: one real server for the session (Debian's
``postgresql``, started by `kiosk.sim.postgres.PostgresServer`, stopped at the end) and a fresh
database for each test. Without PostgreSQL installed these fail (they never skip)."""
from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from kiosk.sim.postgres import PostgresServer

_names = itertools.count(1)


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory) -> Iterator[PostgresServer]:
    server = PostgresServer(tmp_path_factory.mktemp("postgres"))
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server) -> str:
    """The URL of a new, empty database on the session's server."""
    return pg_server.create_database(f"t{next(_names)}")


@pytest.fixture(params=["sqlite", "postgres"])
def hq_db_target(request, tmp_path) -> str:
    """Each HQ database kind in turn: an SQLite file path, then a PostgreSQL URL."""
    if request.param == "sqlite":
        return str(tmp_path / "hq.db")
    return request.getfixturevalue("pg_url")
