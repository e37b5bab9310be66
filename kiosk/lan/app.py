"""The hall web app: the pages /caller and /floor, their static files and the JSON API
(`kiosk.lan.api`), with in front of it the security headers (`kiosk.lan.security`), the body
limit (`kiosk.webkit.http_limits`, JSON refusals) and the sign-in throttle (`kiosk.lan.signin`)."""
from __future__ import annotations

import contextlib
import hashlib
from importlib import resources
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from kiosk.lan.api import HallApi
from kiosk.lan.i18n import TEXT, lang_of
from kiosk.lan.live import HallFeed
from kiosk.lan.pages import page_html
from kiosk.lan.port import HallPort
from kiosk.lan.security import SecurityHeaders
from kiosk.lan.signin import SignIn, SignInGate, open_throttle
from kiosk.lan.tokens import TokenBook
from kiosk.webkit.http_limits import BodyLimit, ServerLimits
from kiosk.webkit.throttle import SignInThrottle

LIMITS = ServerLimits(max_connections=128, max_connections_per_address=32, max_body_bytes=16 * 1024)
"""What one client may hold of the hall web app (`kiosk.lan.server.LanServer` applies the rest)."""

STATIC = Path(str(resources.files("kiosk.lan") / "static"))


def _static_version() -> str:
    h = hashlib.sha256()
    for p in sorted(STATIC.glob("*")):
        h.update(p.read_bytes())
    return h.hexdigest()[:10]


class HallWeb:
    """The app over a running kiosk (`port`); `tokens`, `signin` and `throttle` may be given by a test."""

    def __init__(self, port: HallPort, *, push_ms: float = 250, tokens: TokenBook | None = None,
                 signin: SignIn | None = None, throttle: SignInThrottle | None = None,
                 limits: ServerLimits = LIMITS) -> None:
        cfg = port.settings.lan
        self.port = port
        self.tokens = tokens or TokenBook(cfg.device_tokens, cfg.session_hours * 3600)
        self.signin = signin or SignIn(port.settings.ui.admin_pin_hash, port.data_dir)
        self.throttle = throttle or open_throttle(port.data_dir)
        self.feed = HallFeed(port, push_ms / 1000.0)
        self.api = HallApi(port, self.tokens, self.signin, self.feed)
        self.version = _static_version()
        self.app = Starlette(
            routes=[Route("/", self.home), Route("/caller", self.page), Route("/floor", self.page),
                    *self.api.routes(), Mount("/static", StaticFiles(directory=str(STATIC)), name="static")],
            middleware=[Middleware(SecurityHeaders), Middleware(BodyLimit, limits=limits, json_errors=True),
                        Middleware(SignInGate, throttle=self.throttle)],
            lifespan=self._lifespan,
        )

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Starlette):  # noqa: ANN202
        await self.feed.start()
        try:
            yield
        finally:
            await self.feed.stop()
            self.signin.close()
            self.throttle.close()

    async def home(self, request: Request) -> Response:
        return RedirectResponse("/floor", 303)

    async def page(self, request: Request) -> Response:
        kind = request.url.path.strip("/")
        lang = lang_of(request.query_params.get("lang"), request.headers.get("accept-language", ""))
        return HTMLResponse(page_html(kind=kind, lang=lang, t=TEXT[lang], settings=self.port.settings,
                                      version=self.version))


def create_app(port: HallPort, **kw: Any) -> Starlette:
    return HallWeb(port, **kw).app
