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

import importlib.util
import logging
import os
import platform
import shutil
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

VARIABLE = "ESCPOS_CAPABILITIES_PICKLE_DIR"


def cache_dir(env: os._Environ[str] | dict[str, str] = os.environ) -> Path:
    if env.get("CACHE_DIRECTORY"):
        return Path(env["CACHE_DIRECTORY"].split(":")[0]) / "escpos"
    base = Path(env["XDG_CACHE_HOME"]) if env.get("XDG_CACHE_HOME") else Path.home() / ".cache"
    return base / "kiosk" / "escpos"


def prepare() -> None:
    """Point python-escpos at the cache directory (made if missing), its pickle built there
    atomically. Idempotent; never raises."""
    if os.environ.get(VARIABLE):
        return
    path = cache_dir()
    try:
        path.mkdir(parents=True, exist_ok=True)
        target = path / f"{platform.python_version()}.capabilities.pickle"
        if not _usable(target):
            _build(path, target)
    except Exception as exc:  # noqa: BLE001 — a cache: without it python-escpos parses YAML each start
        log.warning("no cache directory for the printer capabilities (%s): python-escpos will "
                    "parse them at every start", exc)
        return
    os.environ[VARIABLE] = str(path)


def _capabilities_file() -> Path:
    spec = importlib.util.find_spec("escpos")
    if spec is None or not spec.submodule_search_locations:
        raise OSError("python-escpos is not installed")
    default = Path(list(spec.submodule_search_locations)[0]) / "capabilities.json"
    return Path(os.environ.get("ESCPOS_CAPABILITIES_FILE", default))


def _usable(pickle_path: Path) -> bool:
    """Present, newer than the capabilities file, and whole (a pickle ends with its STOP byte:
    python-escpos would rewrite a stale one in place, and a torn one fails its import)."""
    try:
        if pickle_path.stat().st_mtime < _capabilities_file().stat().st_mtime:
            return False
        with open(pickle_path, "rb") as fh:
            fh.seek(-1, os.SEEK_END)
            return fh.read(1) == b"."
    except OSError:
        return False


def _build(path: Path, target: Path) -> None:
    """Let python-escpos write its pickle in a fresh directory beside the cache, then fsync it,
    rename it into place and fsync the directory (python-escpos writes in place: a power cut
    mid-write would leave a pickle that fails every later import)."""
    staging = Path(tempfile.mkdtemp(prefix=".build-", dir=path))
    try:
        os.environ[VARIABLE] = str(staging)
        try:
            import escpos.capabilities as caps  # its import writes the pickle
        finally:
            del os.environ[VARIABLE]
        built = staging / target.name
        if built.is_file():
            with open(built, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(built, target)
            caps.pickle_dir, caps.pickle_path = str(path), str(target)  # where it lives from now on
            dir_fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
