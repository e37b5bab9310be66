"""`SatelliteApp`: a second ticket machine (`kiosk run --satellite URL`) — its own touchscreen and
printer, no queue of its own.

It satisfies the touchscreen's port (`ui.kiosk_port.KioskPort`) like `KioskApp` does, but a
ticket is taken from the main kiosk's queue through its hall web app API (`MainLink`, device
token), and the ticket the main kiosk returned — number, people ahead, estimate — is printed
here with the main kiosk's ticket layout (`kiosk.app.outputs.ticket_job`). When the main kiosk
cannot be reached, every service shows as offline and a tap issues nothing (one queue, never
two); a background thread keeps trying and the screen recovers by itself.

A counter's new ticket in the main kiosk's hall view is a `ticket.called` event here (more recalls
of the same ticket: `ticket.recalled`), and
`recent_calls` are the calls seen, newest first, so a now-serving TV on this machine
(`--screen display`) shows the main kiosk's calls; with `follow` (the TV) it reads the main
kiosk's live hall (`GET /api/stream`, reconnecting with back-off) instead of every `retry_s`.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from drivers.jobs import PrintResult, TicketPrintJob

from kiosk.app.hardware import build_devices
from kiosk.app.main_link import MainLink, MainRefused, MainUnreachable, TokenRefused
from kiosk.app.outputs import ticket_job, virtual_hardware
from kiosk.config.settings import Settings
from kiosk.domain.clock import Clock, SystemClock
from kiosk.domain.errors import IllegalState, KioskError
from kiosk.domain.model import EventType, IssuedTicket

log = logging.getLogger(__name__)

LINK = "main-kiosk"
FIGURES_FRESH_S = 600.0
"""How long the people waiting / estimate of a service's last ticket here stand for the service on the
screen when the main kiosk does not let devices read its hall view."""
FOLLOW_BACKOFF_MAX_S = 30.0
CALLS_KEPT = 32


class SatelliteApp:
    """The satellite's core: the link to the main kiosk, the local devices, the screen's port."""

    def __init__(self, settings: Settings, data: Path, link: MainLink, *, simulate: bool = False,
                 clock: Clock | None = None, retry_s: float | None = None, follow: bool = False) -> None:
        self.settings = settings
        self.data_dir = Path(data)
        self.clock = clock or SystemClock(settings.day.tz)
        self.link = link
        self.retry_s = retry_s if retry_s is not None else settings.satellite.retry_s
        self.follow = follow
        self.hardware_config = virtual_hardware(settings.hardware) if simulate else settings.hardware
        self.hw: Any = None
        self._issuer = ThreadPoolExecutor(1, thread_name_prefix="satellite-issue")
        self._listeners: list[Callable[[dict[str, Any]], None]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._online: bool | None = None
        self._link_reason = "not tried yet"
        self._link_since = self._now()
        self._hall: dict[str, Any] | None = None
        self._last: dict[str, tuple[float, dict[str, Any]]] = {}   # service → (monotonic, the main's answer)
        self._last_job: TicketPrintJob | None = None
        self._faults: dict[str, tuple[str, str, str]] = {}          # device → (kind, reason, since)
        self._poller = threading.Thread(target=self._poll, name="satellite-link", daemon=True)
        self._follower = threading.Thread(target=self._follow, name="satellite-follow", daemon=True)
        self._follow_wake = threading.Event()
        self._streaming = False
        self._seen: dict[int, tuple[str, int]] | None = None   # counter → (its ticket, recalls) in the last hall view
        self._calls: list[dict[str, Any]] = []      # the calls seen, newest first

    # -- life cycle ---------------------------------------------------------------------------
    def start(self) -> SatelliteApp:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.hw = build_devices(self.hardware_config, listener=self._on_fault, sink=self._on_input,
                                base_dir=str(self.data_dir), tz=self.settings.day.tz)
        self._check_link()
        self._poller.start()
        if self.follow:
            self._follower.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._follow_wake.set()
        self.link.close_stream()
        for thread in (self._poller, self._follower):
            if thread.is_alive():
                thread.join(10)
        self._issuer.shutdown(wait=True)
        self.link.close()
        if self.hw is not None:
            self.hw.close()

    @property
    def online(self) -> bool:
        return bool(self._online)

    # -- the link -----------------------------------------------------------------------------
    def _poll(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.retry_s)
            self._wake.clear()
            if not self._stop.is_set() and not self._streaming:
                self._check_link()

    def _check_link(self) -> None:
        try:
            hall = self.link.probe()
        except (MainUnreachable, TokenRefused) as exc:
            self._set_link(False, str(exc))
        except KioskError as exc:
            self._set_link(False, f"the main kiosk at {self.link.url} refused its hall view: {exc}")
        else:
            self._take_hall(hall)
            self._set_link(True, "")
            self._follow_wake.set()       # it answers: follow its live hall again now

    def _follow(self) -> None:
        """Follow the main kiosk's live hall; when it is cut, try again after a back-off that grows
        from `retry_s` to 30 s (a probe that finds the main kiosk again cuts it short)."""
        delay = self.retry_s
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                self.link.follow_hall(self._on_live_hall)
            except MainRefused as exc:
                log.warning("the main kiosk at %s does not let this machine follow its hall (%s): "
                            "reading it every %.1f s instead", self.link.url, exc, self.retry_s)
                return
            except KioskError as exc:
                reason = str(exc)
            except Exception as exc:  # noqa: BLE001 — a bad hall view costs the stream, not the thread
                log.exception("following the main kiosk's hall failed")
                reason = f"the main kiosk's live hall at {self.link.url} could not be read: {exc}"
            finally:
                self._streaming = False
            if self._stop.is_set():
                return
            self._set_link(False, reason)
            self._wake.set()                 # the poller probes now and keeps probing
            delay = self.retry_s if time.monotonic() - started > FOLLOW_BACKOFF_MAX_S else delay
            self._follow_wake.wait(delay)
            self._follow_wake.clear()
            delay = min(delay * 2, max(FOLLOW_BACKOFF_MAX_S, self.retry_s))

    def _on_live_hall(self, hall: dict[str, Any]) -> None:
        self._streaming = True
        self._take_hall(hall)
        self._set_link(True, "")

    def _take_hall(self, hall: dict[str, Any] | None) -> None:
        """The latest hall view; a counter with a new ticket is a call (`ticket.called` to the screen)."""
        if hall is None:
            with self._lock:
                self._hall = None
            return
        now_at = _counters_at(hall)
        ts = _wall(hall.get("ts")) or self.clock.wall()
        with self._lock:
            if self._hall is not None and self._hall.get("day") != hall.get("day"):
                self._calls, self._seen = [], None
            first, seen = self._seen is None, self._seen or {}
            new = [c for c in now_at if (seen.get(c["counter"]) or (None, 0))[0] != c["ticket"]]
            recalled = [c for c in now_at if (seen.get(c["counter"]) or (None, 0))[0] == c["ticket"]
                        and c["recalls"] > seen[c["counter"]][1]]
            for c in sorted(new, key=lambda c: -c["busy_s"]):         # oldest call first: newest ends on top
                called = (ts - timedelta(seconds=c["busy_s"])).isoformat(timespec="seconds")
                self._calls = [{"number": c["ticket"], "service": c["service"], "counter": c["counter"],
                                "called_wall": called, "recalls": c["recalls"]}] + \
                    [k for k in self._calls if k["number"] != c["ticket"]][:CALLS_KEPT - 1]
            for c in recalled:
                for k in self._calls:
                    if k["number"] == c["ticket"]:
                        k["recalls"] = c["recalls"]
            self._seen = {c["counter"]: (c["ticket"], c["recalls"]) for c in now_at}
            self._hall = hall
        if not first:
            for c in new:
                self._emit({"type": EventType.TICKET_CALLED.value, "ticket": c["ticket"], "service": c["service"],
                            "counter": c["counter"], "via": LINK})
            for c in recalled:                   # the board shows and announces it again, as on the main kiosk
                self._emit({"type": EventType.TICKET_RECALLED.value, "ticket": c["ticket"], "service": c["service"],
                            "counter": c["counter"], "via": LINK})

    def _set_link(self, online: bool, reason: str) -> None:
        with self._lock:
            changed = online != self._online
            self._online, self._link_reason = online, reason
            if changed:
                self._link_since = self._now()
        if changed:
            if online:
                log.info("the main kiosk at %s answers: issuing through it", self.link.url)
            else:
                log.warning("%s — no tickets here until it answers (trying every %.1f s)", reason, self.retry_s)
            self._emit({"type": "device.fault" if not online else "device.recovered", "device": LINK,
                        "reason": reason})

    # -- the screen's port --------------------------------------------------------------------
    def subscribe(self, listener: Callable[[dict[str, Any]], None]) -> Callable[[], None]:
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)
        return unsubscribe

    def _emit(self, event: dict[str, Any]) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for fn in listeners:
            try:
                fn(event)
            except Exception:  # noqa: BLE001 — a listener never stops the satellite
                log.exception("a satellite event listener failed")

    def issue(self, service: str, *, priority: bool = False, member: str | None = None,
              tier: str | None = None) -> Future[IssuedTicket]:
        """A ticket of the main kiosk's queue, printed here. Refused (nothing issued) while the
        main kiosk cannot be reached; `member` codes are the main kiosk's affair (refused here)."""
        if member is not None:
            return _refused("member codes are checked at the main ticket machine")
        if priority and tier is None and self.settings.tiers:
            tier = self.settings.tiers[-1].id
        return self._issuer.submit(self._issue, service, tier)

    def _issue(self, service: str, tier: str | None) -> IssuedTicket:
        try:
            answer = self.link.issue(service, tier=tier)
        except (MainUnreachable, TokenRefused) as exc:
            self._set_link(False, str(exc))
            self._wake.set()
            raise
        self._set_link(True, "")
        with self._lock:
            self._last[answer["service"]] = (time.monotonic(), answer)
        t = IssuedTicket(answer["ticket"], int(answer["ticket_id"]), answer["service"], int(answer["priority"]),
                         int(answer["ahead"]), answer.get("estimate_s"), answer["issued"], answer["day"])
        job = ticket_job(self.settings, answer)
        self._last_job = job
        self._print(job, t)
        return t

    def _print(self, job: TicketPrintJob, t: IssuedTicket | None) -> None:
        def done(f: Future[PrintResult]) -> None:
            try:
                result = f.result()
            except Exception as exc:  # noqa: BLE001
                result = PrintResult(False, job.number, reason=str(exc))
            if t is not None and not result.ok:
                log.warning("ticket %s of the main kiosk's queue was not printed here: %s", t.ticket, result.reason)
                self._emit({"type": EventType.TICKET_PRINT_FAILED.value, "ticket": t.ticket, "ticket_id": t.ticket_id,
                            "reason": result.reason, "kind": result.kind})
        self.hw.printer.print_ticket(job).add_done_callback(done)

    def snapshot(self, timeout: float = 10) -> dict[str, Any]:
        """The hall as the screen needs it: the main kiosk's hall view when it lets devices read it,
        else each service with the figures of its last ticket here; every service 'offline' while
        the main kiosk cannot be reached."""
        with self._lock:
            online, hall, last = self._online, self._hall, dict(self._last)
        if online and hall:
            snap = dict(hall)
        else:
            services = []
            for svc in self.settings.services:
                at, answer = last.get(svc.prefix, (0.0, {}))
                fresh = time.monotonic() - at < FIGURES_FRESH_S
                services.append({"service": svc.prefix, "name": svc.name.model_dump(),
                                 "waiting": int(answer.get("ahead", 0)) + 1 if fresh and answer else 0,
                                 "estimate_s": answer.get("estimate_s") or 0.0 if fresh else 0.0,
                                 "unavailable": None})
            snap = {"v": 1, "ts": self.clock.wall().isoformat(timespec="seconds"), "branch": self.settings.branch.id,
                    "services": services, "counters": [], "alert": {"level": 0}}
        if not online:
            snap["services"] = [{**s, "unavailable": "offline"} for s in snap.get("services", [])]
        snap["devices"] = {n: f for n, f in self.device_status().items() if f["fault"]}
        return snap

    def quiet_hours(self, timeout: float = 10) -> dict[str, str]:
        return {}

    def recent_calls(self, limit: int = 8, timeout: float = 10) -> list[dict[str, Any]]:
        """The main kiosk's calls seen here, newest first — the counters' tickets of its hall view
        and the calls before them (empty while it cannot be reached, or does not let devices read
        its hall), with its recalls."""
        with self._lock:
            return [dict(c) for c in self._calls[:max(0, limit)]] if self._online and self._hall else []

    def device_status(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        if self.hw is not None:
            faults = self.hw.faults()
            for name, dev in self.hw.devices().items():
                state = getattr(dev, "state", None)
                kind = "printer" if dev is self.hw.printer else "display"
                f = self._faults.get(name)
                out[name] = {"kind": kind, "state": getattr(state, "value", str(state)), "fault": faults.get(name),
                             "reason": f[1] if f else "", "since": f[2] if f else None}
        with self._lock:
            out[LINK] = {"kind": "link", "state": "connected" if self._online else "unreachable",
                         "fault": None if self._online else "unreachable", "reason": self._link_reason,
                         "since": self._link_since, "url": self.link.url}
        return out

    def mqtt_state(self) -> dict[str, Any]:
        return {"state": "disabled", "since": None, "error": None}

    def set_counter(self, counter: int, state: str) -> Future[str]:
        return _refused("counters are opened and closed at the main kiosk or on the counter caller")

    def rollover(self) -> Future[str]:
        return _refused("the business day is the main kiosk's: roll it over there")

    def test_print(self) -> Future[Any]:
        return self._issuer.submit(self._print, TicketPrintJob(
            number="TEST", service_names={"zh": "测试打印", "en": "Test print"},
            branch_name=self.settings.branch.name.model_dump(exclude_none=True), ahead=0, estimate_s=0.0,
            issued_at=datetime.now().astimezone(), languages=tuple(self.settings.languages.available)), None)

    def reprint_last(self) -> Future[Any]:
        def run() -> str:
            job = self._last_job
            if job is None:
                raise KioskError("no ticket has been handed out here yet")
            self._print(replace(job, reprint=True), None)
            return str(job.number)
        return self._issuer.submit(run)

    # -- local devices ------------------------------------------------------------------------
    def _on_fault(self, device: str, kind: str, reason: str) -> None:
        self._faults[device] = (kind, reason, self._now())
        self._emit({"type": "device.fault", "device": device, "kind": kind, "reason": reason})

    def _on_input(self, ev: Any) -> None:
        if getattr(ev, "source", None) == "take_ticket":
            self.issue(ev.service).add_done_callback(lambda f: f.exception() and log.warning(
                "take-ticket button %s: no ticket: %s", ev.service, f.exception()))
        else:
            log.info("input %r ignored: counters are served through the main kiosk", ev)

    def _now(self) -> str:
        return self.clock.wall().isoformat(timespec="seconds")


def _counters_at(hall: dict[str, Any]) -> list[dict[str, Any]]:
    """The counters of a hall view that have a ticket: counter, ticket, service, busy_s, recalls
    (entries that are not one are left out; a value out of range counts as 0)."""
    out = []
    for c in hall.get("counters") or []:
        if not isinstance(c, dict) or not isinstance(c.get("ticket"), str) or not c["ticket"]:
            continue
        counter, busy = c.get("counter"), c.get("busy_s")
        if not isinstance(counter, int) or isinstance(counter, bool):
            continue
        ok = isinstance(busy, (int, float)) and not isinstance(busy, bool) and 0 <= busy < 1e7
        busy_s = float(busy) if ok else 0.0
        service = c.get("service") if isinstance(c.get("service"), str) else None
        recalls = c.get("recalls")
        recalls = recalls if isinstance(recalls, int) and not isinstance(recalls, bool) and 0 <= recalls < 1000 else 0
        out.append({"counter": counter, "ticket": c["ticket"][:32], "service": service, "busy_s": busy_s,
                    "recalls": recalls})
    return out


def _wall(ts: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(ts) if isinstance(ts, str) else None
    except ValueError:
        return None


def _refused(why: str) -> Future[Any]:
    fut: Future[Any] = Future()
    fut.set_exception(IllegalState(f"a satellite ticket machine does not do this: {why}"))
    return fut
