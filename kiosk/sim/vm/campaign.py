"""N power cuts: boot the guest, let the kiosk take a load, SIGKILL QEMU at a random moment, boot
again and check the state against everything acknowledged before (`Ledger`). One boot in ten
(`early_share`) is cut before the kiosk is ready, i.e. during the journal replay, the SQLite
recovery, the kiosk's start or `kiosk check-db`. The last boot only checks and powers off."""
from __future__ import annotations

import os
import random
import shutil
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from kiosk.sim.vm.disks import copy_sparse, project_image
from kiosk.sim.vm.guest_root import build_guest_root, cache_dir
from kiosk.sim.vm.ledger import Findings, Ledger
from kiosk.sim.vm.machine import MachineEnded, MachineSpec, VirtualMachine


@dataclass(frozen=True)
class CampaignPlan:
    cuts: int
    seed: int = 20261206
    accel: str = "tcg"
    load_window_s: float = 4.0      # the cut lands uniformly in [0, this] after the load started
    early_share: float = 0.1        # share of cuts that land before the kiosk is ready
    boot_timeout_s: float = 300.0


class Campaign:
    def __init__(self, plan: CampaignPlan, repo: Path, cache: Path | None = None,
                 say: Callable[[str], None] = lambda _: None) -> None:
        self.plan, self.repo, self.cache, self.say = plan, repo, cache_dir(cache), say
        self.rng = random.Random(plan.seed)
        self.ledger = Ledger()
        self.found: dict[str, set[str]] = {k: set() for k in vars(Findings())}
        self.boot_to_ready_s: list[float] = []
        self.kiosk_ready_s: list[float] = []
        self.not_ready: list[str] = []
        self.early_cuts = 0
        self.checks = 0

    def _absorb(self, line: dict[str, Any]) -> None:
        if "ack" in line:
            self.ledger.acknowledge(line)
        elif line.get("event") == "state":
            self.checks += 1
            findings = self.ledger.check(line)
            for kind, items in vars(findings).items():
                self.found[kind].update(items)
            if not findings.clean:
                self.say(f"boot {line['boot']}: {findings.describe()}")

    def _boot(self, spec: MachineSpec, work: Path, boot: int) -> None:
        last = boot == self.plan.cuts
        vm = VirtualMachine(spec, work, boot, self.rng.randrange(1 << 30), load=not last).start()
        timeout = self.plan.boot_timeout_s
        try:
            if not last and self.boot_to_ready_s and self.rng.random() < self.plan.early_share:
                self.early_cuts += 1
                time.sleep(self.rng.uniform(0, statistics.median(self.boot_to_ready_s)))
            else:
                ready, before = vm.wait_for("ready", timeout)
                self.boot_to_ready_s.append(time.monotonic() - vm.started)
                self.kiosk_ready_s.append(float(ready["kiosk_ready_s"]))
                state, more = vm.wait_for("state", timeout)
                for line in before + more + [state]:
                    self._absorb(line)
                if last:
                    vm.wait_for("stopped", timeout)
                    vm.wait_ended(60)
                    return
                vm.wait_for("load", timeout)
                time.sleep(self.rng.uniform(0, self.plan.load_window_s))
        except (TimeoutError, MachineEnded) as exc:
            self.not_ready.append(str(exc))
            self.say(str(exc))
        for line in vm.power_cut():
            self._absorb(line)

    def run(self) -> dict[str, Any]:
        t0 = time.monotonic()
        guest = build_guest_root(self.repo, self.cache)
        work = self.cache / f"run-{os.getpid()}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        try:
            spec = MachineSpec(guest.kernel, guest.initrd, copy_sparse(guest.image, work / "root.ext4"),
                               project_image(self.repo, work / "project.ext4"), accel=self.plan.accel)
            for boot in range(self.plan.cuts + 1):
                self._boot(spec, work, boot)
                self.say(f"boot {boot}: {self.ledger.total} acknowledged so far")
        finally:
            if not os.environ.get("KIOSK_VM_KEEP"):
                shutil.rmtree(work, ignore_errors=True)
        return self.summary(guest.build_s, guest.cached, time.monotonic() - t0)

    def summary(self, build_s: float, cached: bool, total_s: float) -> dict[str, Any]:
        lost = len(self.found["lost"])
        spread = lambda xs: {"median": round(statistics.median(xs), 2), "max": round(max(xs), 2),  # noqa: E731
                             "n": len(xs)} if xs else None
        return {
            "metric": "power_cut", "value": lost, "unit": "acknowledged operations lost",
            "cuts": self.plan.cuts, "acknowledged": self.ledger.total,
            "acknowledged_by_kind": dict(self.ledger.acked), "lost": lost,
            "duplicates": len(self.found["duplicates"]), "double_calls": len(self.found["double_calls"]),
            "outbox_breaks": len(self.found["outbox"]), "check_db_failures": len(self.found["check_db"]),
            "not_ready": len(self.not_ready), "checks": self.checks, "early_cuts": self.early_cuts,
            "boot_to_ready_s": spread(self.boot_to_ready_s), "kiosk_ready_s": spread(self.kiosk_ready_s),
            "accel": self.plan.accel, "disk_cache": "none", "seed": self.plan.seed,
            "root_build_s": round(build_s, 1), "root_cached": cached, "seconds": round(total_s, 1),
            "problems": sorted(set().union(*self.found.values()))[:20] + self.not_ready[:5],
        }
