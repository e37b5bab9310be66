"""Every text the screens use is translated, and the committed .mo files match the .po files."""
from __future__ import annotations

import pytest

from ui.i18n import LOCALES, compile_mo, ntr, parse_po, po_path, tr, used_msgids


@pytest.mark.parametrize("lang", sorted(LOCALES))
def test_every_used_message_is_translated(lang):
    entries = parse_po(po_path(lang))
    used = used_msgids()
    assert len(used) > 50
    missing = sorted(k for k in used if k not in entries or not all(entries[k]))
    assert not missing


@pytest.mark.parametrize("lang", sorted(LOCALES))
def test_committed_mo_is_compiled_from_the_po(lang):
    po = po_path(lang)
    assert po.with_suffix(".mo").read_bytes() == compile_mo(parse_po(po))


def test_chinese_texts_are_chinese():
    entries = parse_po(po_path("zh"))
    same = [k for k, v in entries.items() if k[0] and v[0] == k[0] and k[0] not in ("OK",)]
    assert not same
    assert tr("Please take your ticket", "zh") == "请取走您的号票"
    assert ntr("{n} person ahead of you", "{n} people ahead of you", 3, "zh") == "您前面还有3人"
    assert ntr("{n} person ahead of you", "{n} people ahead of you", 1, "en") == "1 person ahead of you"
