"""systemd/kiosk-hq.service (`kiosk hq serve` on the HQ server): hardened like the kiosk's units,
its command line accepted by the real `kiosk hq serve` parser, and clean under systemd-analyze."""

from __future__ import annotations

import argparse
import re
import shlex
import shutil
import subprocess

import pytest

from tests.deploy.test_units import EXEC, MAX_EXPOSURE, UNITS, env_of, parse_unit

UNIT = UNITS / "kiosk-hq.service"
ANALYZE = shutil.which("systemd-analyze")


def test_hq_unit_is_hardened():
    unit = parse_unit(UNIT)
    assert unit["Unit"]["Description"] and unit["Install"]["WantedBy"] == ["multi-user.target"]
    svc = unit["Service"]
    assert svc["User"] == ["kiosk-hq"] and svc["UMask"] == ["0077"]
    assert svc["StateDirectory"] == ["kiosk-hq"] and svc["StateDirectoryMode"] == ["0700"]
    for key, value in {"ProtectSystem": "strict", "ProtectHome": "yes", "NoNewPrivileges": "yes",
                       "CapabilityBoundingSet": "", "AmbientCapabilities": "", "PrivateDevices": "yes",
                       "PrivateTmp": "yes", "PrivateUsers": "yes", "DevicePolicy": "closed",
                       "MemoryDenyWriteExecute": "yes", "RestrictNamespaces": "yes",
                       "SystemCallArchitectures": "native", "Restart": "always"}.items():
        assert svc[key] == [value], key
    assert set(svc["RestrictAddressFamilies"][0].split()) == {"AF_UNIX", "AF_INET", "AF_INET6"}
    assert svc["SystemCallFilter"][0] == "@system-service" and svc["SystemCallFilter"][1].startswith("~@privileged")
    assert svc["MemoryMax"] and svc["TasksMax"] and svc["LimitNOFILE"]
    assert svc["LoadCredential"] == ["mqtt-password:/etc/kiosk-hq/mqtt-password"]
    assert env_of(svc)["KIOSK_HQ_BROKER"].startswith("mqtt")


def test_hq_unit_command_line_is_what_kiosk_hq_serve_accepts():
    """Every option of ExecStart parses with the real parser; the server listens on loopback (the
    proxy in front), with the limits given, and the database in the state directory."""
    from kiosk.cli.hq_web import add_parsers

    argv = shlex.split(parse_unit(UNIT)["Service"]["ExecStart"][0])
    assert argv[:3] == [EXEC, "hq", "serve"]
    parser = argparse.ArgumentParser()
    add_parsers(parser.add_subparsers(dest="cmd"))
    args = parser.parse_args(argv[2:])
    assert args.web_db.startswith("/var/lib/kiosk-hq/") and args.web_host == "127.0.0.1"
    assert args.web_secure_cookie and args.web_password_file == "%d/mqtt-password"
    assert args.web_max_connections > 0 and args.web_max_per_address == 0
    assert args.web_request_timeout > 0 and args.web_keep_alive > 0


@pytest.fixture
def stubbed_unit(tmp_path):
    stub = tmp_path / "bin" / "kiosk"
    stub.parent.mkdir()
    stub.write_text("#!/bin/sh\nexit 0\n")
    stub.chmod(0o755)
    out = tmp_path / "units"
    out.mkdir()
    (out / UNIT.name).write_text(UNIT.read_text().replace(EXEC, str(stub)))
    return out


def test_hq_unit_passes_systemd_analyze_verify(stubbed_unit):
    assert ANALYZE, "systemd-analyze is needed (Debian package systemd; .ci/setup installs it)"
    proc = subprocess.run([ANALYZE, "verify", "--man=no", UNIT.name], cwd=stubbed_unit, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip() == "", proc.stderr


def test_hq_unit_security_exposure_at_most_2(stubbed_unit):
    assert ANALYZE, "systemd-analyze is needed (Debian package systemd; .ci/setup installs it)"
    proc = subprocess.run([ANALYZE, "security", "--offline=true", "--no-pager", UNIT.name], cwd=stubbed_unit,
                          capture_output=True, text=True, timeout=60)
    m = re.search(r"Overall exposure level for \S+: (\d+(?:\.\d+)?)", proc.stdout)
    assert m, proc.stdout + proc.stderr
    assert float(m.group(1)) <= MAX_EXPOSURE, proc.stdout
