"""The BX-5E sign over a real pty (the far end decodes frames as the controller would) and a HQ
``display_message`` in Chinese reaching a BX sign as Chinese pixels, not ``?``."""

import re

from gpiozero.pins.mock import MockFactory

from drivers.display import bx_protocol as bx
from drivers.display import bx_render
from drivers.display.bx_sign import BxCodec, BxSignDisplay
from drivers.display.ports import SerialDisplayPort
from drivers.jobs import CallInfo
from kiosk.app.kiosk_app import KioskApp
from kiosk.app.outputs import Outputs
from kiosk.config.hardware import HardwareConfig
from kiosk.mqtt.command_handler import dispatch
from kiosk.mqtt.protocol import Command
from tests.kit.settings import settings_with

FRAME = re.compile(rb"\xa5+[^\xa5\x5a]*\x5a")


def decoded(data: bytes) -> list[bx.Received]:
    return [bx.parse(m.group(0)) for m in FRAME.finditer(data)]


def pixels_of(received: bx.Received, width: int, height: int) -> list[list[bool]]:
    dots = received.data[-(width // 8) * height:]
    bits = [[not (dots[y * width // 8 + x // 8] >> (7 - x % 8)) & 1 for x in range(width)] for y in range(height)]
    return bits


def test_a_call_on_a_bx_sign_over_a_serial_line(pty_device, faults, waiter):
    line = pty_device("bx")
    port = SerialDisplayPort(line.link, 9600)
    sign = BxSignDisplay("window3", port, BxCodec(3, rows=1, width=20), listener=faults, language="zh",
                         idle_message="欢迎光临", blink_s=0.05).start()
    try:
        sign.show_call(CallInfo("A012", 3, {"zh": "3号窗口"})).result(10)
        codec = BxCodec(3, rows=1, width=20)
        want = codec.pixels(sign.board.content())
        waiter(lambda: len(decoded(bytes(line.received))) >= 3)
        frames = decoded(line.take())
        assert [f.screen for f in frames] == [3, 3, 3]
        modes = [f.data[-20 * 16 - 12] for f in frames]
        assert modes == [bx.DISPLAY_STATIC, bx.DISPLAY_FLASH, bx.DISPLAY_STATIC]  # idle, new call, steady
        assert pixels_of(frames[0], 160, 16) == codec.pixels(sign.board.idle())
        assert pixels_of(frames[-1], 160, 16) == want
        assert not faults.calls
    finally:
        sign.close()
        port.close()


def test_a_chinese_hq_message_shows_as_chinese_on_a_bx_sign(settings, tmp_path):
    hardware = {"gpio": "mock", "printer": {"driver": "mock"}, "audio": {"driver": "mock"},
                "displays": [{"name": "window", "driver": "mock", "protocol": "bx", "language": "zh",
                              "width": 20, "rows": 2}]}
    s = settings_with(settings, hardware=HardwareConfig.model_validate(hardware).model_dump())
    outputs = Outputs(s, pin_factory=MockFactory())
    app = KioskApp(s, tmp_path / "data", devices=outputs).start()
    try:
        text = "系统维护 请到3号窗口办理"
        assert dispatch(Command("display_message", {"text": text, "seconds": 30}), app).result(10)["text"] == text
        sign = outputs.hw.displays["window"]
        assert sign.wait_idle(10)
        shown = [c for c in sign.shown if "系统维护" in "".join(c.lines)]
        assert shown and "?" not in "".join(shown[-1].lines)
        got = pixels_of(bx.parse(sign.frames[-1]), 160, 32)
        codec = BxCodec(rows=2, width=20)
        assert got == codec.pixels(shown[-1])
        question_marks = codec.pixels(sign.board.idle("?" * len(text)))
        assert got != question_marks
        assert sum(map(sum, got)) > 300, bx_render.ascii_art(got)  # strokes of nine characters
    finally:
        app.stop()
