"""The `[ui]` section: the touchscreen and the now-serving screen (validated strictly,
`kiosk.config.strict`)."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from kiosk.config.strict import INT_ONLY, TOML_ARRAY, StrictModel


class UiConfig(StrictModel):
    admin_pin_hash: str | None = Field(
        None, description="scrypt hash of the admin PIN (`kiosk set-pin`); none: the admin screen is locked")
    vip_entry: Literal["button", "code", "both", "none"] = Field(
        "button", description="how priority/VIP customers get a priority ticket")
    vip_codes_file: str | None = Field(None, description="file of member codes accepted for priority tickets")
    result_timeout_s: float = Field(8.0, ge=2, le=120, description="seconds the ticket screen stays before going back")
    font: str | None = Field(None, description="a CJK font file; default: the first of the known Debian fonts found")
    fullscreen: bool = Field(True, description="false: a window (development)")
    size: Annotated[tuple[int, int], TOML_ARRAY] | None = Field(None, description="window size when not full screen, e.g. [800, 480]")
    rotation: Annotated[Literal[0, 90, 180, 270], INT_ONLY] = 0
    display_calls: int = Field(6, ge=1, le=20, description="calls listed on the now-serving screen")
    long_press_s: float = Field(3.0, ge=0.5, le=30, description="hold on the branch name this long to reach the admin PIN")
    admin_idle_s: float = Field(120.0, ge=10, le=3600,
                                description="the admin and PIN screens go back to the customer screen after this idle time")
    pin_free_tries: int = Field(3, ge=1, le=20, description="wrong PINs allowed before the lockout starts")
    pin_lockout_s: float = Field(30.0, ge=1, le=3600, description="first lockout; it doubles with every further wrong PIN")
    pin_lockout_max_s: float = Field(900.0, ge=1, le=86400, description="the longest lockout")
    refresh_s: float = Field(5.0, ge=0.5, le=60, description="how often the screens re-read the queue snapshot")
    blink_s: float = Field(20.0, ge=0, le=600, description="the newest call blinks this long on the now-serving screen")
    language_cycle_s: float = Field(10.0, ge=0, le=600,
                                    description="the now-serving screen alternates languages this often (0: never)")
