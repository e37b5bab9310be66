"""Pre-acceptance (预受理): the form a floor guide fills in before the call, checked against the
service's form in the configuration (``[[services.form]]``), the note a ticket carries after a
transfer, and the "assisted / elderly" flag.

Anything refused raises `BadField` naming the field (``form.<id>``, ``note``, ``assisted``);
the caller has changed nothing yet. Stored values are JSON text in ``tickets.form``.
"""
from __future__ import annotations

import json
from typing import Any

from kiosk.config.settings import FormField, Service
from kiosk.config.text import control_character
from kiosk.domain.errors import BadField

NOTE_MAX = 200


def check_form(svc: Service, form: object) -> str | None:
    """The form's values as stored (JSON, fields in the configured order), or None for no form."""
    if form is None:
        return None
    if not isinstance(form, dict):
        raise BadField("form", "must be an object of field → value")
    if not svc.form:
        raise BadField("form", f"service {svc.prefix} has no pre-acceptance form")
    fields = {f.id: f for f in svc.form}
    for key in form:
        if key not in fields:
            raise BadField(f"form.{key!s:.40}", f"unknown field of service {svc.prefix}'s form "
                                                f"(known: {', '.join(fields)})")
    values: dict[str, Any] = {}
    for f in svc.form:
        value = form.get(f.id)
        if value is None or value == "":
            if f.required:
                raise BadField(f"form.{f.id}", "is required")
            continue
        values[f.id] = _check_value(f, value)
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"))


def _check_value(f: FormField, value: object) -> Any:
    where = f"form.{f.id}"
    if f.type == "yesno":
        if not isinstance(value, bool):
            raise BadField(where, f"must be true or false, not {value!r:.40}")
        return value
    if not isinstance(value, str):
        raise BadField(where, f"must be text, not {type(value).__name__}")
    if f.type == "choice":
        ids = [c.id for c in f.choices]
        if value not in ids:
            raise BadField(where, f"{value!r:.40} is not one of {', '.join(ids)}")
        return value
    return check_text(where, value, f.max_length)


def check_text(field: str, text: object, max_length: int) -> str:
    """A free text: a string of at most `max_length` characters with no control character."""
    if not isinstance(text, str):
        raise BadField(field, f"must be text, not {type(text).__name__}")
    text = text.strip()
    if len(text) > max_length:
        raise BadField(field, f"at most {max_length} characters, not {len(text)}")
    found = control_character(text)
    if found is not None:
        raise BadField(field, f"contains a control character U+{ord(found[1]):04X} at position {found[0]}")
    return text


def check_note(note: object) -> str | None:
    """A transfer's note (None for none)."""
    if note is None:
        return None
    return check_text("note", note, NOTE_MAX) or None


def check_assisted(assisted: object) -> bool:
    if not isinstance(assisted, bool):
        raise BadField("assisted", f"must be true or false, not {assisted!r:.40}")
    return assisted


def form_values(stored: str | None) -> dict[str, Any] | None:
    """The values of a stored form (None: the ticket has none)."""
    return json.loads(stored) if stored else None
