"""One TOML file → typed, validated settings.

Validation is pydantic's, strict (`kiosk.config.strict`: unknown keys, wrong types — no
conversion of ``"1"`` or ``1.0`` to an integer — and out-of-range values are rejected); every
text that reaches a printer, a display or a screen is `kiosk.config.text.PrintableText`;
cross-field rules (duplicate prefixes, a counter naming an unknown service…) are model
validators. Any problem becomes one `ConfigError` naming the key — and its line where the
key can be found in the file (`kiosk.config.problems`) — and the kiosk does not start.
"""
from __future__ import annotations

import os
import re
import tomllib
from datetime import time as dtime
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator

from kiosk.config.hardware import HardwareConfig
from kiosk.config.lan import LanConfig
from kiosk.config.mqtt import MqttConfig
from kiosk.config.phone import PhoneConfig
from kiosk.config.satellite import SatelliteConfig
from kiosk.config.problems import KeyedError, describe
from kiosk.config.strict import TOML_ARRAY, StrictModel
from kiosk.config.text import PrintableText
from kiosk.config.ui import UiConfig
from kiosk.domain.errors import ConfigError, UnknownTier

DEFAULT_CONFIG = Path(__file__).resolve().parents[2] / "firmware_config" / "kiosk.toml"
LANGS = ("zh", "en")
_HHMM = re.compile(r"([01]\d|2[0-3]):[0-5]\d")
_RANGE = re.compile(r"(\d\d:\d\d)-(\d\d:\d\d)")

Lang = Literal["zh", "en"]


class Names(StrictModel):
    """A text in each language; `en` is the fallback."""

    zh: PrintableText | None = None
    en: PrintableText = Field(min_length=1)

    def get(self, lang: str) -> str:
        return getattr(self, lang, None) or self.en


class Branch(StrictModel):
    id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="MQTT topic segment")
    name: Names


class Languages(StrictModel):
    available: list[Lang] = Field(default_factory=lambda: ["zh", "en"], min_length=1)
    announce: list[Lang] = Field(default_factory=lambda: ["zh", "en"])


class Day(StrictModel):
    rollover: str = Field("04:00", description="HH:MM local time at which the business day starts")
    timezone: str = "Asia/Shanghai"

    @field_validator("rollover")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        if not _HHMM.fullmatch(v):
            raise ValueError("must be a time HH:MM, e.g. 04:00")
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {v!r}") from exc
        return v

    @property
    def rollover_time(self) -> dtime:
        h, m = map(int, self.rollover.split(":"))
        return dtime(h, m)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class Policy(StrictModel):
    priority_at: Literal["vip_first", "all"] = "vip_first"
    noshow_requeue: bool = True
    repeat_guard_s: float = Field(2.0, ge=0, le=60)
    rating_window_s: float = Field(30.0, ge=0, le=600,
                                   description="a pad press this long after a finish still rates that customer")
    pause_reason_required: bool = Field(
        True, description="with [[pause_reasons]] configured, a pause names one of them")


class Tier(StrictModel):
    """A priority tier (钻石 / 金 / 银…): the tiers are listed highest first."""

    id: str = Field(pattern=r"^[a-z0-9_-]{1,32}$")
    name: Names
    target_wait_min: float = Field(10, gt=0, le=600, description="a ticket of this tier is called within this")
    satisfaction_target: float | None = Field(None, ge=0, le=1, description="default: alerts.satisfaction_target")


class Choice(StrictModel):
    """One answer of a `choice` field of a pre-acceptance form."""

    id: str = Field(pattern=r"^[a-z0-9_-]{1,32}$")
    name: Names


class FormField(StrictModel):
    """One field of a service's pre-acceptance form (预受理): `text`, `choice` (one of `choices`)
    or `yesno` (true/false)."""

    id: str = Field(pattern=r"^[a-z0-9_]{1,32}$")
    type: Literal["text", "choice", "yesno"]
    label: Names
    choices: list[Choice] = Field(default_factory=list, max_length=50)
    required: bool = False
    max_length: int = Field(200, ge=1, le=1000, description="text fields: the longest answer taken")

    @model_validator(mode="after")
    def _choices(self) -> FormField:
        if self.type == "choice" and not self.choices:
            raise ValueError(f"field {self.id!r} is a choice and needs choices")
        if self.type != "choice" and self.choices:
            raise ValueError(f"field {self.id!r} is {self.type}: only a choice field has choices")
        ids = [c.id for c in self.choices]
        for i, c in enumerate(ids):
            if c in ids[:i]:
                raise ValueError(f"field {self.id!r} lists choice {c!r} twice")
        return self


class PauseReason(StrictModel):
    """Why a counter is paused (lunch, training, back office…)."""

    id: str = Field(pattern=r"^[a-z0-9_-]{1,32}$")
    name: Names


class Service(StrictModel):
    prefix: str = Field(pattern=r"^[A-Z]$", description="one capital letter")
    name: Names
    priority: Literal["normal", "vip"] = "normal"
    numbers: Annotated[tuple[Annotated[int, Field(ge=0, le=9999)], Annotated[int, Field(ge=0, le=9999)]],
                       TOML_ARRAY] = (1, 999)
    on_exhausted: Literal["wrap", "refuse"] = "wrap"
    target_wait_min: float = Field(10, gt=0, le=600)
    starvation_limit_min: float = Field(20, gt=0, le=1440)
    expected_service_min: float = Field(5, gt=0, le=240)
    hours: list[str] = Field(default_factory=lambda: ["00:00-24:00"], min_length=1)
    daily_cap: int = Field(0, ge=0, le=100000)
    self_service: Names | None = None
    tier: str | None = Field(None, description="vip services: the tier of their tickets (default: the lowest)")
    counter_limit_min: float = Field(10, gt=0, le=600, description="time at the counter (临柜) before a long-service alert")
    form: list[FormField] = Field(default_factory=list, max_length=30,
                                  description="the pre-acceptance form filled in before the call (none: no form)")

    @field_validator("numbers")
    @classmethod
    def _range(cls, v: tuple[int, int]) -> tuple[int, int]:
        if v[0] > v[1]:
            raise ValueError(f"the first number {v[0]} is above the last {v[1]}")
        return v

    @field_validator("hours")
    @classmethod
    def _hours(cls, v: list[str]) -> list[str]:
        for item in v:
            parse_hours(item)
        return v

    @property
    def digits(self) -> int:
        return max(3, len(str(self.numbers[1])))

    def is_open_at(self, hhmm: dtime, hours: list[str] | None = None) -> bool:
        return any(lo <= hhmm < hi for lo, hi in map(parse_hours, hours or self.hours))


class Counter(StrictModel):
    number: int = Field(ge=1, le=999)
    name: Names | None = None
    services: list[str] = Field(min_length=1)
    vip_first: bool = False
    order: Literal["strict", "fifo"] = Field(
        "fifo", description="strict: its services in the order listed (aging: a ticket past its service's "
                            "starvation limit comes first); fifo: first come across its services")

    def display_name(self, lang: str) -> str:
        if self.name:
            return self.name.get(lang)
        return f"{self.number}号窗口" if lang == "zh" else f"Counter {self.number}"


class Alerts(StrictModel):
    level1_per_counter: float = Field(2.5, gt=0, le=100)
    level2_per_counter: float = Field(3.5, gt=0, le=100)
    clear_ratio: float = Field(0.8, gt=0, lt=1)
    min_hold_s: float = Field(60, ge=0, le=3600)
    wait_over_target: bool = True
    long_service: bool = True
    satisfaction_target: float = Field(0.8, ge=0, le=1)
    satisfaction_min_ratings: int = Field(10, ge=1, le=100000)
    stop_issuing_at_level2: bool = Field(
        False, description="at level 2, services with a self-service alternative stop issuing (forced diversion)")

    @model_validator(mode="after")
    def _order(self) -> Alerts:
        if self.level2_per_counter <= self.level1_per_counter:
            raise ValueError("level2_per_counter must be above level1_per_counter")
        return self


class QuietHours(StrictModel):
    """The hall's usually quiet hours, published so customers come when it is calm."""

    on_ticket: bool = True
    on_screen: bool = True
    weeks: int = Field(4, ge=1, le=52)


class StoreConfig(StrictModel):
    synchronous: Literal["FULL", "NORMAL", "EXTRA"] = "FULL"
    event_retention_days: float = Field(30, gt=0, le=3650)


class Settings(StrictModel):
    branch: Branch
    languages: Languages = Languages()
    day: Day = Day()
    policy: Policy = Policy()
    services: list[Service] = Field(min_length=1)
    counters: list[Counter] = Field(min_length=1)
    tiers: list[Tier] = Field(default_factory=lambda: [Tier(id="vip", name=Names(zh="贵宾", en="VIP"))],
                              min_length=1, max_length=9)
    alerts: Alerts = Alerts()
    quiet_hours: QuietHours = QuietHours()
    store: StoreConfig = StoreConfig()
    hardware: HardwareConfig = HardwareConfig()
    mqtt: MqttConfig = MqttConfig()
    lan: LanConfig = LanConfig()
    satellite: SatelliteConfig = SatelliteConfig()
    phone: PhoneConfig = PhoneConfig()
    ui: UiConfig = UiConfig()
    pause_reasons: list[PauseReason] = Field(default_factory=list, max_length=30)

    @model_validator(mode="after")
    def _cross_checks(self) -> Settings:
        prefixes = [s.prefix for s in self.services]
        for i, p in enumerate(prefixes):
            if p in prefixes[:i]:
                raise KeyedError(("services", i, "prefix"), f"duplicate service prefix {p!r}")
        numbers = [c.number for c in self.counters]
        for i, c in enumerate(self.counters):
            if c.number in numbers[:i]:
                raise KeyedError(("counters", i, "number"), f"duplicate counter number {c.number}")
            for j, s in enumerate(c.services):
                if s not in prefixes:
                    raise KeyedError(("counters", i, "services", j),
                                      f"counter {c.number} names unknown service {s!r} "
                                      f"(known: {', '.join(prefixes)})")
                if s in c.services[:j]:
                    raise KeyedError(("counters", i, "services", j), f"service {s!r} listed twice")
        for s_i, s in enumerate(self.services):
            if not any(s.prefix in c.services for c in self.counters):
                raise KeyedError(("services", s_i, "prefix"), f"no counter serves service {s.prefix!r}")
        tier_ids = [t.id for t in self.tiers]
        for i, t in enumerate(tier_ids):
            if t in tier_ids[:i]:
                raise KeyedError(("tiers", i, "id"), f"duplicate tier {t!r}")
        for s_i, s in enumerate(self.services):
            if s.tier is not None and s.tier not in tier_ids:
                raise KeyedError(("services", s_i, "tier"),
                                  f"unknown tier {s.tier!r} (known: {', '.join(tier_ids)})")
            field_ids = [f.id for f in s.form]
            for f_i, fid in enumerate(field_ids):
                if fid in field_ids[:f_i]:
                    raise KeyedError(("services", s_i, "form", f_i, "id"), f"duplicate form field {fid!r}")
        reason_ids = [r.id for r in self.pause_reasons]
        for i, r in enumerate(reason_ids):
            if r in reason_ids[:i]:
                raise KeyedError(("pause_reasons", i, "id"), f"duplicate pause reason {r!r}")
        for where, listed in ((("phone", "remote_services"), self.phone.remote_services),
                              (("phone", "appointments", "services"), self.phone.appointments.services)):
            for i, p in enumerate(listed):
                if p not in prefixes:
                    raise KeyedError((*where, i), f"unknown service {p!r} (known: {', '.join(prefixes)})")
        return self

    def pause_reason(self, reason_id: str) -> PauseReason | None:
        return next((r for r in self.pause_reasons if r.id == reason_id), None)

    def tier_rank(self, tier_id: str) -> int:
        """A ticket's `priority`: 1 for the first (highest) tier, 2 for the next…; 0 is a normal ticket."""
        for i, t in enumerate(self.tiers):
            if t.id == tier_id:
                return i + 1
        raise UnknownTier(f"unknown priority tier {tier_id!r} (known: {', '.join(t.id for t in self.tiers)})")

    def default_rank(self, svc: Service) -> int:
        """The priority rank of a priority ticket of `svc` taken without a tier: the service's tier, else the lowest."""
        return self.tier_rank(svc.tier) if svc.tier else len(self.tiers)

    def tier(self, rank: int) -> Tier | None:
        """The tier of priority rank `rank` (None for 0, a normal ticket)."""
        return self.tiers[min(rank, len(self.tiers)) - 1] if rank > 0 else None

    def tier_targets_s(self) -> dict[int, float]:
        """Priority rank → target wait in seconds."""
        return {i + 1: t.target_wait_min * 60 for i, t in enumerate(self.tiers)}

    def service(self, prefix: str) -> Service | None:
        return next((s for s in self.services if s.prefix == prefix), None)

    def counter(self, number: int) -> Counter | None:
        return next((c for c in self.counters if c.number == number), None)


def parse_hours(item: str) -> tuple[dtime, dtime]:
    m = _RANGE.fullmatch(item)
    if not m:
        raise ValueError(f"{item!r} is not an opening-hours range HH:MM-HH:MM")
    lo, hi = m.groups()
    if not _HHMM.fullmatch(lo) or not (_HHMM.fullmatch(hi) or hi == "24:00"):
        raise ValueError(f"{item!r} has an impossible time")
    end = dtime.max if hi == "24:00" else dtime(*map(int, hi.split(":")))
    start = dtime(*map(int, lo.split(":")))
    if end <= start:
        raise ValueError(f"{item!r} ends before it starts")
    return start, end


def config_path(explicit: str | Path | None = None) -> Path:
    """`--config`, else `KIOSK_CONFIG`, else the default sample hall."""
    return Path(explicit or os.environ.get("KIOSK_CONFIG") or DEFAULT_CONFIG)


def load_settings(path: str | Path | None = None) -> Settings:
    path = config_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the configuration {path}: {exc.strerror or exc}") from exc
    return parse_settings(text, source=str(path))


def parse_settings(text: str, source: str = "<config>") -> Settings:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from exc
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe(exc, text, source)) from None
