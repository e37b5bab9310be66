"""Counter keys and rating pads on GPIO: the transfer key sends the customer somewhere this counter
does not serve (else the next press would call them straight back), and a rating pad press
rates the customer standing at the pad, not the ticket just called."""
from __future__ import annotations

import logging
import time

import pytest

from kiosk.app.kiosk_app import KioskApp
from kiosk.app.outputs import Outputs
from kiosk.config.hardware import HardwareConfig
from kiosk.sim.waiting import wait_until
from tests.kit.settings import settings_with

NEXT, TRANSFER, SATISFIED, DISSATISFIED = 5, 19, 16, 21
HARDWARE = {
    "gpio": "mock",
    "printer": {"driver": "mock", "status_poll_s": 0.05},
    "keypads": [{"counter": 3, "next": NEXT, "transfer": TRANSFER}],
    "rating_pads": [{"counter": 3, "satisfied": SATISFIED, "dissatisfied": DISSATISFIED}],
    "audio": {"driver": "mock"},
}


def wait_for(cond, timeout=15.0):
    return wait_until(cond, timeout, 0.01)


@pytest.fixture
def start_hall(tmp_path, clock, pins):
    apps = []

    def start(settings, open_counters=(1, 2, 3, 4)):
        s = settings_with(settings, hardware=HardwareConfig.model_validate(HARDWARE).model_dump())
        app = KioskApp(s, tmp_path, clock=clock, devices=Outputs(s, pin_factory=pins)).start()
        apps.append(app)
        for c in open_counters:
            app.set_counter(c, "open").result()
        return app
    try:
        yield start
    finally:
        for app in apps:
            app.stop()


def events(app, type_):
    return [e.as_message() for e in app.loop.call(lambda: app.store.events_after(0, 10000)) if e.type == type_]


def press(pins, clock, pin):
    clock.advance(3)                                      # past the repeat guards and the debounce
    p = pins.pin(pin)
    p.drive_low()
    time.sleep(0.06)
    p.drive_high()


def counters(settings, services):
    """The sample hall's counters serving `services[number]` instead."""
    out = []
    for c in settings.model_dump(mode="json")["counters"]:
        c["services"] = services[c["number"]]
        c["vip_first"] = "V" in c["services"]
        out.append(c)
    return out


def test_the_transfer_key_sends_the_customer_to_a_service_this_counter_does_not_serve(start_hall, settings,
                                                                                        pins, clock):
    app = start_hall(settings)                            # counter 3 serves A and B
    app.issue("A").result(); app.issue("B").result()
    press(pins, clock, NEXT)
    wait_for(lambda: events(app, "ticket.called"))
    press(pins, clock, TRANSFER)
    wait_for(lambda: events(app, "ticket.transferred"))
    assert events(app, "ticket.transferred")[0]["to_service"] == "V"
    press(pins, clock, NEXT)                              # the next press calls someone else
    wait_for(lambda: len(events(app, "ticket.called")) == 2)
    assert [e["ticket"] for e in events(app, "ticket.called")] == ["A001", "B001"]
    assert app.call_next(1).result().ticket == "A001"     # served at a counter that serves V


def test_the_transfer_key_prefers_a_service_an_open_counter_serves(start_hall, settings, pins, clock):
    hall = settings_with(settings, counters=counters(settings, {1: ["V"], 2: ["V"], 3: ["A"], 4: ["B"]}))
    app = start_hall(hall, open_counters=(1, 3))          # B's only counter is closed
    app.issue("A").result()
    press(pins, clock, NEXT)
    wait_for(lambda: events(app, "ticket.called"))
    press(pins, clock, TRANSFER)
    wait_for(lambda: events(app, "ticket.transferred"))
    assert events(app, "ticket.transferred")[0]["to_service"] == "V"


def test_the_transfer_key_at_a_counter_serving_everything_is_refused(start_hall, settings, pins, clock, caplog):
    hall = settings_with(settings, counters=counters(settings, {1: ["V"], 2: ["V"], 3: ["A", "B", "V"], 4: ["B"]}))
    app = start_hall(hall)
    app.issue("A").result()
    press(pins, clock, NEXT)
    wait_for(lambda: events(app, "ticket.called"))
    caplog.set_level(logging.WARNING, logger="kiosk.app.outputs")
    press(pins, clock, TRANSFER)
    wait_for(lambda: "transfer at counter 3 refused" in caplog.text)
    assert "counter 3 serves every service" in caplog.text
    assert events(app, "ticket.transferred") == []
    assert app.snapshot()["counters"][2]["ticket"] == "A001"   # still at the counter


def test_the_pad_rates_the_customer_who_just_left_not_the_one_just_called(start_hall, settings, pins, clock,
                                                                         caplog):
    app = start_hall(settings)
    app.issue("A").result(); app.issue("A").result()
    press(pins, clock, NEXT)                              # A001
    wait_for(lambda: events(app, "ticket.called"))
    press(pins, clock, NEXT)                              # A001 finished, A002 called
    wait_for(lambda: len(events(app, "ticket.called")) == 2)
    press(pins, clock, SATISFIED)                         # A001, still at the pad
    wait_for(lambda: events(app, "ticket.rated"))
    assert [(e["ticket"], e["score"]) for e in events(app, "ticket.rated")] == [("A001", 5)]
    caplog.set_level(logging.WARNING, logger="kiosk.app.outputs")
    press(pins, clock, DISSATISFIED)                      # A001 presses again: not A002's rating
    wait_for(lambda: "rating pad at counter 3: press ignored" in caplog.text)
    assert len(events(app, "ticket.rated")) == 1 and app.ticket("A002").result()["rating"] is None


def test_a_late_press_is_ignored_and_logged(start_hall, settings, pins, clock, caplog):
    app = start_hall(settings)
    app.issue("A").result()
    app.call_next(3).result()
    app.finish(3).result()
    clock.advance(settings.policy.rating_window_s)
    caplog.set_level(logging.WARNING, logger="kiosk.app.outputs")
    press(pins, clock, SATISFIED)
    wait_for(lambda: "rating pad at counter 3: press ignored: counter 3: nobody to rate" in caplog.text)
    assert events(app, "ticket.rated") == []
