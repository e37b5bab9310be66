"""Layouts: long texts shrink instead of being cut off; the screenshot script and the
first-frame entry run in their own processes (portrait needs a window created portrait)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ui.devtools import harness as h

ROOT = Path(__file__).resolve().parents[2]
LONG = "Applications for international money transfers, certificates and account statements"


def test_long_service_names_fit_their_button(mk, hall, open_ui):
    kiosk = hall(mk(services={"A": {"name": {"zh": "国际汇款、存款证明及账户对账单申请" * 2, "en": LONG}}}))
    ui = open_ui(kiosk)
    for lang in ("zh", "en"):
        ui.lang = lang
        h.pump(4)
        btn = ui.screen("customer").buttons["A"]
        title = btn.children[-1]                    # the first label of the button
        assert title.text.startswith(LONG[:20] if lang == "en" else "国际汇款")
        assert title.texture_size[0] <= title.width + 1 and title.texture_size[1] <= title.height + 1
        assert title.font_size >= title.min_font


def _env(tmp_path):
    env = dict(os.environ, KIVY_HOME=str(tmp_path / "kivy"), PYTHONPATH=str(ROOT))
    if not env.get("DISPLAY"):
        env["SDL_VIDEODRIVER"] = "offscreen"
    return env


def test_screenshot_script_in_portrait(tmp_path):
    out = subprocess.run([sys.executable, "-m", "ui.devtools.screenshots", "--sizes", "720x1280",
                          "--out", str(tmp_path), "--screens", "customer,ticket-printer-fault"],
                         capture_output=True, text=True, cwd=ROOT, env=_env(tmp_path), timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    shots = sorted(p.name for p in tmp_path.glob("ui-*.png"))
    assert shots == ["ui-customer-en-720x1280.png", "ui-customer-zh-720x1280.png",
                     "ui-ticket-printer-fault-en-720x1280.png", "ui-ticket-printer-fault-zh-720x1280.png"]
    from PIL import Image
    with Image.open(tmp_path / "ui-customer-zh-720x1280.png") as img:
        assert img.size == (720, 1280)
        assert len(set(img.convert("L").resize((36, 64)).getdata())) > 8     # not a blank frame


def test_ui_entry_reaches_a_first_frame(tmp_path):
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text((ROOT / "firmware_config" / "kiosk.toml").read_text() + "\n[ui]\nfullscreen = false\n")
    out = subprocess.run([sys.executable, "-m", "ui.devtools.window", "--config", str(cfg),
                          "--data", str(tmp_path / "data"), "--windowed", "800x480", "--exit-after-first-frame"],
                         capture_output=True, text=True, cwd=ROOT, env=_env(tmp_path), timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("{"))
    frame = json.loads(line)
    assert frame["rss_mb"] > 0 and frame["first_frame_monotonic"] > 0


def test_portrait_puts_the_services_in_one_column(kiosk, ui):
    from kivy.core.window import Window
    screen = ui.screen("customer")
    assert not ui.portrait and screen.grid_cols == 2          # A and B side by side at 800x480
    try:
        ui._resize(Window, (720, 1280))
        assert ui.portrait and screen.grid_cols == 1 and ui.u == 7.2
    finally:
        ui._resize(Window, Window.size)
    assert screen.grid_cols == 2


def test_idle_returns_to_the_start_screen_in_the_default_language(kiosk, ui):
    ui.toggle_lang()
    ui.screen("customer").open_code()
    assert ui.sm.current == "vip"
    ui._idle(0)
    assert ui.sm.current == "customer" and ui.lang == "zh"
    ui.toggle_lang()
    ui._idle(0)                                                # idle on the start screen: language back
    assert ui.lang == "zh"
