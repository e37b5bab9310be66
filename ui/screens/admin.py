"""The admin screen: counters, devices, MQTT, alert, today's figures and maintenance actions."""
from __future__ import annotations

from concurrent.futures import Future
from typing import Any

from kivy.clock import Clock
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from ui.screens.host import HostedScreen, ScreenHost
from ui.texts import ALERT_TEXT, MQTT_TEXT, STATE_TEXT


class CounterRow(BoxLayout):
    counter = NumericProperty(0)
    name = StringProperty("")
    state_text = StringProperty("")
    state = StringProperty("")
    ticket = StringProperty("")
    open_text = StringProperty("")
    pause_text = StringProperty("")
    close_text = StringProperty("")


class InfoRow(BoxLayout):
    left = StringProperty("")
    right = StringProperty("")
    warn = BooleanProperty(False)


class AdminScreen(HostedScreen):
    """Counters, devices, MQTT, alert, today's figures and maintenance actions."""

    message = StringProperty("")
    confirm_rollover = BooleanProperty(False)

    def __init__(self, *, app: ScreenHost, **kw: Any) -> None:
        super().__init__(app=app, **kw)
        self._confirm_ev = None
        self._rows: dict[int, CounterRow] = {}
        app.bind(lang=lambda *_: self.update(app.snap))

    def on_enter(self, *args: Any) -> None:
        self.message = ""
        self.app.refresh()

    def update(self, snap: dict) -> None:
        app = self.app
        if not snap or "counters" not in self.ids:
            return
        lang = app.lang
        box = self.ids.counters
        if set(self._rows) != {c["counter"] for c in snap.get("counters", [])}:
            box.clear_widgets()
            self._rows.clear()
            for c in snap.get("counters", []):
                row = CounterRow(counter=c["counter"])
                self._rows[c["counter"]] = row
                box.add_widget(row)
        for c in snap.get("counters", []):
            row = self._rows[c["counter"]]
            names = c.get("name") or {}
            row.name = names.get(lang) or names.get("en") or str(c["counter"])
            row.state = c["state"]
            row.state_text = app.tr(STATE_TEXT.get(c["state"], c["state"]), lang)
            row.ticket = c.get("ticket") or "—"
            row.open_text = app.tr("Open", lang)
            row.pause_text = app.tr("Pause", lang)
            row.close_text = app.tr("Close", lang)
        info = self.ids.info
        info.clear_widgets()

        def add(left: str, right: str, warn: bool = False) -> None:
            info.add_widget(InfoRow(left=left, right=right, warn=warn))

        try:
            devices = app.kiosk.device_status() or {}
        except Exception as exc:  # noqa: BLE001
            devices = {}
            add(app.tr("Devices", lang), str(exc), True)
        if not devices:
            add(app.tr("Devices", lang), app.tr("none attached", lang), True)
        for name, st in sorted(devices.items()):
            state = str(st.get("state", ""))
            ok = state.lower() in ("ok", "ready") and not st.get("fault")
            why = " ".join(str(x) for x in (st.get("fault"), st.get("reason")) if x)
            add(f"{name} ({st.get('kind', '')})",
                app.tr("ready", lang) if ok else f"{state}: {why}".rstrip(": "), not ok)
        try:
            mqtt = app.kiosk.mqtt_state() or {}
        except Exception as exc:  # noqa: BLE001
            mqtt = {"state": "error", "error": str(exc)}
        mstate = str(mqtt.get("state", ""))
        add(app.tr("HQ connection (MQTT)", lang),
            app.tr(MQTT_TEXT.get(mstate, mstate), lang) + (f" — {mqtt['error']}" if mqtt.get("error") else ""),
            mstate not in ("connected", "disabled"))
        alert = snap.get("alert") or {}
        level = int(alert.get("level") or 0)
        reason = str(alert.get("reason") or "")
        reason_text = app.tr(ALERT_TEXT[reason], lang) if reason in ALERT_TEXT else reason
        add(app.tr("Alert", lang),
            app.tr("none", lang) if level == 0 else
            app.tr("level {level}", lang, level=level) + (f": {reason_text}" if reason_text else ""),
            level > 0)
        add(app.tr("Business day", lang), str(snap.get("day") or ""))
        add(app.tr("Waiting now", lang), str(snap.get("waiting", 0)))
        add(app.tr("Open counters", lang), str(snap.get("open_counters", 0)))
        for s in snap.get("services", []):
            name = (s.get("name") or {}).get(lang) or (s.get("name") or {}).get("en") or s["service"]
            add(f"{s['service']} {name}",
                app.tr("served {served} · waiting {waiting} · longest {longest}", lang,
                       served=s.get("served_today", 0), waiting=s.get("waiting", 0),
                       longest=app.wait_text(s["longest_wait_s"], lang) if s.get("longest_wait_s") else "—"),
                bool(s.get("unavailable")))

    # actions
    def set_counter(self, counter: int, state: str) -> None:
        app = self.app
        app.when_done(app.kiosk.set_counter(counter, state), lambda f: self._done(f, app.tr("Counter updated.")))

    def test_print(self) -> None:
        app = self.app
        app.when_done(app.kiosk.test_print(), lambda f: self._done(f, app.tr("Test page sent to the printer.")))

    def reprint(self) -> None:
        app = self.app
        app.when_done(app.kiosk.reprint_last(), lambda f: self._done(f, app.tr("Last ticket sent to the printer.")))

    def rollover(self) -> None:
        app = self.app
        if not self.confirm_rollover:
            self.confirm_rollover = True
            self.message = app.tr("Tap again to start a new business day: today's queue expires.")
            if self._confirm_ev is not None:
                self._confirm_ev.cancel()
            self._confirm_ev = Clock.schedule_once(lambda dt: setattr(self, "confirm_rollover", False), 8)
            return
        self.confirm_rollover = False
        app.when_done(app.kiosk.rollover(), lambda f: self._done(f, app.tr("A new business day has started.")))

    def _done(self, fut: Future[Any], ok_text: str) -> None:
        app = self.app
        try:
            fut.result()
            self.message = ok_text
        except Exception as exc:  # noqa: BLE001
            self.message = app.error_text(exc)
        app.refresh()

    def leave(self) -> None:
        self.app.go_home()

    def shutdown(self) -> None:
        if self._confirm_ev is not None:
            self._confirm_ev.cancel()
