"""What the screens say about refusals, printers, alerts, counters and the HQ link.

Printer problems are keys of `PRINTER_TEXT`, found from the devices' `FaultKind` (the `fault`
field of `KioskPort.device_status()`), never from the words of a free-text reason.
No Kivy here.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drivers.base import DeviceState, FaultKind
from kiosk.domain import errors

from ui import i18n


def N_(msgid: str) -> str:
    """Marks a message id for extraction; it is translated where it is shown."""
    return msgid


PRINTER_TEXT = {
    "missing": N_("No ticket printer is connected."),
    "paper": N_("The printer is out of paper."),
    "cover": N_("The printer cover is open."),
    "noreply": N_("The printer is not responding."),
    "error": N_("The printer is out of order."),
}

FAULT_CODE: dict[str, str] = {
    FaultKind.PAPER_OUT.value: "paper",
    FaultKind.COVER_OPEN.value: "cover",
    FaultKind.OFFLINE.value: "noreply",
    FaultKind.UNPLUGGED.value: "noreply",
    FaultKind.NO_REPLY.value: "noreply",
    FaultKind.TIMEOUT.value: "noreply",
    FaultKind.ERROR.value: "error",
    FaultKind.PAPER_NEAR_END.value: "error",   # never a problem on its own: printer_problem skips it
}
"""A printer's fault kind → the key of PRINTER_TEXT that says it."""

READY_STATES = ("ok", DeviceState.READY.value)
CLOSED_CODE = "noreply"      # a closed printer (the kiosk is stopping) answers nothing

ALERT_TEXT = {"queue_level1": N_("many people waiting"), "queue_level2": N_("very many people waiting"),
              "no_counters": N_("people waiting and no counter open"),
              "wait_over_target": N_("waits longer than the target")}
STATE_TEXT = {"open": N_("open"), "paused": N_("paused"), "closed": N_("closed")}
MQTT_TEXT = {"disabled": N_("disabled"), "connecting": N_("connecting"), "connected": N_("connected"),
             "disconnected": N_("disconnected")}


def error_text(exc: BaseException, lang: str) -> str:
    """A refused command in words for the customer / the admin."""
    if isinstance(exc, errors.ServiceClosed):
        return i18n.tr("This service is closed now.", lang)
    if isinstance(exc, errors.DailyCapReached):
        return i18n.tr("No more tickets for this service today.", lang)
    if isinstance(exc, errors.RangeExhausted):
        return i18n.tr("No more ticket numbers for this service today.", lang)
    if isinstance(exc, errors.UnknownService):
        return i18n.tr("This service does not exist.", lang)
    if isinstance(exc, errors.Diverted):
        return i18n.tr("It is very busy: this service takes no tickets now. Please use self-service.", lang)
    if isinstance(exc, errors.UnknownTier):
        return i18n.tr("This membership tier does not exist. Please ask a member of staff.", lang)
    if isinstance(exc, errors.IllegalState):
        return i18n.tr("Not possible now: {why}", lang, why=str(exc))
    if isinstance(exc, errors.KioskError):
        return i18n.tr("Not possible: {why}", lang, why=str(exc))
    return i18n.tr("Something went wrong. Please ask a member of staff.", lang)


def printer_code(fault: FaultKind | str | None) -> str:
    """A printer's fault kind (a `FaultKind` or its value) → a key of PRINTER_TEXT."""
    return FAULT_CODE.get(str(fault or ""), "error")


def printer_problem(status: Mapping[str, Mapping[str, Any]]) -> str | None:
    """None when a printer is attached and ready, else why not (a key of PRINTER_TEXT), from
    the device status dicts (name → {kind, state, fault, reason, since})."""
    printers = [st for name, st in status.items() if st.get("kind") == "printer" or "printer" in str(name).lower()]
    if not printers:
        return "missing"
    for st in printers:
        fault = st.get("fault")
        if fault == FaultKind.PAPER_NEAR_END:
            continue                    # a warning for the staff: it still prints
        if fault:
            return printer_code(fault)
        state = str(st.get("state", "")).lower()
        if state not in READY_STATES:
            return CLOSED_CODE if state == DeviceState.CLOSED.value else "error"
    return None


def print_failure_code(event: Mapping[str, Any], printer_now: str | None) -> str:
    """Why the ticket on screen was not printed (a key of PRINTER_TEXT), from its
    `ticket.print_failed` event: the failure's fault kind (`kind`, or a `reason` that is one),
    else what the printer reports now (`printer_problem`), else "error"."""
    for value in (event.get("kind"), event.get("reason")):
        if str(value or "") in FAULT_CODE:
            return printer_code(value)
    return printer_now or "error"


def printer_text(code: str, lang: str) -> str:
    return i18n.tr(PRINTER_TEXT.get(code, PRINTER_TEXT["error"]), lang)
