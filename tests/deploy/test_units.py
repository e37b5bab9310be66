"""The systemd units parse, say what the appliance needs, and pass systemd-analyze.

The systemd-analyze checks run when the tool is installed (Debian package `systemd`)
and are skipped otherwise.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.kit.settings import REPO

ROOT = REPO
UNITS = ROOT / "systemd"
EXEC = "/opt/kiosk/venv/bin/kiosk"
ALL_UNITS = ["kiosk.service", "kiosk-display.service", "kiosk-backup.service", "kiosk-backup.timer"]
SERVICES = [u for u in ALL_UNITS if u.endswith(".service")]
MAX_EXPOSURE = 2.0


def parse_unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """systemd unit syntax: sections, repeated keys accumulate, # and ; comments."""
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    for lineno, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"{path.name}:{lineno}: key outside a section"
        assert "=" in line, f"{path.name}:{lineno}: not key=value: {raw!r}"
        assert not line.endswith("\\"), f"{path.name}:{lineno}: continuation lines not used"
        key, value = (s.strip() for s in line.split("=", 1))
        current.setdefault(key, []).append(value)
    return sections


def env_of(service: dict[str, list[str]]) -> dict[str, str]:
    env = {}
    for value in service.get("Environment", []):
        for item in value.split():
            k, v = item.split("=", 1)
            env[k] = v
    return env


@pytest.mark.parametrize("name", ALL_UNITS)
def test_units_parse(name):
    unit = parse_unit(UNITS / name)
    assert "Unit" in unit and unit["Unit"]["Description"]
    if name.endswith(".timer"):
        assert unit["Timer"]["OnCalendar"] and unit["Timer"]["Persistent"] == ["true"]
        assert unit["Install"]["WantedBy"] == ["timers.target"]
    else:
        svc = unit["Service"]
        assert svc["ExecStart"][0].startswith(EXEC + " ")
        assert svc["User"] == ["kiosk"]
        assert svc["NoNewPrivileges"] == ["yes"]
        assert svc["ProtectSystem"] == ["strict"]
        assert svc["StateDirectory"] == ["kiosk"]
        assert svc["CapabilityBoundingSet"] == [""]
        assert svc["DevicePolicy"] == ["closed"]
        assert env_of(svc)["KIOSK_DATA"] == "/var/lib/kiosk"


@pytest.mark.parametrize("name", ["kiosk.service", "kiosk-display.service"])
def test_screen_units_are_supervised_kivy_on_kms(name):
    svc = parse_unit(UNITS / name)["Service"]
    assert svc["Type"] == ["notify"]
    assert svc["Restart"] == ["always"]
    assert svc["WatchdogSec"] and svc["RestartSec"]
    env = env_of(svc)
    assert env["SDL_VIDEODRIVER"] == "kmsdrm"
    assert env["KIVY_HOME"].startswith("/var/lib/kiosk/")
    assert env["KIVY_NO_FILELOG"] == "1"  # no log files on the SD card
    assert "char-drm rw" in svc["DeviceAllow"]
    assert parse_unit(UNITS / name)["Install"]["WantedBy"] == ["multi-user.target"]


def test_main_unit_groups_and_devices():
    svc = parse_unit(UNITS / "kiosk.service")["Service"]
    assert set(svc["SupplementaryGroups"][0].split()) == {
        "gpio", "dialout", "lp", "video", "render", "input", "audio"
    }
    allowed = {d.split()[0] for d in svc["DeviceAllow"]}
    assert {"char-ttyAMA", "char-ttyUSB", "char-usb", "char-gpiochip", "char-drm",
            "char-input", "char-alsa", "char-fb"} <= allowed
    assert "--screen kiosk" in svc["ExecStart"][0]


def test_journald_dropin_limits_size():
    conf = parse_unit(UNITS / "journald.conf.d" / "kiosk.conf")["Journal"]
    assert conf["SystemMaxUse"] and conf["RuntimeMaxUse"] and conf["SystemMaxFileSize"]


# --------------------------------------------------------------------------- systemd-analyze

ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze not installed")


@pytest.fixture
def stubbed_units(tmp_path):
    """Copies of the units whose ExecStart points at a stub (verify needs it to exist)."""
    stub = tmp_path / "bin" / "kiosk"
    stub.parent.mkdir()
    stub.write_text("#!/bin/sh\nexit 0\n")
    stub.chmod(0o755)
    out = tmp_path / "units"
    out.mkdir()
    for name in ALL_UNITS:
        (out / name).write_text((UNITS / name).read_text().replace(EXEC, str(stub)))
    return out


@needs_analyze
def test_systemd_analyze_verify_is_clean(stubbed_units):
    proc = subprocess.run(
        [ANALYZE, "verify", "--man=no", *ALL_UNITS],
        cwd=stubbed_units, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip() == "", proc.stderr


def _offline_supported() -> bool:
    if ANALYZE is None:
        return False
    out = subprocess.run([ANALYZE, "security", "--help"], capture_output=True, text=True).stdout
    return "--offline" in out


@pytest.mark.skipif(not _offline_supported(), reason="systemd-analyze security --offline unavailable")
@pytest.mark.parametrize("name", SERVICES)
def test_security_exposure_at_most_2(name, stubbed_units):
    proc = subprocess.run(
        [ANALYZE, "security", "--offline=true", "--no-pager", name],
        cwd=stubbed_units, capture_output=True, text=True, timeout=60,
    )
    m = re.search(r"Overall exposure level for \S+: (\d+(?:\.\d+)?)", proc.stdout)
    assert m, proc.stdout + proc.stderr
    assert float(m.group(1)) <= MAX_EXPOSURE, proc.stdout
