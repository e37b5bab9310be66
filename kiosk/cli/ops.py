"""Operations sub-commands: `kiosk backup`, `kiosk check-db`, `kiosk set-pin`."""
from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import Any

from kiosk.domain.errors import ConfigError, KioskError

BACKUP_KEEP = 7


def add_parsers(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("backup", parents=parents, help="online backup of the database (keeps the newest N)")
    p.add_argument("--keep", type=int, default=BACKUP_KEEP)
    p.set_defaults(handler=cmd_backup)
    p = sub.add_parser("check-db", parents=parents,
                       help="check the database; with --restore, restore a corrupt one from the newest good backup")
    p.add_argument("--restore", action="store_true")
    p.set_defaults(handler=cmd_check_db)
    p = sub.add_parser("set-pin", parents=parents, help="print the hashed admin PIN line for [ui] admin_pin_hash")
    p.add_argument("--stdin", action="store_true", help="read the PIN from standard input (no prompt)")
    p.set_defaults(handler=cmd_set_pin)


def _paths(args: argparse.Namespace):
    from kiosk.app.kiosk_app import data_dir
    from kiosk.storage.store import db_path
    d = data_dir(args.data)
    return d, db_path(d)


def cmd_backup(args: argparse.Namespace) -> None:
    from kiosk.storage.backup import backup_now
    if args.keep < 1:
        raise ConfigError("--keep must be at least 1")
    d, db = _paths(args)
    if not db.exists():
        raise KioskError(f"no database at {db}: nothing to back up")
    path = backup_now(db, d / "backups", keep=args.keep)
    _say(args, f"backup written: {path}", {"backup": str(path)})


def cmd_check_db(args: argparse.Namespace) -> int:
    from kiosk.storage.integrity import check_integrity
    from kiosk.storage.restore import restore_if_corrupt
    d, db = _paths(args)
    if args.restore:
        report = restore_if_corrupt(db, d / "backups", full=True)
        if report is None:
            _say(args, f"{db}: ok", {"ok": True})
            return 0
        _say(args, report.summary(), report.as_dict())
        return 1
    problems = check_integrity(db, full=True)
    _say(args, f"{db}: " + ("ok" if not problems else "; ".join(problems)),
         {"ok": not problems, "problems": problems})
    return 1 if problems else 0


def cmd_set_pin(args: argparse.Namespace) -> None:
    from kiosk.access.pin import hash_pin
    pin = sys.stdin.readline().strip() if args.stdin else getpass.getpass("new admin PIN: ")
    if not args.stdin and getpass.getpass("again: ") != pin:
        raise ConfigError("the two PINs differ")
    try:
        hashed = hash_pin(pin)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    _say(args, f'put this line in the [ui] section of the configuration:\nadmin_pin_hash = "{hashed}"',
         {"admin_pin_hash": hashed})


def _say(args: argparse.Namespace, human: str, data: dict) -> None:
    print(json.dumps(data, ensure_ascii=False) if args.json else human)
