"""firmware_config/install.sh into a staging root (--root, no packages, no network).

Checks every file it writes and its mode, that a site's configuration is never
overwritten, that a second run changes nothing (same tree hash, same mtimes), the
recorded commands, --dry-run, --uninstall and --purge.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from tests.kit.settings import REPO

ROOT = REPO
INSTALL = ROOT / "firmware_config" / "install.sh"
LOG = "var/log/kiosk-install.log"

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")

SITE_CONFIG_TXT = "# site config\ndtparam=audio=on\n[pi4]\narm_boost=1\n"
SITE_CMDLINE = (
    "console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 "
    "fsck.repair=yes rootwait\n"
)

# path in the root -> (mode, source in the repo or None)
EXPECTED_FILES = {
    "etc/systemd/system/kiosk.service": (0o644, "systemd/kiosk.service"),
    "etc/systemd/system/kiosk-display.service": (0o644, "systemd/kiosk-display.service"),
    "etc/systemd/system/kiosk-backup.service": (0o644, "systemd/kiosk-backup.service"),
    "etc/systemd/system/kiosk-backup.timer": (0o644, "systemd/kiosk-backup.timer"),
    "etc/systemd/journald.conf.d/kiosk.conf": (0o644, "systemd/journald.conf.d/kiosk.conf"),
    "etc/udev/rules.d/99-kiosk.rules": (0o644, "firmware_config/99-kiosk.rules"),
    "etc/kiosk/kiosk.toml": (0o640, "firmware_config/kiosk.toml"),
    "etc/kiosk/kiosk.env": (0o640, "firmware_config/kiosk.env.example"),
}
if (ROOT / "docs" / "install.md").exists():
    EXPECTED_FILES["opt/kiosk/doc/install.md"] = (0o644, "docs/install.md")
EXPECTED_DIRS = {"etc/kiosk": 0o750, "var/lib/kiosk": 0o750, "opt/kiosk": 0o755}
EXPECTED_LINKS = {
    "etc/systemd/system/multi-user.target.wants/kiosk.service": "/etc/systemd/system/kiosk.service",
    "etc/systemd/system/timers.target.wants/kiosk-backup.timer": "/etc/systemd/system/kiosk-backup.timer",
}


def run(root: Path, *args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        ["bash", str(INSTALL), "--root", str(root), "--no-packages", *args],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def tree(root: Path, *, exclude: tuple[str, ...] = (LOG,)) -> dict[str, tuple]:
    """path -> (kind, mode, content hash or link target, mtime_ns)"""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in sorted(dirnames + filenames):
            p = Path(dirpath) / name
            rel = str(p.relative_to(root))
            if rel in exclude:
                continue
            st = p.lstat()
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", 0, os.readlink(p), 0)
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", stat.S_IMODE(st.st_mode), "", 0)
            else:
                digest = hashlib.sha256(p.read_bytes()).hexdigest()
                out[rel] = ("file", stat.S_IMODE(st.st_mode), digest, st.st_mtime_ns)
    return out


def tree_hash(t: dict[str, tuple]) -> str:
    h = hashlib.sha256()
    for rel in sorted(t):
        kind, mode, content, _ = t[rel]
        h.update(f"{rel}\0{kind}\0{mode:o}\0{content}\n".encode())
    return h.hexdigest()


@pytest.fixture
def pi_root(tmp_path):
    """A staging root that looks like a Pi's: boot partition with the site's files."""
    root = tmp_path / "root"
    boot = root / "boot" / "firmware"
    boot.mkdir(parents=True)
    (boot / "config.txt").write_text(SITE_CONFIG_TXT)
    (boot / "cmdline.txt").write_text(SITE_CMDLINE)
    return root


def test_install_writes_every_file_with_its_mode(pi_root):
    proc = run(pi_root)
    assert "install done" in proc.stdout
    for rel, (mode, src) in EXPECTED_FILES.items():
        p = pi_root / rel
        assert p.is_file(), rel
        assert stat.S_IMODE(p.stat().st_mode) == mode, f"{rel}: {oct(p.stat().st_mode)}"
        assert p.read_bytes() == (ROOT / src).read_bytes(), rel
    for rel, mode in EXPECTED_DIRS.items():
        assert stat.S_IMODE((pi_root / rel).stat().st_mode) == mode, rel
    for rel, target in EXPECTED_LINKS.items():
        assert os.readlink(pi_root / rel) == target
    # the display unit is installed but only enabled on request
    assert not (pi_root / "etc/systemd/system/multi-user.target.wants/kiosk-display.service").exists()

    # nothing outside the expected set (no temp files left behind)
    written = {
        rel for rel, (kind, *_rest) in tree(pi_root).items() if kind == "file"
    }
    assert written == set(EXPECTED_FILES) | {
        "boot/firmware/config.txt", "boot/firmware/cmdline.txt", "boot/firmware/cmdline.txt.kiosk-orig",
    }

    # config.txt: the site's lines kept, our block appended between markers
    cfg = (pi_root / "boot/firmware/config.txt").read_text()
    assert cfg.startswith(SITE_CONFIG_TXT)
    block = cfg[len(SITE_CONFIG_TXT):]
    assert block.startswith("# >>> kiosk") and block.rstrip().endswith("# <<< kiosk")
    for line in ("enable_uart=1", "dtoverlay=disable-bt", "hdmi_blanking=0", "[all]"):
        assert line in block.splitlines()

    # cmdline.txt: still one line, serial console gone, kiosk options added, original kept
    cmd = (pi_root / "boot/firmware/cmdline.txt").read_text()
    assert cmd.count("\n") == 1
    tokens = cmd.split()
    assert "console=serial0,115200" not in tokens and "console=tty1" in tokens
    assert {"consoleblank=0", "vt.global_cursor_default=0", "logo.nologo"} <= set(tokens)
    assert (pi_root / "boot/firmware/cmdline.txt.kiosk-orig").read_text() == SITE_CMDLINE

    # what a real install would run, recorded rather than run
    log = (pi_root / LOG).read_text()
    assert "useradd --system --user-group --home-dir /var/lib/kiosk" in log
    assert "usermod -a -G gpio,dialout,lp,video,render,input,audio kiosk" in log
    assert "chown kiosk:kiosk /var/lib/kiosk" in log
    assert "systemctl daemon-reload" in log


def test_second_run_changes_nothing(pi_root):
    run(pi_root)
    before = tree(pi_root)
    proc = run(pi_root)
    after = tree(pi_root)
    assert tree_hash(after) == tree_hash(before)
    assert after == before  # not even rewritten with the same bytes (mtimes equal)
    assert "install done: 0 change(s)" in proc.stdout
    assert "files changed in this run: 0" in (pi_root / LOG).read_text()


def test_site_configuration_is_never_overwritten(pi_root):
    etc = pi_root / "etc" / "kiosk"
    etc.mkdir(parents=True)
    (etc / "kiosk.toml").write_text("# this branch's own config\n")
    (etc / "mqtt-password").write_text("s3cret\n")
    proc = run(pi_root)
    assert (etc / "kiosk.toml").read_text() == "# this branch's own config\n"
    assert (etc / "mqtt-password").read_text() == "s3cret\n"
    assert "kept existing /etc/kiosk/kiosk.toml" in proc.stdout


def test_changed_block_is_replaced_in_place(pi_root):
    run(pi_root)
    cfg = pi_root / "boot/firmware/config.txt"
    text = cfg.read_text().replace("enable_uart=1", "enable_uart=0") + "gpu_mem=128\n"
    cfg.write_text(text)
    run(pi_root)
    new = cfg.read_text()
    assert "enable_uart=1" in new and "enable_uart=0" not in new
    assert new.count("# >>> kiosk") == 1 and new.endswith("gpu_mem=128\n")


def test_packages_are_recorded_not_run_in_a_staging_root(pi_root):
    proc = subprocess.run(
        ["bash", str(INSTALL), "--root", str(pi_root), "--with-display"],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    log = (pi_root / LOG).read_text()
    assert re.search(r"apt-get install -y --no-install-recommends .*python3-venv", log)
    for pkg in ("libmtdev1", "libgl1", "libegl1", "fonts-wqy-zenhei", "espeak-ng", "alsa-utils", "sqlite3"):
        assert pkg in log
    assert "python3 -m venv --system-site-packages /opt/kiosk/venv" in log
    assert f"/opt/kiosk/venv/bin/pip install --no-cache-dir --disable-pip-version-check {ROOT}[ui]" in log
    assert not (pi_root / "opt/kiosk/venv").exists()
    assert os.readlink(pi_root / "etc/systemd/system/multi-user.target.wants/kiosk-display.service")


def test_dry_run_writes_nothing(pi_root):
    before = tree(pi_root, exclude=())
    proc = run(pi_root, "--dry-run")
    assert tree(pi_root, exclude=()) == before
    assert "would install /etc/systemd/system/kiosk.service" in proc.stdout
    assert "would run: useradd --system" in proc.stdout
    # after a real install, a dry run has nothing to do
    run(pi_root)
    proc = run(pi_root, "--dry-run")
    assert "0 change(s)" in proc.stdout


def test_no_boot_partition_is_not_an_error(tmp_path):
    root = tmp_path / "debian"
    proc = run(root)
    assert "firmware settings skipped" in proc.stdout
    assert (root / "etc/systemd/system/kiosk.service").is_file()


def test_uninstall_keeps_data_and_config_then_purge(pi_root):
    run(pi_root)
    (pi_root / "var/lib/kiosk/kiosk.db").write_bytes(b"SQLite format 3\x00")
    (pi_root / "opt/kiosk/venv/bin").mkdir(parents=True)  # stands in for the venv
    run(pi_root, "--uninstall")
    for rel in EXPECTED_FILES:
        if rel.startswith("etc/kiosk/"):
            assert (pi_root / rel).exists(), rel
        else:
            assert not (pi_root / rel).exists(), rel
    for rel in EXPECTED_LINKS:
        assert not os.path.lexists(pi_root / rel)
    assert not (pi_root / "opt/kiosk").exists()
    assert (pi_root / "var/lib/kiosk/kiosk.db").exists()
    assert (pi_root / "boot/firmware/config.txt").read_text() == SITE_CONFIG_TXT
    # uninstall twice: nothing left to do
    assert "0 change(s)" in run(pi_root, "--uninstall").stdout

    run(pi_root, "--uninstall", "--purge")
    assert not (pi_root / "etc/kiosk").exists()
    assert not (pi_root / "var/lib/kiosk").exists()
    assert "userdel kiosk" in (pi_root / LOG).read_text()


def test_bad_options(tmp_path):
    for args in (["--bogus"], ["--purge"]):
        proc = subprocess.run(
            ["bash", str(INSTALL), "--root", str(tmp_path), *args],
            capture_output=True, text=True, timeout=60,
        )
        assert proc.returncode == 2, args


UDEV_TOKEN = re.compile(r'^\s*([A-Z_]+(?:\{[^}]+\})?)\s*(==|!=|\+=|-=|:=|=)\s*"([^"]*)"\s*$')


def test_udev_rules_are_well_formed():
    names = set()
    for lineno, line in enumerate((ROOT / "firmware_config/99-kiosk.rules").read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        for token in line.split(", "):
            m = UDEV_TOKEN.match(token)
            assert m, f"99-kiosk.rules:{lineno}: {token!r}"
            if m.group(1) == "SYMLINK":
                names.add(m.group(3))
    assert "kiosk-printer" in names
    assert {"kiosk-display-1", "kiosk-display-2"} <= names


def test_with_broker_installs_the_bridge_sample_once(pi_root):
    proc = subprocess.run(
        ["bash", str(INSTALL), "--root", str(pi_root), "--with-broker"],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    bridge = pi_root / "etc/mosquitto/conf.d/kiosk-bridge.conf"
    assert bridge.read_bytes() == (ROOT / "firmware_config/mosquitto/bridge.conf").read_bytes()
    assert stat.S_IMODE(bridge.stat().st_mode) == 0o640
    assert re.search(r"apt-get install .* mosquitto", (pi_root / LOG).read_text())
    bridge.write_text("# edited for this branch\n")
    run(pi_root, "--with-broker")
    assert bridge.read_text() == "# edited for this branch\n"  # a site's bridge is kept
    run(pi_root, "--uninstall")
    assert bridge.exists()  # edited: not ours to delete
