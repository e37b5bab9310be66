"""The real ESC/POS printer driver, through a real pty, against a fake printer that parses
what it receives and answers DLE EOT status queries."""

import pytest

from drivers.base import DeviceState
from drivers.printer.escpos import EscposPrinter, query_status
from drivers.printer.status import PrinterState, parse_status
from drivers.printer.ticket_layout import LayoutOptions, ticket_bytes
from drivers.transport import FileTransport, SerialTransport, SocketTransport

QR = "https://q.example/{branch}/{ticket}?id={ticket_id}"


def make_printer(fake, faults, mode="gb18030", **kw):
    layout = LayoutOptions(paper_mm=58, text_mode=mode, qr_url=QR)
    kw.setdefault("status_poll_s", 0.2)
    kw.setdefault("reconnect_s", 0.05)
    kw.setdefault("status_timeout_s", 0.3)
    transport = SerialTransport(fake.link, 115200)
    return EscposPrinter("printer", transport, layout, listener=faults, **kw).start()


@pytest.mark.parametrize("mode", ["gb18030", "image"])
def test_ticket_bytes_arrive_exactly(fake_printer, faults, ticket_job, waiter, mode):
    p = make_printer(fake_printer, faults, mode)
    try:
        result = p.print_ticket(ticket_job).result(10)
        assert result.ok and result.verified, result
        expected = ticket_bytes(ticket_job, p.layout)
        assert result.bytes_sent == len(expected)
        waiter(lambda: len(fake_printer.received) >= len(expected))
        assert fake_printer.take() == expected
        assert p.status().state is PrinterState.OK
        assert p.state is DeviceState.READY
    finally:
        p.close()


@pytest.mark.parametrize("state,kind", [(PrinterState.PAPER_OUT, "paper_out"),
                                        (PrinterState.COVER_OPEN, "cover_open"),
                                        (PrinterState.OFFLINE, "offline")])
def test_blocking_status_refuses_ticket_then_recovers(fake_printer, faults, ticket_job, waiter,
                                                      state, kind):
    p = make_printer(fake_printer, faults)
    try:
        waiter(lambda: p.status().state is PrinterState.OK)
        fake_printer.state = state
        result = p.print_ticket(ticket_job).result(10)
        assert not result.ok and result.kind == kind
        assert fake_printer.take() == b""  # nothing printed
        assert faults.kinds("printer") == [kind]
        fake_printer.state = PrinterState.OK
        waiter(lambda: faults.has("recovered"))  # the background poll sees it
        assert faults.calls[-1] == ("printer", "recovered", kind)
        assert p.print_ticket(ticket_job).result(10).ok
    finally:
        p.close()


def test_paper_near_end_warns_but_prints(fake_printer, faults, ticket_job, waiter):
    p = make_printer(fake_printer, faults)
    try:
        fake_printer.state = PrinterState.PAPER_NEAR_END
        result = p.print_ticket(ticket_job).result(10)
        assert result.ok
        assert faults.kinds() == ["paper_near_end"]
        assert p.state is DeviceState.READY
    finally:
        p.close()


def test_no_reply_is_unknown_not_paper_out(fake_printer, faults, ticket_job, waiter):
    p = make_printer(fake_printer, faults)
    try:
        waiter(lambda: p.status().state is PrinterState.OK)
        fake_printer.answer = False
        result = p.print_ticket(ticket_job).result(10)
        assert not result.ok and result.kind == "no_reply"
        assert p.status().state is PrinterState.UNKNOWN
        fake_printer.answer = True
        waiter(lambda: faults.has("recovered"))
        assert p.print_ticket(ticket_job).result(10).ok
    finally:
        p.close()


def test_unplugged_printer_is_reported_and_reconnected(fake_printer, faults, ticket_job, waiter):
    p = make_printer(fake_printer, faults)
    try:
        assert p.print_ticket(ticket_job).result(10).ok
        fake_printer.unplug()
        result = p.print_ticket(ticket_job).result(10)
        assert not result.ok and result.kind == "unplugged"
        waiter(lambda: faults.has("unplugged"))
        fake_printer.replug()
        waiter(lambda: faults.has("recovered"))
        assert faults.calls[-1] == ("printer", "recovered", "unplugged")
        fake_printer.take()
        assert p.print_ticket(ticket_job).result(10).ok
        waiter(lambda: fake_printer.received.endswith(b"\x1dVB\x00"))
    finally:
        p.close()


def test_status_disabled_prints_unverified(fake_printer, faults, ticket_job, waiter):
    p = make_printer(fake_printer, faults, status_poll_s=0)
    try:
        result = p.print_ticket(ticket_job).result(10)
        assert result.ok and not result.verified
        assert fake_printer.queries == 0
        assert p.status().state is PrinterState.UNKNOWN
    finally:
        p.close()


def test_query_status_over_pty(fake_printer):
    t = SerialTransport(fake_printer.link, 115200)
    t.open()
    try:
        fake_printer.state = PrinterState.COVER_OPEN
        assert query_status(t, 1.0).state is PrinterState.COVER_OPEN
        fake_printer.answer = False
        assert query_status(t, 0.1).state is PrinterState.UNKNOWN
    finally:
        t.close()


@pytest.mark.parametrize("b1,b2,b3,b4,state", [
    (0x12, 0x12, 0x12, 0x12, PrinterState.OK),
    (0x12, 0x12, 0x12, 0x1E, PrinterState.PAPER_NEAR_END),
    (0x1A, 0x32, 0x12, 0x7E, PrinterState.PAPER_OUT),
    (0x1A, 0x16, 0x12, 0x12, PrinterState.COVER_OPEN),
    (0x1A, 0x52, 0x32, 0x12, PrinterState.OFFLINE),
    (None, None, None, None, PrinterState.UNKNOWN),
    (0xFF, 0x12, 0x12, 0x12, PrinterState.UNKNOWN),  # fixed bits wrong: not a status byte
    (0x12, None, None, None, PrinterState.OK),
])
def test_parse_status(b1, b2, b3, b4, state):
    assert parse_status(b1, b2, b3, b4).state is state


def test_file_and_socket_transports(tmp_path):
    import socket
    import threading

    path = tmp_path / "lp0"
    path.write_bytes(b"")
    t = FileTransport(str(path))
    t.open()
    t.write(b"\x1b@hello")
    t.close()
    assert path.read_bytes() == b"\x1b@hello"

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    got = []

    def serve():
        conn, _ = server.accept()
        got.append(conn.recv(100))
        conn.sendall(b"\x12")
        conn.close()

    th = threading.Thread(target=serve, daemon=True)
    th.start()
    s = SocketTransport("127.0.0.1", server.getsockname()[1], timeout_s=5)
    s.open()
    s.write(b"\x10\x04\x01")
    assert s.read(1, 5.0) == b"\x12"
    s.close()
    th.join(5)
    server.close()
    assert got == [b"\x10\x04\x01"]


def test_network_printer_with_status(faults, ticket_job, waiter):
    """escpos-network against a fake printer on a local TCP port (answers DLE EOT)."""
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    got = bytearray()
    stop = threading.Event()

    def serve():
        conn, _ = server.accept()
        conn.settimeout(0.05)
        while not stop.is_set():
            try:
                data = conn.recv(65536)
            except socket.timeout:
                continue
            if not data:
                break
            got.extend(data)
            conn.sendall(b"\x12" * data.count(b"\x10\x04"))
        conn.close()

    th = threading.Thread(target=serve, daemon=True)
    th.start()
    layout = LayoutOptions(paper_mm=80, qr_url=QR)
    p = EscposPrinter("netprinter", SocketTransport("127.0.0.1", server.getsockname()[1]), layout,
                      listener=faults, status_poll_s=0.2).start()
    try:
        result = p.print_ticket(ticket_job).result(10)
        assert result.ok and result.verified
        waiter(lambda: ticket_bytes(ticket_job, layout) in bytes(got))
        assert not faults.calls
    finally:
        p.close()
        stop.set()
        th.join(5)
        server.close()
