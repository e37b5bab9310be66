"""`kiosk hq serve` (recorder + dashboard) and `kiosk hq user add|list|remove|revoke`.

Wiring: ``add_parsers(hq_subparsers)`` adds both under the ``kiosk hq`` command (the
subparsers action of the ``hq`` parser in kiosk/cli/hq.py). Standalone:
``python -m kiosk.cli.hq_web serve --broker URL --db FILE.db|postgresql://… --port 8080``.
``--db`` is an SQLite file (one server) or a PostgreSQL URL (several nodes share it); a URL is
only ever printed without its password.
Options use their own ``dest`` names (``web_…``) so they never collide with the options
of the ``hq`` parser itself.
"""
from __future__ import annotations

import argparse
import contextlib
import getpass
import logging
import os
import signal
import sqlite3
import sys
from typing import Any
from urllib.parse import urlsplit

from kiosk.config.mqtt import LOCAL_BROKER as DEFAULT_BROKER
from kiosk.hq.db import is_postgres_url, shown

DB_METAVAR = "FILE.db|postgresql://…"
DB_HELP = ("HQ's database: an SQLite file (one server) or a postgresql://user@host/dbname URL (several "
           "`kiosk hq serve` nodes share it; the password may be in the URL or in ~/.pgpass)")


def add_parsers(hq_subparsers: Any, parents: list[argparse.ArgumentParser] | None = None) -> None:
    parents = parents or []
    s = hq_subparsers.add_parser("serve", parents=parents, help="HQ recorder + live web dashboard",
                                 description="Record every event (like `kiosk hq --record`) and serve the HQ "
                                             "dashboard: branch table, branch pages, comparison, HQ commands.")
    s.add_argument("--broker", dest="web_broker", metavar="URL",
                   default=os.environ.get("KIOSK_HQ_BROKER", DEFAULT_BROKER),
                   help=f"mqtt://host:port or mqtts://host:port (default $KIOSK_HQ_BROKER or {DEFAULT_BROKER})")
    s.add_argument("--db", dest="web_db", required=True, metavar=DB_METAVAR,
                   help=DB_HELP + ": the recorded events and their rollups, HQ users, sessions and the command log")
    s.add_argument("--port", dest="web_port", metavar="PORT", type=int, default=8080, help="HTTP port (8080)")
    s.add_argument("--host", dest="web_host", metavar="ADDRESS", default="127.0.0.1",
                   help="address to listen on (127.0.0.1; put a TLS reverse proxy in front for other hosts)")
    s.add_argument("--prefix", dest="web_prefix", metavar="PREFIX", default="kiosk", help="topic prefix (kiosk)")
    s.add_argument("--shared", dest="web_shared", metavar="GROUP",
                   help="ingest events through the MQTT 5 shared subscription $share/GROUP/… so several "
                        "recorders split the load (the retained state topics are still read by every server)")
    s.add_argument("--protocol", dest="web_protocol", choices=["5", "3.1.1"], default="5")
    s.add_argument("--client-id", dest="web_client_id", metavar="ID", default="",
                   help="fixed id for the event subscription: a persistent MQTT 5 session (events are kept "
                        "by the broker while the recorder is down)")
    s.add_argument("--username", dest="web_username", metavar="NAME", help="MQTT user name")
    s.add_argument("--password-file", dest="web_password_file", metavar="FILE", help="file holding the MQTT password (mode 600)")
    s.add_argument("--ca", dest="web_ca", metavar="FILE", help="CA file for TLS")
    s.add_argument("--cert", dest="web_cert", metavar="FILE", help="client certificate (mutual TLS)")
    s.add_argument("--key", dest="web_key", metavar="FILE", help="client key")
    s.add_argument("--insecure", dest="web_insecure", action="store_true", help="skip host-name checking")
    s.add_argument("--secure-cookie", dest="web_secure_cookie", action="store_true",
                   help="send the session cookie over HTTPS only (set this behind a TLS proxy)")
    s.add_argument("--push-ms", dest="web_push_ms", metavar="MS", type=float, default=250,
                   help="coalesce page updates: at most one push per client every N ms (250)")
    s.add_argument("--batch-ms", dest="web_batch_ms", metavar="MS", type=float, default=200, help="recorder: write every N ms")
    s.add_argument("--batch-events", dest="web_batch_events", metavar="N", type=int, default=5000,
                   help="recorder: or every N events")
    s.add_argument("--keep-days", dest="web_keep_days", metavar="N", type=_positive(int), default=400,
                   help="keep the recorded events this many days (400)")
    s.add_argument("--gap-interval", dest="web_gap_interval", metavar="S", type=_positive(float), default=5.0,
                   help="look for gaps in each branch's event seq every S seconds and ask the branch to resend "
                        "what is missing (5); with several servers on one PostgreSQL one of them asks")
    s.add_argument("--gap-grace", dest="web_gap_grace", metavar="S", type=_positive(float), default=10.0,
                   help="a missing range is a gap once it has been missing this long: events arrive out of order "
                        "within a kiosk's in-flight window and are written in batches (10)")
    s.add_argument("--no-gap-repair", dest="web_no_gap_repair", action="store_true",
                   help="never ask branches to resend (a server whose broker account may not publish commands)")
    _add_limit_options(s)
    _add_phone_options(s)
    s.set_defaults(handler=cmd_serve)

    u = hq_subparsers.add_parser("user", parents=parents, help="HQ dashboard users",
                                 description="Add, list, remove the users of the HQ dashboard, or end their "
                                             "sessions (revoke). A new password (add --replace) also ends them.")
    us = u.add_subparsers(dest="web_user_command", metavar="ACTION", required=True)
    a = us.add_parser("add", help="add a user (the password is read from stdin or asked for)")
    a.add_argument("web_name", metavar="NAME")
    a.add_argument("--role", dest="web_role", choices=["viewer", "operator"], required=True)
    a.add_argument("--db", dest="web_db", required=True, metavar=DB_METAVAR, help=DB_HELP)
    a.add_argument("--replace", dest="web_replace", action="store_true", help="change an existing user")
    a.set_defaults(handler=cmd_user_add)
    rm = us.add_parser("remove", help="remove a user (their sessions end at once)")
    rm.add_argument("web_name", metavar="NAME")
    rm.add_argument("--db", dest="web_db", required=True, metavar=DB_METAVAR, help=DB_HELP)
    rm.set_defaults(handler=cmd_user_remove)
    rv = us.add_parser("revoke", help="end every session of a user (they sign in again)")
    rv.add_argument("web_name", metavar="NAME")
    rv.add_argument("--db", dest="web_db", required=True, metavar=DB_METAVAR, help=DB_HELP)
    rv.set_defaults(handler=cmd_user_revoke)
    ls = us.add_parser("list", help="list the users")
    ls.add_argument("--db", dest="web_db", required=True, metavar=DB_METAVAR, help=DB_HELP)
    ls.set_defaults(handler=cmd_user_list)


def _read_password(stdin: Any = None) -> str:
    stdin = stdin or sys.stdin
    if stdin.isatty():
        first = getpass.getpass("password: ")
        if getpass.getpass("again: ") != first:
            raise SystemExit("the passwords differ")
        return first
    line = stdin.readline()
    return line.rstrip("\r\n")


def _db_errors() -> tuple[type[BaseException], ...]:
    """What opening or using HQ's database raises when it is missing, unreachable or refuses us."""
    errors: tuple[type[BaseException], ...] = (sqlite3.Error, OSError, ValueError)
    try:
        import psycopg
        import psycopg_pool
    except ModuleNotFoundError:
        return errors
    return (*errors, psycopg.Error, psycopg_pool.PoolTimeout)


def _db_problem(target: str, exc: BaseException) -> str:
    """Why `target` could not be used, never with the URL's password in it."""
    text = f"cannot use the database {shown(target)}: {exc}".strip()
    password = urlsplit(target).password if is_postgres_url(target) else None
    return text.replace(password, "***") if password else text


def _open_users(db: Any) -> Any:
    """HQ's users in `db` (a `kiosk.hq.db.Db`, a file or a URL), or None after saying why not (on stderr)."""
    from kiosk.hq.db import Db
    from kiosk.hq.web.auth import Users
    try:
        return Users(db)
    except _db_errors() as exc:
        print(f"error: {_db_problem(db.target if isinstance(db, Db) else str(db), exc)}", file=sys.stderr)
        return None


def cmd_user_add(args: argparse.Namespace) -> int:
    from kiosk.hq.web.auth import AuthError
    password = _read_password()
    users = _open_users(args.web_db)
    if users is None:
        return 2
    try:
        users.add(args.web_name, args.web_role, password, replace=args.web_replace)
    except AuthError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        users.close()
    print(f"user {args.web_name} ({args.web_role}) saved in {shown(args.web_db)}", file=sys.stderr)
    return 0


def _on_user(args: argparse.Namespace, action: str, done: str | None) -> int:
    """`Users.remove` or `Users.revoke` of the named user: 1 when there is no such user."""
    users = _open_users(args.web_db)
    if users is None:
        return 2
    try:
        if not getattr(users, action)(args.web_name):
            print(f"error: no user {args.web_name!r}", file=sys.stderr)
            return 1
    finally:
        users.close()
    if done:
        print(done, file=sys.stderr)
    return 0


def cmd_user_remove(args: argparse.Namespace) -> int:
    return _on_user(args, "remove", None)


def cmd_user_revoke(args: argparse.Namespace) -> int:
    return _on_user(args, "revoke", f"every session of {args.web_name} ended")


def cmd_user_list(args: argparse.Namespace) -> int:
    users = _open_users(args.web_db)
    if users is None:
        return 2
    try:
        for u in users.list():
            print(f"{u['name']}\t{u['role']}\t{u['created']}")
    finally:
        users.close()
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        import starlette  # noqa: F401
        import uvicorn
    except ModuleNotFoundError as exc:
        from kiosk.domain.errors import KioskError
        raise KioskError(f"kiosk hq serve needs {exc.name}: pip install 'kiosk[hq]'") from None

    from kiosk.config.mqtt import MqttTls
    from kiosk.hq.db import open_db
    from kiosk.hq.gaps import GapRepair
    from kiosk.hq.phone.appointments import Appointments, BookingQuota
    from kiosk.hq.phone.appointments_publisher import AppointmentsPublisher
    from kiosk.hq.phone.appointments_routes import appointment_routes
    from kiosk.hq.phone.neighbours import NeighboursPublisher
    from kiosk.hq.phone.remote import RemoteQuota, RemoteTickets
    from kiosk.hq.phone.routes import PhoneRoutes
    from kiosk.hq.recorder import Recorder
    from kiosk.hq.web.app import Dashboard
    from kiosk.webkit.http_limits import BodyLimit, limited_h11
    from kiosk.hq.web.live import Live

    try:
        limits = _limits(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    server_cls = _server_class()
    tls = None
    if args.web_ca or args.web_cert or args.web_key or args.web_insecure:
        tls = MqttTls(ca_file=args.web_ca, cert_file=args.web_cert, key_file=args.web_key,
                      insecure=args.web_insecure)
    try:
        db = open_db(args.web_db)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    # the users first: on SQLite they create the file 0600 (it holds the session secret and password hashes)
    users = _open_users(db)
    if users is None:
        db.close()
        return 2
    recorder = live = repair = quota = notifier = bookings = publisher = neighbours = None
    try:
        try:
            recorder = Recorder(db, batch_ms=args.web_batch_ms, batch_events=args.web_batch_events,
                                keep_days=args.web_keep_days)
        except _db_errors() as exc:
            print(f"error: {_db_problem(args.web_db, exc)}", file=sys.stderr)
            return 2
        try:
            live = Live(args.web_broker, prefix=args.web_prefix, shared=args.web_shared, protocol=args.web_protocol,
                        recorder=recorder, tls=tls, username=args.web_username,
                        password_file=args.web_password_file, client_id=args.web_client_id)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        recorder.targets_of = lambda branch: live.targets.get(branch, {})  # each branch's own, from its snapshots
        try:
            quota_dir = _quota_dir(args)
            quota = RemoteQuota(quota_dir)
            phone = PhoneRoutes(live, RemoteTickets(live, _public_url(args), quota))
            notifier, alert_routes = _notifier(args, live.follow)
            bookings = BookingQuota(quota_dir, per_day=args.web_appointments_per_address)
            publisher = AppointmentsPublisher(live, db)
            appointments = Appointments(live, db, bookings, publisher)
        except (ValueError, OSError, sqlite3.Error) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        except _db_errors() as exc:
            print(f"error: {_db_problem(args.web_db, exc)}", file=sys.stderr)
            return 2
        neighbours = NeighboursPublisher(live)
        if not users.list():
            print(f"warning: no users yet; add one with: kiosk hq user add NAME --role operator --db {db}",
                  file=sys.stderr)
        if not args.web_no_gap_repair:
            repair = GapRepair(db, live, log_command=users.log_command, interval_s=args.web_gap_interval,
                               grace_s=args.web_gap_grace)
        dash = Dashboard(live, users, db, push_ms=args.web_push_ms, secure_cookie=args.web_secure_cookie,
                         gap_repair=repair, phone=phone, phone_extra=[*alert_routes, *appointment_routes(appointments)])
        live.start()
        publisher.start()
        neighbours.start()
        if repair is not None:
            repair.start()
        config = uvicorn.Config(BodyLimit(dash.app, limits), host=args.web_host, port=args.web_port,
                                log_level="warning", access_log=False, timeout_graceful_shutdown=2, lifespan="on",
                                http=limited_h11(limits), timeout_keep_alive=limits.keep_alive_s,
                                h11_max_incomplete_event_size=limits.max_header_bytes)
        server = server_cls(config)
        stop = lambda *_: setattr(server, "should_exit", True)  # noqa: E731
        old = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        print(f"kiosk HQ dashboard on http://{args.web_host}:{args.web_port}/ — broker {args.web_broker}"
              f"{' shared group ' + args.web_shared if args.web_shared else ''}, recording to {db}",
              file=sys.stderr, flush=True)
        try:
            server.run()
        finally:
            for sig, h in old.items():
                signal.signal(sig, h)
        return 0
    finally:
        for stopping in (neighbours, publisher):
            if stopping is not None:
                stopping.stop()
        if bookings is not None:
            bookings.close()
        if notifier is not None:
            notifier.close()
        if quota is not None:
            quota.close()
        if repair is not None:
            repair.stop()
        if live is not None:
            live.stop()
        if recorder is not None:
            recorder.close()
        users.close()
        db.close()


def _add_limit_options(s: argparse.ArgumentParser) -> None:
    g = s.add_argument_group("HTTP limits", "what one client may hold of the server (docs/hq-dashboard.md, Operations)")
    g.add_argument("--request-timeout", dest="web_request_timeout", metavar="S", type=_positive(float), default=10.0,
                   help="seconds a client has to send a request's head, and again its body (10)")
    g.add_argument("--keep-alive", dest="web_keep_alive", metavar="S", type=_positive(float), default=5.0,
                   help="close a connection idle this long after a response (5)")
    g.add_argument("--max-connections", dest="web_max_connections", metavar="N", type=_positive(int), default=256,
                   help="open connections in all; each open page holds one (256)")
    g.add_argument("--max-connections-per-address", dest="web_max_per_address", metavar="N",
                   type=_positive(int, zero=True), default=32,
                   help="open connections from one address (32); 0 = no cap per address (behind a reverse "
                        "proxy, whose address every connection has)")
    g.add_argument("--max-body", dest="web_max_body", metavar="BYTES", type=_positive(int), default=64 * 1024,
                   help="largest request body (65536)")


def _add_phone_options(s: argparse.ArgumentParser) -> None:
    g = s.add_argument_group("customers' phones", "the public pages: follow a ticket, take one remotely, notices "
                                                  "(docs/hq-dashboard.md)")
    g.add_argument("--public-url", dest="web_public_url", metavar="URL",
                   help="the URL the public reaches this server at (https://hq.example.com): follow URLs are "
                        "{URL}/t/{token} (default: this server's own http://HOST:PORT)")
    g.add_argument("--phone-quota-dir", dest="web_phone_quota_dir", metavar="DIR",
                   help="where the remote tickets per address are counted (default: the SQLite database's "
                        "directory; with PostgreSQL a temporary directory of this node)")
    g.add_argument("--appointments-per-address", dest="web_appointments_per_address", metavar="N",
                   type=_positive(int), default=3,
                   help="appointments one address may book a day (3); counted where the remote tickets are")
    g.add_argument("--vapid-key", dest="web_vapid_key", metavar="FILE", help="VAPID private key (PEM) for Web Push")
    g.add_argument("--vapid-subject", dest="web_vapid_subject", metavar="mailto:…",
                   help="the VAPID subject push services may contact (mailto: or https:)")
    g.add_argument("--notify-webhook", dest="web_notify_webhook", metavar="URL",
                   help="the operator's SMS / WeChat gateway: HQ posts each notice for a phone number there")


def _public_url(args: argparse.Namespace) -> str:
    """--public-url (checked), or this server's own URL."""
    url = args.web_public_url or f"http://{args.web_host}:{args.web_port}"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"--public-url must be an http(s)://host[:port][/path] URL, not {url!r}")
    return url.rstrip("/")


def _quota_dir(args: argparse.Namespace) -> str:
    if args.web_phone_quota_dir:
        return args.web_phone_quota_dir
    if not is_postgres_url(args.web_db):
        return os.path.dirname(os.path.abspath(args.web_db))
    import tempfile
    d = tempfile.mkdtemp(prefix="kiosk-hq-phone-")
    print(f"warning: remote tickets per address are counted in {d} (this node only, until it restarts); "
          "give --phone-quota-dir to keep them", file=sys.stderr)
    return d


def _notifier(args: argparse.Namespace, index: Any) -> tuple[Any, list[Any]]:
    """The notices (`kiosk.hq.phone.notify`) and their routes; (None, []) when none is configured."""
    wanted = args.web_vapid_key or args.web_vapid_subject or args.web_notify_webhook
    try:
        from kiosk.hq.phone.notify import Notifier, alert_routes
    except ImportError:
        if wanted:
            raise ValueError("this HQ has no notices (kiosk.hq.phone.notify): drop --vapid-key, --vapid-subject "
                             "and --notify-webhook") from None
        return None, []
    notifier = Notifier.from_options(args.web_vapid_key, args.web_vapid_subject, args.web_notify_webhook)
    notifier.attach(index)
    return notifier, alert_routes(index, notifier)


def _positive(kind: type, *, zero: bool = False) -> Any:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not (value >= 0 if zero else value > 0) or value == float("inf"):
            raise argparse.ArgumentTypeError(f"must be {'>= 0' if zero else '> 0'} and finite: {text!r}")
        return value
    return parse


def _limits(args: argparse.Namespace) -> Any:
    from kiosk.webkit.http_limits import ServerLimits
    return ServerLimits(request_timeout_s=args.web_request_timeout, keep_alive_s=args.web_keep_alive,
                        max_connections=args.web_max_connections,
                        max_connections_per_address=args.web_max_per_address, max_body_bytes=args.web_max_body)


def _server_class() -> type:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn re-raises SIGTERM after its graceful shutdown, which would kill the process before
        the recorder writes its last batch: the signals are ours (they set `should_exit`)."""

        @contextlib.contextmanager
        def capture_signals(self):  # noqa: ANN202
            yield
    return Server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kiosk.cli.hq_web", description="HQ dashboard")
    sub = parser.add_subparsers(dest="web_command", metavar="COMMAND", required=True)
    add_parsers(sub)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
