"""`KioskApp` owns the parts handed to it: started once the core is open, closed in reverse order
when it stops — also when one of them fails to start."""
from __future__ import annotations

import pytest

from kiosk.app.kiosk_app import KioskApp


class Part:
    def __init__(self, name: str, log: list[str], fail: bool = False) -> None:
        self.name, self.log, self.fail = name, log, fail

    def start(self, app: KioskApp) -> None:
        assert app.engine is not None                 # the core is open before any part starts
        self.log.append(f"start {self.name}")
        if self.fail:
            raise RuntimeError(f"{self.name} cannot start")

    def close(self) -> None:
        self.log.append(f"close {self.name}")


def test_parts_start_after_the_core_and_close_in_reverse(tmp_path, settings, clock):
    log: list[str] = []
    app = KioskApp(settings, tmp_path, clock=clock, devices=Part("devices", log), alerts=Part("alerts", log),
                   uplink=Part("uplink", log)).start()
    assert app.issue("A").result(10).ticket == "A001"
    app.stop()
    app.stop()                                        # a second stop closes nothing twice
    assert log == ["start devices", "start alerts", "start uplink", "close uplink", "close alerts", "close devices"]
    assert not app.loop.thread.is_alive()


def test_a_part_that_fails_to_start_stops_the_app_and_closes_what_started(tmp_path, settings, clock):
    log: list[str] = []
    app = KioskApp(settings, tmp_path, clock=clock, devices=Part("devices", log),
                   alerts=Part("alerts", log, fail=True), uplink=Part("uplink", log))
    with pytest.raises(RuntimeError, match="alerts cannot start"):
        app.start()
    assert log == ["start devices", "start alerts", "close alerts", "close devices"]
    assert not app.loop.thread.is_alive() and app.store is not None


def test_the_unsubscribe_works_from_any_thread_and_after_the_stop(tmp_path, settings, clock):
    app = KioskApp(settings, tmp_path, clock=clock).start()
    seen: list[str] = []
    unsubscribe = app.subscribe(lambda ev: seen.append(ev["type"]))
    app.issue("A").result(10)
    unsubscribe()
    app.issue("A").result(10)
    assert seen == ["ticket.issued"]
    assert app.read_snapshot().result(10)["services"][0]["waiting"] == 2
    app.stop()
    unsubscribe()                                     # the core is gone: nothing to do, no hang
