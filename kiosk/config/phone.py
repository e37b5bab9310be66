"""The `[phone]` section: what the customer's phone reaches through HQ (validated strictly,
`kiosk.config.strict`). `follow_url` puts a follow link in every ticket's QR code; `remote` lets
HQ's public page take tickets for this branch (parked until checked in at the kiosk)."""
from __future__ import annotations

from pydantic import Field, model_validator

from kiosk.config.strict import StrictModel
from kiosk.config.text import PrintableText

TOKEN_FIELD = "{token}"


class Address(StrictModel):
    zh: PrintableText = Field("", max_length=120)
    en: PrintableText = Field("", max_length=120)


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
