"""Ticket printers in memory with fault switches: the common base of
:class:`~drivers.printer.mock.MockPrinter` (tests, records every ticket and its bytes) and
:class:`~drivers.printer.virtual.VirtualPrinter` (laptop demo, saves every ticket as a PNG).

Fault switches, like OctoPrint's virtual printer (set with :meth:`InMemoryPrinter.set_faults`,
all off with :meth:`InMemoryPrinter.clear_faults`): ``paper_near_end``, ``paper_out``,
``cover_open``, ``offline``, ``unplugged`` (cannot connect, writes fail), ``no_reply`` (status
queries go unanswered), ``slow_s`` (each ticket takes this long; clearing the switch ends the
wait).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass
from typing import Optional

from drivers.base import DeviceFaultError, DeviceUnavailable, FaultKind, FaultListener
from drivers.jobs import TicketPrintJob
from drivers.printer.base import WorkerPrinter
from drivers.printer.status import UNKNOWN_STATUS, PrinterState, PrinterStatus, encode_status, parse_status
from drivers.printer.ticket_layout import LayoutOptions, layout_ticket, encode_escpos


@dataclass
class PrinterFaults:
    paper_near_end: bool = False
    paper_out: bool = False
    cover_open: bool = False
    offline: bool = False
    unplugged: bool = False
    no_reply: bool = False
    slow_s: float = 0.0

    def state(self) -> PrinterState:
        for flag, state in (("cover_open", PrinterState.COVER_OPEN),
                            ("paper_out", PrinterState.PAPER_OUT),
                            ("offline", PrinterState.OFFLINE),
                            ("paper_near_end", PrinterState.PAPER_NEAR_END)):
            if getattr(self, flag):
                return state
        return PrinterState.OK


@dataclass(frozen=True)
class PrintedTicket:
    job: TicketPrintJob
    data: bytes
    png_path: Optional[str] = None


class InMemoryPrinter(WorkerPrinter):
    """A printer that lives in memory; subclasses decide what "printing" leaves behind."""

    def __init__(self, name: str, layout: Optional[LayoutOptions] = None, *,
                 listener: Optional[FaultListener] = None, status_poll_s: float = 1.0,
                 print_timeout_s: float = 30.0, reconnect_s: float = 1.0) -> None:
        self.layout = layout or LayoutOptions()
        self.switches = PrinterFaults()
        self._switch_lock = threading.Lock()
        self.printed: list[PrintedTicket] = []
        self._connected = False
        super().__init__(name, listener=listener, status_poll_s=status_poll_s,
                         print_timeout_s=print_timeout_s, reconnect_s=reconnect_s)

    # -- fault switches ----------------------------------------------------------------
    def set_faults(self, **switches) -> None:
        """Turn fault switches on/off, e.g. ``set_faults(paper_out=True)``; polls at once."""
        with self._switch_lock:
            self.switches = dataclasses.replace(self.switches, **switches)
        if not self._closed:
            self.worker.submit(self._poll_once, name="poll after switch")

    def clear_faults(self) -> None:
        with self._switch_lock:
            self.switches = PrinterFaults()
        if not self._closed:
            self.worker.submit(self._poll_once, name="poll after switch")

    def _poll_once(self) -> None:
        try:
            self._check_status()
            if not self.status_enabled and not self.switches.unplugged:
                self.faults.clear()
        except DeviceUnavailable:
            pass

    # -- primitives ----------------------------------------------------------------------
    def _connect(self) -> None:
        if self.switches.unplugged:
            self._connected = False
            raise DeviceUnavailable(f"{self.name}: printer unplugged (simulated)")
        self._connected = True

    def _disconnect(self) -> None:
        self._connected = False

    def _query_status(self) -> PrinterStatus:
        sw = self.switches
        if sw.unplugged:
            raise DeviceUnavailable(f"{self.name}: printer unplugged (simulated)")
        if sw.no_reply:
            return UNKNOWN_STATUS
        return parse_status(*encode_status(sw.state()))

    def _send(self, job: TicketPrintJob):
        deadline = time.monotonic() + self.switches.slow_s
        while self.switches.slow_s and time.monotonic() < deadline:
            time.sleep(0.01)
        if self.switches.unplugged:
            raise DeviceUnavailable(f"{self.name}: printer unplugged while printing (simulated)")
        if self._expired is not None and self._expired.is_set():
            raise DeviceFaultError(FaultKind.TIMEOUT, f"{self.name}: too slow, ticket {job.number} dropped (simulated)")
        elements = layout_ticket(job, self.layout)
        data = encode_escpos(elements, self.layout)
        path = self._keep(job, elements, data)
        return len(data), path

    def _keep(self, job, elements, data) -> Optional[str]:
        self.printed.append(PrintedTicket(job, data))
        return None
