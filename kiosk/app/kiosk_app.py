"""`KioskApp`: builds the running kiosk from its settings and wires inputs → core → outputs.

Everything that touches the engine runs on the command loop's thread. The UI, GPIO callbacks
and MQTT commands call the `submit`/`call` helpers here; outputs and telemetry subscribe to
the event hub.
"""
from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from kiosk.engine import readmodel
from kiosk.domain.clock import Clock, SystemClock
from kiosk.domain.model import CallResult, EventType, IssuedTicket
from kiosk.engine.command_loop import CommandLoop
from kiosk.config.settings import Settings
from kiosk.engine.event_hub import EventHub
from kiosk.engine.estimation import Estimator
from kiosk.engine.follow_view import FollowView
from kiosk.engine.queue_engine import QueueEngine
from kiosk.engine.quiet_hours import QuietHours
from kiosk.app.attachments import Attachment, Devices, Uplink
from kiosk.storage.store import Store, db_path

log = logging.getLogger(__name__)

DEFAULT_DATA = Path("var")
T = TypeVar("T")


def data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """`--data`, else `KIOSK_DATA`, else ./var (the Pi's unit sets /var/lib/kiosk)."""
    return Path(explicit or os.environ.get("KIOSK_DATA") or DEFAULT_DATA)


class KioskApp:
    """The core of a running kiosk (store, engine, event hub, command loop) and the parts handed
    to it at construction: `devices`, `alerts`, `uplink` (see `kiosk.app.attachments`)."""

    def __init__(self, settings: Settings, data: str | os.PathLike | None = None, *, clock: Clock | None = None,
                 estimator: Estimator | None = None, devices: Devices | None = None,
                 alerts: Attachment | None = None, uplink: Uplink | None = None) -> None:
        self.settings = settings
        self.data_dir = data_dir(data)
        self.clock = clock or SystemClock(settings.day.tz)
        self._estimator = estimator
        self.loop = CommandLoop()
        self.quiet = QuietHours(settings)
        self._follow = FollowView()
        self._neighbours: dict[str, Any] | None = None
        self.store: Store | None = None
        self.engine: QueueEngine | None = None
        self.hub: EventHub | None = None
        self._stopping = threading.Event()
        self._closers: list[Callable[[], None]] = []
        self.devices = devices
        self.alerts = alerts
        self.uplink = uplink

    # -- life cycle ---------------------------------------------------------------------------
    def start(self) -> KioskApp:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.loop.start()
        self.loop.call(self._open_core)
        self.loop.every(0.5, self._poll_other_processes)
        self.loop.every(self._hall_interval(30.0), self._tick)
        self.loop.every(self._hall_interval(3600.0), self.housekeeping)
        try:
            for part in self._parts():
                self._closers.append(part.close)  # also a part that fails half-way is closed
                part.start(self)
        except BaseException:
            self.stop()
            raise
        return self

    def _parts(self) -> list[Attachment]:
        return [p for p in (self.devices, self.alerts, self.uplink) if p is not None]

    def _hall_interval(self, seconds: float) -> float:
        """A period of hall time in real seconds: shorter in accelerated simulations (at least 1 s)."""
        speed = float(getattr(self.clock, "speed", 1.0))
        return max(1.0, seconds / speed) if speed > 1.0 else seconds

    def _open_core(self) -> None:
        self.store = Store(db_path(self.data_dir), synchronous=self.settings.store.synchronous)
        self.engine = QueueEngine(self.store, self.settings, self.clock, self._estimator)
        self.hub = EventHub(self.store)
        self.engine.subscribe(self.hub.publish)

    def stop(self) -> None:
        self._stopping.set()
        closers, self._closers = self._closers, []   # a second stop closes nothing twice
        for fn in reversed(closers):
            try:
                fn()
            except Exception:  # noqa: BLE001
                log.exception("closing %r failed", fn)
        if self.store is not None:
            try:
                self.loop.call(self.store.close, timeout=10)
            except Exception:  # noqa: BLE001
                log.exception("closing the store failed")
        self.loop.stop()

    def wait(self, timeout: float | None = None) -> bool:
        return self._stopping.wait(timeout)

    # -- periodic work (core thread) ------------------------------------------------------------
    def _poll_other_processes(self) -> None:
        if self.hub:
            self.hub.poll()

    def _tick(self) -> None:
        if self.engine:
            self.engine.tick()

    def housekeeping(self) -> None:
        if self.engine and self.store:
            keep_s = self.settings.store.event_retention_days * 86400
            pruned = self.store.prune_delivered(self.engine.time.now() - keep_s)
            if pruned:
                log.info("pruned %d delivered events older than %.0f days", pruned,
                         self.settings.store.event_retention_days)

    # -- commands from any thread: each runs on the core thread and returns a Future ------------
    def _run(self, fn: Callable[[QueueEngine], T]) -> Future[T]:
        return self.loop.submit(lambda: fn(self.engine))

    def issue(self, service: str, *, priority: bool = False, member: str | None = None,
              tier: str | None = None, form: dict[str, Any] | None = None,
              assisted: bool = False, issued_via: str | None = None) -> Future[IssuedTicket]:
        """Take a ticket; `tier` (an id of `settings.tiers`) is the priority tier of a priority ticket;
        `form`: pre-acceptance values for the service's form; `assisted`: an elderly or assisted customer;
        `issued_via`: where it is handed out when not at this kiosk's printer (`kiosk.app.outputs`)."""
        return self._run(lambda e: e.issue(service, priority=priority, member=member, tier=tier,
                                           issued_via=issued_via, form=form, assisted=assisted))

    def issue_remote(self, service: str, form: dict[str, Any] | None = None) -> Future[dict[str, Any]]:
        """A ticket taken on a phone through HQ (with the service's pre-acceptance `form`, if filled
        in there): parked until checked in (`kiosk.engine.remote_tickets`)."""
        return self._run(lambda e: e.issue_remote(service, form))

    def check_in(self, code_or_url: str) -> Future[dict[str, Any]]:
        """Check in a remote ticket by its 6-digit code, its follow token or follow URL; the ticket."""
        def run(e: QueueEngine) -> dict[str, Any]:
            out = e.check_in(code_or_url)
            self._follow.refresh_now()
            return out
        return self._run(run)

    def store_appointments(self, days: dict[str, list[dict[str, Any]]]) -> Future[dict[str, int]]:
        """HQ's list of bookings for these days replaces the stored one (`kiosk.engine.appointments`)."""
        return self._run(lambda e: e.store_appointments(days))

    def set_neighbours(self, doc: dict[str, Any]) -> None:
        """The nearest branches with their live waiting, from HQ (`kiosk.mqtt.hq_data.check_neighbours`)."""
        self._neighbours = doc

    def neighbours(self) -> dict[str, Any] | None:
        """The latest nearest branches HQ sent, or None (in memory: HQ sends them again on connect)."""
        return self._neighbours

    def follow_view(self) -> Future[dict[str, Any]]:
        """The follow message for the customers' phones (`kiosk.engine.follow_view`)."""
        return self._run(lambda e: self._follow.read(e))

    def call_next(self, counter: int) -> Future[CallResult | None]:
        return self._run(lambda e: e.call_next(counter))

    def call_ticket(self, counter: int, number: str) -> Future[CallResult]:
        return self._run(lambda e: e.call_ticket(counter, number))

    def recall(self, counter: int) -> Future[CallResult]:
        return self._run(lambda e: e.recall(counter))

    def start_service(self, counter: int) -> Future[str]:
        return self._run(lambda e: e.start(counter))

    def finish(self, counter: int) -> Future[str]:
        return self._run(lambda e: e.finish(counter))

    def noshow(self, counter: int) -> Future[tuple[str, bool]]:
        return self._run(lambda e: e.noshow(counter))

    def transfer(self, counter: int, service: str | None = None, *, to_counter: int | None = None,
                 to_clerk: str | None = None, note: str | None = "") -> Future[str]:
        """To the queue of `service`, or reserved for `to_counter` / `to_clerk`; `note` travels with it."""
        return self._run(lambda e: e.transfer(counter, service, to_counter=to_counter, to_clerk=to_clerk, note=note))

    def release(self, number: str) -> Future[str]:
        """A reserved waiting ticket goes back to the normal order."""
        return self._run(lambda e: e.release(number))

    def rate(self, number: str, score: int) -> Future[str]:
        return self._run(lambda e: e.rate(number, score))

    def rate_at_counter(self, counter: int, score: int) -> Future[str]:
        return self._run(lambda e: e.rate_at_counter(counter, score))

    def set_counter(self, counter: int, state: str, reason: str | None = None) -> Future[str]:
        """Open, pause (with a reason of ``[[pause_reasons]]``) or close a counter."""
        return self._run(lambda e: e.set_counter(counter, state, reason))

    def sign_in(self, counter: int, clerk_id: str) -> Future[dict[str, Any]]:
        """The clerk works at `counter` now (moved from any other; PIN checked by `ClerkBook.verify`)."""
        return self._run(lambda e: e.sign_in(counter, clerk_id))

    def sign_out(self, counter: int) -> Future[str | None]:
        return self._run(lambda e: e.sign_out(counter))

    def counter_clerk(self, counter: int) -> Future[str | None]:
        return self._run(lambda e: e.counter_clerk(counter))

    def waiting_list(self, counter: int) -> Future[list[dict[str, Any]]]:
        """The tickets waiting for `counter`, in the order it will call them."""
        return self._run(lambda e: e.waiting_list(counter))

    def clerk_day(self, clerk_id: str) -> Future[dict[str, Any]]:
        """The clerk's figures today."""
        return self._run(lambda e: e.clerk_day(clerk_id))

    def set_service_hours(self, prefix: str, hours: list[str]) -> Future[list[str]]:
        return self._run(lambda e: e.set_service_hours(prefix, hours))

    def rollover(self) -> Future[str]:
        return self._run(lambda e: e.rollover())

    def record_print(self, ticket_id: int, ok: bool, reason: str = "", kind: str | None = None) -> Future[None]:
        return self._run(lambda e: e.record_print(ticket_id, ok, reason, kind))

    def fail_interrupted_prints(self) -> Future[list[str]]:
        return self._run(lambda e: e.fail_interrupted_prints())

    def record_device(self, device: str, fault: bool, kind: str, reason: str = "") -> Future[None]:
        return self._run(lambda e: e.record_device(device, fault, kind, reason))

    def open_device_faults(self) -> Future[dict[str, dict[str, str]]]:
        return self._run(lambda e: e.open_device_faults())

    def record_event(self, type_: EventType | str, **body: Any) -> Future[None]:
        return self._run(lambda e: e.record_event(type_, **body))

    def resend_events(self, first: int, last: int) -> Future[dict[str, int | None]]:
        """HQ's ``resend``: the kept events `first`..`last` marked undelivered, on the core thread (the
        outbox drain finds them behind its position and publishes them again)."""
        return self.loop.submit(lambda: self.store.mark_undelivered(first, last))

    def ticket(self, number: str) -> Future[dict[str, Any]]:
        return self._run(lambda e: e.ticket(number))

    def current_day(self) -> Future[str]:
        return self._run(lambda e: e.current_day())

    def snapshot(self, timeout: float = 10) -> dict[str, Any]:
        """The queue now (`kiosk.engine.readmodel.snapshot`), read on the core thread; waits for it."""
        return self.loop.call(lambda: self._snapshot(self.engine), timeout=timeout)

    def read_snapshot(self) -> Future[dict[str, Any]]:
        """The same without waiting: the Future gives it once the core thread has read it."""
        return self._run(self._snapshot)

    def _snapshot(self, engine: QueueEngine) -> dict[str, Any]:
        """`readmodel.snapshot` with the hall's usually quiet hours in its ``phone`` block (what HQ's
        public branch page says of when to come)."""
        snap = readmodel.snapshot(engine)
        snap["phone"]["quiet"] = self.quiet.phrases(engine.conn, self.clock.wall())
        return snap

    def recent_calls(self, limit: int = 8, timeout: float = 10) -> list[dict[str, Any]]:
        return self.loop.call(lambda: readmodel.recent_calls(self.engine, limit), timeout=timeout)

    def quiet_hours(self, timeout: float = 10) -> dict[str, str]:
        """The hall's usually quiet hours, one phrase per language ({} without enough history);
        computed once per business day."""
        return self.loop.call(lambda: self.quiet.phrases(self.engine.conn, self.clock.wall()), timeout=timeout)

    def subscribe(self, listener: Callable[[dict[str, Any]], None]) -> Callable[[], None]:
        """Every committed event, on the core thread (hand it on; do not block). Returns the
        unsubscribe, to call from any thread (it does nothing once the core has stopped)."""
        remove = self.loop.call(lambda: self.hub.subscribe(listener))

        def unsubscribe() -> None:
            if self.loop.thread.is_alive():
                self.loop.call(remove, timeout=5)
        return unsubscribe

    # -- devices and connections (for the admin screen) ----------------------------------------
    def device_status(self) -> dict[str, dict[str, Any]]:
        """name → {"kind", "state", "reason", "since"} for every attached device."""
        return self.devices.status() if self.devices is not None else {}

    def mqtt_state(self) -> dict[str, Any]:
        """{"state": "disabled"|"connecting"|"connected"|"disconnected", "since", "error", "backlog"}."""
        if self.uplink is None:
            return {"state": "disabled", "since": None, "error": None}
        return dict(self.uplink.state)

    def reprint_last(self) -> Future:
        """Print the last issued ticket again (admin / customer asked)."""
        return self.loop.submit(self._reprint_last)

    def _reprint_last(self) -> str:
        from kiosk.domain.errors import KioskError
        last = self.engine.last_issued()
        if last is None:
            raise KioskError("no ticket has been issued yet")
        if self.devices is None:
            raise KioskError("no printer is attached")
        self.devices.reprint(last)
        return last["number"]

    def test_print(self) -> Future:
        from kiosk.domain.errors import KioskError

        def run() -> None:
            if self.devices is None:
                raise KioskError("no printer is attached")
            self.devices.test_print()
        return self.loop.submit(run)
