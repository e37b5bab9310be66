"""The hall's state live over server-sent events.

Every committed event of the kiosk marks the hall changed (a call from the core thread that
only sets a flag); one task then waits `interval_s` more (so a burst of events is one push),
reads the snapshot once and hands the same frame to every open stream (with no stream open it
reads nothing: the snapshot is taken on the core thread, where the counters' calls wait). A slow page misses
intermediate states, never the latest one. A stream ends when the page goes, the server stops
or its token is no longer valid (checked at every push and keep-alive).
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from kiosk.lan.port import HallPort

log = logging.getLogger(__name__)

KEEPALIVE_S = 15.0
_SHOWN = ("ts", "day", "waiting", "open_counters", "services", "counters", "alert", "devices")


def hall_view(snapshot: dict[str, Any]) -> dict[str, Any]:
    """What the pages show of the snapshot (`kiosk.engine.readmodel.snapshot`): waiting per
    service with the longest wait, the counters, the alert with its suggested staffing, faults."""
    return {k: snapshot.get(k) for k in _SHOWN}


def frame(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False, separators=(',', ':'))}\n\n"


class _Client:
    def __init__(self) -> None:
        self.frame: str | None = None
        self.wake = asyncio.Event()


class HallFeed:
    def __init__(self, port: HallPort, interval_s: float = 0.25) -> None:
        self.port = port
        self.interval_s = interval_s
        self.clients: set[_Client] = set()
        self.pushes = 0
        self._latest: str | None = None
        self._stale = False     # the hall changed while nobody watched
        self._dirty: asyncio.Event | None = None
        self._task: asyncio.Task | None = None
        self._unsubscribe: Callable[[], None] | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        dirty = self._dirty = asyncio.Event()
        dirty.set()  # the first snapshot

        def on_event(_ev: dict[str, Any]) -> None:  # core thread: set a flag, nothing more
            if not loop.is_closed():
                loop.call_soon_threadsafe(dirty.set)
        self._unsubscribe = await asyncio.to_thread(self.port.subscribe, on_event)
        self._task = loop.create_task(self._run(), name="lan-hall-feed")

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            await asyncio.to_thread(self._unsubscribe)
            self._unsubscribe = None
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        for c in list(self.clients):
            c.wake.set()

    def wake_all(self) -> None:
        """Every stream checks its token now (after a sign-out), on the event loop's thread."""
        for c in list(self.clients):
            c.wake.set()

    async def _run(self) -> None:
        assert self._dirty is not None
        while True:
            await self._dirty.wait()
            await asyncio.sleep(self.interval_s)
            self._dirty.clear()
            if not self.clients:
                # nobody watching: no snapshot (it runs on the core thread, where the calls wait);
                # the next page to open asks for a fresh one
                self._stale = True
                continue
            self._stale = False
            try:
                snap = await asyncio.wrap_future(self.port.read_snapshot())
            except Exception:  # noqa: BLE001 — a failed read is logged; the next event tries again
                log.exception("hall snapshot for the live pages")
                continue
            self._latest = frame("hall", {**hall_view(snap), "server_ms": time.time() * 1000})
            for c in self.clients:
                c.frame = self._latest
                c.wake.set()
            self.pushes += 1

    async def stream(self, is_disconnected: Callable[[], Awaitable[bool]],
                     allowed: Callable[[], bool]) -> AsyncIterator[str]:
        c = _Client()
        self.clients.add(c)
        if self._stale and self._dirty is not None:
            self._dirty.set()
        try:
            yield "retry: 2000\n\n"
            if self._latest is not None:
                yield self._latest
            while True:
                try:
                    await asyncio.wait_for(c.wake.wait(), KEEPALIVE_S)
                except asyncio.TimeoutError:
                    if await is_disconnected():
                        return
                    if not allowed():
                        yield frame("signed_out", {})
                        return
                    yield ": keepalive\n\n"
                    continue
                c.wake.clear()
                if self._task is None or self._task.done():
                    return  # shutting down
                if not allowed():
                    yield frame("signed_out", {})
                    return
                if c.frame is not None:
                    out, c.frame = c.frame, None
                    yield out
        finally:
            self.clients.discard(c)
