"""Text to pixels for a Chinese LED matrix sign: the GB2312 repertoire, a 16-pixel line, a fixed
cell grid (8 px for a half-width character, 16 px for a full-width one), like the GB2312
font ROMs of the hall's window and strip signs.

Predictable replacement: a control character becomes a space; any character outside GB2312
(emoji, rare or traditional-only characters, other scripts) becomes ``?``. Nothing raises.
Glyphs come from WenQuanYi Zen Hei Mono (Debian ``fonts-wqy-zenhei``, face 1) at 14 px, which
keeps every GB2312 glyph inside its 16 x 16 cell; drawn without anti-aliasing.
"""

from __future__ import annotations

import functools
import unicodedata

from PIL import Image, ImageDraw, ImageFont

SIGN_FONT = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
SIGN_FONT_FACE = 1  # WenQuanYi Zen Hei Mono
LINE_PX = 16
CELL_PX = 8
REPLACEMENT = "?"


def sign_char(ch: str) -> str:
    """The character the sign shows for ``ch`` (see the module docstring)."""
    if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") or ch in "\t\r\n":
        return " "
    if ch == "\u3000":
        return "  "  # the ideographic space: two cells
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return REPLACEMENT
    return ch


def sign_text(text: str) -> str:
    return "".join(sign_char(ch) for ch in text)


def cells(ch: str) -> int:
    """Half-width cells of a sign character: 1 for ASCII, 2 for a GB2312 double-byte one."""
    return 1 if ord(ch) < 0x80 else 2


def text_cells(text: str) -> int:
    return sum(cells(ch) for ch in sign_text(text))


def fit(text: str, max_cells: int) -> str:
    """``text`` (already sign text) cut to at most ``max_cells`` cells."""
    out, used = [], 0
    for ch in text:
        if used + cells(ch) > max_cells:
            break
        out.append(ch)
        used += cells(ch)
    return "".join(out)


def wrap(text: str, max_cells: int) -> list[str]:
    """Sign text cut into lines of at most ``max_cells`` cells (never splitting a character)."""
    text = sign_text(text)
    lines: list[str] = []
    while text:
        line = fit(text, max_cells) or text[0]
        lines.append(line)
        text = text[len(line):]
    return lines or [""]


@functools.lru_cache(maxsize=4)
def _font(path: str, face: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, 14, index=face)


def render(lines: list[str], width_px: int, *, font_path: str = SIGN_FONT,
           face: int = SIGN_FONT_FACE) -> list[list[bool]]:
    """Rows of pixels (True = lit), one 16-pixel line per text line, left-aligned, cut at
    ``width_px``."""
    height = LINE_PX * len(lines)
    image = Image.new("1", (width_px, height), 0)
    draw = ImageDraw.Draw(image)
    draw.fontmode = "1"
    font = _font(font_path, face)
    for row, line in enumerate(lines):
        x = 0
        for ch in sign_text(line):
            w = cells(ch) * CELL_PX
            if x + w > width_px:
                break
            if ch != " ":
                draw.text((x, row * LINE_PX - 1), ch, font=font, fill=1)
            x += w
    px = image.load()
    return [[bool(px[x, y]) for x in range(width_px)] for y in range(height)]


def ascii_art(pixels: list[list[bool]]) -> str:
    """``#`` for a lit pixel, ``.`` for a dark one (logs and test failures)."""
    return "\n".join("".join("#" if p else "." for p in row) for row in pixels)
