"""The one check of a pre-acceptance form's values (预受理) against a service's `[[services.form]]`
fields: the kiosk's (`kiosk.engine.preacceptance`, the touchscreen, the floor, a remote ticket)
and HQ's (a form filled on the phone, checked before it is sent to the branch) — the same rules,
one code: only the service's fields; required ones present; ``yesno`` true/false; ``choice`` one
of its choices; ``text`` stripped, at most ``max_length`` characters, no control character.
A refusal is `FormRefused` naming the field (``form`` or ``form.<id>``).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kiosk.config.settings import FormField
from kiosk.config.text import control_character


class FormRefused(ValueError):
    """A value refused: `field` names it (``form``, ``form.<id>``, or the caller's field name)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def clean_form(fields: Sequence[FormField], service: str, form: object) -> dict[str, Any] | None:
    """The form's values, fields in the configured order and empty ones left out; None for no form."""
    if form is None:
        return None
    if not isinstance(form, dict):
        raise FormRefused("form", "must be an object of field → value")
    if not fields:
        raise FormRefused("form", f"service {service} has no pre-acceptance form")
    known = {f.id: f for f in fields}
    for key in form:
        if key not in known:
            raise FormRefused(f"form.{key!s:.40}", f"unknown field of service {service}'s form "
                                                   f"(known: {', '.join(known)})")
    values: dict[str, Any] = {}
    for f in fields:
        value = form.get(f.id)
        if value is None or value == "":
            if f.required:
                raise FormRefused(f"form.{f.id}", "is required")
            continue
        values[f.id] = _value(f, value)
    return values


def _value(f: FormField, value: object) -> Any:
    where = f"form.{f.id}"
    if f.type == "yesno":
        if not isinstance(value, bool):
            raise FormRefused(where, f"must be true or false, not {value!r:.40}")
        return value
    if not isinstance(value, str):
        raise FormRefused(where, f"must be text, not {type(value).__name__}")
    if f.type == "choice":
        ids = [c.id for c in f.choices]
        if value not in ids:
            raise FormRefused(where, f"{value!r:.40} is not one of {', '.join(ids)}")
        return value
    return clean_text(where, value, f.max_length)


def clean_text(field: str, text: object, max_length: int) -> str:
    """A free text: a string of at most `max_length` characters (stripped) with no control character."""
    if not isinstance(text, str):
        raise FormRefused(field, f"must be text, not {type(text).__name__}")
    text = text.strip()
    if len(text) > max_length:
        raise FormRefused(field, f"at most {max_length} characters, not {len(text)}")
    found = control_character(text)
    if found is not None:
        raise FormRefused(field, f"contains a control character U+{ord(found[1]):04X} at position {found[0]}")
    return text


__all__ = ["FormRefused", "clean_form", "clean_text"]
