"""The virtual ticket printer (config driver ``virtual``, laptop demo): saves every ticket as a PNG."""

from __future__ import annotations

import logging
import os
from datetime import datetime, tzinfo
from typing import Optional

from drivers.atomic_file import atomic_binary_writer
from drivers.printer.in_memory import InMemoryPrinter, PrintedTicket
from drivers.printer.ticket_layout import LayoutOptions, render_image

log = logging.getLogger(__name__)


class VirtualPrinter(InMemoryPrinter):
    """Laptop demo: every ticket is saved as ``<out_dir>/<YYYYmmdd-HHMMSS>-<seq>-<number>.png``,
    the time of printing in ``tz`` (the hall's time zone; the machine's when None)."""

    def __init__(self, name: str, layout: Optional[LayoutOptions] = None, *,
                 out_dir: str = "tickets", tz: Optional[tzinfo] = None, **kwargs) -> None:
        self.out_dir = out_dir
        self.tz = tz
        self._seq = 0
        super().__init__(name, layout, **kwargs)

    def _keep(self, job, elements, data) -> Optional[str]:
        os.makedirs(self.out_dir, exist_ok=True)
        self._seq += 1
        stamp = datetime.now(self.tz).strftime("%Y%m%d-%H%M%S")
        path = os.path.join(self.out_dir, f"{stamp}-{self._seq:04d}-{job.number}.png")
        with atomic_binary_writer(path) as fh:
            render_image(elements, self.layout).save(fh, format="PNG")
        log.info("%s: ticket %s -> %s (%d bytes of ESC/POS)", self.name, job.number, path, len(data))
        self.printed.append(PrintedTicket(job, data, path))
        return path
