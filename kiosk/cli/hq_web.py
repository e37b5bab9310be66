"""`kiosk hq serve` (recorder + dashboard) and `kiosk hq user add|list|remove|revoke`.

Wiring: ``add_parsers(hq_subparsers)`` adds both under the ``kiosk hq`` command (the
subparsers action of the ``hq`` parser in kiosk/cli/hq.py). Standalone:
``python -m kiosk.cli.hq_web serve --broker URL --db FILE.db --port 8080``.
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
import sys
from typing import Any

from kiosk.config.mqtt import LOCAL_BROKER as DEFAULT_BROKER




def add_parsers(hq_subparsers: Any, parents: list[argparse.ArgumentParser] | None = None) -> None:
    parents = parents or []
    s = hq_subparsers.add_parser("serve", parents=parents, help="HQ recorder + live web dashboard",
                                 description="Record every event (like `kiosk hq --record`) and serve the HQ "
                                             "dashboard: branch table, branch pages, comparison, HQ commands.")
    s.add_argument("--broker", dest="web_broker", metavar="URL",
                   default=os.environ.get("KIOSK_HQ_BROKER", DEFAULT_BROKER),
                   help=f"mqtt://host:port or mqtts://host:port (default $KIOSK_HQ_BROKER or {DEFAULT_BROKER})")
    s.add_argument("--db", dest="web_db", required=True, metavar="FILE.db",
                   help="SQLite file: the recorded events, HQ users and the command log")
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
    _add_limit_options(s)
    s.set_defaults(handler=cmd_serve)

    u = hq_subparsers.add_parser("user", parents=parents, help="HQ dashboard users",
                                 description="Add, list, remove the users of the HQ dashboard, or end their "
                                             "sessions (revoke). A new password (add --replace) also ends them.")
    us = u.add_subparsers(dest="web_user_command", metavar="ACTION", required=True)
    a = us.add_parser("add", help="add a user (the password is read from stdin or asked for)")
    a.add_argument("web_name", metavar="NAME")
    a.add_argument("--role", dest="web_role", choices=["viewer", "operator"], required=True)
    a.add_argument("--db", dest="web_db", required=True, metavar="FILE.db")
    a.add_argument("--replace", dest="web_replace", action="store_true", help="change an existing user")
    a.set_defaults(handler=cmd_user_add)
    rm = us.add_parser("remove", help="remove a user (their sessions end at once)")
    rm.add_argument("web_name", metavar="NAME")
    rm.add_argument("--db", dest="web_db", required=True, metavar="FILE.db")
    rm.set_defaults(handler=cmd_user_remove)
    rv = us.add_parser("revoke", help="end every session of a user (they sign in again)")
    rv.add_argument("web_name", metavar="NAME")
    rv.add_argument("--db", dest="web_db", required=True, metavar="FILE.db")
    rv.set_defaults(handler=cmd_user_revoke)
    ls = us.add_parser("list", help="list the users")
    ls.add_argument("--db", dest="web_db", required=True, metavar="FILE.db")
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


def cmd_user_add(args: argparse.Namespace) -> int:
    from kiosk.hq.web.auth import AuthError, Users
    password = _read_password()
    users = Users(args.web_db)
    try:
        users.add(args.web_name, args.web_role, password, replace=args.web_replace)
    except AuthError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        users.close()
    print(f"user {args.web_name} ({args.web_role}) saved in {args.web_db}", file=sys.stderr)
    return 0


def cmd_user_remove(args: argparse.Namespace) -> int:
    from kiosk.hq.web.auth import Users
    users = Users(args.web_db)
    try:
        if not users.remove(args.web_name):
            print(f"error: no user {args.web_name!r}", file=sys.stderr)
            return 1
    finally:
        users.close()
    return 0


def cmd_user_revoke(args: argparse.Namespace) -> int:
    from kiosk.hq.web.auth import Users
    users = Users(args.web_db)
    try:
        if not users.revoke(args.web_name):
            print(f"error: no user {args.web_name!r}", file=sys.stderr)
            return 1
    finally:
        users.close()
    print(f"every session of {args.web_name} ended", file=sys.stderr)
    return 0


def cmd_user_list(args: argparse.Namespace) -> int:
    from kiosk.hq.web.auth import Users
    users = Users(args.web_db)
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
    from kiosk.hq.recorder import Recorder

    from kiosk.hq.web.app import Dashboard
    from kiosk.hq.web.auth import Users
    from kiosk.hq.web.http_limits import BodyLimit, limited_h11
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
    users = Users(args.web_db)  # first: it creates the file 0600 (it holds the session secret and password hashes)
    recorder = Recorder(args.web_db, batch_ms=args.web_batch_ms, batch_events=args.web_batch_events)
    live = None
    try:
        try:
            live = Live(args.web_broker, prefix=args.web_prefix, shared=args.web_shared, protocol=args.web_protocol,
                        recorder=recorder, tls=tls, username=args.web_username,
                        password_file=args.web_password_file, client_id=args.web_client_id)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        if not users.list():
            print(f"warning: no users yet; add one with: kiosk hq user add NAME --role operator --db {args.web_db}",
                  file=sys.stderr)
        dash = Dashboard(live, users, args.web_db, push_ms=args.web_push_ms, secure_cookie=args.web_secure_cookie)
        live.start()
        config = uvicorn.Config(BodyLimit(dash.app, limits), host=args.web_host, port=args.web_port,
                                log_level="warning", access_log=False, timeout_graceful_shutdown=2, lifespan="on",
                                http=limited_h11(limits), timeout_keep_alive=limits.keep_alive_s,
                                h11_max_incomplete_event_size=limits.max_header_bytes)
        server = server_cls(config)
        stop = lambda *_: setattr(server, "should_exit", True)  # noqa: E731
        old = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        print(f"kiosk HQ dashboard on http://{args.web_host}:{args.web_port}/ — broker {args.web_broker}"
              f"{' shared group ' + args.web_shared if args.web_shared else ''}, recording to {args.web_db}",
              file=sys.stderr, flush=True)
        try:
            server.run()
        finally:
            for sig, h in old.items():
                signal.signal(sig, h)
        return 0
    finally:
        if live is not None:
            live.stop()
        recorder.close()
        users.close()


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
    from kiosk.hq.web.http_limits import ServerLimits
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
