"""A kiosk in its own process for the dashboard tests (SIGKILL → its Last Will says offline).

    python kiosk_proc.py SETTINGS.json DATA_DIR

Starts the app with peak alerts (as `kiosk run` wires them) and telemetry, prints
``ready`` once connected, then reads commands on stdin: ``issue N`` issues N tickets and
prints ``issued N``; ``rate`` calls, finishes and rates the next ticket at counter 1
(prints ``rated``).
"""
from __future__ import annotations

import json
import sys

from kiosk.engine.alerts import AlertMonitor
from kiosk.app.kiosk_app import KioskApp
from kiosk.config.settings import Settings
from kiosk.mqtt.telemetry import attach_telemetry


def main() -> None:
    settings = Settings.model_validate(json.loads(open(sys.argv[1]).read()))
    app = KioskApp(settings, sys.argv[2]).start()
    monitor = app.loop.call(lambda: AlertMonitor(app.engine, settings))
    app.subscribe(lambda ev: None if ev["type"].startswith("alert.") else monitor.evaluate())
    tele = attach_telemetry(app)
    if not tele.wait_for("connected", 30):
        print("not connected", flush=True)
        sys.exit(1)
    print("ready", flush=True)
    services = [s.prefix for s in settings.services]
    for line in sys.stdin:
        words = line.split()
        if words[:1] == ["issue"]:
            n = int(words[1])
            for i in range(n):
                app.issue(services[i % len(services)]).result()
            print(f"issued {n}", flush=True)


if __name__ == "__main__":
    main()
