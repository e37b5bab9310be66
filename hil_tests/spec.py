"""What the bench declares: the KIOSK_HIL_* variables parsed into a :class:`HilSpec` (the
``[hardware]`` options of the devices), and the dry run's bench (:func:`dry_run_spec`).
See hil_tests/README.md for the variables."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

DEVICE_VARS = ("KIOSK_HIL_PRINTER", "KIOSK_HIL_DISPLAYS", "KIOSK_HIL_KEYPADS", "KIOSK_HIL_RATING",
               "KIOSK_HIL_TAKE", "KIOSK_HIL_LAMPS", "KIOSK_HIL_BUZZER", "KIOSK_HIL_STACK",
               "KIOSK_HIL_AUDIO")


class HilSpecError(ValueError):
    """A KIOSK_HIL_* variable cannot be understood (the message names it)."""


def _pairs(var: str, text: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in filter(None, (s.strip() for s in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep:
            raise HilSpecError(f"{var}: expected key=pin, got {item!r}")
        try:
            out[key.strip()] = int(value)
        except ValueError:
            raise HilSpecError(f"{var}: pin of {key!r} is not a number: {value!r}") from None
    return out


def _per_counter(var: str, text: str) -> dict[int, dict[str, int]]:
    """``1:next=5,recall=6;2:next=13`` -> {1: {"next": 5, "recall": 6}, 2: {"next": 13}}"""
    out: dict[int, dict[str, int]] = {}
    for block in filter(None, (s.strip() for s in text.split(";"))):
        counter, sep, rest = block.partition(":")
        if not sep or not counter.strip().isdigit():
            raise HilSpecError(f"{var}: expected <counter>:key=pin,..., got {block!r}")
        out[int(counter)] = _pairs(var, rest)
    return out


def printer_options(spec: str, env: dict[str, str]) -> dict[str, Any]:
    """KIOSK_HIL_PRINTER -> [hardware.printer] options.

    ``/dev/ttyUSB0`` / ``/dev/kiosk-printer`` (serial), ``/dev/usb/lp0`` or ``file:PATH``
    (device file), ``usb:04b8:0202`` (libusb), ``tcp:HOST[:PORT]`` (network).
    """
    opts: dict[str, Any] = {
        "paper_mm": int(env.get("KIOSK_HIL_PRINTER_PAPER", "80")),
        "text_mode": env.get("KIOSK_HIL_PRINTER_TEXT", "gb18030"),
        "print_timeout_s": float(env.get("KIOSK_HIL_PRINTER_TIMEOUT", "60")),
    }
    if spec.startswith("usb:"):
        try:
            _, vid, pid = spec.split(":")
            opts.update(driver="escpos-usb", usb_vendor=int(vid, 16), usb_product=int(pid, 16))
        except ValueError:
            raise HilSpecError(f"KIOSK_HIL_PRINTER: expected usb:VVVV:PPPP, got {spec!r}") from None
    elif spec.startswith("tcp:"):
        host, _, port = spec[4:].partition(":")
        opts.update(driver="escpos-network", host=host, tcp_port=int(port or 9100))
    elif spec.startswith("file:") or spec.startswith("/dev/usb/lp"):
        opts.update(driver="escpos-file", path=spec.removeprefix("file:"))
        opts["status_poll_s"] = 0.0  # usblp rarely passes DLE EOT answers back
    else:
        opts.update(driver="escpos-serial", port=spec, baud=int(env.get("KIOSK_HIL_PRINTER_BAUD", "115200")))
    if "KIOSK_HIL_PRINTER_STATUS" in env:
        opts["status_poll_s"] = 5.0 if env["KIOSK_HIL_PRINTER_STATUS"] == "1" else 0.0
    return opts


_DISPLAY_DRIVERS = {"epson": "epson-vfd-serial", "alpha": "alpha-serial"}


def display_options(spec: str) -> list[dict[str, Any]]:
    """KIOSK_HIL_DISPLAYS: ``epson:/dev/kiosk-display-1,alpha:/dev/kiosk-display-2@9600``."""
    out = []
    for i, item in enumerate(filter(None, (s.strip() for s in spec.split(","))), 1):
        kind, sep, rest = item.partition(":")
        if not sep or kind not in _DISPLAY_DRIVERS:
            raise HilSpecError(f"KIOSK_HIL_DISPLAYS: expected epson:PORT or alpha:PORT, got {item!r}")
        port, _, baud = rest.partition("@")
        opts: dict[str, Any] = {"name": f"display{i}", "driver": _DISPLAY_DRIVERS[kind], "port": port,
                                "blink_s": 0.0}
        if baud:
            opts["baud"] = int(baud)
        out.append(opts)
    return out


@dataclass
class HilSpec:
    """What the bench declares (parsed KIOSK_HIL_* variables)."""

    printer: Optional[dict[str, Any]] = None
    displays: list[dict[str, Any]] = field(default_factory=list)
    keypads: dict[int, dict[str, int]] = field(default_factory=dict)
    rating: dict[int, dict[str, int]] = field(default_factory=dict)
    take: dict[str, int] = field(default_factory=dict)
    lamps: dict[int, int] = field(default_factory=dict)
    buzzer: Optional[int] = None
    stack: dict[str, int] = field(default_factory=dict)
    audio: Optional[dict[str, Any]] = None
    key_timeout_s: float = 30.0

    @property
    def declared(self) -> bool:
        return bool(self.printer or self.displays or self.keypads or self.rating or self.take
                    or self.lamps or self.buzzer is not None or self.stack or self.audio)

    def hardware_options(self, gpio: str) -> dict[str, Any]:
        """The ``[hardware]`` section for ``kiosk.config.hardware.HardwareConfig``."""
        return {
            "gpio": gpio,
            "printer": self.printer or {"driver": "mock"},
            "displays": self.displays,
            "keypads": [{"counter": c, **pins} for c, pins in self.keypads.items()],
            "rating_pads": [{"counter": c, **pins} for c, pins in self.rating.items()],
            "take_ticket": [{"service": s, "pin": p} for s, p in self.take.items()],
            "lamps": [{"counter": c, "pin": p} for c, p in self.lamps.items()],
            "buzzer": {"pin": self.buzzer},
            "stack_light": self.stack,
            "audio": self.audio or {"driver": "silent"},
        }


def parse_env(env: Optional[dict[str, str]] = None) -> HilSpec:
    env = dict(os.environ if env is None else env)
    spec = HilSpec(key_timeout_s=float(env.get("KIOSK_HIL_KEY_TIMEOUT", "30")))
    if env.get("KIOSK_HIL_PRINTER"):
        spec.printer = printer_options(env["KIOSK_HIL_PRINTER"], env)
    if env.get("KIOSK_HIL_DISPLAYS"):
        spec.displays = display_options(env["KIOSK_HIL_DISPLAYS"])
    if env.get("KIOSK_HIL_KEYPADS"):
        spec.keypads = _per_counter("KIOSK_HIL_KEYPADS", env["KIOSK_HIL_KEYPADS"])
    if env.get("KIOSK_HIL_RATING"):
        spec.rating = _per_counter("KIOSK_HIL_RATING", env["KIOSK_HIL_RATING"])
    if env.get("KIOSK_HIL_TAKE"):
        spec.take = _pairs("KIOSK_HIL_TAKE", env["KIOSK_HIL_TAKE"])
    if env.get("KIOSK_HIL_LAMPS"):
        spec.lamps = {int(k): v for k, v in _pairs("KIOSK_HIL_LAMPS", env["KIOSK_HIL_LAMPS"]).items()}
    if env.get("KIOSK_HIL_BUZZER"):
        try:
            spec.buzzer = int(env["KIOSK_HIL_BUZZER"])
        except ValueError:
            raise HilSpecError("KIOSK_HIL_BUZZER: a BCM pin number") from None
    if env.get("KIOSK_HIL_STACK"):
        spec.stack = _pairs("KIOSK_HIL_STACK", env["KIOSK_HIL_STACK"])
    if env.get("KIOSK_HIL_AUDIO"):
        device = env["KIOSK_HIL_AUDIO"]
        spec.audio = {"driver": "alsa", "device": "" if device in ("1", "default") else device,
                      "voice_dir": env.get("KIOSK_HIL_VOICE_DIR", "")}
    return spec


def dry_run_spec(tmp: Path) -> HilSpec:
    """The dry-run bench: every kind of device once or twice, on ptys and mock pins."""
    return HilSpec(
        printer={"driver": "escpos-serial", "port": str(tmp / "kiosk-printer"), "baud": 115200,
                 "paper_mm": 80, "status_poll_s": 0.5, "print_timeout_s": 20.0},
        displays=[
            {"name": "display1", "driver": "epson-vfd-serial", "port": str(tmp / "kiosk-display-1"),
             "blink_s": 0.0},
            {"name": "display2", "driver": "alpha-serial", "port": str(tmp / "kiosk-display-2"),
             "blink_s": 0.0},
        ],
        keypads={1: {"next": 5, "recall": 6, "noshow": 13, "transfer": 19, "pause": 26},
                 2: {"next": 12, "recall": 16}},
        rating={1: {"satisfied": 20, "neutral": 21, "dissatisfied": 7}},
        take={"A": 4},
        lamps={1: 17, 2: 27},
        buzzer=18,
        stack={"green": 22, "amber": 23, "red": 24},
        audio=({"driver": "alsa", "device": "null", "espeak": shutil.which("espeak-ng") is not None}
               if shutil.which("aplay") else {"driver": "mock"}),
        key_timeout_s=5.0,
    )
