"""Entry point of the touchscreen: `run_ui(kiosk_app, screen)`.

Kivy reads its configuration when it is first imported and creates the window once, so
`configure_kivy` must run before anything imports `kivy.core.window` (the screens are
imported only after it). It sets the lockdown: full screen without borders, ESC does not
exit, no multitouch emulation (no red dots on right click), no mouse cursor, no virtual
keyboard, and Kivy's own logging goes to Python logging (the journal) instead of files.

For development, `python -m ui.devtools.window` runs a kiosk core with the UI in a window.
"""
from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:       # nothing of Kivy or the core is imported before configure_kivy has run
    from kivy.app import App

    from kiosk.config.ui import UiConfig
    from ui.kiosk_port import KioskPort

log = logging.getLogger(__name__)

SCREENS = ("kiosk", "display")
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
_configured = False


def find_font(configured: str | None = None) -> str | None:
    """The configured CJK font, else the first known Debian CJK font that exists."""
    for path in ((configured,) if configured else ()) + FONT_CANDIDATES:
        if path and Path(path).is_file():
            return path
    if configured:
        log.warning("ui.font %s does not exist; looking for a known CJK font", configured)
        return find_font(None)
    return None


def configure_kivy(ui: UiConfig | None = None, *, data_dir: str | os.PathLike | None = None,
                   fullscreen: bool | None = None, size: tuple[int, int] | None = None) -> None:
    """Environment and `kivy.config.Config` for a locked-down kiosk. Call before importing
    `kivy.core.window` (idempotent: a second call changes nothing)."""
    global _configured
    if _configured:
        return
    _configured = True
    os.environ.setdefault("KIVY_NO_ARGS", "1")          # `kiosk run --screen …` is not Kivy's
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")    # logs go to the journal, not to files
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    # no config.ini: everything is set below, and a file torn by a power cut cannot stop the screen
    os.environ.setdefault("KIVY_NO_CONFIG", "1")
    # SDL2 renders text and loads images: Pillow (and through it numpy) stays out of the process
    os.environ.setdefault("KIVY_TEXT", "sdl2")
    os.environ.setdefault("KIVY_IMAGE", "sdl2")
    if data_dir is not None:
        home = Path(data_dir) / "kivy"
        home.mkdir(parents=True, exist_ok=True)
        os.environ.setdefault("KIVY_HOME", str(home))   # not ~/.kivy on a read-mostly system
    from kivy.config import Config

    full = ui.fullscreen if (ui is not None and fullscreen is None) else bool(fullscreen)
    Config.set("kivy", "exit_on_escape", "0")
    Config.set("kivy", "keyboard_mode", "system")       # no Kivy virtual keyboard
    Config.set("kivy", "log_enable", "0")
    Config.set("kivy", "pause_on_minimize", "0")
    Config.set("input", "mouse", "mouse,disable_multitouch")
    Config.set("graphics", "show_cursor", "0")
    Config.set("graphics", "multisamples", "0")
    Config.set("graphics", "fullscreen", "auto" if full else "0")
    Config.set("graphics", "borderless", "1" if full else "0")
    Config.set("graphics", "resizable", "0" if full else "1")
    want = size or (getattr(ui, "size", None) if ui is not None else None)
    if want and not full:
        Config.set("graphics", "width", str(int(want[0])))
        Config.set("graphics", "height", str(int(want[1])))
    Config.set("graphics", "rotation", str(getattr(ui, "rotation", 0) or 0))
    font = find_font(getattr(ui, "font", None))
    if font:
        from kivy.core.text import DEFAULT_FONT, LabelBase
        LabelBase.register(DEFAULT_FONT, font)
    else:
        log.error("no CJK font found (apt install fonts-wqy-zenhei, or set [ui] font): Chinese shows as boxes")


def run_ui(kiosk_app: KioskPort, screen: str = "kiosk") -> None:
    """Run the touchscreen on the main thread until the window closes.

    `kiosk_app` is a started kiosk (`kiosk.app.kiosk_app.KioskApp`); `screen` is "kiosk" (customer
    screen with the admin screen behind a PIN) or "display" (the now-serving screen for a TV)."""
    if screen not in SCREENS:
        raise ValueError(f"screen must be one of {', '.join(SCREENS)}, not {screen!r}")
    configure_kivy(kiosk_app.settings.ui, data_dir=kiosk_app.data_dir)
    from ui.main import KioskUi
    ui = KioskUi(kiosk_app, screen)
    with stop_on_signals(ui):
        ui.run()


@contextlib.contextmanager
def stop_on_signals(ui: App) -> Iterator[None]:
    """SIGTERM/SIGINT (systemd stopping the kiosk) close the window through Kivy's Clock; the
    handlers installed before (e.g. by `kiosk run`) are called too and restored afterwards."""
    import signal

    previous: dict[int, Any] = {}

    def handler(signum: int, frame: Any) -> None:
        from kivy.clock import Clock
        Clock.schedule_once(lambda dt: ui.stop(), 0)
        prev = previous.get(signum)
        if callable(prev):
            prev(signum, frame)

    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            previous[sig] = signal.signal(sig, handler)
        except ValueError:          # not the main thread: leave the signals alone
            pass
    try:
        yield
    finally:
        for sig, prev in previous.items():
            signal.signal(sig, prev)
