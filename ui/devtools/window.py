"""The kiosk core with its touchscreen in one process, for development (no devices):

    python -m ui.devtools.window --screen kiosk --data DIR [--config kiosk.toml] [--windowed 800x480]

What `kiosk run --screen …` does, without the devices, alerts and MQTT. `--exit-after-first-frame`
(a benchmark knob) prints the first-frame JSON line and stops.
"""
from __future__ import annotations

import argparse
import sys

from ui.app import SCREENS, configure_kivy, stop_on_signals


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m ui.devtools.window",
                                description="the kiosk core with its touchscreen")
    p.add_argument("--screen", choices=SCREENS, default="kiosk")
    p.add_argument("--config", default=None, help="configuration file (default: KIOSK_CONFIG or the sample hall)")
    p.add_argument("--data", default=None, help="data directory (default: KIOSK_DATA or ./var)")
    p.add_argument("--windowed", default=None, metavar="WxH", help="a window of this size instead of full screen")
    p.add_argument("--exit-after-first-frame", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    from kiosk.app.kiosk_app import KioskApp
    from kiosk.config.settings import load_settings
    settings = load_settings(args.config)
    size = tuple(int(x) for x in args.windowed.lower().split("x")) if args.windowed else None
    app = KioskApp(settings, args.data).start()
    try:
        configure_kivy(settings.ui, data_dir=app.data_dir, fullscreen=False if size else None, size=size)
        from ui.main import KioskUi
        ui = KioskUi(app, args.screen)
        if args.exit_after_first_frame:
            ui.exit_after_first_frame = True
        with stop_on_signals(ui):
            ui.run()
    finally:
        app.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
