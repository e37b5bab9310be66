"""Screenshots of every screen in both languages: `python -m ui.devtools.screenshots [--out DIR] [--sizes …]`.

Runs headless (SDL offscreen on Mesa when there is no DISPLAY) on a demo hall in a temporary
data directory with a fake printer, and writes ``ui-<screen>-<lang>-<W>x<H>.png``:
customer, tiers (the VIP button's tier choice), ticket (printer ready), ticket-priority (a
diamond ticket), ticket-printer-fault (QR code), vip (member code keypad), pin (admin PIN),
admin and now-serving (with the quiet hours of four weeks of demo tickets), and
``kiosk-check-in-<lang>-<W>x<H>.png`` (the code of a phone ticket on the keypad, a wrong code
refused), ``kiosk-check-in-done-…`` (checked in) and ``kiosk-nearby-…`` (a peak: the nearest
branches HQ sent), in zh and en, at
800x480 and 1920x1080 (the defaults; ``--sizes 1280x720,720x1280`` for the other layouts).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from ui.devtools.harness import headless_env

DEFAULT_OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
DEFAULT_SIZES = ((800, 480), (1920, 1080))
DEMO_PIN = "2468"
SCREENS = ("customer", "tiers", "ticket", "ticket-priority", "ticket-printer-fault", "vip", "pin", "admin",
           "admin-status", "now-serving", "check-in", "check-in-done", "nearby")
FILE_PREFIX = {"check-in": "kiosk", "check-in-done": "kiosk", "nearby": "kiosk"}     # the others: "ui"
DEMO_NEIGHBOURS = {"v": 1, "ts": "2026-12-06T10:00:00+08:00", "neighbours": [
    {"branch": "sh-lujiazui", "name": {"zh": "陆家嘴营业厅", "en": "Lujiazui"}, "km": 1.2, "online": True,
     "waiting": 3, "services": []},
    {"branch": "sh-people-sq", "name": {"zh": "人民广场营业厅", "en": "People's Square"}, "km": 2.6,
     "online": True, "waiting": 5, "services": []}]}


def demo_settings():
    """The sample hall, plus a service that is closed at 09:00 (to show a disabled button)."""
    from kiosk.config.settings import Settings, load_settings
    from kiosk.access.pin import hash_pin
    data = load_settings().model_dump(mode="json")
    data["services"].append({"prefix": "C", "name": {"zh": "外币兑换", "en": "Foreign exchange"},
                             "hours": ["13:00-17:00"]})
    data["counters"][3]["services"].append("C")
    data["phone"].update(remote=True, follow_url="https://hq.example.com/t/{token}")
    data["ui"].update(vip_entry="both", admin_pin_hash=hash_pin(DEMO_PIN), fullscreen=False, result_timeout_s=120)
    return Settings.model_validate(data)


def demo_history(settings, data_dir: str, today: datetime) -> None:
    """Four weeks of tickets before `today` (Monday–Friday, four an hour from 09:00 to 17:00, one
    on Tuesday–Thursday at 14:00), so the now-serving screen has quiet hours to show."""
    from kiosk.domain.clock import FakeClock
    from kiosk.engine.queue_engine import QueueEngine
    from kiosk.storage.store import Store, db_path
    first = (today - timedelta(days=28)).replace(hour=8, minute=0, second=0, microsecond=0)
    clock = FakeClock(wall=first, tz=today.tzinfo)
    store = Store(db_path(data_dir), synchronous="OFF")
    try:
        engine = QueueEngine(store, settings, clock)
        for day in range(28):
            if (first + timedelta(days=day)).weekday() >= 5:
                continue
            for hour in range(9, 17):
                per_hour = 1 if ((first + timedelta(days=day)).weekday() in (1, 2, 3) and hour == 14) else 4
                for k in range(per_hour):
                    at = first + timedelta(days=day, hours=hour - 8, minutes=k * 60 // per_hour)
                    clock.advance((at - clock.wall()).total_seconds())
                    engine.issue("AB"[k % 2])
    finally:
        store.close()


def shoot_check_in(kiosk, ui, shot) -> None:
    """The check-in of a ticket taken on a phone: a wrong code refused, then the ticket checked in."""
    from ui.devtools import harness as h
    remote = kiosk.issue_remote("A").result(10)
    ui.screen("customer").open_check_in()
    screen = ui.screen("check_in")
    wrong = "000000" if remote["check_in_code"] != "000000" else "111111"
    for key in wrong:
        screen.keypad(key)
    screen.submit()
    h.pump_until(lambda: screen.message)
    shot("check-in")
    for key in remote["check_in_code"]:
        screen.keypad(key)
    screen.submit()
    h.pump_until(lambda: screen.done)
    shot("check-in-done")
    ui.go_home(reset_lang=False)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m ui.devtools.screenshots", description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--sizes", default=",".join(f"{w}x{h}" for w, h in DEFAULT_SIZES))
    p.add_argument("--screens", default=",".join(SCREENS), help="a subset of: " + ", ".join(SCREENS))
    args = p.parse_args(argv)
    wanted = set(args.screens.split(","))
    sizes = [tuple(int(v) for v in s.lower().split("x")) for s in args.sizes.split(",") if s]
    if len(sizes) > 1:
        # the offscreen GL surface keeps the size it was created with: one process per size
        import subprocess
        for w, h in sizes:
            rc = subprocess.call([sys.executable, "-m", "ui.devtools.screenshots", "--out", str(args.out),
                                  "--sizes", f"{w}x{h}", "--screens", args.screens])
            if rc:
                return rc
        return 0

    headless_env()
    from ui.devtools.harness import configure
    configure(sizes[0])
    from kiosk.app.kiosk_app import KioskApp
    from kiosk.domain.clock import FakeClock

    from ui.devtools import harness as h
    size = sizes[0]

    tmp = tempfile.mkdtemp(prefix="kiosk-shots-")
    settings = demo_settings()
    printer = h.MockDevices()
    clock = FakeClock()
    if "now-serving" in wanted:
        demo_history(settings, tmp, clock.wall())
    kiosk = KioskApp(settings, tmp, clock=clock, devices=printer).start()
    written: list[Path] = []
    try:
        for c in (1, 2, 3):
            kiosk.set_counter(c, "open").result()
        for prefix in "AAABABBAAB":
            kiosk.issue(prefix).result()
            kiosk.clock.advance(40)
        kiosk.issue("V", priority=True).result()
        for c in (1, 2, 3, 1, 2):
            kiosk.call_next(c).result()
            kiosk.clock.advance(50)
        h.force_alert(kiosk, 1)   # a busy hall: the self-service hint shows
        ui = h.start_ui(kiosk, "kiosk")
        try:
            tag = f"{size[0]}x{size[1]}"
            for lang in ("zh", "en"):
                def shot(name: str) -> None:
                    if name not in wanted:
                        return
                    h.pump(6)
                    prefix = FILE_PREFIX.get(name, "ui")
                    written.append(h.screenshot(args.out / f"{prefix}-{name}-{lang}-{tag}.png"))

                ui.go_home()
                ui.lang = lang
                ui.refresh()
                shot("customer")
                kiosk.set_neighbours(DEMO_NEIGHBOURS)
                ui.refresh()
                shot("nearby")
                kiosk.set_neighbours({"v": 1, "neighbours": []})
                ui.refresh()
                ui.screen("customer").start_vip()
                shot("tiers")
                ui.screen("customer").choose_tier(settings.tiers[0].id)
                h.pump_until(lambda: ui.sm.current == "result")
                shot("ticket-priority")
                ui.go_home(reset_lang=False)
                printer.set_state("ready")
                ui.screen("customer").tap_service("A")
                h.pump_until(lambda: ui.sm.current == "result")
                shot("ticket")
                ui.go_home(reset_lang=False)
                printer.set_state("fault", "paper_out")
                ui.screen("customer").tap_service("B")
                h.pump_until(lambda: ui.sm.current == "result")
                shot("ticket-printer-fault")
                printer.set_state("ready")
                ui.go_home(reset_lang=False)
                ui.screen("customer").open_code()
                for key in "1234":
                    ui.screen("vip").keypad(key)
                shot("vip")
                ui.go_home(reset_lang=False)
                ui.open_pin()
                for key in "12":
                    ui.screen("pin").keypad(key)
                shot("pin")
                ui.screen("pin").reset()
                ui.show("admin")
                h.pump(4)
                ui.screen("admin").ids.scroll.scroll_y = 1
                shot("admin")
                ui.screen("admin").ids.scroll.scroll_y = 0
                shot("admin-status")
                ui.go_home(reset_lang=False)
                shoot_check_in(kiosk, ui, shot)
        finally:
            h.stop_ui(ui)
        if "now-serving" in wanted:
            ui = h.start_ui(kiosk, "display")
            try:
                tag = f"{size[0]}x{size[1]}"
                for lang in ("zh", "en"):
                    ui.lang = lang
                    ui.refresh()
                    ui.screen("display").stop_blink()
                    h.pump(6)
                    written.append(h.screenshot(args.out / f"ui-now-serving-{lang}-{tag}.png"))
            finally:
                h.stop_ui(ui)
    finally:
        kiosk.stop()
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
