"""One touchscreen session for `bench.ui_startup`: every screen shown, then tickets tapped.

    python -m bench.ui_session --config kiosk.toml --data DIR [--tickets 500] [--size 800x480]

The kiosk as `kiosk run --screen kiosk` composes it (the configuration's devices and alerts,
no MQTT), its touchscreen driven through ui/devtools/harness.py on the real window: the first
frame; then each of the six screens shown in turn (customer, result, vip, pin, admin and the
now-serving display) and back to the start; then `--tickets` customers each tapping a service
button, reading the result screen and tapping "done", while counters call and finish so that
about 30 wait (hall time on a fake clock, 30 s per customer). VmRSS (after a full GC and
malloc_trim, as at the first frame) is read at each of the three points; prints one JSON line.
Not a benchmark of its own: no METRICS, run by bench/ui_startup.py.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

from ui.devtools import harness

QUEUE = 30


def _rss() -> dict[str, float | None]:
    from ui.memory import gl_rss_mb, release_memory, rss_mb
    release_memory()
    return {"rss_mb": rss_mb(), "gl_mb": gl_rss_mb()}


def _show_every_screen(ui) -> dict[str, float]:  # noqa: ANN001
    """Each screen in turn; VmRSS after each (MB, by screen)."""
    from ui.main import SCREEN_CLASSES
    shown: dict[str, float] = {}
    for name in ("customer", "result", "vip", "pin", "admin", "display"):
        ui.show(name)
        harness.pump_until(lambda n=name: ui.sm.current == n)
        harness.pump(3)
        shown[name] = _rss()["rss_mb"]
    missing = set(SCREEN_CLASSES) - set(shown)
    if missing:
        raise RuntimeError(f"screens not shown by the benchmark: {', '.join(sorted(missing))}")
    ui.go_home()
    harness.pump_until(lambda: ui.sm.current == "customer")
    return shown


def _serve_some(app, clock, counters: list[int]) -> None:  # noqa: ANN001
    """Counters call and finish until at most QUEUE tickets wait."""
    for _ in range(len(counters) * 2):
        if app.snapshot()["waiting"] <= QUEUE:
            return
        for c in counters:
            if app.call_next(c).result(30) is not None:
                clock.advance(5)
                app.finish(c).result(30)
            clock.advance(3)


def _tap_tickets(ui, app, clock, n: int) -> int:  # noqa: ANN001
    customer, result = ui.screen("customer"), ui.screen("result")
    prefixes = [p for p in customer.buttons if p != "V"] or list(customer.buttons)
    counters = [c.number for c in app.settings.counters]
    for c in counters:
        app.set_counter(c, "open").result(30)
    issued = 0
    for i in range(n):
        harness.tap(customer.buttons[prefixes[i % len(prefixes)]])
        harness.pump_until(lambda: ui.sm.current == "result")
        harness.pump_until(lambda: bool(result.number))
        issued += 1
        harness.tap(result.ids.done_btn)
        harness.pump_until(lambda: ui.sm.current == "customer")
        clock.advance(30)
        _serve_some(app, clock, counters)
    return issued


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.ui_session", description=__doc__.splitlines()[0])
    p.add_argument("--config", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--tickets", type=int, default=500)
    p.add_argument("--size", default="800x480")
    args = p.parse_args(argv)
    harness.headless_env()
    harness.configure(tuple(int(v) for v in args.size.lower().split("x")))  # type: ignore[arg-type]
    from kiosk.app.kiosk_app import KioskApp
    from kiosk.app.run import parts_of
    from kiosk.config.settings import load_settings
    from kiosk.domain.clock import FakeClock
    settings = load_settings(args.config)
    clock = FakeClock()
    app = KioskApp(settings, args.data, clock=clock, **parts_of(settings, simulate=False, mqtt_url=None)).start()
    ui = None
    try:
        t0 = time.monotonic()
        ui = harness.start_ui(app, "kiosk")
        harness.pump_until(lambda: ui.first_frame_s is not None)
        first = _rss()
        shown = _show_every_screen(ui)
        screens = _rss()
        issued = _tap_tickets(ui, app, clock, args.tickets)
        harness.pump(3)
        tickets = _rss()
        print(json.dumps({"first_frame": first, "all_screens": screens, "after_tickets": tickets,
                          "rss_by_screen": shown, "tickets": issued, "seconds": round(time.monotonic() - t0, 1)}),
              flush=True)
    finally:
        if ui is not None:
            harness.stop_ui(ui)
        app.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
