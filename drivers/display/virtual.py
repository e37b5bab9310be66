"""The virtual call display (config driver ``virtual``, laptop demo): logs what a real one would show."""

from __future__ import annotations

import logging

from drivers.display.in_memory import InMemoryDisplay

log = logging.getLogger(__name__)


class VirtualDisplay(InMemoryDisplay):
    """Laptop demo: each screen goes to the log (``drivers.display.virtual`` logger, INFO)."""

    def _send(self, frame: bytes) -> None:
        super()._send(frame)
        c = self.current
        blink = " (blinking)" if c.blink_line is not None else ""
        log.info("display %s: %s%s", self.name, " | ".join(c.lines), blink)
        log.debug("display %s frame: %s", self.name, frame.hex(" "))
