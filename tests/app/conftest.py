"""Fixtures of the app tests: gpiozero's mock pins."""
from __future__ import annotations

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory


@pytest.fixture
def pins():
    """gpiozero's MockFactory as the pin factory of every device made in the test."""
    Device.pin_factory = MockFactory()
    try:
        yield Device.pin_factory
    finally:
        Device.pin_factory.reset()
