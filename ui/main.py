"""`KioskUi`: the Kivy application of the touchscreen (customer + admin) or the TV (now serving).

Threading: the core's listeners run on the core thread. `_core_event` only hands the event
to Kivy's Clock; every widget is touched on Kivy's main thread. Commands are submitted as
Futures whose results come back through the Clock too, so a slow core or a printer never
freezes the screen. Import this module only after `ui.app.configure_kivy`.
"""
from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import Future
from functools import partial
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.properties import BooleanProperty, DictProperty, NumericProperty, StringProperty
from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk.estimate import humanize_wait

from ui import i18n, texts
from ui.kiosk_port import KioskPort
from ui.memory import gl_rss_mb, release_memory, rss_mb
from ui.screens import (AdminScreen, CheckInScreen, CustomerScreen, HostedScreen, NowServingScreen, PinScreen, ResultScreen,
                        VipScreen)

log = logging.getLogger(__name__)

KV_FILE = Path(__file__).resolve().parent / "kiosk.kv"
KV_SCREEN_FILES = (Path(__file__).resolve().parent / "screens" / "check_in.kv",)
_kv_loaded = False

KEY_ESCAPE, KEY_F1, KEY_ENTER, KEY_KP_ENTER, KEY_BACKSPACE = 27, 282, 13, 271, 8
SNAPSHOT_TIMEOUT_S = 3.0      # the UI never waits longer than this for the core
REFRESH_EVENTS = ("ticket.", "counter.", "alert.", "day.", "device.", "service.")


def load_kv() -> None:
    global _kv_loaded
    if not _kv_loaded:
        Builder.load_file(str(KV_FILE))
        for path in KV_SCREEN_FILES:
            Builder.load_file(str(path))
        _kv_loaded = True


SCREEN_CLASSES: dict[str, type[HostedScreen]] = {
    "customer": CustomerScreen, "result": ResultScreen, "vip": VipScreen, "pin": PinScreen,
    "admin": AdminScreen, "display": NowServingScreen, "check_in": CheckInScreen}


class KioskUi(App):
    """The Kivy app: builds the screens (handing itself to each), follows the core's events and
    refreshes, switches language, and runs commands as Futures whose results come back on Kivy's thread."""

    lang = StringProperty("zh")
    u = NumericProperty(4.8)              # 1/100 of the shorter side of the window: fonts scale with it
    portrait = BooleanProperty(False)
    snap = DictProperty({})
    can_switch_lang = BooleanProperty(True)

    def __init__(self, kiosk: KioskPort, screen: str = "kiosk", **kw: Any) -> None:
        super().__init__(**kw)
        self.kiosk = kiosk
        self.settings = kiosk.settings
        self.mode = screen
        self.default_lang = self.settings.languages.available[0]
        self.lang = self.default_lang
        self.can_switch_lang = len(self.settings.languages.available) > 1
        self.use_kivy_settings = False
        self.exit_after_first_frame = False
        self.first_frame_s: float | None = None
        self._unsubscribe = None
        self._events: list = []
        self._refresh_trigger = Clock.create_trigger(self.refresh, 0.05)
        self._idle_ev = None
        self._stopped = False
        self.sm: ScreenManager | None = None

    # -- life cycle -----------------------------------------------------------------------------
    def build(self):
        load_kv()
        self.title = "kiosk"
        self._resize(Window, Window.size)
        Window.bind(size=self._resize, on_key_down=self._key_down, on_request_close=self._request_close)
        Window.bind(on_touch_down=self._any_input)
        Window.clearcolor = (0.06, 0.09, 0.16, 1)
        sm = ScreenManager(transition=NoTransition())
        self.sm = sm
        # the start screen now; the others when first shown (a faster first frame, less memory)
        self.screen("display" if self.mode == "display" else "customer")
        sm.bind(current=lambda *_: self._any_input())
        return sm

    def on_start(self) -> None:
        self._unsubscribe = self.kiosk.subscribe(self._core_event)
        self.refresh()
        self._events.append(Clock.schedule_interval(self.refresh, self.settings.ui.refresh_s))
        if self.mode == "display":
            cycle = self.settings.ui.language_cycle_s
            if cycle and self.can_switch_lang:
                self._events.append(Clock.schedule_interval(lambda dt: self.toggle_lang(), cycle))
        Window.bind(on_flip=self._first_frame)

    def _first_frame(self, *args: Any) -> None:
        """The first frame is on the screen (benchmark hook: `--exit-after-first-frame` or
        KIOSK_UI_EXIT_AFTER_FIRST_FRAME=1 print a JSON line with the time and RSS, then stop)."""
        Window.unbind(on_flip=self._first_frame)
        if self.first_frame_s is not None:
            return
        self.first_frame_s = time.monotonic()
        log.info("first frame on screen")
        release_memory()
        if self.exit_after_first_frame or os.environ.get("KIOSK_UI_EXIT_AFTER_FIRST_FRAME") == "1":
            import json
            rss = rss_mb()
            print(json.dumps({"first_frame_monotonic": self.first_frame_s, "rss_mb": rss, "gl_mb": gl_rss_mb(),
                              "pid": os.getpid()}), flush=True)
            Clock.schedule_once(lambda dt: self.stop(), 0)

    def on_stop(self) -> None:
        self.shutdown()

    def shutdown(self) -> None:
        """Unhook from the core and the window (also used by the tests between apps)."""
        self._stopped = True
        if self._unsubscribe is not None:
            try:
                self._unsubscribe()
            except Exception:  # noqa: BLE001
                log.exception("unsubscribing the UI failed")
            self._unsubscribe = None
        for ev in self._events:
            ev.cancel()
        self._events.clear()
        self._refresh_trigger.cancel()
        if self._idle_ev is not None:
            self._idle_ev.cancel()
        if self.sm is not None:
            for screen in self.sm.screens:
                getattr(screen, "shutdown", lambda: None)()
        Window.unbind(size=self._resize, on_key_down=self._key_down, on_request_close=self._request_close)
        Window.unbind(on_touch_down=self._any_input)
        Window.unbind(on_flip=self._first_frame)

    # -- lockdown --------------------------------------------------------------------------------
    def open_settings(self, *largs: Any) -> bool:
        """F1 (and any other way) opens no settings panel on a kiosk."""
        return False

    def _request_close(self, *args: Any, **kw: Any) -> bool:
        """The window refuses to close from the keyboard or the window manager; the service
        stops the kiosk with SIGTERM."""
        return not getattr(self, "_closing", False)

    def stop(self, *largs: Any) -> None:
        self._closing = True
        super().stop(*largs)

    def _key_down(self, window: Any, key: int, scancode: int = 0, codepoint: str | None = None,
                  modifiers: list | None = None, *args: Any) -> bool:
        self._any_input()
        if key in (KEY_ESCAPE, KEY_F1):
            return True                      # swallowed: no exit, no settings
        screen = self.sm.current_screen if self.sm else None
        handler = getattr(screen, "on_key_input", None)
        if handler is None:
            return True
        if key in (KEY_ENTER, KEY_KP_ENTER):
            handler("enter")
        elif key == KEY_BACKSPACE:
            handler("del")
        elif codepoint and codepoint.isprintable() and not (modifiers and ("ctrl" in modifiers or "alt" in modifiers)):
            handler(codepoint)
        return True

    # -- idle: back to the start screen and the default language ---------------------------------
    def _any_input(self, *args: Any) -> None:
        if self._idle_ev is not None:
            self._idle_ev.cancel()
        if self.mode != "kiosk" or self.sm is None:
            return
        screen = self.sm.current
        idle = {"customer": 60.0, "vip": 45.0, "check_in": 45.0, "pin": self.settings.ui.admin_idle_s,
                "admin": self.settings.ui.admin_idle_s}.get(screen)
        if idle:
            self._idle_ev = Clock.schedule_once(self._idle, idle)

    def _idle(self, dt: float) -> None:
        if self.sm is None:
            return
        if self.sm.current in ("vip", "pin", "admin", "check_in"):
            self.go_home()
        else:
            self.screen("customer").reset()
            self.lang = self.default_lang

    def screen(self, name: str) -> Any:
        """The screen called `name`, built the first time it is asked for."""
        if not self.sm.has_screen(name):
            screen = SCREEN_CLASSES[name](name=name, app=self)
            self.sm.add_widget(screen)
            update = getattr(screen, "update", None)
            if update is not None and self.snap:
                update(self.snap)
        return self.sm.get_screen(name)

    def show(self, name: str) -> Any:
        screen = self.screen(name)
        self.sm.current = name
        return screen

    def go_home(self, reset_lang: bool = True) -> None:
        if reset_lang:
            self.lang = self.default_lang
        self.screen("customer").reset()
        self.show("customer")
        self.refresh()

    def open_pin(self) -> None:
        self.screen("pin").reset()
        self.show("pin")

    # -- language and sizes ----------------------------------------------------------------------
    def tr(self, msgid: str, lang: str | None = None, **fmt: Any) -> str:
        return i18n.tr(msgid, lang or self.lang, **fmt)

    def ntr(self, singular: str, plural: str, n: int, lang: str | None = None, **fmt: Any) -> str:
        return i18n.ntr(singular, plural, n, lang or self.lang, **fmt)

    def wait_text(self, seconds: float, lang: str | None = None) -> str:
        return humanize_wait(seconds, lang or self.lang)

    def toggle_lang(self) -> None:
        langs = list(self.settings.languages.available)
        if len(langs) > 1:
            self.lang = langs[(langs.index(self.lang) + 1) % len(langs)] if self.lang in langs else langs[0]

    def other_lang_label(self, lang: str) -> str:
        """The language button shows the language it switches to, in that language."""
        langs = list(self.settings.languages.available)
        if len(langs) < 2:
            return ""
        nxt = langs[(langs.index(lang) + 1) % len(langs)] if lang in langs else langs[0]
        return {"zh": "中文", "en": "English"}.get(nxt, nxt)

    def branch_name(self, lang: str) -> str:
        return self.settings.branch.name.get(lang)

    def _resize(self, window: Any, size: Any) -> None:
        w, h = size
        self.u = max(2.0, min(w, h) / 100.0)
        self.portrait = h > w

    # -- core → UI ---------------------------------------------------------------------------------
    def _core_event(self, event: dict[str, Any]) -> None:
        """Runs on the CORE thread: only hand the event over to Kivy's main thread."""
        Clock.schedule_once(partial(self._on_event, event), 0)

    def _on_event(self, event: dict[str, Any], dt: float = 0) -> None:
        etype = str(event.get("type", ""))
        if self.sm is None or self._stopped:
            return
        for screen in self.sm.screens:
            handler = getattr(screen, "on_core_event", None)
            if handler is not None:
                handler(event)
        if etype.startswith(REFRESH_EVENTS):
            self._refresh_trigger()

    def refresh(self, *args: Any) -> None:
        if self._stopped:
            return
        try:
            snap = self.kiosk.snapshot(timeout=SNAPSHOT_TIMEOUT_S)
        except Exception as exc:  # noqa: BLE001 — keep showing the last state
            log.warning("snapshot failed: %s", exc)
            return
        self.snap = snap
        if self.sm is None:
            return
        for screen in self.sm.screens:
            update = getattr(screen, "update", None)
            if update is not None:
                update(snap)

    # -- commands (Futures; results come back through the Clock) ----------------------------------
    def when_done(self, fut: Future[Any], on_done: Callable[[Future[Any]], None] | None) -> None:
        """`on_done(fut)` on Kivy's thread once the command has run (not after the app stopped)."""
        if on_done is None:
            return
        def done(f: Future[Any]) -> None:   # on the core thread: hop to Kivy's
            Clock.schedule_once(lambda dt: None if self._stopped else on_done(f), 0)
        fut.add_done_callback(done)

    def printer_problem(self) -> str | None:
        """None when a printer is attached and ready, else why not: a key of `texts.PRINTER_TEXT`."""
        try:
            status = self.kiosk.device_status() or {}
        except Exception as exc:  # noqa: BLE001
            log.warning("device status failed: %s", exc)
            return "error"
        return texts.printer_problem(status)

    def error_text(self, exc: BaseException) -> str:
        return texts.error_text(exc, self.lang)
