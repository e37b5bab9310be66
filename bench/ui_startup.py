"""Start-up of the kiosk with its touchscreen: time to the first frame, and memory at the first
frame, after every screen has been shown and after hundreds of tickets through the touchscreen.

    python -m bench.ui_startup [--runs 5] [--sessions 2] [--tickets 500] [--size 800x480]

Metrics (one JSON object per line, design.md's benchmark contract). Over a handful of runs the
statistics are named for what they are: ``p50`` the median, ``max`` the largest, ``n`` the runs.

* ``startup_ready_s`` — from just before the process is started to the first frame on the
  screen (Kivy's first ``on_flip`` after the customer screen is built). The child prints
  ``time.monotonic()`` at that moment; CLOCK_MONOTONIC is system-wide on Linux. ``--runs``.
* ``rss_ui_first_frame_mb`` — VmRSS of that process at the first frame (core + Kivy + Mesa),
  when only the start screen exists.
* ``rss_ui_all_screens_mb`` — VmRSS once each of the six screens has been shown
  (bench/ui_session.py drives them through ui/devtools/harness.py), ``--sessions`` sessions.
* ``rss_ui_mb`` — VmRSS of the same session after every screen and then ``--tickets`` customers
  through the touchscreen (tap a service, the result screen, "done"; counters keep ~30
  waiting): what the kiosk holds in service. Each line also gives the session's first-frame
  and all-screens figures and the RSS after each screen.
* ``rss_ui_gl_mb`` — the part of ``rss_ui_mb`` that is the software GL stack of this machine
  (libLLVM + the Mesa DRI driver mappings; a Pi's V3D driver has no LLVM).
* ``rss_headless_mb`` — VmRSS of a process that starts `KioskApp` without Kivy.
* ``rss_ui_without_numpy_mb`` — ``rss_ui_first_frame_mb`` when numpy cannot be imported
  (sqlite_utils and Pillow import it whenever it is installed; the kiosk itself never uses it).
* ``rss_kivy_floor_mb`` — the smallest Kivy app (one label) configured like the kiosk, on the
  same GL stack and window, at its first frame: what any Kivy UI costs here.
  ``rss_ui_over_kivy_floor_mb`` is ``rss_ui_mb`` minus it: the kiosk's own share (core, devices,
  screens, a day's tickets).

The first-frame entry is ``python -m kiosk run --screen kiosk`` with
KIOSK_UI_EXIT_AFTER_FIRST_FRAME=1; if that command cannot start (a part of `kiosk run` missing),
``python -m ui.devtools.window`` (the same core + UI without devices) is measured instead and
each line says which entry was used. Targets (METRICS): first frame ≤ 3 s (every run), RSS with
UI ≤ 150 MB (every session, in service), headless ≤ 60 MB. Runs headless (SDL offscreen on
Mesa) when there is no DISPLAY.
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

from bench.metrics import Metric, Target
from kiosk.sim.processes import stop_process

ROOT = Path(__file__).resolve().parent.parent

METRICS = (
    Metric("startup_ready_s", "s", Target("max", "<=", 3.0), "process start → first frame of the customer screen"),
    Metric("rss_ui_mb", "MB", Target("max", "<=", 150),
           "VmRSS after every screen has been shown and --tickets tickets through the touchscreen"),
    Metric("rss_ui_first_frame_mb", "MB", what="VmRSS at the first frame (only the start screen exists)"),
    Metric("rss_ui_all_screens_mb", "MB", what="VmRSS once each of the six screens has been shown"),
    Metric("rss_ui_gl_mb", "MB", what="libLLVM + Mesa DRI driver pages in rss_ui_mb"),
    Metric("rss_ui_without_numpy_mb", "MB", what="rss_ui_first_frame_mb with numpy blocked"),
    Metric("rss_kivy_floor_mb", "MB", what="a one-label Kivy app configured like the kiosk, at its first frame"),
    Metric("rss_ui_over_kivy_floor_mb", "MB", what="rss_ui_mb minus rss_kivy_floor_mb"),
    Metric("rss_headless_mb", "MB", Target("max", "<=", 60), "VmRSS of KioskApp without Kivy"),
)

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


def _stats(xs: list[float]) -> dict[str, float]:
    """The median and the largest of a few runs (with so few, no percentile beyond those)."""
    return {"p50": round(statistics.median(xs), 1), "max": round(max(xs), 1)}


def _sessions(cfg: Path, tmp: Path, env: dict[str, str], n: int, tickets: int, size: str) -> list[dict]:
    """`n` driven sessions (bench/ui_session.py), each in its own process and data directory."""
    env = {k: v for k, v in env.items() if k != "KIOSK_UI_EXIT_AFTER_FIRST_FRAME"}
    found = []
    for i in range(n):
        cmd = [sys.executable, "-m", "bench.ui_session", "--config", str(cfg), "--data", str(tmp / f"session-{i}"),
               "--tickets", str(tickets), "--size", size]
        out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=60 + 2 * tickets)
        docs = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
        if out.returncode == 0 and docs:
            found.append(docs[-1])
        else:
            sys.stderr.write(f"bench.ui_session (exit {out.returncode}):\n{out.stderr[-2000:]}\n")
    return found


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.ui_startup", description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=5, help="processes started to the first frame (5)")
    p.add_argument("--sessions", type=int, default=2, help="driven sessions: every screen, then tickets (2; 0: first frame only)")
    p.add_argument("--tickets", type=int, default=500, help="tickets through the touchscreen per session (500)")
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
    common = {"n": len(results), "entry": entry_name, "window": args.size}
    print(json.dumps({"metric": "startup_ready_s", "p50": round(statistics.median(starts), 3),
                      "max": round(max(starts), 3), "min": round(min(starts), 3), "unit": "s", "target": 3.0,
                      **common}))
    print(json.dumps({"metric": "rss_ui_first_frame_mb", **_stats(rss), "unit": "MB", "at": "first frame",
                      **common}))
    sessions = _sessions(cfg, tmp, env, args.sessions, args.tickets, args.size)
    service_mb = [s["after_tickets"]["rss_mb"] for s in sessions]
    driven = {"n": len(sessions), "entry": "bench.ui_session (kiosk run's composition, harness-driven)",
              "window": args.size}
    if sessions:
        print(json.dumps({"metric": "rss_ui_all_screens_mb", **_stats([s["all_screens"]["rss_mb"] for s in sessions]),
                          "unit": "MB", "at": "each of the six screens shown once",
                          "by_screen": sessions[-1]["rss_by_screen"], **driven}))
        print(json.dumps({"metric": "rss_ui_mb", **_stats(service_mb), "unit": "MB", "target": 150,
                          "at": f"every screen shown, then {sessions[-1]['tickets']} tickets through the touchscreen",
                          "tickets": sessions[-1]["tickets"],
                          "same_session_first_frame_mb": _stats([s["first_frame"]["rss_mb"] for s in sessions])["p50"],
                          "same_session_all_screens_mb": _stats([s["all_screens"]["rss_mb"] for s in sessions])["p50"],
                          "seconds_per_session": sessions[-1]["seconds"], **driven}))
        gl = [s["after_tickets"]["gl_mb"] for s in sessions if s["after_tickets"].get("gl_mb") is not None]
        if gl:
            print(json.dumps({"metric": "rss_ui_gl_mb", **_stats(gl), "unit": "MB",
                              "what": "libLLVM + Mesa DRI driver pages in rss_ui_mb", **driven}))
    elif args.sessions:
        print(json.dumps({"metric": "rss_ui_mb", "error": "no driven session completed (see stderr)"}))
    # what numpy costs: sqlite_utils and Pillow import it whenever it is installed
    module_cmd = next(cmd for name, cmd in entries if name == entry_name)
    no_np = [sys.executable, "-c", "import runpy, sys; sys.modules['numpy'] = None; del sys.argv[0]; "
             "runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)", *module_cmd[2:]]
    lean = [r for r in (_one_run(no_np, env) for _ in range(3)) if r]
    if lean:
        print(json.dumps({"metric": "rss_ui_without_numpy_mb", **_stats([r["rss_mb"] for r in lean]),
                          "n": len(lean), "unit": "MB", "at": "first frame", "entry": f"{entry_name}, numpy blocked",
                          "window": args.size}))
    floor = [r for r in (_one_run([sys.executable, "-c", KIVY_FLOOR, str(size[0]), str(size[1])], env)
                         for _ in range(3)) if r]
    if floor:
        floor_mb = statistics.median(r["rss_mb"] for r in floor)
        print(json.dumps({"metric": "rss_kivy_floor_mb", "p50": round(floor_mb, 1), "n": len(floor), "unit": "MB",
                          "at": "first frame",
                          "what": "a one-label Kivy app configured like the kiosk (same window, font, GL stack)",
                          "window": args.size}))
        if service_mb:
            print(json.dumps({"metric": "rss_ui_over_kivy_floor_mb",
                              "p50": round(statistics.median(service_mb) - floor_mb, 1), "unit": "MB",
                              "what": "rss_ui_mb (in service) minus rss_kivy_floor_mb: the kiosk's own share",
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
        print(json.dumps({"metric": "rss_headless_mb", **_stats(headless), "n": len(headless), "unit": "MB",
                          "target": 60}))
    return 0 if sessions or not args.sessions else 1


if __name__ == "__main__":
    sys.exit(main())
