"""HQ checks a form filled on the phone by the kiosk's own rules: for the same service and values,
the kiosk (`kiosk.engine.preacceptance.check_form`) and HQ (`kiosk.hq.phone.appointments_form`,
reading the form from the kiosk's own `phone` block) accept the same and refuse the same field."""
from __future__ import annotations

import json

import pytest

from kiosk.domain.errors import BadField
from kiosk.engine.preacceptance import check_form as kiosk_check
from kiosk.engine.readmodel import phone_block
from kiosk.hq.phone.appointments_form import BadForm, check_form as hq_check, form_fields

CASES = [None, {}, {"document": "passport"}, {"document": "spaceship"}, {"document": 3}, {"x": "y"},
         {"business": "open an account"}, {"business": "a" * 1001}, {"business": "bell\x07"},
         {"document": "passport", "business": "  trimmed  "}, [], "text", {"document": None}]


@pytest.mark.parametrize("values", CASES, ids=[json.dumps(c)[:30] for c in CASES])
def test_the_kiosk_and_hq_give_the_same_verdict(settings, values):
    svc = settings.service("B")
    assert svc.form, "the sample hall's service B has a form"
    fields = form_fields({"phone": phone_block(settings)}, "B")
    try:
        kiosk = ("ok", kiosk_check(svc, values))
    except BadField as exc:
        kiosk = ("refused", exc.field)
    try:
        out = hq_check(fields, "B", values)
        hq = ("ok", None if out is None else json.dumps(out, ensure_ascii=False, separators=(",", ":")))
    except BadForm as exc:
        hq = ("refused", exc.field)
    assert kiosk == hq
