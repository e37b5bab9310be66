"""`kiosk clerk add|list|remove`: the counter clerks (工号) and their PINs.

The PIN is read from standard input (one line; at a terminal, asked twice without echo) and
stored only as an scrypt hash, with the admin PIN's lockout (`kiosk.access.clerks`).
"""
from __future__ import annotations

import argparse
import getpass
import json
import sys
from dataclasses import asdict
from typing import Any

from kiosk.domain.errors import BadField


def add_parsers(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    help_ = "add, list or remove counter clerks (工号)"
    p = sub.add_parser("clerk", parents=parents, help=help_, description=help_)
    actions = p.add_subparsers(dest="clerk_action", metavar="ACTION")
    actions.required = True
    a = actions.add_parser("add", parents=parents, help="add a clerk; the PIN (4-12 digits) is read from stdin")
    a.add_argument("clerk_id", metavar="ID", help="1-16 letters, digits, - or _")
    a.add_argument("--name", required=True)
    a.set_defaults(handler=cmd_clerk_add)
    a = actions.add_parser("list", parents=parents, help="the clerks")
    a.set_defaults(handler=cmd_clerk_list)
    a = actions.add_parser("remove", parents=parents, help="remove a clerk (signed out of any counter)")
    a.add_argument("clerk_id", metavar="ID")
    a.set_defaults(handler=cmd_clerk_remove)


def _book(args: argparse.Namespace):
    from kiosk.access.clerks import ClerkBook
    from kiosk.app.kiosk_app import data_dir
    d = data_dir(args.data)
    d.mkdir(parents=True, exist_ok=True)
    return ClerkBook(d)


def _read_pin() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().strip()
    pin = getpass.getpass("the clerk's PIN (4-12 digits): ")
    if getpass.getpass("again: ") != pin:
        raise BadField("pin", "the two PINs differ")
    return pin


def cmd_clerk_add(args: argparse.Namespace) -> None:
    book = _book(args)
    try:
        clerk = book.add(args.clerk_id, args.name, _read_pin())
    finally:
        book.close()
    _say(args, f"clerk {clerk.id} ({clerk.name}) added", asdict(clerk))


def cmd_clerk_list(args: argparse.Namespace) -> None:
    book = _book(args)
    try:
        clerks = book.list()
    finally:
        book.close()
    _say(args, "\n".join(f"{c.id}\t{c.name}" for c in clerks) or "no clerks", [asdict(c) for c in clerks])


def cmd_clerk_remove(args: argparse.Namespace) -> None:
    book = _book(args)
    try:
        clerk = book.remove(args.clerk_id)
    finally:
        book.close()
    _say(args, f"clerk {clerk.id} ({clerk.name}) removed", asdict(clerk))


def _say(args: argparse.Namespace, human: str, data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False) if args.json else human)
