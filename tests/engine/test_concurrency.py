"""Concurrency: eight counters pressing "next" at once never get the same ticket — from
threads through the command loop, and from two processes sharing the database."""
from __future__ import annotations

import subprocess
import sys
import threading
from collections import Counter

from kiosk.app.kiosk_app import KioskApp
from tests.kit.settings import REPO, settings_with


def test_eight_counters_press_next_at_the_same_instant(tmp_path, settings, clock):
    counters = [{"number": n, "services": ["A", "B", "V"], "vip_first": n <= 2} for n in range(1, 9)]
    s = settings_with(settings, counters=counters)
    app = KioskApp(s, tmp_path, clock=clock).start()
    try:
        for n in range(1, 9):
            app.set_counter(n, "open").result()
        for _ in range(200):
            app.issue("A").result()
        barrier = threading.Barrier(8)
        got: list[str] = []
        lock = threading.Lock()

        def press(counter: int) -> None:
            for _ in range(20):
                barrier.wait()
                r = app.call_next(counter).result()
                with lock:
                    got.append(r.ticket)

        threads = [threading.Thread(target=press, args=(n,)) for n in range(1, 9)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert len(got) == 160
        assert [t for t, n in Counter(got).items() if n > 1] == []
        assert sorted(got) == [f"A{i:03d}" for i in range(1, 161)]   # FIFO overall
    finally:
        app.stop()


def test_two_processes_share_the_database(tmp_path):
    db = tmp_path / "kiosk.db"
    procs = [subprocess.Popen([sys.executable, "-m", "tests.kit.queue_worker", str(db), str(seed), *cs],
                              cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for seed, cs in ((1, ["1", "3"]), (2, ["2", "4"]))]
    outputs = []
    for p in procs:
        lines = []
        for line in p.stdout:
            lines.append(line.split())
            if len(lines) > 400:
                break
        outputs.append(lines)
    for p in procs:
        p.kill()
        p.communicate(timeout=30)
    called = [(int(l[1]), l[2], int(l[3])) for lines in outputs for l in lines if l[0] == "called"]
    issued = [int(l[2]) for lines in outputs for l in lines if l[0] == "issued"]
    by_ticket = Counter(tid for _, _, tid in called)
    assert called and all(n == 1 for n in by_ticket.values()), "a ticket was called by two counters"
    assert len(set(issued)) == len(issued)
    # both processes really interleaved on the same file
    assert {c for c, _, _ in called} == {1, 2, 3, 4}
