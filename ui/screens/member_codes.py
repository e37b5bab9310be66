"""Member codes for priority tickets (typed on the VIP keypad or read by a barcode reader)."""
from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)


class MemberCodes:
    """Member codes for priority tickets: one per line in `ui.vip_codes_file` (# comments).
    Without a file, any code of 4–32 letters or digits is accepted (and recorded)."""

    def __init__(self, path: str | None) -> None:
        self.path = Path(path) if path else None
        self._mtime: float | None = None
        self._codes: set[str] = set()

    def valid(self, code: str) -> bool:
        code = code.strip()
        if not (4 <= len(code) <= 32 and code.isalnum() and code.isascii()):
            return False
        if self.path is None:
            return True
        try:
            mtime = self.path.stat().st_mtime
            if mtime != self._mtime:
                lines = self.path.read_text(encoding="utf-8").splitlines()
                self._codes = {ln.split("#")[0].strip() for ln in lines} - {""}
                self._mtime = mtime
        except OSError as exc:
            log.warning("cannot read the member codes %s: %s", self.path, exc)
            return False
        return code in self._codes
