"""Remote tickets (``POST /api/public/{branch}/tickets``): HQ asks the branch's kiosk for a
ticket with the ``issue_remote`` command and hands the phone its follow URL.

Order of the checks: a known branch (404), a JSON body ``{"service": "A", "form"?: {…}}`` and
nothing else (415, 400), the form against the branch's ``phone.forms``
(`kiosk.hq.phone.appointments_form`, 400 ``bad_form`` naming the field), the branch online by
its retained status (503), the address's quota (429), the
command as the kiosk will check it (`kiosk.mqtt.protocol`, 400), then the kiosk's answer
within `REPLY_TIMEOUT_S` (503 when none): its ticket (201) or its refusal (409; 429 for
``remote_cap``, the branch's daily remote cap of the service). Only issued tickets count
against an address: `RemoteQuota` keeps them in two `kiosk.webkit.throttle.SignInThrottle`
files (an hour's and a day's window), so a restart does not reset them.
"""
from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.hq.ingest.fields import SHORT_IDENT
from kiosk.hq.phone.appointments_form import BadForm, check_form, form_fields
from kiosk.hq.web.live import Live
from kiosk.mqtt import protocol
from kiosk.webkit.throttle import SignInThrottle

COMMAND = "issue_remote"
REPLY_TIMEOUT_S = 5.0
PER_HOUR = 5
PER_DAY = 20
TOKEN = re.compile(r"[A-Za-z0-9_-]{22}")
CHECK_IN_CODE = re.compile(r"[0-9]{6}")
CAPPED = ("remote_cap",)   # the kiosk's refusals that are a rate limit (429), not a refusal (409)
REFUSED_BODY = ("bad_form",)   # the kiosk's refusals of what the phone sent (400)


@dataclass(frozen=True)
class Answer:
    """An HTTP status and its JSON body (and a Retry-After, when rate limited)."""

    status: int
    body: dict[str, Any]
    retry_after_s: float | None = None


def _error(status: int, code: str, message: str, retry_after_s: float | None = None) -> Answer:
    return Answer(status, {"error": code, "message": message}, retry_after_s)


class RemoteQuota:
    """Remote tickets per client address: `PER_HOUR` an hour and `PER_DAY` a day, kept in two
    SQLite files in `directory` (each call is a little SQLite: run it off the event loop)."""

    def __init__(self, directory: str | Path, *, per_hour: int = PER_HOUR, per_day: int = PER_DAY) -> None:
        d = Path(directory)
        self.windows = [SignInThrottle(d / "phone-quota-hour.sqlite", max_address_failures=per_hour,
                                       window_s=3600.0, lockout_s=3600.0),
                        SignInThrottle(d / "phone-quota-day.sqlite", max_address_failures=per_day,
                                       window_s=86400.0, lockout_s=86400.0)]

    def retry_after(self, address: str) -> float | None:
        """Seconds until `address` may take a ticket again; None when it may now."""
        waits = [lock.retry_after_s for t in self.windows if (lock := t.lockout(None, address)) is not None]
        return max(waits) if waits else None

    def count(self, address: str) -> None:
        for t in self.windows:
            t.failed(None, address)

    def close(self) -> None:
        for t in self.windows:
            t.close()


def _body_service(body: Any) -> str | Answer:
    if not isinstance(body, dict) or "service" not in body or not set(body) <= {"service", "form"}:
        return _error(400, "bad_body", 'send {"service": "A", "form"?: {…}} and nothing else')
    service = body["service"]
    if not isinstance(service, str) or SHORT_IDENT.fullmatch(service) is None:
        return _error(400, "bad_service", "service must be a service prefix (letters, digits, _ or -)")
    return service


def _form(live: Live, branch: str, service: str, body: dict[str, Any]) -> dict[str, Any] | None | Answer:
    """The body's form checked against the branch's form of `service` (400 ``bad_form`` naming the field)."""
    try:
        return check_form(form_fields(live.queue_snapshot(branch), service), service, body.get("form"))
    except BadForm as exc:
        return Answer(400, {"error": "bad_form", "field": exc.field, "message": str(exc)})


class RemoteTickets:
    """Takes remote tickets at the branches through `live`; `public_url` builds the follow URL."""

    def __init__(self, live: Live, public_url: str, quota: RemoteQuota, *,
                 timeout_s: float = REPLY_TIMEOUT_S) -> None:
        self.live = live
        self.public_url = public_url.rstrip("/")
        self.quota = quota
        self.timeout_s = timeout_s

    def follow_url(self, token: str) -> str:
        return f"{self.public_url}/t/{token}"

    async def take(self, branch: str, body: Any, address: str) -> Answer:
        """A ticket of `branch` for `body` ``{"service"}``, asked from `address`."""
        services = self.live.limits(branch).services if self.live.known(branch) else frozenset()
        if not services:   # no queue snapshot: not a branch the public can take tickets of
            return _error(404, "unknown_branch", f"no branch {branch!r}")
        service = _body_service(body)
        if isinstance(service, Answer):
            return service
        if service not in services:
            return _error(400, "unknown_service", f"branch {branch} has no service {service!r}")
        form = _form(self.live, branch, service, body)
        if isinstance(form, Answer):
            return form
        if not self.live.online(branch):
            return _error(503, "branch_offline", f"branch {branch} is offline: it cannot issue a ticket now")
        wait = await asyncio.to_thread(self.quota.retry_after, address)
        if wait is not None:
            return _error(429, "rate_limited", f"too many remote tickets from this address: try again in "
                                               f"{int(wait // 60) + 1} minutes", wait)
        try:
            cmd = self.live.validate(branch, COMMAND, {"service": service, **({"form": form} if form else {})})
        except protocol.CommandError as exc:
            return _error(400, exc.code, exc.message)
        cmd_id, fut = self.live.send(branch, cmd.name, cmd.args)
        try:
            reply = await asyncio.wait_for(asyncio.wrap_future(fut), self.timeout_s)
        except (asyncio.TimeoutError, ConnectionError):
            self.live.forget(cmd_id)
            return _error(503, "branch_offline", f"branch {branch} did not answer within {self.timeout_s:g} s")
        return await self._answer(branch, reply, address)

    async def _answer(self, branch: str, reply: dict[str, Any], address: str) -> Answer:
        if not reply.get("ok"):
            err = reply.get("error") if isinstance(reply.get("error"), dict) else {}
            code = err.get("code") if isinstance(err.get("code"), str) else "refused"
            message = err.get("message") if isinstance(err.get("message"), str) else "the branch refused"
            return _error(429 if code in CAPPED else 400 if code in REFUSED_BODY else 409, code, message)
        r = reply.get("result")
        if not (isinstance(r, dict) and isinstance(r.get("follow_token"), str) and TOKEN.fullmatch(r["follow_token"])
                and isinstance(r.get("ticket"), str) and SHORT_IDENT.fullmatch(r["ticket"])
                and isinstance(r.get("check_in_code"), str) and CHECK_IN_CODE.fullmatch(r["check_in_code"])):
            return _error(502, "bad_reply", f"branch {branch} answered without a ticket HQ can hand out")
        await asyncio.to_thread(self.quota.count, address)
        ahead, estimate, by = r.get("ahead"), r.get("estimate_s"), r.get("check_in_by")
        return Answer(201, {"ticket": r["ticket"], "follow_url": self.follow_url(r["follow_token"]),
                            "check_in_code": r["check_in_code"],
                            "check_in_by": by if isinstance(by, str) and len(by) <= 40 else None,
                            "ahead": ahead if isinstance(ahead, int) and not isinstance(ahead, bool) else None,
                            "estimate_s": float(estimate) if isinstance(estimate, (int, float))
                            and not isinstance(estimate, bool) else None})


__all__ = ["COMMAND", "PER_DAY", "PER_HOUR", "REPLY_TIMEOUT_S", "Answer", "RemoteQuota", "RemoteTickets"]
