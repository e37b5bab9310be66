"""The `kiosk` command.

Global options (before or after the sub-command): `--config FILE` (or KIOSK_CONFIG),
`--data DIR` (or KIOSK_DATA), `--json` for machine-readable output. Errors go to stderr
with a non-zero exit status: 2 for bad input (configuration, arguments, an illegal queue
operation), 1 for anything else. A reader of the output that goes away (`kiosk status | head -1`)
ends the command quietly with 141, as a shell reports a command killed by SIGPIPE.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import select
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, is_dataclass
from typing import Any

from kiosk import __version__
from kiosk.domain.errors import ConfigError, KioskError, QueueError

EXIT_BAD_INPUT = 2
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: the reader of the output went away


def _globals(suppress: bool) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    d = argparse.SUPPRESS if suppress else None
    p.add_argument("--config", metavar="FILE", default=d, help="configuration file (default: $KIOSK_CONFIG or "
                   "firmware_config/kiosk.toml)")
    p.add_argument("--data", metavar="DIR", default=d, help="data directory (default: $KIOSK_DATA or ./var)")
    p.add_argument("--json", action="store_true", default=argparse.SUPPRESS if suppress else False,
                   help="machine-readable output")
    return p


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kiosk", parents=[_globals(False)],
                                     description="Queue-ticket machine controller.")
    parser.add_argument("--version", action="version", version=f"kiosk {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    g = [_globals(True)]

    def add(name: str, handler: Callable[[argparse.Namespace], int | None], help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=g, help=help_, description=help_)
        p.set_defaults(handler=handler)
        return p

    add("init", cmd_init, "create the data directory and database, check the configuration")
    p = add("issue", cmd_issue, "issue a ticket")
    p.add_argument("service", help="service prefix, e.g. A")
    p.add_argument("--priority", action="store_true", help="a priority (VIP) ticket of the service's tier")
    p.add_argument("--tier", help="a priority ticket of this tier (an id of [[tiers]], e.g. diamond)")
    p = add("call", cmd_call, "call the next ticket (or --ticket) at a counter")
    p.add_argument("counter", type=int)
    p.add_argument("--ticket", help="call this waiting ticket, e.g. A023")
    for name, help_ in (("recall", "call the counter's ticket again"),
                        ("noshow", "the called customer did not come"),
                        ("start", "the customer reached the counter"),
                        ("finish", "the counter finished its customer")):
        p = add(name, cmd_counter_action, help_)
        p.add_argument("counter", type=int)
    p = add("transfer", cmd_transfer, "send the counter's customer to another service, counter or clerk")
    p.add_argument("counter", type=int)
    p.add_argument("service", nargs="?", help="the service's queue (default: the ticket's own, with --to-*)")
    p.add_argument("--to-counter", type=int, help="reserve the ticket for this counter (called there next)")
    p.add_argument("--to-clerk", help="reserve the ticket for this clerk (called next where they sign in)")
    p.add_argument("--note", default="", help="a note that goes with the ticket")
    p = add("rate", cmd_rate, "record a customer's rating (1-5) of a ticket")
    p.add_argument("ticket")
    p.add_argument("score", type=int)
    p = add("counter", cmd_counter_state, "open, pause or close a counter")
    p.add_argument("counter", type=int)
    p.add_argument("state", choices=["open", "pause", "close"])
    p.add_argument("--reason", help="why a counter is paused: an id of [[pause_reasons]]")
    add("status", cmd_status, "services, waiting people and counters")
    p = add("events", cmd_events, "domain events from the outbox")
    p.add_argument("--since", type=int, default=0, metavar="SEQ", help="events after this seq")
    p.add_argument("--limit", type=int, default=1000)
    add("rollover", cmd_rollover, "start the next business day now")
    p = add("run", cmd_run, "run the kiosk")
    p.add_argument("--simulate", action="store_true", help="virtual devices and a command console on stdin")
    p.add_argument("--console", action="store_true", help="a command console on stdin with the configured devices")
    p.add_argument("--viewer", action="store_true",
                   help="only show the queue (a now-serving TV next to the kiosk on the same machine): "
                        "no devices, alerts, MQTT or database repair, which belong to the main kiosk process")
    p.add_argument("--screen", choices=["kiosk", "display", "none"], default="none",
                   help="the Kivy screen to show (none: headless)")
    p.add_argument("--mqtt", metavar="URL", help="report to this MQTT broker (overrides the config)")
    p.add_argument("--lan", metavar="HOST:PORT",
                   help="serve the hall web app (counter caller, floor guide, API) here (overrides [lan])")
    p.add_argument("--satellite", metavar="URL",
                   help="a second ticket machine: issue through the main kiosk's hall web app at URL and print "
                        "here (overrides [satellite] main_url)")
    p.add_argument("--device-token-file", metavar="FILE",
                   help="this satellite's device token (mode 600; overrides [satellite] token_file)")
    p = add("replay", cmd_replay, "replay a recorded day and write the estimates printed on each ticket")
    p.add_argument("day_dir")
    p.add_argument("--out", required=True)
    add("check-config", cmd_check_config, "validate the configuration and print it")
    # sub-commands kept beside what they drive (their heavy imports stay inside the handlers)
    from kiosk.cli import clerk as clerk_cli
    from kiosk.cli import hq as hq_cli
    from kiosk.cli import ops as ops_cli
    from kiosk.cli import simday as simday_cli
    from kiosk.cli import stats as stats_cli
    for module in (hq_cli, stats_cli, ops_cli, simday_cli, clerk_cli):
        module.add_parsers(sub, g)
    return parser


# -- helpers ------------------------------------------------------------------------------------
def _settings(args: argparse.Namespace):
    from kiosk.config.settings import load_settings
    return load_settings(args.config)


def _engine(args: argparse.Namespace):
    from kiosk.app.kiosk_app import data_dir
    from kiosk.engine.queue_engine import QueueEngine
    from kiosk.storage.store import Store, db_path
    settings = _settings(args)
    store = Store(db_path(data_dir(args.data)), synchronous=settings.store.synchronous)
    args.stores.append(store)   # closed by main() when the command ends, not whenever GC gets to it
    return QueueEngine(store, settings)


def _out(args: argparse.Namespace, human: str, data: Any) -> None:
    if args.json:
        if is_dataclass(data):
            data = asdict(data)
        print(json.dumps(data, ensure_ascii=False, default=str))
    else:
        print(human)


# -- commands -----------------------------------------------------------------------------------
def cmd_init(args: argparse.Namespace) -> None:
    engine = _engine(args)
    _out(args, f"kiosk data ready: {engine.store.path} (schema {engine.store.schema_version}, "
               f"day {engine.current_day()})",
         {"db": str(engine.store.path), "schema": engine.store.schema_version, "day": engine.current_day()})


def cmd_issue(args: argparse.Namespace) -> None:
    engine = _engine(args)
    t = engine.issue(args.service, priority=args.priority, tier=args.tier)
    tier = engine.settings.tier(t.priority)
    _out(args, t.ticket, {"ticket": t.ticket, "ahead": t.ahead, "estimate_s": t.estimate_s,
                          "service": t.service, "priority": t.priority, "tier": tier.id if tier else None,
                          "issued": t.issued_wall,
                          "follow_url": engine.settings.phone.follow_link(t.follow_token)})


def cmd_call(args: argparse.Namespace) -> None:
    engine = _engine(args)
    r = engine.call_ticket(args.counter, args.ticket) if args.ticket else engine.call_next(args.counter)
    if r is None:
        _out(args, f"nobody waits for counter {args.counter}", {"ticket": None, "counter": args.counter})
    else:
        _out(args, f"{r.ticket} → counter {r.counter}", r)


def cmd_counter_action(args: argparse.Namespace) -> None:
    engine = _engine(args)
    result = getattr(engine, args.command)(args.counter)
    if args.command == "noshow":
        ticket, requeued = result
        _out(args, f"{ticket} no-show" + (" (back in the queue once)" if requeued else ""),
             {"ticket": ticket, "requeued": requeued})
    elif args.command == "recall":
        _out(args, f"{result.ticket} → counter {result.counter} (again)", result)
    else:
        done = {"start": "started", "finish": "finished"}[args.command]
        _out(args, f"{result} {done} at counter {args.counter}", {"ticket": result, "counter": args.counter})


def cmd_transfer(args: argparse.Namespace) -> None:
    ticket = _engine(args).transfer(args.counter, args.service, to_counter=args.to_counter, to_clerk=args.to_clerk,
                                    note=args.note)
    service = args.service.upper() if args.service else None
    to = (f"counter {args.to_counter}" if args.to_counter is not None else
          f"clerk {args.to_clerk}" if args.to_clerk else f"service {service}")
    _out(args, f"{ticket} → {to}", {"ticket": ticket, "service": service, "to_counter": args.to_counter,
                                     "to_clerk": args.to_clerk})


def cmd_rate(args: argparse.Namespace) -> None:
    ticket = _engine(args).rate(args.ticket, args.score)
    _out(args, f"{ticket} rated {args.score}", {"ticket": ticket, "score": args.score})


def cmd_counter_state(args: argparse.Namespace) -> None:
    state = {"open": "open", "pause": "paused", "close": "closed"}[args.state]
    result = _engine(args).set_counter(args.counter, state, args.reason)
    _out(args, f"counter {args.counter} {result}", {"counter": args.counter, "state": result})


def cmd_status(args: argparse.Namespace) -> None:
    from kiosk.engine.readmodel import snapshot
    snap = snapshot(_engine(args))
    if args.json:
        _out(args, "", snap)
        return
    alert = snap["alert"]
    lines = [f"{snap['branch']}  day {snap['day']}  waiting {snap['waiting']}  open counters "
             f"{snap['open_counters']}  alert {alert['level']}"]
    if alert["level"] > 0:
        k, closed = alert["open_counters_needed"], alert["staffing"]["closed_counters"]
        short = f"; only {closed} can be opened" if k > closed else ""
        lines.append(f"counters to open: {k} ({alert['counters_needed']} open counters bring the hall back under "
                     f"level 1{short})")
    lines += [f"alert: {line}" for line in alert["reasons"]]
    if alert["diverted"]:
        lines.append(f"diverted to self-service: {', '.join(alert['diverted'])}")
    lines.append(f"{'service':<24}{'waiting':>8}{'longest':>10}{'estimate':>10}")
    for s in snap["services"]:
        note = f"  ({s['unavailable']})" if s["unavailable"] else ""
        lines.append(f"{s['service'] + ' ' + s['name']['en']:<24}{s['waiting']:>8}{_mmss(s['longest_wait_s']):>10}"
                     f"{_mmss(s['estimate_s']):>10}{note}")
    lines.append(f"{'counter':<10}{'state':<8}{'ticket':<8}{'services'}")
    for c in snap["counters"]:
        lines.append(f"{c['counter']:<10}{c['state']:<8}{(c['ticket'] or '-'):<8}{','.join(c['services'])}")
    print("\n".join(lines))


def _mmss(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 60}:{s % 60:02d}"


def cmd_events(args: argparse.Namespace) -> None:
    engine = _engine(args)
    for ev in engine.store.events_after(args.since, args.limit):
        msg = ev.as_message()
        if args.json:
            print(json.dumps(msg, ensure_ascii=False))
        else:
            extra = " ".join(f"{k}={v}" for k, v in msg.items() if k not in ("v", "id", "seq", "type", "ts", "branch"))
            print(f"{ev.seq:>6} {ev.ts} {ev.type:<20} {extra}")


def cmd_rollover(args: argparse.Namespace) -> None:
    day = _engine(args).rollover()
    _out(args, f"business day is now {day}", {"day": day})


def cmd_replay(args: argparse.Namespace) -> None:
    from kiosk.tools.replay import replay_day
    result = replay_day(args.day_dir, args.out)
    _out(args, f"{result['tickets']} estimates written to {result['out']}", result)


def cmd_check_config(args: argparse.Namespace) -> None:
    settings = _settings(args)
    _out(args, f"configuration OK: branch {settings.branch.id}, {len(settings.services)} services, "
               f"{len(settings.counters)} counters", settings.model_dump(mode="json"))


def cmd_run(args: argparse.Namespace) -> int:
    # The service never hands numpy or pandas values to SQLite: keep sqlite-utils from importing
    # them when they happen to be installed (numpy alone is ~11 MB of RSS on a 512 MB Pi).
    for optional in ("numpy", "pandas"):
        sys.modules.setdefault(optional, None)  # type: ignore[arg-type]
    from kiosk.app.run import run
    return run(args)


# -- entry point --------------------------------------------------------------------------------
def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The parsed command line; the parser (~2 MB of argparse objects for every sub-command)
    is garbage once this returns, instead of living as long as `kiosk run`."""
    return build_parser().parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """The `kiosk` command; returns its exit status."""
    try:
        try:
            return _run(argv)
        finally:
            sys.stdout.flush()  # a reader that left shows here, not as a traceback at exit
    except BrokenPipeError:
        if not _stdout_reader_gone():
            raise  # a pipe of the command's own (a device, a socket), not its output
        _stdout_to_devnull()
        return EXIT_BROKEN_PIPE


def _stdout_reader_gone() -> bool:
    """Whether stdout is a pipe (or socket) whose reading end is closed."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, ValueError, OSError):
        return False
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    return any(mask & (select.POLLERR | select.POLLHUP) for _, mask in poller.poll(0))


def _stdout_to_devnull() -> None:
    """What is left in stdout's buffer goes nowhere when Python flushes it at exit (Python docs,
    "Note on SIGPIPE")."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    finally:
        os.close(devnull)


def _run(argv: Sequence[str] | None) -> int:
    args = parse_args(argv)
    for name, default in (("config", None), ("data", None), ("json", False)):
        if not hasattr(args, name):
            setattr(args, name, default)
    args.stores = []
    logging.basicConfig(level=logging.INFO if args.command == "run" else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return int(args.handler(args) or 0)
    except (ConfigError, QueueError) as exc:
        print(f"kiosk {args.command}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KioskError as exc:
        print(f"kiosk {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        for store in args.stores:
            store.close()


if __name__ == "__main__":
    sys.exit(main())
