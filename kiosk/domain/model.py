"""Domain names shared by every part (see design.md: these are a contract)."""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class TicketState(StrEnum):
    WAITING = "waiting"
    PARKED = "parked"  # a remote ticket that has not checked in at the kiosk: holds its place, not called
    CALLED = "called"
    SERVING = "serving"
    DONE = "done"
    NOSHOW = "noshow"
    TRANSFERRED = "transferred"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


AT_COUNTER = (TicketState.CALLED, TicketState.SERVING)


class CounterState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    PAUSED = "paused"


class PrintState(StrEnum):
    PENDING = "pending"
    OK = "ok"
    FAILED = "failed"


class EventType(StrEnum):
    TICKET_ISSUED = "ticket.issued"
    TICKET_CALLED = "ticket.called"
    TICKET_RECALLED = "ticket.recalled"
    TICKET_STARTED = "ticket.started"
    TICKET_NOSHOW = "ticket.noshow"
    TICKET_TRANSFERRED = "ticket.transferred"
    TICKET_FINISHED = "ticket.finished"
    TICKET_RATED = "ticket.rated"
    TICKET_PRINTED = "ticket.printed"
    TICKET_PRINT_FAILED = "ticket.print_failed"
    TICKET_CANCELLED = "ticket.cancelled"
    TICKET_RELEASED = "ticket.released"
    TICKET_CHECKED_IN = "ticket.checked_in"
    TICKET_EXPIRED = "ticket.expired"
    APPOINTMENT_CHECKED_IN = "appointment.checked_in"
    APPOINTMENT_MISSED = "appointment.missed"
    COUNTER_OPENED = "counter.opened"
    COUNTER_PAUSED = "counter.paused"
    COUNTER_CLOSED = "counter.closed"
    CLERK_SIGNED_IN = "clerk.signed_in"
    CLERK_SIGNED_OUT = "clerk.signed_out"
    DEVICE_FAULT = "device.fault"
    DEVICE_RECOVERED = "device.recovered"
    ALERT_RAISED = "alert.raised"
    ALERT_CLEARED = "alert.cleared"
    DAY_ROLLOVER = "day.rollover"
    DISPLAY_MESSAGE = "display.message"
    SERVICE_HOURS = "service.hours"
    DB_RESTORED = "store.restored"


@dataclass(frozen=True)
class Ticket:
    id: int
    day: str
    number: str
    service: str
    priority: int
    state: TicketState
    issued_wall: str
    counter: int | None
    recalls: int
    noshows: int
    ahead: int | None
    estimate_s: float | None
    printed: str
    rating: int | None


@dataclass(frozen=True)
class IssuedTicket:
    """What the customer gets: the number, people ahead and the printed estimate."""

    ticket: str
    ticket_id: int
    service: str
    priority: int
    ahead: int
    estimate_s: float
    issued_wall: str
    day: str
    follow_token: str | None = None  # its page on HQ (`[phone] follow_url`); kept at the branch


@dataclass(frozen=True)
class CallResult:
    ticket: str
    ticket_id: int
    service: str
    counter: int
    wait_s: float
