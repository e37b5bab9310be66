"""The arm64 Debian root: built once with debootstrap (cached), copied fresh for every run.

The cached base is a pristine ``debootstrap --arch arm64 --variant=minbase bookworm`` root,
like a freshly flashed OS with nothing of the kiosk on it. Every run works on a copy, so
``install.sh`` always meets a fresh system; apt's downloads are kept in the cache between runs
(bind-mounted on the root's /var/cache/apt/archives), the installation itself is real.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

MIRROR = "http://deb.debian.org/debian"
SUITE = "bookworm"
HOST_PACKAGES = ("debootstrap", "qemu-user-static")
CHROOT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
HOST_CA_DIR = Path("/usr/local/share/ca-certificates")


def missing_host_packages() -> list[str]:
    """The Debian packages this host lacks for the run (debootstrap, qemu-user-static)."""
    have = {"debootstrap": shutil.which("debootstrap") is not None,
            "qemu-user-static": Path("/usr/lib/binfmt.d/qemu-aarch64.conf").exists()}
    return [p for p in HOST_PACKAGES if not have[p]]


def install_host_packages(packages: list[str]) -> None:
    apt = ["apt-get", "-o", "DPkg::Lock::Timeout=600"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run([*apt, "update"], check=True, env=env)
    subprocess.run([*apt, "install", "-y", "--no-install-recommends", *packages], check=True, env=env)


def cached_base(cache: Path, *, fresh: bool = False) -> tuple[Path, float, bool]:
    """(the base root, seconds its debootstrap took, whether it came from the cache)."""
    base = cache / f"{SUITE}-arm64-minbase"
    stamp = cache / f"{SUITE}-arm64-minbase.built-s"
    if stamp.exists() and not fresh:
        return base, float(stamp.read_text()), True
    stamp.unlink(missing_ok=True)
    if base.exists():
        unmount_all(base)   # a debootstrap that stopped half-way leaves its /proc mounted
        shutil.rmtree(base)
    cache.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    subprocess.run(["debootstrap", "--arch", "arm64", "--variant=minbase", SUITE, str(base), MIRROR], check=True,
                   stdout=subprocess.DEVNULL)
    built_s = time.monotonic() - t0
    stamp.write_text(f"{built_s:.1f}\n")
    return base, built_s, False


def mounts_under(path: Path) -> list[str]:
    """Mount points at or under path, deepest first (from /proc/self/mounts)."""
    prefix = str(path.resolve())
    points = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()]
    inside = [p for p in points if p == prefix or p.startswith(prefix + "/")]
    return sorted(set(inside), key=len, reverse=True)


def unmount_all(path: Path) -> None:
    for point in mounts_under(path):
        if subprocess.run(["umount", point], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", point], check=True)


def fresh_copy(base: Path, work: Path) -> Path:
    """A new copy of the base root at work (whatever was there is unmounted and removed)."""
    if work.exists():
        unmount_all(work)
        if mounts_under(work):
            raise RuntimeError(f"{work} still has mounts: {mounts_under(work)}")
        shutil.rmtree(work)
    work.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["cp", "-a", "--reflink=auto", str(base), str(work)], check=True)
    return work


def copy_repository(repo: Path, root: Path, dest: str = "/srv/kiosk") -> int:
    """The repository's working tree (tracked and untracked, not ignored files) → root/dest."""
    out = subprocess.run(["git", "-C", str(repo), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         check=True, capture_output=True).stdout
    target = root / dest.lstrip("/")
    count = 0
    for name in filter(None, out.decode().split("\0")):
        src = repo / name
        if not src.is_file():
            continue   # deleted in the working tree
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target / name)
        count += 1
    return count


def add_host_network_settings(root: Path) -> list[str]:
    """DNS, and this host's own CA certificates (a TLS-inspecting proxy) for pip's HTTPS.

    The certificates go where ca-certificates' postinst picks them up when install.sh's apt
    installs it; a Pi on an ordinary network needs neither.
    """
    added = []
    shutil.copy2("/etc/resolv.conf", root / "etc/resolv.conf")
    if HOST_CA_DIR.is_dir():
        dest = root / HOST_CA_DIR.relative_to("/")
        dest.mkdir(parents=True, exist_ok=True)
        for crt in sorted(HOST_CA_DIR.glob("*.crt")):
            shutil.copy2(crt, dest / crt.name)
            added.append(crt.name)
    return added


@contextmanager
def mounted(root: Path, apt_cache: Path) -> Iterator[Path]:
    """/proc, /sys, /dev, /dev/pts, a /dev/shm and the apt download cache inside root."""
    apt_cache.mkdir(parents=True, exist_ok=True)
    plan = [
        (["-t", "proc", "proc"], "proc"),
        (["-t", "sysfs", "sysfs"], "sys"),
        (["--bind", "/dev"], "dev"),
        (["--bind", "/dev/pts"], "dev/pts"),
        (["-t", "tmpfs", "-o", "mode=1777", "shm"], "dev/shm"),
        (["--bind", str(apt_cache)], "var/cache/apt/archives"),
    ]
    try:
        for args, where in plan:
            point = root / where
            point.mkdir(parents=True, exist_ok=True)
            subprocess.run(["mount", *args, str(point)], check=True)
        yield root
    finally:
        unmount_all(root)


def chroot(root: Path, argv: list[str], *, log: Path, env: Mapping[str, str] | None = None, cwd: str = "/",
           user: str | None = None, stdin: str | None = None, timeout: float | None = None) -> tuple[int, str, float]:
    """Run argv inside root with a clean environment, output to log; (exit code, output, seconds)."""
    base_env = {"PATH": CHROOT_PATH, "HOME": "/root", "LANG": "C.UTF-8", "TERM": "dumb"}
    full_env = [f"{k}={v}" for k, v in {**base_env, **(env or {})}.items()]
    inner = ["/usr/bin/env", "-i", *full_env, *argv]
    if user:
        inner = ["/usr/sbin/runuser", "-u", user, "--", *inner]
    script = f"cd {cwd} && exec \"$@\""
    cmd = ["chroot", str(root), "/bin/sh", "-c", script, "sh", *inner]
    t0 = time.monotonic()
    with log.open("w") as sink:   # written as it runs: `tail -f` the step's log
        try:
            code = subprocess.run(cmd, input=stdin, text=True, stdout=sink, stderr=subprocess.STDOUT,
                                  timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            code = -9
            print(f"\n[timed out after {timeout:.0f} s]", file=sink)
    return code, log.read_text(errors="replace"), time.monotonic() - t0
