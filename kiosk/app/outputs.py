"""Devices wired to the core: domain events → printer, displays, voice, lamps, stack light;
keypads, take-ticket buttons and rating pads → commands; device faults → events.

Every device runs on its own worker (see `drivers/`), so nothing here blocks the core thread:
event handlers only hand jobs over, and results come back as commands through the loop.
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import TYPE_CHECKING, Any

from drivers.base import RECOVERED, DeviceState
from drivers.jobs import CallInfo, InputEvent, NearbyBranch, PrintResult, TicketPrintJob

from kiosk.config.settings import Settings
from kiosk.config.hardware import DisplayConfig, HardwareConfig
from kiosk.app.hardware import build_devices
from kiosk.domain.errors import IllegalState, KioskError, PrinterUnavailable, UnknownCounter
from kiosk.domain.model import IssuedTicket
from kiosk.engine.alerts import current_state
from kiosk.engine.issuing import handed_out_where, printed_here
from kiosk.estimate import humanize_wait

if TYPE_CHECKING:
    from kiosk.app.kiosk_app import KioskApp

log = logging.getLogger(__name__)

REFUSED_BEEP_S = 0.8
"""A take-ticket press that gives no ticket: one long beep of the buzzer (a call chimes two short ones)."""


def virtual_hardware(hw: HardwareConfig) -> HardwareConfig:
    """The same hall with virtual devices: PNG tickets, displays in the log, console keys."""
    serial_protocol = {"alpha-serial": "alpha", "bx-serial": "bx"}   # what a serial sign's virtual twin speaks
    displays = [d.model_copy(update={"driver": "virtual",
                                     "protocol": serial_protocol.get(d.driver, d.protocol)})
                for d in hw.displays] or [DisplayConfig(name="hall-board", driver="virtual", protocol="alpha"),
                                          DisplayConfig(name="counter-vfd", driver="virtual", protocol="epson")]
    return hw.model_copy(update={
        "gpio": "virtual",
        "printer": hw.printer.model_copy(update={"driver": "virtual"}),
        "displays": displays,
        "audio": hw.audio.model_copy(update={"driver": "silent"}),
    })




class Outputs:
    """The devices of `settings.hardware` (virtual ones with `simulate`), as a `Devices` part of
    the app: built and subscribed to the events when the app starts, closed when it stops."""

    def __init__(self, settings: Settings, *, simulate: bool = False, pin_factory: Any = None) -> None:
        self.settings = settings
        self.hardware_config = virtual_hardware(settings.hardware) if simulate else settings.hardware
        self.pin_factory = pin_factory
        self._since: dict[str, str] = {}
        self._lock = threading.Lock()
        self.hw: Any = None

    def start(self, app: KioskApp) -> None:
        self.app = app
        self._open_faults = app.open_device_faults().result(30)
        self._since.update({name: f["since"] for name, f in self._open_faults.items()})
        self.hw = build_devices(self.hardware_config, listener=_FaultListener(self), sink=self._on_input,
                                repeat_guard_s=self.settings.policy.repeat_guard_s,
                                base_dir=str(app.data_dir), pin_factory=self.pin_factory,
                                clock=app.clock.monotonic, tz=self.settings.day.tz)
        self._close_faults_of_removed_devices()
        self.kinds = {self.hw.printer.name: "printer", **{n: "display" for n in self.hw.displays},
                      getattr(self.hw.announcer, "name", "audio"): "audio"}
        app.subscribe(self.on_event)

    # -- events → devices (core thread; never blocks) -----------------------------------------
    def on_event(self, ev: dict[str, Any]) -> None:
        handler = _HANDLERS.get(ev["type"])
        if handler is not None:
            handler(self, ev)

    def _issued(self, ev: dict[str, Any]) -> None:
        """A new ticket: printed here when it is handed out here; a ticket handed out elsewhere (a
        QR on a floor tablet, a satellite's own printer) was recorded as handed out when it was
        issued (`QueueEngine.issue`), and is never printed here."""
        via = ev["issued_via"] if "issued_via" in ev else self._issued_via(ev.get("ticket_id"))
        if printed_here(via):
            self._print(self._job(ev, reprint=False))

    def _issued_via(self, ticket_id: int | None) -> str | None:
        row = self.app.engine.conn.execute("SELECT issued_via FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
        return row[0] if row else None

    def _print(self, job: TicketPrintJob) -> None:
        fut = self.hw.printer.print_ticket(job)
        tid = job.ticket_id

        def done(f) -> None:
            try:
                result: PrintResult = f.result()
            except Exception as exc:  # noqa: BLE001 — the driver promises not to, but be safe
                result = PrintResult(False, job.number, reason=str(exc))
            if tid is not None:
                self.app.record_print(tid, result.ok, result.reason, result.kind)
        fut.add_done_callback(done)

    def _job(self, t: dict[str, Any], *, reprint: bool) -> TicketPrintJob:
        """The print job of a ticket (a `ticket.issued` event or a ticket row), with the service's
        self-service hint and the nearest other branches (`app.neighbours`, HQ's) at a peak (alert
        level 1 or more, as every reader sees it) and the hall's usually quiet hours."""
        svc = self.settings.service(t["service"])
        hint = None
        nearby: tuple[NearbyBranch, ...] = ()
        try:
            doc = self.app.neighbours()
        except Exception:  # noqa: BLE001 — a hint never stops a ticket
            log.exception("the nearby branches cannot be read; the ticket is printed without them")
            doc = None
        candidates = nearby_branches(doc, t["service"])
        if (svc is not None and svc.self_service is not None) or candidates:
            engine = self.app.engine
            if current_state(engine.conn, engine.time.now(), self.settings)[0].level >= 1:
                if svc is not None and svc.self_service is not None:
                    hint = svc.self_service.model_dump(exclude_none=True)
                nearby = candidates
        quiet: dict[str, str] = {}
        if self.settings.quiet_hours.on_ticket:
            try:
                quiet = self.app.quiet_hours()
            except Exception:  # noqa: BLE001 — a footer line never stops a ticket
                log.exception("the quiet hours cannot be read; the ticket is printed without them")
        return ticket_job(self.settings, t, reprint=reprint, self_service=hint, quiet_hours=quiet or None,
                          nearby=nearby)

    def _call_info(self, ev: dict[str, Any], recall: bool) -> CallInfo:
        c = self.settings.counter(ev["counter"])
        names = {lang: c.display_name(lang) for lang in ("zh", "en")} if c else {}
        return CallInfo(ev["ticket"], ev["counter"], names, recall=recall)

    def _called(self, ev: dict[str, Any]) -> None:
        call = self._call_info(ev, recall=ev["type"] == "ticket.recalled")
        self.hw.show_call(call)
        if self.hw.buzzer is not None:
            self.hw.buzzer.chime()
        self.hw.announcer.announce(call, tuple(self.settings.languages.announce))
        if self.hw.lamps is not None:
            self.hw.lamps.blink(ev["counter"])

    def _left_counter(self, ev: dict[str, Any]) -> None:
        if self.hw.lamps is not None and ev.get("counter") is not None:
            self.hw.lamps.set(ev["counter"], False)

    def _message(self, ev: dict[str, Any]) -> None:
        for d in self.hw.displays.values():
            d.show_idle(str(ev.get("text", "")))

    def _alert(self, ev: dict[str, Any]) -> None:
        """The stack light shows the hall's peak level, which every alert event carries (a
        long-service or satisfaction alert clearing does not clear a peak)."""
        if self.hw.stack_light is not None:
            self.hw.stack_light.set_level(int(ev.get("level") or 0))

    # -- inputs → commands (gpiozero's thread: enqueue only) -----------------------------------
    def _on_input(self, ev: InputEvent) -> None:
        self.app.loop.submit(self._handle_input, ev)

    def _handle_input(self, ev: InputEvent) -> Any:
        engine = self.app.engine
        try:
            if ev.source == "take_ticket":
                return self._take_ticket(ev.service)
            if ev.source == "rating":
                return engine.rate_at_counter(ev.counter, ev.score)
            if ev.action == "next":
                return engine.call_next(ev.counter)
            if ev.action in ("recall", "noshow"):
                return getattr(engine, ev.action)(ev.counter)
            if ev.action == "transfer":
                return engine.transfer(ev.counter, self._transfer_target(ev.counter))
            if ev.action == "pause":
                state = engine.conn.execute("SELECT state FROM counters WHERE number = ?", (ev.counter,)).fetchone()
                if state is None:
                    raise KioskError(f"unknown counter {ev.counter}")
                return engine.set_counter(ev.counter, "open" if state[0] == "paused" else "paused")
        except KioskError as exc:
            self._refused(ev, exc)
            return None
        log.warning("unknown input %r", ev)
        return None

    def _refused(self, ev: InputEvent, exc: KioskError) -> None:
        """A press that changes nothing: logged; at a take-ticket button also heard."""
        if ev.source == "take_ticket":
            log.warning("take-ticket button %s: press refused, no ticket issued: %s", ev.service, exc)
            self._signal_no_ticket()
        elif ev.source == "rating":
            log.warning("rating pad at counter %s: press ignored: %s", ev.counter, exc)
        else:
            log.warning("%s %s at counter %s refused: %s", ev.source, ev.action, ev.counter, exc)

    def _take_ticket(self, service: str) -> IssuedTicket:
        """A take-ticket button press. A button has no screen to show a number on, so a ticket the
        printer cannot hand over would be held by nobody: the press is refused while the printer is
        in fault, and the ticket is marked as the button's (`issued_via`), which voids it should its
        print fail after all (`QueueEngine.record_print`)."""
        printer = self.hw.printer
        if printer.state != DeviceState.READY:
            fault = self.hw.faults().get(printer.name) or printer.state.value
            raise PrinterUnavailable(f"the printer cannot hand a ticket over ({fault}): no ticket issued for "
                                     f"service {service}")
        return self.app.engine.issue(service, issued_via="button")

    def _signal_no_ticket(self) -> None:
        """What the customer at a take-ticket button hears when no ticket comes out."""
        if self.hw.buzzer is not None:
            self.hw.buzzer.buzzer.beep(REFUSED_BEEP_S, 0.1, n=1, background=True)

    def _voided(self, ev: dict[str, Any]) -> None:
        """A button ticket voided because its print failed: the customer got nothing, and hears it."""
        if ev.get("voided"):
            log.warning("ticket %s voided: %s", ev.get("ticket"), ev.get("reason"))
            self._signal_no_ticket()

    def _transfer_target(self, counter: int) -> str:
        """The transfer key's service: one this counter does not serve (it would call the customer
        straight back), the first in the hall's list that an open counter serves, else the first."""
        cfg = self.settings.counter(counter)
        if cfg is None:
            raise UnknownCounter(f"unknown counter {counter}")
        others = [s.prefix for s in self.settings.services if s.prefix not in cfg.services]
        if not others:
            raise IllegalState(f"counter {counter} serves every service ({', '.join(cfg.services)}): the transfer "
                               "key has no other service to send the customer to")
        open_now = {r[0] for r in self.app.engine.conn.execute("SELECT number FROM counters WHERE state = 'open'")}
        served = {s for c in self.settings.counters if c.number in open_now for s in c.services}
        return next((s for s in others if s in served), others[0])

    # -- faults → events (device threads: enqueue only) ----------------------------------------
    def _on_fault(self, device: str, kind: str, reason: str) -> None:
        with self._lock:
            self._since[device] = self.app.clock.wall().isoformat(timespec="seconds")
            self._open_faults.pop(device, None)
        if kind == RECOVERED:   # `reason` names the fault kind that cleared
            self.app.record_device(device, False, reason, f"{reason} cleared")
        else:
            self.app.record_device(device, True, kind, reason)

    def _close_faults_of_removed_devices(self) -> None:
        with self._lock:
            gone = [name for name in self._open_faults if name not in self.hw.devices()]
        for name in gone:
            self._on_fault(name, RECOVERED, self._open_faults[name]["kind"])
            log.info("device %s is no longer configured: its open fault is closed", name)

    # -- admin -----------------------------------------------------------------------------------
    def status(self) -> dict[str, dict[str, Any]]:
        """name → {kind, state (the device's own: a printer near the paper end still prints),
        fault (the active fault kind or None), reason, since}."""
        out = {}
        faults = self.hw.faults()
        for name, dev in self.hw.devices().items():
            tracker = getattr(dev, "faults", None)
            state = getattr(dev, "state", None)
            out[name] = {"kind": self.kinds.get(name, "device"),
                         "state": getattr(state, "value", str(state)),
                         "fault": faults.get(name),
                         "reason": getattr(tracker, "reason", "") or "",
                         "since": self._since.get(name)}
        return out

    def reprint(self, ticket_row: dict[str, Any]) -> None:
        if ticket_row.get("state") == "cancelled":
            raise IllegalState(f"ticket {ticket_row.get('number')} was voided (it will never be called): "
                               "it is not printed again")
        if not printed_here(ticket_row.get("issued_via")):
            raise IllegalState(f"ticket {ticket_row.get('number')} was {handed_out_where(ticket_row['issued_via'])}"
                               ": it is not printed here")
        self._print(self._job(ticket_row, reprint=True))

    def test_print(self) -> None:
        self.hw.printer.print_ticket(TicketPrintJob(
            number="TEST", service_names={"zh": "测试打印", "en": "Test print"},
            branch_name=self.settings.branch.name.model_dump(exclude_none=True),
            ahead=0, estimate_s=0.0, issued_at=datetime.now().astimezone(),
            languages=tuple(self.settings.languages.available)))

    def close(self) -> None:
        if self.hw is not None:
            self.hw.close()


def ticket_job(settings: Settings, t: dict[str, Any], *, reprint: bool = False,
               self_service: dict[str, str] | None = None, quiet_hours: dict[str, str] | None = None,
               nearby: tuple[NearbyBranch, ...] = ()) -> TicketPrintJob:
    """The print job of a ticket (a `ticket.issued` event, a ticket row, or the ticket the main kiosk's
    API returned to a satellite): with its tier's name when it is a priority ticket."""
    svc = settings.service(t["service"])
    langs = tuple(settings.languages.available)
    est = t.get("estimate_s")
    issued = t.get("issued") or t.get("issued_wall")
    tier = settings.tier(int(t.get("priority") or 0))
    return TicketPrintJob(
        number=t.get("ticket") or t.get("number"),
        service_names=svc.name.model_dump(exclude_none=True) if svc else {"en": t["service"]},
        branch_name=settings.branch.name.model_dump(exclude_none=True),
        ahead=t.get("ahead"),
        estimate_s=est,
        estimate_text={lang: humanize_wait(est or 0.0, lang) for lang in langs} if est is not None else None,
        issued_at=datetime.fromisoformat(issued) if issued else None,
        languages=langs,
        ticket_id=t.get("ticket_id") or t.get("id"),
        service=t["service"],
        branch_id=settings.branch.id,
        reprint=reprint,
        tier_name=tier.name.model_dump(exclude_none=True) if tier is not None else None,
        self_service=self_service,
        nearby=nearby,
        quiet_hours=quiet_hours,
        qr_url=t.get("follow_url") or settings.phone.follow_link(t.get("follow") or t.get("follow_token")),
    )


def nearby_branches(doc: dict[str, Any] | None, service: str, limit: int = 3) -> tuple[NearbyBranch, ...]:
    """The nearby branches of HQ's ``hq/neighbours`` doc for a ticket of `service`: each with the
    people waiting there for the same service when it lists it, else in all; at most `limit`."""
    out = []
    for n in (doc or {}).get("neighbours") or []:
        if not isinstance(n, dict) or not isinstance(n.get("name"), dict) or not isinstance(n.get("km"), (int, float)):
            continue
        same = [s.get("waiting") for s in n.get("services") or [] if isinstance(s, dict) and s.get("service") == service]
        waiting = same[0] if same and isinstance(same[0], int) else n.get("waiting")
        if isinstance(waiting, int) and not isinstance(waiting, bool):
            out.append(NearbyBranch(name=dict(n["name"]), km=float(n["km"]), waiting=waiting))
    return tuple(out[:limit])


class _FaultListener:
    """The drivers' fault listener: faults and recoveries become events; ``known_fault`` hands each
    device the fault still open from before the restart, so a device found working closes it."""

    def __init__(self, outputs: Outputs) -> None:
        self._outputs = outputs

    def __call__(self, device: str, kind: str, reason: str) -> None:
        self._outputs._on_fault(device, kind, reason)

    def known_fault(self, device: str) -> tuple[str, str] | None:
        with self._outputs._lock:
            f = self._outputs._open_faults.get(device)
        return (f["kind"], f["reason"]) if f else None


_HANDLERS = {
    "ticket.issued": Outputs._issued,
    "ticket.called": Outputs._called,
    "ticket.recalled": Outputs._called,
    "ticket.finished": Outputs._left_counter,
    "ticket.noshow": Outputs._left_counter,
    "ticket.transferred": Outputs._left_counter,
    "ticket.cancelled": Outputs._voided,
    "display.message": Outputs._message,
    "alert.raised": Outputs._alert,
    "alert.cleared": Outputs._alert,
}
