"""Driving the screens without a main loop: for the tests, the screenshots and the benchmark.

`headless_env()` must run before Kivy is imported. `start_ui()` builds a `KioskUi` on the
one Kivy window of the process, `pump()` renders frames (Clock ticks, input, drawing) and
`stop_ui()` takes it off the window again, so several apps can run one after another in one
process. `tap(widget)` presses and releases a simulated finger on the real widget.
"""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any, Callable


def headless_env(kivy_home: str | None = None) -> None:
    """The environment Kivy needs to run without a screen (set before importing Kivy)."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_HOME", kivy_home or tempfile.mkdtemp(prefix="kivy-home-"))
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_TEXT", "sdl2")
    os.environ.setdefault("KIVY_IMAGE", "sdl2")
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")


def configure(size: tuple[int, int] = (800, 480)) -> None:
    from kivy.config import Config

    from ui.app import configure_kivy
    Config.set("graphics", "maxfps", "0")       # frames as fast as they render: no sleeping in pump()
    configure_kivy(None, fullscreen=False, size=size)
    from kivy.clock import Clock
    Clock._max_fps = 0


def pump(frames: int = 3) -> None:
    from kivy.base import EventLoop
    for _ in range(frames):
        EventLoop.idle()


def pump_until(cond: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Render frames until `cond()` is true (raises TimeoutError after `timeout` s)."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError("the screen did not reach the expected state")
        pump(1)
        time.sleep(0.005)


def start_ui(kiosk: Any, screen: str = "kiosk") -> Any:
    from kivy.base import EventLoop
    EventLoop.ensure_window()
    from ui.main import KioskUi
    ui = KioskUi(kiosk, screen)
    ui._run_prepare()
    pump(4)
    return ui


def stop_ui(ui: Any) -> None:
    from kivy.app import App
    from kivy.core.window import Window
    ui.dispatch("on_stop")
    pump(2)                                   # pending screen changes complete while the app still runs
    if ui.root is not None and ui.root.parent is not None:
        Window.remove_widget(ui.root)
    App._running_app = None


def tap(widget: Any, hold_s: float = 0.0) -> None:
    """A finger on the centre of `widget` (in window coordinates), released after `hold_s`."""
    from kivy.tests.common import UnitTestTouch
    pump(1)                                   # let a screen that just appeared lay itself out
    x, y = widget.to_window(*widget.center)
    touch = UnitTestTouch(x, y)
    touch.touch_down()
    if hold_s:
        pump(1)
        time.sleep(hold_s)
        pump(2)
    touch.touch_up()
    pump(1)


def screenshot(path: str | os.PathLike) -> Path:
    """Window.screenshot writes NAME0001.png: save under the exact name instead."""
    from kivy.core.window import Window
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pump(2)
    written = Window.screenshot(name=str(path.with_suffix("")) + ".png")
    Path(written).replace(path)
    return path


class FakeOutputs:
    """Stands in for `kiosk.app.outputs` in the tests and the screenshots: one printer whose state
    can be switched, that "prints" (records) every `ticket.issued` while it is ready, plus
    one serial display that is always ready."""

    def __init__(self) -> None:
        import threading
        self._lock = threading.Lock()
        self.state, self.reason = "ready", ""
        self.jobs: list[str] = []          # ticket numbers printed
        self.reprints: list[str] = []
        self.test_pages = 0
        self._unsubscribe: Any = None

    def attach(self, kiosk: Any) -> "FakeOutputs":
        kiosk.outputs = self
        self._unsubscribe = kiosk.subscribe(self._on_event)
        return self

    def _on_event(self, event: dict) -> None:       # core thread
        if event.get("type") == "ticket.issued":
            with self._lock:
                if self.state == "ready":
                    self.jobs.append(event["ticket"])

    def set_state(self, state: str, reason: str = "") -> None:
        with self._lock:
            self.state, self.reason = state, reason

    def status(self) -> dict:
        with self._lock:
            return {"printer": {"kind": "printer", "state": self.state, "reason": self.reason, "since": None},
                    "display": {"kind": "display", "state": "ready", "reason": "", "since": None}}

    def reprint(self, ticket: dict) -> None:
        self.reprints.append(ticket["number"])

    def test_print(self) -> None:
        self.test_pages += 1


def force_alert(kiosk: Any, level: int, reason: str = "queue_level1") -> None:
    """Make the kiosk's snapshots report at least this alert level (demo data and tests)."""
    original = kiosk.snapshot

    def snapshot(*args: Any, **kw: Any) -> dict:
        snap = original(*args, **kw)
        if int(snap["alert"]["level"]) < level:
            snap = dict(snap, alert={"level": level, "reason": reason})
        return snap
    kiosk.snapshot = snapshot
