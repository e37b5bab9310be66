"""The take-ticket button never issues a ticket that cannot be handed over (docs/hardware.md,
"Take-ticket buttons"): while the printer is in fault a press is refused with a long beep, and
a button ticket whose print fails after all is voided. The touchscreen, which can show the
number and a QR code, keeps issuing."""
from __future__ import annotations

import dataclasses
import logging
import time

import pytest

from kiosk.app.kiosk_app import KioskApp
from kiosk.app.outputs import Outputs
from kiosk.config.hardware import HardwareConfig
from kiosk.domain import errors
from kiosk.sim.waiting import wait_until
from tests.kit.settings import settings_with

TAKE_A, BUZZER = 23, 24


def wait_for(cond, timeout=15.0):
    return wait_until(cond, timeout, 0.01)


def make_hall(tmp_path, settings, clock, pins, status_poll_s):
    hw = HardwareConfig.model_validate({
        "gpio": "mock",
        "printer": {"driver": "mock", "status_poll_s": status_poll_s},
        "take_ticket": [{"service": "A", "pin": TAKE_A}],
        "buzzer": {"pin": BUZZER},
        "audio": {"driver": "mock"},
    })
    s = settings_with(settings, hardware=hw.model_dump())
    outputs = Outputs(s, pin_factory=pins)
    app = KioskApp(s, tmp_path, clock=clock, devices=outputs).start()
    for c in (1, 2, 3, 4):
        app.set_counter(c, "open").result()
    return app, outputs


@pytest.fixture
def hall(tmp_path, settings, clock, pins):
    app, outputs = make_hall(tmp_path, settings, clock, pins, status_poll_s=0.05)
    try:
        yield app, outputs
    finally:
        app.stop()


@pytest.fixture
def quiet_printer_hall(tmp_path, settings, clock, pins):
    """The printer is asked its status only before each ticket: a fault shows at the next print."""
    app, outputs = make_hall(tmp_path, settings, clock, pins, status_poll_s=600)
    try:
        yield app, outputs
    finally:
        app.stop()


def events(app, type_):
    return [e.as_message() for e in app.loop.call(lambda: app.store.events_after(0, 10000)) if e.type == type_]


def tickets(app):
    return app.loop.call(lambda: [dict(r) for r in app.engine.conn.execute("SELECT * FROM tickets ORDER BY id")])


def press(pins, clock, pin):
    clock.advance(2)                                      # past the button's repeat guard and the debounce
    p = pins.pin(pin)
    p.drive_low()
    time.sleep(0.06)
    p.drive_high()


def long_beeps(pins):
    """How many times the buzzer sounded for 0.5 s or more (a call chimes 0.15 s beeps)."""
    states = pins.pin(BUZZER).states
    return sum(1 for on, off in zip(states, states[1:]) if on.state and not off.state and off.timestamp >= 0.5)


def paper_runs_out_unseen(printer):
    """The paper runs out between two status polls: the printer finds it at the next ticket."""
    printer.switches = dataclasses.replace(printer.switches, paper_out=True)


def test_a_press_while_the_printer_is_out_of_paper_issues_nothing_and_beeps(hall, pins, clock, caplog):
    app, outputs = hall
    outputs.hw.printer.set_faults(paper_out=True)
    wait_for(lambda: events(app, "device.fault"))
    caplog.set_level(logging.WARNING, logger="kiosk.app.outputs")
    press(pins, clock, TAKE_A)
    wait_for(lambda: "take-ticket button A: press refused" in caplog.text)
    assert "paper_out" in caplog.text
    assert tickets(app) == [] and events(app, "ticket.issued") == []
    wait_for(lambda: long_beeps(pins) == 1)
    assert app.call_next(3).result() is None              # and no counter will call anyone for it


def test_the_button_issues_again_once_the_printer_has_recovered(hall, pins, clock):
    app, outputs = hall
    printer = outputs.hw.printer
    printer.set_faults(cover_open=True)
    wait_for(lambda: events(app, "device.fault"))
    press(pins, clock, TAKE_A)
    printer.clear_faults()
    wait_for(lambda: events(app, "device.recovered"))
    press(pins, clock, TAKE_A)
    wait_for(lambda: printer.numbers == ["A001"])
    wait_for(lambda: events(app, "ticket.printed"))
    (t,) = tickets(app)
    assert (t["number"], t["state"], t["printed"], t["issued_via"]) == ("A001", "waiting", "ok", "button")


def test_the_refusal_is_the_printer_unavailable_error(hall, pins, clock):
    app, outputs = hall
    outputs.hw.printer.set_faults(paper_out=True)
    wait_for(lambda: events(app, "device.fault"))
    with pytest.raises(errors.PrinterUnavailable, match=r"printer cannot hand a ticket over \(paper_out\)"):
        app.loop.call(outputs._take_ticket, "A")


def test_a_button_ticket_whose_print_fails_is_voided_and_never_called(quiet_printer_hall, pins, clock):
    app, outputs = quiet_printer_hall
    paper_runs_out_unseen(outputs.hw.printer)
    press(pins, clock, TAKE_A)                            # accepted: the printer looked fine
    wait_for(lambda: events(app, "ticket.cancelled"))
    (t,) = tickets(app)
    assert (t["number"], t["state"], t["printed"], t["issued_via"]) == ("A001", "cancelled", "failed", "button")
    failed, voided = events(app, "ticket.print_failed")[0], events(app, "ticket.cancelled")[0]
    assert failed["kind"] == "paper_out" and voided["voided"] is True and "paper_out" in voided["reason"]
    wait_for(lambda: long_beeps(pins) == 1)               # the customer hears that no ticket came
    assert app.call_next(3).result() is None
    with pytest.raises(errors.IllegalState, match="A001 was voided"):
        app.reprint_last().result(10)                     # nor is it handed over later
    assert outputs.hw.printer.numbers == []


def test_a_touchscreen_ticket_whose_print_fails_stays_in_the_queue(quiet_printer_hall, pins, clock):
    app, outputs = quiet_printer_hall
    paper_runs_out_unseen(outputs.hw.printer)
    app.issue("A").result()                               # the screen shows A001 and a QR code
    wait_for(lambda: events(app, "ticket.print_failed"))
    assert events(app, "ticket.cancelled") == []
    assert tickets(app)[0]["state"] == "waiting"
    assert app.call_next(3).result().ticket == "A001"
    assert long_beeps(pins) == 0
