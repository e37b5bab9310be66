"""Call displays over real ptys (a fake sign parses the packets) and the in-memory (mock and virtual) displays."""

import re

import pytest

from drivers.base import DeviceState
from drivers.display.call_display import AlphaCodec, CallDisplay, EpsonCodec
from drivers.display.mock import MockDisplay
from drivers.display.ports import SerialDisplayPort
from drivers.display.virtual import VirtualDisplay
from drivers.jobs import CallInfo

PACKET = re.compile(rb"\x00{5}\x01(.)(..)\x02(.*?)\x03(....)\x04", re.S)


def alpha_packets(data: bytes):
    """Parse M-Protocol packets like a sign would, checking every checksum."""
    out = []
    for type_code, address, body, check in PACKET.findall(data):
        assert b"%04X" % (sum(b"\x02" + body + b"\x03") & 0xFFFF) == check
        texts = re.findall(rb"\x1b.(.)\x1c.([^\x1b]*)", body[2:])
        out.append((address.decode(), [(mode.decode(), t.decode()) for mode, t in texts]))
    return out


def test_alpha_signs_share_one_rs485_line(pty_device, faults, waiter):
    line = pty_device("rs485")
    port = SerialDisplayPort(line.link, 9600, bytesize=7, parity="E", stopbits=1)
    signs = [CallDisplay(f"sign{a}", port, AlphaCodec(address=a), listener=faults, blink_s=0.05,
                         idle_message="Welcome").start() for a in (1, 2)]
    try:
        signs[0].show_call(CallInfo("A023", 3)).result(10)
        signs[1].show_call(CallInfo("B101", 1)).result(10)
        def settled():
            last = {}
            for address, texts in alpha_packets(bytes(line.received)):
                last[address] = texts
            return (last.get("01", [("", "")])[0] == ("b", "A023 > Counter 3")
                    and last.get("02", [("", "")])[0] == ("b", "B101 > Counter 1"))

        waiter(settled)
        packets = alpha_packets(line.take())
        by_addr = {}
        for address, texts in packets:
            by_addr.setdefault(address, []).append(texts)
        assert by_addr["01"][0][0] == ("b", "    Welcome")  # idle, centred on 16
        assert ("c", "A023 > Counter 3") in by_addr["01"][1]  # blinks first
        assert by_addr["01"][-1][0] == ("b", "A023 > Counter 3")  # then steady
        assert all("A023" not in t for texts in by_addr["02"] for _, t in texts)
        assert not faults.calls
    finally:
        for s in signs:
            s.close()
        port.close()


def test_epson_display_unplug_replug_resends_state(pty_device, faults, waiter):
    dev = pty_device("vfd")
    port = SerialDisplayPort(dev.link, 9600)
    d = CallDisplay("vfd", port, EpsonCodec(), listener=faults, blink_s=0,
                    backoff_s=(0.02, 0.2)).start()
    try:
        assert d.show_call(CallInfo("A023", 3)).result(10)
        waiter(lambda: b"A023 > Counter 3" in dev.received)
        assert dev.take().startswith(b"\x1b@\x1f\x01\x1fX\x04\x0c")  # init first
        dev.unplug()
        assert d.show_call(CallInfo("A024", 2)).result(10) is False  # reported, not raised
        waiter(lambda: faults.has("unplugged"))
        assert d.state is DeviceState.FAULT
        dev.replug()
        waiter(lambda: faults.has("recovered"))
        waiter(lambda: b"A024 > Counter 2" in dev.received)
        data = dev.take()
        assert data.startswith(b"\x1b@")  # the new device gets init + the current screen
        assert b"A023 > Counter 3" in data
        assert faults.calls[-1] == ("vfd", "recovered", "unplugged")
    finally:
        d.close()
        port.close()


def test_port_missing_at_start_is_a_fault_then_recovers(pty_device, faults, waiter):
    dev = pty_device("late")
    dev.unplug()
    port = SerialDisplayPort(dev.link, 9600)
    d = CallDisplay("late", port, EpsonCodec(), listener=faults, backoff_s=(0.02, 0.1)).start()
    try:
        waiter(lambda: faults.has("unplugged"))
        d.show_idle("Closed")
        dev.replug()
        waiter(lambda: faults.has("recovered"))
        waiter(lambda: b"Closed" in dev.received)
    finally:
        d.close()
        port.close()


def test_fault_known_from_before_a_restart_is_not_reported_again_only_its_recovery(pty_device, faults, waiter):
    """The listener remembers the sign was unplugged when the kiosk stopped; it still is at start:
    no second fault event. Plugged back: the recovery is reported."""
    faults.known_fault = lambda name: ("unplugged", "port gone") if name == "late" else None
    dev = pty_device("late")
    dev.unplug()
    port = SerialDisplayPort(dev.link, 9600)
    d = CallDisplay("late", port, EpsonCodec(), listener=faults, backoff_s=(0.02, 0.1))
    assert d.state is DeviceState.FAULT                       # before it even tried
    d.start()
    try:
        assert d.wait_idle()
        waiter(lambda: d._retry is not None)                  # it tried, failed and waits to retry
        assert faults.kinds() == []
        dev.replug()
        waiter(lambda: faults.kinds() == ["recovered"])
        assert faults.calls[0] == ("late", "recovered", "unplugged")
    finally:
        d.close()
        port.close()


@pytest.mark.parametrize("switch,kind", [("unplugged", "unplugged"), ("no_reply", "no_reply")])
def test_mock_display_fault_switches(faults, waiter, switch, kind):
    d = MockDisplay("board", listener=faults, blink_s=0).start()
    try:
        d.show_call(CallInfo("A001", 1)).result(10)
        d.set_faults(**{switch: True})
        d.show_call(CallInfo("A002", 2)).result(10)
        waiter(lambda: faults.has(kind))
        assert d.lines[0] == "A001 > Counter 1"
        d.clear_faults()
        waiter(lambda: faults.has("recovered"))
        waiter(lambda: d.lines and d.lines[0] == "A002 > Counter 2")  # resent after recovery
    finally:
        d.close()


def test_mock_display_slow_times_out_then_recovers(faults, waiter):
    d = MockDisplay("slow", listener=faults, blink_s=0, write_timeout_s=0.1).start()
    try:
        d.wait_idle()
        d.set_faults(slow_s=30)
        fut = d.show_call(CallInfo("A003", 3))
        waiter(lambda: faults.has("timeout"))
        d.clear_faults()
        waiter(fut.done)  # the slow write ends once the switch is off
        waiter(lambda: faults.kinds()[-1] == "recovered")
    finally:
        d.close()


def test_blink_then_steady_and_idle(waiter):
    d = MockDisplay("board", codec=EpsonCodec(), blink_s=0.05).start()
    try:
        d.show_call(CallInfo("A001", 1)).result(10)
        waiter(lambda: d.shown and d.shown[-1].blink_line is None and d.shown[-1].lines[0].startswith("A001"))
        assert any(c.blink_line == 0 for c in d.shown)
        assert b"\x1fE\x0a" in b"".join(d.frames) and d.frames[-1].endswith(b"\x1fE\x00")
        d.show_idle("Welcome").result(10)
        assert d.shown[-1].idle
    finally:
        d.close()


def test_virtual_display_logs(caplog):
    import logging

    caplog.set_level(logging.INFO, logger="drivers.display.virtual")
    d = VirtualDisplay("hall", codec=AlphaCodec(address=1), blink_s=0).start()
    try:
        d.show_call(CallInfo("V001", 2)).result(10)
        assert "V001 > Counter 2" in caplog.text
    finally:
        d.close()


def test_epson_display_screen_as_the_device_sees_it(fake_vfd, faults, waiter):
    """A fake 2x20 display interprets the commands; unplug/replug restores its screen."""
    port = SerialDisplayPort(fake_vfd.link, 9600)
    d = CallDisplay("vfd", port, EpsonCodec(brightness=3), listener=faults, blink_s=0.1,
                    idle_message="Welcome", backoff_s=(0.02, 0.2)).start()
    try:
        waiter(lambda: fake_vfd.lines()[0].strip() == "Welcome")
        assert fake_vfd.brightness == 3 and fake_vfd.resets == 1
        d.show_call(CallInfo("A023", 3))
        d.show_call(CallInfo("B101", 1))
        waiter(lambda: fake_vfd.lines() == ["B101 > Counter 1    ", "A023 > Counter 3    "])
        waiter(lambda: fake_vfd.blink == 0)  # blinked, then steady
        assert b"\x1fE\x0a" in fake_vfd.received
        fake_vfd.unplug()
        d.show_call(CallInfo("V001", 2))
        waiter(lambda: faults.has("unplugged"))
        resets = fake_vfd.resets
        fake_vfd.replug()  # a new device with garbage on its screen
        waiter(lambda: fake_vfd.lines()[0] == "V001 > Counter 2    ")
        assert fake_vfd.resets == resets + 1  # initialised again before the screen was sent
        assert fake_vfd.lines()[1] == "B101 > Counter 1    "
        waiter(lambda: faults.has("recovered"))
        d.show_idle("Closed")
        waiter(lambda: fake_vfd.lines()[0].strip() == "Closed")
    finally:
        d.close()
        port.close()
