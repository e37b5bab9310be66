"""The ticket screen: number, service (and the priority tier of a priority ticket), people ahead,
wait, "please take your ticket" — or, when the printer cannot print, the number with a QR code and why."""
from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.properties import ObjectProperty, StringProperty

from kiosk.domain.model import EventType, IssuedTicket

from ui.screens.host import HostedScreen, ScreenHost
from ui.texts import print_failure_code, printer_text
from ui.widgets import qr_texture


class ResultScreen(HostedScreen):
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

    def __init__(self, *, app: ScreenHost, **kw: Any) -> None:
        super().__init__(app=app, **kw)
        self.ticket: IssuedTicket | None = None
        self._back_ev = None
        self._problem_reason: str | None = None
        app.bind(lang=lambda *_: self._relabel())

    def show(self, ticket: IssuedTicket, problem: str | None) -> None:
        """Show `ticket`; `problem` is None or why it cannot be printed (a key of PRINTER_TEXT)."""
        self.ticket = ticket
        self._problem_reason = problem
        self._relabel()
        self._schedule_back()

    def _relabel(self) -> None:
        app = self.app
        t = self.ticket
        if t is None:
            return
        svc = app.settings.service(t.service)
        lang = app.lang
        self.number = t.ticket
        name = svc.name.get(lang) if svc else t.service
        tier = app.settings.tier(t.priority)
        self.service_name = name + ("  · " + tier.name.get(lang) if tier is not None else "")
        self.ahead_text = (app.tr("You are next", lang) if t.ahead == 0 else
                           app.ntr("{n} person ahead of you", "{n} people ahead of you", t.ahead, lang))
        self.wait_text = app.tr("Estimated wait: {wait}", lang, wait=app.wait_text(t.estimate_s, lang))
        alert = (app.snap or {}).get("alert") or {}
        self.hint_text = (svc.self_service.get(lang) if svc is not None and svc.self_service is not None
                          and int(alert.get("level") or 0) >= 1 else "")
        if self._problem_reason:
            self.problem = printer_text(self._problem_reason, lang)
            self.take_text = "\n".join((app.tr("Your ticket cannot be printed.", lang),
                                        app.tr("Please photograph this screen or remember your number.", lang)))
            if self.qr is None:
                self.qr = qr_texture(self.qr_data(t))
        else:
            self.problem = ""
            self.take_text = app.tr("Please take your ticket", lang)
            self.qr = None

    def qr_data(self, t: IssuedTicket) -> str:
        """What the on-screen QR code says: the ticket's page on HQ when `[phone] follow_url` is set
        (the customer follows it on the phone), else branch, business day and number (staff can scan it)."""
        link = self.app.settings.phone.follow_link(t.follow_token)
        return link or f"KIOSK:{self.app.settings.branch.id}:{t.day}:{t.ticket}:{t.ticket_id}"

    def on_core_event(self, event: dict) -> None:
        """The printer gave up on the ticket on screen: switch to the QR code and say why."""
        if (event.get("type") == EventType.TICKET_PRINT_FAILED and self.ticket is not None
                and event.get("ticket_id") == self.ticket.ticket_id and not self._problem_reason):
            self._problem_reason = print_failure_code(event, self.app.printer_problem())
            self._relabel()
            self._schedule_back()

    def _schedule_back(self) -> None:
        if self._back_ev is not None:
            self._back_ev.cancel()
        timeout = self.app.settings.ui.result_timeout_s
        if self._problem_reason:
            timeout *= 2        # time to take a photo
        self._back_ev = Clock.schedule_once(lambda dt: self.done(), timeout)

    def done(self) -> None:
        if self._back_ev is not None:
            self._back_ev.cancel()
            self._back_ev = None
        sm = self.app.sm
        if sm is not None and sm.current == "result":
            self.app.go_home()

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
