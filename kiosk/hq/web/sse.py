"""Server-sent events with coalescing.

One `Hub` task wakes every ``interval_s`` (default 0.25 s), takes the set of branches that
changed since (`Live.take_dirty`), builds their rows once and merges them into every
client's pending dict (keyed by branch, so ten updates of one branch become one). Each
client's stream sends its pending rows when woken, so a page gets at most one push per
interval, and a slow page gets fewer, larger pushes instead of a backlog. A page that
watches one branch also gets that branch's detail (queue snapshot, alert, recent events).
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from kiosk.hq.web.live import Live

log = logging.getLogger(__name__)

KEEPALIVE_S = 15.0
ALLOWED_CHECK_S = 5.0


def _frame(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False, separators=(',', ':'))}\n\n"


class Client:
    def __init__(self, branch: str | None) -> None:
        self.branch = branch
        self.rows: dict[str, dict[str, Any]] = {}
        self.frame: str | None = None  # the tick's shared frame, when nothing else was pending
        self.frame_rows: dict[str, dict[str, Any]] | None = None
        self.detail_due = False
        self.wake = asyncio.Event()
        self.pushes = 0


class Hub:
    def __init__(self, live: Live, interval_s: float = 0.25) -> None:
        self.live = live
        self.interval_s = interval_s
        self.clients: set[Client] = set()
        self.ticks = 0
        self.last_tick_ms = 0.0
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="hq-sse-hub")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        for c in list(self.clients):
            c.wake.set()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                self.tick()
            except Exception:  # noqa: BLE001
                log.exception("SSE hub tick")

    def tick(self) -> None:
        dirty = self.live.take_dirty()
        if not dirty or not self.clients:
            return
        t0 = time.perf_counter()
        rows = {r["branch"]: r for r in self.live.rows(dirty)}
        shared: str | None = None
        for c in self.clients:
            if not c.rows and c.frame is None:
                # the usual case: the page took its last push, so it gets the frame every other
                # such page gets, serialised once per tick
                if shared is None:
                    shared = _frame("rows", {"rows": list(rows.values()), "totals": self.live.ingest_totals(),
                                             "server_ms": time.time() * 1000})
                c.frame, c.frame_rows = shared, rows
            else:  # a page still sending: merge into its own pending rows (coalesced by branch)
                if c.frame is not None:
                    c.rows.update(c.frame_rows or {})
                    c.frame = c.frame_rows = None
                c.rows.update(rows)
            if c.branch is not None and c.branch in dirty:
                c.detail_due = True
            c.wake.set()
        self.ticks += 1
        self.last_tick_ms = (time.perf_counter() - t0) * 1000

    async def stream(self, branch: str | None, is_disconnected, allowed=None) -> AsyncIterator[str]:  # noqa: ANN001
        """The frames for one page; ends when the page goes, the server stops, or `allowed()`
        turns false (checked every few seconds: a removed user's open pages stop updating)."""
        c = Client(branch)
        checked = time.monotonic()
        self.clients.add(c)
        try:
            yield "retry: 2000\n\n"
            yield _frame("full", {"rows": self.live.rows(), "totals": self.live.ingest_totals(),
                                  "server_ms": time.time() * 1000})
            if branch is not None:
                yield _frame("detail", self.live.branch_detail(branch))
            while True:
                try:
                    await asyncio.wait_for(c.wake.wait(), KEEPALIVE_S)
                except asyncio.TimeoutError:
                    if await is_disconnected() or (allowed is not None and not await asyncio.to_thread(allowed)):
                        return
                    yield ": keepalive\n\n"
                    continue
                c.wake.clear()
                if self._task is None or self._task.done():
                    return  # shutting down
                if allowed is not None and time.monotonic() - checked > ALLOWED_CHECK_S:
                    checked = time.monotonic()
                    if not await asyncio.to_thread(allowed):   # a database read: off the event loop
                        yield _frame("logout", {})
                        return
                if c.frame is not None:
                    frame, c.frame, c.frame_rows = c.frame, None, None
                    c.pushes += 1
                    yield frame
                elif c.rows:
                    rows, c.rows = list(c.rows.values()), {}
                    c.pushes += 1
                    yield _frame("rows", {"rows": rows, "totals": self.live.ingest_totals(),
                                          "server_ms": time.time() * 1000})
                if c.detail_due:
                    c.detail_due = False
                    yield _frame("detail", self.live.branch_detail(branch))
        finally:
            self.clients.discard(c)
