"""Ticket printer interface and the behaviour every implementation shares.

``print_ticket(job)`` never blocks and never raises: it returns a Future that always
resolves to a :class:`~drivers.jobs.PrintResult`. ``ok=False`` means the ticket was not
handed out (the core records it as ``ticket.print_failed`` and may reprint on request with
``reprint(job)``). Faults and recoveries go to the fault listener.

Flow of one job on the printer's worker thread: connect (reconnect if needed) -> ask the
real-time status (if enabled) and refuse to print on paper out / cover open / offline /
no answer -> send the bytes -> ask the status again (paper ran out while printing?).
Between jobs the status is polled every ``status_poll_s``; an unplugged printer is retried
every ``reconnect_s`` and reported recovered when it answers again. Every ticket is answered
within ``print_timeout_s`` (a shared deadline thread, so even tickets queued behind a stuck
one); a ticket answered "not printed" is dropped, never printed later.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import dataclasses
import logging
import threading
from concurrent.futures import Future
from typing import Optional

from drivers import deadline as deadlines
from drivers.base import (DeviceError, DeviceFaultError, DeviceState, DeviceUnavailable,
                   FaultKind, FaultListener, FaultTracker)
from drivers.jobs import PrintResult, TicketPrintJob
from drivers.printer.status import UNKNOWN_STATUS, PrinterState, PrinterStatus, describe
from drivers.worker import DeviceWorker

log = logging.getLogger(__name__)

_STATE_FAULT = {
    PrinterState.PAPER_NEAR_END: FaultKind.PAPER_NEAR_END,
    PrinterState.PAPER_OUT: FaultKind.PAPER_OUT,
    PrinterState.COVER_OPEN: FaultKind.COVER_OPEN,
    PrinterState.OFFLINE: FaultKind.OFFLINE,
    PrinterState.UNKNOWN: FaultKind.NO_REPLY,
}


class TicketPrinter(ABC):
    """Interface of a ticket printer (see the module docstring)."""

    name: str

    @abstractmethod
    def print_ticket(self, job: TicketPrintJob) -> "Future[PrintResult]":
        ...

    def reprint(self, job: TicketPrintJob) -> "Future[PrintResult]":
        """Print the ticket again, marked as a reprint."""
        return self.print_ticket(dataclasses.replace(job, reprint=True))

    @abstractmethod
    def status(self) -> PrinterStatus:
        ...

    @property
    @abstractmethod
    def state(self) -> DeviceState:
        ...

    @abstractmethod
    def close(self) -> None:
        ...

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class WorkerPrinter(TicketPrinter):
    """Shared flow on a :class:`DeviceWorker`; subclasses implement the four primitives
    ``_connect()``, ``_disconnect()``, ``_query_status() -> PrinterStatus`` and ``_send(job)``.
    """

    def __init__(self, name: str, *, listener: Optional[FaultListener] = None,
                 status_poll_s: float = 5.0, print_timeout_s: float = 30.0,
                 reconnect_s: float = 2.0) -> None:
        self.name = name
        self.status_enabled = status_poll_s > 0
        self.status_poll_s = status_poll_s
        self.reconnect_s = reconnect_s
        self.print_timeout_s = print_timeout_s
        self.faults = FaultTracker(name, listener)
        self._status: PrinterStatus = UNKNOWN_STATUS
        self._closed = False
        self._lock = threading.Lock()
        self.worker = DeviceWorker(name, default_timeout_s=print_timeout_s,
                                   on_timeout=self._on_timeout)
        self._poll_handle = None
        self._expired: Optional[threading.Event] = None

    def start(self) -> "WorkerPrinter":
        """Connect and start polling in the background (called by the factory)."""
        self.worker.submit(self._tick, name="first status")
        return self

    # -- interface ------------------------------------------------------------------------
    def print_ticket(self, job: TicketPrintJob) -> "Future[PrintResult]":
        outer: Future = Future()
        expired = threading.Event()

        def settle(result: PrintResult) -> bool:
            with self._lock:
                if outer.done():
                    return False
                outer.set_result(result)
            if not result.ok:
                log.warning("%s: ticket %s NOT printed: %s", self.name, job.number, result.reason)
            return True

        def expire() -> None:  # the caller gets an answer within print_timeout_s, always
            expired.set()
            reason = f"ticket {job.number} not printed within {self.print_timeout_s:g} s (printer busy or stuck)"
            with self._lock:
                if outer.done():
                    return
            # report first, so whoever waits on the future already sees the fault
            self.faults.fault(FaultKind.TIMEOUT, reason)
            settle(PrintResult(False, job.number, reason, FaultKind.TIMEOUT.value))

        deadline = deadlines.shared().call_after(self.print_timeout_s, expire)
        inner = self.worker.submit(self._do_print, job, expired, timeout_s=None,
                                   name=f"print {job.number}")

        def done(f: Future) -> None:
            deadline.cancel()
            try:
                result = f.result()
            except DeviceError as exc:
                result = PrintResult(False, job.number, str(exc), FaultKind.ERROR.value)
            except Exception as exc:  # a bug must still give an answer
                log.exception("%s: print %s crashed", self.name, job.number)
                result = PrintResult(False, job.number, repr(exc), FaultKind.ERROR.value)
            if not settle(result) and result.ok:
                log.error("%s: ticket %s printed AFTER it was reported not printed", self.name, job.number)

        inner.add_done_callback(done)
        return outer

    def status(self) -> PrinterStatus:
        return self._status

    def refresh_status(self) -> "Future[PrinterStatus]":
        """Ask the printer now (on its worker)."""
        return self.worker.submit(self._check_status, timeout_s=self.print_timeout_s)

    @property
    def state(self) -> DeviceState:
        if self._closed:
            return DeviceState.CLOSED
        kind = self.faults.kind
        return DeviceState.FAULT if kind not in (None, FaultKind.PAPER_NEAR_END) else DeviceState.READY

    @property
    def fault(self) -> Optional[FaultKind]:
        return self.faults.kind

    def wait_idle(self, timeout_s: float = 5.0) -> bool:
        return self.worker.wait_idle(timeout_s)

    close_drain_s = 5.0
    """On close, tickets already handed over are printed first, for at most this long: a
    customer who tapped just before the kiosk stopped still gets the paper."""

    def close(self) -> None:
        if self._closed:
            return
        if self._poll_handle is not None:
            self._poll_handle.cancel()
        if not self.worker.wait_idle(self.close_drain_s):
            log.warning("%s: closing with tickets still queued after %.0f s: they are reported not printed",
                        self.name, self.close_drain_s)
        self._closed = True
        self.worker.close()
        self._disconnect_quietly()

    # -- primitives -----------------------------------------------------------------------
    @abstractmethod
    def _connect(self) -> None:
        ...

    @abstractmethod
    def _disconnect(self) -> None:
        ...

    @abstractmethod
    def _query_status(self) -> PrinterStatus:
        ...

    @abstractmethod
    def _send(self, job: TicketPrintJob) -> tuple[int, Optional[str]]:
        """Render and send; return (bytes sent, optional artefact path)."""

    # -- flow (worker thread) -------------------------------------------------------------
    def _disconnect_quietly(self) -> None:
        try:
            self._disconnect()
        except Exception:
            log.debug("%s: disconnect failed", self.name, exc_info=True)

    def _on_timeout(self, reason: str) -> None:
        self.faults.fault(FaultKind.TIMEOUT, reason)

    def _check_status(self) -> PrinterStatus:
        """Connect if needed, query, update faults. Raises DeviceUnavailable if unreachable."""
        try:
            self._connect()
        except DeviceUnavailable as exc:
            self._status = UNKNOWN_STATUS
            self.faults.fault(FaultKind.UNPLUGGED, str(exc))
            raise
        if not self.status_enabled:
            return self._status
        try:
            status = self._query_status()
        except DeviceUnavailable as exc:
            self._status = UNKNOWN_STATUS
            self._disconnect_quietly()
            self.faults.fault(FaultKind.UNPLUGGED, str(exc))
            raise
        self._status = status
        if status.state is PrinterState.OK:
            self.faults.clear()
        else:
            reason = ("printer does not answer status queries (DLE EOT)"
                      if status.state is PrinterState.UNKNOWN else describe(status))
            self.faults.fault(_STATE_FAULT[status.state], reason)
        return status

    def _tick(self) -> None:
        """Periodic: poll status or retry a lost connection, then schedule the next tick."""
        if self._closed:
            return
        try:
            self._check_status()
            if not self.status_enabled and self.faults.kind in (FaultKind.UNPLUGGED, FaultKind.TIMEOUT):
                self.faults.clear()
        except DeviceUnavailable:
            pass
        except Exception:
            log.exception("%s: status poll failed", self.name)
        if self._closed:
            return
        if self.status_enabled:
            delay = self.status_poll_s
            if self.faults.kind is FaultKind.UNPLUGGED:
                delay = min(delay, self.reconnect_s)
        elif self.faults.active:
            delay = self.reconnect_s
        else:
            delay = max(self.reconnect_s, 5.0)
        self._poll_handle = self.worker.call_later(delay, self._tick, name="status poll",
                                                   timeout_s=self.print_timeout_s)

    def _do_print(self, job: TicketPrintJob, expired: Optional[threading.Event] = None) -> PrintResult:
        if expired is not None and expired.is_set():  # reported as not printed: never print it
            return PrintResult(False, job.number, "expired before printing", FaultKind.TIMEOUT.value)
        try:
            status = self._check_status()
        except DeviceUnavailable as exc:
            return PrintResult(False, job.number, str(exc), FaultKind.UNPLUGGED.value)
        if self.status_enabled and not status.can_print:
            kind = _STATE_FAULT[status.state].value
            reason = self.faults.reason or describe(status)
            return PrintResult(False, job.number, reason, kind, verified=True)
        if expired is not None and expired.is_set():
            return PrintResult(False, job.number, "expired before printing", FaultKind.TIMEOUT.value)
        self._expired = expired  # lets a slow mock printer drop a ticket reported failed
        try:
            sent, artefact = self._send(job)
        except DeviceUnavailable as exc:
            self._disconnect_quietly()
            self._status = UNKNOWN_STATUS
            self.faults.fault(FaultKind.UNPLUGGED, str(exc))
            return PrintResult(False, job.number, str(exc), FaultKind.UNPLUGGED.value)
        except DeviceFaultError as exc:
            self.faults.fault(exc.kind, exc.reason)
            return PrintResult(False, job.number, exc.reason, exc.kind.value)
        if self.status_enabled:
            try:
                after = self._check_status()
            except DeviceUnavailable as exc:
                return PrintResult(False, job.number, f"lost the printer while printing: {exc}",
                                   FaultKind.UNPLUGGED.value, sent)
            if not after.can_print:
                return PrintResult(False, job.number, f"during printing: {describe(after)}",
                                   _STATE_FAULT[after.state].value, sent, verified=True)
            return PrintResult(True, job.number, "", None, sent, verified=True, png_path=artefact)
        if self.faults.kind in (FaultKind.UNPLUGGED, FaultKind.TIMEOUT):
            self.faults.clear()
        return PrintResult(True, job.number, "", None, sent, verified=False, png_path=artefact)
