"""How a configuration problem is told: the file and line, the key, what is wrong.

pydantic gives each error a location (``("counters", 0, "number")``); `describe` turns it into
``kiosk.toml:63: counters[0].number: Input should be a valid integer (got the text "1")``.
`key_lines` finds the line of every table and key in the TOML text (arrays of tables counted,
dotted table names such as ``[hardware.printer]`` followed), and a location without a line of
its own (an element of an inline array, a missing key) takes the line of its nearest parent.
"""
from __future__ import annotations

import json
import re
from typing import Any

from pydantic import ValidationError

_ARRAY_HEADER = re.compile(r"^\s*\[\[\s*([^\[\]]+?)\s*\]\]\s*(#.*)?$")
_TABLE_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
_BARE = r"[A-Za-z0-9_-]+"
_PART = rf"(?:{_BARE}|\"[^\"\n]*\"|'[^'\n]*')"
_KEY = re.compile(rf"^\s*({_PART}(?:\s*\.\s*{_PART})*)\s*=")
_TYPE_ERRORS = {"int_type", "float_type", "bool_type", "string_type", "list_type", "tuple_type",
                "dict_type", "model_type", "literal_error", "finite_number"}


class KeyedError(ValueError):
    """A cross-field error that knows which key it is about (a location below the model's)."""

    def __init__(self, loc: tuple, message: str) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message


def describe(exc: ValidationError, text: str, source: str) -> str:
    """Every error of `exc`, one line each: ``source:line: key: message``."""
    lines_of = key_lines(text)
    lines = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        msg = err["msg"]
        ctx_err = (err.get("ctx") or {}).get("error")
        if isinstance(ctx_err, KeyedError):
            loc, msg = loc + ctx_err.loc, ctx_err.message
        elif msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        elif err["type"] in _TYPE_ERRORS:
            msg = f"{msg} (got {_toml_value(err['input'])})"
        line = line_of(lines_of, loc)
        where = f"{source}:{line}" if line else source
        lines.append(f"{where}: {dotted(loc)}: {msg}")
    return "invalid configuration\n  " + "\n  ".join(lines)


def dotted(loc: tuple) -> str:
    """``("counters", 0, "number")`` → ``counters[0].number``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def line_of(lines_of: dict[tuple, int], loc: tuple) -> int | None:
    """The line of `loc`, else of its nearest parent that has one."""
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines_of:
            return lines_of[loc[:end]]
    return None


def key_lines(text: str) -> dict[tuple, int]:
    """Location (as pydantic gives it) → line number (from 1) of every table and key."""
    found: dict[tuple, int] = {}
    arrays: dict[tuple, int] = {}  # an array of tables → how many elements so far
    table: tuple = ()
    in_string = False
    for number, line in enumerate(text.splitlines(), 1):
        quotes = line.count('"""') + line.count("'''")
        if in_string:
            in_string = quotes % 2 == 0
            continue
        if m := _ARRAY_HEADER.match(line):
            names = _split(m.group(1))
            array = _resolve(names[:-1], arrays) + (names[-1],)
            arrays[array] = arrays.get(array, 0) + 1
            table = array + (arrays[array] - 1,)
            found.setdefault(array, number)
            found.setdefault(table, number)
        elif m := _TABLE_HEADER.match(line):
            table = _resolve(_split(m.group(1)), arrays)
            found.setdefault(table, number)
        elif m := _KEY.match(line):
            found.setdefault(table + tuple(_split(m.group(1))), number)
        in_string = quotes % 2 == 1
    return found


def _split(dotted_key: str) -> list[str]:
    return [part.strip().strip("\"'") for part in re.findall(_PART, dotted_key)]


def _resolve(names: list[str], arrays: dict[tuple, int]) -> tuple:
    """A table name as a location: a name that is an array of tables means its last element."""
    loc: tuple = ()
    for name in names:
        loc += (name,)
        if loc in arrays:
            loc += (arrays[loc] - 1,)
    return loc


def _toml_value(value: Any) -> str:
    """What was written, in TOML's words: ``the text "1"``, ``the boolean true``…"""
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the text {json.dumps(value, ensure_ascii=False)}"
    if isinstance(value, int):
        return f"the integer {value}"
    if isinstance(value, float):
        return f"the number {value!r}"
    if isinstance(value, (list, tuple)):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return f"a {type(value).__name__}"
