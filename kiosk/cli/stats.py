"""`kiosk stats` and `kiosk report`: statistics tables for people (or JSON) and the HTML report.

Both read the branch database read-only, so they can run next to a running kiosk.
`kiosk.cli.main` adds them with `add_parsers(subparsers, parents)`.
"""
from __future__ import annotations

import argparse
import json
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TextIO

BY = ("hour", "day", "week", "month")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from None


def _share(text: str) -> float:
    t = text.strip()
    try:
        v = float(t.rstrip("%"))
        if t.endswith("%") or v > 1:
            v /= 100
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a share (0.8 or 80%): {text!r}") from None
    if not 0 < v < 1:
        raise argparse.ArgumentTypeError(f"a target share is between 0 and 1 (exclusive), not {text!r}")
    return v


def _own_globals() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS)
    p.add_argument("--data", metavar="DIR", default=argparse.SUPPRESS)
    p.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output")
    return p


def add_parsers(subparsers: Any, parents: list[argparse.ArgumentParser] | None = None) -> None:
    """Add `stats` and `report` to the `kiosk` command's sub-parsers."""
    parents = list(parents) if parents else [_own_globals()]
    help_ = "statistics: arrivals, waits, service level, satisfaction, busy hours, staffing"
    p = subparsers.add_parser("stats", parents=parents, help=help_, description=help_ + " (docs/statistics.md)")
    p.add_argument("--from", dest="date_from", type=_date, metavar="DATE",
                   help="first business day (default: 6 days before --to)")
    p.add_argument("--to", dest="date_to", type=_date, metavar="DATE",
                   help="last business day (default: the last day with tickets)")
    p.add_argument("--by", choices=BY, default="day", help="period of the first table (default: day)")
    p.add_argument("--target-share", type=_share, default=0.8, metavar="SHARE",
                   help="service level the staffing aims at, e.g. 0.8 or 80%% (default 0.8)")
    p.set_defaults(handler=cmd_stats)
    help_ = "write a self-contained HTML report with charts"
    p = subparsers.add_parser("report", parents=parents, help=help_, description=help_)
    p.add_argument("--from", dest="date_from", type=_date, metavar="DATE", required=True)
    p.add_argument("--to", dest="date_to", type=_date, metavar="DATE", required=True)
    p.add_argument("--out", required=True, metavar="FILE", help="the HTML file to write")
    p.add_argument("--target-share", type=_share, default=0.8, metavar="SHARE")
    p.set_defaults(handler=cmd_report)


# -- plumbing ----------------------------------------------------------------------------------
def _open(args: argparse.Namespace) -> tuple[Any, Any]:
    from kiosk.app.kiosk_app import data_dir
    from kiosk.config.settings import load_settings
    from kiosk.domain.errors import StoreError
    from kiosk.storage.store import Store, db_path
    settings = load_settings(getattr(args, "config", None))
    path = db_path(data_dir(getattr(args, "data", None)))
    if not Path(path).exists():
        raise StoreError(f"no database at {path}: pass --data DIR (or set KIOSK_DATA), or run `kiosk init`")
    return settings, Store(path, readonly=True)


def _range(args: argparse.Namespace, conn: Any, settings: Any) -> tuple[date, date]:
    from kiosk.engine.stats import day_range
    to = args.date_to
    if to is None:
        last = day_range(conn)[1]
        if last:
            to = date.fromisoformat(last)
        else:
            from datetime import datetime

            from kiosk.engine.business_day import business_day
            to = date.fromisoformat(business_day(datetime.now(settings.day.tz), settings))
    frm = args.date_from or (to - timedelta(days=6))
    if to < frm:
        raise argparse.ArgumentTypeError(f"--to {to} is before --from {frm}")
    return frm, to


def cmd_stats(args: argparse.Namespace) -> int:
    from kiosk.engine import stats
    settings, store = _open(args)
    try:
        try:
            frm, to = _range(args, store.conn, settings)
        except argparse.ArgumentTypeError as exc:
            print(f"kiosk stats: {exc}", file=sys.stderr)
            return 2
        data = stats.compute(store.conn, frm, to, settings, by=args.by, target_share=args.target_share)
    finally:
        store.close()
    if getattr(args, "json", False):
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print_stats(data)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from kiosk.tools.report import write_report
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("kiosk report: the charts need matplotlib: pip install 'kiosk[report]'", file=sys.stderr)
        return 1
    if args.date_to < args.date_from:
        print(f"kiosk report: --to {args.date_to} is before --from {args.date_from}", file=sys.stderr)
        return 2
    settings, store = _open(args)
    try:
        out = write_report(store.conn, settings, args.date_from, args.date_to, args.out,
                           target_share=args.target_share)
    finally:
        store.close()
    if getattr(args, "json", False):
        print(json.dumps({"report": str(out), "from": args.date_from.isoformat(), "to": args.date_to.isoformat(),
                          "bytes": out.stat().st_size}))
    else:
        print(f"report written: {out} ({out.stat().st_size // 1024} KB, {args.date_from} – {args.date_to})")
    return 0


# -- tables for people -------------------------------------------------------------------------
def _m(s: float | None) -> str:
    return "-" if s is None else f"{s / 60:.1f}"


def _p(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.0f}%"


def table(head: list[str], rows: list[list[Any]], out: TextIO) -> None:
    """A plain text table; the first column left-aligned, the others right-aligned."""
    cells = [[str(c) for c in r] for r in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(head)]

    def line(r: list[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()

    print(line(head), file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for r in cells:
        print(line(r), file=out)


def _figures(m: dict[str, Any], arrivals: bool = True) -> list[Any]:
    """A row of HEAD (`arrivals`) or of COUNTER_HEAD: a counter never sees the expired tickets."""
    row = [m["arrivals"], m["served"], m["noshows"], m["transfers"], m["expired"]] if arrivals \
        else [m["called"], m["served"], m["noshows"], m["transfers"]]
    return row + [_m(m["wait"]["mean_s"]), _m(m["wait"]["p90_s"]), _m(m["wait"]["max_s"]),
                  _m(m["service_time"]["mean_s"]), _p(m["service_level"]["share"]),
                  _p(m["satisfaction"]["share"]), m["satisfaction"]["ratings"]]


HEAD = ["arrived", "served", "noshow", "transf", "expired", "wait", "p90", "max", "svc", "SL", "satisf", "ratings"]
COUNTER_HEAD = ["called", *(h for h in HEAD[1:] if h != "expired")]


def print_stats(data: dict[str, Any], out: TextIO | None = None) -> None:
    out = out or sys.stdout
    t = data["totals"]
    print(f"kiosk statistics · {data['branch']} · business days {data['from']} – {data['to']} "
          f"({data['open_days']} with tickets)", file=out)
    print("times in minutes · wait: from issue (or transfer) to call · svc: call to finish · "
          "SL: share called within the service's target · satisf: share of ratings 4–5", file=out)
    print("expired: tickets never called (still waiting at the day's rollover, or cancelled)", file=out)
    if not t["arrivals"] and not t["called"]:
        print("\nno tickets in this period", file=out)
        return
    print(file=out)
    table(["", *HEAD], [["total", *_figures(t)]], out)
    print(f"\nby {data['by']}", file=out)
    table([data["by"], *HEAD], [[p["period"], *_figures(p)] for p in data["periods"]], out)
    print("\nby service", file=out)
    table(["service", "target", *HEAD],
          [[f"{s['service']} {s['name'].get('en', '')}", f"{s['target_wait_s'] / 60:g}", *_figures(s)]
           for s in data["services"]], out)
    print("\nby counter (staff = counter)", file=out)
    table(["counter", "days", *COUNTER_HEAD, "busy h"],
          [[c["name"], c["days_active"], *_figures(c, arrivals=False), f"{(c['counter_time_s'] or 0) / 3600:.1f}"]
           for c in data["counters"]], out)
    if data.get("clerks"):
        print_clerks(data["clerks"], out)
    booked = data.get("appointments") or {}
    if any(booked.values()):
        print(f"\nappointments: {booked['checked_in']} checked in, {booked['late']} late (ordinary ticket), "
              f"{booked['missed']} missed, {booked['booked']} still to come", file=out)
    p = data["profile"]
    print(f"\nbusy/idle profile: mean arrivals per hour by weekday (busy ≥ {p['busy_factor']:g} × mean "
          f"{p['mean']:g}, idle ≤ {p['idle_factor']:g} ×; ↑ busy, ↓ idle)", file=out)
    mark = {"busy": "↑", "idle": "↓", "normal": " ", "closed": " ", None: " "}
    rows = []
    for wd, vals, flags in zip(p["weekdays"], p["mean_arrivals"], p["flags"]):
        rows.append([f"{wd} ({p['open_days'][wd]}d)"] + ["-" if v is None else f"{v:.1f}{mark[f]}"
                                                         for v, f in zip(vals, flags)])
    table(["weekday", *[f"{h:02d}h" for h in p["hours"]]], rows, out)
    s = data["staffing"]
    print(f"\nstaffing per hour (Erlang C: {100 * s['target_share']:.0f}% called within "
          f"{s['target_wait_s'] / 60:.1f} min)", file=out)
    table(["hour", "arrivals/h", "svc min", "load", "needed", "working", "exp. SL"],
          [[f"{r['hour']:02d}:00", f"{r['arrivals_per_hour']:.1f}", _m(r["mean_service_s"]),
            f"{r['offered_load']:.2f}", r["counters_needed"], f"{r['counters_active']:.1f}",
            _p(r["expected_service_level"])] for r in s["by_hour"]], out)
    print("\ncounters needed by weekday × hour", file=out)
    table(["weekday", *[f"{h:02d}h" for h in p["hours"]]],
          [[wd, *["-" if v is None else v for v in row]] for wd, row in zip(p["weekdays"], s["by_weekday_hour"])],
          out)
    if "tiers" in data:
        print_targets(data, out)


def print_targets(data: dict[str, Any], out: TextIO) -> None:
    """The seeds' targets: time at the counter (临柜) within the service's limit, and satisfaction
    against its target for the hall and each priority tier."""
    print("\ntime at the counter by service: served within the service's limit (call to finish; limit in minutes)",
          file=out)
    table(["service", "limit", "served", "within", "share"],
          [[f"{s['service']} {s['name'].get('en', '')}", f"{s['counter_limit']['limit_s'] / 60:g}",
            s["counter_limit"]["served"], s["counter_limit"]["within"], _p(s["counter_limit"]["share"])]
           for s in data["services"]]
          + [["total", "", data["totals"]["counter_limit"]["served"], data["totals"]["counter_limit"]["within"],
              _p(data["totals"]["counter_limit"]["share"])]], out)
    print("\ntime at the counter by counter", file=out)
    table(["counter", "served", "within", "share"],
          [[c["name"], c["counter_limit"]["served"], c["counter_limit"]["within"], _p(c["counter_limit"]["share"])]
           for c in data["counters"]], out)
    print("\nsatisfaction against its target (share of ratings 4–5)", file=out)
    hall = data["totals"]["satisfaction"]
    target = data["satisfaction_target"]
    rows = [["hall", hall["ratings"], _p(hall["share"]), _p(target), _met(hall["share"], target)]]
    for t in data["tiers"]:
        s = t["satisfaction"]
        rows.append([f"tier {t['tier']} {t['name'].get('en', '')}", s["ratings"], _p(s["share"]), _p(s["target"]),
                     _met(s["share"], s["target"])])
    table(["", "ratings", "share", "target", "met"], rows, out)


def print_clerks(clerks: list[dict[str, Any]], out: TextIO) -> None:
    """The report per clerk (工号): served, no-shows, transfers, time at the counter (mean, p90, share
    within the service's limit, with and without pre-acceptance), ratings and satisfaction."""
    print("\nby clerk (time at the counter: call to finish, minutes; pre: with a pre-acceptance form)", file=out)
    table(["clerk", "name", "served", "noshow", "transf", "svc", "p90", "within", "ratings", "satisf",
           "svc pre", "svc no pre"],
          [[c["clerk"], c["name"] or "(removed)", c["served"], c["noshows"], c["transfers"],
            _m(c["service_time"]["mean_s"]), _m(c["service_time"]["p90_s"]), _p(c["counter_limit"]["share"]),
            c["satisfaction"]["ratings"], _p(c["satisfaction"]["share"]),
            _m(c["pre_acceptance"]["with"]["mean_s"]), _m(c["pre_acceptance"]["without"]["mean_s"])]
           for c in clerks], out)


def _met(share: float | None, target: float) -> str:
    return "-" if share is None else ("yes" if share >= target else "NO")
