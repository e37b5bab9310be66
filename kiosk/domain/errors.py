"""The kiosk's exception tree: every error says what is wrong in words a technician can act on."""
from __future__ import annotations


class KioskError(Exception):
    """Base of every error raised on purpose by the kiosk."""


class ConfigError(KioskError, ValueError):
    """The configuration file is missing, unreadable or invalid (names the key)."""


class QueueError(KioskError):
    """An illegal queue operation; nothing was changed."""

    code = "queue_error"


class UnknownService(QueueError, LookupError):
    code = "unknown_service"


class UnknownCounter(QueueError, LookupError):
    code = "unknown_counter"


class UnknownTicket(QueueError, LookupError):
    code = "unknown_ticket"


class CounterNotOpen(QueueError):
    code = "counter_not_open"


class NothingCalled(QueueError):
    code = "nothing_called"


class IllegalState(QueueError):
    code = "illegal_state"


class TicketExpired(IllegalState):
    """A remote ticket not checked in in time (or a ticket of a day that ended)."""

    code = "ticket_expired"


class RangeExhausted(QueueError):
    code = "range_exhausted"


class DailyCapReached(QueueError):
    code = "daily_cap_reached"


class ServiceClosed(QueueError):
    code = "service_closed"


class UnknownTier(QueueError, LookupError):
    code = "unknown_tier"


class Diverted(QueueError):
    """The service stops issuing at a level 2 peak: it has a self-service alternative."""

    code = "diverted"


class RemoteOff(QueueError):
    """The branch (or this service) takes no tickets from the phone."""

    code = "remote_off"


class RemoteCapReached(QueueError):
    """The service has taken its remote tickets of the day."""

    code = "remote_cap"


class PrinterUnavailable(QueueError):
    """The take-ticket button is refused: the printer cannot hand a ticket over now."""

    code = "printer_unavailable"


class StoreError(KioskError):
    """The database cannot be opened or migrated."""


class BadField(QueueError, ValueError):
    """A value handed in (a form field, a note, a pause reason…) is refused; `field` names it."""

    code = "bad_field"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class UnknownClerk(QueueError, LookupError):
    code = "unknown_clerk"


class AccessDenied(KioskError):
    """A PIN was refused; nothing was opened."""

    code = "access_denied"


class BadPin(AccessDenied):
    """A wrong clerk ID or PIN (the two are not told apart)."""

    code = "bad_pin"


class LockedOut(AccessDenied):
    """Too many wrong PINs: no PIN is tried for `locked_s` seconds."""

    code = "locked_out"

    def __init__(self, message: str, locked_s: float) -> None:
        super().__init__(message)
        self.locked_s = locked_s
