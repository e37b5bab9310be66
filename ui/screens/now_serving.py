"""The now-serving screen for a TV: the latest calls (the newest blinks), the people waiting
per service, and the hall's usually quiet hours (`quiet_hours.on_screen`)."""
from __future__ import annotations

import logging
from typing import Any

from kivy.animation import Animation
from kivy.clock import Clock
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from ui.screens.host import HostedScreen, ScreenHost

log = logging.getLogger(__name__)


class CallRow(BoxLayout):
    number = StringProperty("")
    counter_name = StringProperty("")
    newest = BooleanProperty(False)
    font = NumericProperty(20)


class WaitRow(BoxLayout):
    name = StringProperty("")
    waiting = StringProperty("")
    wait = StringProperty("")


class NowServingScreen(HostedScreen):
    """The TV: the latest calls (the newest blinks), the people waiting per service and the
    hall's usually quiet hours."""

    clock_text = StringProperty("")
    empty_text = StringProperty("")
    quiet_text = StringProperty("")

    def __init__(self, *, app: ScreenHost, **kw: Any) -> None:
        super().__init__(app=app, **kw)
        self._calls: list[dict] = []
        self._quiet: dict[str, str] = {}
        self._newest_key: tuple | None = None
        self._blink: Animation | None = None
        self._blink_stop = None
        self._blinking_row = None
        self._first = True
        self._shown: tuple | None = None
        app.bind(lang=lambda *_: self.update(app.snap))

    def on_core_event(self, event: dict) -> None:
        pass  # ticket.called / ticket.recalled trigger a refresh in the app

    def update(self, snap: dict) -> None:
        app = self.app
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
        if (shown, lang) != self._shown:      # rebuild only when the calls change
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
                      app.tr("the main ticket machine cannot be reached", lang) if why == "offline" else
                      app.tr("please use self-service", lang) if why == "diverted" else
                      app.tr("No more tickets today", lang) if why else
                      app.wait_text(s.get("estimate_s", 0.0), lang))))
        self.quiet_text = self._quiet_hours().get(lang, "") if app.settings.quiet_hours.on_screen else ""

    def _quiet_hours(self) -> dict[str, str]:
        """The hall's usually quiet hours per language (the kiosk computes them once a day)."""
        try:
            self._quiet = self.app.kiosk.quiet_hours()
        except Exception as exc:  # noqa: BLE001 — keep showing the last answer
            log.warning("quiet hours failed: %s", exc)
        return self._quiet

    def _start_blink(self) -> None:
        self.stop_blink()
        blink_s = self.app.settings.ui.blink_s
        if blink_s <= 0:
            return
        self._blink = (Animation(opacity=0.15, duration=0.45) + Animation(opacity=1.0, duration=0.45))
        self._blink.repeat = True
        self._blink_stop = Clock.schedule_once(lambda dt: self.stop_blink(), blink_s)

    def _blink_target(self, row: CallRow) -> None:
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
