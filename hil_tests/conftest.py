"""Hardware-in-the-loop fixtures: devices declared by KIOSK_HIL_* variables, a bench lock,
and a tester prompt with a time limit. See hil_tests/README.md for wiring and variables.

Every test runs on a *rig*, parametrised twice:

* ``virtual``: the same drivers against virtual devices (printer and displays on pseudo-
  terminals, keys and lamps on gpiozero mock pins, audio to ALSA's null device). Runs in CI
  (default; ``KIOSK_HIL_DRYRUN=0`` turns it off on a bench).
* ``hardware``: the devices named by KIOSK_HIL_* variables; skipped when none are declared.
  Holds an exclusive lock on the bench (``/tmp/kiosk-hil.lock`` or ``KIOSK_HIL_LOCK``) so two
  runs never fight over a serial port or a pin.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import queue
import select
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import pytest

from hil_tests.virtual import PtyPeer, VirtualEscposPrinter

HIL_DIR = Path(__file__).resolve().parent
DEVICE_VARS = ("KIOSK_HIL_PRINTER", "KIOSK_HIL_DISPLAYS", "KIOSK_HIL_KEYPADS", "KIOSK_HIL_RATING",
               "KIOSK_HIL_TAKE", "KIOSK_HIL_LAMPS", "KIOSK_HIL_BUZZER", "KIOSK_HIL_STACK",
               "KIOSK_HIL_AUDIO")


# --------------------------------------------------------------------------- variables


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


def virtual_spec(tmp: Path) -> HilSpec:
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


# --------------------------------------------------------------------------- tester


class Tester:
    """Talks to the person at the bench through /dev/tty (pytest's capture is bypassed).

    Without a terminal (CI, or KIOSK_HIL_INTERACTIVE=0) nothing is asked: ``confirm``
    returns None and key presses must be simulated.
    """

    def __init__(self, interactive: Optional[bool] = None, timeout_s: float = 30.0) -> None:
        self.timeout_s = timeout_s
        self._tty = None
        if interactive is None:
            interactive = os.environ.get("KIOSK_HIL_INTERACTIVE", "1") != "0"
        if interactive:
            try:
                self._tty = open("/dev/tty", "r+", buffering=1, encoding="utf-8")
            except OSError:
                self._tty = None

    @property
    def interactive(self) -> bool:
        return self._tty is not None

    def say(self, text: str) -> None:
        if self._tty is not None:
            self._tty.write(f"\n[HIL] {text}\n")
            self._tty.flush()

    def confirm(self, question: str, timeout_s: Optional[float] = None) -> Optional[bool]:
        """Ask a yes/no question; None when nobody can answer (or no answer in time)."""
        if self._tty is None:
            return None
        timeout_s = self.timeout_s if timeout_s is None else timeout_s
        self._tty.write(f"\n[HIL] {question} [y/n, {timeout_s:.0f} s] ")
        self._tty.flush()
        ready, _, _ = select.select([self._tty], [], [], timeout_s)
        if not ready:
            self._tty.write("(no answer)\n")
            return None
        return self._tty.readline().strip().lower().startswith("y")

    def wait_press(self, what: str, events: "queue.Queue", match: Callable[[Any], bool],
                   simulate: Optional[Callable[[], None]] = None,
                   timeout_s: Optional[float] = None) -> Any:
        """Ask for a key press and wait for the matching event; fail after the time limit.

        ``simulate`` presses the key for the tester (dry run). Other events that arrive
        meanwhile are reported and ignored (a wrong key is not the right key).
        """
        timeout_s = self.timeout_s if timeout_s is None else timeout_s
        if simulate is not None:
            simulate()
        else:
            self.say(f"press {what} (within {timeout_s:.0f} s)")
        deadline = time.monotonic() + timeout_s
        seen = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"no press of {what} within {timeout_s:.0f} s (other events: {seen})")
            try:
                event = events.get(timeout=left)
            except queue.Empty:
                continue
            if match(event):
                return event
            seen.append(event)
            self.say(f"got {event}, still waiting for {what}")

    def close(self) -> None:
        if self._tty is not None:
            self._tty.close()
            self._tty = None


# --------------------------------------------------------------------------- lock


@contextlib.contextmanager
def bench_lock(path: Optional[str] = None, timeout_s: Optional[float] = None) -> Iterator[Path]:
    """Exclusive ``flock`` on the bench; waits up to ``timeout_s`` (KIOSK_HIL_LOCK_TIMEOUT)."""
    lock_path = Path(path or os.environ.get("KIOSK_HIL_LOCK", "/tmp/kiosk-hil.lock"))
    timeout_s = float(os.environ.get("KIOSK_HIL_LOCK_TIMEOUT", "600")) if timeout_s is None else timeout_s
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 200, 0).decode(errors="replace").strip()
                    raise TimeoutError(f"HIL bench {lock_path} is busy ({holder or 'unknown holder'})")
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} since {time.strftime('%H:%M:%S')}\n".encode(), 0)
        yield lock_path
    finally:
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


# --------------------------------------------------------------------------- rig


@dataclass
class Rig:
    """Devices under test, built by the real factory from a :class:`HilSpec`."""

    kind: str  # "virtual" or "hardware"
    spec: HilSpec
    hw: Any  # drivers.factory.Hardware
    tester: Tester
    events: "queue.Queue"
    peers: dict[str, PtyPeer] = field(default_factory=dict)
    pin_factory: Any = None

    @property
    def virtual(self) -> bool:
        return self.kind == "virtual"

    def simulate(self, button: str) -> Optional[Callable[[], None]]:
        """A press of ``button`` (``counter1.next``) on a mock pin; None on real hardware."""
        if not self.virtual:
            return None
        pin = self.hw.inputs.pins()[button]

        def press() -> None:
            pin.drive_low()  # keys are wired to GND with the pull-up on
            time.sleep(0.08)  # longer than the 50 ms debounce settle time
            pin.drive_high()
            time.sleep(0.08)

        return press


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HIL_DIR in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.hil)


@pytest.fixture(scope="session")
def hil_spec() -> HilSpec:
    try:
        return parse_env()
    except HilSpecError as exc:
        pytest.exit(f"hil_tests: {exc}", returncode=4)


@pytest.fixture(params=["virtual", "hardware"])
def rig(request, hil_spec, tmp_path) -> Iterator[Rig]:
    kind = request.param
    if kind == "virtual" and os.environ.get("KIOSK_HIL_DRYRUN", "1") == "0":
        pytest.skip("virtual dry run turned off (KIOSK_HIL_DRYRUN=0)")
    if kind == "hardware" and not hil_spec.declared:
        pytest.skip("no hardware declared (KIOSK_HIL_* unset; see hil_tests/README.md)")

    from kiosk.config.hardware import HardwareConfig

    events: queue.Queue = queue.Queue()
    with contextlib.ExitStack() as stack:
        peers: dict[str, PtyPeer] = {}
        pin_factory = None
        if kind == "virtual":
            spec = virtual_spec(tmp_path)
            peers["printer"] = stack.enter_context(_closing(VirtualEscposPrinter(spec.printer["port"])))
            for d in spec.displays:
                peers[d["name"]] = stack.enter_context(_closing(PtyPeer(d["port"])))
            from gpiozero.pins.mock import MockFactory

            pin_factory = MockFactory()
            stack.callback(pin_factory.reset)
            gpio = "mock"
        else:
            spec = hil_spec
            stack.enter_context(bench_lock())
            gpio = "gpiozero"
        config = HardwareConfig(**spec.hardware_options(gpio))
        # virtual keys: hall time runs 20x faster, so the 1 s guards of the rating pad and
        # take-ticket buttons pass between two simulated presses without sleeping
        clock = _FastClock(20.0) if kind == "virtual" else None
        hw = config.build(sink=events.put, base_dir=str(tmp_path), pin_factory=pin_factory,
                          repeat_guard_s=0.0, clock=clock)
        stack.callback(hw.close)
        tester = Tester(interactive=False if kind == "virtual" else None, timeout_s=spec.key_timeout_s)
        stack.callback(tester.close)
        yield Rig(kind, spec, hw, tester, events, peers, pin_factory)


class _FastClock:
    """A monotonic clock running ``factor`` times faster than the real one."""

    def __init__(self, factor: float) -> None:
        self.factor = factor
        self.start = time.monotonic()

    def __call__(self) -> float:
        return self.start + (time.monotonic() - self.start) * self.factor


class _closing(contextlib.AbstractContextManager):
    def __init__(self, thing):
        self.thing = thing

    def __enter__(self):
        return self.thing

    def __exit__(self, *exc):
        self.thing.close()
        return False


def pytest_report_header(config):
    try:
        spec = parse_env()
    except HilSpecError as exc:
        return f"hil: bad variables: {exc}"
    declared = [v for v in DEVICE_VARS if os.environ.get(v)]
    dry = os.environ.get("KIOSK_HIL_DRYRUN", "1") != "0"
    return (f"hil: hardware {'declared: ' + ', '.join(declared) if spec.declared else 'not declared'}; "
            f"virtual dry run {'on' if dry else 'off'}")

