"""The `[phone]` section: what the customer's phone reaches through HQ (validated strictly,
`kiosk.config.strict`). `follow_url` puts a follow link in every ticket's QR code; `remote` lets
HQ's public page take tickets for this branch (parked until checked in at the kiosk)."""
from __future__ import annotations

import re

from pydantic import Field, model_validator

from kiosk.config.strict import StrictModel
from kiosk.config.text import PrintableText

TOKEN_FIELD = "{token}"


class Address(StrictModel):
    zh: PrintableText = Field("", max_length=120)
    en: PrintableText = Field("", max_length=120)


class Appointments(StrictModel):
    """`[phone.appointments]`: the slots customers book on HQ's public page (预约)."""

    services: list[str] = Field(default_factory=list, max_length=26,
                                description="services that take appointments (prefixes); empty: none")
    slot_min: int = Field(30, ge=5, le=240, description="length of a slot")
    capacity: int = Field(2, ge=1, le=100, description="bookings per slot and service")
    hours: list[str] = Field(default_factory=lambda: ["09:00-12:00", "13:30-17:00"], min_length=1, max_length=8,
                             description="when slots start, HH:MM-HH:MM ranges")
    days_ahead: int = Field(7, ge=0, le=60, description="how many days ahead can be booked (0: today only)")
    early_min: int = Field(15, ge=0, le=120, description="check in from this long before the slot")
    late_min: int = Field(10, ge=0, le=120, description="until this long after it (later: an ordinary ticket)")
    head_start_min: int = Field(10, ge=0, le=120,
                                description="an appointment is queued as if it had come this long before its slot")

    @model_validator(mode="after")
    def _hours(self) -> Appointments:
        for h in self.hours:
            if not _HOURS.match(h) or h[:5] >= h[6:]:
                raise ValueError(f"appointment hours {h!r} are not a range HH:MM-HH:MM")
        return self

    def slots(self) -> list[str]:
        """Every slot start of a day, "HH:MM", in order."""
        out: list[str] = []
        for h in self.hours:
            start, end = _minutes(h[:5]), _minutes(h[6:])
            t = start
            while t + self.slot_min <= end:
                out.append(f"{t // 60:02d}:{t % 60:02d}")
                t += self.slot_min
        return sorted(set(out))


_HOURS = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")


def _minutes(hhmm: str) -> int:
    return int(hhmm[:2]) * 60 + int(hhmm[3:])


class PhoneConfig(StrictModel):
    follow_url: PrintableText = Field(
        "", max_length=200,
        description="the ticket's page on HQ, e.g. https://hq.example.com/t/{token}; empty: no follow link")
    remote: bool = Field(False, description="HQ's public page may take tickets for this branch")
    remote_services: list[str] = Field(default_factory=list, max_length=26,
                                       description="services taking remote tickets (prefixes); empty: all")
    remote_daily_cap: int = Field(50, ge=0, le=10_000,
                                  description="remote tickets per service and day; 0: no cap of their own")
    check_in_min: int = Field(60, ge=5, le=720,
                              description="a remote ticket not checked in at the kiosk within this expires")
    address: Address = Address()
    lat: float | None = Field(None, ge=-90, le=90, description="the branch's location, for 'nearest first'")
    lon: float | None = Field(None, ge=-180, le=180)
    appointments: Appointments = Appointments()

    @model_validator(mode="after")
    def _checks(self) -> PhoneConfig:
        url = self.follow_url
        if url:
            if not url.startswith(("https://", "http://")):
                raise ValueError(f"follow_url must start with https:// (or http://), not {url[:40]!r}")
            if url.count(TOKEN_FIELD) != 1 or any(c in url.replace(TOKEN_FIELD, "") for c in "{} "):
                raise ValueError("follow_url must contain {token} once, and no other {…} field or space")
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon go together: give both or neither")
        return self

    def follow_link(self, token: str | None) -> str | None:
        """The ticket's follow URL, or None without a template or a token."""
        return self.follow_url.replace(TOKEN_FIELD, token) if self.follow_url and token else None

    def takes_remote(self, service: str) -> bool:
        return self.remote and (not self.remote_services or service in self.remote_services)
