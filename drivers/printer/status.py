"""ESC/POS real-time status (``DLE EOT n``): queries and pure parsing of the answers.

Every answer byte has fixed bits: bit 1 and bit 4 set, bit 0 and bit 7 clear
(``byte & 0x93 == 0x12``). A missing or malformed answer never means "no paper": it gives
:attr:`PrinterState.UNKNOWN`.

* ``DLE EOT 1`` printer status: bit 3 offline.
* ``DLE EOT 2`` offline cause: bit 2 cover open, bit 3 paper fed by the button,
  bit 5 printing stopped by paper end, bit 6 an error occurred.
* ``DLE EOT 3`` error cause: bit 3 auto-cutter error, bit 5 unrecoverable, bit 6
  auto-recoverable error.
* ``DLE EOT 4`` roll paper sensor: bits 2+3 near end, bits 5+6 paper end.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Optional

DLE_EOT = b"\x10\x04"
QUERY_PRINTER = DLE_EOT + b"\x01"
QUERY_OFFLINE_CAUSE = DLE_EOT + b"\x02"
QUERY_ERROR_CAUSE = DLE_EOT + b"\x03"
QUERY_PAPER = DLE_EOT + b"\x04"
QUERIES = (QUERY_PRINTER, QUERY_OFFLINE_CAUSE, QUERY_ERROR_CAUSE, QUERY_PAPER)


class PrinterState(str, enum.Enum):
    """What the ticket printer says about itself, worst first when several apply."""

    OK = "ok"
    PAPER_NEAR_END = "paper_near_end"
    PAPER_OUT = "paper_out"
    COVER_OPEN = "cover_open"
    OFFLINE = "offline"
    UNKNOWN = "unknown"  # no (valid) answer: we do not know


# worst first: the state a printer is reported in when several flags apply
_SEVERITY = (PrinterState.COVER_OPEN, PrinterState.PAPER_OUT, PrinterState.OFFLINE,
             PrinterState.PAPER_NEAR_END)


@dataclass(frozen=True)
class PrinterStatus:
    """Parsed real-time status: the overall ``state`` and every flag seen."""

    state: PrinterState
    flags: frozenset = field(default_factory=frozenset)
    raw: bytes = b""

    @property
    def can_print(self) -> bool:
        return self.state in (PrinterState.OK, PrinterState.PAPER_NEAR_END)


UNKNOWN_STATUS = PrinterStatus(PrinterState.UNKNOWN)


def valid_status_byte(b: Optional[int]) -> bool:
    return b is not None and (b & 0x93) == 0x12


def parse_status(printer: Optional[int], offline_cause: Optional[int] = None,
                 error_cause: Optional[int] = None, paper: Optional[int] = None) -> PrinterStatus:
    """Combine the answers to ``DLE EOT 1..4`` (``None`` = no answer) into a status.

    The printer-status byte is required; the others add detail when present.
    """
    raw = bytes(b for b in (printer, offline_cause, error_cause, paper) if b is not None)
    if not valid_status_byte(printer):
        return PrinterStatus(PrinterState.UNKNOWN, frozenset(), raw)
    flags: set[PrinterState] = set()
    extra: set[str] = set()
    if printer & 0x08:
        flags.add(PrinterState.OFFLINE)
    if valid_status_byte(offline_cause):
        if offline_cause & 0x04:
            flags.add(PrinterState.COVER_OPEN)
        if offline_cause & 0x20:
            flags.add(PrinterState.PAPER_OUT)
        if offline_cause & 0x40:
            extra.add("error")
    if valid_status_byte(error_cause):
        if error_cause & 0x08:
            extra.add("cutter_error")
        if error_cause & 0x20:
            extra.add("unrecoverable_error")
        if error_cause & 0x40:
            extra.add("recoverable_error")
    if valid_status_byte(paper):
        if paper & 0x60:
            flags.add(PrinterState.PAPER_OUT)
        elif paper & 0x0C:
            flags.add(PrinterState.PAPER_NEAR_END)
    state = PrinterState.OK
    for candidate in _SEVERITY:
        if candidate in flags:
            state = candidate
            break
    if state is PrinterState.OK and extra & {"unrecoverable_error", "cutter_error"}:
        state = PrinterState.OFFLINE
    return PrinterStatus(state, frozenset(flags) | frozenset(extra), raw)


def describe(status: PrinterStatus) -> str:
    """A short sentence for logs and fault reasons."""
    names = sorted(f.value if isinstance(f, PrinterState) else str(f) for f in status.flags)
    detail = f" ({', '.join(names)})" if names else ""
    return f"printer status {status.state.value}{detail}"


def encode_status(state: PrinterState) -> tuple[int, int, int, int]:
    """Answers a healthy/faulty printer gives to ``DLE EOT 1..4`` (for fakes and tests)."""
    printer, offline, error, paper = 0x12, 0x12, 0x12, 0x12
    if state is PrinterState.PAPER_NEAR_END:
        paper = 0x1E
    elif state is PrinterState.PAPER_OUT:
        printer, offline, paper = 0x1A, 0x32, 0x7E
    elif state is PrinterState.COVER_OPEN:
        printer, offline = 0x1A, 0x16
    elif state is PrinterState.OFFLINE:
        printer, offline, error = 0x1A, 0x52, 0x32
    return printer, offline, error, paper
