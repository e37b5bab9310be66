"""Configured text that reaches a printer, a display or a screen: no control characters.

A control character (C0 U+0000–U+001F, DEL U+007F, C1 U+0080–U+009F: Unicode category Cc) in
a service name would reach the printer as a command (ESC/POS ``ESC``, ``GS``…), break a
display's frame or a screen's line. `PrintableText` refuses it, naming the character and its
position (counted from 1); any boundary that takes such text can use it.
"""
from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator


def control_character(text: str) -> tuple[int, str] | None:
    """The first control character of `text` and its position (from 1), or None."""
    for position, char in enumerate(text, 1):
        if unicodedata.category(char) == "Cc":
            return position, char
    return None


def check_printable(text: str) -> str:
    """`text` unchanged, or ValueError naming its first control character."""
    found = control_character(text)
    if found is not None:
        position, char = found
        raise ValueError(f"contains a control character U+{ord(char):04X} at position {position}")
    return text


PrintableText = Annotated[str, AfterValidator(check_printable)]
