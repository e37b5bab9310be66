"""Printer problems are read from the devices' FaultKind; the kiosk the UI is handed has the shape of KioskPort."""
from __future__ import annotations

import pytest

from drivers.base import FaultKind
from ui.kiosk_port import KioskPort
from ui.texts import FAULT_CODE, PRINTER_TEXT, print_failure_code, printer_code, printer_problem


def printer_status(state: str = "ready", fault: str | None = None) -> dict:
    return {"printer": {"kind": "printer", "state": state, "fault": fault, "reason": "", "since": None}}


def test_every_fault_kind_says_something():
    assert set(FAULT_CODE) == {k.value for k in FaultKind}
    assert set(FAULT_CODE.values()) <= set(PRINTER_TEXT)


@pytest.mark.parametrize(("fault", "code"), [
    (FaultKind.PAPER_OUT, "paper"), (FaultKind.COVER_OPEN, "cover"), (FaultKind.OFFLINE, "noreply"),
    (FaultKind.UNPLUGGED, "noreply"), (FaultKind.NO_REPLY, "noreply"), (FaultKind.TIMEOUT, "noreply"),
    (FaultKind.ERROR, "error"), ("paper_out", "paper"), ("the paper is out", "error"), (None, "error"),
])
def test_printer_code_maps_the_fault_kind(fault, code):
    assert printer_code(fault) == code


def test_printer_problem_from_the_device_status():
    assert printer_problem({}) == "missing"
    assert printer_problem({"display": {"kind": "display", "state": "fault", "fault": "no_reply"}}) == "missing"
    assert printer_problem(printer_status()) is None
    assert printer_problem(printer_status("ready", "paper_near_end")) is None      # a warning: it still prints
    assert printer_problem(printer_status("fault", "paper_out")) == "paper"
    assert printer_problem(printer_status("fault", "cover_open")) == "cover"
    assert printer_problem(printer_status("closed")) == "noreply"
    assert printer_problem(printer_status("fault")) == "error"


def test_a_failed_print_says_its_fault_kind_else_the_printers():
    assert print_failure_code({"reason": "lost the printer while printing", "kind": "unplugged"}, "error") == "noreply"
    assert print_failure_code({"reason": "cover_open"}, None) == "cover"
    assert print_failure_code({"reason": "printer status paper_out (paper_out)"}, "paper") == "paper"
    assert print_failure_code({"reason": "expired before printing"}, None) == "error"


def test_the_kiosk_app_is_a_kiosk_port(kiosk):
    assert isinstance(kiosk, KioskPort)
