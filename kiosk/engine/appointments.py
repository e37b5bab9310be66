"""Appointments (预约) booked on HQ's public page: HQ sends each branch the bookings of today and
tomorrow (`hq/appointments`, `kiosk.mqtt.hq_data`); they are kept here, so check-in works with HQ
away once the list has arrived.

An appointment's day is the calendar date the customer booked (HQ's and the phone's), not the
business day (which runs until the rollover, past midnight). Checked in by its 8-digit code from
`early_min` before the slot to `late_min` after it, an
appointment gets a ticket **queued as if it had come `head_start_min` before its slot**: the calling
rule itself is unchanged (docs/queueing.md, "Appointments"), VIP tickets still go first, and the
head start is bounded. Later than that it gets an ordinary ticket (queued now) and is counted late;
earlier it is refused with the time to come back. Not checked in by `late_min` after its slot it is
missed (`appointment.missed`).

`Appointments` is a part of `QueueEngine` (its methods are the engine's).
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from kiosk.config.settings import Settings
from kiosk.domain import errors
from kiosk.domain.model import EventType
from kiosk.engine.preacceptance import check_form
from kiosk.engine.transaction import Tx

APPOINTMENT = "appointment"  # tickets.issued_via of an appointment's ticket


class Appointments:
    """The day's appointments: stored from HQ's list, checked in, missed."""

    settings: Settings

    def store_appointments(self, days: dict[str, list[dict[str, Any]]]) -> dict[str, int]:
        """Replace the bookings of each day in `days` (checked by `kiosk.mqtt.hq_data`): new ones are
        added, changed ones updated, those no longer listed (cancelled) removed — never one already
        checked in, late or missed. Returns {"stored", "removed"}."""
        stored = removed = 0
        with self.transaction() as tx:
            wall = tx.wall.isoformat(timespec="seconds")
            for day, entries in days.items():
                codes = [e["code"] for e in entries]
                marks = ",".join("?" * len(codes))
                removed += tx.conn.execute(
                    f"DELETE FROM appointments WHERE day = ? AND state = 'booked'"
                    f"{f' AND code NOT IN ({marks})' if codes else ''}", (day, *codes)).rowcount
                for e in entries:
                    form = json.dumps(e["form"], ensure_ascii=False, separators=(",", ":")) if e.get("form") else None
                    stored += tx.conn.execute(
                        "INSERT INTO appointments (day, code, service, slot, form, updated_wall) VALUES (?, ?, ?, ?, ?, ?) "
                        "ON CONFLICT (day, code) DO UPDATE SET service = excluded.service, slot = excluded.slot, "
                        "form = excluded.form, updated_wall = excluded.updated_wall WHERE appointments.state = 'booked'",
                        (day, e["code"], e["service"], e["slot"], form, wall)).rowcount
        return {"stored": stored, "removed": removed}

    def check_in_appointment(self, code: str) -> dict[str, Any]:
        """A ticket for the appointment `code` of today (or of yesterday's late slots: the calendar
        dates of the hall, as the customer booked them; see the module): the ticket row with people
        ahead and the estimate, plus ``appointment`` {"slot", "late"}."""
        cfg = self.settings.phone.appointments
        with self.transaction() as tx:
            a = tx.conn.execute("SELECT * FROM appointments WHERE code = ? AND day IN (?, ?) ORDER BY day DESC",
                                (code, *self.calendar_days(tx))).fetchone()
            if a is None:
                raise errors.UnknownTicket("no appointment with this code today")
            if a["state"] in ("checked_in", "late"):
                number = tx.conn.execute("SELECT number FROM tickets WHERE id = ?", (a["ticket_id"],)).fetchone()
                raise errors.IllegalState(f"this appointment is already checked in (ticket {number[0] if number else '?'})")
            slot = self.slot_wall(a["day"], a["slot"])
            since_slot = (tx.wall - slot).total_seconds()
            if since_slot < -cfg.early_min * 60:
                raise errors.IllegalState(f"your appointment is at {a['slot']}: please check in from "
                                          f"{(slot - timedelta(minutes=cfg.early_min)).strftime('%H:%M')}")
            late = since_slot > cfg.late_min * 60
            svc = self._service(a["service"])
            form = check_form(svc, json.loads(a["form"])) if a["form"] else None
            head = 0.0 if late else max(0.0, since_slot + cfg.head_start_min * 60)
            issued = self.issue_in(tx, svc, issued_via=APPOINTMENT, stored_form=form, queued_before_s=head,
                                   extra={"appointment": {"slot": a["slot"], "late": late}})
            state = "late" if late else "checked_in"
            tx.conn.execute("UPDATE appointments SET state = ?, ticket_id = ?, updated_wall = ? WHERE day = ? AND code = ?",
                            (state, issued.ticket_id, tx.wall.isoformat(timespec="seconds"), a["day"], code))
            self.emit(tx, EventType.APPOINTMENT_CHECKED_IN, ticket=issued.ticket, ticket_id=issued.ticket_id,
                      service=svc.prefix, slot=a["slot"], late=late)
            out = dict(tx.conn.execute("SELECT * FROM tickets WHERE id = ?", (issued.ticket_id,)).fetchone())
            out.update(ahead=issued.ahead, estimate_s=issued.estimate_s, appointment={"slot": a["slot"], "late": late})
            return out

    def mark_missed(self, tx: Tx) -> int:
        """The bookings (of today or before) whose check-in window is over are missed (inside a transaction)."""
        late_s = self.settings.phone.appointments.late_min * 60
        rows = tx.conn.execute("SELECT day, code, service, slot FROM appointments WHERE state = 'booked' AND day <= ?",
                               (self.calendar_days(tx)[0],)).fetchall()
        missed = 0
        for r in rows:
            if (tx.wall - self.slot_wall(r["day"], r["slot"])).total_seconds() > late_s:
                tx.conn.execute("UPDATE appointments SET state = 'missed', updated_wall = ? WHERE day = ? AND code = ?",
                                (tx.wall.isoformat(timespec="seconds"), r["day"], r["code"]))
                self.emit(tx, EventType.APPOINTMENT_MISSED, service=r["service"], slot=r["slot"], day=r["day"])
                missed += 1
        return missed

    def calendar_days(self, tx: Tx) -> tuple[str, str]:
        """Today's and yesterday's dates on the hall's clock: an appointment's day is the date the
        customer booked (a calendar date, not the business day, which runs until the rollover)."""
        today = tx.wall.astimezone(self.settings.day.tz).date()
        return today.isoformat(), (today - timedelta(days=1)).isoformat()

    def slot_wall(self, day: str, slot: str) -> datetime:
        """The wall time of `slot` ("HH:MM") on the calendar date `day`, in the hall's time zone."""
        d = datetime.fromisoformat(day)
        return datetime(d.year, d.month, d.day, int(slot[:2]), int(slot[3:]), tzinfo=self.settings.day.tz)

    def appointment_figures(self, day: str) -> dict[str, int]:
        """The day's appointments by outcome: booked (still to come), checked_in, late, missed."""
        counts = dict(self.conn.execute("SELECT state, count(*) FROM appointments WHERE day = ? GROUP BY state",
                                        (day,)).fetchall())
        return {k: counts.get(k, 0) for k in ("booked", "checked_in", "late", "missed")}
