"""The customer screen: one large button per service, the priority/VIP way in, the language switch."""
from __future__ import annotations

import logging
import math
from concurrent.futures import Future
from typing import Any

from kivy.clock import Clock
from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from kiosk.config.settings import Service
from kiosk.domain.model import IssuedTicket

from ui.screens.host import HostedScreen, ScreenHost
from ui.screens.member_codes import MemberCodes
from ui.widgets import ServiceButton

log = logging.getLogger(__name__)

PALETTE = [(0.13, 0.45, 0.80, 1), (0.05, 0.55, 0.45, 1), (0.55, 0.30, 0.75, 1), (0.80, 0.40, 0.10, 1),
           (0.70, 0.20, 0.35, 1), (0.25, 0.50, 0.20, 1)]
VIP_COLOR = (0.78, 0.60, 0.12, 1)
GREY = (0.30, 0.31, 0.35, 1)


class CustomerScreen(HostedScreen):
    """One large button per service; the priority/VIP way in; the language switch."""

    priority_mode = BooleanProperty(False)
    hint_text = StringProperty("")
    message = StringProperty("")
    grid_cols = NumericProperty(2)
    show_vip_button = BooleanProperty(False)
    show_code_button = BooleanProperty(False)

    def __init__(self, *, app: ScreenHost, **kw: Any) -> None:
        super().__init__(app=app, **kw)
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
    def vip_services(self) -> list[Service]:
        return [s for s in self.settings.services if s.priority == "vip"]

    def shown_services(self) -> list[Service]:
        if self.priority_mode:
            return self.vip_services() or [s for s in self.settings.services]
        if self.settings.ui.vip_entry == "none":
            return list(self.settings.services)
        return [s for s in self.settings.services if s.priority != "vip"]

    def prompt_text(self, lang: str, priority_mode: bool) -> str:
        app = self.app
        if priority_mode:
            return app.tr("Priority ticket: please choose a service", lang)
        return app.tr("Please choose a service", lang)

    def _layout(self) -> None:
        n = max(1, len(self.buttons))
        if self.app.portrait:
            self.grid_cols = 1 if n <= 4 else 2
        else:
            self.grid_cols = n if n <= 3 else math.ceil(n / 2)

    def update(self, snap: dict) -> None:
        app = self.app
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
        app = self.app
        if self.busy:
            return                                   # one ticket per tap, even on a double tap
        self.busy = True
        priority = self.priority_mode
        member = self.member
        app.when_done(app.kiosk.issue(prefix, priority=priority, member=member),
                      lambda fut: self._issued(fut, prefix))

    def _issued(self, fut: Future[IssuedTicket], prefix: str) -> None:
        app = self.app
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
        app = self.app
        available = [s for s in candidates
                     if not next((x for x in app.snap.get("services", []) if x["service"] == s.prefix), {}).get("unavailable")]
        if len(candidates) == 1 and available:
            self.tap_service(candidates[0].prefix)
        self.update(app.snap)

    def cancel_priority(self) -> None:
        self.reset()

    def open_code(self) -> None:
        app = self.app
        app.screen("vip").reset()
        app.show("vip")

    def reset(self) -> None:
        self.priority_mode = False
        self.member = None
        self.message = ""
        self._keybuf = ""
        self.update(self.app.snap)

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
        app = self.app
        if not self.codes.valid(code):
            self.show_message(app.tr("This member code is not valid. Please ask a member of staff.", app.lang))
            return False
        app.show("customer")
        self.start_priority(member=code)
        return True

    def shutdown(self) -> None:
        if self._msg_ev is not None:
            self._msg_ev.cancel()
