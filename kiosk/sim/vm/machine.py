"""One boot of the power-cut guest under QEMU: started, read (its report lines), killed.

The root disk is attached with ``cache=none`` (docs/reliability.md, "Power cuts", says why):
whatever the guest has not written out to its virtual disk lives only in QEMU's memory and is
gone when QEMU is killed with SIGKILL. The guest's reports arrive on its second serial port
(ttyS1), written by QEMU to a file the host reads as it grows.
"""
from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.sim.processes import stop_process


class MachineEnded(RuntimeError):
    """QEMU ended (or the guest powered off) before the awaited report."""


@dataclass(frozen=True)
class MachineSpec:
    kernel: Path
    initrd: Path
    root_image: Path       # the working copy: it keeps the kiosk's data from boot to boot
    project_image: Path
    accel: str = "tcg"     # "kvm" where a KVM guest boots (here it hangs before the kernel prints)
    memory_mb: int = 512
    cache_mode: str = "none"


def qemu_binary() -> str:
    path = shutil.which("qemu-system-x86_64")
    if path is None:
        raise FileNotFoundError("qemu-system-x86_64 is missing: install Debian's qemu-system-x86")
    return path


class VirtualMachine:
    def __init__(self, spec: MachineSpec, workdir: Path, boot: int, seed: int, *, load: bool = True) -> None:
        self.spec, self.boot, self.seed, self.load = spec, boot, seed, load
        self.report_path = workdir / f"report-{boot}.jsonl"
        self.console_path = workdir / f"console-{boot}.log"
        self.proc: subprocess.Popen | None = None
        self.started = 0.0
        self._offset = 0
        self._pending: list[dict[str, Any]] = []

    def command(self) -> list[str]:
        s = self.spec
        append = (f"root=/dev/vda rw rootfstype=ext4 console=ttyS0 init=/sbin/kiosk-vm-init panic=-1 quiet "
                  f"kiosk.boot={self.boot} kiosk.seed={self.seed} kiosk.load={int(self.load)}")
        return [qemu_binary(), "-accel", s.accel, "-m", str(s.memory_mb), "-smp", "1", "-nodefaults",
                "-display", "none", "-no-reboot", "-monitor", "none",
                "-kernel", str(s.kernel), "-initrd", str(s.initrd), "-append", append,
                "-drive", f"file={s.root_image},format=raw,if=virtio,cache={s.cache_mode},aio=threads",
                "-drive", f"file={s.project_image},format=raw,if=virtio,readonly=on",
                "-serial", f"file:{self.console_path}", "-serial", f"file:{self.report_path}"]

    def start(self) -> VirtualMachine:
        self.report_path.unlink(missing_ok=True)
        self.started = time.monotonic()
        with open(self.console_path.with_suffix(".qemu.log"), "wb") as qemu_log:   # QEMU keeps its own copy
            self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=qemu_log)
        return self

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def read(self) -> list[dict[str, Any]]:
        """The complete report lines that arrived since the last call (a line cut by the power
        cut is not a report)."""
        try:
            with open(self.report_path, "rb") as f:
                f.seek(self._offset)
                data = f.read()
        except FileNotFoundError:
            return []
        end = data.rfind(b"\n") + 1
        self._offset += end
        lines = []
        for raw in data[:end].splitlines():
            try:
                lines.append(json.loads(raw))
            except ValueError:
                lines.append({"event": "garbled", "raw": raw[-200:].decode(errors="replace")})
        return lines

    def wait_for(self, event: str, timeout_s: float) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Wait for the report ``event``; return it and every line that came before it."""
        deadline = time.monotonic() + timeout_s
        before: list[dict[str, Any]] = []
        while True:
            self._pending += self.read()
            while self._pending:
                line = self._pending.pop(0)
                if line.get("event") == event:
                    return line, before
                before.append(line)
            if not self.alive:
                self._pending += self.read()
                if not self._pending:
                    raise MachineEnded(f"boot {self.boot}: QEMU ended before {event!r} (see {self.console_path})")
                continue
            if time.monotonic() > deadline:
                raise TimeoutError(f"boot {self.boot}: no {event!r} within {timeout_s:.0f} s (see {self.console_path})")
            time.sleep(0.02)

    def drain(self) -> list[dict[str, Any]]:
        lines, self._pending = self._pending + self.read(), []
        return lines

    def power_cut(self) -> list[dict[str, Any]]:
        """SIGKILL to QEMU: no shutdown, no flush. Returns the lines reported before the cut."""
        stop_process(self.proc, signal.SIGKILL, 30)
        return self.drain()

    def wait_ended(self, timeout_s: float) -> int | None:
        """Wait for a guest that powers itself off; SIGKILL it after ``timeout_s``."""
        return stop_process(self.proc, None, timeout_s)
