"""Finding the rows a command works on inside its transaction, with a typed `QueueError`
when they are not there or not in a state the command accepts."""
from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from kiosk.config.settings import Counter
from kiosk.domain import errors
from kiosk.domain.model import CounterState
from kiosk.engine.transaction import Tx


def counter_row(tx: Tx, counters: Mapping[int, Counter], number: int) -> sqlite3.Row:
    """A configured counter's row; `UnknownCounter` for a number not in the configuration."""
    if number not in counters:
        raise errors.UnknownCounter(
            f"unknown counter {number!r} (known: {', '.join(map(str, counters))})")
    return tx.conn.execute("SELECT * FROM counters WHERE number = ?", (number,)).fetchone()


def open_counter(tx: Tx, counters: Mapping[int, Counter], number: int) -> sqlite3.Row:
    """The counter's row when it is open; `CounterNotOpen` otherwise."""
    row = counter_row(tx, counters, number)
    if row["state"] != CounterState.OPEN:
        raise errors.CounterNotOpen(f"counter {number} is {row['state']}: open it first")
    return row


def ticket_at(tx: Tx, counters: Mapping[int, Counter], counter: int) -> sqlite3.Row:
    """The ticket the counter has called or is serving; `NothingCalled` when it holds none."""
    row = counter_row(tx, counters, counter)
    if row["ticket_id"] is None:
        raise errors.NothingCalled(f"counter {counter} has no ticket called")
    return tx.conn.execute("SELECT * FROM tickets WHERE id = ?", (row["ticket_id"],)).fetchone()


def find_ticket(tx: Tx, number: str, states: tuple[str, ...] | None = None) -> sqlite3.Row:
    """Today's latest ticket with this number (in one of `states`, if given); `UnknownTicket` if none."""
    number = number.strip().upper()
    sql = "SELECT * FROM tickets WHERE day = ? AND number = ? AND state NOT IN ('transferred')"
    rows = tx.conn.execute(sql + " ORDER BY id DESC", (tx.day, number)).fetchall()
    if states:
        rows = [r for r in rows if r["state"] in states]
    if not rows:
        what = f" that is {' or '.join(states)}" if states else ""
        raise errors.UnknownTicket(f"no ticket {number}{what} today ({tx.day})")
    return rows[0]


def ticket_fields(t: sqlite3.Row, **extra: Any) -> dict[str, Any]:
    """The fields every ticket event carries, plus `extra`."""
    return {"ticket": t["number"], "ticket_id": t["id"], "service": t["service"],
            "priority": t["priority"], **extra}
