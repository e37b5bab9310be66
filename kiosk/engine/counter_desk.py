"""The counter desk: which clerk works at each counter, and why a counter is paused.

A clerk is at one counter at a time (a unique index says so too): signing in at another counter
moves them, and signing in at a counter where someone else is signs that person out. Every
call, start, finish, no-show, transfer and rating is recorded with the clerk (``tickets.clerk``);
events carry only ``clerk_ref``, the kiosk's pseudonym of the id (`kiosk.storage.clerk_rows`).

`CounterDesk` is a part of `QueueEngine` (its methods are the engine's).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kiosk.config.settings import Counter, Settings
from kiosk.domain import errors
from kiosk.domain.clock import Clock
from kiosk.domain.model import CounterState, EventType
from kiosk.engine.business_day import current_day
from kiosk.engine.clerk_stats import clerk_figures, empty_figures
from kiosk.engine.lookups import counter_row
from kiosk.engine.transaction import Tx
from kiosk.storage.clerk_rows import check_clerk_id, clerk_ref, clerk_row, kiosk_secret
from kiosk.storage.store import Store



class CounterDesk:
    """Clerks at counters, pauses with a reason, a clerk's figures today."""

    settings: Settings
    store: Store
    clock: Clock
    _counters: Mapping[int, Counter]
    _secret: bytes | None = None

    def clerk_ref(self, clerk_id: str | None) -> dict[str, str]:
        """``{"clerk_ref": …}`` to add to an event body (empty without a clerk)."""
        if clerk_id is None:
            return {}
        if self._secret is None:
            self._secret = kiosk_secret(self.store.conn)
        return {"clerk_ref": clerk_ref(self._secret, clerk_id)}

    def sign_in(self, counter: int, clerk_id: str) -> dict[str, Any]:
        """`clerk_id` works at `counter` from now: {"counter", "clerk", "name", "moved_from", "replaced"}."""
        clerk_id = check_clerk_id(clerk_id)
        with self.transaction() as tx:
            row = counter_row(tx, self._counters, counter)
            clerk = clerk_row(tx.conn, clerk_id)
            if clerk is None:
                raise errors.UnknownClerk(f"no clerk {clerk_id} (kiosk clerk list)")
            if row["clerk"] == clerk_id:
                return {"counter": counter, "clerk": clerk_id, "name": clerk["name"], "moved_from": None,
                        "replaced": None}
            was = tx.conn.execute("SELECT number FROM counters WHERE clerk = ?", (clerk_id,)).fetchone()
            if was is not None:
                self._leave(tx, was[0], clerk_id)
            if row["clerk"] is not None:
                self._leave(tx, counter, row["clerk"])
            tx.conn.execute("UPDATE counters SET clerk = ? WHERE number = ?", (clerk_id, counter))
            self.emit(tx, EventType.CLERK_SIGNED_IN, counter=counter, **self.clerk_ref(clerk_id))
            return {"counter": counter, "clerk": clerk_id, "name": clerk["name"],
                    "moved_from": was[0] if was is not None else None, "replaced": row["clerk"]}

    def sign_out(self, counter: int) -> str | None:
        """Nobody works at `counter` from now; returns who did (None: nobody was signed in)."""
        with self.transaction() as tx:
            row = counter_row(tx, self._counters, counter)
            if row["clerk"] is not None:
                self._leave(tx, counter, row["clerk"])
            return row["clerk"]

    def _leave(self, tx: Tx, counter: int, clerk_id: str) -> None:
        tx.conn.execute("UPDATE counters SET clerk = NULL WHERE number = ?", (counter,))
        self.emit(tx, EventType.CLERK_SIGNED_OUT, counter=counter, **self.clerk_ref(clerk_id))

    def counter_clerk(self, counter: int) -> str | None:
        """The clerk signed in at `counter` (None: nobody)."""
        if counter not in self._counters:
            raise errors.UnknownCounter(f"unknown counter {counter!r} (known: {', '.join(map(str, self._counters))})")
        row = self.store.conn.execute("SELECT clerk FROM counters WHERE number = ?", (counter,)).fetchone()
        return row[0]

    def clerk_day(self, clerk_id: str) -> dict[str, Any]:
        """The clerk's figures for the business day now (`kiosk.engine.clerk_stats`), with the
        counter they are signed in at."""
        clerk_id = check_clerk_id(clerk_id)
        clerk = clerk_row(self.store.conn, clerk_id)
        day = current_day(self.store.conn, self.clock, self.settings)
        found = clerk_figures(self.store.conn, day, day, self.settings, clerk_id)
        limits = {s.prefix: s.counter_limit_min * 60.0 for s in self.settings.services}
        figures = found[0] if found else {"clerk": clerk_id, "name": None, **empty_figures(limits)}
        if clerk is None and not found:
            raise errors.UnknownClerk(f"no clerk {clerk_id}")
        at = self.store.conn.execute("SELECT number FROM counters WHERE clerk = ?", (clerk_id,)).fetchone()
        return {**figures, "name": clerk["name"] if clerk else figures["name"], "day": day,
                "counter": at[0] if at else None}

    def set_counter(self, counter: int, state: str, reason: str | None = None) -> str:
        """Open, pause or close a counter. A pause names one of ``[[pause_reasons]]`` when they are
        configured (and ``policy.pause_reason_required``); only a pause has a reason."""
        try:
            target = CounterState(state)
        except ValueError:
            raise errors.IllegalState(f"a counter can be open, paused or closed, not {state!r}") from None
        reason = self._check_reason(target, reason)
        with self.transaction() as tx:
            row = counter_row(tx, self._counters, counter)
            if row["state"] == target and row["pause_reason"] == reason:
                return target.value
            if target == CounterState.CLOSED and row["ticket_id"] is not None:
                t = tx.conn.execute("SELECT number FROM tickets WHERE id = ?", (row["ticket_id"],)).fetchone()
                raise errors.IllegalState(f"counter {counter} still has ticket {t[0]}: finish, transfer or mark it "
                                          "a no-show first")
            tx.conn.execute("UPDATE counters SET state = ?, pause_reason = ? WHERE number = ?",
                            (target.value, reason, counter))
            kind = {CounterState.OPEN: EventType.COUNTER_OPENED, CounterState.PAUSED: EventType.COUNTER_PAUSED,
                    CounterState.CLOSED: EventType.COUNTER_CLOSED}[target]
            self.emit(tx, kind, counter=counter, **({"reason": reason} if reason else {}),
                      **self.clerk_ref(row["clerk"]))
            return target.value

    def _check_reason(self, target: CounterState, reason: object) -> str | None:
        known = [r.id for r in self.settings.pause_reasons]
        if reason is None or reason == "":
            if target == CounterState.PAUSED and known and self.settings.policy.pause_reason_required:
                raise errors.BadField("reason", f"a pause needs a reason: one of {', '.join(known)}")
            return None
        if target != CounterState.PAUSED:
            raise errors.BadField("reason", f"only a pause has a reason, not {target.value}")
        if not isinstance(reason, str) or reason not in known:
            raise errors.BadField("reason", f"unknown pause reason {reason!r:.40} (known: "
                                            f"{', '.join(known) or 'none configured in [[pause_reasons]]'})")
        return reason
