"""`kiosk run`: the service loop of the kiosk, supervised by systemd on a Pi.

Start-up order: check the database (restore a corrupt one from the newest backup and report
the loss; the daily backup itself is `kiosk backup`, run by kiosk-backup.timer), open the
core, attach the devices, alerts and MQTT, serve the hall web app (`kiosk.lan`, when `[lan]`,
`--lan` or `--simulate` asks for it), tell systemd we are ready, and ping its watchdog
from the core thread (so a hung core is restarted, not just a dead process). Then show the
Kivy screen, or wait headless for SIGTERM.
"""
from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from kiosk.app import sdnotify
from kiosk.app.alert_watch import AlertWatch
from kiosk.app.attachments import Attachment
from kiosk.app.kiosk_app import KioskApp, data_dir
from kiosk.app.outputs import Outputs
from kiosk.config.settings import Settings, load_settings
from kiosk.domain.errors import ConfigError, KioskError
from kiosk.storage.store import db_path

log = logging.getLogger("kiosk.app.run")


def run(args: argparse.Namespace) -> int:
    t_start = time.monotonic()
    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        log.info("signal %d: stopping", signum)
        stop.set()
    # before anything else: a SIGTERM during start-up still stops the kiosk cleanly
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    settings = load_settings(args.config)
    ddir = data_dir(args.data)
    ddir.mkdir(parents=True, exist_ok=True)
    if getattr(args, "satellite", None) or settings.satellite.main_url:
        return run_satellite(args, settings, ddir, stop, t_start)
    viewer = getattr(args, "viewer", False)
    report = None if viewer else _restore_if_corrupt(ddir)
    parts = {} if viewer else parts_of(settings, simulate=args.simulate, mqtt_url=args.mqtt)
    lan_at = None if viewer else lan_address(settings, simulate=args.simulate, override=getattr(args, "lan", None))
    app = KioskApp(settings, ddir, clock=_clock_from_env(), **parts).start()
    lan = None
    try:
        lan = start_lan(app, settings, lan_at, required=bool(getattr(args, "lan", None)) or settings.lan.enabled)
        if report is not None:
            log.error("%s", report.summary())
            app.record_event("device.fault", **report.as_dict()).result(30)
        if viewer:
            log.info("viewer: devices, alerts and MQTT are the main kiosk process's; following its events")
        else:
            interrupted = app.fail_interrupted_prints().result(30)
            if interrupted:
                log.warning("tickets whose printing was interrupted (reprint on request): %s",
                            ", ".join(interrupted))
        _schedule_watchdog(app)
        ready_s = time.monotonic() - t_start
        sdnotify.ready(f"serving branch {settings.branch.id}")
        log.info("kiosk ready in %.2f s: branch %s, data %s, screen %s", ready_s, settings.branch.id, ddir,
                 args.screen)
        print(f"kiosk ready in {ready_s:.2f} s (branch {settings.branch.id}, data {ddir})", flush=True)
        if (args.simulate or args.console) and args.screen == "none":
            from kiosk.app.console import Console
            Console(app, sys.stdin, sys.stdout, on_quit=stop.set).start()
        if args.screen != "none" and not stop.is_set():
            from ui.app import run_ui
            run_ui(app, args.screen)
        else:
            while not stop.wait(1.0):
                pass
    finally:
        sdnotify.stopping("stopping")
        if lan is not None:
            lan.close()
        app.stop()
    return 0


def run_satellite(args: argparse.Namespace, settings: Settings, ddir: Path, stop: threading.Event,
                  t_start: float) -> int:
    """A second ticket machine (`kiosk.app.satellite`): its screen and printer, the main kiosk's queue;
    with `--screen display`, a now-serving TV that follows the main kiosk's hall."""
    from kiosk.app.main_link import MainLink, read_token
    from kiosk.app.satellite import SatelliteApp
    cfg = settings.satellite
    url = getattr(args, "satellite", None) or cfg.main_url
    token_file = getattr(args, "device_token_file", None) or cfg.token_file
    if not token_file:
        raise ConfigError("a satellite needs its device token: --device-token-file FILE or [satellite] token_file")
    for flag in ("viewer", "lan", "mqtt"):
        if getattr(args, flag, None):
            raise ConfigError(f"--{flag} belongs to the main kiosk, not to a satellite")
    link = MainLink(url, read_token(token_file), ca_file=cfg.ca_file, timeout_s=cfg.timeout_s)
    app = SatelliteApp(settings, ddir, link, simulate=args.simulate, follow=args.screen == "display").start()
    try:
        ready_s = time.monotonic() - t_start
        sdnotify.ready(f"satellite of {link.url}")
        state = "answers" if app.online else "cannot be reached (tickets refused until it answers)"
        print(f"satellite ready in {ready_s:.2f} s: the main kiosk at {link.url} {state}", flush=True)
        if args.screen != "none" and not stop.is_set():
            from ui.app import run_ui
            run_ui(app, args.screen)
        else:
            while not stop.wait(1.0):
                pass
    finally:
        sdnotify.stopping("stopping")
        app.stop()
    return 0


def lan_address(settings: Settings, *, simulate: bool, override: str | None) -> tuple[str, int] | None:
    """Where the hall web app listens: `--lan HOST:PORT`, else ``[lan]`` when enabled, else this
    machine only (127.0.0.1, the configured port) under ``--simulate``; None: not served."""
    if override:
        host, sep, port = override.rpartition(":")
        if not sep or not port.isdigit() or not 0 < int(port) < 65536 or not host:
            raise ConfigError(f"--lan must be HOST:PORT, e.g. 0.0.0.0:8090, not {override!r}")
        return host.strip("[]"), int(port)
    if settings.lan.enabled:
        return settings.lan.bind, settings.lan.port
    if simulate:
        return "127.0.0.1", settings.lan.port
    return None


def start_lan(app: KioskApp, settings: Settings, where: tuple[str, int] | None, *, required: bool):
    """The hall web app started at `where` (`lan_address`; None: not served). When it is not
    `required` (a bare ``--simulate``), a port in use only costs the demo its web pages (logged)."""
    if where is None:
        return None
    from kiosk.lan.server import LanServer  # starlette and uvicorn only when the hall web app is on
    server = LanServer(app, where[0], where[1], tls_cert=settings.lan.tls_cert, tls_key=settings.lan.tls_key)
    try:
        server.start()
    except RuntimeError as exc:
        if required:
            raise KioskError(str(exc)) from None
        log.warning("hall web app not served: %s:%d is not free", *where)
        return None
    print(f"hall web app on {server.url}/caller and {server.url}/floor", flush=True)
    try:
        from kiosk.access.clerks import ClerkBook
        book = ClerkBook(app.data_dir)
        try:
            clerks = book.list()
        finally:
            book.close()
    except Exception:  # noqa: BLE001 — only a hint
        log.debug("listing the clerks for the hint", exc_info=True)
        clerks = None
    if clerks == []:
        print(f"no clerks yet: sign in there after `kiosk clerk add ID --name NAME --data {app.data_dir}` "
              "(the PIN is read from stdin), or as the hall manager with the admin PIN (`kiosk set-pin`)", flush=True)
    return server


def parts_of(settings: Settings, *, simulate: bool, mqtt_url: str | None) -> dict[str, Attachment]:
    """Devices, alerts and (when MQTT is on) telemetry, for `KioskApp(…, **parts)`. A configuration
    that must not start (e.g. a password file readable by others) raises here, before the core opens."""
    parts: dict[str, Attachment] = {"devices": Outputs(settings, simulate=simulate), "alerts": AlertWatch(settings)}
    if settings.mqtt.enabled or mqtt_url:
        from kiosk.mqtt.telemetry import Telemetry  # paho only when MQTT is on
        parts["uplink"] = Telemetry(settings, url_override=mqtt_url)
    return parts


def _clock_from_env():
    """Accelerated simulated time when KIOSK_SIM_CLOCK is set (simulate-day, soak); else the system's."""
    import os
    spec = os.environ.get("KIOSK_SIM_CLOCK")
    if not spec:
        return None
    from kiosk.domain.clock import ScaledClock
    clock = ScaledClock.from_spec(spec)
    log.warning("simulated time: %s× from %s", clock.speed, clock.sim_origin.isoformat())
    return clock


def _restore_if_corrupt(ddir: Path):
    from kiosk.storage.restore import restore_if_corrupt
    return restore_if_corrupt(db_path(ddir), ddir / "backups")


def _schedule_watchdog(app: KioskApp) -> None:
    period = sdnotify.watchdog_period_s()
    if period:
        app.loop.every(period, sdnotify.watchdog_ping)
        log.info("systemd watchdog pinged every %.1f s from the core thread", period)
