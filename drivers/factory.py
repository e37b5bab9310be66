"""Build devices by name from plain options (a dict such as ``HardwareConfig.model_dump()``).

``build_hardware({})`` gives virtual devices everywhere (laptop demo): a printer saving PNG
tickets, displays writing to the log, virtual keys, silent audio that logs what it would say.
Unknown driver names raise :class:`~drivers.base.DeviceConfigError`.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any, Callable, Mapping, Optional

from drivers.audio.announcer import AlsaAnnouncer, Announcer, MockAnnouncer, SilentAnnouncer
from drivers.base import DeviceConfigError, FaultListener
from drivers.display.bx_sign import BxCodec, bx_display_class
from drivers.display.call_display import AlphaCodec, CallDisplay, DisplayCodec, EpsonCodec
from drivers.display.ports import DisplayPort, SerialDisplayPort
from drivers.display.mock import MockDisplay
from drivers.display.virtual import VirtualDisplay
from drivers.gpio.inputs import CounterKeypad, InputHub, RatingPad, Sink, TakeTicketButton
from drivers.gpio.outputs import ChimeBuzzer, CounterLamps, StackLight
from drivers.jobs import CallInfo
from drivers.printer.base import TicketPrinter
from drivers.printer.ticket_layout import DEFAULT_FONT, LayoutOptions

log = logging.getLogger(__name__)

PRINTER_DRIVERS = ("escpos-serial", "escpos-usb", "escpos-network", "escpos-file", "virtual", "mock")
DISPLAY_DRIVERS = ("alpha-serial", "epson-vfd-serial", "bx-serial", "virtual", "mock")
SERIAL_DISPLAY_PROTOCOLS = {"alpha-serial": "alpha", "epson-vfd-serial": "epson", "bx-serial": "bx"}
AUDIO_DRIVERS = ("alsa", "mock", "silent")
GPIO_DRIVERS = ("gpiozero", "mock", "virtual")


def _opt(options: Mapping[str, Any], key: str, default: Any = None) -> Any:
    value = options.get(key)
    return default if value is None else value


def layout_from(options: Mapping[str, Any]) -> LayoutOptions:
    return LayoutOptions(
        paper_mm=int(_opt(options, "paper_mm", 80)),
        profile=_opt(options, "profile") or None,
        text_mode=_opt(options, "text_mode", "gb18030"),
        font_path=_opt(options, "font", DEFAULT_FONT),
        logo=_opt(options, "logo") or None,
        qr_url=_opt(options, "qr_url", ""),
        footer=_opt(options, "footer") or None,
        qr_size=int(_opt(options, "qr_size", 6)),
        cut=bool(_opt(options, "cut", True)),
    )


def build_printer(listener: Optional[FaultListener] = None, *, name: str = "printer",
                  base_dir: str = ".", tz: Optional[tzinfo] = None, **options: Any) -> TicketPrinter:
    """A started printer from options (``driver``, ``port``, ``baud``, ``paper_mm``...); ``tz``:
    the time zone of the virtual printer's file names (the hall's)."""
    driver = _opt(options, "driver", "virtual")
    try:
        layout = layout_from(options)
        layout.width_px
    except ValueError as exc:
        raise DeviceConfigError(f"printer: {exc}") from None
    timing = dict(status_poll_s=float(_opt(options, "status_poll_s", 5.0)),
                  print_timeout_s=float(_opt(options, "print_timeout_s", 30.0)))
    if driver in ("virtual", "mock"):
        from drivers.printer.mock import MockPrinter
        from drivers.printer.virtual import VirtualPrinter

        timing["status_poll_s"] = min(timing["status_poll_s"], 1.0) or 1.0
        if driver == "mock":
            return MockPrinter(name, layout, listener=listener, **timing).start()
        out_dir = os.path.join(base_dir, _opt(options, "out_dir", "tickets"))
        return VirtualPrinter(name, layout, out_dir=out_dir, tz=tz, listener=listener, **timing).start()
    from drivers.printer.escpos import EscposPrinter
    from drivers.transport import FileTransport, SerialTransport, SocketTransport, UsbTransport

    if driver == "escpos-serial":
        transport = SerialTransport(_opt(options, "port", "/dev/ttyUSB0"), int(_opt(options, "baud", 115200)),
                                    rtscts=bool(_opt(options, "rtscts", False)))
    elif driver == "escpos-usb":
        if options.get("usb_vendor") is None or options.get("usb_product") is None:
            raise DeviceConfigError("printer: escpos-usb needs usb_vendor and usb_product")
        transport = UsbTransport(int(options["usb_vendor"]), int(options["usb_product"]))
    elif driver == "escpos-network":
        transport = SocketTransport(_opt(options, "host", "192.168.1.100"), int(_opt(options, "tcp_port", 9100)))
    elif driver == "escpos-file":
        transport = FileTransport(_opt(options, "path", "/dev/usb/lp0"))
    else:
        raise DeviceConfigError(f"printer: unknown driver {driver!r} (one of {', '.join(PRINTER_DRIVERS)})")
    return EscposPrinter(name, transport, layout, listener=listener,
                         status_timeout_s=float(_opt(options, "status_timeout_s", 0.5)), **timing).start()


def _codec(protocol: str, options: Mapping[str, Any]) -> DisplayCodec:
    rows = int(_opt(options, "rows", 2))
    try:
        if protocol == "alpha":
            return AlphaCodec(int(_opt(options, "address", 0)), type_code=_opt(options, "type_code", "Z"),
                              colour=_opt(options, "colour", "amber"), rows=rows,
                              width=int(_opt(options, "width", 16)))
        if protocol == "epson":
            return EpsonCodec(width=int(_opt(options, "width", 20)), rows=rows,
                              brightness=int(_opt(options, "brightness", 4)),
                              select_display=bool(_opt(options, "select_display", False)))
        if protocol == "bx":
            return BxCodec(int(_opt(options, "address", 0)), device=_opt(options, "bx_device", "any"),
                           rows=rows, width=int(_opt(options, "width", 20)))
    except ValueError as exc:
        raise DeviceConfigError(f"display: {exc}") from None
    raise DeviceConfigError(f"display: unknown protocol {protocol!r} (alpha, epson or bx)")


def build_display(listener: Optional[FaultListener] = None, *, name: str = "display",
                  ports: Optional[dict[str, DisplayPort]] = None, **options: Any) -> CallDisplay:
    """A started display. Serial displays on the same ``port`` share it (RS-485 line)."""
    driver = _opt(options, "driver", "virtual")
    common = dict(listener=listener, language=_opt(options, "language", "en"),
                  idle_message=_opt(options, "idle_message", "Welcome"),
                  blink_s=float(_opt(options, "blink_s", 5.0)))
    if driver in ("virtual", "mock"):
        protocol = _opt(options, "protocol", "epson")
        codec = _codec(protocol, options)
        if protocol == "bx":
            return bx_display_class(driver)(name, codec, **common).start()
        cls = MockDisplay if driver == "mock" else VirtualDisplay
        return cls(name, codec, **common).start()
    if driver not in SERIAL_DISPLAY_PROTOCOLS:
        raise DeviceConfigError(f"display {name}: unknown driver {driver!r} (one of {', '.join(DISPLAY_DRIVERS)})")
    protocol = SERIAL_DISPLAY_PROTOCOLS[driver]
    framing = _opt(options, "framing", "7E1" if protocol == "alpha" else "8N1").upper()
    if len(framing) != 3 or framing[0] not in "78" or framing[1] not in "NEO" or framing[2] not in "12":
        raise DeviceConfigError(f"display {name}: framing must look like 7E1 or 8N1, not {framing!r}")
    port_path = _opt(options, "port", "/dev/ttyUSB1")
    ports = ports if ports is not None else {}
    port = ports.get(port_path)
    if port is None:
        port = ports[port_path] = SerialDisplayPort(
            port_path, int(_opt(options, "baud", 9600)), bytesize=int(framing[0]), parity=framing[1],
            stopbits=int(framing[2]))
    cls = bx_display_class(driver) if protocol == "bx" else CallDisplay
    return cls(name, port, _codec(protocol, options), **common).start()


def build_announcer(listener: Optional[FaultListener] = None, **options: Any) -> Announcer:
    driver = _opt(options, "driver", "silent")
    if driver == "silent":
        return _LoggingSilent()
    if driver == "mock":
        return MockAnnouncer(listener=listener)
    if driver == "alsa":
        return AlsaAnnouncer(voice_dir=_opt(options, "voice_dir") or None, espeak=bool(_opt(options, "espeak", True)),
                             espeak_voices=_opt(options, "espeak_voices") or None,
                             device=_opt(options, "device") or None, chime=bool(_opt(options, "chime", True)),
                             play_timeout_s=float(_opt(options, "play_timeout_s", 30.0)), listener=listener)
    raise DeviceConfigError(f"audio: unknown driver {driver!r} (one of {', '.join(AUDIO_DRIVERS)})")


class _LoggingSilent(SilentAnnouncer):
    def announce(self, call, languages):
        fut = super().announce(call, languages)
        log.info("audio (silent): %s", " / ".join(s.text for s in fut.result()))
        return fut


def _pin_factory(gpio: str, pin_factory):
    if pin_factory is not None:
        return pin_factory
    if gpio == "gpiozero":
        return None  # gpiozero's default factory (lgpio on a Pi; GPIOZERO_PIN_FACTORY)
    from gpiozero import Device
    from gpiozero.pins.mock import MockFactory

    if gpio == "mock" and isinstance(Device.pin_factory, MockFactory):
        return Device.pin_factory  # the one a test fixture installed
    return MockFactory()


@dataclass
class Hardware:
    """Every device of the hall, built by :func:`build_hardware`."""

    printer: TicketPrinter
    displays: dict[str, CallDisplay]
    inputs: InputHub
    announcer: Announcer
    lamps: Optional[CounterLamps] = None
    buzzer: Optional[ChimeBuzzer] = None
    stack_light: Optional[StackLight] = None
    pin_factory: Any = None
    display_counters: dict[str, tuple[int, ...]] = field(default_factory=dict)
    ports: dict[str, DisplayPort] = field(default_factory=dict)

    def displays_for(self, counter: int) -> list[CallDisplay]:
        """Displays that show calls to ``counter`` (those with no ``counters`` list show all)."""
        return [d for name, d in self.displays.items()
                if not self.display_counters.get(name) or counter in self.display_counters[name]]

    def show_call(self, call: CallInfo) -> list:
        return [d.show_call(call) for d in self.displays_for(call.counter)]

    def set_sink(self, sink: Optional[Sink]) -> None:
        self.inputs.set_sink(sink)

    def devices(self) -> dict[str, Any]:
        out: dict[str, Any] = {self.printer.name: self.printer}
        out.update(self.displays)
        out[getattr(self.announcer, "name", "audio")] = self.announcer
        return out

    def faults(self) -> dict[str, Optional[str]]:
        """Current fault kind per output device (``None`` = fine)."""
        out = {}
        for name, dev in self.devices().items():
            tracker = getattr(dev, "faults", None)
            kind = getattr(tracker, "kind", None)
            out[name] = kind.value if kind is not None else None
        return out

    def close(self) -> None:
        for closer in (self.inputs, self.printer, *self.displays.values(), self.announcer,
                       self.lamps, self.buzzer, self.stack_light, *self.ports.values()):
            if closer is None:
                continue
            try:
                closer.close()
            except Exception:
                log.exception("closing %r failed", closer)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def build_hardware(config: Optional[Mapping[str, Any]] = None, *,
                   listener: Optional[FaultListener] = None, sink: Optional[Sink] = None,
                   repeat_guard_s: float = 2.0, pin_factory=None, base_dir: str = ".",
                   clock: Optional[Callable[[], float]] = None, tz: Optional[tzinfo] = None) -> Hardware:
    """Every device from the ``[hardware]`` options (see docs/hardware.md).

    :param listener: ``(device, kind, reason)`` for faults and recoveries of output devices.
    :param sink: gets every :class:`~drivers.jobs.InputEvent` (may be set later with
        ``hardware.set_sink``); it runs on gpiozero's thread: enqueue only.
    :param repeat_guard_s: from the ``[policy]`` section: a second "next" within it is ignored.
    :param tz: the hall's time zone, for what the devices stamp with the time (the virtual
        printer's file names); the machine's when None.
    """
    import time as _time

    cfg = dict(config or {})
    clock = clock or _time.monotonic
    gpio = _opt(cfg, "gpio", "virtual")
    if gpio not in GPIO_DRIVERS:
        raise DeviceConfigError(f"gpio: unknown driver {gpio!r} (one of {', '.join(GPIO_DRIVERS)})")
    built: list[Any] = []
    try:
        printer = build_printer(listener, base_dir=base_dir, tz=tz, **dict(cfg.get("printer") or {}))
        built.append(printer)
        ports: dict[str, DisplayPort] = {}
        displays: dict[str, CallDisplay] = {}
        counters: dict[str, tuple[int, ...]] = {}
        for i, options in enumerate(cfg.get("displays") or []):
            options = dict(options)
            name = options.pop("name", None) or f"display{i + 1}"
            if name in displays:
                raise DeviceConfigError(f"two displays are called {name!r}")
            counters[name] = tuple(options.pop("counters", None) or ())
            displays[name] = build_display(listener, name=name, ports=ports, **options)
            built.append(displays[name])
        announcer = build_announcer(listener, **dict(cfg.get("audio") or {}))
        built.append(announcer)

        pf = _pin_factory(gpio, pin_factory)
        settle_s = float(_opt(cfg, "debounce_ms", 50)) / 1000.0
        hub = InputHub(sink)
        hub.clock, hub.repeat_guard_s = clock, repeat_guard_s
        built.append(hub)
        for pad in cfg.get("keypads") or []:
            pins = {k: pad.get(k) for k in ("next", "recall", "noshow", "transfer", "pause")}
            c = int(pad["counter"])
            hub.keypads[c] = CounterKeypad(c, pins, sink, repeat_guard_s=repeat_guard_s,
                                           settle_s=settle_s, pin_factory=pf, clock=clock)
        for button in cfg.get("take_ticket") or []:
            hub.take_buttons[button["service"]] = TakeTicketButton(
                button["pin"], button["service"], sink, settle_s=settle_s, pin_factory=pf, clock=clock,
                repeat_guard_s=float(_opt(button, "repeat_guard_s", 1.0)))
        for pad in cfg.get("rating_pads") or []:
            c = int(pad["counter"])
            pins = {k: pad.get(k) for k in ("satisfied", "neutral", "dissatisfied")}
            hub.rating_pads[c] = RatingPad(c, pins, sink, settle_s=settle_s, pin_factory=pf, clock=clock)
        lamps_cfg = cfg.get("lamps") or []
        lamps = CounterLamps({int(l["counter"]): l["pin"] for l in lamps_cfg}, pin_factory=pf) if lamps_cfg else None
        built.append(lamps)
        buzzer_cfg = cfg.get("buzzer") or {}
        buzzer = ChimeBuzzer(buzzer_cfg["pin"], pin_factory=pf) if buzzer_cfg.get("pin") is not None else None
        built.append(buzzer)
        sl = cfg.get("stack_light") or {}
        stack = (StackLight(sl.get("green"), sl.get("amber"), sl.get("red"), pin_factory=pf)
                 if any(sl.get(k) is not None for k in ("green", "amber", "red")) else None)
    except BaseException:
        for dev in built:
            if dev is not None:
                try:
                    dev.close()
                except Exception:
                    pass
        raise
    return Hardware(printer, displays, hub, announcer, lamps, buzzer, stack, pf, counters, ports)
