"""Let this x86_64 kernel run aarch64 binaries: binfmt_misc with Debian's qemu-aarch64 entry.

As root: mount ``binfmt_misc`` on /proc/sys/fs/binfmt_misc when it is not mounted, then write
the line of ``/usr/lib/binfmt.d/qemu-aarch64.conf`` (package qemu-user-static) into its
``register`` file when ``qemu-aarch64`` is not registered yet. The entry's ``F`` flag opens the
interpreter at registration, so the chroot needs no copy of it.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

BINFMT_DIR = Path("/proc/sys/fs/binfmt_misc")
QEMU_CONF = Path("/usr/lib/binfmt.d/qemu-aarch64.conf")


def entry_name(conf_line: str) -> str:
    """The name of a binfmt_misc registration line (``:name:type:offset:magic:mask:interp:flags``)."""
    line = conf_line.strip()
    if not line.startswith(":") or line.count(":") < 6:
        raise ValueError(f"not a binfmt_misc registration line: {line[:60]!r}")
    return line.split(":")[1]


def ensure_aarch64() -> str:
    """Mount binfmt_misc and register qemu-aarch64 where needed; returns what was done."""
    done = []
    if not (BINFMT_DIR / "register").exists():
        subprocess.run(["mount", "-t", "binfmt_misc", "binfmt_misc", str(BINFMT_DIR)], check=True)
        done.append("mounted binfmt_misc")
    line = next(ln for ln in QEMU_CONF.read_text().splitlines() if ln.startswith(":"))
    name = entry_name(line)
    entry = BINFMT_DIR / name
    if not entry.exists():
        fd = os.open(BINFMT_DIR / "register", os.O_WRONLY)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)
        done.append(f"registered {name}")
    if not entry.read_text().startswith("enabled"):
        raise RuntimeError(f"{entry} is registered but disabled")
    return ", ".join(done) or "already registered"
