"""Epson ESC/POS customer display (2x20 VFD/LCD, DM-D series and compatibles). Pure functions.

Commands used: ``ESC @`` initialise, ``ESC = n`` select the display behind a printer
pass-through (n=2), ``US MD1`` (``US 0x01``) overwrite mode, ``FF`` clear, ``US $ x y`` move the
cursor to column x, row y (1-based), ``US E n`` blink the screen (n x 50 ms on / off,
0 = steady), ``US X n`` brightness 1..4, ``CAN`` clear the cursor line.
"""

from __future__ import annotations

from typing import Sequence

ESC, US, FF, CAN = b"\x1b", b"\x1f", b"\x0c", b"\x18"
INITIALISE = ESC + b"@"
SELECT_DISPLAY = ESC + b"=\x02"
OVERWRITE_MODE = US + b"\x01"
CLEAR = FF


def move_cursor(column: int, row: int) -> bytes:
    if not (1 <= column <= 20 * 4 and 1 <= row <= 4):
        raise ValueError("cursor position out of range")
    return US + b"$" + bytes((column, row))


def blink(interval_50ms: int) -> bytes:
    """``US E n``: blink with n x 50 ms on and off; 0 stops blinking."""
    if not 0 <= interval_50ms <= 255:
        raise ValueError("blink interval must be 0..255")
    return US + b"E" + bytes((interval_50ms,))


def brightness(level: int) -> bytes:
    if not 1 <= level <= 4:
        raise ValueError("brightness must be 1..4")
    return US + b"X" + bytes((level,))


def display_text(text: str, width: int) -> bytes:
    """Exactly ``width`` ASCII characters (padded, cut, ``?`` for what the display lacks)."""
    raw = bytes(c if 0x20 <= c < 0x7F else 0x3F for c in text.encode("ascii", "replace"))
    return raw[:width].ljust(width, b" ")


def init_sequence(level: int = 4, select_display: bool = False) -> bytes:
    return ((SELECT_DISPLAY if select_display else b"") + INITIALISE + OVERWRITE_MODE
            + brightness(level) + CLEAR)


def screen(lines: Sequence[str], width: int = 20, blink_interval: int = 0) -> bytes:
    """Overwrite every row (no flicker: no clear), then set the blink."""
    out = []
    for row, text in enumerate(lines, start=1):
        out += [move_cursor(1, row), display_text(text, width)]
    out.append(blink(blink_interval))
    return b"".join(out)
