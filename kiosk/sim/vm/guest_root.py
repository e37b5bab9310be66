"""The guest's root, built once and cached: Debian bookworm (debootstrap minbase, amd64) with
python3 and Debian's kernel, the kiosk's runtime dependencies from PyPI wheels, an init that
starts `kiosk.sim.vm.guest_load`, packed into an ext4 image; the kernel and initrd taken out for
QEMU's `-kernel/-initrd`.

The cache (``KIOSK_VM_CACHE``, default ``~/.cache/kiosk-vm``) holds ``root/`` (reused when its
marker says it is complete and built from the same packages), ``vmlinuz``, ``initrd.img`` and
``root-<key>.ext4`` (rebuilt when the dependencies or the init change). Needs root, debootstrap,
mkfs.ext4 and the network (Debian's mirror, PyPI) on the first run only.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

from kiosk.sim.vm.disks import make_ext4

SUITE = "bookworm"
MIRROR = os.environ.get("KIOSK_VM_MIRROR", "http://deb.debian.org/debian")
PACKAGES = ("python3", "linux-image-amd64", "initramfs-tools", "e2fsprogs")
ROOT_IMAGE_MB = 2048
SITE = "usr/local/lib/python3.11/dist-packages"
BASE_MARK = ".kiosk-vm-debootstrap"
DEPS_MARK = ".kiosk-vm-deps"
INIT = "sbin/kiosk-vm-init"
INIT_SCRIPT = """#!/bin/sh
# PID 1 of the power-cut guest (kiosk.sim.vm.guest_root): mount, then run the load driver.
mountpoint -q /proc || mount -t proc proc /proc
echo "kiosk-vm: init at $(cut -d' ' -f1 /proc/uptime) s"
mountpoint -q /sys || mount -t sysfs sysfs /sys
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
mount -o remount,rw /
mount -t tmpfs tmpfs /tmp
mkdir -p /opt/kiosk /var/lib/kiosk
mount -t ext4 -o ro /dev/vdb /opt/kiosk
export PYTHONPATH=/opt/kiosk HOME=/root LANG=C.UTF-8 PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin
cd /opt/kiosk
python3 -m kiosk.sim.vm.guest_load --port /dev/ttyS1 --data /var/lib/kiosk --config /opt/kiosk/kiosk-vm.toml
echo "kiosk-vm: guest load ended with status $?"
sync
echo o > /proc/sysrq-trigger
sleep 60
"""


def cache_dir(explicit: str | os.PathLike | None = None) -> Path:
    """``explicit``, else ``KIOSK_VM_CACHE``, else ``~/.cache/kiosk-vm``."""
    return Path(explicit or os.environ.get("KIOSK_VM_CACHE") or Path.home() / ".cache" / "kiosk-vm")


@dataclass(frozen=True)
class GuestRoot:
    kernel: Path
    initrd: Path
    image: Path          # the pristine root image: copy it before booting
    build_s: float       # time this call took (≈ 0 when everything was cached)
    cached: bool         # nothing had to be built


def runtime_dependencies(repo: Path) -> list[str]:
    return list(tomllib.loads((repo / "pyproject.toml").read_text())["project"]["dependencies"])


def _debootstrap(cache: Path) -> Path:
    root, partial = cache / "root", cache / "root.partial"
    mark = json.dumps({"suite": SUITE, "packages": PACKAGES})
    if (root / BASE_MARK).exists() and (root / BASE_MARK).read_text() == mark:
        return root
    shutil.rmtree(root, ignore_errors=True)
    shutil.rmtree(partial, ignore_errors=True)
    for stale in cache.glob("root-*.ext4"):
        stale.unlink()
    subprocess.run(["debootstrap", "--variant=minbase", "--include=" + ",".join(PACKAGES), SUITE,
                    str(partial), MIRROR], check=True, capture_output=True)
    finish_debootstrap(cache, mark)
    return root


def finish_debootstrap(cache: Path, mark: str) -> None:
    """Take Debian's kernel and initrd out of a finished debootstrap and mark the root complete.
    The modules stay out of the image: the initrd holds what the boot needs (virtio, ext4)."""
    partial = cache / "root.partial"
    kernels = sorted((partial / "boot").glob("vmlinuz-*"))
    if not kernels:
        raise RuntimeError(f"no kernel in {partial / 'boot'}: did debootstrap install linux-image-amd64?")
    version = kernels[-1].name.removeprefix("vmlinuz-")
    shutil.copy2(kernels[-1], cache / "vmlinuz")
    shutil.copy2(partial / "boot" / f"initrd.img-{version}", cache / "initrd.img")
    for heavy in ("boot", "usr/lib/modules", "var/cache/apt/archives"):
        for child in (partial / heavy).glob("*"):
            shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
    (partial / BASE_MARK).write_text(mark)
    partial.rename(cache / "root")


def _install_dependencies(root: Path, repo: Path) -> str:
    """The kiosk's runtime dependencies (PyPI wheels fetched on the host) into the guest's
    /usr/local site-packages; redone when pyproject.toml's list changes."""
    deps = runtime_dependencies(repo)
    key = hashlib.sha256(json.dumps(sorted(deps)).encode()).hexdigest()[:16]
    mark = root / DEPS_MARK
    if mark.exists() and mark.read_text() == key:
        return key
    site = root / SITE
    shutil.rmtree(site, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    "--only-binary=:all:", "--target", str(site), *deps], check=True, capture_output=True)
    mark.write_text(key)
    return key


def build_guest_root(repo: Path, cache: Path | None = None) -> GuestRoot:
    """Build what is missing of the guest (see the module docstring) and return its parts."""
    cache = cache_dir(cache)
    cache.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    root = _debootstrap(cache)
    deps_key = _install_dependencies(root, repo)
    init_key = hashlib.sha256(INIT_SCRIPT.encode()).hexdigest()[:8]
    image = cache / f"root-{deps_key}-{init_key}.ext4"
    cached = image.exists()
    if not cached:
        init = root / INIT
        init.write_text(INIT_SCRIPT)
        init.chmod(0o755)
        for old in cache.glob("root-*.ext4"):
            old.unlink()
        partial = make_ext4(root, cache / "root.ext4.partial", ROOT_IMAGE_MB, "kiosk-root")
        partial.rename(image)
    return GuestRoot(cache / "vmlinuz", cache / "initrd.img", image, time.monotonic() - t0, cached)
