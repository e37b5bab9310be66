"""Member codes for priority tickets (typed on the VIP keypad or read by a barcode reader), and
the priority tier each code gives."""
from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from kiosk.domain.errors import ConfigError

log = logging.getLogger(__name__)


def well_formed(code: str) -> bool:
    """4–32 ASCII letters or digits."""
    return 4 <= len(code) <= 32 and code.isalnum() and code.isascii()


def parse_codes(text: str, tiers: Sequence[str], source: str) -> dict[str, str]:
    """Code → tier id from the lines of a codes file: `CODE TIER_ID`, or `CODE` alone for the
    lowest tier (the last of `tiers`); `#` starts a comment. A line with an unknown tier or more
    than two fields is refused (ConfigError naming the file and the line)."""
    codes: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split("#")[0].split()
        if not fields:
            continue
        if len(fields) > 2:
            raise ConfigError(f"{source}, line {number}: {line.strip()!r} is not `CODE` or `CODE TIER_ID`")
        tier = fields[1] if len(fields) == 2 else tiers[-1]
        if tier not in tiers:
            raise ConfigError(f"{source}, line {number}: unknown tier {tier!r} for code {fields[0]!r} "
                              f"(known: {', '.join(tiers)})")
        codes[fields[0]] = tier
    return codes


class MemberCodes:
    """The member codes of `ui.vip_codes_file` and their tiers (see `parse_codes`); the file is
    read at start (a refused file stops the screen from starting, like a bad configuration) and
    re-read when it changes (a refused new version is logged and the codes read before stay).
    Without a file, any well-formed code is accepted, with no tier of its own (the ticket gets the
    service's tier, else the lowest)."""

    def __init__(self, path: str | None, tiers: Sequence[str]) -> None:
        self.path = Path(path) if path else None
        self.tiers = tuple(tiers)
        self._mtime: float | None = None
        self._codes: dict[str, str] = {}
        if self.path is not None:
            self._reload(strict=True)

    def valid(self, code: str) -> bool:
        return self.lookup(code) is not None

    def lookup(self, code: str) -> tuple[str, str | None] | None:
        """(code, tier id or None) for an accepted code, else None."""
        code = code.strip()
        if not well_formed(code):
            return None
        if self.path is None:
            return code, None
        if not self._reload(strict=False):
            return None
        tier = self._codes.get(code)
        return (code, tier) if tier is not None else None

    def _reload(self, *, strict: bool) -> bool:
        """Read the file again if it changed; False when it cannot be read."""
        try:
            mtime = self.path.stat().st_mtime
            if mtime != self._mtime:
                codes = parse_codes(self.path.read_text(encoding="utf-8"), self.tiers, str(self.path))
                self._codes, self._mtime = codes, mtime
        except OSError as exc:
            log.warning("cannot read the member codes %s: %s", self.path, exc)
            return False
        except ConfigError as exc:
            if strict:
                raise
            log.error("member codes refused, the codes read before stay: %s", exc)
            self._mtime = mtime
        return True
