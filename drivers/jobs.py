"""Plain data handed to the drivers by the core (``drivers`` imports nothing from ``kiosk``)."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Mapping, Optional, Union

Text = Union[str, Mapping[str, str]]
"""A text in one language (``str``) or per language (``{"zh": "缴费", "en": "Payments"}``)."""


def pick(text: Optional[Text], lang: str, fallback: str = "") -> str:
    """The text in ``lang``; else English; else the first one given; else ``fallback``."""
    if text is None:
        return fallback
    if isinstance(text, str):
        return text
    for key in (lang, "en"):
        if text.get(key):
            return text[key]
    for value in text.values():
        if value:
            return value
    return fallback


@dataclass(frozen=True)
class NearbyBranch:
    """A nearby branch named on a ticket printed at a peak: its name, how far, how many wait there."""

    name: Text
    km: float
    waiting: int


@dataclass(frozen=True)
class TicketPrintJob:
    """Everything printed on one ticket.

    ``languages`` orders the per-language lines (first = main language). ``qr_url`` is the
    finished URL; when ``None`` the printer fills its configured template instead (fields
    ``{branch}``, ``{ticket}``, ``{ticket_id}``, ``{service}``, ``{day}``). ``tier_name``:
    the priority tier of a priority ticket ("钻石" / "Diamond"); ``self_service``: where else
    the service can be done, printed at a peak; ``nearby``: the nearest other branches with
    their waiting, printed at a peak; ``quiet_hours``: the hall's usually quiet hours, printed
    in the footer.
    """

    number: str
    service_names: Mapping[str, str]
    branch_name: Text = ""
    ahead: Optional[int] = None
    estimate_s: Optional[float] = None
    estimate_text: Optional[Mapping[str, str]] = None
    issued_at: Optional[_dt.datetime] = None
    qr_url: Optional[str] = None
    footer: Optional[Text] = None
    languages: tuple[str, ...] = ("zh", "en")
    ticket_id: Optional[int] = None
    service: str = ""
    branch_id: str = ""
    reprint: bool = False
    tier_name: Optional[Text] = None
    self_service: Optional[Text] = None
    nearby: tuple[NearbyBranch, ...] = ()
    quiet_hours: Optional[Text] = None


@dataclass(frozen=True)
class PrintResult:
    """Outcome of one print job. ``ok`` False: the ticket was NOT handed out.

    ``kind`` is a :class:`~drivers.base.FaultKind` value when it failed; ``verified`` says
    whether the printer's real-time status confirmed the result (False when it cannot answer).
    """

    ok: bool
    number: str
    reason: str = ""
    kind: Optional[str] = None
    bytes_sent: int = 0
    verified: bool = False
    png_path: Optional[str] = None


@dataclass(frozen=True)
class CallInfo:
    """A ticket called to a counter (what displays show and the announcer says)."""

    ticket: str
    counter: int
    counter_name: Mapping[str, str] = field(default_factory=dict)
    recall: bool = False


@dataclass(frozen=True)
class InputEvent:
    """A debounced press, handed to the core's sink.

    ``source``: ``"keypad"`` (``action`` one of next/recall/noshow/transfer/pause),
    ``"take_ticket"`` (``service`` is set), ``"rating"`` (``action`` satisfied/neutral/
    dissatisfied, ``score`` 5/3/1). ``at`` is ``time.monotonic()`` of the press edge.
    """

    source: str
    action: str
    counter: Optional[int] = None
    service: Optional[str] = None
    score: Optional[int] = None
    at: float = 0.0
