"""`kiosk simulate-day`: a busy day in the hall, end to end, with faults, its promises to the
customers measured (exit 1 when a check or a promise fails); `--soak` for a week."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def add_parsers(sub: Any, parents: list | None = None) -> None:
    p = sub.add_parser("simulate-day", parents=parents or [],
                       help="drive the whole kiosk through a simulated day with faults and check its promises "
                            "(or a week: --soak)")
    p.add_argument("--speed", type=float, default=None, help="hall seconds per real second (day: 900, soak: 1200)")
    p.add_argument("--long", action="store_true", help="a longer, busier day with every fault twice")
    p.add_argument("--seed", type=int, default=8)
    p.add_argument("--out", default="var/simday", help="work folder: data, fake device links, logs, report.json")
    p.add_argument("--no-faults", action="store_true", help="the same day without faults")
    p.add_argument("--soak", action="store_true", help="days at peak load: memory, database size, log")
    p.add_argument("--days", type=int, default=7, help="simulated days of the soak")
    p.set_defaults(handler=cmd_simulate_day)


def cmd_simulate_day(args: argparse.Namespace) -> int:
    if args.soak:
        from kiosk.sim.day.soak import SoakOptions, run_soak
        report = run_soak(SoakOptions(days=args.days, speed=args.speed or 1200.0, seed=args.seed,
                                      out=Path(args.out)))
        print(json.dumps(report["summary"], indent=2))
        return 0 if report["ok"] else 1
    from kiosk.sim.day.checks import summary
    from kiosk.sim.day.harness import DayOptions, run_day
    report = run_day(DayOptions(speed=args.speed or 900.0, long=args.long, seed=args.seed, out=Path(args.out),
                                faults=not args.no_faults))
    print(summary(report))
    print(f"report: {Path(args.out) / 'report.json'} ({report['wall_s']} s)", file=sys.stderr)
    return 0 if report["ok"] else 1


def main(argv: list[str] | None = None) -> int:
    """`python -m kiosk.cli.simday [OPTIONS]`: the same as `kiosk simulate-day [OPTIONS]`."""
    parser = argparse.ArgumentParser(prog="python -m kiosk.cli.simday")
    sub = parser.add_subparsers(dest="command")
    add_parsers(sub)
    args = parser.parse_args(["simulate-day", *(sys.argv[1:] if argv is None else argv)])
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
