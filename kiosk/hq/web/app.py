"""The Starlette application: login, pages, JSON API, server-sent events, HQ commands.

Every path but ``/login``, ``/static/…`` and, when mounted, the phones' public routes
(`kiosk.hq.phone.routes`: ``/t/…``, ``/b``, ``/api/public/…``, ``/phone/static/…``) needs a
signed-in user (`RequireLogin`, an ASGI middleware, so no route can forget it); the role and the
session generation are read from the database on every request, so removing a user, changing a role, a logout elsewhere, a
new password or ``kiosk hq user revoke`` take effect at once — on every node sharing the
database. Sessions are Starlette's signed cookies (itsdangerous), the secret kept in HQ's
database (an SQLite file or PostgreSQL, `kiosk.hq.db`). The figures pages read the rollups
through `kiosk.hq.web.queries` on worker threads. Security headers and CSRF tokens:
`kiosk.hq.web.security`; the HTML: `kiosk.hq.web.pages`.
"""
from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import time
import uuid
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response, \
    StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from kiosk.mqtt import protocol as hq_commands

from kiosk.hq.db import Db, open_db
from kiosk.hq.phone import routes as phone_routes
from kiosk.hq.web import queries
from kiosk.hq.web.auth import Users
from kiosk.hq.web.i18n import LANGS, TEXT
from kiosk.hq.web.live import Live, valid_branch
from kiosk.hq.web.pages import login_html, page_html
from kiosk.hq.web.security import CsrfProtect, SecurityHeaders, csrf_token
from kiosk.hq.web.sse import Hub

STATIC = Path(str(resources.files("kiosk.hq.web") / "static"))
SESSION_MAX_AGE = 12 * 3600
COMMAND_TIMEOUT_S = 10.0
PUBLIC_PREFIXES = ("/static/",)
PUBLIC_PATHS = ("/login",)
MAX_RANGE_DAYS = 366   # the comparison over at most this many days
DAYS_LISTED = 366      # the recorded days offered on the comparison page
EVENTS_SHOWN = 100     # the latest events on a branch's page
_DAY_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _static_version() -> str:
    h = hashlib.sha256()
    for p in sorted(STATIC.glob("*")):
        h.update(p.read_bytes())
    return h.hexdigest()[:10]


class RequireLogin:
    """ASGI middleware: no page or API without a signed-in user whose account still exists."""

    def __init__(self, app: ASGIApp, users: Users, public_prefixes: tuple[str, ...] = PUBLIC_PREFIXES,
                 public_paths: tuple[str, ...] = PUBLIC_PATHS) -> None:
        self.app = app
        self.users = users
        self.public_prefixes = public_prefixes
        self.public_paths = public_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path in self.public_paths or path.startswith(self.public_prefixes):
            await self.app(scope, receive, send)
            return
        session = scope.get("session") or {}
        name, generation = session.get("user"), session.get("gen")
        role = await asyncio.to_thread(self.users.session_role, name, generation)  # a database read: off the loop
        if role is None:
            if path.startswith("/api/"):
                resp: Response = JSONResponse({"error": "unauthorized", "message": "sign in first"}, 401)
            else:
                qs = scope.get("query_string", b"").decode("latin-1")
                target = path + ("?" + qs if qs else "")
                resp = RedirectResponse("/login?next=" + quote(target, safe=""), 303)
            await resp(scope, receive, send)
            return
        scope["hq_user"] = {"name": name, "role": role}
        scope["hq_generation"] = generation
        await self.app(scope, receive, send)


def _lang(request: Request) -> str:
    q = request.query_params.get("lang")
    if q in LANGS:
        return q
    c = request.cookies.get("hq_lang")
    if c in LANGS:
        return c
    accept = request.headers.get("accept-language", "")
    return "zh" if accept.lower().startswith("zh") else "en"


class BadParam(ValueError):
    """A query parameter that is missing or wrong: answered 400, naming it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message

    def response(self) -> Response:
        return JSONResponse({"error": f"bad_{self.field}", "field": self.field, "message": self.message}, 400)


def date_param(request: Request, field: str, default: str | None = None) -> str:
    """The query parameter `field` as a YYYY-MM-DD date (`default` when absent)."""
    text = request.query_params.get(field)
    if not text:
        if default is not None:
            return default
        raise BadParam(field, f"{field} is missing: give a date YYYY-MM-DD")
    if not _DAY_RE.fullmatch(text):
        raise BadParam(field, f"{field} must be a date YYYY-MM-DD")
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise BadParam(field, f"{field} is not a date of the calendar") from None


def date_range(request: Request) -> tuple[str, str]:
    """``from`` and ``to`` (both included): in order and at most `MAX_RANGE_DAYS` days."""
    first, last = date_param(request, "from"), date_param(request, "to")
    n = (date.fromisoformat(last) - date.fromisoformat(first)).days + 1
    if n < 1:
        raise BadParam("to", "to is before from")
    if n > MAX_RANGE_DAYS:
        raise BadParam("to", f"from … to spans {n} days: at most {MAX_RANGE_DAYS}")
    return first, last


def _with_lang(request: Request, resp: Response) -> Response:
    q = request.query_params.get("lang")
    if q in LANGS:
        resp.set_cookie("hq_lang", q, max_age=365 * 86400, samesite="lax")
    return resp


class Dashboard:
    """The web app over `live` (the MQTT side), `users` and HQ's database `db` (a `Db`, shared with
    the recorder; a path or URL is opened here and closed when the app stops); `phone`: the
    phones' public routes (`kiosk.hq.phone.routes.PhoneRoutes`), with `phone_extra` (the notices'
    routes) among them."""

    def __init__(self, live: Live, users: Users, db: Db | str | Path, *, push_ms: float = 250,
                 secure_cookie: bool = False, gap_repair: Any = None, phone: Any = None,
                 phone_extra: list[Any] | None = None) -> None:
        self.live = live
        self.users = users
        self.gap_repair = gap_repair   # kiosk.hq.gaps.GapRepair, for /api/stats
        self._owns_db = not isinstance(db, Db)
        self.db = open_db(db) if self._owns_db else db
        queries.ensure_schema(self.db)
        self.hub = Hub(live, push_ms / 1000.0)
        self.version = _static_version()
        live.on_reply = self._on_reply
        self.phone: phone_routes.PhoneRoutes | None = phone
        public = phone.routes(phone_extra) if phone is not None else []
        public_prefixes = PUBLIC_PREFIXES + (phone_routes.PUBLIC_PREFIXES if phone is not None else ())
        public_paths = PUBLIC_PATHS + (phone_routes.PUBLIC_PATHS if phone is not None else ())
        self.app = Starlette(
            routes=[
                *public,
                Route("/login", self.login, methods=["GET", "POST"]),
                Route("/logout", self.logout, methods=["POST"]),
                Route("/", self.page_list),
                Route("/branch/{branch:path}", self.page_branch),
                Route("/compare", self.page_compare),
                Route("/api/me", self.api_me),
                Route("/api/branches", self.api_branches),
                Route("/api/stats", self.api_stats),
                Route("/api/stream", self.api_stream),
                Route("/api/compare", self.api_compare),
                Route("/api/days", self.api_days),
                Route("/api/branch/{branch}", self.api_branch),
                Route("/api/branch/{branch}/day", self.api_branch_day),
                Route("/api/branch/{branch}/commands", self.api_commands),
                Route("/api/branch/{branch}/cmd/{name}", self.api_command, methods=["POST"]),
                Mount("/static", StaticFiles(directory=str(STATIC)), name="static"),
            ],
            middleware=[
                Middleware(SecurityHeaders),
                Middleware(SessionMiddleware, secret_key=users.secret(), session_cookie="hq_session",
                           max_age=SESSION_MAX_AGE, same_site="lax", https_only=secure_cookie),
                Middleware(RequireLogin, users=users, public_prefixes=public_prefixes, public_paths=public_paths),
                Middleware(CsrfProtect, exempt_prefixes=phone_routes.PUBLIC_PREFIXES if phone is not None else ()),
            ],
            lifespan=self._lifespan,
        )

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Starlette):  # noqa: ANN202
        self.hub.start()
        if self.phone is not None:
            self.phone.start()
        try:
            yield
        finally:
            if self.phone is not None:
                self.phone.close()
            await self.hub.stop()
            if self._owns_db:
                self.db.close()

    async def _query(self, fn: Any, *args: Any) -> Any:
        """``fn(conn, *args)`` of `kiosk.hq.web.queries` on a worker thread, with a connection of its own."""
        def run() -> Any:
            with self.db.connection() as conn:
                return fn(conn, *args)
        return await asyncio.to_thread(run)

    def _on_reply(self, cmd_id: str, reply: dict[str, Any]) -> None:
        self.users.log_reply(cmd_id, "ok" if reply.get("ok") else "error", reply)

    # -- pages ----------------------------------------------------------------------------------
    def _page(self, request: Request, kind: str, title: str, extra: dict[str, Any] | None = None) -> Response:
        lang = _lang(request)
        t = TEXT[lang]
        user = request.scope["hq_user"]
        csrf = csrf_token(request.session)
        cfg = {"page": kind, "lang": lang, "text": t, "user": user, "csrf": csrf, **(extra or {})}
        body = page_html(kind=kind, lang=lang, t=t, title=title, user=user, csrf=csrf, version=self.version,
                         config=cfg)
        return _with_lang(request, HTMLResponse(body))

    async def login(self, request: Request) -> Response:
        lang = _lang(request)
        t = TEXT[lang]
        nxt = request.query_params.get("next") or "/"
        error = ""
        status = 200
        headers: dict[str, str] = {}
        if request.method == "POST":
            form = await request.form()
            name = str(form.get("name") or "")[:64]
            password = str(form.get("password") or "")[:1024]
            nxt = str(form.get("next") or "/")
            address = request.client.host if request.client else None
            result = await asyncio.to_thread(self.users.sign_in, name, password, address)
            if result.role is not None:
                request.session.clear()  # a new session: new CSRF token, nothing of the anonymous one
                request.session["user"] = name
                request.session["gen"] = result.generation
                request.session["since"] = int(time.time())
                csrf_token(request.session)
                safe = nxt if nxt.startswith("/") and not nxt.startswith("//") and "\\" not in nxt else "/"
                return RedirectResponse(safe, 303)
            if result.lockout is not None:
                wait = max(1, int(result.lockout.retry_after_s + 0.999))
                at = datetime.fromtimestamp(time.time() + wait).strftime("%H:%M:%S")
                error = t["locked_" + result.lockout.scope].format(s=wait, at=at)
                status, headers = 429, {"Retry-After": str(wait)}
            else:
                error, status = t["bad_login"], 401
        body = login_html(lang=lang, t=t, next_path=nxt, next_q=quote(nxt, safe=""), error=error,
                          csrf=csrf_token(request.session), version=self.version)
        return _with_lang(request, HTMLResponse(body, status, headers=headers))

    async def logout(self, request: Request) -> Response:
        """Sign out everywhere: every session of this user ends (the generation moves on)."""
        await asyncio.to_thread(self.users.revoke, request.scope["hq_user"]["name"])
        request.session.clear()
        return RedirectResponse("/login", 303)

    async def page_list(self, request: Request) -> Response:
        return self._page(request, "list", TEXT[_lang(request)]["branches"])

    async def page_branch(self, request: Request) -> Response:
        branch = request.path_params["branch"]
        if not valid_branch(branch):
            return PlainTextResponse("no such branch", 404)
        return self._page(request, "branch", branch, {"branch": branch})

    async def page_compare(self, request: Request) -> Response:
        return self._page(request, "compare", TEXT[_lang(request)]["compare"])

    # -- API ------------------------------------------------------------------------------------
    async def api_me(self, request: Request) -> Response:
        return JSONResponse(request.scope["hq_user"])

    async def api_branches(self, request: Request) -> Response:
        return JSONResponse({"rows": self.live.rows(), "totals": self.live.ingest_totals()})

    async def api_stats(self, request: Request) -> Response:
        out = {**self.live.ingest_totals(), "sse_clients": len(self.hub.clients),
               "sse_ticks": self.hub.ticks, "sse_last_tick_ms": round(self.hub.last_tick_ms, 2)}
        if self.gap_repair is not None:
            g = self.gap_repair.snapshot()
            out["gap_repair"] = {k: g[k] for k in ("leader", "ticks", "asks_sent", "open_gaps", "missing", "error")}
        return JSONResponse(out)

    async def api_stream(self, request: Request) -> Response:
        branch = request.query_params.get("branch") or None
        if branch is not None and not valid_branch(branch):
            return JSONResponse({"error": "bad_branch"}, 400)
        name, generation = request.scope["hq_user"]["name"], request.scope["hq_generation"]
        allowed = lambda: self.users.session_role(name, generation) is not None  # noqa: E731
        return StreamingResponse(self.hub.stream(branch, request.is_disconnected, allowed),
                                 media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    async def api_days(self, request: Request) -> Response:
        return JSONResponse({"days": await self._query(queries.days, DAYS_LISTED)})

    async def api_compare(self, request: Request) -> Response:
        """One row per branch: of one day (``?day=``, today by default) or summed over ``?from=&to=``."""
        params = request.query_params
        try:
            if "from" in params or "to" in params:
                if "day" in params:
                    raise BadParam("day", "give day, or from and to, not both")
                first, last = date_range(request)
                rows = await self._query(queries.compare_days, first, last)
                n = (date.fromisoformat(last) - date.fromisoformat(first)).days + 1
                return JSONResponse({"from": first, "to": last, "days": n, "rows": rows})
            day = date_param(request, "day", date.today().isoformat())
        except BadParam as exc:
            return exc.response()
        return JSONResponse({"day": day, "rows": await self._query(queries.compare_day, day)})

    async def api_branch(self, request: Request) -> Response:
        branch = request.path_params["branch"]
        d = self.live.branch_detail(branch) if valid_branch(branch) else None
        if d is None:
            return JSONResponse({"error": "unknown_branch", "message": f"no branch {branch!r} seen"}, 404)
        return JSONResponse(d)

    async def api_branch_day(self, request: Request) -> Response:
        branch = request.path_params["branch"]
        if not valid_branch(branch):
            return JSONResponse({"error": "bad_branch", "field": "branch", "message": "not a branch id"}, 400)
        try:
            day = date_param(request, "day", date.today().isoformat())
        except BadParam as exc:
            return exc.response()
        out = await self._query(queries.branch_day, branch, day)
        out["events"] = await self._query(queries.recent_events, branch, EVENTS_SHOWN)
        return JSONResponse(out)

    async def api_commands(self, request: Request) -> Response:
        branch = request.path_params["branch"]
        return JSONResponse({"commands": await asyncio.to_thread(self.users.commands, branch, 30)})

    async def api_command(self, request: Request) -> Response:
        user = request.scope["hq_user"]
        branch, name = request.path_params["branch"], request.path_params["name"]
        if user["role"] != "operator":
            if name in hq_commands.SCHEMAS and valid_branch(branch):
                await asyncio.to_thread(self.users.log_command, uuid.uuid4().hex, user["name"], user["role"], branch,
                                        name, None, "refused")
            return JSONResponse({"error": "forbidden", "message": f"the role {user['role']!r} may not send commands"},
                                403)
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return JSONResponse({"error": "bad_request", "message": "send application/json"}, 415)
        if not valid_branch(branch) or not self.live.known(branch):
            return JSONResponse({"error": "unknown_branch", "message": f"no branch {branch!r} seen"}, 404)
        try:
            args = await request.json()
        except ValueError:
            args = None
        if not isinstance(args, dict):
            return JSONResponse({"error": "bad_json", "message": "send a JSON object"}, 400)
        try:
            cmd = self.live.validate(branch, name, args)
        except hq_commands.CommandError as exc:
            return JSONResponse({"error": exc.code, "message": exc.message}, 400)
        cmd_id = uuid.uuid4().hex
        await asyncio.to_thread(self.users.log_command, cmd_id, user["name"], user["role"], branch, cmd.name, cmd.args,
                                "sent")
        _, fut = self.live.send(branch, cmd.name, cmd.args, cmd_id)
        try:
            reply = await asyncio.wait_for(asyncio.wrap_future(fut), COMMAND_TIMEOUT_S)
        except asyncio.TimeoutError:
            await asyncio.to_thread(self.users.log_reply, cmd_id, "timeout", None)
            return JSONResponse({"id": cmd_id, "status": "timeout", "message": "no reply from the kiosk"}, 504)
        except ConnectionError as exc:
            self.live.forget(cmd_id)
            await asyncio.to_thread(self.users.log_reply, cmd_id, "failed", {"error": str(exc)})
            return JSONResponse({"id": cmd_id, "status": "failed", "message": str(exc)}, 503)
        return JSONResponse({"id": cmd_id, "status": "ok" if reply.get("ok") else "error", "reply": reply})


def create_app(live: Live, users: Users, db: Db | str | Path, **kw: Any) -> Starlette:
    return Dashboard(live, users, db, **kw).app


__all__ = ["MAX_RANGE_DAYS", "BadParam", "Dashboard", "RequireLogin", "create_app", "date_param", "date_range"]
