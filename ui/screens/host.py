"""What every screen is handed: the app it is shown in (`ScreenHost`, which `ui.main.KioskUi`
is), and the base class that keeps it.

Screens reach the kiosk, the other screens, the language and the texts through their host;
they never look up the running app. Every method of a screen runs on Kivy's main thread.
"""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Protocol

from kivy.uix.screenmanager import Screen, ScreenManager

from kiosk.config.settings import Settings

from ui.kiosk_port import KioskPort


class ScreenHost(Protocol):
    """The app as the screens see it."""

    settings: Settings
    kiosk: KioskPort
    lang: str
    snap: dict[str, Any]
    portrait: bool
    u: float
    sm: ScreenManager | None

    def bind(self, **callbacks: Callable[..., Any]) -> Any: ...

    def tr(self, msgid: str, lang: str | None = None, **fmt: Any) -> str: ...

    def ntr(self, singular: str, plural: str, n: int, lang: str | None = None, **fmt: Any) -> str: ...

    def wait_text(self, seconds: float, lang: str | None = None) -> str: ...

    def error_text(self, exc: BaseException) -> str: ...

    def when_done(self, fut: Future[Any], on_done: Callable[[Future[Any]], None]) -> None:
        """`on_done(fut)` on Kivy's thread once the command has run."""
        ...

    def printer_problem(self) -> str | None:
        """None when the printer can print, else a key of `ui.texts.PRINTER_TEXT`."""
        ...

    def screen(self, name: str) -> Any:
        """The screen called `name`, built the first time it is asked for."""
        ...

    def show(self, name: str) -> Any: ...

    def go_home(self, reset_lang: bool = True) -> None: ...

    def refresh(self, *args: Any) -> None: ...


class HostedScreen(Screen):
    """A screen that keeps the app it was built by (`app=`)."""

    def __init__(self, *, app: ScreenHost, **kw: Any) -> None:
        self.app = app                  # before Kivy applies the KV rules, which may call methods
        super().__init__(**kw)
