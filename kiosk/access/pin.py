"""The admin PIN: scrypt hashes, and a lockout with a growing delay that survives restarts.

Hash format (one line, put in the config as ``[ui] admin_pin_hash``)::

    scrypt$<log2 n>$<r>$<p>$<salt, urlsafe base64>$<key, urlsafe base64>

Lockout: the first ``free_tries`` wrong PINs cost nothing; every further wrong PIN locks
the PIN entry for ``base_s * 2**k`` seconds (k = 0, 1, 2 … ; at most ``max_s``). A right
PIN resets the count. The state is a small JSON file in the data directory, so pulling the
plug does not reset it. Wall-clock time is used (a lockout must survive a reboot, and the
monotonic clock does not); a lockout that ends further in the future than ``max_s`` (the
clock jumped back when NTP synced) is clamped to ``max_s`` from now.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["hash_pin", "verify_pin", "check_pin_format", "PinGuard", "PinResult", "set_pin_command"]

_LOG2_N, _R, _P, _DKLEN = 14, 8, 1, 32
_MAXMEM = 64 * 1024 * 1024


def check_pin_format(pin: str) -> str:
    """A PIN is 4 to 12 digits (what the on-screen keypad can type)."""
    pin = str(pin).strip()
    if not (pin.isdigit() and pin.isascii() and 4 <= len(pin) <= 12):
        raise ValueError("the admin PIN must be 4 to 12 digits")
    return pin


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_pin(pin: str, *, salt: bytes | None = None, log2_n: int = _LOG2_N, r: int = _R, p: int = _P) -> str:
    pin = check_pin_format(pin)
    salt = salt or secrets.token_bytes(16)
    key = hashlib.scrypt(pin.encode(), salt=salt, n=2 ** log2_n, r=r, p=p, dklen=_DKLEN, maxmem=_MAXMEM)
    return f"scrypt${log2_n}${r}${p}${_b64(salt)}${_b64(key)}"


def verify_pin(pin: str, stored: str | None) -> bool:
    """True when `pin` matches the stored hash. A missing or malformed hash matches nothing."""
    if not stored or not pin:
        return False
    try:
        scheme, log2_n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt" or not (10 <= int(log2_n) <= 20):
            return False
        expected = _unb64(key)
        got = hashlib.scrypt(str(pin).encode(), salt=_unb64(salt), n=2 ** int(log2_n), r=int(r), p=int(p),
                             dklen=len(expected), maxmem=_MAXMEM)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


@dataclass(frozen=True)
class PinResult:
    ok: bool
    locked_s: float = 0.0       # > 0: entry is locked for this many seconds from now
    failures: int = 0
    no_pin: bool = False        # no admin PIN is configured: the admin screen stays locked


class PinGuard:
    """Checks PINs against one stored hash, with the persisted lockout described above."""

    FILE = "admin_pin_lockout.json"

    def __init__(self, stored_hash: str | None, data_dir: str | os.PathLike, *, free_tries: int = 3,
                 base_s: float = 30.0, max_s: float = 900.0, now: Callable[[], float] = time.time,
                 file: str | None = None) -> None:
        """`file`: the lockout's file in `data_dir` (default `FILE`; each clerk has their own)."""
        self.stored_hash = stored_hash
        self.path = Path(data_dir) / (file or self.FILE)
        self.free_tries = free_tries
        self.base_s = base_s
        self.max_s = max_s
        self._now = now
        self.failures, self.locked_until = self._load()

    def _load(self) -> tuple[int, float]:
        try:
            data = json.loads(self.path.read_text())
            return int(data.get("failures", 0)), float(data.get("locked_until", 0.0))
        except (OSError, ValueError, TypeError, AttributeError):
            return 0, 0.0

    def _save(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _write_atomic(self.path, json.dumps({"failures": self.failures, "locked_until": self.locked_until}))
        except OSError:
            pass  # a read-only data dir must not open the admin screen; the in-memory state still holds

    def locked_for(self) -> float:
        """Seconds until a PIN may be tried again (0: now)."""
        now = self._now()
        left = self.locked_until - now
        if left > self.max_s:  # the wall clock jumped back: do not lock for hours
            self.locked_until = now + self.max_s
            left = self.max_s
        return max(0.0, left)

    def delay_after(self, failures: int) -> float:
        """The lockout that the `failures`-th consecutive wrong PIN starts."""
        extra = failures - self.free_tries
        if extra <= 0:
            return 0.0
        return min(self.max_s, self.base_s * 2 ** (extra - 1))

    def check(self, pin: str) -> PinResult:
        if not self.stored_hash:
            return PinResult(False, no_pin=True)
        left = self.locked_for()
        if left > 0:
            return PinResult(False, locked_s=left, failures=self.failures)
        if verify_pin(pin, self.stored_hash):
            if self.failures or self.locked_until:
                self.failures, self.locked_until = 0, 0.0
                self._save()
            return PinResult(True)
        self.failures += 1
        delay = self.delay_after(self.failures)
        self.locked_until = self._now() + delay if delay else 0.0
        self._save()
        return PinResult(False, locked_s=delay, failures=self.failures)


def _write_atomic(path: Path, text: str) -> None:
    """Temporary file, fsync, rename, fsync of the directory: a power cut leaves the old file or
    the new one. (The screens import this module and may not import `kiosk.storage`, whose
    `files.write_atomic` does the same with the target's permissions kept.)"""
    tmp = path.with_name(f".{path.name}.tmp")
    mode = path.stat().st_mode & 0o7777 if path.exists() else None
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        if mode is not None:
            os.fchmod(fh.fileno(), mode)
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def set_pin_command(config_path: str | os.PathLike | None, pin: str, *, write: bool = False) -> str:
    """`kiosk set-pin`: hash `pin` and return the config line ``admin_pin_hash = "…"``.

    By default the line is printed (with where to put it) and the config is not touched.
    With ``write=True`` the ``[ui]`` section of `config_path` gets the line (an existing
    ``admin_pin_hash`` line is replaced; a missing ``[ui]`` section is appended); the
    result is validated by loading the file again. Raises ValueError for a bad PIN.
    """
    line = f'admin_pin_hash = "{hash_pin(pin)}"'
    if not write:
        print("# put this line in the [ui] section of", config_path or "the configuration")
        print(line)
        return line
    path = Path(config_path)
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    lines = text.splitlines()
    ui_at = next((i for i, s in enumerate(lines) if s.strip().split("#")[0].strip() == "[ui]"), None)
    if ui_at is None:
        lines += ["", "[ui]", line]
    else:
        end = next((j for j in range(ui_at + 1, len(lines)) if lines[j].lstrip().startswith("[")), len(lines))
        old = next((j for j in range(ui_at + 1, end) if lines[j].split("=")[0].strip() == "admin_pin_hash"), None)
        if old is None:
            lines.insert(ui_at + 1, line)
        else:
            lines[old] = line
    new_text = "\n".join(lines) + "\n"
    from kiosk.config.settings import parse_settings
    parse_settings(new_text, source=str(path))  # never write a configuration that would not load
    _write_atomic(path, new_text)
    print(f"admin PIN set in {path}")
    return line


def main(argv: list[str] | None = None) -> int:
    """`python -m kiosk.access.pin [--config FILE] [--write] [PIN]` (asks for the PIN when not given)."""
    import argparse
    import getpass
    p = argparse.ArgumentParser(prog="python -m kiosk.access.pin", description="hash the admin PIN for [ui] admin_pin_hash")
    p.add_argument("pin", nargs="?")
    p.add_argument("--config", default=None)
    p.add_argument("--write", action="store_true", help="write the hash into the config's [ui] section")
    args = p.parse_args(argv)
    pin = args.pin or getpass.getpass("admin PIN (4-12 digits): ")
    if args.pin is None and getpass.getpass("again: ") != pin:
        print("the PINs differ", flush=True)
        return 2
    if args.write and not args.config:
        from kiosk.config.settings import config_path
        args.config = str(config_path(None))
    try:
        set_pin_command(args.config, pin, write=args.write)
    except ValueError as exc:
        print(exc)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
