"""The branch database's schema, as a list of migrations, and applying them.

Each migration takes the schema from version i to i + 1 (``PRAGMA user_version``).
"""
from __future__ import annotations

import sqlite3

# Each migration takes the schema from version i to i + 1. Append, never edit.
MIGRATIONS: list[str] = [
    # 1: the initial schema
    """
    CREATE TABLE hall_clock (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        boot_id TEXT NOT NULL,
        offset REAL NOT NULL,
        last_t REAL NOT NULL,
        last_wall TEXT
    );
    CREATE TABLE business_day (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        day TEXT NOT NULL,
        started_wall TEXT
    );
    CREATE TABLE service_day (
        prefix TEXT NOT NULL,
        day TEXT NOT NULL,
        next_seq INTEGER NOT NULL DEFAULT 1,
        PRIMARY KEY (prefix, day)
    );
    CREATE TABLE service_override (
        prefix TEXT PRIMARY KEY,
        hours TEXT NOT NULL
    );
    CREATE TABLE counters (
        number INTEGER PRIMARY KEY,
        state TEXT NOT NULL DEFAULT 'closed',
        ticket_id INTEGER REFERENCES tickets(id),
        since_t REAL
    );
    CREATE UNIQUE INDEX counters_one_ticket ON counters(ticket_id) WHERE ticket_id IS NOT NULL;
    CREATE TABLE tickets (
        id INTEGER PRIMARY KEY,
        day TEXT NOT NULL,
        number TEXT NOT NULL,
        service TEXT NOT NULL,
        seq INTEGER,
        priority INTEGER NOT NULL DEFAULT 0,
        state TEXT NOT NULL,
        origin_id INTEGER REFERENCES tickets(id),
        issued_t REAL NOT NULL,
        queued_t REAL NOT NULL,
        issued_wall TEXT NOT NULL,
        called_t REAL,
        called_wall TEXT,
        started_t REAL,
        finished_t REAL,
        finished_wall TEXT,
        counter INTEGER,
        recalls INTEGER NOT NULL DEFAULT 0,
        noshows INTEGER NOT NULL DEFAULT 0,
        ahead INTEGER,
        estimate_s REAL,
        printed TEXT NOT NULL DEFAULT 'pending',
        print_reason TEXT,
        rating INTEGER,
        member TEXT
    );
    CREATE UNIQUE INDEX tickets_issue_once ON tickets(day, service, seq);
    CREATE INDEX tickets_waiting ON tickets(state, queued_t) WHERE state = 'waiting';
    CREATE INDEX tickets_day ON tickets(day);
    CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        type TEXT NOT NULL,
        ts TEXT NOT NULL,
        t REAL NOT NULL,
        body TEXT NOT NULL,
        delivered_at TEXT
    );
    CREATE INDEX outbox_undelivered ON outbox(seq) WHERE delivered_at IS NULL;
    CREATE TABLE alert_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        level INTEGER NOT NULL DEFAULT 0,
        reason TEXT NOT NULL DEFAULT '',
        since_t REAL
    );
    """,
    # 2: the device faults reported and not yet recovered, so that a restart can close them
    """
    CREATE TABLE device_fault (
        device TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        since TEXT NOT NULL
    );
    """,
    # 3: how a ticket was issued and how it was rated, for the rules that depend on who holds it:
    #    issued_via 'button' (a take-ticket button: nobody holds a ticket it could not print, so
    #    that ticket is voided) or NULL (touchscreen, console, CLI, HQ: the number is shown there);
    #    rated_via 'pad' (the rating pad at the counter: the customer stood there) or 'number'
    """
    ALTER TABLE tickets ADD COLUMN issued_via TEXT;
    ALTER TABLE tickets ADD COLUMN rated_via TEXT;
    """,
    # 4: clerks (工号) and their PIN hashes; the clerk signed in at each counter (at one counter at a
    #    time) and why a counter is paused; per ticket the clerk who served it, the counter or clerk
    #    it is reserved for after a transfer, the transfer note, the pre-acceptance form (JSON) and
    #    the "assisted" flag; a per-kiosk secret for the pseudonymous clerk_ref sent to HQ
    """
    CREATE TABLE clerks (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        pin_hash TEXT NOT NULL,
        added TEXT NOT NULL
    );
    ALTER TABLE counters ADD COLUMN clerk TEXT;
    ALTER TABLE counters ADD COLUMN pause_reason TEXT;
    CREATE UNIQUE INDEX counters_one_clerk ON counters(clerk) WHERE clerk IS NOT NULL;
    ALTER TABLE tickets ADD COLUMN clerk TEXT;
    ALTER TABLE tickets ADD COLUMN reserved_counter INTEGER;
    ALTER TABLE tickets ADD COLUMN reserved_clerk TEXT;
    ALTER TABLE tickets ADD COLUMN note TEXT;
    ALTER TABLE tickets ADD COLUMN form TEXT;
    ALTER TABLE tickets ADD COLUMN assisted INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX tickets_clerk ON tickets(clerk, day) WHERE clerk IS NOT NULL;
    CREATE TABLE kiosk_secret (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        secret TEXT NOT NULL
    );
    INSERT INTO kiosk_secret (id, secret) VALUES (1, lower(hex(randomblob(32))));
    """,
    # 5: the customer's phone: each ticket's follow token (its page on HQ: at least 128 random
    #    bits); a remote ticket (taken on a phone, state 'parked' until checked in at the kiosk)
    #    with its check-in code and the hall time it expires if not checked in
    """
    ALTER TABLE tickets ADD COLUMN follow_token TEXT;
    ALTER TABLE tickets ADD COLUMN check_in_code TEXT;
    ALTER TABLE tickets ADD COLUMN check_in_by_t REAL;
    ALTER TABLE tickets ADD COLUMN check_in_by_wall TEXT;
    CREATE UNIQUE INDEX tickets_follow_token ON tickets(follow_token) WHERE follow_token IS NOT NULL;
    CREATE INDEX tickets_parked ON tickets(check_in_by_t) WHERE state = 'parked';
    CREATE INDEX tickets_check_in_code ON tickets(day, check_in_code) WHERE check_in_code IS NOT NULL;
    """,
    # 6: appointments booked on HQ's public page (HQ sends the day's list; kept here so that
    #    check-in works with HQ away): 'booked', then 'checked_in' (in its window: a head start),
    #    'late' (came after it: an ordinary ticket) or 'missed' (never came)
    """
    CREATE TABLE appointments (
        day TEXT NOT NULL,
        code TEXT NOT NULL,
        service TEXT NOT NULL,
        slot TEXT NOT NULL,
        form TEXT,
        state TEXT NOT NULL DEFAULT 'booked',
        ticket_id INTEGER REFERENCES tickets(id),
        updated_wall TEXT,
        PRIMARY KEY (day, code)
    );
    CREATE INDEX appointments_booked ON appointments(day, slot) WHERE state = 'booked';
    """,
    # 7: the hall time from which the customer is in the hall, where their wait is measured from
    #    (statistics, the estimator's calibration): the issue for a ticket taken here, the check-in
    #    for a remote ticket (NULL while parked), the arrival for an appointment (whose queueing
    #    time is earlier: its head start)
    """
    ALTER TABLE tickets ADD COLUMN present_t REAL;
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)


def apply_migrations(conn: sqlite3.Connection, version: int) -> None:
    """Run every migration after `version` in the caller's transaction, each followed by its
    ``PRAGMA user_version``."""
    for target, script in enumerate(MIGRATIONS[version:], start=version + 1):
        for statement in _split_sql(script):
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {target}")


def _split_sql(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
