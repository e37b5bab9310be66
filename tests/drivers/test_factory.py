"""Building the hall's devices by name from plain options."""

import pytest

from drivers.base import DeviceConfigError
from drivers.display.mock import MockDisplay
from drivers.display.virtual import VirtualDisplay
from drivers.factory import build_display, build_hardware, build_printer
from drivers.jobs import CallInfo
from drivers.printer.escpos import EscposPrinter
from drivers.printer.mock import MockPrinter
from drivers.printer.virtual import VirtualPrinter


def test_empty_config_is_virtual_everywhere(tmp_path, ticket_job):
    hw = build_hardware({}, base_dir=str(tmp_path))
    try:
        assert isinstance(hw.printer, VirtualPrinter)
        assert hw.displays == {} and hw.lamps is None
        result = hw.printer.print_ticket(ticket_job).result(20)
        assert result.ok and result.png_path.startswith(str(tmp_path / "tickets"))
        events = []
        hw.set_sink(events.append)
        hw.inputs.press_key(1, "next")
        assert events[0].action == "next"
        assert hw.announcer.announce(CallInfo("A001", 1), ["zh"]).result(1)[0].text == "请A001号到1号窗口办理"
        assert hw.faults() == {"printer": None, "audio": None}
    finally:
        hw.close()


def test_mock_hall(mock_factory, faults, waiter):
    events = []
    cfg = {
        "gpio": "mock",
        "printer": {"driver": "mock", "paper_mm": 58},
        "displays": [{"name": "hall", "driver": "mock", "protocol": "alpha", "address": 1},
                     {"name": "c1", "driver": "mock", "counters": [1]}],
        "audio": {"driver": "mock"},
        "keypads": [{"counter": 1, "next": 5, "recall": 6}],
        "take_ticket": [{"service": "A", "pin": 17}],
        "rating_pads": [{"counter": 1, "satisfied": 22, "neutral": 23, "dissatisfied": 24}],
        "lamps": [{"counter": 1, "pin": 20}],
        "buzzer": {"pin": 26},
        "stack_light": {"green": 10, "amber": 11, "red": 12},
    }
    hw = build_hardware(cfg, listener=faults, sink=events.append)
    try:
        assert isinstance(hw.printer, MockPrinter)
        assert isinstance(hw.displays["hall"], MockDisplay)
        assert [d.name for d in hw.displays_for(2)] == ["hall"]
        for f in hw.show_call(CallInfo("A001", 1)):
            f.result(10)
        assert hw.displays["c1"].lines[0] == "A001 > Counter 1"
        mock_factory.pin(5).drive_low()
        mock_factory.pin(5).drive_high()
        mock_factory.pin(17).drive_low()
        assert [(e.source, e.action) for e in events] == [("keypad", "next"), ("take_ticket", "take")]
        hw.lamps.set(1, True)
        assert mock_factory.pin(20).state
        hw.printer.set_faults(paper_out=True)
        waiter(lambda: hw.faults()["printer"] == "paper_out")
    finally:
        hw.close()


@pytest.mark.parametrize("options", [
    {"driver": "laser"}, {"driver": "escpos-usb"}, {"driver": "mock", "paper_mm": 76},
    {"driver": "mock", "profile": "default"},
])
def test_bad_printer_options(options):
    with pytest.raises(DeviceConfigError):
        build_printer(**options)


def test_bad_display_options():
    with pytest.raises(DeviceConfigError):
        build_display(driver="hdmi")
    with pytest.raises(DeviceConfigError):
        build_display(driver="alpha-serial", framing="9X3")
    with pytest.raises(DeviceConfigError):
        build_hardware({"gpio": "wiringpi"})


def test_serial_drivers_build_without_the_device(tmp_path, faults, waiter):
    p = build_printer(faults, driver="escpos-serial", port=str(tmp_path / "nope"))
    d = build_display(faults, name="hall", driver="alpha-serial", port=str(tmp_path / "nope2"))
    try:
        assert isinstance(p, EscposPrinter)
        waiter(lambda: faults.has("unplugged", "printer") and faults.has("unplugged", "hall"))
    finally:
        p.close()
        d.close()
    d = build_display(driver="virtual", protocol="alpha")
    assert isinstance(d, VirtualDisplay)
    d.close()


def test_a_stuck_printer_does_not_hold_up_calls(mock_factory, faults):
    """The queue keeps serving: displays and audio answer while the printer hangs."""
    hw = build_hardware({"gpio": "mock", "printer": {"driver": "mock", "print_timeout_s": 5},
                         "displays": [{"driver": "mock", "blink_s": 0}], "audio": {"driver": "mock"}},
                        listener=faults)
    try:
        hw.printer.set_faults(slow_s=30)
        hw.printer.wait_idle(1)
        import datetime as dt

        from drivers.jobs import TicketPrintJob

        stuck = hw.printer.print_ticket(TicketPrintJob("A001", {"en": "Payments"},
                                                       issued_at=dt.datetime(2026, 1, 1)))
        for f in hw.show_call(CallInfo("A001", 1)):
            assert f.result(5) is True
        assert hw.announcer.announce(CallInfo("A001", 1), ["en"]).result(5)
        assert not stuck.done()
        hw.printer.clear_faults()
        assert stuck.result(10).ok
    finally:
        hw.close()


def test_usb_printer_without_pyusb_is_a_config_error():
    from escpos.printer import Usb

    if Usb.is_usable():
        pytest.skip("pyusb is installed here")
    with pytest.raises(DeviceConfigError, match="pyusb"):
        build_printer(driver="escpos-usb", usb_vendor=0x04B8, usb_product=0x0E15)
