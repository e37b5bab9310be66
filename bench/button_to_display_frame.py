"""Button edge -> debounced press -> display frame written to a pty.

A gpiozero MockPin edge (``drive_low``) goes through our debounce and repeat guard to a
handler; the time is taken when the frame's bytes have been written to a real pty.

* ``button_to_display_frame_ms``: the handler encodes the board (Epson 2x20) and writes the
  frame itself (the minimum path);
* ``button_to_display_frame_via_worker_ms``: the handler calls ``display.show_call`` and the
  display's worker thread writes (the path the kiosk uses, minus the core's queue).

Each press is a 20-edge bounce burst; the fake clock of the debounce advances 3 s between
presses so the repeat guard never interferes. Target: p99 <= 10 ms. Baseline in the same
run: the bare write of one frame to the same pty, and the 1-minute load average.

    python -m bench.button_to_display_frame [--n 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time

from gpiozero.pins.mock import MockFactory

from bench.metrics import Metric, Target
from drivers.display.call_display import CallBoard, CallDisplay, EpsonCodec
from drivers.display.ports import SerialDisplayPort
from drivers.fakes import FakePtyDevice
from drivers.gpio.inputs import CounterKeypad
from drivers.jobs import CallInfo
from kiosk.domain.clock import FakeClock

METRICS = (
    Metric("button_to_display_frame_ms", "ms", Target("p99", "<=", 10),
           "MockPin edge → debounce → repeat guard → Epson frame written to a pty"),
    Metric("button_to_display_frame_via_worker_ms", "ms", Target("p99", "<=", 10),
           "the same through the display's worker thread"),
)


def pct(values, q):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q / 100 * (len(s) - 1))))]


def press(pin, clock, edges=20):
    for i in range(edges):
        pin.drive_low() if i % 2 == 0 else pin.drive_high()
    pin.drive_low()


def release(pin, clock):
    pin.drive_high()
    clock.advance(3.0)


def run(n: int, via_worker: bool, tmp: str) -> list[float]:
    factory = MockFactory()
    clock = FakeClock()
    link = os.path.join(tmp, f"vfd-{via_worker}")
    far = FakePtyDevice(link, keep_bytes=0)  # the display end: reads everything
    port = SerialDisplayPort(link, 9600)
    port.ensure_open()
    codec = EpsonCodec()
    board = CallBoard(2, 20)
    written: list[float] = []
    done = threading.Event()
    display = None
    counter = {"n": 0}

    if via_worker:
        display = CallDisplay("vfd", port, codec, blink_s=0).start()
        display.wait_idle()
        orig = port.write

        def write(data, _orig=orig):
            _orig(data)
            written.append(time.perf_counter())
            done.set()

        port.write = write

        def handler(event):
            counter["n"] += 1
            display.show_call(CallInfo(f"A{counter['n'] % 1000:03d}", event.counter))
    else:
        def handler(event):
            counter["n"] += 1
            frame = codec.frame(board.push(CallInfo(f"A{counter['n'] % 1000:03d}", event.counter)))
            port.write(frame)
            written.append(time.perf_counter())
            done.set()

    pad = CounterKeypad(3, {"next": 5}, handler, pin_factory=factory, clock=clock.monotonic)
    pin = factory.pin(5)
    lat, base = [], []
    frame = codec.frame(board.push(CallInfo("A000", 3)))
    for _ in range(n):
        done.clear()
        t0 = time.perf_counter()
        press(pin, clock)
        done.wait(5)
        lat.append((written[-1] - t0) * 1000)
        release(pin, clock)
        # baseline in the same run: the bare write of a frame to the same pty
        t0 = time.perf_counter()
        port.transport.write(frame)
        base.append((time.perf_counter() - t0) * 1000)
    pad.close()
    if display:
        display.close()
    port.close()
    far.close()
    factory.reset()
    return lat, base


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    args = ap.parse_args(argv)
    tmp = tempfile.mkdtemp(prefix="bench-button-")
    for via_worker, metric in ((False, "button_to_display_frame_ms"),
                               (True, "button_to_display_frame_via_worker_ms")):
        lat, base = run(args.n, via_worker, tmp)
        p99 = pct(lat, 99)
        print(json.dumps({"metric": metric, "p50": round(pct(lat, 50), 4), "p99": round(p99, 4),
                          "n": len(lat), "unit": "ms", "edges_per_press": 21, "target_p99_ms": 10,
                          "ok": p99 <= 10, "baseline_bare_write_p50": round(pct(base, 50), 4),
                          "baseline_bare_write_p99": round(pct(base, 99), 4),
                          "load_avg_1m": round(os.getloadavg()[0], 2)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
