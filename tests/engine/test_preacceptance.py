"""Pre-acceptance (预受理): a ticket's form is checked against its service's form in the
configuration; a form with an unknown or bad field is refused naming the field, and nothing
is issued."""
from __future__ import annotations

import re

import pytest

from kiosk.config.settings import parse_settings
from kiosk.domain import errors
from kiosk.domain.errors import ConfigError
from tests.kit.settings import REPO


def issued(engine):
    return engine.conn.execute("SELECT count(*) FROM tickets").fetchone()[0], engine.store.last_seq()


def test_a_good_form_is_stored_with_the_ticket(engine):
    t = engine.issue("B", form={"document": "passport", "business": "  replace a lost card ",
                                "documents_checked": False}, assisted=True)
    row = engine.ticket(t.ticket)
    assert row["assisted"] == 1
    assert engine.waiting_list(4)[0]["form"] == {"document": "passport", "business": "replace a lost card",
                                                 "documents_checked": False}
    [ev] = [e.body for e in engine.store.events_after(0, 100) if e.type == "ticket.issued"]
    assert ev["pre_accepted"] is True and ev["assisted"] is True and "passport" not in str(ev)


@pytest.mark.parametrize("service, form, field", [
    ("B", {"documnet": "passport"}, "form.documnet"),               # unknown field
    ("B", {"business": "x"}, "form.document"),                      # required field missing
    ("B", {"document": "visa"}, "form.document"),                   # not one of the choices
    ("B", {"document": 1}, "form.document"),
    ("B", {"document": "id_card", "documents_checked": "yes"}, "form.documents_checked"),
    ("B", {"document": "id_card", "business": "y" * 101}, "form.business"),
    ("B", {"document": "id_card", "note": "line\nbreak"}, "form.note"),
    ("B", {"document": "id_card", "note": ["a"]}, "form.note"),
    ("B", ["document"], "form"),
    ("A", {"document": "id_card"}, "form"),                         # A has no form
])
def test_a_bad_form_is_refused_naming_the_field_and_nothing_is_issued(engine, service, form, field):
    before = issued(engine)
    with pytest.raises(errors.BadField) as exc:
        engine.issue(service, form=form)
    assert exc.value.field == field and str(exc.value).startswith(field)
    assert issued(engine) == before
    assert engine.issue(service).ticket.endswith("001")           # the number was not used either


def test_assisted_is_a_boolean(engine):
    with pytest.raises(errors.BadField, match="assisted"):
        engine.issue("A", assisted="yes")


SAMPLE = (REPO / "firmware_config" / "kiosk.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize("old, new, key", [
    ('type = "yesno"', 'type = "date"', "services[1].form[2].type"),
    ('type = "choice"\nlabel = { zh = "证件类型", en = "Document" }\nchoices = [',
     'type = "text"\nlabel = { zh = "证件类型", en = "Document" }\nchoices = [', "services[1].form[0]"),
    ('id = "business"', 'id = "document"', "services[1].form[1].id"),
    ('id = "training"', 'id = "lunch"', "pause_reasons[1].id"),
])
def test_a_bad_form_or_reason_in_the_config_names_the_key(old, new, key):
    assert old in SAMPLE
    with pytest.raises(ConfigError, match=re.escape(key)):
        parse_settings(SAMPLE.replace(old, new, 1))
