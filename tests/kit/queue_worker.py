"""A process that drives the engine on a database and reports each committed operation.

    python -m tests.kit.queue_worker DB SEED [COUNTERS...]

Prints `issued A001 <id>` / `called <counter> <ticket> <id>` / `finished ...` after each
commit, flushed, so a parent that kills it knows what was committed before the kill.
Used by the crash test (SIGKILL at random points) and the two-process test.
"""
from __future__ import annotations

import random
import sys
from pathlib import Path

from kiosk.domain import errors
from kiosk.config.settings import DEFAULT_CONFIG, load_settings
from kiosk.engine.queue_engine import QueueEngine
from kiosk.storage.store import Store


def main(argv: list[str]) -> int:
    db, seed = Path(argv[0]), int(argv[1])
    counters = [int(c) for c in argv[2:]] or [1, 2, 3, 4]
    rng = random.Random(seed)
    engine = QueueEngine(Store(db, synchronous="FULL"), load_settings(DEFAULT_CONFIG))
    for c in counters:
        engine.set_counter(c, "open")
    print("ready", flush=True)
    for _ in range(100000):
        op = rng.random()
        try:
            if op < 0.5:
                t = engine.issue(rng.choice("AABV"), priority=rng.random() < 0.1)
                print(f"issued {t.ticket} {t.ticket_id} {t.day}", flush=True)
            elif op < 0.85:
                c = rng.choice(counters)
                r = engine.call_next(c)
                if r is not None:
                    print(f"called {c} {r.ticket} {r.ticket_id}", flush=True)
            else:
                c = rng.choice(counters)
                print(f"finished {c} {engine.finish(c)}", flush=True)
        except errors.NothingCalled:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
