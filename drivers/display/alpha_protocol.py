"""Alpha Sign Communications Protocol (M-Protocol) encoder for hall LED boards. Pure functions.

A transmission packet::

    NUL x5 | SOH | type code | address (2 hex) | STX | command code + data | ETX | checksum | EOT

The checksum is the 16-bit sum of every byte from STX through ETX inclusive, sent as four
upper-case ASCII hex digits. Signs listen on 7 data bits, even parity, 1 stop bit (7E1),
9600 baud by default; several signs share one RS-485 line and each answers only to its own
address (``00`` = broadcast) and type code (``Z`` = all sign types).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence, Union

NUL, SOH, STX, ETX, EOT, ESC = b"\x00", b"\x01", b"\x02", b"\x03", b"\x04", b"\x1b"
SYNC = NUL * 5
TYPE_ALL_SIGNS = "Z"
BROADCAST = "00"
CMD_WRITE_TEXT = b"A"
CMD_WRITE_SPECIAL = b"E"
COLOUR_PREFIX = b"\x1c"

POSITIONS = {"middle": b" ", "top": b'"', "bottom": b"&", "fill": b"0", "left": b"1", "right": b"2"}
MODES = {
    "rotate": b"a", "hold": b"b", "flash": b"c", "roll_up": b"e", "roll_down": b"f",
    "roll_left": b"g", "roll_right": b"h", "wipe_up": b"i", "wipe_down": b"j", "scroll": b"m",
    "automode": b"o", "compressed_rotate": b"t",
}
COLOURS = {
    "red": b"1", "green": b"2", "amber": b"3", "dim_red": b"4", "dim_green": b"5", "brown": b"6",
    "orange": b"7", "yellow": b"8", "rainbow1": b"9", "rainbow2": b"A", "mix": b"B", "auto": b"C",
}


def address_code(address: Union[int, str]) -> bytes:
    """``3`` -> ``b"03"``; a string is taken as given (``"00"``, ``"1?"`` wildcards)."""
    if isinstance(address, int):
        if not 0 <= address <= 0xFF:
            raise ValueError("sign address must be 0..255")
        return f"{address:02X}".encode("ascii")
    if len(address) != 2:
        raise ValueError("sign address must be two hex characters")
    return address.upper().encode("ascii")


def checksum(block: bytes) -> bytes:
    """Four hex digits of the 16-bit sum of ``block`` (STX ... ETX inclusive)."""
    return f"{sum(block) & 0xFFFF:04X}".encode("ascii")


def packet(commands: Iterable[bytes], *, type_code: str = TYPE_ALL_SIGNS,
           address: Union[int, str] = BROADCAST) -> bytes:
    """A whole transmission: sync, header, one checked block per command, EOT."""
    out = [SYNC, SOH, type_code.encode("ascii"), address_code(address)]
    for command in commands:
        block = STX + command + ETX
        out.append(block + checksum(block))
    out.append(EOT)
    return b"".join(out)


def sign_text(text: str) -> bytes:
    """Text as the sign takes it: printable 7-bit ASCII, anything else becomes ``?``."""
    return bytes(c if 0x20 <= c < 0x7F else 0x3F for c in text.encode("ascii", "replace"))


@dataclass(frozen=True)
class AlphaLine:
    text: str
    position: str = "fill"
    mode: str = "hold"
    colour: str = "amber"


def write_text_command(lines: Sequence[AlphaLine], label: str = "A") -> bytes:
    """``A`` command: write TEXT file ``label`` with each line's position, mode and colour."""
    out = [CMD_WRITE_TEXT, label.encode("ascii")]
    for line in lines:
        out += [ESC, POSITIONS[line.position], MODES[line.mode], COLOUR_PREFIX,
                COLOURS[line.colour], sign_text(line.text)]
    return b"".join(out)


def write_text(lines: Sequence[AlphaLine], *, label: str = "A", type_code: str = TYPE_ALL_SIGNS,
               address: Union[int, str] = BROADCAST) -> bytes:
    """The packet that shows ``lines`` on the sign(s) at ``address``."""
    return packet([write_text_command(lines, label)], type_code=type_code, address=address)


def beep_command() -> bytes:
    """``E(0``: special function "generate speaker tone", the sign's short beep."""
    return CMD_WRITE_SPECIAL + b"(0"
