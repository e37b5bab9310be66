"""The rule: which notices a ticket's new view sets off for one alert request (pure).

Each condition fires at most once per request: "ahead" when the ticket, waiting or parked, has
that many people ahead or fewer; "minutes" when its estimate is that many minutes or less (both
together make one "turn_near" notice); "on_call" when it is called. A request re-sent with the
same threshold keeps what already fired (the page re-sends on every reconnect).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from kiosk.hq.phone.notify.request import AlertRequest

TURN_NEAR = "turn_near"
CALLED = "called"
QUEUED = ("waiting", "parked")


@dataclass(frozen=True)
class Fired:
    """Which of a request's conditions have already fired."""

    ahead: bool = False
    minutes: bool = False
    called: bool = False


def carried(old: AlertRequest, fired: Fired, new: AlertRequest) -> Fired:
    """What of `fired` (for `old`) still holds for `new`: the conditions whose threshold is unchanged."""
    return Fired(ahead=fired.ahead and old.ahead == new.ahead,
                 minutes=fired.minutes and old.minutes == new.minutes,
                 called=fired.called and old.on_call == new.on_call)


def due(req: AlertRequest, fired: Fired, view: dict[str, Any]) -> tuple[Fired, list[str]]:
    """The conditions fired after `view`, and the notices to send now (TURN_NEAR, CALLED)."""
    events: list[str] = []
    state = view.get("state")
    if state in QUEUED:
        ahead, estimate = view.get("ahead"), view.get("estimate_s")
        by_ahead = req.ahead is not None and not fired.ahead and ahead is not None and ahead <= req.ahead
        by_time = (req.minutes is not None and not fired.minutes and estimate is not None
                   and estimate <= req.minutes * 60)
        if by_ahead or by_time:
            fired = replace(fired, ahead=fired.ahead or by_ahead, minutes=fired.minutes or by_time)
            events.append(TURN_NEAR)
    elif state == "called" and req.on_call and not fired.called:
        fired = replace(fired, called=True)
        events.append(CALLED)
    return fired, events


__all__ = ["CALLED", "Fired", "TURN_NEAR", "carried", "due"]
