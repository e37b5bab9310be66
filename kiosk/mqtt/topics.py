"""The topics of a branch and how a payload is encoded: the wire names shared by the kiosk
and the HQ server (design.md). Every payload is JSON with ``"v": 1`` and an ISO-8601 ``"ts"``."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

_REPLY_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class Topics:
    """The topics of one branch (design.md): ``{prefix}/{branch}/status`` (retained, Last Will
    offline), ``/queue`` (retained), ``/follow`` (retained), ``/events``, ``/alerts`` (retained), ``/stats/hourly``,
    ``/cmd/{name}`` (in) → ``/reply/{name}`` or the MQTT 5 response topic."""

    prefix: str
    branch: str

    @property
    def base(self) -> str:
        return f"{self.prefix}/{self.branch}"

    @property
    def status(self) -> str:
        return f"{self.base}/status"

    @property
    def queue(self) -> str:
        return f"{self.base}/queue"

    @property
    def follow(self) -> str:
        """The customers' phones' view of the queue (retained; `kiosk.engine.follow_view`)."""
        return f"{self.base}/follow"

    @property
    def events(self) -> str:
        return f"{self.base}/events"

    @property
    def alerts(self) -> str:
        return f"{self.base}/alerts"

    @property
    def stats_hourly(self) -> str:
        return f"{self.base}/stats/hourly"

    @property
    def commands(self) -> str:
        """The filter a kiosk subscribes to for its commands."""
        return f"{self.base}/cmd/+"

    @property
    def hq_data(self) -> str:
        """The filter of what HQ keeps for this branch (retained; `kiosk.mqtt.hq_data`)."""
        return f"{self.base}/hq/+"

    def hq_data_name(self, topic: str) -> str | None:
        """The name in a ``…/hq/{name}`` topic of this branch, else None."""
        prefix = f"{self.base}/hq/"
        return topic[len(prefix):] if topic.startswith(prefix) else None

    def command_name(self, topic: str) -> str | None:
        """The command name in a ``…/cmd/{name}`` topic of this branch, else None."""
        prefix = f"{self.base}/cmd/"
        return topic[len(prefix):] if topic.startswith(prefix) else None

    def reply(self, name: str) -> str:
        """Where a reply goes without an MQTT 5 response topic (``_invalid`` for an odd name)."""
        return f"{self.base}/reply/{name if _REPLY_NAME.match(name) else '_invalid'}"


def iso_ts(dt: datetime | None = None) -> str:
    """The ``ts`` of a payload: ISO-8601 to the second with the UTC offset (now by default)."""
    return (dt or datetime.now(timezone.utc).astimezone()).isoformat(timespec="seconds")


def dumps(obj: Any) -> str:
    """A published payload: compact JSON, UTF-8 as is."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=str)
