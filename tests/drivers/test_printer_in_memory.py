"""Virtual and mock printers: every fault switch reported, recovery automatic."""

import dataclasses

import pytest

from drivers.base import DeviceState
from drivers.printer.mock import MockPrinter
from drivers.printer.ticket_layout import LayoutOptions, ticket_bytes
from drivers.printer.virtual import VirtualPrinter


@pytest.fixture
def mock_printer(faults):
    p = MockPrinter("printer", LayoutOptions(paper_mm=80), listener=faults, status_poll_s=0.05,
                    reconnect_s=0.05, print_timeout_s=5).start()
    try:
        yield p
    finally:
        p.close()


def test_mock_records_exact_bytes(mock_printer, ticket_job):
    result = mock_printer.print_ticket(ticket_job).result(10)
    assert result.ok
    assert mock_printer.numbers == ["A023"]
    assert mock_printer.printed[0].data == ticket_bytes(ticket_job, mock_printer.layout)


@pytest.mark.parametrize("switch,kind", [
    ("paper_out", "paper_out"), ("cover_open", "cover_open"), ("offline", "offline"),
    ("unplugged", "unplugged"), ("no_reply", "no_reply"),
])
def test_each_fault_switch(mock_printer, faults, ticket_job, waiter, switch, kind):
    mock_printer.set_faults(**{switch: True})
    waiter(lambda: faults.has(kind))
    result = mock_printer.print_ticket(ticket_job).result(10)
    assert not result.ok and result.kind == kind
    assert mock_printer.numbers == []  # never handed out
    assert mock_printer.state is DeviceState.FAULT
    mock_printer.clear_faults()
    waiter(lambda: faults.has("recovered"))
    assert faults.calls == [("printer", kind, faults.calls[0][2]), ("printer", "recovered", kind)]
    assert mock_printer.print_ticket(ticket_job).result(10).ok
    assert mock_printer.numbers == ["A023"]


def test_paper_near_end_still_prints(mock_printer, faults, ticket_job, waiter):
    mock_printer.set_faults(paper_near_end=True)
    assert mock_printer.print_ticket(ticket_job).result(10).ok
    assert faults.kinds() == ["paper_near_end"]


def test_stuck_printer_answers_every_ticket_in_time_and_prints_none(faults, ticket_job, waiter):
    p = MockPrinter("printer", listener=faults, status_poll_s=0.05, print_timeout_s=0.3).start()
    try:
        p.wait_idle()
        p.set_faults(slow_s=30)
        futs = [p.print_ticket(dataclasses.replace(ticket_job, number=f"A{i:03d}")) for i in range(3)]
        results = [f.result(10) for f in futs]  # all answered, none waits for the stuck one
        assert [(r.ok, r.kind) for r in results] == [(False, "timeout")] * 3
        p.clear_faults()
        waiter(lambda: faults.has("recovered"))
        assert p.wait_idle(10)
        assert p.numbers == []  # a ticket reported "not printed" is never printed later
    finally:
        p.close()


def test_slow_printer_times_out_without_blocking_caller(faults, ticket_job, waiter):
    p = MockPrinter("printer", listener=faults, status_poll_s=0.05, print_timeout_s=0.2).start()
    try:
        p.set_faults(slow_s=30)
        fut = p.print_ticket(ticket_job)  # returns at once
        result = fut.result(10)
        assert not result.ok and result.kind == "timeout"
        assert faults.has("timeout")
        p.clear_faults()  # ends the slow print; the next poll clears the fault
        waiter(lambda: faults.has("recovered"))
        assert p.print_ticket(ticket_job).result(10).ok
    finally:
        p.close()


def test_close_prints_the_tickets_already_handed_over_first(faults, ticket_job):
    """The kiosk stops (systemd, an update) just after three customers tapped: they get paper."""
    p = MockPrinter("printer", listener=faults, status_poll_s=0.05, print_timeout_s=5).start()
    assert p.wait_idle()
    p.set_faults(slow_s=0.2)
    assert p.wait_idle()
    futs = [p.print_ticket(dataclasses.replace(ticket_job, number=f"A{i:03d}")) for i in range(3)]
    p.close()
    assert [f.result(0).ok for f in futs] == [True, True, True]
    assert p.numbers == ["A000", "A001", "A002"]


def test_close_gives_up_on_a_stuck_printer_after_its_drain_time(faults, ticket_job):
    p = MockPrinter("printer", listener=faults, status_poll_s=0.05, print_timeout_s=30).start()
    p.close_drain_s = 0.3
    assert p.wait_idle()
    p.set_faults(slow_s=30)
    assert p.wait_idle()
    futs = [p.print_ticket(dataclasses.replace(ticket_job, number=f"A{i:03d}")) for i in range(2)]
    p.close()                                      # waits 0.3 s, not 30
    queued = futs[1].result(0)
    assert not queued.ok and "closed" in queued.reason   # reported not printed, never printed later
    p.clear_faults()                               # ends the stuck job
    assert "A001" not in p.numbers


def test_reprint_is_marked(mock_printer, ticket_job):
    assert mock_printer.reprint(ticket_job).result(10).ok
    assert mock_printer.printed[0].job.reprint
    assert b"REPRINT" in mock_printer.printed[0].data


def test_virtual_printer_saves_png(tmp_path, ticket_job, faults):
    from PIL import Image

    p = VirtualPrinter("printer", LayoutOptions(paper_mm=58, qr_url="https://q/{ticket}"),
                       out_dir=str(tmp_path / "tickets"), listener=faults).start()
    try:
        result = p.print_ticket(ticket_job).result(20)
        assert result.ok and result.png_path
        with Image.open(result.png_path) as im:
            assert im.width == 384
        p.set_faults(paper_out=True)
        assert p.print_ticket(ticket_job).result(20).kind == "paper_out"
        assert len(list((tmp_path / "tickets").iterdir())) == 1
    finally:
        p.close()
    assert p.state is DeviceState.CLOSED
    assert not p.print_ticket(ticket_job).result(5).ok  # closed: an answer, not a hang
