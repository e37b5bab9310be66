"""A kiosk publisher in its own process (for SIGKILL tests).

    python kiosk_proc.py SETTINGS.json DATA_DIR N

Starts the app with telemetry, issues N tickets, prints ``issued N last_seq S``, then prints
``state <state>`` whenever the telemetry state changes, until killed.
"""
from __future__ import annotations

import json
import sys
import time

from kiosk.app.kiosk_app import KioskApp
from kiosk.config.settings import Settings
from kiosk.mqtt.telemetry import attach_telemetry


def main() -> None:
    settings = Settings.model_validate(json.loads(open(sys.argv[1]).read()))
    app = KioskApp(settings, sys.argv[2]).start()
    tele = attach_telemetry(app)
    n = int(sys.argv[3])
    services = [s.prefix for s in settings.services]
    for i in range(n):
        app.issue(services[i % len(services)]).result()
    last = app.loop.call(lambda: app.store.last_seq())
    print(f"issued {n} last_seq {last}", flush=True)
    seen = None
    while True:
        st = tele.state
        key = (st["state"], st["backlog"])
        if key != seen:
            seen = key
            print(f"state {st['state']} backlog {st['backlog']}", flush=True)
        time.sleep(0.05)


if __name__ == "__main__":
    main()
