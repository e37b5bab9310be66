"""Pre-acceptance (预受理): the form a floor guide fills in before the call, checked against the
service's form in the configuration (``[[services.form]]``), the note a ticket carries after a
transfer, and the "assisted / elderly" flag.

Anything refused raises `BadField` naming the field (``form.<id>``, ``note``, ``assisted``);
the caller has changed nothing yet. Stored values are JSON text in ``tickets.form``.
"""
from __future__ import annotations

import json
from typing import Any

from kiosk.config.forms import FormRefused, clean_form, clean_text
from kiosk.config.settings import Service
from kiosk.domain.errors import BadField

NOTE_MAX = 200


def check_form(svc: Service, form: object) -> str | None:
    """The form's values as stored (JSON, fields in the configured order), or None for no form
    (`kiosk.config.forms.clean_form`: the rules HQ applies to a form filled on the phone)."""
    try:
        values = clean_form(svc.form, svc.prefix, form)
    except FormRefused as exc:
        raise BadField(exc.field, exc.message) from None
    return None if values is None else json.dumps(values, ensure_ascii=False, separators=(",", ":"))


def check_text(field: str, text: object, max_length: int) -> str:
    """A free text: a string of at most `max_length` characters with no control character."""
    try:
        return clean_text(field, text, max_length)
    except FormRefused as exc:
        raise BadField(exc.field, exc.message) from None


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
