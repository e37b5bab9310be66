"""The [hardware] section: defaults mean virtual devices, bounds and typos are errors."""

import tomllib

import pytest
from pydantic import ValidationError

from kiosk.app.hardware import build_devices
from kiosk.config.hardware import HardwareConfig

SAMPLE = """
gpio = "mock"
[printer]
driver = "mock"
paper_mm = 58
qr_url = "https://q.example/{branch}/{ticket}"
footer = { zh = "谢谢", en = "Thank you" }
[[displays]]
name = "hall"
driver = "mock"
protocol = "alpha"
address = 2
[[displays]]
driver = "mock"
counters = [1]
[[keypads]]
counter = 1
next = 5
recall = 6
[[take_ticket]]
service = "A"
pin = 17
[[lamps]]
counter = 1
pin = 20
[buzzer]
pin = 26
[stack_light]
green = 10
amber = 11
red = 12
[audio]
driver = "mock"
"""


def test_empty_section_is_virtual():
    h = HardwareConfig()
    assert (h.gpio, h.printer.driver, h.audio.driver, h.displays) == ("virtual", "virtual", "silent", [])


def test_sample_builds(mock_factory, ticket_job):
    cfg = HardwareConfig.model_validate(tomllib.loads(SAMPLE))
    hw = build_devices(cfg)
    try:
        assert sorted(hw.displays) == ["display2", "hall"]
        assert hw.printer.print_ticket(ticket_job).result(10).ok
        assert b"Thank you" in hw.printer.printed[0].data
    finally:
        hw.close()


@pytest.mark.parametrize("patch,word", [
    ({"printer": {"drivr": "mock"}}, "drivr"),
    ({"printer": {"paper_mm": 76}}, "paper_mm"),
    ({"printer": {"driver": "escpos-usb"}}, "usb_vendor"),
    ({"displays": [{"address": 300}]}, "address"),
    ({"keypads": [{"counter": 1, "next": 40}]}, "next"),
    ({"keypads": [{"counter": 1, "next": 5}], "lamps": [{"counter": 1, "pin": 5}]}, "GPIO5 is used twice"),
    ({"audio": {"driver": "pulse"}}, "driver"),
])
def test_errors_name_the_key(patch, word):
    with pytest.raises(ValidationError) as err:
        HardwareConfig.model_validate(patch)
    assert word in str(err.value)
