"""The `[ui]` section: the touchscreen and the now-serving screen."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class UiConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    admin_pin_hash: str | None = Field(
        None, description="scrypt hash of the admin PIN (`kiosk set-pin`); none: the admin screen is locked")
    vip_entry: Literal["button", "code", "both", "none"] = Field(
        "button", description="how priority/VIP customers get a priority ticket")
    vip_codes_file: str | None = Field(None, description="file of member codes accepted for priority tickets")
    result_timeout_s: float = Field(8.0, ge=2, le=120, description="seconds the ticket screen stays before going back")
    font: str | None = Field(None, description="a CJK font file; default: the first of the known Debian fonts found")
    fullscreen: bool = Field(True, description="false: a window (development)")
    size: tuple[int, int] | None = Field(None, description="window size when not full screen, e.g. [800, 480]")
    rotation: Literal[0, 90, 180, 270] = 0
    display_calls: int = Field(6, ge=1, le=20, description="calls listed on the now-serving screen")
