"""Start-up of the kiosk with its touchscreen: time to the first frame and memory.

    python -m bench.ui_startup [--runs 5] [--size 800x480]

Metrics (one JSON object per line, design.md's benchmark contract):

* ``startup_ready_s`` — from just before the process is started to the first frame on the
  screen (Kivy's first ``on_flip`` after the customer screen is built). The child prints
  ``time.monotonic()`` at that moment; CLOCK_MONOTONIC is system-wide on Linux.
* ``rss_ui_mb`` — VmRSS of that process at the first frame (core + Kivy + Mesa).
* ``rss_ui_gl_mb`` — the part of it that is the software GL stack of this machine
  (libLLVM + the Mesa DRI driver mappings; a Pi's V3D driver has no LLVM).
* ``rss_headless_mb`` — VmRSS of a process that starts `KioskApp` without Kivy.
* ``rss_ui_without_numpy_mb`` — ``rss_ui_mb`` when numpy cannot be imported (sqlite_utils
  and Pillow import it whenever it is installed; the kiosk itself never uses it).
* ``rss_kivy_floor_mb`` — the smallest Kivy app (one label) configured like the kiosk, on the
  same GL stack and window: what any Kivy UI costs here. ``rss_ui_over_kivy_floor_mb`` is
  the kiosk's own share on top of it (core, devices, screens).

The entry is ``python -m kiosk run --screen kiosk`` with KIOSK_UI_EXIT_AFTER_FIRST_FRAME=1;
if that command cannot start (a part of `kiosk run` missing), ``python -m ui.devtools.window``
(the same core + UI without devices) is measured instead and each line says which entry was used.
Targets on this machine: first frame ≤ 3 s, RSS with UI ≤ 150 MB, headless ≤ 60 MB.
Runs headless (SDL offscreen on Mesa) when there is no DISPLAY.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kiosk.sim.processes import stop_process

ROOT = Path(__file__).resolve().parent.parent

HEADLESS = r"""
import sys, time
from kiosk.app.kiosk_app import KioskApp
from kiosk.config.settings import load_settings
app = KioskApp(load_settings(sys.argv[1]), sys.argv[2]).start()
app.snapshot()
rss = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmRSS:"))
print(rss / 1024.0, flush=True)
app.stop()
"""

# the floor: the smallest Kivy program, configured as the kiosk configures Kivy (same window,
# font, GL stack, numpy kept out), measured at its first frame the same way
KIVY_FLOOR = r"""
import json, os, sys
sys.modules["numpy"] = None
from ui.app import configure_kivy
configure_kivy(None, size=(int(sys.argv[1]), int(sys.argv[2])))
from ui.memory import gl_rss_mb, release_memory, rss_mb
from kivy.app import App
from kivy.core.window import Window
from kivy.uix.label import Label

class Floor(App):
    def load_kv(self, filename=None):   # no kv file (and no source file to look beside)
        return None

    def build(self):
        Window.bind(on_flip=self.first)
        return Label(text="请A023号到3号窗口 Ticket A023, counter 3", font_size=32)

    def first(self, *args):
        Window.unbind(on_flip=self.first)
        release_memory()
        print(json.dumps({"first_frame_monotonic": 0, "rss_mb": rss_mb(), "gl_mb": gl_rss_mb()}), flush=True)
        self.stop()

Floor().run()
"""


def _config(tmp: Path, size: tuple[int, int]) -> Path:
    from kiosk.config.settings import DEFAULT_CONFIG
    text = DEFAULT_CONFIG.read_text(encoding="utf-8")
    if "\n[ui]" not in text:
        text += f"\n[ui]\nfullscreen = false\nsize = [{size[0]}, {size[1]}]\n"
    cfg = tmp / "kiosk.toml"
    cfg.write_text(text, encoding="utf-8")
    return cfg


def _env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("KIVY_HOME", str(tmp / "kivy-home"))
    env.setdefault("KIVY_NO_CONSOLELOG", "1")
    env["KIOSK_UI_EXIT_AFTER_FIRST_FRAME"] = "1"
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        env.setdefault("SDL_VIDEODRIVER", "offscreen")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _one_run(cmd: list[str], env: dict[str, str], timeout: float = 60.0) -> dict | None:
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True, cwd=ROOT)
    found = None
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.strip()
            if line.startswith("{") and "first_frame_monotonic" in line:
                found = json.loads(line)
                found["startup_s"] = found["first_frame_monotonic"] - t0
                break
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass
    finally:
        stop_process(proc, signal.SIGKILL, 10)
    if found is None:
        err = proc.stderr.read() if proc.stderr else ""
        sys.stderr.write(f"{' '.join(cmd[:4])}…: no first frame (exit {proc.returncode})\n{err[-1500:]}\n")
    return found


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.ui_startup", description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--size", default="800x480")
    args = p.parse_args(argv)
    size = tuple(int(v) for v in args.size.lower().split("x"))
    tmp = Path(tempfile.mkdtemp(prefix="kiosk-bench-ui-"))
    cfg = _config(tmp, size)  # type: ignore[arg-type]
    env = _env(tmp)
    data = tmp / "data"
    entries = [
        ("kiosk run --screen kiosk",
         [sys.executable, "-m", "kiosk", "run", "--screen", "kiosk", "--config", str(cfg), "--data", str(data)]),
        ("python -m ui.devtools.window",
         [sys.executable, "-m", "ui.devtools.window", "--screen", "kiosk", "--config", str(cfg),
          "--data", str(data)]),
    ]
    results: list[dict] = []
    entry_name = None
    for name, cmd in entries:
        first = _one_run(cmd, env)
        if first is None:
            continue
        entry_name = name
        results = [first] + [r for r in (_one_run(cmd, env) for _ in range(args.runs - 1)) if r]
        break
    if not results:
        print(json.dumps({"metric": "startup_ready_s", "error": "no entry reached a first frame"}))
        return 1
    starts = [r["startup_s"] for r in results]
    rss = [r["rss_mb"] for r in results]
    gl = [r["gl_mb"] for r in results if r.get("gl_mb") is not None]
    common = {"n": len(results), "entry": entry_name, "window": args.size}
    print(json.dumps({"metric": "startup_ready_s", "p50": round(statistics.median(starts), 3),
                      "p99": round(max(starts), 3), "min": round(min(starts), 3), "unit": "s", "target": 3.0,
                      **common}))
    print(json.dumps({"metric": "rss_ui_mb", "p50": round(statistics.median(rss), 1), "p99": round(max(rss), 1),
                      "unit": "MB", "target": 150, **common}))
    if gl:
        print(json.dumps({"metric": "rss_ui_gl_mb", "p50": round(statistics.median(gl), 1), "unit": "MB",
                          "what": "libLLVM + Mesa DRI driver pages in rss_ui_mb", **common}))
    # what numpy costs: sqlite_utils and Pillow import it whenever it is installed
    module_cmd = next(cmd for name, cmd in entries if name == entry_name)
    no_np = [sys.executable, "-c", "import runpy, sys; sys.modules['numpy'] = None; del sys.argv[0]; "
             "runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)", *module_cmd[2:]]
    lean = [r for r in (_one_run(no_np, env) for _ in range(3)) if r]
    if lean:
        print(json.dumps({"metric": "rss_ui_without_numpy_mb", "p50": round(statistics.median(r["rss_mb"] for r in lean), 1),
                          "n": len(lean), "unit": "MB", "entry": f"{entry_name}, numpy blocked",
                          "window": args.size}))
    floor = [r for r in (_one_run([sys.executable, "-c", KIVY_FLOOR, str(size[0]), str(size[1])], env)
                         for _ in range(3)) if r]
    if floor:
        floor_mb = statistics.median(r["rss_mb"] for r in floor)
        print(json.dumps({"metric": "rss_kivy_floor_mb", "p50": round(floor_mb, 1), "n": len(floor), "unit": "MB",
                          "what": "a one-label Kivy app configured like the kiosk (same window, font, GL stack)",
                          "window": args.size}))
        print(json.dumps({"metric": "rss_ui_over_kivy_floor_mb", "p50": round(statistics.median(rss) - floor_mb, 1),
                          "unit": "MB", "what": "rss_ui_mb minus rss_kivy_floor_mb: the kiosk's own share",
                          "window": args.size}))
    headless = []
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", HEADLESS, str(cfg), str(tmp / "data-headless")],
                             capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
        if out.returncode == 0 and out.stdout.strip():
            headless.append(float(out.stdout.strip().splitlines()[-1]))
        else:
            sys.stderr.write(out.stderr[-1500:])
    if headless:
        print(json.dumps({"metric": "rss_headless_mb", "p50": round(statistics.median(headless), 1),
                          "p99": round(max(headless), 1), "n": len(headless), "unit": "MB", "target": 60}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
