"""Onbon BX-5E dot-matrix controller, dynamic-area protocol (仰邦 5代 动态区域). Pure functions.

Source: Onbon's own public manual "5th动态区域用户手册" v1.5 (2018-03-12), repository
github.com/onbonlab/BX-V-VI, file ``bx.dual.Aux.Data/5th动态区域用户手册.md`` (commit
7500a57d7191415a93f83a5e87e0f7f521b07691). Its sections used here:

* §2 frame: ``A5 x8 | packet header (16) | data (N) | CRC16 (2) | 5A``; the CRC covers header
  and data before escaping; multi-byte fields are little-endian (§1.5).
* §2.3 escaping, applied to header + data + CRC: ``A5 -> A6 02``, ``A6 -> A6 01``,
  ``5A -> 5B 02``, ``5B -> 5B 01``.
* §4 packet header: DstAddr(2) SrcAddr(2, PC = 0x8000) ProtocolVer(1, 0xF0) Reserved(1)
  DeviceType(2) Reserved(4) DataLen(4).
* §5.4.1 "update dynamic area" (CmdGroup 0xA7, Cmd 0x00) with one page of dot-matrix data;
  appendix 2 §1: rows top to bottom, bit 7 = leftmost pixel, **0 = lit, 1 = dark**.
* appendix 1: CRC-16 (X^16 + X^15 + X^2 + 1, reflected, initial value 0: CRC-16/ARC).
* §5.5.1 worked example (Ping): the golden vector the tests check the CRC and framing with.

The 5E takes pixels, not characters: text is rendered to a bitmap first
(:mod:`drivers.display.bx_render`). RS-232/485 at 9600 or 57600 baud, 8N1 (§1.2).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

FRAME_START = b"\xa5" * 8
FRAME_END = b"\x5a"
_ESCAPES = {0xA5: b"\xa6\x02", 0xA6: b"\xa6\x01", 0x5A: b"\x5b\x02", 0x5B: b"\x5b\x01"}
_UNESCAPES = {v: k for k, v in _ESCAPES.items()}

PC_ADDRESS = 0x8000
PROTOCOL_VERSION = 0xF0
ANY = 0xFFFE  # the wildcard screen address and device type of the manual's Ping example
DEVICE_TYPES = {"any": ANY, "BX-5E1": 0x0154, "BX-5E2": 0x0254, "BX-5E3": 0x0354}

GROUP_CONTROL, CMD_PING = 0xA2, 0x00
GROUP_DYNAMIC, CMD_UPDATE_AREA = 0xA7, 0x00
AREA_TYPE_DYNAMIC = 0x10
DISPLAY_STATIC, DISPLAY_FLASH = 0x01, 0x07  # §5.4.1 DisplayMode: 静止显示, 闪烁


def crc16(data: bytes) -> int:
    """Appendix 1: CRC-16, polynomial 0x8005 reflected (0xA001), initial value 0."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def escape(data: bytes) -> bytes:
    """§2.3: no A5 / 5A (frame delimiters) may appear inside a frame."""
    return b"".join(_ESCAPES.get(b, bytes((b,))) for b in data)


def unescape(data: bytes) -> bytes:
    """The controller's side of §2.3 (tests and the fake sign use it)."""
    out, i = bytearray(), 0
    while i < len(data):
        pair = data[i:i + 2]
        if pair in _UNESCAPES:
            out.append(_UNESCAPES[pair])
            i += 2
        elif data[i] in _ESCAPES:
            raise ValueError(f"unescaped 0x{data[i]:02X} at {i} inside a BX frame")
        else:
            out.append(data[i])
            i += 1
    return bytes(out)


def header(data_len: int, *, screen: int = ANY, device_type: int = ANY) -> bytes:
    """§4: the 16-byte packet header."""
    if not 0 <= screen <= 0xFFFF or not 0 <= device_type <= 0xFFFF:
        raise ValueError("BX screen address and device type are 16-bit")
    return struct.pack("<HHBBHII", screen, PC_ADDRESS, PROTOCOL_VERSION, 0, device_type, 0, data_len)


def frame(data: bytes, *, screen: int = ANY, device_type: int = ANY) -> bytes:
    """A whole transmission: start, escaped (header + data + CRC, LSB first), end."""
    packet = header(len(data), screen=screen, device_type=device_type) + data
    return FRAME_START + escape(packet + struct.pack("<H", crc16(packet))) + FRAME_END


@dataclass(frozen=True)
class Received:
    """One frame as the controller decodes it."""

    screen: int
    device_type: int
    data: bytes


def parse(raw: bytes) -> Received:
    """Undo :func:`frame` (leading A5s, escapes), checking the length and the CRC."""
    body = raw.lstrip(b"\xa5")
    if not body.endswith(FRAME_END) or len(body) == len(raw):
        raise ValueError("not a BX frame (A5... 5A)")
    packet = unescape(body[:-1])
    if len(packet) < 18:
        raise ValueError("BX frame too short")
    content, check = packet[:-2], struct.unpack("<H", packet[-2:])[0]
    if crc16(content) != check:
        raise ValueError(f"BX CRC 0x{check:04X} != computed 0x{crc16(content):04X}")
    screen, _src, _ver, _r, device_type, _r2, length = struct.unpack("<HHBBHII", content[:16])
    if length != len(content) - 16:
        raise ValueError(f"BX DataLen {length} != {len(content) - 16} bytes received")
    return Received(screen, device_type, content[16:])


def ping() -> bytes:
    """§5.5.1 data field: RtnReq 01, CmdGroup A2, Cmd 00, Reserved 00 00."""
    return bytes((0x01, GROUP_CONTROL, CMD_PING, 0, 0))


def mono_bitmap(pixels: list[list[bool]]) -> bytes:
    """Appendix 2 §1, single colour: each row left to right, bit 7 first, lit = 0, dark = 1.
    Rows must be a multiple of 8 pixels wide (the area starts at x = 0)."""
    out = bytearray()
    for row in pixels:
        if len(row) % 8:
            raise ValueError("BX area width must be a multiple of 8 pixels")
        for i in range(0, len(row), 8):
            byte = 0
            for lit in row[i:i + 8]:
                byte = (byte << 1) | (0 if lit else 1)
            out.append(byte)
    return bytes(out)


def update_area(bitmap: bytes, width: int, height: int, *, area_id: int = 0,
                display_mode: int = DISPLAY_STATIC, stay_10ms: int = 100) -> bytes:
    """§5.4.1 data field: one dynamic area at (0, 0), no frame border, one page, shown at once
    instead of the stored programs (ImmePlay 1) and looping (RunMode 0)."""
    if len(bitmap) != width // 8 * height:
        raise ValueError(f"bitmap is {len(bitmap)} bytes, a {width}x{height} area needs {width // 8 * height}")
    page = struct.pack("<BBBBHBH4x", 0x00, display_mode, 0x00, 0x00, stay_10ms, 1, width) + bitmap
    area = (struct.pack("<BBHBHB4x", area_id, 0, 0, 0, 0, 1)  # id, RunMode, Timeout, RelateAllPro, RelateProNum, ImmePlay
            + struct.pack("<BHHHH", AREA_TYPE_DYNAMIC, 0, 0, width, height)
            + b"\x00"  # AreaFFlag: no border (the rest of the border is then not sent)
            + struct.pack("<HI", 1, len(page)) + page)
    return struct.pack("<BBBxxI", 0x01, GROUP_DYNAMIC, CMD_UPDATE_AREA, len(area)) + area
