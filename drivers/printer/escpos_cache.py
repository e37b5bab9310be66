"""A lasting home for python-escpos's printer-capabilities cache; call `prepare()` before the
first import of `escpos`.

At import, python-escpos reads its capabilities database from a pickle in
``$ESCPOS_CAPABILITIES_PICKLE_DIR``, and when that variable is unset it makes a *new* temporary
directory every time: each start of the kiosk then parsed the whole YAML database again
(~0.2 s here, more on a Pi) and left a directory behind in /tmp. The cache goes to
``$CACHE_DIRECTORY/escpos`` (systemd's ``CacheDirectory=``), else
``$XDG_CACHE_HOME/kiosk/escpos`` or ``~/.cache/kiosk/escpos``; a variable already set wins.
(python-escpos 3.1 still makes one *empty* temporary directory per import: its default for the
variable is evaluated either way. The service's ``PrivateTmp=yes`` removes them at each stop.)
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

VARIABLE = "ESCPOS_CAPABILITIES_PICKLE_DIR"


def cache_dir(env: os._Environ[str] | dict[str, str] = os.environ) -> Path:
    if env.get("CACHE_DIRECTORY"):
        return Path(env["CACHE_DIRECTORY"].split(":")[0]) / "escpos"
    base = Path(env["XDG_CACHE_HOME"]) if env.get("XDG_CACHE_HOME") else Path.home() / ".cache"
    return base / "kiosk" / "escpos"


def prepare() -> None:
    """Point python-escpos at the cache directory (made if missing). Idempotent; never raises."""
    if os.environ.get(VARIABLE):
        return
    path = cache_dir()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        log.warning("no cache directory for the printer capabilities (%s): python-escpos will "
                    "parse them at every start", exc)
        return
    os.environ[VARIABLE] = str(path)
