"""The public routes of the customers' phones (no login, no cookie; `kiosk.hq.web.app` exempts
`PUBLIC_PREFIXES` and `PUBLIC_PATHS` from its sign-in and CSRF checks, and keeps its security
headers and strict Content-Security-Policy on them).

* ``GET /t/{token}`` — the follow page (HTML, `kiosk.hq.phone.pages.follow_page`), or with
  ``Accept: application/json`` the ticket's view (`kiosk.hq.phone.views`). A token that cannot
  be one and a token whose key is unknown or expired get the same plain ``404 not found``; so
  does any other path under ``/t/`` (nothing of the branch or of HQ is reachable through it).
* ``GET /t/{token}/events`` — server-sent events: ``event: ticket`` with the view on connect
  and on every change, ``: keepalive`` every `KEEPALIVE_S`, ``event: expired`` (then the end)
  when the ticket is gone. `Followers` keeps one `asyncio.Event` per open stream, woken by key
  from the index's subscriber (MQTT thread → one `call_soon_threadsafe` per batch): no polling.
* ``GET /b`` — the public branch page; ``GET /api/public/branches`` — `kiosk.hq.phone.branches`.
* ``POST /api/public/{branch}/tickets`` — a remote ticket (`kiosk.hq.phone.remote`).
* ``/phone/static/…`` — the pages' scripts and styles; ``GET /t/sw.js`` — their service worker.
"""
from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, Response, \
    StreamingResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from kiosk.hq.phone.branches import public_branches
from kiosk.hq.phone.follow_index import FollowIndex, key_of
from kiosk.hq.phone.remote import RemoteTickets
from kiosk.hq.ingest.topic import valid_branch
from kiosk.hq.web.live import Live

STATIC = Path(str(resources.files("kiosk.hq.phone") / "static"))
PUBLIC_PREFIXES = ("/t/", "/phone/static/", "/api/public/")
PUBLIC_PATHS = ("/b",)
KEEPALIVE_S = 15.0
BRANCHES_CACHE_S = 1.0
TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
NOT_FOUND = "not found"


def token_key(token: str) -> str | None:
    """The key of a token that can be one (22 characters of ``[A-Za-z0-9_-]``), else None."""
    if len(token) != 22 or not TOKEN_CHARS.issuperset(token):
        return None
    return key_of(token)


def not_found() -> Response:
    return PlainTextResponse(NOT_FOUND, 404)


def _frame(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False, separators=(',', ':'))}\n\n"


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _lang(request: Request) -> str:
    from kiosk.hq.phone.pages import pick_lang
    return pick_lang(request.query_params.get("lang"), request.headers.get("accept-language"))


class Followers:
    """The open follow streams, by key: each stream waits on its own `asyncio.Event`; a change
    of a key (reported on the MQTT thread) sets the events of that key's streams only."""

    def __init__(self, index: FollowIndex) -> None:
        self.index = index
        self.streams: dict[str, set[asyncio.Event]] = {}
        self._changed: set[str] = set()
        self._changed_lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._unsubscribe = index.subscribe(self._on_change)

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._ticker = loop.call_later(KEEPALIVE_S, self._keepalive)

    def close(self) -> None:
        self._unsubscribe()
        ticker = getattr(self, "_ticker", None)
        if ticker is not None:
            ticker.cancel()

    def _keepalive(self) -> None:
        """Every `KEEPALIVE_S`: wake every stream (one that finds no change sends a keep-alive); one
        timer for all, not a timeout per stream and wake."""
        for streams in self.streams.values():
            for ev in streams:
                ev.set()
        assert self._loop is not None
        self._ticker = self._loop.call_later(KEEPALIVE_S, self._keepalive)

    def __len__(self) -> int:
        return sum(len(s) for s in self.streams.values())

    def _on_change(self, key: str, view: dict[str, Any] | None) -> None:
        """MQTT thread: note the key; the loop is asked once per batch of changes."""
        loop = self._loop
        if loop is None:
            return
        with self._changed_lock:
            first = not self._changed
            self._changed.add(key)
        if first:
            try:
                loop.call_soon_threadsafe(self._wake)
            except RuntimeError:   # the loop has closed: the server is stopping
                pass

    def _wake(self) -> None:
        with self._changed_lock:
            keys, self._changed = self._changed, set()
        for key in keys:
            for ev in self.streams.get(key, ()):
                ev.set()

    async def stream(self, key: str) -> AsyncIterator[str]:
        ev = asyncio.Event()
        self.streams.setdefault(key, set()).add(ev)
        try:
            sent = self.index.view(key)
            if sent is None:
                yield _frame("expired", {})
                return
            yield _frame("ticket", sent)
            while True:
                await ev.wait()
                ev.clear()
                view = self.index.view(key)
                if view is None:
                    yield _frame("expired", {})
                    return
                if view != sent:
                    sent = view
                    yield _frame("ticket", view)
                else:
                    yield ": keepalive\n\n"
        finally:
            streams = self.streams.get(key)
            if streams is not None:
                streams.discard(ev)
                if not streams:
                    del self.streams[key]


class PhoneRoutes:
    """The public routes over `live` (its `follow` index and branches) and `remote`."""

    def __init__(self, live: Live, remote: RemoteTickets) -> None:
        self.live = live
        self.index = live.follow
        self.remote = remote
        self.followers = Followers(self.index)
        self._branches: tuple[float, bytes] | None = None
        STATIC.mkdir(exist_ok=True)

    def routes(self, extra: list[BaseRoute] | None = None) -> list[BaseRoute]:
        """The public routes; `extra` (the notices' routes) before the catch-all 404 under ``/t/``."""
        return [
            Route("/t/sw.js", self.service_worker),
            Route("/t/{token}", self.follow),
            Route("/t/{token}/events", self.events),
            *(extra or []),
            Route("/t/{rest:path}", self.nothing, methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]),
            Route("/b", self.branches_page),
            Route("/api/public/branches", self.branches),
            Route("/api/public/{branch}/tickets", self.take_ticket, methods=["POST"]),
            Mount("/phone/static", StaticFiles(directory=str(STATIC)), name="phone-static"),
        ]

    def start(self) -> None:
        """On the web's event loop, before serving."""
        self.followers.attach(asyncio.get_running_loop())

    def close(self) -> None:
        self.followers.close()

    def _view(self, request: Request) -> tuple[str, dict[str, Any]] | None:
        key = token_key(request.path_params["token"])
        view = self.index.view(key) if key is not None else None
        return None if view is None else (key, view)

    async def follow(self, request: Request) -> Response:
        found = self._view(request)
        if found is None:
            return not_found()
        if _wants_json(request):
            return JSONResponse(found[1])
        from kiosk.hq.phone.pages import follow_page
        return HTMLResponse(follow_page(_lang(request)))

    async def events(self, request: Request) -> Response:
        found = self._view(request)
        if found is None:
            return not_found()
        return StreamingResponse(self.followers.stream(found[0]), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    async def nothing(self, request: Request) -> Response:
        return not_found()

    async def service_worker(self, request: Request) -> Response:
        path = STATIC / "sw.js"
        if not path.is_file():
            return not_found()
        return FileResponse(path, media_type="text/javascript", headers={"Service-Worker-Allowed": "/t/"})

    async def branches_page(self, request: Request) -> Response:
        from kiosk.hq.phone.pages import branches_page
        return HTMLResponse(branches_page(_lang(request)))

    async def branches(self, request: Request) -> Response:
        now = asyncio.get_running_loop().time()
        if self._branches is None or now - self._branches[0] > BRANCHES_CACHE_S:
            rows = public_branches(self.live.queue_snapshots())
            body = json.dumps({"branches": rows}, ensure_ascii=False, separators=(",", ":")).encode()
            self._branches = (now, body)
        return Response(self._branches[1], media_type="application/json")

    async def take_ticket(self, request: Request) -> Response:
        branch = request.path_params["branch"]
        if not valid_branch(branch):
            return JSONResponse({"error": "unknown_branch", "message": "not a branch id"}, 404)
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
            return JSONResponse({"error": "bad_request", "message": "send application/json"}, 415)
        try:
            body = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError, RecursionError):
            return JSONResponse({"error": "bad_json", "message": "the body is not JSON"}, 400)
        address = request.client.host if request.client else "unknown"
        answer = await self.remote.take(branch, body, address)
        headers = {"Retry-After": str(int(answer.retry_after_s) + 1)} if answer.retry_after_s is not None else None
        return JSONResponse(answer.body, answer.status, headers=headers)


__all__ = ["KEEPALIVE_S", "PUBLIC_PATHS", "PUBLIC_PREFIXES", "Followers", "PhoneRoutes", "not_found", "token_key"]
