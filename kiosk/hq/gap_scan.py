"""Pure interval arithmetic of HQ's gap repair: the holes in a run of stored seqs.

A range is a ``(first, last)`` pair of seqs, both included. No I/O: `kiosk.hq.gaps` feeds these
functions with what `kiosk.hq.gap_table` read.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

Range = tuple[int, int]


def holes(seqs: Iterable[int], after: int, known_last: int, *, complete: bool) -> tuple[list[Range], int]:
    """The ranges above `after` missing from `seqs` (ascending, duplicates allowed), and the highest
    seq seen. With `complete` (every stored seq above `after` is in `seqs`) the range from the highest
    seen to `known_last` is missing too (the trailing hole)."""
    out: list[Range] = []
    expect = after + 1
    top = after
    for s in seqs:
        if s < expect:
            continue
        if s > expect:
            out.append((expect, s - 1))
        expect = s + 1
        top = s
    if complete and known_last > top:
        out.append((top + 1, known_last))
    return out, top


def subtract(ranges: Sequence[Range], cut: Sequence[Range]) -> list[Range]:
    """`ranges` without any seq of `cut`."""
    out: list[Range] = []
    for a, b in ranges:
        parts = [(a, b)]
        for c, d in cut:
            nxt = []
            for x, y in parts:
                if d < x or c > y:
                    nxt.append((x, y))
                    continue
                if x < c:
                    nxt.append((x, c - 1))
                if d < y:
                    nxt.append((d + 1, y))
            parts = nxt
        out.extend(parts)
    return sorted(out)


def overlap(ranges: Sequence[Range], first: int, last: int) -> list[Range]:
    """The parts of `ranges` inside `first`..`last`."""
    return [(max(a, first), min(b, last)) for a, b in ranges if a <= last and b >= first]


def size(ranges: Iterable[Range]) -> int:
    return sum(b - a + 1 for a, b in ranges)
