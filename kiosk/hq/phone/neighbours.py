"""Each branch's nearest neighbours, for diversion at a peak: HQ publishes the retained
``{prefix}/{branch}/hq/neighbours`` (QoS 1) — at most `MAX_NEIGHBOURS` online branches with a
location within `RADIUS_KM`, nearest first, with their live waiting per service — so that a
kiosk at a level 1 or 2 alert can name them on its screen and tickets.

The choice is pure (`neighbour_lists`: every branch's latest checked queue snapshot and whether
it is online in, each located branch's list out); `NeighboursPublisher` only schedules it: a
branch's list is published when it changed (at most every ``interval_s`` per branch), every
``every_s`` anyway, and a branch that lost its location gets an empty list once. Everything
taken from a snapshot is checked again here: a wrong field leaves that branch (or that
service) out, never reaches another branch."""
from __future__ import annotations

import json
import logging
import math
import re
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from kiosk.hq.ingest import valid_branch
from kiosk.hq.ingest.follow import lang_names, phone_info
from kiosk.mqtt.hq_data import HqDataError, check_neighbours

log = logging.getLogger(__name__)

MAX_NEIGHBOURS = 3
RADIUS_KM = 20.0
MAX_SERVICES = 26
MAX_WAITING = 100_000
MAX_ESTIMATE_S = 86_400
MAX_NAME = 60
SERVICE = re.compile(r"[A-Z]")   # a kiosk's service prefix, as the kiosk checks it (`kiosk.mqtt.hq_data`)
EARTH_KM = 6371.0088
KIND = "hq/neighbours"


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The great-circle distance in km between two points given in degrees."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_KM * math.asin(min(1.0, math.sqrt(a)))


def _count(v: Any) -> int | None:
    if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= MAX_WAITING:
        return None
    return v


def _seconds(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not 0 <= v <= MAX_ESTIMATE_S:
        return None
    return float(v)


def _services(queue: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    raw = queue.get("services")
    for s in raw if isinstance(raw, list) else []:
        if not isinstance(s, dict) or not isinstance(s.get("service"), str) or not SERVICE.fullmatch(s["service"]):
            continue
        waiting = _count(s.get("waiting"))
        if waiting is None:
            continue
        out.append({"service": s["service"], "waiting": waiting, "estimate_s": _seconds(s.get("estimate_s"))})
        if len(out) == MAX_SERVICES:
            break
    return out


def _name(branch: str, raw: Any) -> dict[str, str]:
    """Both languages (at most `MAX_NAME` printable characters): one missing is the other, both
    missing the branch id."""
    names = {k: v[:MAX_NAME] for k, v in lang_names(raw).items() if v.isprintable()}
    zh = names.get("zh") or names.get("en") or branch
    return {"zh": zh, "en": names.get("en") or zh}


def place(branch: str, queue: Any, online: bool) -> dict[str, Any] | None:
    """What a neighbour list says of one branch, plus its ``lat``/``lon``; None when it has no
    (valid) location or its snapshot is not one."""
    if not isinstance(queue, dict) or not isinstance(branch, str) or not valid_branch(branch):
        return None
    phone = phone_info(queue)
    if phone is None or phone["lat"] is None or phone["lon"] is None:
        return None
    services = _services(queue)
    waiting = _count(queue.get("waiting"))
    return {"branch": branch, "name": _name(branch, (queue.get("phone") or {}).get("name")),
            "online": online is True, "waiting": sum(s["waiting"] for s in services) if waiting is None else waiting,
            "services": services, "lat": phone["lat"], "lon": phone["lon"]}


def nearest(origin: dict[str, Any], places: list[dict[str, Any]], *, limit: int = MAX_NEIGHBOURS,
            radius_km: float = RADIUS_KM) -> list[dict[str, Any]]:
    """The online places within `radius_km` of `origin` (not itself), nearest first (ties by branch
    id), at most `limit`, as the contract's neighbour entries (``km`` to 0.1 km)."""
    found = []
    for p in places:
        if p["branch"] == origin["branch"] or not p["online"]:
            continue
        km = haversine_km(origin["lat"], origin["lon"], p["lat"], p["lon"])
        if km <= radius_km:
            found.append((km, p["branch"], p))
    found.sort(key=lambda x: (x[0], x[1]))
    return [{"branch": p["branch"], "name": p["name"], "km": round(km, 1), "online": True,
             "waiting": p["waiting"], "services": p["services"]} for km, _, p in found[:limit]]


def neighbour_lists(snapshots: list[tuple[str, Any, bool]]) -> dict[str, list[dict[str, Any]]]:
    """{branch: its neighbours} for every branch with a location, from (branch, latest checked
    queue snapshot, online) as `kiosk.hq.web.live.Live.queue_snapshots` gives them."""
    places = [p for p in (place(*s) for s in snapshots) if p is not None]
    return {p["branch"]: nearest(p, places) for p in places}


def neighbours_doc(neighbours: list[dict[str, Any]], ts: str | None = None) -> dict[str, Any]:
    """The retained ``hq/neighbours`` message of one branch."""
    return {"v": 1, "ts": ts or datetime.now().astimezone().isoformat(timespec="seconds"), "neighbours": neighbours}


class NeighboursPublisher:
    """Publishes every branch's neighbours through ``live.client`` (a thread that wakes every
    ``tick_s``). Nothing is published before HQ has had ``settle_s`` after its state subscription
    to receive the retained snapshots, so a starting HQ does not send lists that miss branches."""

    def __init__(self, live: Any, *, interval_s: float = 30.0, every_s: float = 300.0, tick_s: float = 1.0,
                 settle_s: float = 3.0, clock: Callable[[], float] = time.monotonic) -> None:
        if not 0 < interval_s <= every_s:
            raise ValueError(f"interval_s ({interval_s}) must be > 0 and at most every_s ({every_s})")
        self.live = live
        self.interval_s = interval_s
        self.every_s = every_s
        self.tick_s = tick_s
        self.settle_s = settle_s
        self.clock = clock
        self.sent: dict[str, tuple[list[dict[str, Any]], float]] = {}   # branch -> (list, when)
        self._ready_at: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> NeighboursPublisher:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="hq-neighbours", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.tick_s):
            try:
                self.tick()
            except Exception:  # noqa: BLE001 — a bad round never ends the thread
                log.exception("publishing the branches' neighbours")

    def due(self, lists: dict[str, list[dict[str, Any]]], now: float) -> dict[str, list[dict[str, Any]]]:
        """The lists to publish now; a branch sent before that has no list now gets an empty one."""
        out = {}
        for branch in lists.keys() | self.sent.keys():
            new = lists.get(branch, [])
            last = self.sent.get(branch)
            if last is None or now - last[1] >= self.every_s or (new != last[0] and now - last[1] >= self.interval_s):
                if last is None or branch in lists or last[0]:
                    out[branch] = new
        return out

    def tick(self) -> list[str]:
        """One round: the branches whose list was published."""
        now = self.clock()
        if not self.live.ready() or not self.live.client.is_connected():
            self._ready_at = None
            return []
        if self._ready_at is None:
            self._ready_at = now
        if now - self._ready_at < self.settle_s:
            return []
        done = []
        for branch, neighbours in sorted(self.due(neighbour_lists(self.live.queue_snapshots()), now).items()):
            payload = json.dumps(neighbours_doc(neighbours), ensure_ascii=False, separators=(",", ":"))
            try:
                check_neighbours(payload)     # what the kiosk will check: never send what it refuses
            except HqDataError as exc:
                log.error("the neighbours of %s are not sent: %s", branch, exc)
                continue
            info = self.live.client.publish(f"{self.live.prefix}/{branch}/{KIND}", payload, qos=1, retain=True)
            if info.rc == 0:
                self.sent[branch] = (neighbours, now)
                done.append(branch)
        return done


__all__ = ["KIND", "MAX_NEIGHBOURS", "RADIUS_KM", "NeighboursPublisher", "haversine_km", "nearest",
           "neighbour_lists", "neighbours_doc", "place"]
