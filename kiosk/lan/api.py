"""The JSON API of the hall web app (the endpoints are listed in `HallApi.routes`).

Staff sign in (`POST /api/session`) and get a Bearer token; the counter endpoints act at the
signed-in clerk's counter only; `POST /api/tickets` also takes a device token. Every body is
read strictly (`kiosk.lan.inputs`); every state-changing request is logged with who made it.
"""
from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from kiosk.domain.model import CallResult
from kiosk.lan import inputs as inp
from kiosk.lan.guard import acting_counter, at_param, audit, bearer, core, known_counter, who
from kiosk.lan.inputs import BadInput
from kiosk.lan.live import HallFeed, hall_view
from kiosk.lan.port import HallPort
from kiosk.lan.qr import qr_data_url
from kiosk.lan.signin import Refused, SignIn
from kiosk.lan.tokens import CLERK, DEVICE, MANAGER, Principal, TokenBook

Handler = Callable[[Request], Awaitable[Response]]
_TICKET_KEYS = ("number", "service", "state", "priority", "counter", "issued_wall", "called_wall", "recalls",
                "note", "form", "assisted", "clerk")


def _refusals(fn: Handler) -> Handler:
    async def run(request: Request) -> Response:
        try:
            return await fn(request)
        except BadInput as exc:
            return exc.response()
    return run


def _call_out(r: CallResult | None, counter: int) -> dict[str, Any]:
    if r is None:
        return {"ticket": None, "counter": counter}
    return {"ticket": r.ticket, "counter": r.counter, "service": r.service, "wait_s": round(r.wait_s, 1)}


class HallApi:
    def __init__(self, port: HallPort, tokens: TokenBook, signin: SignIn, feed: HallFeed) -> None:
        self.port = port
        self.settings = port.settings
        self.tokens = tokens
        self.signin = signin
        self.feed = feed

    def routes(self) -> list[Route]:
        r = _refusals
        return [
            Route("/api/session", r(self.session_open), methods=["POST"]),
            Route("/api/session", r(self.session_close), methods=["DELETE"]),
            Route("/api/counter", r(self.counter_view), methods=["GET"]),
            Route("/api/counter/call", r(self.call), methods=["POST"]),
            *[Route(f"/api/counter/{name}", r(self._simple(name)), methods=["POST"])
              for name in ("recall", "noshow", "start", "finish", "open", "close")],
            Route("/api/counter/transfer", r(self.transfer), methods=["POST"]),
            Route("/api/counter/pause", r(self.pause), methods=["POST"]),
            Route("/api/tickets", r(self.issue), methods=["POST"]),
            Route("/api/hall", r(self.hall), methods=["GET"]),
            Route("/api/stream", r(self.stream), methods=["GET"]),
        ]

    # -- sessions -----------------------------------------------------------------------------
    async def session_open(self, request: Request) -> Response:
        body = await inp.json_body(request, ("clerk", "pin", "counter", "manager"))
        manager = inp.flag(body, "manager", False)
        counter = known_counter(self.settings, inp.integer(body, "counter", 1, 999, what="a counter number"),
                                "counter")
        pin = inp.pin(body)
        address = request.client.host if request.client else "?"
        try:
            if manager:
                if "clerk" in body:
                    raise BadInput("clerk", "the manager signs in with the admin PIN, without a clerk ID")
                await asyncio.to_thread(self.signin.manager, pin)
                p = Principal(MANAGER, "manager", None, counter)
            else:
                clerk = inp.text(body, "clerk", inp.CLERK_RE, required=True, max_len=16,
                                 what="a clerk ID (1–16 of A–Z a–z 0–9 _ -)")
                assert clerk is not None
                name = await asyncio.to_thread(self.signin.clerk, clerk, pin)
                p = Principal(CLERK, name, clerk, counter)
        except Refused as exc:
            audit(Principal("anonymous", address), "sign in", f"refused ({exc.status})",
                  clerk=body.get("clerk") if isinstance(body.get("clerk"), str) else None, manager=manager)
            headers = {"Retry-After": str(max(1, int(exc.retry_after_s + 0.999)))} if exc.status == 429 else None
            return JSONResponse({"error": "locked_out" if exc.status == 429 else "bad_credentials",
                                 "field": "pin", "message": exc.message}, exc.status, headers=headers)
        if p.role == CLERK and counter is not None:
            await core(self.port.sign_in(counter, p.clerk))
        token = self.tokens.issue(p)
        audit(p, "sign in", "ok", address=address)
        return JSONResponse({"token": token, "role": p.role, "name": p.name, "clerk": p.clerk, "counter": p.counter,
                             "expires_in_s": int(self.tokens.ttl_s)})

    async def session_close(self, request: Request) -> Response:
        p = who(request, self.tokens)
        self.tokens.revoke(bearer(request))
        if p.role == CLERK and p.counter is not None and await core(self.port.counter_clerk(p.counter)) == p.clerk:
            await core(self.port.sign_out(p.counter))
        audit(p, "sign out", "ok")
        self.feed.wake_all()
        return JSONResponse({"ok": True})

    # -- the counter --------------------------------------------------------------------------
    async def counter_view(self, request: Request) -> Response:
        p = who(request, self.tokens)
        at = request.query_params.get("at")
        if at is not None and not (at.isascii() and at.isdigit() and len(at) <= 3):
            raise BadInput("at", "at must be a counter number")
        counter = acting_counter(p, self.settings, int(at) if at is not None else None)
        snap = await core(self.port.read_snapshot())
        row = next(c for c in snap["counters"] if c["counter"] == counter)
        clerk = await core(self.port.counter_clerk(counter))
        ticket = None
        if row.get("ticket"):
            t = await core(self.port.ticket(row["ticket"]))
            ticket = {k: t[k] for k in _TICKET_KEYS if k in t}
            if isinstance(ticket.get("form"), str):
                ticket["form"] = json.loads(ticket["form"])
            ticket["busy_s"] = row.get("busy_s")
        return JSONResponse({
            "counter": counter, "name": row["name"], "state": row["state"], "services": row["services"],
            "pause_reason": row.get("pause_reason"), "clerk": clerk, "ticket": ticket,
            "waiting": await core(self.port.waiting_list(counter)),
            "today": await core(self.port.clerk_day(clerk)) if clerk else None,
        })

    async def call(self, request: Request) -> Response:
        p = who(request, self.tokens)
        body = await inp.json_body(request, ("ticket", "at"))
        counter = acting_counter(p, self.settings, at_param(body))
        number = inp.text(body, "ticket", inp.TICKET_RE, max_len=5, what="a ticket number like A023")
        fut = self.port.call_ticket(counter, number) if number else self.port.call_next(counter)
        out = _call_out(await core(fut), counter)
        audit(p, "call", out["ticket"] or "nobody waits", counter=counter, ticket=number)
        return JSONResponse(out)

    def _simple(self, name: str) -> Handler:
        async def run(request: Request) -> Response:
            p = who(request, self.tokens)
            body = await inp.json_body(request, ("at",))
            counter = acting_counter(p, self.settings, at_param(body))
            result = await core(self._act(name, counter))
            if isinstance(result, CallResult):
                out: dict[str, Any] = _call_out(result, counter)
            elif name == "noshow":
                out = {"ticket": result[0], "requeued": result[1], "counter": counter}
            elif name in ("open", "close"):
                out = {"state": result, "counter": counter}
            else:
                out = {"ticket": result, "counter": counter}
            audit(p, name, out, counter=counter)
            return JSONResponse(out)
        return run

    def _act(self, name: str, counter: int) -> Any:
        port = self.port
        return {"recall": lambda: port.recall(counter), "noshow": lambda: port.noshow(counter),
                "start": lambda: port.start_service(counter), "finish": lambda: port.finish(counter),
                "open": lambda: port.set_counter(counter, "open"),
                "close": lambda: port.set_counter(counter, "closed")}[name]()

    async def transfer(self, request: Request) -> Response:
        p = who(request, self.tokens)
        body = await inp.json_body(request, ("service", "counter", "clerk", "note", "at"))
        counter = acting_counter(p, self.settings, at_param(body))
        service = inp.text(body, "service", inp.SERVICE_RE, max_len=1, what="a service prefix like A")
        to_counter = known_counter(self.settings, inp.integer(body, "counter", 1, 999, what="a counter number"),
                                   "counter")
        to_clerk = inp.text(body, "clerk", inp.CLERK_RE, max_len=16, what="a clerk ID")
        note = inp.text(body, "note") or ""
        given = [k for k, v in (("service", service), ("counter", to_counter), ("clerk", to_clerk)) if v is not None]
        if len(given) != 1:
            raise BadInput("service", "name exactly one of service, counter or clerk to transfer to")
        if service is not None and self.settings.service(service) is None:
            raise BadInput("service", f"there is no service {service}")
        if to_counter == counter:
            raise BadInput("counter", "the ticket is at this counter already")
        ticket = await core(self.port.transfer(counter, service, to_counter=to_counter, to_clerk=to_clerk, note=note))
        audit(p, "transfer", ticket, counter=counter, service=service, to_counter=to_counter, to_clerk=to_clerk,
              note=note or None)
        return JSONResponse({"ticket": ticket, "counter": counter, "to": {"service": service, "counter": to_counter,
                                                                         "clerk": to_clerk}, "note": note})

    async def pause(self, request: Request) -> Response:
        p = who(request, self.tokens)
        body = await inp.json_body(request, ("reason", "at"))
        counter = acting_counter(p, self.settings, at_param(body))
        reason = inp.text(body, "reason", inp.ID_RE, max_len=32, what="a pause reason id")
        known = [r.id for r in self.settings.pause_reasons]
        if reason is None and known:
            raise BadInput("reason", f"reason is missing: give one of {', '.join(known)}")
        state = await core(self.port.set_counter(counter, "paused", reason))
        audit(p, "pause", state, counter=counter, reason=reason)
        return JSONResponse({"state": state, "counter": counter, "reason": reason})

    # -- tickets and the hall -----------------------------------------------------------------
    async def issue(self, request: Request) -> Response:
        p = who(request, self.tokens, (CLERK, MANAGER, DEVICE))
        body = await inp.json_body(request, ("service", "tier", "assisted", "form", "print"))
        service = inp.text(body, "service", inp.SERVICE_RE, required=True, max_len=1,
                           what="a service prefix like A")
        if self.settings.service(service) is None:
            raise BadInput("service", f"there is no service {service} (services: "
                                      f"{', '.join(s.prefix for s in self.settings.services)})")
        tier = inp.text(body, "tier", inp.ID_RE, max_len=32, what="a tier id")
        if tier is not None and tier not in [t.id for t in self.settings.tiers]:
            raise BadInput("tier", f"there is no tier {tier} (tiers: {', '.join(t.id for t in self.settings.tiers)})")
        assisted = inp.flag(body, "assisted", False)
        printed = inp.flag(body, "print", True)
        form = inp.form_values(body)
        # where the ticket is handed out: a device (a satellite ticket machine) prints it itself, a
        # ticket not printed is shown as a QR code; only the rest comes out of the kiosk's printer
        via = f"device:{p.name}" if p.role == DEVICE else (None if printed else "qr")
        t = await core(self.port.issue(service, priority=tier is not None, tier=tier, form=form, assisted=assisted,
                                       issued_via=via))
        tier_of = self.settings.tier(t.priority)
        out: dict[str, Any] = {"ticket": t.ticket, "ahead": t.ahead, "estimate_s": t.estimate_s, "service": t.service,
                               "priority": t.priority, "tier": tier_of.id if tier_of else None,
                               "issued": t.issued_wall, "ticket_id": t.ticket_id, "day": t.day}
        if not printed:
            out["qr"] = qr_data_url(self.settings, t.ticket, t.ticket_id, t.service, t.day)
        audit(p, "issue", t.ticket, service=service, tier=tier, assisted=assisted or None, form=form,
              printed=printed, via=via)
        return JSONResponse(out)

    async def hall(self, request: Request) -> Response:
        who(request, self.tokens, (CLERK, MANAGER, DEVICE))   # a device may read: a satellite, a now-serving TV
        return JSONResponse(hall_view(await core(self.port.read_snapshot())))

    async def stream(self, request: Request) -> Response:
        who(request, self.tokens, (CLERK, MANAGER, DEVICE))
        raw = bearer(request)
        allowed = lambda: self.tokens.lookup(raw) is not None  # noqa: E731
        return StreamingResponse(self.feed.stream(request.is_disconnected, allowed), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
