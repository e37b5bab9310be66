"""python-escpos keeps its capabilities cache in one lasting directory, not a new /tmp one per start."""
import os
import subprocess
import sys
from pathlib import Path

from drivers.printer.escpos_cache import VARIABLE, cache_dir


def test_cache_dir_follows_systemd_then_xdg_then_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir({"CACHE_DIRECTORY": "/var/cache/kiosk"}) == Path("/var/cache/kiosk/escpos")
    assert cache_dir({"XDG_CACHE_HOME": "/x"}) == Path("/x/kiosk/escpos")
    assert cache_dir({}) == tmp_path / "home" / ".cache" / "kiosk" / "escpos"


def _first_print(env):
    code = ("import os, tempfile, sys; from drivers.printer.ticket_layout import profile_width_px; "
            "profile_width_px('TM-T20II'); import escpos.capabilities as c; print(c.pickle_dir)")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_two_starts_share_one_cache_and_write_nothing_to_tmp(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in (VARIABLE, "CACHE_DIRECTORY")}
    env.update(XDG_CACHE_HOME=str(tmp_path / "cache"), TMPDIR=str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    first, second = _first_print(env), _first_print(env)
    assert first == second == str(tmp_path / "cache" / "kiosk" / "escpos")
    assert [p.name.endswith(".capabilities.pickle") for p in Path(first).iterdir()] == [True]
    # python-escpos 3.1 still makes an (empty) temporary directory at every import: the default
    # argument of its environ.get is evaluated either way; the pickle is no longer written there
    assert [f for d in (tmp_path / "tmp").iterdir() for f in d.iterdir()] == []


def test_a_variable_already_set_wins(tmp_path):
    env = dict(os.environ, **{VARIABLE: str(tmp_path / "mine"), "XDG_CACHE_HOME": str(tmp_path / "cache")})
    (tmp_path / "mine").mkdir()
    assert _first_print(env) == str(tmp_path / "mine")
