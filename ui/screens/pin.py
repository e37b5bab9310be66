"""The admin PIN screen, with a lockout that grows after wrong tries and survives restarts."""
from __future__ import annotations

import math
from typing import Any

from kivy.clock import Clock
from kivy.properties import BooleanProperty, StringProperty

from kiosk.access.pin import PinGuard

from ui.screens.host import HostedScreen, ScreenHost


class PinScreen(HostedScreen):
    """The admin PIN, with a lockout that grows after wrong tries and survives restarts."""

    pin = StringProperty("")
    message = StringProperty("")
    locked = BooleanProperty(False)

    def __init__(self, *, app: ScreenHost, **kw: Any) -> None:
        super().__init__(app=app, **kw)
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
        app = self.app
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
        app = self.app
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
        self.app.go_home(reset_lang=False)

    def on_leave(self, *args: Any) -> None:
        self.pin = ""

    def shutdown(self) -> None:
        if self._tick_ev is not None:
            self._tick_ev.cancel()
