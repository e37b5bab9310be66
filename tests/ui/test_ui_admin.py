"""Lockdown, the admin PIN with its lockout, the admin screen and the now-serving screen."""
from __future__ import annotations

import json

from kivy.base import EventLoop
from kivy.core.window import Window

from kiosk.access.pin import PinGuard, hash_pin, set_pin_command, verify_pin
from kiosk.config.settings import load_settings
from ui.devtools import harness as h
from ui.i18n import tr


PIN = "2468"


def snap_counter(kiosk, number):
    return next(c for c in kiosk.snapshot()["counters"] if c["counter"] == number)


# -- lockdown ---------------------------------------------------------------------------------
def test_escape_and_f1_do_nothing(kiosk, ui):
    status = EventLoop.status
    for key in (27, 282):
        Window.dispatch("on_key_down", key, 0, None, [])
        Window.dispatch("on_keyboard", key, 0, None, [])
        h.pump(2)
    assert EventLoop.status == status
    assert ui.root.parent is Window and list(Window.children) == [ui.root]   # no settings panel
    assert ui._app_settings is None
    assert ui.sm.current == "customer"
    assert ui.open_settings() is False
    assert Window.dispatch("on_request_close") is True      # the window refuses to close


def test_lockdown_config():
    from kivy.config import Config
    assert Config.get("kivy", "exit_on_escape") == "0"
    assert Config.get("input", "mouse") == "mouse,disable_multitouch"
    assert Config.get("graphics", "show_cursor") == "0"


# -- reaching the admin screen ------------------------------------------------------------------
def test_long_press_on_the_branch_name_opens_the_pin_screen(kiosk, ui):
    branch = ui.sm.get_screen("customer").ids.branch
    h.tap(branch)
    assert ui.sm.current == "customer"                  # a short tap does nothing
    h.tap(branch, hold_s=0.4)                           # long_press_s = 0.3 in the tests
    h.pump_until(lambda: ui.sm.current == "pin")


def enter_pin(ui, pin):
    screen = ui.sm.get_screen("pin")
    for key in pin:
        h.tap(screen.ids.keypad.keys[key])
    h.tap(screen.ids.ok_btn)


def test_right_pin_opens_admin_and_wrong_pin_does_not(kiosk, ui):
    ui.open_pin()
    screen = ui.sm.get_screen("pin")
    enter_pin(ui, "1111")
    assert ui.sm.current == "pin" and screen.message == tr("Wrong PIN.", "zh")
    assert screen.ids.pin.text == ""
    enter_pin(ui, PIN)
    assert ui.sm.current == "admin"
    h.tap(ui.sm.get_screen("admin").ids.exit_btn)
    assert ui.sm.current == "customer"


def test_pin_lockout_in_the_ui_survives_a_restart(mk, hall, open_ui):
    kiosk = hall(mk(pin_free_tries=1, pin_lockout_s=600))
    ui = open_ui(kiosk)
    ui.open_pin()
    screen = ui.sm.get_screen("pin")
    enter_pin(ui, "1111")
    assert not screen.locked
    enter_pin(ui, "2222")
    assert screen.locked and screen.ids.keypad.disabled
    assert "600" in screen.message or "599" in screen.message
    enter_pin(ui, PIN)                                  # ignored while locked
    assert ui.sm.current == "pin"
    ui = open_ui(kiosk)                                 # a new UI on the same data dir (restart)
    ui.open_pin()
    screen = ui.sm.get_screen("pin")
    assert screen.locked
    later = screen.guard._now() + 601
    screen.guard._now = lambda: later                   # the lockout is over
    screen.reset()
    assert not screen.locked
    enter_pin(ui, PIN)
    assert ui.sm.current == "admin"


def test_pin_guard_delay_grows_and_persists(tmp_path):
    now = [1_000_000.0]
    stored = hash_pin("1234", log2_n=10)
    guard = PinGuard(stored, tmp_path, free_tries=3, base_s=30, max_s=900, now=lambda: now[0])
    assert [guard.check("0000").locked_s for _ in range(3)] == [0, 0, 0]
    delays = []
    for _ in range(7):
        r = guard.check("0000")
        assert not r.ok
        delays.append(r.locked_s)
        assert guard.check("1234").locked_s > 0         # even the right PIN waits
        now[0] += r.locked_s
    assert delays == [30, 60, 120, 240, 480, 900, 900]
    again = PinGuard(stored, tmp_path, free_tries=3, base_s=30, max_s=900, now=lambda: now[0])
    assert again.failures == 10
    assert again.check("1234").ok and again.failures == 0
    assert json.loads((tmp_path / PinGuard.FILE).read_text())["failures"] == 0


def test_pin_guard_clamps_a_wall_clock_jump_back(tmp_path):
    now = [1_000_000.0]
    guard = PinGuard(hash_pin("1234", log2_n=10), tmp_path, free_tries=1, base_s=30, max_s=900,
                     now=lambda: now[0])
    guard.check("0")
    assert guard.check("0").locked_s == 30
    now[0] -= 86400                                     # NTP moved the clock back a day
    assert guard.locked_for() == 900


def test_no_pin_configured_keeps_admin_locked(mk, hall, open_ui):
    kiosk = hall(mk(admin_pin_hash=None))
    ui = open_ui(kiosk)
    ui.open_pin()
    enter_pin(ui, "0000")
    assert ui.sm.current == "pin"
    assert ui.sm.get_screen("pin").message == tr("No admin PIN is set (kiosk set-pin).", "zh")


def test_hash_and_set_pin_command(tmp_path, capsys):
    h1 = hash_pin("123456")
    assert h1.startswith("scrypt$") and verify_pin("123456", h1) and not verify_pin("123457", h1)
    assert not verify_pin("123456", "garbage") and not verify_pin("123456", None)
    line = set_pin_command(None, "9753")
    assert "admin_pin_hash" in capsys.readouterr().out and line.startswith('admin_pin_hash = "scrypt$')
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text((load_settings.__globals__["DEFAULT_CONFIG"]).read_text())
    set_pin_command(cfg, "9753", write=True)
    set_pin_command(cfg, "8642", write=True)            # replaces the line
    settings = load_settings(cfg)
    assert verify_pin("8642", settings.ui.admin_pin_hash)
    assert cfg.read_text().count("admin_pin_hash") == 1
    import pytest
    with pytest.raises(ValueError):
        set_pin_command(None, "12a4")


# -- the admin screen -----------------------------------------------------------------------------
def admin(ui):
    ui.open_pin()
    enter_pin(ui, PIN)
    assert ui.sm.current == "admin"
    return ui.sm.get_screen("admin")


def test_admin_opens_pauses_and_closes_counters(kiosk, ui):
    screen = admin(ui)
    row = screen._rows[4]
    h.tap(row.ids.open_btn)
    h.pump_until(lambda: snap_counter(kiosk, 4)["state"] == "open")
    h.pump_until(lambda: screen._rows[4].state == "open")
    h.tap(screen._rows[4].ids.pause_btn)
    h.pump_until(lambda: snap_counter(kiosk, 4)["state"] == "paused")
    h.tap(screen._rows[4].ids.close_btn)
    h.pump_until(lambda: snap_counter(kiosk, 4)["state"] == "closed")
    h.pump_until(lambda: screen.message == tr("Counter updated.", "zh"))


def test_admin_test_print_and_reprint(kiosk, printer, ui):
    kiosk.issue("A").result()
    screen = admin(ui)
    h.tap(screen.ids.test_print_btn)
    h.pump_until(lambda: printer.test_pages == 1)
    h.pump_until(lambda: screen.message == tr("Test page sent to the printer.", "zh"))
    h.tap(screen.ids.reprint_btn)
    h.pump_until(lambda: printer.reprints == ["A001"])
    texts = [(r.left, r.right) for r in screen.ids.info.children]
    assert ("printer (printer)", tr("ready", "zh")) in texts


def test_admin_without_a_printer_says_so(kiosk, ui):
    screen = admin(ui)
    h.tap(screen.ids.test_print_btn)
    h.pump_until(lambda: "no printer" in screen.message)


def test_admin_shows_figures_alert_and_mqtt(kiosk, ui):
    kiosk.issue("A").result()
    kiosk.issue("B").result()
    h.force_alert(kiosk, 2, "queue_level2")
    screen = admin(ui)
    ui.refresh()
    texts = dict((r.left, r.right) for r in screen.ids.info.children)
    assert texts[tr("Waiting now", "zh")] == "2"
    assert texts[tr("HQ connection (MQTT)", "zh")] == tr("disabled", "zh")
    assert texts[tr("Alert", "zh")].startswith("2级")
    h.tap(screen.ids.lang_btn)
    texts = dict((r.left, r.right) for r in screen.ids.info.children)
    assert texts["Waiting now"] == "2" and texts["HQ connection (MQTT)"] == "disabled"


def test_admin_rollover_needs_a_second_tap(kiosk, ui):
    kiosk.issue("A").result()
    day = kiosk.current_day().result()
    screen = admin(ui)
    h.tap(screen.ids.rollover_btn)
    assert screen.confirm_rollover and kiosk.current_day().result() == day
    h.tap(screen.ids.rollover_btn)
    h.pump_until(lambda: kiosk.current_day().result() != day)
    h.pump_until(lambda: screen.message == tr("A new business day has started.", "zh"))
    assert kiosk.snapshot()["waiting"] == 0


# -- now serving ---------------------------------------------------------------------------------------
def test_now_serving_lists_calls_newest_first_and_blinks_the_newest(kiosk, open_ui):
    kiosk.set_counter(3, "open").result()
    kiosk.set_counter(4, "open").result()
    for p in "AAB":
        kiosk.issue(p).result()
    kiosk.call_next(3).result()
    ui = open_ui(kiosk, "display")
    screen = ui.sm.get_screen("display")
    rows = list(reversed(screen.ids.calls.children))
    assert [r.number for r in rows] == ["A001"] and rows[0].newest
    assert not screen.blinking                          # what was on screen at start does not blink
    kiosk.clock.advance(30)
    kiosk.call_next(4).result()
    h.pump_until(lambda: [r.number for r in reversed(screen.ids.calls.children)] == ["B001", "A001"])
    rows = list(reversed(screen.ids.calls.children))
    assert rows[0].newest and rows[0].counter_name == "4号窗口" and not rows[1].newest
    assert screen.blinking
    waits = {r.name: r.waiting for r in screen.ids.waits.children}
    assert waits["缴费"] == "1人等候" and waits["综合业务"] == "0人等候"
    ui.toggle_lang()
    h.pump(2)
    assert list(reversed(screen.ids.calls.children))[0].counter_name == "Counter 4"
    screen.stop_blink()
    assert not screen.blinking and all(r.opacity == 1 for r in screen.ids.calls.children)
