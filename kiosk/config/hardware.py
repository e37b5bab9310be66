"""The ``[hardware]`` section: which driver runs each device, and its options.

An empty ``[hardware]`` section means virtual devices everywhere (laptop demo): a printer
that saves PNG tickets, displays that write to the log, keys on the console, silent audio.
Every key is documented in docs/hardware.md; unknown keys, wrong types and out-of-range values
are errors (`kiosk.config.strict`), and so is a control character in a text that is printed or
shown (`kiosk.config.text`).
``kiosk.app.hardware.build_devices`` hands ``HardwareConfig.driver_options()`` to ``drivers.factory.build_hardware``.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal, Optional

from pydantic import AfterValidator, Field, model_validator

from kiosk.config.strict import INT_ONLY, StrictModel
from kiosk.config.text import PrintableText, check_printable

BcmPin = int  # validated by the bounds below
_PIN = dict(ge=0, le=27)


def _printable_texts(value: str | dict[str, str]) -> str | dict[str, str]:
    """One text, or one per language: none with a control character."""
    for lang, text in ({"": value} if isinstance(value, str) else value).items():
        try:
            check_printable(text)
        except ValueError as exc:
            raise ValueError(f"the {lang!r} text {exc}" if lang else str(exc)) from None
    return value


class PrinterConfig(StrictModel):
    """The ticket printer (``[hardware.printer]``)."""

    driver: Literal["escpos-serial", "escpos-usb", "escpos-network", "escpos-file", "virtual", "mock"] = Field(
        "virtual", description="escpos-serial/-usb/-network/-file for a real printer; virtual saves PNGs; mock for tests")
    port: str = Field("/dev/ttyUSB0", description="serial port (escpos-serial)")
    baud: int = Field(115200, ge=1200, le=921600, description="serial speed, 8N1 (escpos-serial)")
    rtscts: bool = Field(False, description="hardware flow control RTS/CTS (escpos-serial)")
    usb_vendor: Optional[int] = Field(None, ge=0, le=0xFFFF, description="USB vendor id, e.g. 0x04b8 (escpos-usb)")
    usb_product: Optional[int] = Field(None, ge=0, le=0xFFFF, description="USB product id (escpos-usb)")
    host: str = Field("192.168.1.100", description="printer address (escpos-network)")
    tcp_port: int = Field(9100, ge=1, le=65535, description="raw TCP port (escpos-network)")
    path: str = Field("/dev/usb/lp0", description="device file (escpos-file)")
    profile: str = Field("", description="python-escpos profile with a paper width; empty: POS-5890 (58 mm) or TM-T20II (80 mm)")
    paper_mm: Annotated[Literal[58, 80], INT_ONLY] = Field(80, description="paper width in mm")
    text_mode: Literal["gb18030", "image"] = Field(
        "gb18030", description="Chinese as GB18030 in the printer's Chinese mode, or rendered to an image (any printer)")
    font: str = Field("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", description="CJK font for image mode and PNG tickets")
    qr_url: PrintableText = Field("", description="QR code URL template: {branch} {ticket} {ticket_id} {service} {day}; empty: no QR")
    qr_size: int = Field(6, ge=1, le=16, description="QR module size in dots")
    footer: Annotated[str | dict[str, str], AfterValidator(_printable_texts)] = Field("", description="footer line, one text or one per language")
    logo: str = Field("", description="image printed at the top (scaled to the paper width); empty: none")
    cut: bool = Field(True, description="cut the paper after each ticket")
    status_poll_s: float = Field(5.0, ge=0, le=3600, description="real-time status (DLE EOT) poll period; 0: the printer cannot answer, print unverified")
    status_timeout_s: float = Field(0.5, gt=0, le=10, description="wait for one status answer")
    print_timeout_s: float = Field(30.0, gt=0, le=600, description="time limit of one ticket (image mode at 9600 baud needs ~25 s)")
    out_dir: str = Field("tickets", description="folder of the PNG tickets (virtual), relative to the data directory")

    @model_validator(mode="after")
    def _needs(self) -> "PrinterConfig":
        if self.driver == "escpos-usb" and (self.usb_vendor is None or self.usb_product is None):
            raise ValueError("escpos-usb needs usb_vendor and usb_product")
        return self


class DisplayConfig(StrictModel):
    """One call display (``[[hardware.displays]]``)."""

    name: str = Field("", pattern=r"^[A-Za-z0-9_.-]{0,32}$", description="device name in faults and events; default display1, display2…")
    driver: Literal["alpha-serial", "epson-vfd-serial", "bx-serial", "virtual", "mock"] = Field(
        "virtual", description="alpha-serial: Alpha M-Protocol LED board; epson-vfd-serial: 2x20 customer display; "
                               "bx-serial: Onbon BX-5E matrix sign (Chinese, rendered)")
    protocol: Literal["alpha", "epson", "bx"] = Field("epson", description="what a virtual/mock display imitates")
    port: str = Field("/dev/ttyUSB1", description="serial port; Alpha signs on one RS-485 line share it")
    baud: int = Field(9600, ge=1200, le=115200, description="serial speed")
    framing: Optional[Literal["7E1", "8N1", "7O1", "8E1", "7N2", "8N2"]] = Field(
        None, description="data bits, parity, stop bits; default 7E1 for Alpha, 8N1 for Epson")
    address: int = Field(0, ge=0, le=255, description="Alpha sign address / BX screen number (0 = every sign on the line)")
    bx_device: Literal["any", "BX-5E1", "BX-5E2", "BX-5E3"] = Field("any", description="BX controller model (any = wildcard)")
    type_code: str = Field("Z", pattern=r"^[!-~]$", description="Alpha sign type code (Z = all types)")
    colour: Literal["red", "green", "amber", "dim_red", "dim_green", "brown", "orange", "yellow",
                    "rainbow1", "rainbow2", "mix", "auto"] = Field("amber", description="Alpha text colour")
    rows: int = Field(2, ge=1, le=4, description="lines shown = latest calls listed")
    width: int = Field(20, ge=8, le=80, description="characters per line")
    brightness: int = Field(4, ge=1, le=4, description="Epson display brightness")
    select_display: bool = Field(False, description="send ESC = 2 first (display behind a printer's pass-through)")
    language: str = Field("en", description="language of the counter names (Alpha/Epson are 7-bit ASCII; a BX sign shows zh in Chinese)")
    idle_message: PrintableText = Field("Welcome", max_length=80, description="shown when no call is on")
    blink_s: float = Field(5.0, ge=0, le=60, description="how long a new call blinks")
    counters: list[int] = Field(default_factory=list, description="counters whose calls it shows; empty: all")


class KeypadConfig(StrictModel):
    """The keys of one counter (``[[hardware.keypads]]``), BCM pin numbers, wired to GND."""

    counter: int = Field(ge=1, description="counter number")
    next: Optional[int] = Field(None, **_PIN, description="call next")
    recall: Optional[int] = Field(None, **_PIN, description="call the current ticket again")
    noshow: Optional[int] = Field(None, **_PIN, description="customer did not come")
    transfer: Optional[int] = Field(None, **_PIN, description="transfer to another service")
    pause: Optional[int] = Field(None, **_PIN, description="pause / resume the counter")


class TakeTicketConfig(StrictModel):
    """A dispenser button (``[[hardware.take_ticket]]``)."""

    service: str = Field(pattern=r"^[A-Z]{1,3}$", description="service prefix the button issues")
    pin: int = Field(**_PIN, description="BCM pin")
    repeat_guard_s: float = Field(1.0, ge=0, le=30, description="a second press within this is ignored")


class RatingPadConfig(StrictModel):
    """Three rating keys at a counter (``[[hardware.rating_pads]]``)."""

    counter: int = Field(ge=1, description="counter number")
    satisfied: Optional[int] = Field(None, **_PIN, description="score 5")
    neutral: Optional[int] = Field(None, **_PIN, description="score 3")
    dissatisfied: Optional[int] = Field(None, **_PIN, description="score 1")


class LampConfig(StrictModel):
    """A "now serving" lamp (``[[hardware.lamps]]``), through a transistor/relay."""

    counter: int = Field(ge=1, description="counter number")
    pin: int = Field(**_PIN, description="BCM pin")


class BuzzerConfig(StrictModel):
    """The chime buzzer (``[hardware.buzzer]``)."""

    pin: Optional[int] = Field(None, **_PIN, description="BCM pin; none: no buzzer")


class StackLightConfig(StrictModel):
    """Alert tower light (``[hardware.stack_light]``): green 0, amber 1, red blinking 2."""

    green: Optional[int] = Field(None, **_PIN, description="BCM pin of the green lamp")
    amber: Optional[int] = Field(None, **_PIN, description="BCM pin of the amber lamp")
    red: Optional[int] = Field(None, **_PIN, description="BCM pin of the red lamp")


class AudioConfig(StrictModel):
    """Announcements (``[hardware.audio]``); the languages come from ``[languages] announce``."""

    driver: Literal["alsa", "mock", "silent"] = Field("silent", description="alsa plays with aplay; silent only logs")
    voice_dir: str = Field("", description="voice pack folder: <dir>/<lang>/<token>.wav and chime.wav")
    espeak: bool = Field(True, description="speak tokens missing from the pack with espeak-ng")
    espeak_voices: dict[str, str] = Field(default_factory=dict, description="espeak-ng voice per language (default zh: cmn, en: en)")
    device: str = Field("", description="ALSA device for aplay -D; empty: default")
    chime: bool = Field(True, description="chime before each call")
    play_timeout_s: float = Field(30.0, gt=0, le=300, description="time limit of one announcement")


class HardwareConfig(StrictModel):
    """The ``[hardware]`` section."""

    gpio: Literal["gpiozero", "mock", "virtual"] = Field(
        "virtual", description="gpiozero: real pins; mock: gpiozero MockFactory (tests); virtual: keys from the console")
    debounce_ms: int = Field(50, ge=1, le=500, description="a press needs the key released this long before it")
    printer: PrinterConfig = Field(default_factory=PrinterConfig, description="the ticket printer")
    displays: list[DisplayConfig] = Field(default_factory=list, description="call displays")
    keypads: list[KeypadConfig] = Field(default_factory=list, description="counter keypads")
    take_ticket: list[TakeTicketConfig] = Field(default_factory=list, description="dispenser buttons")
    rating_pads: list[RatingPadConfig] = Field(default_factory=list, description="rating pads")
    lamps: list[LampConfig] = Field(default_factory=list, description="now-serving lamps")
    buzzer: BuzzerConfig = Field(default_factory=BuzzerConfig, description="chime buzzer")
    stack_light: StackLightConfig = Field(default_factory=StackLightConfig, description="alert stack light")
    audio: AudioConfig = Field(default_factory=AudioConfig, description="announcements")

    @model_validator(mode="after")
    def _unique(self) -> "HardwareConfig":
        used: dict[int, str] = {}

        def claim(pin: Optional[int], what: str) -> None:
            if pin is None:
                return
            if pin in used:
                raise ValueError(f"GPIO{pin} is used twice: {used[pin]} and {what}")
            used[pin] = what

        for i, k in enumerate(self.keypads):
            for key in ("next", "recall", "noshow", "transfer", "pause"):
                claim(getattr(k, key), f"keypads[{i}].{key}")
        for i, b in enumerate(self.take_ticket):
            claim(b.pin, f"take_ticket[{i}].pin")
        for i, r in enumerate(self.rating_pads):
            for key in ("satisfied", "neutral", "dissatisfied"):
                claim(getattr(r, key), f"rating_pads[{i}].{key}")
        for i, lamp in enumerate(self.lamps):
            claim(lamp.pin, f"lamps[{i}].pin")
        claim(self.buzzer.pin, "buzzer.pin")
        for key in ("green", "amber", "red"):
            claim(getattr(self.stack_light, key), f"stack_light.{key}")
        for what, items in (("keypads", self.keypads), ("rating_pads", self.rating_pads),
                            ("lamps", self.lamps)):
            counters = [x.counter for x in items]
            if len(counters) != len(set(counters)):
                raise ValueError(f"{what}: a counter is listed twice")
        names = [d.name or f"display{i + 1}" for i, d in enumerate(self.displays)]
        if len(names) != len(set(names)):
            raise ValueError("displays: two displays have the same name")
        return self

    def driver_options(self) -> dict[str, Any]:
        """The section as the plain options `drivers.factory.build_hardware` takes: every display
        named, Alpha boards 16 columns wide unless set."""
        options = self.model_dump()
        for i, d in enumerate(options["displays"]):
            d["name"] = d["name"] or f"display{i + 1}"
            display = self.displays[i]
            is_alpha = display.driver == "alpha-serial" or (
                display.driver in ("virtual", "mock") and display.protocol == "alpha")
            if is_alpha and "width" not in display.model_fields_set:
                d["width"] = 16  # Alpha boards are narrower than a 2x20 customer display
        return options
