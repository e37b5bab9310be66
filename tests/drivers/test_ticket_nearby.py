"""The nearest other branches on a ticket printed at a peak: a heading and one line per branch in
each of the ticket's languages, after the self-service hint and before the QR code; golden
ESC/POS bytes; the rendered ticket grows by them; a ticket without them unchanged."""

import dataclasses

from drivers.jobs import NearbyBranch
from drivers.printer.ticket_layout import (FS_CHINESE_OFF, FS_CHINESE_ON, LayoutOptions, QrCode, Rule, TextLine,
                                           layout_ticket, render_image, ticket_bytes)

QR = "https://q.example/{branch}/{ticket}?id={ticket_id}"
SELF_SERVICE = {"zh": "缴费也可在自助终端或手机营业厅办理",
                "en": "Payments can also be made at the self-service terminals or in the app"}
NEARBY = (NearbyBranch({"zh": "陆家嘴营业厅", "en": "Lujiazui"}, 1.36, 3),
          NearbyBranch({"zh": "人民广场营业厅", "en": "People's Square"}, 1.7, 0))
ZH = ["附近网点：", "陆家嘴营业厅 1.4 km，等候 3 人", "人民广场营业厅 1.7 km，等候 0 人"]
EN = ["Nearby branches:", "Lujiazui 1.4 km, 3 waiting", "People's Square 1.7 km, 0 waiting"]


def texts(elements):
    return [e.text for e in elements if isinstance(e, TextLine)]


def test_the_nearby_branches_follow_the_self_service_hint_in_both_languages(ticket_job):
    job = dataclasses.replace(ticket_job, self_service=SELF_SERVICE, nearby=NEARBY)
    els = layout_ticket(job, LayoutOptions(qr_url=QR))
    lines = texts(els)
    hint = lines.index(SELF_SERVICE["en"])
    assert lines[hint + 1:hint + 7] == ZH + EN
    first = next(i for i, e in enumerate(els) if isinstance(e, TextLine) and e.text == ZH[0])
    assert els[first].bold and not isinstance(els[first - 1], Rule)     # one rule above hint and nearby
    assert first < next(i for i, e in enumerate(els) if isinstance(e, QrCode))


def test_without_a_hint_the_nearby_branches_get_their_own_rule(ticket_job):
    job = dataclasses.replace(ticket_job, nearby=NEARBY[:1], languages=("en",))
    els = layout_ticket(job, LayoutOptions(qr_url=QR))
    first = next(i for i, e in enumerate(els) if isinstance(e, TextLine) and e.text == EN[0])
    assert isinstance(els[first - 1], Rule)
    assert texts(els)[texts(els).index(EN[0]) + 1] == EN[1]
    assert ZH[0] not in texts(els)


def test_a_name_missing_in_a_language_falls_back_to_english(ticket_job):
    job = dataclasses.replace(ticket_job, nearby=(NearbyBranch({"en": "Lujiazui"}, 2, 5),))
    assert "Lujiazui 2.0 km，等候 5 人" in texts(layout_ticket(job, LayoutOptions()))


def test_a_ticket_without_them_is_unchanged(ticket_job):
    assert layout_ticket(dataclasses.replace(ticket_job, nearby=()), LayoutOptions(qr_url=QR)) == \
        layout_ticket(ticket_job, LayoutOptions(qr_url=QR))


def test_peak_ticket_with_nearby_bytes_match_golden(ticket_job, golden):
    job = dataclasses.replace(ticket_job, self_service=SELF_SERVICE, nearby=NEARBY)
    data = ticket_bytes(job, LayoutOptions(paper_mm=80, text_mode="gb18030", qr_url=QR))
    golden("ticket_nearby_gb18030_80.bin", data)
    assert FS_CHINESE_ON + ZH[1].encode("gb18030") + FS_CHINESE_OFF + b"\n" in data
    assert EN[1].encode("ascii") + b"\n" in data


def test_rendered_ticket_grows_by_the_nearby_lines(ticket_job):
    opts = LayoutOptions(paper_mm=58, qr_url=QR)
    plain = render_image(layout_ticket(ticket_job, opts), opts)
    full = render_image(layout_ticket(dataclasses.replace(ticket_job, nearby=NEARBY), opts), opts)
    assert full.width == plain.width == 384
    assert full.height >= plain.height + 7 * 24       # a rule, two headings, four branch lines
