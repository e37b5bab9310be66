"""Statistics from the store: per hour, day, week and month; per service, counter and staff.

The source is the ``tickets`` table (it keeps every ticket for good; the outbox is pruned
after ``store.event_retention_days``). Each ticket row becomes a few *facts* — arrived,
called (with its wait), finished, no-show, transferred, rated, left uncalled — each with
the wall-clock instant it happened and the business day it belongs to; every figure is an
aggregate of facts. docs/statistics.md defines each figure.

Time buckets: a fact falls in the local wall-clock hour of its own instant (arrival: issue
time; wait and service level: call time; served, no-show, transfer, service time and
rating: finish time; a ticket never called: its issue time), and in the business day (``tickets.day``) of its ticket for days,
ISO weeks and months. ``staff`` repeats the counters' figures; ``clerks`` has the figures of
each clerk who signed in at a counter (`kiosk.engine.clerk_stats`).

Staffing: Erlang C (M/M/N) per hour — the smallest number of counters N with
P(wait ≤ target wait) ≥ target share for the hour's mean arrival rate and service time.
"""
from __future__ import annotations

import math
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from kiosk.engine.clerk_stats import clerk_figures
from kiosk.engine.satisfaction import SATISFIED_MIN
from kiosk.engine.stats_targets import add_targets

DEFAULT_TARGET_S = 600.0  # a service the settings do not know: 10 minutes
DEFAULT_SERVICE_S = 300.0  # no service time observed and none configured
TARGET_SHARE = 0.8
BUSY_FACTOR = 1.25  # a weekday×hour cell is busy at ≥ 1.25 × the mean of open cells
IDLE_FACTOR = 0.75  # … and idle at ≤ 0.75 × that mean
MIN_HOURLY_SAMPLES = 5  # fewer service times in an hour of day → use the overall mean
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
BY = ("hour", "day", "week", "month")

# fact kinds
ARRIVAL, CALL, LEFT, DONE, NOSHOW, TRANSFER, RATING = "arrival", "call", "left", "done", "noshow", "transfer", "rating"


@dataclass(frozen=True, slots=True)
class Fact:
    kind: str
    day: str  # business day of the ticket
    when: datetime  # local wall time of the fact
    service: str
    counter: int | None
    value: float | None = None  # wait_s (call), service_s (done), score (rating), counter time (noshow, transfer)
    ok: bool | None = None  # call: called within the service's target wait


# -- reading ------------------------------------------------------------------------------------
_COLUMNS = ("id, day, service, state, origin_id, issued_t, queued_t, present_t, issued_wall, called_t, "
            "called_wall, finished_t, finished_wall, counter, rating")


def _rows(conn: sqlite3.Connection, where: str, args: Sequence[Any]) -> list[sqlite3.Row]:
    cur = conn.cursor()
    cur.row_factory = sqlite3.Row
    return cur.execute(f"SELECT {_COLUMNS} FROM tickets WHERE {where} ORDER BY id", args).fetchall()


def _local(text: str | None, tz: tzinfo | None) -> datetime | None:
    if not text:
        return None
    dt = datetime.fromisoformat(text)
    return dt.astimezone(tz) if tz is not None and dt.tzinfo is not None else dt


def waiting_since(t: Any) -> float:
    """When a ticket's wait began: its queueing time (or a no-show's requeue), but never before the
    customer was in the hall (`present_t`): a remote ticket waits from its check-in, an appointment
    from its arrival (its earlier queueing time is its head start in the line, not time waited)."""
    present = t["present_t"]
    return t["queued_t"] if present is None else max(t["queued_t"], present)


def facts_from_rows(rows: Iterable[sqlite3.Row], targets: dict[str, float], tz: tzinfo | None = None) -> list[Fact]:
    """Ticket rows → facts. `targets`: service → target wait in seconds.

    A transfer copy (``origin_id`` set) is not a new arrival; its wait runs from the moment
    of the transfer (when the previous hop of the same customer finished), not from the
    original ticket's queueing time which it keeps only for its place in the queue.
    """
    rows = list(rows)
    hop_end: dict[int, float | None] = {}  # root id → finished_t of the latest hop seen
    out: list[Fact] = []
    for r in rows:
        root = r["origin_id"] or r["id"]
        day, service, counter = r["day"], r["service"], r["counter"]
        issued = _local(r["issued_wall"], tz)
        if r["origin_id"] is None:
            out.append(Fact(ARRIVAL, day, issued, service, None))
            start = waiting_since(r)
        else:
            prev_end = hop_end.get(root)
            start = prev_end if prev_end is not None else r["queued_t"]
        hop_end[root] = r["finished_t"]
        finished = _local(r["finished_wall"], tz) or issued
        if r["called_t"] is not None:
            called = _local(r["called_wall"], tz) or issued
            wait = max(0.0, r["called_t"] - (start if start is not None else r["called_t"]))
            out.append(Fact(CALL, day, called, service, counter, wait,
                            wait <= targets.get(service, DEFAULT_TARGET_S) + 1e-9))
            at_counter = max(0.0, r["finished_t"] - r["called_t"]) if r["finished_t"] is not None else None
            if r["state"] == "done":
                out.append(Fact(DONE, day, finished, service, counter, at_counter))
            elif r["state"] == "noshow":
                out.append(Fact(NOSHOW, day, finished, service, counter, at_counter))
            elif r["state"] == "transferred":
                out.append(Fact(TRANSFER, day, finished, service, counter, at_counter))
        elif r["state"] in ("expired", "cancelled"):
            # never called: counted in the hour it arrived (an expiry happens at the rollover,
            # outside the business day's hours)
            out.append(Fact(LEFT, day, issued, service, None))
        if r["rating"] is not None:
            out.append(Fact(RATING, day, finished, service, counter, float(r["rating"])))
    return out


def load_facts(conn: sqlite3.Connection, day_from: str, day_to: str, targets: dict[str, float],
               tz: tzinfo | None = None) -> list[Fact]:
    """Facts of the business days `day_from`…`day_to` (ISO dates, inclusive)."""
    return facts_from_rows(_rows(conn, "day BETWEEN ? AND ?", (day_from, day_to)), targets, tz)


# -- figures ------------------------------------------------------------------------------------
def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-quantile (0…1) by linear interpolation between closest ranks (numpy's default,
    ``statistics.quantiles(method='inclusive')``). None for no values."""
    if not values:
        return None
    v = sorted(values)
    pos = (len(v) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


def _r(x: float | None, nd: int = 1) -> float | None:
    return None if x is None else round(x, nd)


def _dist(values: list[float], *, with_max: bool = True) -> dict[str, Any]:
    d: dict[str, Any] = {"n": len(values), "mean_s": _r(sum(values) / len(values)) if values else None,
                         "p90_s": _r(percentile(values, 0.9))}
    if with_max:
        d["max_s"] = _r(max(values)) if values else None
    return d


def metrics(facts: Iterable[Fact], *, arrivals: bool = True) -> dict[str, Any]:
    """The figures of a set of facts (docs/statistics.md)."""
    n: dict[str, int] = defaultdict(int)
    waits: list[float] = []
    service: list[float] = []
    busy = 0.0
    within = 0
    ratings: list[float] = []
    for f in facts:
        n[f.kind] += 1
        if f.kind == CALL:
            waits.append(f.value or 0.0)
            within += bool(f.ok)
        elif f.kind == DONE and f.value is not None:
            service.append(f.value)
        elif f.kind == RATING and f.value is not None:
            ratings.append(f.value)
        if f.kind in (DONE, NOSHOW, TRANSFER) and f.value is not None:
            busy += f.value
    offered = len(waits) + n[LEFT]
    satisfied = sum(1 for x in ratings if x >= SATISFIED_MIN)
    out: dict[str, Any] = {}
    if arrivals:
        out["arrivals"] = n[ARRIVAL]
    out.update({
        "called": n[CALL],
        "served": n[DONE],
        "noshows": n[NOSHOW],
        "transfers": n[TRANSFER],
        "expired": n[LEFT],
        "wait": _dist(waits),
        "service_time": _dist(service, with_max=False),
        "service_level": {"n": offered, "within": within,
                          "share": round(within / offered, 4) if offered else None},
        "satisfaction": {"ratings": len(ratings), "satisfied": satisfied,
                         "share": round(satisfied / len(ratings), 4) if ratings else None,
                         "mean": _r(sum(ratings) / len(ratings), 2) if ratings else None},
        "counter_time_s": _r(busy),
    })
    return out


def period_key(by: str) -> Callable[[Fact], str]:
    if by == "hour":
        return lambda f: f"{f.day} {f.when.hour:02d}h"
    if by == "day":
        return lambda f: f.day
    if by == "week":
        def week(f: Fact) -> str:
            y, w, _ = date.fromisoformat(f.day).isocalendar()
            return f"{y}-W{w:02d}"
        return week
    if by == "month":
        return lambda f: f.day[:7]
    raise ValueError(f"--by must be one of {', '.join(BY)}, not {by!r}")


def _group(facts: Iterable[Fact], key: Callable[[Fact], Any]) -> dict[Any, list[Fact]]:
    out: dict[Any, list[Fact]] = defaultdict(list)
    for f in facts:
        k = key(f)
        if k is not None:
            out[k].append(f)
    return out


def _counter_facts(facts: Iterable[Fact]) -> dict[int, list[Fact]]:
    return _group((f for f in facts if f.counter is not None and f.kind != ARRIVAL), lambda f: f.counter)


# -- Erlang C -----------------------------------------------------------------------------------
def erlang_c(n: int, a: float) -> float:
    """P(wait > 0) in an M/M/n queue with offered load `a` Erlangs (λ × mean service time).
    1.0 when n ≤ a (the queue grows without bound)."""
    if a <= 0:
        return 0.0
    if n <= a:
        return 1.0
    b = 1.0  # Erlang B by the stable recursion B(k) = a·B(k-1) / (k + a·B(k-1))
    for k in range(1, n + 1):
        b = a * b / (k + a * b)
    return n * b / (n - a * (1.0 - b))


def erlang_c_service_level(n: int, rate_per_hour: float, mean_service_s: float, target_wait_s: float) -> float:
    """P(wait ≤ target) with n counters: 1 − C(n, a)·exp(−(n − a)·t / s)."""
    if rate_per_hour <= 0:
        return 1.0
    a = rate_per_hour * mean_service_s / 3600.0
    if n <= a:
        return 0.0
    return 1.0 - erlang_c(n, a) * math.exp(-(n - a) * target_wait_s / mean_service_s)


def counters_needed(rate_per_hour: float, mean_service_s: float, target_wait_s: float,
                    target_share: float = TARGET_SHARE, max_n: int = 500) -> int:
    """The smallest n with P(wait ≤ target_wait_s) ≥ target_share (0 when nobody arrives)."""
    if rate_per_hour <= 0 or mean_service_s <= 0:
        return 0
    a = rate_per_hour * mean_service_s / 3600.0
    n = max(1, math.floor(a) + 1)
    while n < max_n and erlang_c_service_level(n, rate_per_hour, mean_service_s, target_wait_s) < target_share:
        n += 1
    return n


# -- settings helpers ---------------------------------------------------------------------------
def targets_of(settings: Any | None) -> dict[str, float]:
    if settings is None:
        return {}
    return {s.prefix: s.target_wait_min * 60.0 for s in settings.services}


def _tz(settings: Any | None) -> tzinfo | None:
    return settings.day.tz if settings is not None else None


def _settings_or_default(settings: Any | None) -> Any | None:
    if settings is not None:
        return settings
    try:  # the configuration the kiosk runs with ($KIOSK_CONFIG or the sample hall)
        from kiosk.config.settings import load_settings
        return load_settings()
    except Exception:  # noqa: BLE001 — statistics still work with default targets
        return None


# -- the hourly summary (MQTT kiosk/{branch}/stats/hourly) ---------------------------------------
def hourly_summary(conn: sqlite3.Connection, day: str, hour: int, *, settings: Any | None = None) -> dict[str, Any]:
    """The aggregates of business day `day`'s local wall-clock hour `hour` (0–23), JSON-able.

    Arrivals count tickets issued in the hour; waits and service level, tickets called in
    it; served, no-shows, transfers, service times and ratings, tickets finished in it.
    Pass the kiosk's `settings` (service targets and time zone); without them the
    configuration is loaded from $KIOSK_CONFIG / the default file, else 10-min targets.
    """
    if not 0 <= int(hour) <= 23:
        raise ValueError(f"hour must be 0–23, not {hour!r}")
    hour = int(hour)
    settings = _settings_or_default(settings)
    targets, tz = targets_of(settings), _tz(settings)
    facts = [f for f in facts_from_rows(_rows(conn, "day = ?", (day,)), targets, tz) if f.when.hour == hour]
    out: dict[str, Any] = {"v": 1, "day": day, "hour": hour, "start": _hour_start(day, hour, settings)}
    out.update(metrics(facts))
    out["services"] = {s: metrics(fs) for s, fs in sorted(_group(facts, lambda f: f.service).items())}
    out["counters"] = {str(c): metrics(fs, arrivals=False) for c, fs in sorted(_counter_facts(facts).items())}
    return out


def _hour_start(day: str, hour: int, settings: Any | None) -> str | None:
    if settings is None:
        return None
    d = date.fromisoformat(day)
    rt = settings.day.rollover_time
    if (hour, 0) < (rt.hour, rt.minute):
        d += timedelta(days=1)  # after midnight, still the same business day
    return datetime(d.year, d.month, d.day, hour, tzinfo=settings.day.tz).isoformat(timespec="seconds")


# -- everything for a date range (CLI, report) --------------------------------------------------
def compute(conn: sqlite3.Connection, date_from: date, date_to: date, settings: Any, *, by: str = "day",
            target_share: float = TARGET_SHARE) -> dict[str, Any]:
    """All figures for the business days `date_from`…`date_to` (inclusive), JSON-able."""
    if date_to < date_from:
        raise ValueError(f"--to {date_to} is before --from {date_from}")
    key = period_key(by)
    targets, tz = targets_of(settings), _tz(settings)
    facts = load_facts(conn, date_from.isoformat(), date_to.isoformat(), targets, tz)
    arrivals = [f for f in facts if f.kind == ARRIVAL]
    open_days = sorted({f.day for f in arrivals})
    out: dict[str, Any] = {
        "v": 1,
        "branch": settings.branch.id if settings is not None else None,
        "from": date_from.isoformat(),
        "to": date_to.isoformat(),
        "by": by,
        "open_days": len(open_days),
        "totals": metrics(facts),
        "periods": [{"period": k, **metrics(fs)} for k, fs in sorted(_group(facts, key).items())],
    }
    services = []
    by_service = _group(facts, lambda f: f.service)
    known = [s.prefix for s in settings.services] if settings is not None else []
    for prefix in known + sorted(set(by_service) - set(known)):
        svc = settings.service(prefix) if settings is not None else None
        services.append({"service": prefix, "name": svc.name.model_dump() if svc else {"en": prefix},
                         "target_wait_s": targets.get(prefix, DEFAULT_TARGET_S),
                         **metrics(by_service.get(prefix, []))})
    out["services"] = services
    counters = []
    by_counter = _counter_facts(facts)
    known_c = [c.number for c in settings.counters] if settings is not None else []
    for number in known_c + sorted(set(by_counter) - set(known_c)):
        cfg = settings.counter(number) if settings is not None else None
        fs = by_counter.get(number, [])
        counters.append({"counter": number,
                         "name": cfg.display_name("en") if cfg else f"Counter {number}",
                         "name_zh": cfg.display_name("zh") if cfg else f"{number}号窗口",
                         "days_active": len({f.day for f in fs if f.kind == CALL}),
                         **metrics(fs, arrivals=False)})
    out["counters"] = counters
    add_targets(out, [(f.service, f.counter, f.value) for f in facts if f.kind == DONE and f.value is not None],
                conn, settings)
    out["staff"] = {"basis": "counter", "note": "staff = counter; per clerk signed in: clerks",
                    "staff": [{**c, "staff": f"counter {c['counter']}"} for c in counters]}
    out["clerks"] = clerk_figures(conn, date_from.isoformat(), date_to.isoformat(), settings)
    out["appointments"] = appointment_outcomes(conn, date_from.isoformat(), date_to.isoformat())
    out["by_hour"], out["staffing"] = _by_hour(facts, open_days, settings, target_share)
    out["by_weekday"] = _by_weekday(facts, open_days)
    out["profile"] = busy_idle_profile(arrivals, open_days)
    out["staffing"]["by_weekday_hour"] = _staffing_matrix(out["profile"], out["staffing"], target_share)
    return out


def _hall_target_s(arrivals: list[Fact], targets: dict[str, float]) -> float:
    """The pooled hall's target wait: the arrival-weighted mean of the services' targets."""
    if not arrivals:
        return min(targets.values()) if targets else DEFAULT_TARGET_S
    return sum(targets.get(f.service, DEFAULT_TARGET_S) for f in arrivals) / len(arrivals)


def _prior_service_s(arrivals: list[Fact], settings: Any | None) -> float:
    if settings is None:
        return DEFAULT_SERVICE_S
    expected = {s.prefix: s.expected_service_min * 60.0 for s in settings.services}
    if not arrivals:
        return sum(expected.values()) / len(expected) if expected else DEFAULT_SERVICE_S
    return sum(expected.get(f.service, DEFAULT_SERVICE_S) for f in arrivals) / len(arrivals)


def _by_hour(facts: list[Fact], open_days: list[str], settings: Any | None,
             target_share: float) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Per local hour of day over the range: mean arrivals per open day, waits, service level,
    service time, counters seen calling, and the Erlang C staffing."""
    days = max(1, len(open_days))
    arrivals = [f for f in facts if f.kind == ARRIVAL]
    targets = targets_of(settings)
    target_s = _hall_target_s(arrivals, targets)
    done = [f.value for f in facts if f.kind == DONE and f.value is not None]
    overall_s = sum(done) / len(done) if done else _prior_service_s(arrivals, settings)
    by_hour = _group(facts, lambda f: f.when.hour)
    rows, staffing_rows = [], []
    hours = sorted(h for h, fs in by_hour.items() if any(f.kind in (ARRIVAL, CALL) for f in fs))
    if hours:
        hours = list(range(hours[0], hours[-1] + 1))
    for h in hours:
        fs = by_hour.get(h, [])
        m = metrics(fs)
        rate = m["arrivals"] / days
        st = [f.value for f in fs if f.kind == DONE and f.value is not None]
        mean_s = sum(st) / len(st) if len(st) >= MIN_HOURLY_SAMPLES else overall_s
        active = len({(f.day, f.counter) for f in fs if f.kind == CALL and f.counter is not None}) / days
        need = counters_needed(rate, mean_s, target_s, target_share)
        rows.append({"hour": h, "arrivals_per_day": round(rate, 2), **m, "counters_active": round(active, 2),
                     "counters_needed": need})
        staffing_rows.append({"hour": h, "arrivals_per_hour": round(rate, 2), "mean_service_s": round(mean_s, 1),
                              "offered_load": round(rate * mean_s / 3600.0, 3), "counters_needed": need,
                              "counters_active": round(active, 2),
                              "expected_service_level": round(erlang_c_service_level(need, rate, mean_s, target_s), 4)
                              if need else None})
    while staffing_rows and staffing_rows[-1]["arrivals_per_hour"] == 0:  # calls after closing time
        staffing_rows.pop()
    while staffing_rows and staffing_rows[0]["arrivals_per_hour"] == 0:
        staffing_rows.pop(0)
    staffing = {"method": "erlang_c", "target_share": target_share, "target_wait_s": round(target_s, 1),
                "mean_service_s": round(overall_s, 1), "by_hour": staffing_rows}
    return rows, staffing


def _by_weekday(facts: list[Fact], open_days: list[str]) -> list[dict[str, Any]]:
    days_per_wd: dict[int, int] = defaultdict(int)
    for d in open_days:
        days_per_wd[date.fromisoformat(d).weekday()] += 1
    grouped = _group(facts, lambda f: date.fromisoformat(f.day).weekday())
    out = []
    for wd in range(7):
        m = metrics(grouped.get(wd, []))
        n = days_per_wd.get(wd, 0)
        out.append({"weekday": WEEKDAYS[wd], "open_days": n,
                    "arrivals_per_day": round(m["arrivals"] / n, 2) if n else None, **m})
    return out


def busy_idle_profile(arrivals: list[Fact], open_days: list[str]) -> dict[str, Any]:
    """Mean arrivals per hour by weekday × local hour, over the open days of each weekday.

    Cells of a weekday with no open day are None. "Open cells" are cells with at least one
    arrival; their mean is the reference: a cell is "busy" at ≥ BUSY_FACTOR × that mean,
    "idle" at ≤ IDLE_FACTOR × it (an open hour with no arrival on any day is "closed")."""
    days_per_wd: dict[int, int] = defaultdict(int)
    for d in open_days:
        days_per_wd[date.fromisoformat(d).weekday()] += 1
    counts: dict[tuple[int, int], int] = defaultdict(int)
    for f in arrivals:
        counts[(date.fromisoformat(f.day).weekday(), f.when.hour)] += 1
    hours = sorted({h for _, h in counts})
    hours = list(range(hours[0], hours[-1] + 1)) if hours else []
    means: list[list[float | None]] = []
    for wd in range(7):
        n = days_per_wd.get(wd, 0)
        means.append([round(counts.get((wd, h), 0) / n, 2) if n else None for h in hours])
    open_cells = [v for row in means for v in row if v]
    mean = sum(open_cells) / len(open_cells) if open_cells else 0.0
    flags = [[None if v is None else "closed" if v == 0 else "busy" if v >= BUSY_FACTOR * mean
              else "idle" if v <= IDLE_FACTOR * mean else "normal" for v in row] for row in means]
    return {"weekdays": list(WEEKDAYS), "hours": hours, "mean_arrivals": means, "flags": flags,
            "mean": round(mean, 2), "busy_factor": BUSY_FACTOR, "idle_factor": IDLE_FACTOR,
            "open_days": {WEEKDAYS[wd]: days_per_wd.get(wd, 0) for wd in range(7)},
            "busy": [f"{WEEKDAYS[wd]} {hours[i]:02d}h" for wd in range(7) for i in range(len(hours))
                     if flags[wd][i] == "busy"],
            "idle": [f"{WEEKDAYS[wd]} {hours[i]:02d}h" for wd in range(7) for i in range(len(hours))
                     if flags[wd][i] == "idle"]}


def _staffing_matrix(profile: dict[str, Any], staffing: dict[str, Any], target_share: float) -> list[list[int | None]]:
    """Counters needed by weekday × hour (the roster view), from the profile's arrival rates."""
    service_s = {r["hour"]: r["mean_service_s"] for r in staffing["by_hour"]}
    target = staffing["target_wait_s"]
    out = []
    for row in profile["mean_arrivals"]:
        out.append([None if v is None else counters_needed(v, service_s.get(h, staffing["mean_service_s"]),
                                                           target, target_share)
                    for h, v in zip(profile["hours"], row)])
    return out


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not a date YYYY-MM-DD: {text!r}") from None


def day_range(conn: sqlite3.Connection) -> tuple[str | None, str | None]:
    """The first and last business day with tickets."""
    row = conn.execute("SELECT min(day), max(day) FROM tickets").fetchone()
    return (row[0], row[1]) if row else (None, None)


def appointment_outcomes(conn: sqlite3.Connection, first: str, last: str) -> dict[str, int]:
    """Appointments of the days `first`..`last` by outcome: checked_in (in their window), late (an
    ordinary ticket), missed (never came), booked (still to come)."""
    rows = dict(conn.execute("SELECT state, count(*) FROM appointments WHERE day BETWEEN ? AND ? GROUP BY state",
                             (first, last)).fetchall())
    return {k: rows.get(k, 0) for k in ("booked", "checked_in", "late", "missed")}
