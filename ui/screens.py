"""The screens: customer, ticket result, VIP member code, admin PIN, admin, now serving.

Every method here runs on Kivy's main thread (events arrive through `KioskUi._on_event`,
command results through the Clock). Texts come from gettext via `app.tr` / `app.ntr`.
"""
from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

from kivy.animation import Animation
from kivy.app import App
from kivy.clock import Clock
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen

from kiosk.domain import errors
from kiosk.access.pin import PinGuard

from ui import i18n
from ui.widgets import ServiceButton, qr_texture

log = logging.getLogger(__name__)

PALETTE = [(0.13, 0.45, 0.80, 1), (0.05, 0.55, 0.45, 1), (0.55, 0.30, 0.75, 1), (0.80, 0.40, 0.10, 1),
           (0.70, 0.20, 0.35, 1), (0.25, 0.50, 0.20, 1)]
VIP_COLOR = (0.78, 0.60, 0.12, 1)
GREY = (0.30, 0.31, 0.35, 1)
N_ = lambda s: s  # noqa: E731 — marks a message id for extraction; translated where shown


def error_text(exc: BaseException, lang: str) -> str:
    """A refused command in words for the customer / the admin."""
    if isinstance(exc, errors.ServiceClosed):
        return i18n.tr("This service is closed now.", lang)
    if isinstance(exc, errors.DailyCapReached):
        return i18n.tr("No more tickets for this service today.", lang)
    if isinstance(exc, errors.RangeExhausted):
        return i18n.tr("No more ticket numbers for this service today.", lang)
    if isinstance(exc, errors.UnknownService):
        return i18n.tr("This service does not exist.", lang)
    if isinstance(exc, errors.IllegalState):
        return i18n.tr("Not possible now: {why}", lang, why=str(exc))
    if isinstance(exc, errors.KioskError):
        return i18n.tr("Not possible: {why}", lang, why=str(exc))
    return i18n.tr("Something went wrong. Please ask a member of staff.", lang)


def _app() -> Any:
    return App.get_running_app()


class CustomerScreen(Screen):
    """One large button per service; the priority/VIP way in; the language switch."""

    priority_mode = BooleanProperty(False)
    hint_text = StringProperty("")
    message = StringProperty("")
    grid_cols = NumericProperty(2)
    show_vip_button = BooleanProperty(False)
    show_code_button = BooleanProperty(False)

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        app = _app()
        self.settings = app.settings
        self.member: str | None = None
        self.busy = False
        self._keybuf = ""
        self._msg_ev = None
        self.buttons: dict[str, ServiceButton] = {}
        entry = self.settings.ui.vip_entry
        self.show_vip_button = entry in ("button", "both")
        self.show_code_button = entry in ("code", "both")
        self.codes = MemberCodes(self.settings.ui.vip_codes_file)
        app.bind(lang=lambda *_: self.update(app.snap), portrait=lambda *_: self._layout())
        Clock.schedule_once(lambda dt: self.update(app.snap), 0)

    # which services get a button
    def vip_services(self) -> list:
        return [s for s in self.settings.services if s.priority == "vip"]

    def shown_services(self) -> list:
        if self.priority_mode:
            return self.vip_services() or [s for s in self.settings.services]
        if self.settings.ui.vip_entry == "none":
            return list(self.settings.services)
        return [s for s in self.settings.services if s.priority != "vip"]

    def prompt_text(self, lang: str, priority_mode: bool) -> str:
        app = _app()
        if priority_mode:
            return app.tr("Priority ticket: please choose a service", lang)
        return app.tr("Please choose a service", lang)

    def _layout(self) -> None:
        n = max(1, len(self.buttons))
        if _app().portrait:
            self.grid_cols = 1 if n <= 4 else 2
        else:
            self.grid_cols = n if n <= 3 else math.ceil(n / 2)

    def update(self, snap: dict) -> None:
        app = _app()
        grid = self.ids.grid
        shown = self.shown_services()
        if [b.prefix for b in grid.children[::-1]] != [s.prefix for s in shown]:
            grid.clear_widgets()
            self.buttons.clear()
            for i, svc in enumerate(shown):
                btn = ServiceButton(prefix=svc.prefix)
                btn.bind(on_release=lambda b: self.tap_service(b.prefix))
                self.buttons[svc.prefix] = btn
                grid.add_widget(btn)
            self._layout()
        by_prefix = {s["service"]: s for s in (snap or {}).get("services", [])}
        alert = (snap or {}).get("alert") or {}
        hints = []
        for i, svc in enumerate(shown):
            btn = self.buttons[svc.prefix]
            info = by_prefix.get(svc.prefix, {})
            btn.title = svc.name.get(app.lang)
            why = info.get("unavailable")
            color = VIP_COLOR if (svc.priority == "vip" or self.priority_mode) else PALETTE[i % len(PALETTE)]
            if why:
                btn.disabled = True
                btn.bg = GREY
                if why == "daily_cap":
                    btn.detail = app.tr("No more tickets today", app.lang)
                else:
                    btn.detail = app.tr("Closed now · opening hours {hours}", app.lang,
                                        hours=", ".join(svc.hours))
            else:
                btn.disabled = False
                btn.bg = color
                waiting = int(info.get("waiting", 0))
                btn.detail = "\n".join([
                    app.ntr("{n} person waiting", "{n} people waiting", waiting, app.lang),
                    app.tr("Wait: {wait}", app.lang, wait=app.wait_text(info.get("estimate_s", 0.0), app.lang))])
        if int(alert.get("level") or 0) >= 1:
            for svc in self.settings.services:
                if svc.self_service is not None:
                    hints.append(svc.self_service.get(app.lang))
        sep = "" if app.lang == "zh" else " "
        self.hint_text = sep.join([app.tr("It is busy now.", app.lang)] + hints) if hints else ""

    # taps
    def tap_service(self, prefix: str) -> None:
        app = _app()
        if self.busy:
            return                                   # one ticket per tap, even on a double tap
        self.busy = True
        priority = self.priority_mode
        member = self.member
        app.when_done(app.kiosk.issue(prefix, priority=priority, member=member),
                      lambda fut: self._issued(fut, prefix))

    def _issued(self, fut: Any, prefix: str) -> None:
        app = _app()
        self.busy = False
        try:
            ticket = fut.result()
        except Exception as exc:  # noqa: BLE001
            log.info("ticket for %s refused: %s", prefix, exc)
            self.show_message(app.error_text(exc))
            app.refresh()
            return
        self.priority_mode = False
        self.member = None
        result = app.screen("result")
        result.show(ticket, app.printer_problem())
        app.show("result")

    def start_priority(self, member: str | None = None) -> None:
        self.member = member
        self.priority_mode = True
        candidates = [s for s in self.shown_services()]
        app = _app()
        available = [s for s in candidates
                     if not next((x for x in app.snap.get("services", []) if x["service"] == s.prefix), {}).get("unavailable")]
        if len(candidates) == 1 and available:
            self.tap_service(candidates[0].prefix)
        self.update(app.snap)

    def cancel_priority(self) -> None:
        self.reset()

    def open_code(self) -> None:
        app = _app()
        app.screen("vip").reset()
        app.show("vip")

    def reset(self) -> None:
        self.priority_mode = False
        self.member = None
        self.message = ""
        self._keybuf = ""
        self.update(_app().snap)

    def show_message(self, text: str, seconds: float = 6.0) -> None:
        self.message = text
        if self._msg_ev is not None:
            self._msg_ev.cancel()
        self._msg_ev = Clock.schedule_once(lambda dt: setattr(self, "message", ""), seconds)

    def on_key_input(self, key: str) -> None:
        """A USB barcode reader types the member code and Enter."""
        if self.settings.ui.vip_entry not in ("code", "both"):
            return
        if key == "enter":
            code, self._keybuf = self._keybuf.strip(), ""
            if code:
                self.member_code(code)
        elif key == "del":
            self._keybuf = self._keybuf[:-1]
        elif len(self._keybuf) < 64:
            self._keybuf += key

    def member_code(self, code: str) -> bool:
        app = _app()
        if not self.codes.valid(code):
            self.show_message(app.tr("This member code is not valid. Please ask a member of staff.", app.lang))
            return False
        app.show("customer")
        self.start_priority(member=code)
        return True

    def shutdown(self) -> None:
        if self._msg_ev is not None:
            self._msg_ev.cancel()


class MemberCodes:
    """Member codes for priority tickets: one per line in `ui.vip_codes_file` (# comments).
    Without a file, any code of 4–32 letters or digits is accepted (and recorded)."""

    def __init__(self, path: str | None) -> None:
        self.path = Path(path) if path else None
        self._mtime: float | None = None
        self._codes: set[str] = set()

    def valid(self, code: str) -> bool:
        code = code.strip()
        if not (4 <= len(code) <= 32 and code.isalnum() and code.isascii()):
            return False
        if self.path is None:
            return True
        try:
            mtime = self.path.stat().st_mtime
            if mtime != self._mtime:
                lines = self.path.read_text(encoding="utf-8").splitlines()
                self._codes = {ln.split("#")[0].strip() for ln in lines} - {""}
                self._mtime = mtime
        except OSError as exc:
            log.warning("cannot read the member codes %s: %s", self.path, exc)
            return False
        return code in self._codes


class ResultScreen(Screen):
    """The ticket: number, people ahead, wait, "please take your ticket" — or, when the
    printer cannot print, the number with a QR code and why."""

    number = StringProperty("")
    service_name = StringProperty("")
    ahead_text = StringProperty("")
    wait_text = StringProperty("")
    take_text = StringProperty("")
    problem = StringProperty("")
    hint_text = StringProperty("")
    qr = ObjectProperty(None, allownone=True)

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.ticket: Any = None
        self._back_ev = None
        self._problem_reason: str | None = None
        _app().bind(lang=lambda *_: self._relabel())

    def show(self, ticket: Any, problem: str | None) -> None:
        self.ticket = ticket
        self._problem_reason = problem
        self._relabel()
        self._schedule_back()

    def _relabel(self) -> None:
        app = _app()
        t = self.ticket
        if t is None:
            return
        svc = app.settings.service(t.service)
        lang = app.lang
        self.number = t.ticket
        name = svc.name.get(lang) if svc else t.service
        self.service_name = name + ("  · " + app.tr("Priority", lang) if t.priority and svc and svc.priority != "vip" else "")
        self.ahead_text = (app.tr("You are next", lang) if t.ahead == 0 else
                           app.ntr("{n} person ahead of you", "{n} people ahead of you", t.ahead, lang))
        self.wait_text = app.tr("Estimated wait: {wait}", lang, wait=app.wait_text(t.estimate_s, lang))
        alert = (app.snap or {}).get("alert") or {}
        self.hint_text = (svc.self_service.get(lang) if svc is not None and svc.self_service is not None
                          and int(alert.get("level") or 0) >= 1 else "")
        if self._problem_reason:
            from ui.main import printer_text
            self.problem = printer_text(self._problem_reason, lang)
            self.take_text = "\n".join((app.tr("Your ticket cannot be printed.", lang),
                                        app.tr("Please photograph this screen or remember your number.", lang)))
            if self.qr is None:
                self.qr = qr_texture(self.qr_data(t))
        else:
            self.problem = ""
            self.take_text = app.tr("Please take your ticket", lang)
            self.qr = None

    def qr_data(self, t: Any) -> str:
        """What the on-screen QR code says: branch, business day and number (staff can scan it)."""
        app = _app()
        return f"KIOSK:{app.settings.branch.id}:{getattr(t, 'day', '')}:{t.ticket}:{t.ticket_id}"

    def on_core_event(self, event: dict) -> None:
        """The printer gave up on the ticket on screen: switch to the QR code and say why."""
        if (event.get("type") == "ticket.print_failed" and self.ticket is not None
                and event.get("ticket_id") == self.ticket.ticket_id and not self._problem_reason):
            from ui.main import printer_code
            self._problem_reason = printer_code(event.get("reason"))
            self._relabel()
            self._schedule_back()

    def _schedule_back(self) -> None:
        if self._back_ev is not None:
            self._back_ev.cancel()
        timeout = _app().settings.ui.result_timeout_s
        if self._problem_reason:
            timeout *= 2        # time to take a photo
        self._back_ev = Clock.schedule_once(lambda dt: self.done(), timeout)

    def done(self) -> None:
        if self._back_ev is not None:
            self._back_ev.cancel()
            self._back_ev = None
        app = _app()
        if app.sm.current == "result":
            app.go_home()

    def on_leave(self, *args: Any) -> None:
        if self._back_ev is not None:
            self._back_ev.cancel()
            self._back_ev = None
        self.ticket = None
        self._problem_reason = None
        self.qr = None

    def shutdown(self) -> None:
        if self._back_ev is not None:
            self._back_ev.cancel()


class VipScreen(Screen):
    """Member code on an on-screen keypad (or typed by a barcode reader)."""

    code = StringProperty("")
    message = StringProperty("")

    def reset(self) -> None:
        self.code = ""
        self.message = ""

    def on_key_input(self, key: str) -> None:
        if key == "enter":
            self.submit()
        else:
            self.keypad(key)

    def keypad(self, key: str) -> None:
        self.message = ""
        if key == "clear":
            self.code = ""
        elif key == "del":
            self.code = self.code[:-1]
        elif len(self.code) < 32 and key.isalnum():
            self.code += key

    def submit(self) -> None:
        app = _app()
        customer = app.screen("customer")
        if not customer.codes.valid(self.code):
            self.message = app.tr("This member code is not valid. Please ask a member of staff.", app.lang)
            self.code = ""
            return
        code, self.code = self.code, ""
        customer.member_code(code)

    def cancel(self) -> None:
        _app().go_home(reset_lang=False)


class PinScreen(Screen):
    """The admin PIN, with a lockout that grows after wrong tries and survives restarts."""

    pin = StringProperty("")
    message = StringProperty("")
    locked = BooleanProperty(False)

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        app = _app()
        ui = app.settings.ui
        self.guard = PinGuard(ui.admin_pin_hash, app.kiosk.data_dir, free_tries=ui.pin_free_tries,
                              base_s=ui.pin_lockout_s, max_s=ui.pin_lockout_max_s)
        self._tick_ev = None
        self._msg_key: tuple = ("",)
        app.bind(lang=lambda *_: self._render_message())

    def reset(self) -> None:
        self.pin = ""
        self._set_message("")
        self._update_lock()

    def masked(self, pin: str) -> str:
        return " ".join("●" for _ in pin)

    def on_key_input(self, key: str) -> None:
        if key == "enter":
            self.submit()
        elif key.isdigit() or key in ("del", "clear"):
            self.keypad(key)

    def keypad(self, key: str) -> None:
        if self.locked:
            return
        if key == "clear":
            self.pin = ""
        elif key == "del":
            self.pin = self.pin[:-1]
        elif len(self.pin) < 12 and key.isdigit():
            self.pin += key
            if self._msg_key[0] == "wrong":
                self._set_message("")

    def submit(self) -> None:
        app = _app()
        if self.locked or not self.pin:
            return
        pin, self.pin = self.pin, ""
        result = self.guard.check(pin)
        if result.ok:
            self._set_message("")
            app.show("admin")
            return
        if result.no_pin:
            self._set_message("nopin")
        elif result.locked_s > 0:
            self._update_lock()
        else:
            self._set_message("wrong")

    def _update_lock(self) -> None:
        left = self.guard.locked_for()
        self.locked = left > 0
        if self._tick_ev is not None:
            self._tick_ev.cancel()
            self._tick_ev = None
        if self.locked:
            self._set_message("locked", int(math.ceil(left)))
            self._tick_ev = Clock.schedule_once(lambda dt: self._update_lock(), min(1.0, left))
        elif self._msg_key[0] == "locked":
            self._set_message("")

    def _set_message(self, key: str, n: int = 0) -> None:
        self._msg_key = (key, n)
        self._render_message()

    def _render_message(self) -> None:
        app = _app()
        key, *rest = self._msg_key
        if key == "wrong":
            self.message = app.tr("Wrong PIN.", app.lang)
        elif key == "nopin":
            self.message = app.tr("No admin PIN is set (kiosk set-pin).", app.lang)
        elif key == "locked":
            self.message = app.ntr("Too many wrong PINs. Try again in {n} second.",
                                   "Too many wrong PINs. Try again in {n} seconds.", rest[0], app.lang)
        else:
            self.message = ""

    def cancel(self) -> None:
        self.pin = ""
        _app().go_home(reset_lang=False)

    def on_leave(self, *args: Any) -> None:
        self.pin = ""

    def shutdown(self) -> None:
        if self._tick_ev is not None:
            self._tick_ev.cancel()


class CounterRow(BoxLayout):
    counter = NumericProperty(0)
    name = StringProperty("")
    state_text = StringProperty("")
    state = StringProperty("")
    ticket = StringProperty("")
    open_text = StringProperty("")
    pause_text = StringProperty("")
    close_text = StringProperty("")


class InfoRow(BoxLayout):
    left = StringProperty("")
    right = StringProperty("")
    warn = BooleanProperty(False)


ALERT_TEXT = {"queue_level1": N_("many people waiting"), "queue_level2": N_("very many people waiting"),
              "no_counters": N_("people waiting and no counter open"),
              "wait_over_target": N_("waits longer than the target")}
STATE_TEXT = {"open": N_("open"), "paused": N_("paused"), "closed": N_("closed")}
MQTT_TEXT = {"disabled": N_("disabled"), "connecting": N_("connecting"), "connected": N_("connected"),
             "disconnected": N_("disconnected")}


class AdminScreen(Screen):
    """Counters, devices, MQTT, alert, today's figures and maintenance actions."""

    message = StringProperty("")
    confirm_rollover = BooleanProperty(False)

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self._confirm_ev = None
        self._rows: dict[int, CounterRow] = {}
        _app().bind(lang=lambda *_: self.update(_app().snap))

    def on_enter(self, *args: Any) -> None:
        self.message = ""
        _app().refresh()

    def update(self, snap: dict) -> None:
        app = _app()
        if not snap or "counters" not in self.ids:
            return
        lang = app.lang
        box = self.ids.counters
        if set(self._rows) != {c["counter"] for c in snap.get("counters", [])}:
            box.clear_widgets()
            self._rows.clear()
            for c in snap.get("counters", []):
                row = CounterRow(counter=c["counter"])
                self._rows[c["counter"]] = row
                box.add_widget(row)
        for c in snap.get("counters", []):
            row = self._rows[c["counter"]]
            names = c.get("name") or {}
            row.name = names.get(lang) or names.get("en") or str(c["counter"])
            row.state = c["state"]
            row.state_text = app.tr(STATE_TEXT.get(c["state"], c["state"]), lang)
            row.ticket = c.get("ticket") or "—"
            row.open_text = app.tr("Open", lang)
            row.pause_text = app.tr("Pause", lang)
            row.close_text = app.tr("Close", lang)
        info = self.ids.info
        info.clear_widgets()

        def add(left: str, right: str, warn: bool = False) -> None:
            info.add_widget(InfoRow(left=left, right=right, warn=warn))

        try:
            devices = app.kiosk.device_status() or {}
        except Exception as exc:  # noqa: BLE001
            devices = {}
            add(app.tr("Devices", lang), str(exc), True)
        if not devices:
            add(app.tr("Devices", lang), app.tr("none attached", lang), True)
        for name, st in sorted(devices.items()):
            state = str(st.get("state", ""))
            ok = state.lower() in ("ok", "ready") and not st.get("fault")
            why = " ".join(str(x) for x in (st.get("fault"), st.get("reason")) if x)
            add(f"{name} ({st.get('kind', '')})",
                app.tr("ready", lang) if ok else f"{state}: {why}".rstrip(": "), not ok)
        try:
            mqtt = app.kiosk.mqtt_state() or {}
        except Exception as exc:  # noqa: BLE001
            mqtt = {"state": "error", "error": str(exc)}
        mstate = str(mqtt.get("state", ""))
        add(app.tr("HQ connection (MQTT)", lang),
            app.tr(MQTT_TEXT.get(mstate, mstate), lang) + (f" — {mqtt['error']}" if mqtt.get("error") else ""),
            mstate not in ("connected", "disabled"))
        alert = snap.get("alert") or {}
        level = int(alert.get("level") or 0)
        reason = str(alert.get("reason") or "")
        reason_text = app.tr(ALERT_TEXT[reason], lang) if reason in ALERT_TEXT else reason
        add(app.tr("Alert", lang),
            app.tr("none", lang) if level == 0 else
            app.tr("level {level}", lang, level=level) + (f": {reason_text}" if reason_text else ""),
            level > 0)
        add(app.tr("Business day", lang), str(snap.get("day") or ""))
        add(app.tr("Waiting now", lang), str(snap.get("waiting", 0)))
        add(app.tr("Open counters", lang), str(snap.get("open_counters", 0)))
        for s in snap.get("services", []):
            name = (s.get("name") or {}).get(lang) or (s.get("name") or {}).get("en") or s["service"]
            add(f"{s['service']} {name}",
                app.tr("served {served} · waiting {waiting} · longest {longest}", lang,
                       served=s.get("served_today", 0), waiting=s.get("waiting", 0),
                       longest=app.wait_text(s["longest_wait_s"], lang) if s.get("longest_wait_s") else "—"),
                bool(s.get("unavailable")))

    # actions
    def set_counter(self, counter: int, state: str) -> None:
        app = _app()
        app.when_done(app.kiosk.set_counter(counter, state), lambda f: self._done(f, app.tr("Counter updated.")))

    def test_print(self) -> None:
        app = _app()
        app.when_done(app.kiosk.test_print(), lambda f: self._done(f, app.tr("Test page sent to the printer.")))

    def reprint(self) -> None:
        app = _app()
        app.when_done(app.kiosk.reprint_last(), lambda f: self._done(f, app.tr("Last ticket sent to the printer.")))

    def rollover(self) -> None:
        app = _app()
        if not self.confirm_rollover:
            self.confirm_rollover = True
            self.message = app.tr("Tap again to start a new business day: today's queue expires.")
            if self._confirm_ev is not None:
                self._confirm_ev.cancel()
            self._confirm_ev = Clock.schedule_once(lambda dt: setattr(self, "confirm_rollover", False), 8)
            return
        self.confirm_rollover = False
        app.when_done(app.kiosk.rollover(), lambda f: self._done(f, app.tr("A new business day has started.")))

    def _done(self, fut: Any, ok_text: str) -> None:
        app = _app()
        try:
            fut.result()
            self.message = ok_text
        except Exception as exc:  # noqa: BLE001
            self.message = app.error_text(exc)
        app.refresh()

    def leave(self) -> None:
        _app().go_home()

    def shutdown(self) -> None:
        if self._confirm_ev is not None:
            self._confirm_ev.cancel()


class CallRow(BoxLayout):
    number = StringProperty("")
    counter_name = StringProperty("")
    newest = BooleanProperty(False)
    font = NumericProperty(20)


class WaitRow(BoxLayout):
    name = StringProperty("")
    waiting = StringProperty("")
    wait = StringProperty("")


class NowServingScreen(Screen):
    """The TV: the latest calls (the newest blinks) and the people waiting per service."""

    clock_text = StringProperty("")
    empty_text = StringProperty("")

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self._calls: list[dict] = []
        self._newest_key: tuple | None = None
        self._blink: Animation | None = None
        self._blink_stop = None
        self._blinking_row = None
        self._first = True
        _app().bind(lang=lambda *_: self.update(_app().snap))

    def on_core_event(self, event: dict) -> None:
        pass  # ticket.called / ticket.recalled trigger a refresh in the app

    def update(self, snap: dict) -> None:
        app = _app()
        if "calls" not in self.ids:
            return
        lang = app.lang
        try:
            calls = app.kiosk.recent_calls(app.settings.ui.display_calls)
        except Exception as exc:  # noqa: BLE001
            log.warning("recent calls failed: %s", exc)
            calls = self._calls
        self._calls = calls
        box = self.ids.calls
        if box.height > 1:            # no more rows than the screen has room for
            room = 1 + int(max(0.0, box.height - app.u * 19) // (app.u * 11))
            calls = calls[:max(1, room)]
        try:
            self.clock_text = app.kiosk.clock.wall().strftime("%H:%M")
        except Exception:  # noqa: BLE001
            self.clock_text = ""
        box = self.ids.calls
        self.empty_text = "" if calls else app.tr("Please wait for your number to be called", lang)
        shown = [(c["number"], c.get("counter"), c.get("called_wall"), c.get("recalls")) for c in calls]
        if (shown, lang) != getattr(self, "_shown", None):      # rebuild only when the calls change
            self._shown = (shown, lang)
            box.clear_widgets()
            for i, c in enumerate(calls):
                counter = app.settings.counter(int(c.get("counter") or 0))
                cname = counter.display_name(lang) if counter else str(c.get("counter"))
                box.add_widget(CallRow(number=c["number"], counter_name=cname, newest=(i == 0)))
        newest_row = box.children[-1] if box.children else None
        key = (calls[0]["number"], calls[0].get("called_wall"), calls[0].get("recalls")) if calls else None
        if key != self._newest_key:
            fresh = not self._first
            self._newest_key = key
            if fresh and newest_row is not None:
                self._start_blink()
        if self._blink is not None and newest_row is not None and newest_row is not self._blinking_row:
            self._blink_target(newest_row)
        self._first = False
        waits = self.ids.waits
        waits.clear_widgets()
        for s in snap.get("services", []) if snap else []:
            name = (s.get("name") or {}).get(lang) or (s.get("name") or {}).get("en") or s["service"]
            why = s.get("unavailable")
            waits.add_widget(WaitRow(
                name=name,
                waiting=app.ntr("{n} waiting", "{n} waiting", int(s.get("waiting", 0)), lang),
                wait=(app.tr("closed now", lang) if why == "hours" else
                      app.tr("No more tickets today", lang) if why else
                      app.wait_text(s.get("estimate_s", 0.0), lang))))

    def _start_blink(self) -> None:
        self.stop_blink()
        blink_s = _app().settings.ui.blink_s
        if blink_s <= 0:
            return
        self._blink = (Animation(opacity=0.15, duration=0.45) + Animation(opacity=1.0, duration=0.45))
        self._blink.repeat = True
        self._blink_stop = Clock.schedule_once(lambda dt: self.stop_blink(), blink_s)

    def _blink_target(self, row: Any) -> None:
        if self._blink is not None:
            Animation.cancel_all(row, "opacity")
            self._blink.start(row)
            self._blinking_row = row

    @property
    def blinking(self) -> bool:
        return self._blink is not None

    def stop_blink(self) -> None:
        if self._blink is not None:
            self._blink.stop_all(self, "opacity")
            for child in self.ids.calls.children:
                Animation.cancel_all(child, "opacity")
                child.opacity = 1.0
        self._blink = None
        self._blinking_row = None
        if self._blink_stop is not None:
            self._blink_stop.cancel()
            self._blink_stop = None

    def shutdown(self) -> None:
        self.stop_blink()


