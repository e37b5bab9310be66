"""Byte-exact display frames: Alpha M-Protocol and Epson customer display, plus goldens."""

import pytest

from drivers.display import alpha_protocol as alpha
from drivers.display import epson_protocol as epson
from drivers.display.call_display import AlphaCodec, CallBoard, EpsonCodec, format_call
from drivers.jobs import CallInfo


def test_alpha_checksum_is_sum_stx_to_etx():
    # STX 'A' 'A' ESC '0' 'b' 'H' 'I' ETX = 0x02+0x41+0x41+0x1B+0x30+0x62+0x48+0x49+0x03
    assert alpha.checksum(b"\x02AA\x1b0bHI\x03") == b"01C5"


def test_alpha_packet_hand_checked():
    frame = alpha.packet([b"AA\x1b0bHI"], type_code="Z", address=0)
    assert frame == b"\x00\x00\x00\x00\x00\x01Z00\x02AA\x1b0bHI\x0301C5\x04"


def test_alpha_write_text_addressed_sign():
    frame = alpha.write_text([alpha.AlphaLine("A023 > 3", "top", "flash", "red"),
                              alpha.AlphaLine("B101 > 1", "bottom", "hold", "green")],
                             address=3)
    body = b'AA\x1b"c\x1c1A023 > 3\x1b&b\x1c2B101 > 1'
    block = b"\x02" + body + b"\x03"
    assert frame == b"\x00" * 5 + b"\x01Z03" + block + b"%04X" % (sum(block) & 0xFFFF) + b"\x04"
    assert b"%04X" % (sum(block) & 0xFFFF) == b"056F"


def test_alpha_text_is_7bit():
    assert alpha.sign_text("请A023") == b"?A023"
    with pytest.raises(ValueError):
        alpha.address_code(256)


def test_epson_commands():
    assert epson.INITIALISE == b"\x1b@"
    assert epson.move_cursor(1, 2) == b"\x1f$\x01\x02"
    assert epson.blink(10) == b"\x1fE\x0a"
    assert epson.brightness(4) == b"\x1fX\x04"
    assert epson.init_sequence(2, select_display=True) == b"\x1b=\x02\x1b@\x1f\x01\x1fX\x02\x0c"
    assert epson.screen(["A023 > Counter 3", ""], 20, 0) == (
        b"\x1f$\x01\x01A023 > Counter 3    \x1f$\x01\x02" + b" " * 20 + b"\x1fE\x00")
    with pytest.raises(ValueError):
        epson.brightness(5)


def test_format_call_fits_width():
    call = CallInfo("A023", 3, {"zh": "3号窗口", "en": "Counter 3"})
    assert format_call(call, 20, "en") == "A023 > Counter 3"
    assert format_call(call, 20, "zh") == "A023 > Counter 3"  # no CJK on a 7-bit display
    assert format_call(call, 10, "en") == "A023 > 3"


def test_board_newest_first_and_recall_moves_up():
    board = CallBoard(rows=2, width=20)
    board.push(CallInfo("A023", 3))
    board.push(CallInfo("B101", 1))
    content = board.push(CallInfo("A023", 3, recall=True))
    assert content.lines == ("A023 > Counter 3", "B101 > Counter 1")
    assert content.blink_line == 0
    assert board.idle("Welcome").lines == ("      Welcome", "")


def test_display_frames_golden(golden):
    board = CallBoard(rows=2, width=20)
    board.push(CallInfo("B101", 1))
    blinking = board.push(CallInfo("A023", 3))
    steady = board.content()
    epson_codec = EpsonCodec()
    alpha_codec = AlphaCodec(address=2, width=16)
    data = b"".join([epson_codec.init(), epson_codec.frame(blinking), epson_codec.frame(steady),
                     epson_codec.frame(board.idle("Welcome"))])
    golden("epson_display_frames.bin", data)
    golden("alpha_frames.bin", alpha_codec.frame(blinking) + alpha_codec.frame(steady))
