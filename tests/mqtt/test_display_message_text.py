"""HQ's message for the displays: a control character (C0, DEL, C1: ESC/POS commands, a sign's
framing bytes) or an over-long text is refused with an error naming the field, and no display
ever receives it."""
from __future__ import annotations

import json
import unicodedata

import pytest
from gpiozero.pins.mock import MockFactory

from kiosk.app.kiosk_app import KioskApp
from kiosk.app.outputs import Outputs
from kiosk.config.hardware import HardwareConfig
from kiosk.mqtt.command_handler import dispatch, error_of
from kiosk.mqtt.protocol import MAX_TEXT_CHARS, Command
from kiosk.mqtt.telemetry import Telemetry
from kiosk.sim.waiting import wait_until
from tests.kit.mqtt import mqtt_settings
from tests.kit.settings import settings_with

T = "kiosk/demo-001"
# text, its control character, where it is (counted from 1)
CONTROLLED = [("Counter 3 \x1b@opens", "\x1b", 11),  # ESC @: an ESC/POS printer's reset
              ("Closing\x7f soon", "\x7f", 8),  # DEL
              ("Wait\x9b2J here", "\x9b", 5),  # C1 CSI: clears a terminal-like sign
              ("\x1dV\x00cut", "\x1d", 1)]  # GS V: cut the paper
HARDWARE = {"gpio": "mock", "printer": {"driver": "mock"}, "audio": {"driver": "mock"},
            "displays": [{"name": "board", "driver": "mock", "protocol": "alpha"}]}


def display_messages(app) -> list[dict]:
    return [e.as_message() for e in app.loop.call(lambda: app.store.events_after(0, 10000))
            if e.type == "display.message"]


@pytest.mark.parametrize("text, char, position", CONTROLLED, ids=[repr(c) for _, c, _ in CONTROLLED])
def test_a_control_character_is_refused_naming_field_and_character(text, char, position, settings, make_kiosk):
    """Whoever built the command (the validator is one gate; this is the last before the displays)."""
    app = make_kiosk(settings, telemetry=False)
    exc = dispatch(Command("display_message", {"text": text, "seconds": 30}), app).exception(timeout=10)
    assert exc is not None, f"{text!r} was accepted"
    code, message = error_of(exc)
    assert code == "bad_value"
    assert "'text'" in message and f"U+{ord(char):04X}" in message and f"position {position}" in message
    assert display_messages(app) == []


def test_an_over_long_text_is_refused_and_a_fitting_one_shown(settings, make_kiosk):
    app = make_kiosk(settings, telemetry=False)
    exc = dispatch(Command("display_message", {"text": "x" * (MAX_TEXT_CHARS + 1), "seconds": 30}),
                   app).exception(timeout=10)
    assert exc is not None and error_of(exc)[0] == "out_of_range"
    assert "'text'" in error_of(exc)[1] and str(MAX_TEXT_CHARS) in error_of(exc)[1]
    assert display_messages(app) == []
    fits = "x" * MAX_TEXT_CHARS
    assert dispatch(Command("display_message", {"text": fits, "seconds": 30}), app).result(10) == \
        {"text": fits, "seconds": 30}
    assert [e["text"] for e in display_messages(app)] == [fits]


def test_over_the_broker_no_display_receives_a_control_character(broker, collectors, tmp_path):
    s = settings_with(mqtt_settings(broker.url), hardware=HardwareConfig.model_validate(HARDWARE).model_dump())
    outputs = Outputs(s, pin_factory=MockFactory())
    app = KioskApp(s, tmp_path / "data", uplink=Telemetry(s), devices=outputs).start()
    try:
        assert app.uplink.wait_for("connected")
        hq = collectors(broker.port, [f"{T}/reply/#"])
        texts = [text for text, _, _ in CONTROLLED] + ["y" * (MAX_TEXT_CHARS + 1), "Back at 14:00"]
        for i, text in enumerate(texts):
            hq.publish(f"{T}/cmd/display_message", json.dumps({"text": text, "id": f"m{i}"}))
        replies = wait_until(lambda: len(r := hq.json_on("/reply/display_message")) == len(texts) and r,
                             what="every reply")
        by_id = {r["id"]: r for r in replies}
        for i in range(len(texts) - 1):
            r = by_id[f"m{i}"]
            assert not r["ok"] and r["error"]["code"] in ("bad_value", "out_of_range")
            assert "'text'" in r["error"]["message"]
        for i, (_, char, position) in enumerate(CONTROLLED):  # HQ's operator is told which character, where
            assert f"U+{ord(char):04X} at position {position}" in by_id[f"m{i}"]["error"]["message"]
        assert by_id[f"m{len(texts) - 1}"]["ok"]
        board = outputs.hw.displays["board"]
        wait_until(lambda: any("Back at 14:00" in "".join(c.lines) for c in board.shown), what="the message shown")
        shown = "".join(line for c in board.shown for line in c.lines)
        assert not [ch for ch in shown if unicodedata.category(ch) == "Cc"]
        assert [e["text"] for e in display_messages(app)] == ["Back at 14:00"]
    finally:
        app.stop()
