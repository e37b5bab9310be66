"""Issue 14, finding 9, end to end: HQ misses events (its subscription is down while the kiosk
publishes to a broker without persistence), sees the gap, asks the kiosk to resend, the events
arrive, the gap closes and the recording has every seq 1..n exactly once.

Real parts: mosquitto, a kiosk (`make_kiosk`), HQ's `Live` + `Recorder` + `GapRepair` wired as
`kiosk hq serve` wires them."""
from __future__ import annotations

from kiosk.hq.db import open_db
from kiosk.hq.gaps import GapRepair
from kiosk.hq.recorder import Recorder
from kiosk.hq.web.live import Live
from kiosk.sim.waiting import wait_until
from tests.kit.mqtt import mqtt_settings

BRANCH = "demo-001"


class Hq:
    """One `kiosk hq serve` node, in-process."""

    def __init__(self, db, url: str, logged: list) -> None:
        self.recorder = Recorder(db, batch_ms=50)
        self.live = Live(url, recorder=self.recorder).start()
        self.repair = GapRepair(db, self.live, log_command=lambda *a: logged.append(a), interval_s=0.2,
                                grace_s=1.0).start()
        wait_until(self.live.ready, what="HQ's subscriptions")

    def stop(self) -> None:
        self.repair.stop()
        self.live.stop()
        self.recorder.close()


def recorded(db) -> list[tuple[int, int]]:
    with db.connection() as conn:
        return [(int(r[0]), int(r[1])) for r in conn.execute(
            "SELECT seq, count(*) FROM events WHERE branch = ? GROUP BY seq ORDER BY seq", (BRANCH,)).fetchall()]


def test_hq_notices_lost_events_and_gets_them_again(broker, make_kiosk, tmp_path):
    db = open_db(tmp_path / "hq.db")
    logged: list = []
    app = make_kiosk(mqtt_settings(broker.url))
    assert app.uplink.wait_for("connected")
    hq = Hq(db, broker.url, logged)
    try:
        for _ in range(5):
            app.issue("A").result()
        wait_until(lambda: len(recorded(db)) == 5, what="the first events recorded")
        hq.stop()                                   # HQ's subscription is down …
        for _ in range(6):
            app.issue("B").result()                 # … while the kiosk delivers 6..11 to the broker
        last = app.loop.call(lambda: app.store.last_seq())
        wait_until(lambda: app.loop.call(lambda: app.store.undelivered_count()) == 0, what="delivered to the broker")
        assert [s for s, _ in recorded(db)] == [1, 2, 3, 4, 5]   # lost to HQ: nobody kept them

        hq = Hq(db, broker.url, logged)            # HQ back (a restart, or another node)
        app.issue("A").result()                     # a new event: 6..last is now a hole inside
        n = last + 1
        wait_until(lambda: hq.repair.snapshot()["open_gaps"] == 1 or len(recorded(db)) == n,
                   what="the gap seen")
        wait_until(lambda: len(recorded(db)) == n, what="the missing events resent and recorded")
        assert recorded(db) == [(s, 1) for s in range(1, n + 1)]
        wait_until(lambda: hq.repair.snapshot()["open_gaps"] == 0 and hq.live.gaps.get(BRANCH) is None,
                   what="the gap closed")
        asks = [a for a in logged if a[4] == "resend"]
        assert asks and all(a[1:3] == ("hq", "system") and a[3] == BRANCH for a in asks)
        assert asks[0][5]["from_seq"] == 6 and asks[0][5]["to_seq"] >= last
        row = next(r for r in hq.live.rows() if r["branch"] == BRANCH)
        assert (row["gaps"], row["missing"], row["gaps_lost"]) == (0, 0, 0)
        with db.connection() as conn:
            assert conn.execute("SELECT state, first_seq FROM hq_gaps WHERE branch = ?", (BRANCH,)).fetchall() \
                == [("closed", 6)]
            assert conn.execute("SELECT contiguous FROM hq_seq WHERE branch = ?", (BRANCH,)).fetchone()[0] == n
    finally:
        hq.stop()
        db.close()
