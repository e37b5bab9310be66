"""`kiosk hq` (the HQ monitor), `kiosk hq export` (a recording as CSV) and `kiosk hq prune` (retention).

Wired by kiosk/cli/main.py: ``add_parsers(subparsers, parents=None)`` adds the parsers; each sets
``handler`` to a function taking the parsed `argparse.Namespace` and returning an exit code.
The sub-commands of ``kiosk.cli.hq_web`` (``serve``, ``user``), when that package is present,
are added under ``hq`` too.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from kiosk.config.mqtt import LOCAL_BROKER as DEFAULT_BROKER



def add_parsers(subparsers: Any, parents: list[argparse.ArgumentParser] | None = None) -> None:
    parents = parents or []
    p = subparsers.add_parser("hq", parents=parents, help="HQ monitor: every branch, live (and a recording)",
                              description="Subscribe to every branch and show a live table; optionally record "
                                          "every event in SQLite or PostgreSQL.")
    p.add_argument("--broker", metavar="URL", default=os.environ.get("KIOSK_HQ_BROKER", DEFAULT_BROKER),
                   help=f"mqtt://host:port or mqtts://host:port (default $KIOSK_HQ_BROKER or {DEFAULT_BROKER})")
    p.add_argument("--prefix", default="kiosk", help="topic prefix (default kiosk)")
    p.add_argument("--shared", metavar="GROUP", help="MQTT 5 shared subscription $share/GROUP/… (split the load "
                                                     "between several HQ consumers)")
    p.add_argument("--record", metavar="FILE.db|URL", help="store every event in this SQLite file or postgresql:// "
                                                          "database (idempotent by branch and id)")
    p.add_argument("--keep-days", type=int, metavar="N", help="recorder: drop events older than N days (hourly)")
    p.add_argument("--once", action="store_true", help="collect for --wait seconds, print one table and exit")
    p.add_argument("--wait", type=float, default=2.0, metavar="S", help="with --once: seconds to collect (2)")
    p.add_argument("--interval", type=float, default=1.0, metavar="S", help="redraw period (1 s)")
    p.add_argument("--duration", type=float, metavar="S", help="exit after S seconds")
    p.add_argument("--protocol", choices=["5", "3.1.1"], default="3.1.1",
                   help="3.1.1 (default) is the faster to decode; shared subscriptions work with both on "
                        "mosquitto, EMQX and VerneMQ")
    p.add_argument("--client-id", default="", help="a fixed id keeps a persistent session: the broker keeps "
                                                   "QoS 1 events while the monitor is down (MQTT 5: for a day)")
    p.add_argument("--username")
    p.add_argument("--password-file", help="file holding the password (mode 600)")
    p.add_argument("--ca", help="CA file for TLS")
    p.add_argument("--cert", help="client certificate (mutual TLS)")
    p.add_argument("--key", help="client key")
    p.add_argument("--insecure", action="store_true", help="skip host-name checking (test benches only)")
    p.add_argument("--batch-ms", type=float, default=200, help="recorder: write every N ms (200)")
    p.add_argument("--batch-events", type=int, default=5000, help="recorder: or every N events (5000)")
    p.set_defaults(handler=cmd_hq)
    sub = p.add_subparsers(dest="hq_command", metavar="SUBCOMMAND")
    e = sub.add_parser("export", parents=parents, help="write a recording as CSV",
                       description="Write the events recorded with --record as CSV.")
    e.add_argument("--db", required=True, metavar="FILE.db|URL", help="an SQLite file or a postgresql:// URL")
    e.add_argument("--out", required=True, metavar="FILE.csv", help="'-' for standard output")
    e.add_argument("--branch", help="only this branch")
    e.set_defaults(handler=cmd_hq_export)
    r = sub.add_parser("prune", parents=parents, help="drop recorded events older than N days",
                       description="Drop the events of days before today - N (the day figures stay).")
    r.add_argument("--db", required=True, metavar="FILE.db|URL", help="an SQLite file or a postgresql:// URL")
    r.add_argument("--keep-days", type=int, required=True, metavar="N")
    r.set_defaults(handler=cmd_hq_prune)
    _add_web_parsers(sub, parents)


def _add_web_parsers(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    """`kiosk hq serve` / `kiosk hq user …` from kiosk.hq.web (the dashboard), when present."""
    import importlib
    import logging
    try:
        mod = importlib.import_module("kiosk.cli.hq_web")
    except ModuleNotFoundError as exc:
        if exc.name in ("kiosk.hq.web", "kiosk.cli.hq_web"):
            return
        logging.getLogger(__name__).warning("kiosk hq serve unavailable: %s", exc)
        return
    except Exception as exc:  # noqa: BLE001 — a broken optional part must not break the CLI
        logging.getLogger(__name__).warning("kiosk hq serve unavailable: %s", exc)
        return
    mod.add_parsers(sub, parents)


def cmd_hq(args: argparse.Namespace) -> int:
    from kiosk.config.mqtt import MqttTls
    from kiosk.domain.errors import KioskError
    from kiosk.hq.monitor import HqMonitor
    from kiosk.hq.recorder import Recorder
    tls = None
    if args.ca or args.cert or args.key or args.insecure:
        tls = MqttTls(ca_file=args.ca, cert_file=args.cert, key_file=args.key, insecure=args.insecure)
    recorder = Recorder(args.record, batch_ms=args.batch_ms, batch_events=args.batch_events,
                        keep_days=args.keep_days) if args.record else None
    try:
        try:
            mon = HqMonitor(args.broker, prefix=args.prefix, shared=args.shared, protocol=args.protocol,
                            recorder=recorder, client_id=args.client_id, tls=tls, username=args.username,
                            password_file=args.password_file)
        except ValueError as exc:
            raise KioskError(str(exc)) from None
        mon.start()
        try:
            return mon.run(once=args.once, wait_s=args.wait, interval_s=args.interval, duration_s=args.duration,
                           as_json=bool(getattr(args, "json", False)))
        finally:
            mon.stop()
    finally:
        if recorder is not None:
            recorder.close()


def cmd_hq_export(args: argparse.Namespace) -> int:
    from kiosk.domain.errors import KioskError
    from kiosk.hq.recorder import export_csv
    try:
        n = export_csv(args.db, sys.stdout if args.out == "-" else args.out, branch=args.branch)
    except FileNotFoundError as exc:
        raise KioskError(str(exc)) from None
    except _db_errors() as exc:
        raise KioskError(f"cannot read the recording: {exc}") from None
    if args.out != "-":
        print(f"{n} events written to {args.out}", file=sys.stderr)
    return 0


def cmd_hq_prune(args: argparse.Namespace) -> int:
    from kiosk.domain.errors import KioskError
    from kiosk.hq.db import open_db
    from kiosk.hq.events_schema import ensure_schema_on
    from kiosk.hq.partitions import cutoff, prune
    try:
        first = cutoff(args.keep_days)
    except ValueError as exc:
        raise KioskError(str(exc)) from None
    db = open_db(args.db)
    if db.path is not None and not db.path.exists():
        raise KioskError(f"no recording at {db.path}")
    try:
        conn = db.connect()
        try:
            ensure_schema_on(conn)
            n = prune(conn, args.keep_days)
        finally:
            conn.close()
    except _db_errors() as exc:
        raise KioskError(f"cannot prune {db}: {exc}") from None
    what = "days and rows" if db.dialect == "postgres" else "events"
    print(f"dropped the events before {first} from {db}: {n} {what}", file=sys.stderr)
    return 0


def _db_errors() -> tuple[type[Exception], ...]:
    """The errors of either database (psycopg's only when it is installed)."""
    import sqlite3
    try:
        import psycopg
    except ModuleNotFoundError:
        return (sqlite3.Error,)
    return (sqlite3.Error, psycopg.Error)
