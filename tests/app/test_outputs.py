"""Devices wired to the core: a ticket reaches the printer, a call reaches the displays and the
voice, keys become commands, and a printer fault is recorded while the queue keeps serving."""
from __future__ import annotations

import time

import pytest

from kiosk.app.kiosk_app import KioskApp
from kiosk.config.hardware import HardwareConfig
from kiosk.app.outputs import Outputs, virtual_hardware
from kiosk.sim.waiting import wait_until
from tests.kit.settings import settings_with


def wait_for(cond, timeout=15.0):
    return wait_until(cond, timeout, 0.01)


HALL_HARDWARE = {
        "gpio": "mock",
        "printer": {"driver": "mock", "status_poll_s": 0.05},
        "displays": [{"name": "board", "driver": "mock", "protocol": "alpha"},
                     {"name": "vfd3", "driver": "mock", "protocol": "epson", "counters": [3]}],
        "keypads": [{"counter": 3, "next": 5, "recall": 6, "noshow": 13, "transfer": 19, "pause": 26}],
        "rating_pads": [{"counter": 3, "satisfied": 16, "neutral": 20, "dissatisfied": 21}],
        "lamps": [{"counter": 3, "pin": 12}],
        "stack_light": {"green": 17, "amber": 27, "red": 22},
        "audio": {"driver": "mock"},
}


@pytest.fixture
def hall(tmp_path, settings, clock, pins):
    hw = HardwareConfig.model_validate(HALL_HARDWARE)
    s = settings_with(settings, hardware=hw.model_dump())
    outputs = Outputs(s, pin_factory=pins)
    app = KioskApp(s, tmp_path, clock=clock, devices=outputs).start()
    for c in (1, 2, 3, 4):
        app.set_counter(c, "open").result()
    try:
        yield app, outputs
    finally:
        app.stop()


def events(app, type_):
    return [e.as_message() for e in app.loop.call(lambda: app.store.events_after(0, 10000)) if e.type == type_]


def press(pins, pin):
    p = pins.pin(pin)
    p.drive_low()
    time.sleep(0.06)          # held past the debounce window, as a finger does
    p.drive_high()


def test_ticket_printed_and_recorded(hall):
    app, outputs = hall
    t = app.issue("A").result()
    printer = outputs.hw.printer
    wait_for(lambda: printer.numbers == ["A001"])
    job = printer.printed[0].job
    assert job.ahead == 0 and job.service_names["zh"] == "缴费" and job.ticket_id == t.ticket_id
    wait_for(lambda: events(app, "ticket.printed"))
    assert app.ticket("A001").result()["printed"] == "ok"


def test_call_reaches_displays_voice_and_lamp(hall):
    app, outputs = hall
    app.issue("A").result()
    app.call_next(3).result()
    board, vfd = outputs.hw.displays["board"], outputs.hw.displays["vfd3"]
    wait_for(lambda: any("A001" in line for line in board.lines))
    wait_for(lambda: any("A001" in line for line in vfd.lines))
    wait_for(lambda: outputs.hw.announcer.texts)
    said = " ".join(outputs.hw.announcer.texts)
    assert "A001" in said.replace(" ", "") or "A 0 0 1" in said
    app.issue("B").result()
    app.call_next(1).result()
    wait_for(lambda: any("B001" in line for line in board.lines))
    time.sleep(0.2)
    assert not any("B001" in line for line in vfd.lines)     # vfd3 shows counter 3 only


def test_keypad_and_rating_pad_become_commands(hall, pins):
    app, outputs = hall
    app.issue("A").result(); app.issue("B").result()
    press(pins, 5)                                            # next at counter 3
    wait_for(lambda: events(app, "ticket.called"))
    assert events(app, "ticket.called")[0]["ticket"] == "A001"
    press(pins, 19)                                           # transfer → a service counter 3 does not serve
    wait_for(lambda: events(app, "ticket.transferred"))
    assert events(app, "ticket.transferred")[0]["to_service"] == "V"     # (counter 3 serves A and B)
    press(pins, 26)                                           # pause
    wait_for(lambda: events(app, "counter.paused"))


def test_printer_fault_keeps_the_queue_serving(hall):
    app, outputs = hall
    printer = outputs.hw.printer
    printer.set_faults(paper_out=True)
    wait_for(lambda: events(app, "device.fault"))
    t = app.issue("A").result()                                # the ticket is still issued
    assert t.ticket == "A001"
    wait_for(lambda: events(app, "ticket.print_failed"))
    assert events(app, "ticket.print_failed")[0]["kind"] == "paper_out"   # the screen says why from this
    assert app.ticket("A001").result()["printed"] == "failed"
    assert app.device_status()["printer"]["state"] == "fault"
    assert app.call_next(3).result().ticket == "A001"          # and the queue keeps serving
    printer.clear_faults()
    wait_for(lambda: events(app, "device.recovered"))
    assert app.reprint_last().result(10) == "A001"
    wait_for(lambda: printer.numbers == ["A001"])
    fault = events(app, "device.fault")[0]
    assert fault["device"] == "printer" and fault["kind"] == "paper_out"


def test_stack_light_follows_the_alert_monitor(hall):
    from kiosk.engine.alerts import AlertMonitor
    app, outputs = hall
    monitor = app.loop.call(lambda: AlertMonitor(app.engine, app.settings))
    light = outputs.hw.stack_light
    assert light.level == 0
    for _ in range(4 * 4):                        # 16 waiting for 4 open counters: 4 per counter ≥ 3.5
        app.issue("A").result()
    app.loop.call(monitor.evaluate)
    wait_for(lambda: light.level == 2)
    assert events(app, "alert.raised")[-1]["level"] == 2


def test_paper_near_end_is_a_warning_not_a_fault(hall):
    app, outputs = hall
    outputs.hw.printer.set_faults(paper_near_end=True)
    wait_for(lambda: app.device_status()["printer"]["fault"] == "paper_near_end")
    assert app.device_status()["printer"]["state"] == "ready"        # the screen keeps printing tickets
    app.issue("A").result()
    wait_for(lambda: outputs.hw.printer.numbers == ["A001"])


def test_simulated_hall_uses_virtual_devices(settings):
    hw = virtual_hardware(settings.hardware)
    assert hw.printer.driver == "virtual" and hw.gpio == "virtual"
    assert [d.driver for d in hw.displays] == ["virtual", "virtual"]


def test_a_fault_open_at_a_restart_is_closed_once_the_device_works(tmp_path, settings, clock, pins):
    """A display unplugged when the kiosk was killed and plugged back while it was down: HQ sees
    the recovery instead of a fault open for ever; a device no longer configured is closed too."""
    s = settings_with(settings, hardware=HardwareConfig.model_validate(HALL_HARDWARE).model_dump())
    app = KioskApp(s, tmp_path, clock=clock).start()
    app.record_device("board", True, "unplugged", "board: port gone").result()
    app.record_device("printer", True, "paper_out", "paper out").result()
    app.record_device("old-sign", True, "unplugged", "removed during the night").result()
    assert set(app.open_device_faults().result()) == {"board", "printer", "old-sign"}
    app.stop()

    app = KioskApp(s, tmp_path, clock=clock, devices=Outputs(s, pin_factory=pins)).start()
    try:
        wait_for(lambda: app.open_device_faults().result() == {})
        recovered = {e["device"]: e["kind"] for e in events(app, "device.recovered")}
        assert recovered == {"board": "unplugged", "printer": "paper_out", "old-sign": "unplugged"}
        assert len(events(app, "device.fault")) == 3                 # nothing reported twice
    finally:
        app.stop()



def test_a_serial_signs_virtual_twin_speaks_its_protocol(settings):
    """Under --simulate an Alpha or BX sign becomes a virtual sign of the same dialect (a BX sign
    used to become a virtual Epson VFD)."""
    from kiosk.config.hardware import DisplayConfig
    hw = settings.hardware.model_copy(update={"displays": [
        DisplayConfig(name="board", driver="alpha-serial"), DisplayConfig(name="sign", driver="bx-serial"),
        DisplayConfig(name="vfd", driver="epson-vfd-serial", protocol="epson")]})
    assert [(d.driver, d.protocol) for d in virtual_hardware(hw).displays] == \
        [("virtual", "alpha"), ("virtual", "bx"), ("virtual", "epson")]
