"""The HQ branch table as plain text: one line per branch, ANSI colours optional (no curses)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

RED, YELLOW, GREEN, DIM, RESET = "\x1b[31m", "\x1b[33m", "\x1b[32m", "\x1b[2m", "\x1b[0m"
CLEAR = "\x1b[H\x1b[2J"


def _since(iso: str | None) -> str:
    if not iso:
        return "-"
    try:
        dt = datetime.fromisoformat(iso)
    except ValueError:
        return iso[:19]
    return dt.strftime("%m-%d %H:%M:%S")


def _dur(s: float | None) -> str:
    if s is None:
        return "-"
    s = int(s)
    return f"{s // 60}m{s % 60:02d}s" if s < 3600 else f"{s // 3600}h{s % 3600 // 60:02d}m"


def render(rows: list[dict[str, Any]], *, colour: bool = False, max_rows: int | None = None,
           title: str = "") -> str:
    head = ["BRANCH", "STATE", "SINCE", "WAITING", "LONGEST", "OPEN", "ALERT", "DEVICES", "EV/MIN", "EVENTS"]
    table = []
    for r in rows:
        state = {True: "online", False: "offline", None: "?"}[r["online"]]
        waiting = " ".join(f"{k}:{v}" for k, v in sorted(r["waiting"].items())) or "-"
        devices = " ".join(f"{k}:{v['kind']}" for k, v in sorted((r.get("devices") or {}).items())) or "-"
        table.append([r["branch"], state, _since(r["since"]), waiting, _dur(r["longest_wait_s"]),
                      "-" if r["open_counters"] is None else str(r["open_counters"]), str(r["alert_level"]),
                      devices, str(r["events_per_min"]), str(r["events"])])
    shown = table if max_rows is None or len(table) <= max_rows else table[:max_rows]
    widths = [max([len(h)] + [len(t[i]) for t in shown]) for i, h in enumerate(head)]
    lines = []
    if title:
        lines.append(title)
    lines.append("  ".join(h.ljust(w) for h, w in zip(head, widths)).rstrip())
    for t in shown:
        line = "  ".join(c.ljust(w) for c, w in zip(t, widths)).rstrip()
        if colour:
            if t[1] == "offline" or t[6] == "2":
                line = RED + line + RESET
            elif t[6] == "1" or t[7] != "-":
                line = YELLOW + line + RESET
            elif t[1] == "?":
                line = DIM + line + RESET
        lines.append(line)
    if len(shown) < len(table):
        lines.append(f"… {len(table) - len(shown)} more branches")
    return "\n".join(lines) + "\n"
