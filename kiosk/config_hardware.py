"""The `[hardware]` section: which driver runs each device, and its options.

(First cut written with the core so the configuration loads; the drivers work extends it.)
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class PrinterConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    driver: Literal["escpos-serial", "escpos-usb", "escpos-network", "escpos-file", "virtual", "mock"] = "virtual"


class HardwareConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    printer: PrinterConfig = Field(default_factory=PrinterConfig)
