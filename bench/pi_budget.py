"""The hot paths on a Pi-class CPU budget: the benchmarks run confined to a cgroup of 25 % of one core.

    python -m bench.pi_budget [--share 0.25] [--period-us 10000] [--quick]

A Pi 3 / Zero 2 W core is several times slower than this machine's; the kiosk's hot paths are
measured here with a CPU quota of ``share`` of one core (cgroup v2 ``cpu.max``, or cgroup v1
``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``). This process makes the cgroup, checks that it
confines (a busy loop placed in it must get ``share`` of a core, ±40 %), then starts each
measurement as a child process placed in the cgroup before it runs (its own children inherit it):

* ``pi_ticket_tap_to_bytes_ms`` — ``bench.ticket_tap_to_bytes``: software share of the wire
  time at 115200 baud, target p99 ≤ 0.2;
* ``pi_button_to_display_frame_ms`` (and ``…_via_worker_ms``) — ``bench.button_to_display_frame``,
  target p99 ≤ 10 ms;
* ``pi_issue_30_waiting_ms`` — one ``QueueEngine.issue`` (durable transaction, outbox event and
  the wait estimate) with 30 tickets waiting, measured by this module's ``--measure issue``;
* ``pi_startup_ready_s`` — ``bench.ui_startup``: start of ``kiosk run --screen kiosk`` to its
  first frame, target ≤ 3 s.

Every line carries ``cpu_share``, ``cgroup`` (its path) and ``cgroup_kind``. The quota is given
per period: a short period (default 10 ms) spreads the budget like a slow core would, where the
kernel's default 100 ms lets a burst run at full speed then stall for 75 ms. When the cgroup
cannot be made or does not confine, an ``"error"`` line is printed and the exit status is 2:
nothing is ever measured unconfined. Needs root (or a delegated cgroup).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.metrics import Metric, Target

ROOT = Path(__file__).resolve().parent.parent
CGROUP_FS = Path("/sys/fs/cgroup")

METRICS = (
    Metric("pi_ticket_tap_to_bytes_ms", "ms", Target("ratio_p99_to_wire", "<=", 0.2),
           what="tap → ticket bytes at 25 % of one core; ratio: software share of the wire time"),
    Metric("pi_button_to_display_frame_ms", "ms", Target("p99", "<=", 10), what="button → frame, 25 % of a core"),
    Metric("pi_button_to_display_frame_via_worker_ms", "ms", Target("p99", "<=", 10),
           what="button → frame through the display worker, 25 % of a core"),
    Metric("pi_issue_30_waiting_ms", "ms", what="one issue with 30 waiting, its estimate included, 25 % of a core"),
    Metric("pi_startup_ready_s", "s", Target("max", "<=", 3.0), what="start to ready, 25 % of a core"),
    Metric("pi_cgroup_busy_loop_share", "share of one core", what="a busy loop's CPU share in the cgroup (the check)"),
    Metric("pi_budget", "", what="the error line when the kiosk cannot be confined"),
)

# (benchmark module, its arguments, quick arguments, time limit s, {its metric: our metric})
RUNS: tuple[tuple[str, list[str], list[str], float, dict[str, str]], ...] = (
    ("bench.ticket_tap_to_bytes", ["--n", "200"], ["--n", "40"], 1800,
     {"ticket_tap_to_bytes_ms": "pi_ticket_tap_to_bytes_ms"}),
    ("bench.button_to_display_frame", ["--n", "1000"], ["--n", "200"], 1200,
     {"button_to_display_frame_ms": "pi_button_to_display_frame_ms",
      "button_to_display_frame_via_worker_ms": "pi_button_to_display_frame_via_worker_ms"}),
    ("bench.pi_budget", ["--measure", "issue", "--n", "300"], ["--measure", "issue", "--n", "100"], 900,
     {"pi_issue_30_waiting_ms": "pi_issue_30_waiting_ms"}),
    ("bench.ui_startup", ["--runs", "5", "--sessions", "0"], ["--runs", "2", "--sessions", "0"], 1800,
     {"startup_ready_s": "pi_startup_ready_s"}),
)

BUSY = "import time, json\nt0=time.monotonic(); c0=time.process_time()\nwhile time.monotonic()-t0 < {s}: pass\n" \
       "print(json.dumps({{'cpu_s': time.process_time()-c0, 'wall_s': time.monotonic()-t0}}))"


class ConfinementError(RuntimeError):
    """The cgroup could not be made, joined or shown to confine."""


@dataclass
class CpuCgroup:
    """A cgroup limited to ``share`` of one core; ``place()`` moves the calling process into it."""

    path: Path
    kind: str            # "v1" or "v2"
    share: float
    period_us: int

    @classmethod
    def create(cls, share: float, period_us: int, name: str) -> "CpuCgroup":
        quota_us = int(round(share * period_us))
        if quota_us < 1000:
            raise ConfinementError(f"a quota of {quota_us} µs is under the kernel's 1 ms minimum: "
                                   f"use a period of at least {int(1000 / share)} µs")
        v2_root = CGROUP_FS
        if "cpu" in _words(v2_root / "cgroup.controllers"):
            if "cpu" not in _words(v2_root / "cgroup.subtree_control"):
                _write(v2_root / "cgroup.subtree_control", "+cpu")
            path = v2_root / name
            path.mkdir(exist_ok=True)
            _write(path / "cpu.max", f"{quota_us} {period_us}")
            return cls(path, "v2", share, period_us)
        v1_root = CGROUP_FS / "cpu"
        if (v1_root / "cpu.cfs_quota_us").exists():
            path = v1_root / name
            path.mkdir(exist_ok=True)
            _write(path / "cpu.cfs_period_us", str(period_us))
            _write(path / "cpu.cfs_quota_us", str(quota_us))
            return cls(path, "v1", share, period_us)
        raise ConfinementError(f"no cgroup cpu controller under {CGROUP_FS} (neither cgroup v2 "
                               f"cpu.max nor cgroup v1 cpu/cpu.cfs_quota_us)")

    def place(self) -> None:
        """Move the calling process (and its future children) into the cgroup."""
        _write(self.path / "cgroup.procs", str(os.getpid()))

    def throttled(self) -> int:
        """How many periods the cgroup was throttled in so far."""
        for line in (self.path / "cpu.stat").read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "nr_throttled":
                return int(value)
        return 0

    def remove(self) -> None:
        try:
            self.path.rmdir()
        except OSError:
            pass

    def fields(self) -> dict:
        return {"cpu_share": self.share, "cgroup": str(self.path), "cgroup_kind": self.kind,
                "cfs_period_us": self.period_us}


def _words(path: Path) -> list[str]:
    try:
        return path.read_text().split()
    except OSError:
        return []


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text)
    except OSError as exc:
        raise ConfinementError(f"cannot write {text!r} to {path}: {exc}") from exc


def run_confined(group: CpuCgroup, cmd: list[str], timeout_s: float) -> subprocess.CompletedProcess:
    """Run ``cmd`` as a child placed in ``group`` before it executes anything."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout_s,
                          preexec_fn=group.place)


def measured_share(group: CpuCgroup, seconds: float = 2.0) -> float:
    """The CPU share a busy loop gets inside the group (CPU time over wall time)."""
    out = run_confined(group, [sys.executable, "-c", BUSY.format(s=seconds)], 60)
    if out.returncode != 0:
        raise ConfinementError(f"the busy loop failed in {group.path}: {out.stderr[-500:]}")
    doc = json.loads(out.stdout.strip().splitlines()[-1])
    return doc["cpu_s"] / doc["wall_s"]


def verify(group: CpuCgroup) -> dict:
    """Raise unless a busy loop in the group gets ``share`` of a core (±40 %) and was throttled."""
    before = group.throttled()
    share = measured_share(group)
    throttled = group.throttled() - before
    doc = {"metric": "pi_cgroup_busy_loop_share", "value": round(share, 3), "unit": "share of one core",
           "throttled_periods": throttled, **group.fields()}
    if not (0.6 * group.share <= share <= 1.4 * group.share) or throttled == 0:
        raise ConfinementError(f"a busy loop got {share:.2f} of a core in {group.path} (wanted "
                               f"{group.share:.2f}, throttled {throttled} times): not confined")
    return doc


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q / 100 * (len(s) - 1))))]


def measure_issue(n: int, waiting: int = 30) -> dict:
    """``QueueEngine.issue`` with ``waiting`` tickets waiting (its estimate included), in this process."""
    from kiosk.config.settings import DEFAULT_CONFIG, load_settings
    from kiosk.domain.clock import FakeClock
    from kiosk.engine.queue_engine import QueueEngine
    from kiosk.storage.store import Store

    settings = load_settings(DEFAULT_CONFIG)
    with tempfile.TemporaryDirectory(prefix="pi-budget-issue-", dir=ROOT) as tmp:
        clock = FakeClock()
        engine = QueueEngine(Store(Path(tmp) / "kiosk.db", synchronous=settings.store.synchronous), settings, clock)
        engine.set_counter(3, "open")
        for _ in range(waiting):
            engine.issue("A")
            clock.advance(20)
        wall, cpu = [], []
        for i in range(n + 10):
            w0, c0 = time.perf_counter(), time.process_time()
            engine.issue("A" if i % 3 else "B")
            w1, c1 = time.perf_counter(), time.process_time()
            if i >= 10:                      # the first ten warm the estimator and the caches
                wall.append((w1 - w0) * 1000)
                cpu.append((c1 - c0) * 1000)
            clock.advance(20)
            engine.call_next(3)              # back to `waiting` waiting
            clock.advance(60)
            engine.finish(3)
        still = engine.conn.execute("SELECT COUNT(*) FROM tickets WHERE state = 'waiting'").fetchone()[0]
        engine.store.close()
    return {"metric": "pi_issue_30_waiting_ms", "p50": round(_pct(wall, 50), 3), "p99": round(_pct(wall, 99), 3),
            "cpu_p50_ms": round(_pct(cpu, 50), 3), "cpu_mean_ms": round(statistics.fmean(cpu), 3),
            "n": n, "unit": "ms", "waiting": waiting, "waiting_at_end": still,
            "what": "QueueEngine.issue: one durable transaction, its outbox event and the wait estimate",
            "synchronous": settings.store.synchronous}


def _lines(stdout: str) -> list[dict]:
    found = []
    for line in stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                doc = json.loads(line)
            except ValueError:
                continue
            if isinstance(doc, dict) and "metric" in doc:
                found.append(doc)
    return found


def _judge(doc: dict) -> dict:
    """The same targets as unconfined: ratio p99 ≤ 0.2, frame p99 ≤ 10 ms, ready ≤ 3 s."""
    metric = doc["metric"]
    if metric == "pi_ticket_tap_to_bytes_ms" and "ratio_p99_to_wire" in doc:
        doc["ok"] = doc["ratio_p99_to_wire"] <= 0.2
    elif metric.startswith("pi_button_to_display_frame") and "p99" in doc:
        doc["ok"] = doc["p99"] <= 10
    elif metric == "pi_startup_ready_s" and "p50" in doc:
        doc["ok"] = doc["p50"] <= 3.0
        doc["ok_slowest_run"] = doc.get("max", doc["p50"]) <= 3.0
    return doc


def emit(doc: dict) -> None:
    print(json.dumps(doc, ensure_ascii=False), flush=True)


def run_all(group: CpuCgroup, quick: bool) -> int:
    failures = 0
    for module, full, quick_args, limit_s, rename in RUNS:
        args = quick_args if quick else full
        t0 = time.monotonic()
        try:
            out = run_confined(group, [sys.executable, "-m", module, *args], limit_s)
            stdout, rc, err = out.stdout, out.returncode, out.stderr
        except subprocess.TimeoutExpired as exc:
            stdout = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
            rc, err = None, f"timed out after {limit_s:.0f} s"
        kept = [d for d in _lines(stdout) if d["metric"] in rename]
        for doc in kept:
            emit(_judge({**doc, "metric": rename[doc["metric"]], "measured_by": f"python -m {module} {' '.join(args)}",
                         **group.fields()}))
        if rc != 0 or not kept:
            failures += 1
            emit({"metric": f"pi_{module.split('.')[-1]}_run", "error": f"exit {rc}, {len(kept)} lines",
                  "stderr": err[-1500:], **group.fields()})
        print(f"# {module}: {time.monotonic() - t0:.0f} s", file=sys.stderr, flush=True)
    return failures


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.pi_budget", description=__doc__.splitlines()[0])
    ap.add_argument("--share", type=float, default=0.25, help="share of one core (default 0.25)")
    ap.add_argument("--period-us", type=int, default=10000, help="CFS period of the quota (default 10000)")
    ap.add_argument("--quick", action="store_true", help="smaller samples")
    ap.add_argument("--measure", choices=["issue"], help=argparse.SUPPRESS)  # the child's part
    ap.add_argument("--n", type=int, default=300, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.measure == "issue":
        emit(measure_issue(a.n))
        return 0
    group = None
    try:
        group = CpuCgroup.create(a.share, a.period_us, f"kiosk-pi-budget-{os.getpid()}")
        emit(verify(group))
    except (ConfinementError, OSError) as exc:
        emit({"metric": "pi_budget", "error": f"cannot confine to {a.share} of a core: {exc}",
              "cpu_share": a.share, "cgroup": str(group.path) if group else None,
              "cgroup_kind": group.kind if group else None})
        if group:
            group.remove()
        return 2
    try:
        failures = run_all(group, a.quick)
    finally:
        group.remove()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
