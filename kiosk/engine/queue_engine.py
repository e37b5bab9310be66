"""The queue engine: every command is one durable transaction plus its outbox event.

An illegal command raises a typed `QueueError` and changes nothing (the transaction rolls
back). Hall time (see `timeline`) measures waits; the wall clock only names the business
day and the times printed for people.

The engine's parts live beside it: `transaction` (the command transaction and its outbox
events), `business_day`, `issuing` (availability and numbering), `lookups` (rows a command
works on), `hall_view` (what the estimator sees) and `estimation` (the estimator's feed).
"""
from __future__ import annotations

import logging
import math
import sqlite3
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from kiosk.config.settings import Service, Settings, parse_hours
from kiosk.domain import errors
from kiosk.domain.clock import Clock, SystemClock
from kiosk.domain.model import CallResult, EventType, IssuedTicket, PrintState, TicketState
from kiosk.domain.policy import CallingRule
from kiosk.domain.timeline import HallTime
from kiosk.engine.appointments import Appointments
from kiosk.engine.business_day import current_day
from kiosk.engine.counter_desk import CounterDesk
from kiosk.engine.estimation import Estimator, EstimatorFeed, default_estimator
from kiosk.engine.hall_view import read_hall, static_people_ahead, static_people_ahead_of_new
from kiosk.engine.issuing import handed_out_where, next_number, override_hours, printed_here, why_unavailable
from kiosk.engine.lookups import counter_row, find_ticket, open_counter, ticket_at, ticket_fields
from kiosk.engine.preacceptance import check_assisted, check_form
from kiosk.engine.remote_tickets import REMOTE, RemoteTickets, new_token
from kiosk.engine.routing import (TicketRouting, candidate, reserved_elsewhere, reserved_waiting, unreserved_waiting,
                                  with_reservations)
from kiosk.engine.stats import waiting_since
from kiosk.engine.transaction import Transactions, Tx
from kiosk.estimate import HallView
from kiosk.storage.store import OutboxEvent, Store

log = logging.getLogger(__name__)


class QueueEngine(CounterDesk, TicketRouting, RemoteTickets, Appointments):
    """The queue; its parts `CounterDesk` (clerks, pauses), `TicketRouting` (transfers, waiting list),
    `RemoteTickets` (taken on a phone: parked until checked in) and `Appointments` (booked on HQ)."""

    def __init__(self, store: Store, settings: Settings, clock: Clock | None = None,
                 estimator: Estimator | None = None) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock or SystemClock(settings.day.tz)
        self.time = HallTime(store.conn, self.clock)
        self.estimator = estimator if estimator is not None else default_estimator(settings)
        self._feed = EstimatorFeed(self.estimator)
        self._transactions = Transactions(store, self.clock, self.time, settings, self._feed)
        self._services = {s.prefix: s for s in settings.services}
        self._counters = {c.number: c for c in settings.counters}
        self._starvation = {s.prefix: s.starvation_limit_min * 60 for s in settings.services}
        self._rules = {c.number: CallingRule(c.services, c.vip_first, settings.policy.priority_at, self._starvation,
                                             order=c.order, tier_targets_s=settings.tier_targets_s())
                       for c in settings.counters}
        with self.store.transaction() as conn:
            self.time.anchor()
            for c in settings.counters:
                conn.execute("INSERT OR IGNORE INTO counters (number, state) VALUES (?, 'closed')", (c.number,))
            conn.execute("INSERT OR IGNORE INTO alert_state (id, level, reason) VALUES (1, 0, '')")
        self._feed.warm_start(self.store)

    # -- plumbing ---------------------------------------------------------------------------
    def subscribe(self, listener: Callable[[list[OutboxEvent]], None]) -> None:
        """`listener(events)` runs after each commit, in the committing thread."""
        self._transactions.subscribe(listener)

    @property
    def conn(self) -> sqlite3.Connection:
        return self.store.conn

    def transaction(self) -> AbstractContextManager[Tx]:
        """One durable command: hall time, the business day, rollover check, events after commit.

        Use `emit(tx, type, **fields)` inside it; listeners hear the events once committed."""
        return self._transactions.open()

    def emit(self, tx: Tx, type_: EventType | str, **body: Any) -> OutboxEvent:
        return self._transactions.emit(tx, type_, **body)

    # -- business day -----------------------------------------------------------------------
    def rollover(self) -> str:
        """Start the next business day now (the admin's manual rollover). Returns the new day."""
        with self.transaction() as tx:
            self._transactions.roll_over(tx, force=True)
            return tx.day

    def tick(self) -> None:
        """Run time-driven work: the day rollover, remote tickets not checked in in time, missed appointments."""
        with self.transaction() as tx:
            self.expire_parked(tx)
            self.mark_missed(tx)

    # -- lookups ----------------------------------------------------------------------------
    def _service(self, prefix: str) -> Service:
        svc = self._services.get(prefix.upper() if isinstance(prefix, str) else prefix)
        if svc is None:
            raise errors.UnknownService(f"unknown service {prefix!r} (known: {', '.join(self._services)})")
        return svc

    # -- issuing ----------------------------------------------------------------------------
    def issue(self, service: str, priority: bool = False, member: str | None = None,
              tier: str | None = None, issued_via: str | None = None, *, form: dict[str, Any] | None = None,
              assisted: bool = False, remote_cap: int = 0) -> IssuedTicket:
        """Take a ticket. A priority ticket (`priority`, a `tier` id, or a service whose tickets
        are all priority) gets the tier's rank: `tier`, else the service's tier, else the lowest.
        `issued_via` 'button': a take-ticket button's (voided if its print fails). `form`: the
        pre-acceptance values (`kiosk.engine.preacceptance`); `assisted`: an elderly or assisted customer.
        Every ticket gets a follow token; `issued_via` 'remote' parks it (`RemoteTickets`, `remote_cap`)."""
        svc = self._service(service)
        rank = self.settings.tier_rank(tier) if tier is not None else 0
        stored_form, assisted = check_form(svc, form), check_assisted(assisted)
        with self.transaction() as tx:
            return self.issue_in(tx, svc, priority=priority, member=member, rank=rank, issued_via=issued_via,
                                 stored_form=stored_form, assisted=assisted, remote_cap=remote_cap)

    def issue_in(self, tx: Tx, svc: Service, *, priority: bool = False, member: str | None = None, rank: int = 0,
                 issued_via: str | None = None, stored_form: str | None = None, assisted: bool = False,
                 remote_cap: int = 0, queued_before_s: float = 0.0,
                 extra: dict[str, Any] | None = None) -> IssuedTicket:
        """`issue` inside the caller's transaction (checked form and flag). `queued_before_s`: the
        ticket is queued as if it had come that long ago (an appointment's head start); `extra`:
        more fields of its `ticket.issued` event."""
        self._check_available(tx, svc)
        number, seq = next_number(tx, svc)
        prio = rank or (self.settings.default_rank(svc) if (priority or svc.priority == "vip") else 0)
        cur = tx.conn.execute(
            "INSERT INTO tickets (day, number, service, seq, priority, state, issued_t, queued_t, issued_wall, member, "
            "issued_via, form, assisted, follow_token, present_t) "
            "VALUES (?, ?, ?, ?, ?, 'waiting', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (tx.day, number, svc.prefix, seq, prio, tx.now, tx.now - max(0.0, queued_before_s),
             tx.wall.isoformat(timespec="seconds"), member,
             issued_via, stored_form, int(assisted), token := new_token(), None if issued_via == REMOTE else tx.now))
        tid = cur.lastrowid
        # as if here now; a remote ticket's is not kept for calibration: its wait is counted from its
        # check-in, where its estimate is kept (`RemoteTickets.check_in`)
        hall = self.hall_view(tx)
        estimate, ahead = self.quiet_forecast(hall, tid) if issued_via == REMOTE else self._forecast(hall, tid)
        if issued_via == REMOTE:
            self.park(tx, tid, svc.prefix, remote_cap)
        tx.conn.execute("UPDATE tickets SET ahead = ?, estimate_s = ? WHERE id = ?", (ahead, estimate, tid))
        self.emit(tx, EventType.TICKET_ISSUED, ticket=number, ticket_id=tid, service=svc.prefix,
                   priority=prio, ahead=ahead, estimate_s=estimate, issued=tx.wall.isoformat(timespec="seconds"),
                   **({"pre_accepted": True} if stored_form else {}), **({"assisted": True} if assisted else {}),
                   **({"issued_via": issued_via} if issued_via else {}), **(extra or {}), follow=token)
        if not printed_here(issued_via):   # handed out where it was taken: recorded so now, in this commit
            reason = handed_out_where(issued_via)
            tx.conn.execute("UPDATE tickets SET printed = 'ok', print_reason = ? WHERE id = ?", (reason, tid))
            self.emit(tx, EventType.TICKET_PRINTED, ticket=number, ticket_id=tid, service=svc.prefix, reason=reason)
        return IssuedTicket(number, tid, svc.prefix, prio, ahead, estimate, tx.wall.isoformat(timespec="seconds"), tx.day,
                            token)

    def availability(self, tx: Tx | None, svc: Service) -> str | None:
        """None when the service takes tickets now, else why not: 'hours', 'daily_cap' or 'diverted'."""
        conn = tx.conn if tx else self.conn
        wall = tx.wall if tx else self.clock.wall()
        day = tx.day if tx else current_day(conn, self.clock, self.settings)
        now = tx.now if tx else self.time.now()
        return why_unavailable(conn, svc, wall, day, self.settings.day.tz, settings=self.settings, now=now)

    def _check_available(self, tx: Tx, svc: Service) -> None:
        why = self.availability(tx, svc)
        if why == "hours":
            raise errors.ServiceClosed(f"service {svc.prefix} ({svc.name.en}) is closed now; hours: "
                                       f"{', '.join(self.service_hours(svc.prefix, tx))}")
        if why == "daily_cap":
            raise errors.DailyCapReached(f"service {svc.prefix} has issued its daily cap of {svc.daily_cap} tickets")
        if why == "diverted":
            instead = svc.self_service.en if svc.self_service else "the self-service terminals"
            raise errors.Diverted(f"service {svc.prefix} ({svc.name.en}) takes no tickets during a level 2 peak; "
                                  f"instead: {instead}")

    def service_hours(self, prefix: str, tx: Tx | None = None) -> list[str]:
        hours = override_hours(tx.conn if tx else self.conn, prefix)
        return hours if hours is not None else list(self._service(prefix).hours)

    # -- estimates --------------------------------------------------------------------------
    def hall_view(self, tx: Tx | None = None) -> HallView:
        """The hall the estimator sees, reserved tickets marked with their counter (`with_reservations`)."""
        conn = tx.conn if tx else self.conn
        now = tx.now if tx else self.time.now()
        wall = tx.wall if tx else self.clock.wall()
        return with_reservations(conn, read_hall(conn, now, wall, self.settings, self._counters, self._starvation))

    def _forecast(self, hall: HallView, ticket_id: int) -> tuple[float, int]:
        """(estimated wait, people ahead) of a waiting ticket, from one simulation of the estimator;
        when it fails, no estimate and the people ahead by the rule as it stands."""
        return _checked(lambda: self.estimator.forecast_for(hall, ticket_id),
                        lambda: static_people_ahead(hall, ticket_id))

    def quiet_forecast(self, hall: HallView, ticket_id: int) -> tuple[float, int]:
        """`_forecast` of a later look (the phone's live figures): not kept for calibration."""
        return _checked(lambda: self.estimator.forecast_for(hall, ticket_id, record=False),
                        lambda: static_people_ahead(hall, ticket_id))

    def estimates(self) -> dict[str, float]:
        """The wait a new ticket of each service would have now (for the screen)."""
        return {prefix: wait for prefix, (wait, _) in self.outlook().items()}

    def outlook(self) -> dict[str, tuple[float, int]]:
        """For a new ticket of each service taken now: (its estimated wait, people ahead)."""
        hall = self.hall_view()
        out = {}
        for prefix, svc in self._services.items():
            prio = self.settings.default_rank(svc) if svc.priority == "vip" else 0
            out[prefix] = _checked(lambda: self.estimator.forecast_service(hall, prefix, prio),
                                   lambda: static_people_ahead_of_new(hall, prefix, prio))
        return out

    # -- calling ----------------------------------------------------------------------------
    def call_next(self, counter: int) -> CallResult | None:
        """Finish what the counter holds, then call the next ticket; None when nobody waits."""
        with self.transaction() as tx:
            row = open_counter(tx, self._counters, counter)
            if row["ticket_id"] is not None:
                self._finish(tx, counter)
            reserved = reserved_waiting(tx.conn, counter, row["clerk"])
            if reserved:    # transferred to this counter or its clerk: before the rule's order
                return self._call(tx, counter, reserved[0]["id"])
            waiting = [candidate(r) for r in unreserved_waiting(tx.conn, self._counters[counter].services)]
            pick = self._rules[counter].choose(waiting, tx.now)
            if pick is None:
                return None
            return self._call(tx, counter, pick.ticket_id)

    def call_ticket(self, counter: int, number: str) -> CallResult:
        """Call a given waiting ticket (call by number)."""
        with self.transaction() as tx:
            row = open_counter(tx, self._counters, counter)
            t = find_ticket(tx, number, ("waiting",))
            cfg = self._counters[counter]
            why_not = reserved_elsewhere(t, counter, row["clerk"])
            if why_not:
                raise errors.IllegalState(why_not)
            reserved_here = t["reserved_counter"] is not None or t["reserved_clerk"] is not None
            if t["service"] not in cfg.services and not reserved_here:
                raise errors.IllegalState(f"counter {counter} does not serve service {t['service']} "
                                          f"(it serves {', '.join(cfg.services)})")
            if row["ticket_id"] is not None:
                self._finish(tx, counter)
            return self._call(tx, counter, t["id"])

    def _call(self, tx: Tx, counter: int, ticket_id: int) -> CallResult:
        t = tx.conn.execute("SELECT * FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
        wait = max(0.0, tx.now - waiting_since(t))
        clerk = self._clerk_at(tx, counter)
        tx.conn.execute("UPDATE tickets SET state = 'called', called_t = ?, called_wall = ?, counter = ?, clerk = ?, "
                        "reserved_counter = NULL, reserved_clerk = NULL WHERE id = ?",
                        (tx.now, tx.wall.isoformat(timespec="seconds"), counter, clerk, ticket_id))
        tx.conn.execute("UPDATE counters SET ticket_id = ?, since_t = ? WHERE number = ?", (ticket_id, tx.now, counter))
        self.emit(tx, EventType.TICKET_CALLED, **ticket_fields(t, counter=counter, wait_s=round(wait, 1),
                                                                  **self.clerk_ref(clerk)))
        return CallResult(t["number"], ticket_id, t["service"], counter, wait)

    def _clerk_at(self, tx: Tx, counter: int) -> str | None:
        return tx.conn.execute("SELECT clerk FROM counters WHERE number = ?", (counter,)).fetchone()[0]

    def recall(self, counter: int) -> CallResult:
        with self.transaction() as tx:
            t = ticket_at(tx, self._counters, counter)
            if t["state"] != TicketState.CALLED:
                raise errors.IllegalState(f"ticket {t['number']} is already being served at counter {counter}")
            tx.conn.execute("UPDATE tickets SET recalls = recalls + 1 WHERE id = ?", (t["id"],))
            self.emit(tx, EventType.TICKET_RECALLED, **ticket_fields(t, counter=counter, recalls=t["recalls"] + 1,
                                                                    **self.clerk_ref(self._clerk_at(tx, counter))))
            return CallResult(t["number"], t["id"], t["service"], counter, max(0.0, t["called_t"] - t["queued_t"]))

    def start(self, counter: int) -> str:
        """The customer has reached the counter."""
        with self.transaction() as tx:
            t = ticket_at(tx, self._counters, counter)
            if t["state"] != TicketState.CALLED:
                raise errors.IllegalState(f"ticket {t['number']} is already being served at counter {counter}")
            clerk = self._clerk_at(tx, counter)
            tx.conn.execute("UPDATE tickets SET state = 'serving', started_t = ?, clerk = coalesce(?, clerk) WHERE id = ?",
                            (tx.now, clerk, t["id"]))
            self.emit(tx, EventType.TICKET_STARTED, **ticket_fields(
                t, counter=counter, walk_s=round(max(0.0, tx.now - t["called_t"]), 1), **self.clerk_ref(clerk)))
            return t["number"]

    def finish(self, counter: int) -> str:
        with self.transaction() as tx:
            return self._finish(tx, counter)

    def _finish(self, tx: Tx, counter: int) -> str:
        t = ticket_at(tx, self._counters, counter)
        service_s = max(0.0, tx.now - t["called_t"])
        clerk = self._clerk_at(tx, counter)
        tx.conn.execute("UPDATE tickets SET state = 'done', finished_t = ?, finished_wall = ?, "
                        "started_t = coalesce(started_t, called_t), clerk = coalesce(?, clerk) WHERE id = ?",
                        (tx.now, tx.wall.isoformat(timespec="seconds"), clerk, t["id"]))
        tx.conn.execute("UPDATE counters SET ticket_id = NULL, since_t = ? WHERE number = ?", (tx.now, counter))
        self.emit(tx, EventType.TICKET_FINISHED, **ticket_fields(
            t, counter=counter, service_s=round(service_s, 1),
            wait_s=round(max(0.0, t["called_t"] - t["queued_t"]), 1), **self.clerk_ref(clerk or t["clerk"])))
        return t["number"]

    def noshow(self, counter: int) -> tuple[str, bool]:
        """The called customer did not come. Returns (ticket, requeued)."""
        with self.transaction() as tx:
            t = ticket_at(tx, self._counters, counter)
            if t["state"] != TicketState.CALLED:
                raise errors.IllegalState(f"ticket {t['number']} is being served: finish it instead")
            requeue = self.settings.policy.noshow_requeue and t["noshows"] == 0
            clerk = self._clerk_at(tx, counter) or t["clerk"]
            if requeue:
                tx.conn.execute("UPDATE tickets SET state = 'waiting', noshows = noshows + 1, queued_t = ?, "
                                "counter = NULL, called_t = NULL, clerk = NULL WHERE id = ?", (tx.now, t["id"]))
            else:
                tx.conn.execute("UPDATE tickets SET state = 'noshow', noshows = noshows + 1, finished_t = ?, "
                                "finished_wall = ?, clerk = ? WHERE id = ?",
                                (tx.now, tx.wall.isoformat(timespec="seconds"), clerk, t["id"]))
            tx.conn.execute("UPDATE counters SET ticket_id = NULL, since_t = ? WHERE number = ?", (tx.now, counter))
            self.emit(tx, EventType.TICKET_NOSHOW, **ticket_fields(
                t, counter=counter, requeued=requeue, service_s=round(max(0.0, tx.now - t["called_t"]), 1),
                **self.clerk_ref(clerk)))
            return t["number"], requeue

    def rate(self, number: str, score: int) -> str:
        """A customer's rating (1–5) of a ticket named by its number (console, CLI, HQ)."""
        if not isinstance(score, int) or not 1 <= score <= 5:
            raise errors.IllegalState(f"a rating is a whole number from 1 to 5, not {score!r}")
        with self.transaction() as tx:
            t = find_ticket(tx, number, ("done", "serving", "called"))
            return self._rate(tx, t, score, via="number")

    def rate_at_counter(self, counter: int, score: int) -> str:
        """Rating pad (the pad sends 5, 3 or 1): rates the customer standing at the pad
        (docs/statistics.md, "Ratings: who a pad press rates"). Within `policy.rating_window_s` of
        a finish, until the next customer is started, that is the customer who just finished;
        else the one at the counter. A press with nobody to rate raises `NothingCalled`; a press
        by a customer who has rated already, `IllegalState` — the pad ignores both."""
        if not isinstance(score, int) or not 1 <= score <= 5:
            raise errors.IllegalState(f"a rating is a whole number from 1 to 5, not {score!r}")
        window = self.settings.policy.rating_window_s
        with self.transaction() as tx:
            row = counter_row(tx, self._counters, counter)
            here = None
            if row["ticket_id"] is not None:
                here = tx.conn.execute("SELECT * FROM tickets WHERE id = ?", (row["ticket_id"],)).fetchone()
            left = tx.conn.execute(
                "SELECT * FROM tickets WHERE counter = ? AND day = ? AND state = 'done' AND finished_t >= ? "
                "ORDER BY finished_t DESC, id DESC LIMIT 1", (counter, tx.day, tx.now - window)).fetchone()
            if left is not None and (here is None or here["state"] == TicketState.CALLED):
                if left["rating"] is None or here is None:
                    return self._rate(tx, left, score, via="pad")
                if left["rated_via"] == "pad":
                    raise errors.IllegalState(
                        f"counter {counter}: ticket {left['number']} finished {tx.now - left['finished_t']:.0f} s ago "
                        f"and has already been rated at this pad; a second press before {here['number']} is "
                        "started is theirs, not a rating of the ticket just called")
            if here is None:
                raise errors.NothingCalled(
                    f"counter {counter}: nobody to rate: no ticket at the counter and none finished here "
                    f"in the last {window:g} s (policy.rating_window_s)")
            return self._rate(tx, here, score, via="pad")

    def _rate(self, tx: Tx, t: sqlite3.Row, score: int, *, via: str) -> str:
        """Store the rating (`via`: 'pad' or 'number', see `rate_at_counter`) and emit `ticket.rated`."""
        if t["rating"] is not None:
            raise errors.IllegalState(f"ticket {t['number']} has already been rated")
        tx.conn.execute("UPDATE tickets SET rating = ?, rated_via = ? WHERE id = ?", (score, via, t["id"]))
        self.emit(tx, EventType.TICKET_RATED, **ticket_fields(t, counter=t["counter"], score=score, via=via,
                                                                 **self.clerk_ref(t["clerk"])))
        return t["number"]

    # -- devices, printing, HQ --------------------------------------------------------------
    def record_print(self, ticket_id: int, ok: bool, reason: str = "", kind: str | None = None) -> None:
        """The printer's verdict on a ticket (`kind`: the `FaultKind` value of a failure). A failed
        print is never counted as handed out. A take-ticket button's ticket (`issued_via` 'button')
        still waiting when its print fails is voided — state cancelled, with a `ticket.cancelled`
        event saying why: nobody holds it (a button has no screen to show it), so it is never called."""
        with self.transaction() as tx:
            t = tx.conn.execute("SELECT * FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
            if t is None:
                raise errors.UnknownTicket(f"no ticket with id {ticket_id}")
            state = PrintState.OK if ok else PrintState.FAILED
            # the ticket and what it became if it was transferred before the printer answered
            tx.conn.execute("UPDATE tickets SET printed = ?, print_reason = ? WHERE id = ? OR origin_id = ?",
                            (state.value, reason or None, ticket_id, ticket_id))
            extra = {"kind": kind} if kind and not ok else {}
            self.emit(tx, EventType.TICKET_PRINTED if ok else EventType.TICKET_PRINT_FAILED,
                       **ticket_fields(t, reason=reason, **extra))
            if not ok and t["issued_via"] == "button" and t["state"] == TicketState.WAITING:
                tx.conn.execute("UPDATE tickets SET state = 'cancelled', finished_t = ?, finished_wall = ? WHERE id = ?",
                                (tx.now, tx.wall.isoformat(timespec="seconds"), ticket_id))
                self.emit(tx, EventType.TICKET_CANCELLED, **ticket_fields(
                    t, reason=f"voided: a take-ticket button ticket that was not printed ({kind or reason or 'print failed'})"
                              " is held by nobody", voided=True))

    def fail_interrupted_prints(self, reason: str = "the kiosk restarted while printing") -> list[str]:
        """At start: today's tickets still waiting for the printer's verdict were never confirmed
        as handed out (the process died mid-print). Record them as failed so they can be reprinted."""
        with self.transaction() as tx:
            rows = tx.conn.execute("SELECT * FROM tickets WHERE day = ? AND printed = 'pending' AND seq IS NOT NULL",
                                   (tx.day,)).fetchall()
            for t in rows:
                tx.conn.execute("UPDATE tickets SET printed = 'failed', print_reason = ? WHERE id = ?", (reason, t["id"]))
                self.emit(tx, EventType.TICKET_PRINT_FAILED, **ticket_fields(t, reason=reason))
            return [t["number"] for t in rows]

    def record_device(self, device: str, fault: bool, kind: str, reason: str = "") -> None:
        """A device fault or recovery: an event, and the device's open fault kept (or closed)."""
        with self.transaction() as tx:
            if fault:
                tx.conn.execute("INSERT INTO device_fault (device, kind, reason, since) VALUES (?, ?, ?, ?) "
                                "ON CONFLICT (device) DO UPDATE SET kind = excluded.kind, reason = excluded.reason, "
                                "since = excluded.since", (device, kind, reason, tx.wall.isoformat(timespec="seconds")))
            else:
                tx.conn.execute("DELETE FROM device_fault WHERE device = ?", (device,))
            self.emit(tx, EventType.DEVICE_FAULT if fault else EventType.DEVICE_RECOVERED,
                       device=device, kind=kind, reason=reason)

    def open_device_faults(self) -> dict[str, dict[str, str]]:
        """device → {kind, reason, since} for every fault reported and not yet recovered."""
        rows = self.store.conn.execute("SELECT device, kind, reason, since FROM device_fault").fetchall()
        return {r["device"]: {"kind": r["kind"], "reason": r["reason"], "since": r["since"]} for r in rows}

    def record_event(self, type_: EventType | str, **body: Any) -> None:
        """Record an event that changes no queue state (alerts, HQ messages, restores)."""
        with self.transaction() as tx:
            self.emit(tx, type_, **body)

    def set_service_hours(self, prefix: str, hours: list[str]) -> list[str]:
        svc = self._service(prefix)
        for h in hours:
            try:
                parse_hours(h)
            except ValueError as exc:
                raise errors.IllegalState(str(exc)) from None
        if not hours:
            raise errors.IllegalState("opening hours need at least one range HH:MM-HH:MM")
        with self.transaction() as tx:
            tx.conn.execute("INSERT INTO service_override (prefix, hours) VALUES (?, ?) "
                            "ON CONFLICT (prefix) DO UPDATE SET hours = excluded.hours", (svc.prefix, ",".join(hours)))
            self.emit(tx, EventType.SERVICE_HOURS, service=svc.prefix, hours=hours)
        return hours

    def ticket(self, number: str) -> dict[str, Any]:
        """A ticket of today by number (the live one when numbers wrapped)."""
        with self.transaction() as tx:
            return dict(find_ticket(tx, number))

    def last_issued(self) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT * FROM tickets WHERE seq IS NOT NULL ORDER BY id DESC LIMIT 1").fetchone()
        return dict(row) if row else None

    def current_day(self) -> str:
        with self.transaction() as tx:
            return tx.day


def _checked(forecast: Callable[[], tuple[float, int]], rule_ahead: Callable[[], int]) -> tuple[float, int]:
    """An estimator's (wait, people ahead), checked: a wait is a finite number >= 0 (rounded to
    0.1 s), people ahead a count. An estimate is advice: a failing estimator never refuses a
    ticket; its wait becomes 0 and people ahead come from the rule as it stands."""
    try:
        wait, ahead = forecast()
        wait = float(wait)
        if not (isinstance(ahead, int) and not isinstance(ahead, bool) and ahead >= 0):
            raise ValueError(f"people ahead {ahead!r} is not a count")
    except Exception:  # noqa: BLE001 — advice; the queue goes on without it
        log.exception("estimator failed")
        return 0.0, rule_ahead()
    return (round(max(0.0, wait), 1) if math.isfinite(wait) else 0.0), ahead
