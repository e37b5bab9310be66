"""The customer screen: one large button per service, the priority/VIP way in (its tier chosen
on the screen or given by the member code), the check-in of a ticket taken on a phone, the
language switch; at a peak, the self-service hint and the nearest other branches (HQ's)."""
from __future__ import annotations

import logging
import math
from concurrent.futures import Future
from typing import Any

from kivy.clock import Clock
from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from kiosk.config.settings import Service
from kiosk.domain.model import IssuedTicket

from ui.screens.check_in import is_follow_code
from ui.screens.host import HostedScreen, ScreenHost
from ui.screens.member_codes import MemberCodes
from ui.widgets import ServiceButton, TierButton

log = logging.getLogger(__name__)

PALETTE = [(0.13, 0.45, 0.80, 1), (0.05, 0.55, 0.45, 1), (0.55, 0.30, 0.75, 1), (0.80, 0.40, 0.10, 1),
           (0.70, 0.20, 0.35, 1), (0.25, 0.50, 0.20, 1)]
VIP_COLOR = (0.78, 0.60, 0.12, 1)
TIER_PALETTE = [(0.45, 0.35, 0.75, 1), VIP_COLOR, (0.45, 0.50, 0.58, 1), (0.60, 0.38, 0.22, 1)]
GREY = (0.30, 0.31, 0.35, 1)


class CustomerScreen(HostedScreen):
    """One large button per service; the priority/VIP way in; the language switch.

    Priority: the VIP button offers the configured tiers (`settings.tiers`; with one tier it
    is chosen at once), a member code gives its own tier (`MemberCodes`); then the customer
    chooses among the VIP services (or taps straight through when there is one)."""

    priority_mode = BooleanProperty(False)
    choosing_tier = BooleanProperty(False)
    hint_text = StringProperty("")
    nearby_text = StringProperty("")
    message = StringProperty("")
    grid_cols = NumericProperty(2)
    show_vip_button = BooleanProperty(False)
    show_code_button = BooleanProperty(False)
    show_check_in_button = BooleanProperty(False)

    def __init__(self, *, app: ScreenHost, **kw: Any) -> None:
        super().__init__(app=app, **kw)
        self.settings = app.settings
        self.member: str | None = None
        self.tier: str | None = None
        self.busy = False
        self._keybuf = ""
        self._msg_ev = None
        self.buttons: dict[str, ServiceButton] = {}
        self.tier_buttons: dict[str, TierButton] = {}
        self._grid_keys: list[str] = []
        entry = self.settings.ui.vip_entry
        self.show_vip_button = entry in ("button", "both")
        self.show_code_button = entry in ("code", "both")
        phone = self.settings.phone        # tickets taken on a phone, or appointments booked there
        self.show_check_in_button = phone.remote or bool(phone.appointments.services)
        self.codes = MemberCodes(self.settings.ui.vip_codes_file, [t.id for t in self.settings.tiers])
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

    def prompt_text(self, lang: str, priority_mode: bool, choosing_tier: bool = False) -> str:
        app = self.app
        if choosing_tier:
            return app.tr("Priority ticket: please choose your membership tier", lang)
        if priority_mode:
            return app.tr("Priority ticket: please choose a service", lang)
        return app.tr("Please choose a service", lang)

    def _layout(self) -> None:
        n = max(1, len(self._grid_keys))
        if self.app.portrait:
            self.grid_cols = 1 if n <= 4 else 2
        else:
            self.grid_cols = n if n <= 3 else math.ceil(n / 2)

    def update(self, snap: dict) -> None:
        alert = (snap or {}).get("alert") or {}
        busy = int(alert.get("level") or 0) >= 1
        if self.choosing_tier:
            self._show_tiers()
        else:
            self._show_services(snap or {}, busy)
        app = self.app
        hints = [svc.self_service.get(app.lang) for svc in self.settings.services
                 if busy and svc.self_service is not None]
        sep = "" if app.lang == "zh" else " "
        self.hint_text = sep.join([app.tr("It is busy now.", app.lang)] + hints) if hints else ""
        self.nearby_text = self.nearby_line(app.lang) if busy else ""

    def nearby_line(self, lang: str, limit: int = 3) -> str:
        """"Nearby: Lujiazui 1.4 km, 3 waiting; …" from HQ's latest neighbours (`KioskApp.neighbours`);
        empty when HQ has sent none (or none are near)."""
        app = self.app
        try:
            doc = app.kiosk.neighbours()
        except Exception:  # noqa: BLE001 — a hint never stops the screen
            log.exception("the nearby branches cannot be read")
            return ""
        parts = []
        for n in ((doc or {}).get("neighbours") or [])[:limit]:
            name = (n.get("name") or {}).get(lang) or (n.get("name") or {}).get("en") or n.get("branch", "")
            parts.append(app.tr("{name} {km} km, {n} waiting", lang, name=name, km=f"{float(n['km']):.1f}",
                                n=int(n["waiting"])))
        if not parts:
            return ""
        return app.tr("Nearby: {branches}", lang, branches=("；" if lang == "zh" else "; ").join(parts))

    def _fill_grid(self, keys: list[str], buttons: list[ServiceButton]) -> None:
        """Put `buttons` in the grid unless the buttons of `keys` are there already."""
        if keys == self._grid_keys:
            return
        grid = self.ids.grid
        grid.clear_widgets()
        for btn in buttons:
            grid.add_widget(btn)
        self._grid_keys = keys
        self._layout()

    def _show_tiers(self) -> None:
        app = self.app
        tiers = self.settings.tiers
        keys = ["tier:" + t.id for t in tiers]
        if keys != self._grid_keys:
            self.tier_buttons = {t.id: TierButton(tier=t.id) for t in tiers}
            for btn in self.tier_buttons.values():
                btn.bind(on_release=lambda b: self.choose_tier(b.tier))
            self._fill_grid(keys, list(self.tier_buttons.values()))
        for i, tier in enumerate(tiers):
            btn = self.tier_buttons[tier.id]
            btn.title = tier.name.get(app.lang)
            btn.detail = app.tr("Priority ticket", app.lang)
            btn.bg = TIER_PALETTE[i % len(TIER_PALETTE)]

    def _show_services(self, snap: dict, busy: bool) -> None:
        app = self.app
        shown = self.shown_services()
        keys = ["service:" + s.prefix for s in shown]
        if keys != self._grid_keys:
            self.buttons = {s.prefix: ServiceButton(prefix=s.prefix) for s in shown}
            for btn in self.buttons.values():
                btn.bind(on_release=lambda b: self.tap_service(b.prefix))
            self._fill_grid(keys, list(self.buttons.values()))
        by_prefix = {s["service"]: s for s in snap.get("services", [])}
        for i, svc in enumerate(shown):
            btn = self.buttons[svc.prefix]
            info = by_prefix.get(svc.prefix, {})
            btn.title = svc.name.get(app.lang)
            why = info.get("unavailable")
            color = VIP_COLOR if (svc.priority == "vip" or self.priority_mode) else PALETTE[i % len(PALETTE)]
            if why:
                btn.disabled = True
                btn.bg = GREY
                btn.detail = self.unavailable_text(svc, why)
            else:
                btn.disabled = False
                btn.bg = color
                waiting = int(info.get("waiting", 0))
                lines = [app.ntr("{n} person waiting", "{n} people waiting", waiting, app.lang),
                         app.tr("Wait: {wait}", app.lang, wait=app.wait_text(info.get("estimate_s", 0.0), app.lang))]
                if busy and svc.self_service is not None:
                    lines.append(app.tr("Or use self-service", app.lang))
                btn.detail = "\n".join(lines)

    def unavailable_text(self, svc: Service, why: str) -> str:
        """Why a service takes no ticket now; a service diverted at a peak says where to go instead."""
        app = self.app
        if why == "daily_cap":
            return app.tr("No more tickets today", app.lang)
        if why == "diverted":
            lines = [app.tr("Very busy: no tickets here now", app.lang)]
            if svc.self_service is not None:
                lines.append(svc.self_service.get(app.lang))
            return "\n".join(lines)
        if why == "offline":                         # a satellite ticket machine whose main kiosk is out of reach
            return app.tr("No tickets from this machine now: please use the main ticket machine", app.lang)
        return app.tr("Closed now · opening hours {hours}", app.lang, hours=", ".join(svc.hours))

    # taps
    def tap_service(self, prefix: str) -> None:
        app = self.app
        if self.busy:
            return                                   # one ticket per tap, even on a double tap
        self.busy = True
        priority = self.priority_mode
        member, tier = (self.member, self.tier) if priority else (None, None)
        app.when_done(app.kiosk.issue(prefix, priority=priority, member=member, tier=tier),
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
        self.tier = None
        result = app.screen("result")
        result.show(ticket, app.printer_problem())
        app.show("result")

    def start_vip(self) -> None:
        """The VIP button: the customer chooses a tier first (with one tier, it is that one)."""
        tiers = self.settings.tiers
        if len(tiers) == 1:
            self.start_priority(tier=tiers[0].id)
            return
        self.member = None
        self.tier = None
        self.priority_mode = True
        self.choosing_tier = True
        self.update(self.app.snap)

    def choose_tier(self, tier: str) -> None:
        self.choosing_tier = False
        self.start_priority(member=self.member, tier=tier)

    def start_priority(self, member: str | None = None, tier: str | None = None) -> None:
        """Priority mode for `tier` (an id of `settings.tiers`; None: the service's tier, else the lowest)."""
        self.member = member
        self.tier = tier
        self.choosing_tier = False
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

    def open_check_in(self) -> None:
        app = self.app
        app.screen("check_in").reset()
        app.show("check_in")

    def reset(self) -> None:
        self.priority_mode = False
        self.choosing_tier = False
        self.member = None
        self.tier = None
        self.message = ""
        self._keybuf = ""
        self.update(self.app.snap)

    def show_message(self, text: str, seconds: float = 6.0) -> None:
        self.message = text
        if self._msg_ev is not None:
            self._msg_ev.cancel()
        self._msg_ev = Clock.schedule_once(lambda dt: setattr(self, "message", ""), seconds)

    def on_key_input(self, key: str) -> None:
        """A USB barcode reader types a member code, or the follow URL of a ticket taken on a
        phone, and Enter: see `scanned`."""
        if key == "enter":
            code, self._keybuf = self._keybuf.strip(), ""
            if code:
                self.scanned(code)
        elif key == "del":
            self._keybuf = self._keybuf[:-1]
        elif len(self._keybuf) < 256:
            self._keybuf += key

    def scanned(self, code: str) -> None:
        """A follow URL (…/t/TOKEN) checks its ticket in; so does a bare token that is no member
        code; anything else is a member code (when member codes are on)."""
        member_codes = self.settings.ui.vip_entry in ("code", "both")
        if "/t/" in code or (is_follow_code(code) and not (member_codes and self.codes.lookup(code))):
            self.app.screen("check_in").scan(code)
        elif member_codes:
            self.member_code(code)

    def member_code(self, code: str) -> bool:
        """A member code typed or scanned: a priority ticket of the code's tier."""
        app = self.app
        found = self.codes.lookup(code)
        if found is None:
            self.show_message(app.tr("This member code is not valid. Please ask a member of staff.", app.lang))
            return False
        app.show("customer")
        self.start_priority(member=found[0], tier=found[1])
        return True

    def shutdown(self) -> None:
        if self._msg_ev is not None:
            self._msg_ev.cancel()
