"""Device tests for the bench: print, show, press, light, announce.

Each test runs twice (see conftest.py): on the ``dryrun`` rig (pty fakes and mock pins, in CI)
and on the ``hardware`` rig (the devices KIOSK_HIL_* declares; skipped otherwise). On the
hardware rig the tester is asked to press keys (with a time limit) and to confirm what a
machine cannot see (a readable ticket, a frame on a sign, a voice); without a terminal only
the automatic checks run.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest

from drivers.base import DeviceState
from drivers.jobs import CallInfo, TicketPrintJob
from drivers.printer.status import PrinterState
from hil_tests.spec import HilSpec, HilSpecError, display_options, parse_env, printer_options

TEST_JOB = TicketPrintJob(
    number="T001",
    service_names={"zh": "测试", "en": "Test ticket"},
    branch_name={"zh": "硬件测试", "en": "HIL bench"},
    ahead=0,
    estimate_s=60,
    issued_at=dt.datetime(2026, 11, 23, 9, 0),
    languages=("zh", "en"),
    ticket_id=1,
    service="T",
    branch_id="hil",
    footer={"zh": "测试小票，请丢弃", "en": "Test ticket, please discard"},
)


def need(rig, what: str, present) -> None:
    if not present:
        pytest.skip(f"no {what} on the {rig.kind} rig")


def expect_seen(rig, question: str) -> None:
    """Ask the tester to confirm what only a person can see or hear (hardware rig)."""
    answer = rig.tester.confirm(question)
    if answer is False:
        pytest.fail(f"tester says no: {question}")


def test_printer_prints_a_test_ticket_and_reports_status(rig):
    need(rig, "printer", rig.spec.printer)
    printer = rig.hw.printer
    if printer.status_enabled:
        status = printer.refresh_status().result(timeout=30)
        assert status.state in (PrinterState.OK, PrinterState.PAPER_NEAR_END), \
            f"printer not ready: {status.state.value} {sorted(map(str, status.flags))}"
    result = printer.print_ticket(TEST_JOB).result(timeout=120)
    assert result.ok, f"ticket not printed: {result.kind}: {result.reason}"
    assert result.bytes_sent > 0
    assert result.verified == printer.status_enabled
    assert printer.state is DeviceState.READY
    if rig.dry_run:
        fake = rig.fakes["printer"]
        assert fake.wait_for(b"T001")
        assert b"T001" in fake.received_bytes()  # what would be on paper: status queries are not kept
        assert fake.queries >= 2  # status before and after the ticket
    expect_seen(rig, "Did test ticket T001 come out, readable (Chinese and English), and cut?")


def _wait_status(printer, wanted, timeout_s):
    deadline = time.monotonic() + timeout_s
    status = None
    while time.monotonic() < deadline:
        status = printer.refresh_status().result(timeout=30)
        if status.state in wanted:
            return status
        time.sleep(0.2)
    pytest.fail(f"printer status stayed {status.state.value if status else '?'}, wanted "
                f"{'/'.join(w.value for w in wanted)}")


def test_printer_status_follows_the_cover(rig):
    """Read the real-time status while the tester opens and closes the cover."""
    need(rig, "printer", rig.spec.printer)
    printer = rig.hw.printer
    if not printer.status_enabled:
        pytest.skip("this printer connection has no real-time status")
    fake = rig.fakes.get("printer")
    if fake is not None:
        fake.set_state(PrinterState.COVER_OPEN)
    else:
        rig.tester.say(f"open the printer cover (within {rig.spec.key_timeout_s:.0f} s)")
    _wait_status(printer, {PrinterState.COVER_OPEN, PrinterState.OFFLINE}, rig.spec.key_timeout_s)
    result = printer.print_ticket(TEST_JOB).result(timeout=60)
    assert not result.ok and result.kind in ("cover_open", "offline")  # refused, not lost
    if fake is not None:
        fake.set_state(PrinterState.OK)
    else:
        rig.tester.say("close the printer cover")
    _wait_status(printer, {PrinterState.OK, PrinterState.PAPER_NEAR_END}, rig.spec.key_timeout_s)


@pytest.mark.parametrize("recall", [False, True], ids=["call", "recall"])
def test_each_display_shows_frames(rig, recall):
    need(rig, "display", rig.spec.displays)
    call = CallInfo("A023", 3, {"zh": "3号窗口", "en": "Counter 3"}, recall=recall)
    for name, display in rig.hw.displays.items():
        assert display.show_call(call).result(timeout=10) is True, f"{name}: frame not sent"
        assert display.state is DeviceState.READY, f"{name}: {display.fault}"
        if rig.dry_run:
            assert rig.fakes[name].wait_for(b"A023"), f"{name}: no A023 on the wire"
        expect_seen(rig, f"Does {name} show A023 for counter 3?")
        assert display.show_idle("HIL OK").result(timeout=10) is True
        if rig.dry_run:
            assert rig.fakes[name].wait_for(b"HIL OK")


def test_press_each_counter_key(rig):
    need(rig, "keypad", rig.spec.keypads)
    for counter, pins in rig.spec.keypads.items():
        for action in pins:
            event = rig.tester.wait_press(
                f"counter {counter} {action.upper()}", rig.events,
                lambda e, c=counter, a=action: e.source == "keypad" and e.counter == c and e.action == a,
                simulate=rig.simulate(f"counter{counter}.{action}"))
            assert event.at > 0


def test_press_each_rating_key(rig):
    need(rig, "rating pad", rig.spec.rating)
    scores = {"satisfied": 5, "neutral": 3, "dissatisfied": 1}
    for counter, pins in rig.spec.rating.items():
        for key in pins:  # one rating per guard window (1 s): a person is slower than that
            event = rig.tester.wait_press(
                f"rating pad {counter} {key.upper()}", rig.events,
                lambda e, c=counter, k=key: e.source == "rating" and e.counter == c and e.action == k,
                simulate=rig.simulate(f"rating{counter}.{key}"))
            assert event.score == scores[key]


def test_press_each_take_ticket_button(rig):
    need(rig, "take-ticket button", rig.spec.take)
    for service in rig.spec.take:
        event = rig.tester.wait_press(
            f"the take-ticket button for service {service}", rig.events,
            lambda e, s=service: e.source == "take_ticket" and e.service == s,
            simulate=rig.simulate(f"take_ticket.{service}"))
        assert event.action == "take"


def _pin_on(device) -> bool:
    return bool(device.is_lit) if hasattr(device, "is_lit") else bool(device.value)


def test_lamps_buzzer_and_stack_light(rig):
    need(rig, "lamp, buzzer or stack light", rig.spec.lamps or rig.spec.buzzer is not None or rig.spec.stack)
    hw = rig.hw
    if hw.lamps is not None:
        for counter in rig.spec.lamps:
            hw.lamps.set(counter, True)
            assert hw.lamps.is_lit(counter)
            expect_seen(rig, f"Is the lamp of counter {counter} on?")
            hw.lamps.set(counter, False)
            assert not hw.lamps.is_lit(counter)
    if hw.buzzer is not None:
        hw.buzzer.chime()
        assert hw.buzzer.chimes == 1
        expect_seen(rig, "Did the buzzer beep twice?")
    if hw.stack_light is not None:
        for level, colour in ((1, "amber"), (2, "red"), (0, "green")):
            hw.stack_light.set_level(level)
            lit = hw.stack_light.lit()
            if colour in lit:
                assert lit[colour] or level == 2  # red blinks: may be in its off phase
                assert not any(on for name, on in lit.items() if name != colour)
            expect_seen(rig, f"Is only the {colour} light on{' (blinking)' if level == 2 else ''}?")


def test_announcement_plays(rig):
    need(rig, "audio", rig.spec.audio)
    call = CallInfo("A023", 3, {"zh": "3号窗口", "en": "Counter 3"})
    spoken = rig.hw.announcer.announce(call, ("zh", "en")).result(timeout=60)
    assert [s.lang for s in spoken] == ["zh", "en"]
    assert all(s.ticket == "A023" and s.counter == 3 for s in spoken)
    assert rig.hw.announcer.state is DeviceState.READY
    expect_seen(rig, "Did you hear ticket A023 called to counter 3, in Chinese then English?")


def test_no_device_faults_after_the_run(rig):
    """Everything above leaves no fault behind (the same check the core reports to HQ)."""
    faults = {name: kind for name, kind in rig.hw.faults().items() if kind not in (None, "paper_near_end")}
    assert not faults


# --------------------------------------------------------------------------- variables


def test_variables_parse():
    spec = parse_env({
        "KIOSK_HIL_PRINTER": "/dev/kiosk-printer",
        "KIOSK_HIL_PRINTER_BAUD": "9600",
        "KIOSK_HIL_DISPLAYS": "epson:/dev/kiosk-display-1,alpha:/dev/kiosk-display-2@4800",
        "KIOSK_HIL_KEYPADS": "1:next=5,recall=6;2:next=13",
        "KIOSK_HIL_RATING": "1:satisfied=20,neutral=21,dissatisfied=16",
        "KIOSK_HIL_TAKE": "A=4",
        "KIOSK_HIL_LAMPS": "1=17,2=27",
        "KIOSK_HIL_BUZZER": "18",
        "KIOSK_HIL_STACK": "green=22,amber=23,red=24",
        "KIOSK_HIL_AUDIO": "hw:1,0",
        "KIOSK_HIL_KEY_TIMEOUT": "15",
    })
    assert spec.declared and spec.key_timeout_s == 15
    assert spec.printer["driver"] == "escpos-serial" and spec.printer["baud"] == 9600
    assert [d["driver"] for d in spec.displays] == ["epson-vfd-serial", "alpha-serial"]
    assert spec.displays[1]["baud"] == 4800
    assert spec.keypads == {1: {"next": 5, "recall": 6}, 2: {"next": 13}}
    assert spec.lamps == {1: 17, 2: 27} and spec.buzzer == 18
    assert spec.audio["device"] == "hw:1,0"
    from kiosk.config.hardware import HardwareConfig

    HardwareConfig(**spec.hardware_options("gpiozero"))  # valid for the real factory
    assert not parse_env({}).declared
    assert printer_options("usb:04b8:0202", {})["usb_vendor"] == 0x04B8
    assert printer_options("/dev/usb/lp0", {})["driver"] == "escpos-file"
    assert printer_options("tcp:10.0.0.9", {})["tcp_port"] == 9100
    with pytest.raises(HilSpecError, match="KIOSK_HIL_DISPLAYS"):
        display_options("lcd:/dev/x")
    with pytest.raises(HilSpecError, match="KIOSK_HIL_KEYPADS"):
        parse_env({"KIOSK_HIL_KEYPADS": "next=5"})
    assert isinstance(spec, HilSpec)


def test_bench_lock_is_exclusive(tmp_path):
    from hil_tests.bench_lock import bench_lock

    path = str(tmp_path / "bench.lock")
    with bench_lock(path, timeout_s=1):
        with pytest.raises(TimeoutError, match="busy"):
            with bench_lock(path, timeout_s=0.3):
                pass  # pragma: no cover
    with bench_lock(path, timeout_s=0.3):  # released: free again
        pass
