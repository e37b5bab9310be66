"""The figures of a day's promises to its customers, from the day's database: how long priority
tickets (per tier) and normal tickets waited, and how often the "people ahead" printed on a
ticket came true.

Waits are issue → first call of every ticket taken that day (a transfer's continuation and a
no-show's second wait are not new tickets). p90 is the nearest-rank 90th percentile.

People ahead, as the ticket promised it (docs/queueing.md): the number of tickets that were
waiting when it was issued and were called before it at a counter that serves its service. Judged on the tickets that were called, with no priority
ticket that arrived after them (issued or transferred in) called before them — such an arrival
is one the printed figure could not know of.

`python -m kiosk.sim.day.promises OUT...` prints the figures of `kiosk simulate-day --out OUT`.
"""
from __future__ import annotations

import argparse
import bisect
import json
import math
import sys
from pathlib import Path
from typing import Any

from kiosk.config.settings import Settings, load_settings
from kiosk.sim.day.day_log import DayLog, TicketLife, load_day, replay_queue


def nearest_rank(values: list[float], share: float) -> float:
    """The nearest-rank percentile (`share` 0.9: p90) of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def wait_summary(tickets: list[TicketLife]) -> dict[str, Any]:
    """Mean, p90 and longest wait (minutes) of the tickets among `tickets` that were called."""
    called = [t for t in tickets if t.wait_s is not None]
    out: dict[str, Any] = {"tickets": len(tickets), "called": len(called)}
    if not called:
        return out | {"mean_min": None, "p90_min": None, "max_min": None, "longest": None}
    waits = [t.wait_s / 60 for t in called]
    longest = max(called, key=lambda t: t.wait_s)
    return out | {"mean_min": round(sum(waits) / len(waits), 1), "p90_min": round(nearest_rank(waits, 0.9), 1),
                  "max_min": round(max(waits), 1), "longest": longest.number}


def wait_figures(log: DayLog) -> dict[str, Any]:
    """Waits of normal tickets, of all priority tickets, and per tier (every configured tier)."""
    issued = [t for t in log.tickets.values() if t.issued]
    priority = [t for t in issued if t.priority > 0]
    tiers = {tier: wait_summary([t for t in priority if log.rules.tier_of(t.priority) == tier])
             | {"target_min": round(log.rules.tier_targets_s[rank] / 60, 1)}
             for rank, tier in log.rules.tier_ids.items()}
    return {"normal": wait_summary([t for t in issued if t.priority == 0]),
            "priority": wait_summary(priority), "tiers": tiers}


def called_before(log: DayLog) -> dict[int, int]:
    """Ticket id → how many of the tickets waiting when it was issued were called before it
    (for each issued ticket that was called)."""
    calls = {tid: [(c.seq, c.counter) for c in life.calls] for tid, life in log.tickets.items()}
    serves = log.rules.counter_services
    out: dict[int, int] = {}
    for e, waiting in replay_queue(log.events):
        if e.type != "ticket.issued":
            continue
        life = log.tickets.get(e.get("ticket_id"))
        if life is None or life.first_call is None:
            continue
        own = life.first_call.seq
        n = 0
        for other in waiting:
            seqs = calls.get(other, [])
            i = bisect.bisect_right(seqs, (e.seq, math.inf))
            n += i < len(seqs) and seqs[i][0] < own and life.service in serves.get(seqs[i][1], ())
        out[life.id] = n
    return out


def overtaken_by_later_priority(log: DayLog) -> set[int]:
    """Tickets that a priority ticket arriving after them was called before."""
    later = sorted((t.joined_seq, t.first_call.seq) for t in log.tickets.values()
                   if t.priority > 0 and t.first_call is not None)
    out = set()
    for t in log.tickets.values():
        if t.first_call is None:
            continue
        i = bisect.bisect_right(later, (t.joined_seq, math.inf))
        if any(called < t.first_call.seq for _, called in later[i:]):
            out.add(t.id)
    return out


def ahead_accuracy(log: DayLog, examples: int = 10) -> dict[str, Any]:
    """The share of judged tickets whose printed "people ahead" came true (see the module)."""
    actual = called_before(log)
    excluded = overtaken_by_later_priority(log)
    judged = [(t, actual[t.id]) for t in log.tickets.values()
              if t.issued and t.id in actual and t.ahead is not None and t.id not in excluded]
    exact = sum(1 for t, n in judged if t.ahead == n)
    misses = [(t, n) for t, n in judged if t.ahead != n]
    return {
        "judged": len(judged), "exact": exact,
        "share": round(exact / len(judged), 4) if judged else None,
        "excluded_later_priority": sum(1 for t in log.tickets.values() if t.issued and t.id in excluded),
        "printed_too_low": sum(1 for t, n in misses if t.ahead < n),
        "printed_too_high": sum(1 for t, n in misses if t.ahead > n),
        "within_one": sum(1 for t, n in judged if abs(t.ahead - n) <= 1),
        "mean_abs_error": round(sum(abs(t.ahead - n) for t, n in judged) / len(judged), 2) if judged else None,
        "examples": [{"ticket": t.number, "printed": t.ahead, "called_before": n} for t, n in misses[:examples]],
        "all_called": _agreement([(t, actual[t.id]) for t in log.tickets.values()
                                  if t.issued and t.id in actual and t.ahead is not None]),
    }


def _agreement(pairs: list[tuple[TicketLife, int]]) -> dict[str, Any]:
    """How the printed figure compares with what came true on every called ticket, including those
    a later priority arrival overtook (which the printed figure could not know of)."""
    if not pairs:
        return {"tickets": 0}
    return {"tickets": len(pairs), "share": round(sum(t.ahead == n for t, n in pairs) / len(pairs), 4),
            "within_one": round(sum(abs(t.ahead - n) <= 1 for t, n in pairs) / len(pairs), 4),
            "mean_abs_error": round(sum(abs(t.ahead - n) for t, n in pairs) / len(pairs), 2)}


def measure(log: DayLog) -> dict[str, Any]:
    """The figures of a day: waits (per tier and normal) and people-ahead accuracy."""
    return {"waits": wait_figures(log), "people_ahead": ahead_accuracy(log)}


def measure_out(out: Path, settings: Settings | None = None) -> dict[str, Any]:
    """The figures of the day in a `kiosk simulate-day --out` folder (its kiosk.toml, data/kiosk.db)."""
    out = Path(out)
    return measure(load_day(out / "data" / "kiosk.db", settings or load_settings(out / "kiosk.toml")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kiosk.sim.day.promises",
                                     description="the promise figures of simulated days (JSON)")
    parser.add_argument("out", nargs="+", help="a `kiosk simulate-day --out` folder")
    args = parser.parse_args(argv)
    print(json.dumps({str(o): measure_out(Path(o)) for o in args.out}, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
