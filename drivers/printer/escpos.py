"""A real ESC/POS ticket printer: layout -> python-escpos bytes -> a transport."""

from __future__ import annotations

import logging
from typing import Optional

from drivers.base import FaultListener
from drivers.printer.escpos_cache import prepare as prepare_escpos
from drivers.jobs import TicketPrintJob
from drivers.printer.base import WorkerPrinter
from drivers.printer.status import (QUERY_ERROR_CAUSE, QUERY_OFFLINE_CAUSE, QUERY_PAPER, QUERY_PRINTER,
                             PrinterStatus, parse_status)
from drivers.printer.ticket_layout import LayoutOptions, ticket_bytes
from drivers.transport import Transport

log = logging.getLogger(__name__)


def query_status(transport: Transport, timeout_s: float) -> PrinterStatus:
    """Send ``DLE EOT 1, 2, 3, 4`` one by one and parse the answers (pure protocol logic).

    Stops after the first unanswered query: a printer that says nothing is ``UNKNOWN``.
    """
    transport.discard_input()
    answers: list[Optional[int]] = []
    for query in (QUERY_PRINTER, QUERY_OFFLINE_CAUSE, QUERY_ERROR_CAUSE, QUERY_PAPER):
        transport.write(query)
        data = transport.read(1, timeout_s)
        if not data:
            answers.append(None)
            break
        answers.append(data[-1])
    answers += [None] * (4 - len(answers))
    return parse_status(*answers)


class EscposPrinter(WorkerPrinter):
    """Prints on a real printer through ``transport`` (serial, USB, network, device file).

    ``status_poll_s=0`` turns real-time status off (for printers that never answer
    ``DLE EOT``, e.g. most device-file printers): tickets are then sent unverified.
    """

    def __init__(self, name: str, transport: Transport, layout: LayoutOptions, *,
                 listener: Optional[FaultListener] = None, status_poll_s: float = 5.0,
                 status_timeout_s: float = 0.5, print_timeout_s: float = 30.0,
                 reconnect_s: float = 2.0) -> None:
        layout.width_px  # fail now on a profile without a paper width
        prepare_escpos()  # before escpos reads its capabilities
        import escpos.printer  # noqa: F401 - heavy import done once, at construction

        self.transport = transport
        self.layout = layout
        self.status_timeout_s = status_timeout_s
        super().__init__(name, listener=listener, status_poll_s=status_poll_s,
                         print_timeout_s=print_timeout_s, reconnect_s=reconnect_s)

    def render(self, job: TicketPrintJob) -> bytes:
        return ticket_bytes(job, self.layout)

    def _connect(self) -> None:
        if not self.transport.is_open:
            self.transport.open()
            log.info("%s: connected to %s", self.name, self.transport.name)

    def _disconnect(self) -> None:
        self.transport.close()

    def _query_status(self) -> PrinterStatus:
        return query_status(self.transport, self.status_timeout_s)

    def _send(self, job: TicketPrintJob):
        data = self.render(job)
        self.transport.write(data)
        return len(data), None
