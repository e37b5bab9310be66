"""`kiosk run` with the devices of the configuration *and* the stdin console.

    python -m kiosk.simday.runner --config FILE --data DIR [--mqtt URL]

`kiosk run --simulate` attaches the console but replaces every device with a virtual one;
`kiosk run` keeps the real drivers but has no console. A simulated day needs both: the
real ESC/POS and serial display drivers on pseudo-terminals, gpiozero's MockFactory for
keypads, and the console standing in for the people. This is `kiosk.run.run` with the
console attached (same start-up: corrupt-database check, KIOSK_SIM_CLOCK, devices, alerts,
MQTT, watchdog), plus, in accelerated time, the app's hourly housekeeping (the prune of
delivered events) run every *hall* hour instead of every real hour.
"""
from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from typing import Any


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m kiosk.simday.runner")
    p.add_argument("--config", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--mqtt", default=None)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from kiosk.app import KioskApp, data_dir
    from kiosk.config import load_settings
    from kiosk.console import Console
    from kiosk.run import _clock_from_env, _restore_if_corrupt, _schedule_watchdog, attach_everything

    t_start = time.monotonic()
    settings = load_settings(args.config)
    ddir = data_dir(args.data)
    ddir.mkdir(parents=True, exist_ok=True)
    report = _restore_if_corrupt(ddir)
    clock = _clock_from_env()
    app = KioskApp(settings, ddir, clock=clock).start()
    speed = getattr(clock, "speed", 1.0)
    housekeeping = getattr(app, "housekeeping", None) or getattr(app, "_housekeeping", None)
    if speed > 1.0 and housekeeping is not None:
        # the app prunes hourly in *real* time; in accelerated time a week would prune once, so the
        # harness also runs it every hall hour (what a real week would do: docs/reliability.md, Found)
        app.loop.every(3600.0 / speed, housekeeping)
    if report is not None:
        logging.getLogger("kiosk.run").error("%s", report.summary())
        app.call("record_event", "device.fault", **report.as_dict())
    stop = threading.Event()
    try:
        attach_everything(app, settings, simulate=False, mqtt_url=args.mqtt)
        _schedule_watchdog(app)
        print(f"kiosk ready in {time.monotonic() - t_start:.2f} s (branch {settings.branch.id}, data {ddir})",
              flush=True)

        def on_signal(signum: int, _frame: Any) -> None:
            stop.set()
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        Console(app, sys.stdin, sys.stdout, on_quit=stop.set).start()
        while not stop.wait(1.0):
            pass
    finally:
        app.stop()
    print("kiosk stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
