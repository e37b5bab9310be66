"""A Chinese counter sign on an Onbon BX-5E matrix controller (config driver ``bx-serial``).

What it shows: in Chinese, ``请 A012 到 3号窗口`` (the counter's Chinese name when configured,
else ``<n>号窗口``), shorter forms when the line is too narrow; HQ messages and the idle text
wrapped over the lines and centred. ``width`` counts half-width cells (8 px), so a 20-cell line
is a 160-pixel strip and 2 rows are 32 pixels high. The whole area flashes while a call is new.

How: :mod:`drivers.display.bx_render` draws the text (GB2312 repertoire, see there how other
characters are replaced) and :mod:`drivers.display.bx_protocol` frames it as the manual says.
"""

from __future__ import annotations

from typing import Optional, Union

from drivers.display import bx_protocol as bx
from drivers.display import bx_render
from drivers.display.call_display import (CallBoard, CallDisplay, DisplayCodec, DisplayContent,
                                          format_call)
from drivers.display.mock import MockDisplay
from drivers.display.virtual import VirtualDisplay
from drivers.jobs import CallInfo, pick


def format_call_zh(call: CallInfo, max_cells: int) -> str:
    """``请 A012 到 3号窗口``; ``A012 到 3号窗口``, ``A012 到 3号``, ``A012>3`` when narrower."""
    name = pick(call.counter_name, "zh") if call.counter_name else ""
    name = bx_render.sign_text(name) if name and "?" not in bx_render.sign_text(name) else f"{call.counter}号窗口"
    for text in (f"请 {call.ticket} 到 {name}", f"{call.ticket} 到 {name}",
                 f"{call.ticket} 到 {call.counter}号", f"{call.ticket}>{call.counter}"):
        if bx_render.text_cells(text) <= max_cells:
            return bx_render.sign_text(text)
    return bx_render.fit(bx_render.sign_text(f"{call.ticket}>{call.counter}"), max_cells)


class HallSignBoard(CallBoard):
    """:class:`CallBoard` measured in sign cells, calls worded in Chinese unless ``language``
    is ``en`` (then the ASCII form of the other signs)."""

    def content(self, blink: bool = False) -> DisplayContent:
        if not self.calls:
            return self.idle()
        lines = [self._format(c) for c in self.calls]
        lines += [""] * (self.rows - len(lines))
        return DisplayContent(tuple(lines), 0 if blink else None)

    def _format(self, call: CallInfo) -> str:
        if self.language == "en":
            return bx_render.fit(bx_render.sign_text(format_call(call, self.width, "en")), self.width)
        return format_call_zh(call, self.width)

    def idle(self, message: Optional[str] = None) -> DisplayContent:
        text = self.idle_message if message is None else message
        lines = []
        for line in bx_render.wrap(text, self.width)[: self.rows]:
            pad = (self.width - bx_render.text_cells(line)) // 2
            lines.append((" " * pad + line).rstrip())
        lines += [""] * (self.rows - len(lines))
        return DisplayContent(tuple(lines), None, idle=True)


class BxCodec(DisplayCodec):
    """A single-colour BX-5E sign: ``rows`` 16-pixel lines of ``width`` 8-pixel cells.

    :param address: the screen number set on the controller; 0 = the wildcard 0xFFFE (any).
    :param device: ``any`` (wildcard) or a model of the manual's table (BX-5E1/2/3).
    """

    def __init__(self, address: int = 0, *, device: str = "any", rows: int = 2, width: int = 20,
                 stay_10ms: int = 100, font_path: str = bx_render.SIGN_FONT) -> None:
        if device not in bx.DEVICE_TYPES:
            raise ValueError(f"unknown BX device {device!r} (one of {', '.join(bx.DEVICE_TYPES)})")
        if not 0 <= address < bx.ANY:
            raise ValueError(f"BX screen address must be 0..{bx.ANY - 1}")
        self.screen = address or bx.ANY
        self.device_type = bx.DEVICE_TYPES[device]
        self.rows, self.width, self.stay_10ms, self.font_path = rows, width, stay_10ms, font_path

    @property
    def size_px(self) -> tuple[int, int]:
        return self.width * bx_render.CELL_PX, self.rows * bx_render.LINE_PX

    def pixels(self, content: DisplayContent) -> list[list[bool]]:
        lines = (list(content.lines) + [""] * self.rows)[: self.rows]
        return bx_render.render(lines, self.size_px[0], font_path=self.font_path)

    def frame(self, content: DisplayContent) -> bytes:
        width, height = self.size_px
        mode = bx.DISPLAY_FLASH if content.blink_line is not None else bx.DISPLAY_STATIC
        data = bx.update_area(bx.mono_bitmap(self.pixels(content)), width, height,
                              display_mode=mode, stay_10ms=self.stay_10ms)
        return bx.frame(data, screen=self.screen, device_type=self.device_type)


class _HallSignBoardMixin:
    """Gives a call display the :class:`HallSignBoard` (cells, Chinese wording)."""

    board: CallBoard
    current: DisplayContent

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        old = self.board
        self.board = HallSignBoard(old.rows, old.width, old.language, old.idle_message)
        self.current = self.board.idle()


class BxSignDisplay(_HallSignBoardMixin, CallDisplay):
    """A BX-5E sign on a serial port (RS-232, or RS-485 shared with other signs)."""


class BxMockDisplay(_HallSignBoardMixin, MockDisplay):
    """The mock display imitating a BX sign (``driver = "mock"``, ``protocol = "bx"``)."""


class BxVirtualDisplay(_HallSignBoardMixin, VirtualDisplay):
    """The virtual display imitating a BX sign: its screens go to the log."""


def bx_display_class(driver: str) -> type[Union[BxSignDisplay, BxMockDisplay, BxVirtualDisplay]]:
    return {"mock": BxMockDisplay, "virtual": BxVirtualDisplay}.get(driver, BxSignDisplay)
