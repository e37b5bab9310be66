"""The pre-acceptance form (预受理) a phone sends with a remote ticket or a booking, checked at HQ
against the branch's ``phone.forms`` block (its latest queue snapshot) by the same rules the
kiosk applies to the touchscreen's form (`kiosk/engine/preacceptance.py`, not imported: the
HQ side shares no engine code): only the service's fields, required ones present, ``yesno`` a
boolean, ``choice`` one of its options, ``text`` stripped, at most ``max_len`` characters and
no control character. A refusal is `BadForm` naming the field (``form`` or ``form.<id>``).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

FIELD_ID = re.compile(r"[a-z0-9_]{1,32}")
OPTION_ID = re.compile(r"[a-z0-9_-]{1,32}")
KINDS = ("text", "choice", "yesno")
MAX_FIELDS = 50


class BadForm(ValueError):
    """A form refused: `field` is what is wrong (``form`` or ``form.<id>``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Field:
    id: str
    kind: str
    required: bool
    options: tuple[str, ...]
    max_len: int


def _option(o: Any) -> str | None:
    v = o.get("id") if isinstance(o, dict) else o
    return v if isinstance(v, str) and OPTION_ID.fullmatch(v) else None


def _field(d: Any) -> Field | None:
    if not isinstance(d, dict) or not isinstance(d.get("id"), str) or not FIELD_ID.fullmatch(d["id"]):
        return None
    # the contract's names (kind, options, max_len) or the kiosk's FormField dump (type, choices, max_length)
    kind = d.get("kind", d.get("type"))
    options = d.get("options", d.get("choices")) or []
    max_len = d.get("max_len", d.get("max_length", 200))
    if kind not in KINDS or not isinstance(options, list) or not isinstance(d.get("required", False), bool):
        return None
    ids = [_option(o) for o in options]
    if None in ids or (kind == "choice") != bool(ids) or len(set(ids)) != len(ids):
        return None
    if not isinstance(max_len, int) or isinstance(max_len, bool) or not 1 <= max_len <= 1000:
        return None
    return Field(d["id"], kind, d.get("required", False), tuple(ids), max_len)  # type: ignore[arg-type]


def form_fields(queue_doc: dict[str, Any] | None, service: str) -> tuple[Field, ...] | None:
    """The fields of `service`'s form in the branch's snapshot: () when it has none, None when the
    block cannot be read (then no form is taken: HQ does not pass on what it cannot check)."""
    phone = queue_doc.get("phone") if isinstance(queue_doc, dict) else None
    forms = phone.get("forms") if isinstance(phone, dict) else None
    if forms is None:
        return ()
    if not isinstance(forms, dict):
        return None
    raw = forms.get(service)
    if raw is None:
        return ()
    if not isinstance(raw, list) or len(raw) > MAX_FIELDS:
        return None
    fields = [_field(d) for d in raw]
    if None in fields or len({f.id for f in fields if f is not None}) != len(fields):
        return None
    return tuple(fields)  # type: ignore[arg-type]


def _control(text: str) -> tuple[int, str] | None:
    for position, char in enumerate(text, 1):
        if unicodedata.category(char) == "Cc":
            return position, char
    return None


def _value(f: Field, value: Any) -> Any:
    where = f"form.{f.id}"
    if f.kind == "yesno":
        if not isinstance(value, bool):
            raise BadForm(where, f"must be true or false, not {value!r:.40}")
        return value
    if not isinstance(value, str):
        raise BadForm(where, f"must be text, not {type(value).__name__}")
    if f.kind == "choice":
        if value not in f.options:
            raise BadForm(where, f"{value!r:.40} is not one of {', '.join(f.options)}")
        return value
    text = value.strip()
    if len(text) > f.max_len:
        raise BadForm(where, f"at most {f.max_len} characters, not {len(text)}")
    found = _control(text)
    if found is not None:
        raise BadForm(where, f"contains a control character U+{ord(found[1]):04X} at position {found[0]}")
    return text


def check_form(fields: tuple[Field, ...] | None, service: str, form: Any) -> dict[str, Any] | None:
    """The form's clean values (fields in the configured order; empty ones left out), None for no
    form; `BadForm` naming the field when refused."""
    if form is None:
        return None
    if not isinstance(form, dict):
        raise BadForm("form", "must be an object of field → value")
    if fields is None:
        raise BadForm("form", f"the branch's form of service {service} cannot be read: send no form")
    if not fields:
        raise BadForm("form", f"service {service} has no pre-acceptance form")
    known = {f.id for f in fields}
    for key in form:
        if key not in known:
            raise BadForm(f"form.{key!s:.40}", f"unknown field of service {service}'s form "
                                               f"(known: {', '.join(f.id for f in fields)})")
    values: dict[str, Any] = {}
    for f in fields:
        value = form.get(f.id)
        if value is None or value == "":
            if f.required:
                raise BadForm(f"form.{f.id}", "is required")
            continue
        values[f.id] = _value(f, value)
    return values


__all__ = ["BadForm", "Field", "check_form", "form_fields"]
