"""What a phone sees of its ticket: the public JSON view, built from one ticket of a checked
follow message (`kiosk.hq.ingest.follow`) and that message's latest calls.

The view holds the ticket's own fields and the branch's latest calls (ticket numbers and
counters, which the hall's screen shows to everyone anyway); nothing of the key, the token or
any other ticket."""
from __future__ import annotations

from typing import Any

TICKET_FIELDS = ("ticket", "service", "state", "ahead", "estimate_s", "counter")


def calls_view(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The latest calls of a checked follow message, newest first."""
    return [{"ticket": c["ticket"], "counter": c["counter"], "ts": c.get("ts")} for c in doc.get("calls") or []]


def ticket_view(branch: str, ticket: dict[str, Any], calls: list[dict[str, Any]],
                updated: str | None) -> dict[str, Any]:
    """The public view of one ticket of a checked follow message."""
    out = {k: ticket.get(k) for k in TICKET_FIELDS}
    if out["estimate_s"] is not None:
        out["estimate_s"] = float(out["estimate_s"])
    out["branch"] = branch
    out["calls"] = calls
    out["updated"] = updated
    return out


__all__ = ["TICKET_FIELDS", "calls_view", "ticket_view"]
