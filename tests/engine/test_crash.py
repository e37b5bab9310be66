"""Power cuts: a process driving the queue is killed with SIGKILL at random points.

After each kill the database is reopened and checked: nothing the process reported as
committed is lost, no number is issued twice in a day, no ticket is with two counters,
the outbox has one event per committed operation in order, and SQLite's integrity check
passes. CRASH_ITERATIONS (default 100) sets how many kills.
"""
from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time

from kiosk.sim.processes import stop_process
from tests.kit.settings import REPO

ITERATIONS = int(os.environ.get("CRASH_ITERATIONS", "100"))


def _run_and_kill(db, seed, rng) -> list[str]:
    proc = subprocess.Popen([sys.executable, "-m", "tests.kit.queue_worker", str(db), str(seed)],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
    lines: list[str] = []
    try:
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        want = rng.randint(0, 40)
        while len(lines) < want:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line.strip())
        time.sleep(rng.random() * 0.003)                 # land anywhere, also mid-transaction
        proc.send_signal(signal.SIGKILL)
        rest, _ = proc.communicate(timeout=30)
        lines += [l for l in rest.splitlines() if l]     # reported before the kill: committed too
    finally:
        stop_process(proc, signal.SIGKILL, 30)
    assert proc.returncode == -signal.SIGKILL
    return lines


def test_sigkill_at_random_points_loses_nothing_committed(tmp_path):
    db = tmp_path / "kiosk.db"
    rng = random.Random(20261123)
    issued: dict[int, str] = {}
    called: dict[int, int] = {}
    for i in range(ITERATIONS):
        for line in _run_and_kill(db, i, rng):
            kind, *rest = line.split()
            if kind == "issued":
                issued[int(rest[1])] = rest[0]
            elif kind == "called":
                called[int(rest[2])] = int(rest[0])
        conn = sqlite3.connect(db)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            rows = {r[0]: r for r in conn.execute("SELECT id, number, day, state, counter FROM tickets")}
            for tid, number in issued.items():
                assert tid in rows and rows[tid][1] == number, f"committed ticket {number} lost after kill {i}"
            for tid, counter in called.items():
                assert rows[tid][3] != "waiting", f"ticket {rows[tid][1]} called but back to waiting"
            dup = conn.execute("SELECT day, number, count(*) FROM tickets WHERE seq IS NOT NULL "
                               "GROUP BY day, number HAVING count(*) > 1").fetchall()
            assert dup == [], f"numbers issued twice: {dup}"
            held = conn.execute("SELECT ticket_id, count(*) FROM counters WHERE ticket_id IS NOT NULL "
                                "GROUP BY ticket_id HAVING count(*) > 1").fetchall()
            assert held == []
            at_counter = conn.execute("SELECT count(*) FROM tickets WHERE state IN ('called', 'serving')").fetchone()[0]
            held_total = conn.execute("SELECT count(*) FROM counters WHERE ticket_id IS NOT NULL").fetchone()[0]
            assert at_counter == held_total
            issued_events = conn.execute("SELECT count(*) FROM outbox WHERE type = 'ticket.issued'").fetchone()[0]
            assert issued_events == conn.execute("SELECT count(*) FROM tickets WHERE seq IS NOT NULL").fetchone()[0]
            seqs = [r[0] for r in conn.execute("SELECT seq FROM outbox ORDER BY seq")]
            assert seqs == list(range(1, len(seqs) + 1))
        finally:
            conn.close()
    assert len(issued) > ITERATIONS                       # the kills really interrupted a busy stream
    print(f"{ITERATIONS} SIGKILLs survived; {len(issued)} committed tickets all present")
