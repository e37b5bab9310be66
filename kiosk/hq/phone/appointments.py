"""Appointments (预约) booked on a phone, kept in HQ's database and handed to each branch's kiosk.

The rules are the branch's own (`kiosk.hq.phone.appointments_config.rules_of` of its latest
queue snapshot), so are its dates: "today" and "a past slot" are on the branch's clock.
`Appointments.slots` lists the free seats of a service from today to today + ``days_ahead``;
`Appointments.book` checks a body ``{"service", "day", "slot", "form"?}`` strictly (400 naming
the field), the address's quota (`BookingQuota`, 429), then takes a seat in the database
(`kiosk.hq.phone.appointments_store.book`; none left → 409 ``slot_full``);
`Appointments.cancel` deletes a booking of today or later by its code (the code is the
secret). After a booking or a cancellation the branch's ``hq/appointments`` message is
published again (`kiosk.hq.phone.appointments_publisher`). No name or phone number is asked.
"""
from __future__ import annotations

import asyncio
import logging
import re
import weakref
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from kiosk.hq.db import Db
from kiosk.hq.ingest.fields import SHORT_IDENT
from kiosk.hq.phone import appointments_store as store
from kiosk.hq.phone.appointments_config import Rules, branch_tz, rules_of
from kiosk.hq.phone.appointments_form import BadForm, check_form, form_fields
from kiosk.hq.phone.appointments_publisher import AppointmentsPublisher
from kiosk.hq.phone.remote import Answer
from kiosk.hq.web.live import Live
from kiosk.webkit.throttle import SignInThrottle

log = logging.getLogger(__name__)

PER_DAY = 3
FIELDS = ("service", "day", "slot", "form")
REQUIRED = ("service", "day", "slot")
DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
SLOT = re.compile(r"[0-9]{2}:[0-9]{2}")
CODE = re.compile(r"[0-9]{8}")


def _error(status: int, code: str, message: str, field: str | None = None,
           retry_after_s: float | None = None) -> Answer:
    body = {"error": code, "message": message}
    if field is not None:
        body["field"] = field
    return Answer(status, body, retry_after_s)


def _bad(field: str, message: str) -> Answer:
    return _error(400, "bad_field", f"{field}: {message}", field)


class BookingQuota:
    """Bookings per client address: `per_day` a day, counted in an SQLite file in `directory` (so a
    restart does not reset them; each call is a little SQLite: run it off the event loop)."""

    def __init__(self, directory: str | Path, *, per_day: int = PER_DAY) -> None:
        self.window = SignInThrottle(Path(directory) / "phone-appointments-day.sqlite",
                                     max_address_failures=per_day, window_s=86400.0, lockout_s=86400.0)

    def retry_after(self, address: str) -> float | None:
        lock = self.window.lockout(None, address)
        return lock.retry_after_s if lock is not None else None

    def count(self, address: str) -> None:
        self.window.failed(None, address)

    def close(self) -> None:
        self.window.close()


class Appointments:
    """The bookings of every branch, over `live` (the branches' snapshots) and HQ's database `db`."""

    def __init__(self, live: Live, db: Db, quota: BookingQuota, publisher: AppointmentsPublisher) -> None:
        self.live = live
        self.db = db
        self.quota = quota
        self.publisher = publisher
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        with db.connection() as conn:
            store.ensure_schema(conn)

    def rules(self, branch: str) -> Rules | None:
        return rules_of(self.live.queue_snapshot(branch))

    # -- the free seats -------------------------------------------------------------------------
    def _slots(self, branch: str, rules: Rules, service: str) -> dict[str, Any]:
        now = rules.now()
        days = rules.days(now)
        names = [d.isoformat() for d in days]
        with self.db.connection() as conn:
            taken = store.taken(conn, branch, service, names)
        out = []
        for d, name in zip(days, names):
            slots = [{"slot": s, "free": max(0, rules.capacity - taken.get((name, s), 0))}
                     for s in rules.slots() if rules.start(d, s) > now]
            out.append({"day": name, "slots": slots})
        return {"service": service, "days": out}

    async def slots(self, branch: str, service: str | None) -> Answer:
        rules = self.rules(branch)
        if rules is None:
            return _error(404, "no_appointments", f"branch {branch!r} takes no appointments")
        if service is None or service not in rules.services:
            return _bad("service", f"one of {', '.join(rules.services)} (?service=…)")
        return Answer(200, await asyncio.to_thread(self._slots, branch, rules, service))

    # -- booking --------------------------------------------------------------------------------
    def _check(self, branch: str, rules: Rules, body: Any) -> tuple[str, date, str, dict[str, Any] | None] | Answer:
        if not isinstance(body, dict):
            return _error(400, "bad_body", 'send {"service", "day", "slot", "form"?}', "body")
        for key in body:
            if key not in FIELDS:
                return _error(400, "bad_body", f"unknown field {key!s:.40} (known: {', '.join(FIELDS)})",
                              f"{key!s:.40}")
        for key in REQUIRED:
            if key not in body:
                return _bad(key, "is required")
        service, day, slot = body["service"], body["day"], body["slot"]
        if not isinstance(service, str) or SHORT_IDENT.fullmatch(service) is None or service not in rules.services:
            return _bad("service", f"one of {', '.join(rules.services)}")
        now = rules.now()
        try:
            when = date.fromisoformat(day) if isinstance(day, str) and DAY.fullmatch(day) else None
        except ValueError:
            when = None
        if when is None:
            return _bad("day", "a date YYYY-MM-DD")
        days = rules.days(now)
        if when < days[0]:
            return _bad("day", f"{day} is over (today is {days[0].isoformat()})")
        if when > days[-1]:
            return _bad("day", f"at most {rules.days_ahead} days ahead (until {days[-1].isoformat()})")
        if not isinstance(slot, str) or SLOT.fullmatch(slot) is None or slot not in rules.slots():
            return _bad("slot", f"one of the slots of the day ({', '.join(rules.slots()[:40])})")
        if rules.start(when, slot) <= now:
            return _bad("slot", f"{slot} has begun")
        try:
            form = check_form(form_fields(self.live.queue_snapshot(branch), service), service, body.get("form"))
        except BadForm as exc:
            return _bad(exc.field, exc.message)
        return service, when, slot, form

    def _book(self, branch: str, rules: Rules, service: str, day: date, slot: str,
              form: dict[str, Any] | None) -> str | None:
        with self.db.connection() as conn:
            return store.book(conn, branch, day.isoformat(), service, slot, rules.capacity, form)

    async def book(self, branch: str, body: Any, address: str) -> Answer:
        """A booking of `branch` for `body`, asked from `address`."""
        rules = self.rules(branch)
        if rules is None:
            return _error(404, "no_appointments", f"branch {branch!r} takes no appointments")
        checked = self._check(branch, rules, body)
        if isinstance(checked, Answer):
            return checked
        service, day, slot, form = checked
        lock = self._locks.get(address)
        if lock is None:
            lock = self._locks[address] = asyncio.Lock()
        async with lock:   # one address books one at a time on this node: its quota cannot be outrun
            wait = await asyncio.to_thread(self.quota.retry_after, address)
            if wait is not None:
                return _error(429, "rate_limited", f"at most {self.quota.window.limits['address']} bookings a day "
                                                   f"from one address: try again in {int(wait // 3600) + 1} hours",
                              retry_after_s=wait)
            code = await asyncio.to_thread(self._book, branch, rules, service, day, slot, form)
            if code is None:
                return _error(409, "slot_full", f"no seat left at {slot} on {day.isoformat()} for service {service}")
            await asyncio.to_thread(self.quota.count, address)
        await self._publish(branch)
        start = rules.start(day, slot)
        return Answer(201, {"code": code, "branch": branch, "service": service, "day": day.isoformat(),
                            "slot": slot,
                            "check_in_from": (start - timedelta(minutes=rules.early_min)).isoformat(timespec="seconds"),
                            "check_in_until": (start + timedelta(minutes=rules.late_min)).isoformat(timespec="seconds")})

    # -- cancelling -----------------------------------------------------------------------------
    def _cancel(self, branch: str, code: str, first_day: str) -> bool:
        with self.db.connection() as conn:
            return store.cancel(conn, branch, code, first_day)

    async def cancel(self, branch: str, code: str) -> Answer:
        """Cancel the booking `code` of `branch` (today or later); 404 for any other code."""
        snapshot = self.live.queue_snapshot(branch)
        if snapshot is None or CODE.fullmatch(code) is None:
            return _error(404, "not_found", "no such booking")
        today = datetime.now(branch_tz(snapshot)).date().isoformat()
        if not await asyncio.to_thread(self._cancel, branch, code, today):
            return _error(404, "not_found", "no such booking")
        await self._publish(branch)
        return Answer(204, {})

    async def _publish(self, branch: str) -> None:
        """The branch's bookings again; a failure is logged (the publisher's next round sends them)."""
        try:
            await asyncio.to_thread(self.publisher.changed, branch)
        except Exception:  # noqa: BLE001
            log.exception("publishing the bookings of %s", branch)


__all__ = ["PER_DAY", "Appointments", "BookingQuota"]
