"""Onbon BX-5E dynamic-area protocol: the manual's own worked example as the golden vector,
escaping of the frame delimiters, the call rendered in Chinese as golden bytes, and text the
sign cannot show replaced predictably (never an exception)."""

from pathlib import Path

import pytest

from drivers.display import bx_protocol as bx
from drivers.display import bx_render
from drivers.display.bx_sign import BxCodec, HallSignBoard
from drivers.jobs import CallInfo

GOLDEN = Path(__file__).parent / "golden"
# "5th动态区域用户手册" v1.5 §5.5.1 (github.com/onbonlab/BX-V-VI, bx.dual.Aux.Data/), Ping example
MANUAL_PING = bytes.fromhex("a5 a5 a5 a5 a5 a5 a5 a5 fe ff 00 80 f0 00 fe ff 00 00 00 00 05 00 00 00"
                            " 01 A2 00 00 00 C6 86 5a")


def test_the_manuals_ping_example_is_built_byte_for_byte():
    assert bx.frame(bx.ping()) == MANUAL_PING


def test_crc16_matches_the_manuals_example():
    packet = MANUAL_PING[8:-3]  # header + data: what the CRC covers
    assert bx.crc16(packet) == 0x86C6  # sent C6 86 (low byte first)
    assert bx.crc16(b"123456789") == 0xBB3D  # CRC-16/ARC check value: the same algorithm


def test_frame_delimiters_inside_the_payload_are_escaped_and_come_back():
    data = bytes([0xA5, 0x5A, 0xA6, 0x5B, 0x00, 0xA6, 0x02, 0x5B, 0x02, 0xFF])
    assert bx.escape(data) == bytes.fromhex("a6 02 5b 02 a6 01 5b 01 00 a6 01 02 5b 01 02 ff")
    raw = bx.frame(data, screen=0x5AA5, device_type=0xA55A)
    inner = raw[8:-1]
    assert 0xA5 not in inner and 0x5A not in inner
    got = bx.parse(raw)
    assert (got.screen, got.device_type, got.data) == (0x5AA5, 0xA55A, data)


def test_a_corrupted_frame_is_refused_naming_the_check():
    raw = bytearray(bx.frame(bx.ping()))
    raw[-4] ^= 0x01
    with pytest.raises(ValueError, match="CRC"):
        bx.parse(bytes(raw))
    with pytest.raises(ValueError, match="unescaped 0x5A"):
        bx.unescape(b"\x01\x5a\x02")


def test_bitmap_bits_are_msb_first_and_lit_is_zero():
    row = [True] + [False] * 6 + [True] + [False] * 8
    assert bx.mono_bitmap([row]) == bytes([0b01111110, 0xFF])
    with pytest.raises(ValueError, match="multiple of 8"):
        bx.mono_bitmap([[True] * 7])


def call_frame() -> tuple[bytes, list[list[bool]]]:
    codec = BxCodec(3, rows=1, width=20)
    board = HallSignBoard(1, 20, "zh")
    content = board.push(CallInfo("A012", 3, {"zh": "3号窗口", "en": "Counter 3"}))
    assert content.lines == ("请 A012 到 3号窗口",)
    return codec.frame(content), codec.pixels(content)


def test_a_call_reaches_the_sign_as_the_golden_bytes():
    raw, pixels = call_frame()
    assert bx_render.ascii_art(pixels) == (GOLDEN / "bx_call_pixels.txt").read_text().rstrip("\n")
    assert raw == (GOLDEN / "bx_call_frame.bin").read_bytes()
    got = bx.parse(raw)
    assert got.screen == 3 and got.device_type == bx.ANY
    assert got.data[:3] == bytes([0x01, bx.GROUP_DYNAMIC, bx.CMD_UPDATE_AREA])
    assert got.data[-20 * 16:] == bx.mono_bitmap(pixels)  # 160 x 16 px, the page's dot matrix
    assert got.data[-20 * 16 - 12] == bx.DISPLAY_FLASH  # DisplayMode, 12 bytes before the dots: flashing


@pytest.mark.parametrize("text, shown", [
    ("请到3号窗口", "请到3号窗口"),  # GB2312: as is
    ("A😀B", "A?B"),  # emoji: outside GB2312
    ("國语", "?语"),  # a traditional-only character
    ("x\x1b@y\u200bz", "x @y z"),  # control and format characters: a space
    ("\ud800", "?"),  # a lone surrogate
    ("Ω€", "Ω?"),
])
def test_text_outside_gb2312_is_replaced_predictably(text, shown):
    assert bx_render.sign_text(text) == shown


def test_hostile_text_never_crashes_the_codec():
    codec = BxCodec(rows=2, width=20)
    board = HallSignBoard(2, 20, "zh")
    hostile = ["", " " * 500, "\U0010ffff" * 50, "".join(map(chr, range(0, 0x3000, 7))),
               "\x00\xa5\x5a" * 40, "窗" * 200, "\ud800\udfff"]
    for text in hostile:
        raw = codec.frame(board.idle(text))
        assert bx.parse(raw).data


def test_the_message_wraps_by_cells_and_is_centred():
    board = HallSignBoard(2, 12, "zh")
    assert board.idle("暂停服务 请到3号窗口办理").lines == ("暂停服务 请", "到3号窗口办")  # 11 of 12 cells each
    assert board.idle("欢迎").lines == ("    欢迎", "")
