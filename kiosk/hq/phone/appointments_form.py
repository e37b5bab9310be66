"""The pre-acceptance form (预受理) a phone sends with a remote ticket or a booking, checked at HQ
against the branch's ``phone.forms`` block (its latest queue snapshot: each service's
`[[services.form]]` as the kiosk's `FormField` dumps it) with the kiosk's own rules
(`kiosk.config.forms.clean_form`, shared): only the service's fields, required ones present,
``yesno`` a boolean, ``choice`` one of its choices, ``text`` stripped, at most ``max_length``
characters and no control character. A refusal is `BadForm` naming the field (``form`` or
``form.<id>``). A block HQ cannot read as `FormField`s takes no form at all.
"""
from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from kiosk.config.forms import FormRefused, clean_form
from kiosk.config.settings import FormField

MAX_FIELDS = 50


class BadForm(ValueError):
    """A form refused: `field` is what is wrong (``form`` or ``form.<id>``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def form_fields(queue_doc: dict[str, Any] | None, service: str) -> tuple[FormField, ...] | None:
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
    try:
        fields = tuple(FormField.model_validate(d) for d in raw)
    except (ValidationError, TypeError, ValueError):
        return None
    if len({f.id for f in fields}) != len(fields):
        return None
    return fields


def check_form(fields: tuple[FormField, ...] | None, service: str, form: Any) -> dict[str, Any] | None:
    """The form's clean values (fields in the configured order; empty ones left out), None for no
    form; `BadForm` naming the field when refused."""
    if form is None:
        return None
    if fields is None:
        raise BadForm("form", f"the branch's form of service {service} cannot be read: send no form")
    try:
        return clean_form(fields, service, form)
    except FormRefused as exc:
        raise BadForm(exc.field, exc.message) from None


__all__ = ["BadForm", "check_form", "form_fields"]
