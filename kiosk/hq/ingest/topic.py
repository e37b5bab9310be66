"""Which branch and which kind of message a topic carries, and what a branch id may be."""
from __future__ import annotations

import re

from kiosk.hq.ingest.rejection import Rejected

BRANCH_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")   # as kiosk.config.settings.Branch.id
BRANCH_KINDS = ("status", "queue", "events", "alerts", "stats/hourly")
_REPLY_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


def valid_branch(name: str) -> bool:
    """True for a branch id a kiosk can have (no wildcards, no path characters, 1-64 long)."""
    return BRANCH_ID.fullmatch(name) is not None


def split_topic(prefix: str, topic: str) -> tuple[str, str] | None:
    """(branch, kind) of ``{prefix}/{branch}/{kind}``, with kind one of `BRANCH_KINDS` or
    ``reply``; None for a topic HQ does not read (a command HQ sent, the bridge's notice, a
    kind a newer kiosk may add, another prefix). `Rejected` (code ``bad_topic``) for a branch
    id that cannot be one or a reply topic that names no command."""
    head = prefix.rstrip("/") + "/"
    if not topic.startswith(head):
        return None
    name, _, kind = topic[len(head):].partition("/")
    if kind.startswith("reply/"):
        if not _REPLY_NAME.fullmatch(kind[6:]):
            raise Rejected("bad_topic", f"reply topic {topic[:200]!r} does not name a command")
        kind = "reply"
    elif kind not in BRANCH_KINDS:
        return None
    if not valid_branch(name):
        raise Rejected("bad_topic", f"branch id {name[:100]!r} is not 1-64 letters, digits, '_' or '-'")
    return name, kind
