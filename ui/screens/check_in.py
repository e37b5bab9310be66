"""The check-in screen: a ticket taken on a phone (parked) joins the queue here, by its 6-digit
check-in code on the keypad or by its follow QR code at the barcode reader (`scan`).

No ticket is printed: the customer has the number on the phone. The screen shows the number,
"you are in the queue now", people ahead and the wait for `ui.result_timeout_s`, then goes back.
After `MAX_WRONG` wrong codes in a row the keypad rests for `WRONG_REST_S` seconds, so codes
cannot be tried one after another at the kiosk.
"""
from __future__ import annotations

import logging
import re
import time
from concurrent.futures import Future
from typing import Any

from kivy.clock import Clock
from kivy.properties import BooleanProperty, StringProperty

from kiosk.domain import errors

from ui.screens.host import HostedScreen, ScreenHost

log = logging.getLogger(__name__)

CODE_LENS = (6, 8)                   # a remote ticket's check-in code, an appointment's code
MAX_WRONG = 5
WRONG_REST_S = 30.0
SCAN_MAX = 256                      # a follow URL read by the barcode reader, with room to spare
TOKEN = re.compile(r"[A-Za-z0-9_-]{22}")


def is_follow_code(text: str) -> bool:
    """Does `text` (typed by the barcode reader) look like a ticket's follow URL or token?"""
    text = text.strip()
    return "/t/" in text or TOKEN.fullmatch(text) is not None


def refusal_key(exc: BaseException) -> str:
    """Why a check-in was refused, as a key of `CheckInScreen.render_message`."""
    if isinstance(exc, errors.UnknownTicket):
        return "unknown"
    if isinstance(exc, errors.IllegalState):
        return "expired" if isinstance(exc, errors.TicketExpired) else "already"
    if isinstance(exc, errors.KioskError):
        return "refused"
    return "failed"


class CheckInScreen(HostedScreen):
    """6-digit code on a keypad (or a scanned follow URL) → the parked ticket joins the queue."""

    code = StringProperty("")
    message = StringProperty("")
    busy = BooleanProperty(False)
    done = BooleanProperty(False)
    locked = BooleanProperty(False)
    number = StringProperty("")
    service_name = StringProperty("")
    ahead_text = StringProperty("")
    wait_text = StringProperty("")
    done_note = StringProperty("")

    def __init__(self, *, app: ScreenHost, **kw: Any) -> None:
        super().__init__(app=app, **kw)
        self.ticket: dict[str, Any] | None = None
        self.wrong = 0
        self._msg: tuple[str, str] = ("", "")       # (key, the core's reason)
        self._scan = ""
        self._by_code = True
        self._back_ev = None
        self._lock_ev = None
        app.bind(lang=lambda *_: self._relabel())

    def reset(self) -> None:
        self.code = ""
        self._scan = ""
        self.busy = False
        self.done = False
        self.ticket = None
        self._set_message("locked" if self.locked else "")
        self._cancel_back()

    # input
    def on_key_input(self, key: str) -> None:
        """Digits from a keyboard go to the code; a barcode reader's follow URL and Enter check in."""
        if key == "enter":
            scanned, self._scan = self._scan.strip(), ""
            if is_follow_code(scanned):
                self.check_in(scanned)
            else:
                self.submit()
            return
        if key == "del":
            self._scan = self._scan[:-1]
        elif len(self._scan) < SCAN_MAX:
            self._scan += key
        if key.isdigit() or key == "del":
            self.keypad(key)

    def keypad(self, key: str) -> None:
        if self.busy or self.done or self.locked:
            return
        if self._msg[0] != "locked":
            self._set_message("")
        if key == "clear":
            self.code = ""
        elif key == "del":
            self.code = self.code[:-1]
        elif key.isdigit() and len(self.code) < max(CODE_LENS):
            self.code += key

    def submit(self) -> None:
        if self.busy or self.done or self.locked:
            return
        if len(self.code) not in CODE_LENS:
            self._set_message("short")
            return
        code, self.code = self.code, ""
        self.check_in(code)

    def scan(self, text: str) -> None:
        """A follow URL read on another screen: show this screen and check it in."""
        self.reset()
        self.app.show("check_in")
        self.check_in(text)

    def check_in(self, code_or_url: str) -> None:
        """Check in by code, token or follow URL (an unguessable token is never locked out)."""
        by_code = not is_follow_code(code_or_url)
        if self.busy or (self.locked and by_code):
            return
        self._by_code = by_code
        self.busy = True
        self.done = False
        self._set_message("")
        self.app.when_done(self.app.kiosk.check_in(code_or_url), self._checked_in)

    # the core's answer
    def _checked_in(self, fut: Future[dict[str, Any]]) -> None:
        self.busy = False
        try:
            ticket = fut.result()
        except Exception as exc:  # noqa: BLE001 — every refusal is said on the screen
            log.info("check-in refused: %s", exc)
            self._refused(exc)
            return
        self.wrong = 0
        self.ticket = ticket
        self.done = True
        self._relabel()
        self._cancel_back()
        self._back_ev = Clock.schedule_once(lambda dt: self.finish(), self.app.settings.ui.result_timeout_s)
        self.app.refresh()

    def _refused(self, exc: BaseException) -> None:
        key = refusal_key(exc)
        if key == "unknown" and self._by_code:
            self.wrong += 1
            if self.wrong >= MAX_WRONG:
                self._rest()
                return
        self._set_message(key, str(exc))

    def _rest(self) -> None:
        """Too many wrong codes: the keypad rests for WRONG_REST_S seconds."""
        self.wrong = 0
        self.locked = True
        self.code = ""
        self._set_message("locked")
        until = time.monotonic() + WRONG_REST_S

        def unlock(dt: float) -> None:
            if time.monotonic() < until:
                self._lock_ev = Clock.schedule_once(unlock, until - time.monotonic())
                return
            self.locked = False
            self._lock_ev = None
            self._set_message("")
        self._lock_ev = Clock.schedule_once(unlock, WRONG_REST_S)

    # texts
    def _set_message(self, key: str, reason: str = "") -> None:
        self._msg = (key, reason)
        self.message = self.render_message(key, reason)

    def render_message(self, key: str, reason: str = "") -> str:
        app = self.app
        lang = app.lang
        texts = {
            "short": app.tr("Enter the 6-digit phone ticket code or the 8-digit appointment code.", lang),
            "unknown": app.tr("There is no ticket with this code today. Please check the code.", lang),
            "expired": app.tr("This ticket has expired. Please take a new ticket.", lang),
            "already": app.tr("This ticket is already checked in: it is in the queue.", lang),
            "locked": app.tr("Too many wrong codes. Please wait a moment or ask a member of staff.", lang),
            "refused": app.tr("Not possible: {why}", lang, why=reason),
            "failed": app.tr("Something went wrong. Please ask a member of staff.", lang),
        }
        return texts.get(key, "")

    def _relabel(self) -> None:
        app = self.app
        lang = app.lang
        self.message = self.render_message(*self._msg)
        t = self.ticket
        if t is None:
            return
        svc = app.settings.service(str(t.get("service", "")))
        self.number = str(t.get("number", ""))
        self.service_name = svc.name.get(lang) if svc is not None else str(t.get("service", ""))
        ahead = int(t.get("ahead") or 0)
        self.ahead_text = (app.tr("You are next", lang) if ahead == 0 else
                           app.ntr("{n} person ahead of you", "{n} people ahead of you", ahead, lang))
        self.wait_text = app.tr("Estimated wait: {wait}", lang, wait=app.wait_text(float(t.get("estimate_s") or 0), lang))
        booked = t.get("appointment")
        if not booked:
            self.done_note = app.tr("Your number is on your phone: please watch the screen or your phone.", lang)
        elif booked.get("late"):
            self.done_note = app.tr("Past your appointment time: an ordinary ticket. Please take it from the printer.",
                                    lang)
        else:
            self.done_note = app.tr("Your appointment's ticket: please take it from the printer.", lang)

    # leaving
    def finish(self) -> None:
        self._cancel_back()
        sm = self.app.sm
        if sm is not None and sm.current == "check_in":
            self.app.go_home()

    def cancel(self) -> None:
        self.app.go_home(reset_lang=False)

    def _cancel_back(self) -> None:
        if self._back_ev is not None:
            self._back_ev.cancel()
            self._back_ev = None

    def on_leave(self, *args: Any) -> None:
        self._cancel_back()
        self.done = False
        self.ticket = None
        self.code = ""

    def shutdown(self) -> None:
        self._cancel_back()
        if self._lock_ev is not None:
            self._lock_ev.cancel()
