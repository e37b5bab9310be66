"""The priority tier, the self-service hint at a peak and the quiet hours on the ticket: where
each line goes, golden ESC/POS bytes, and a ticket without them unchanged."""

import dataclasses

from drivers.printer.ticket_layout import (BigNumber, FS_CHINESE_OFF, FS_CHINESE_ON, LayoutOptions, QrCode,
                                           Rule, TextLine, layout_ticket, render_image, ticket_bytes)

QR = "https://q.example/{branch}/{ticket}?id={ticket_id}"
DIAMOND = {"zh": "钻石", "en": "Diamond"}
SELF_SERVICE = {"zh": "缴费也可在自助终端或手机营业厅办理",
                "en": "Payments can also be made at the self-service terminals or in the app"}
QUIET = {"zh": "周二至周四 14:00–15:00 人少", "en": "Usually quiet: Tue–Thu 14:00–15:00"}


def texts(elements):
    return [e.text for e in elements if isinstance(e, TextLine)]


def test_the_tier_is_named_under_the_service(ticket_job):
    job = dataclasses.replace(ticket_job, number="V007", tier_name=DIAMOND)
    els = layout_ticket(job, LayoutOptions(qr_url=QR))
    lines = texts(els)
    assert lines[2:5] == ["缴费", "Payments", "钻石 Diamond"]
    tier = next(e for e in els if isinstance(e, TextLine) and e.text == "钻石 Diamond")
    assert tier.bold
    assert els.index(tier) < next(i for i, e in enumerate(els) if isinstance(e, BigNumber))


def test_one_language_one_name(ticket_job):
    job = dataclasses.replace(ticket_job, tier_name=DIAMOND, languages=("en",))
    assert "Diamond" in texts(layout_ticket(job, LayoutOptions()))


def test_the_self_service_hint_follows_the_wait_and_the_time(ticket_job):
    job = dataclasses.replace(ticket_job, self_service=SELF_SERVICE)
    els = layout_ticket(job, LayoutOptions(qr_url=QR))
    lines = texts(els)
    issued = lines.index("取号时间 2026-11-23 09:31")
    assert lines[issued - 1] == "Estimated wait: about 15 min"
    assert lines[issued + 1:issued + 3] == [SELF_SERVICE["zh"], SELF_SERVICE["en"]]
    hint = next(i for i, e in enumerate(els) if isinstance(e, TextLine) and e.text == SELF_SERVICE["zh"])
    assert isinstance(els[hint - 1], Rule)
    assert hint < next(i for i, e in enumerate(els) if isinstance(e, QrCode))


def test_the_quiet_hours_open_the_footer(ticket_job):
    job = dataclasses.replace(ticket_job, quiet_hours=QUIET)
    lines = texts(layout_ticket(job, LayoutOptions(qr_url=QR)))
    assert lines[-4:] == [QUIET["zh"], QUIET["en"], "谢谢光临", "Thank you for your visit"]


def test_quiet_hours_without_a_footer_of_the_printer(ticket_job):
    job = dataclasses.replace(ticket_job, footer=None, quiet_hours=QUIET)
    els = layout_ticket(job, LayoutOptions())
    assert texts(els)[-2:] == [QUIET["zh"], QUIET["en"]]
    assert isinstance(els[-4], Rule)


def test_a_ticket_without_them_is_unchanged(ticket_job):
    plain = dataclasses.replace(ticket_job, tier_name=None, self_service=None, quiet_hours=None)
    assert layout_ticket(plain, LayoutOptions(qr_url=QR)) == layout_ticket(ticket_job, LayoutOptions(qr_url=QR))


def test_priority_peak_ticket_bytes_match_golden(ticket_job, golden):
    job = dataclasses.replace(ticket_job, number="V007", tier_name=DIAMOND, self_service=SELF_SERVICE,
                              quiet_hours=QUIET)
    data = ticket_bytes(job, LayoutOptions(paper_mm=80, text_mode="gb18030", qr_url=QR))
    golden("ticket_priority_peak_gb18030_80.bin", data)
    assert FS_CHINESE_ON + "钻石 Diamond".encode("gb18030") + FS_CHINESE_OFF + b"\n" in data
    assert FS_CHINESE_ON + QUIET["zh"].encode("gb18030") + FS_CHINESE_OFF in data
    assert FS_CHINESE_ON + QUIET["en"].encode("gb18030") + FS_CHINESE_OFF in data     # the en dashes


def test_rendered_ticket_grows_by_the_new_lines(ticket_job):
    opts = LayoutOptions(paper_mm=58, qr_url=QR)
    plain = render_image(layout_ticket(ticket_job, opts), opts)
    job = dataclasses.replace(ticket_job, tier_name=DIAMOND, self_service=SELF_SERVICE, quiet_hours=QUIET)
    full = render_image(layout_ticket(job, opts), opts)
    assert full.width == plain.width == 384
    assert full.height >= plain.height + 6 * 24       # tier, rule, two hints (wrapped), two quiet lines


class MonoFont:
    """Every character 12 px wide."""

    def getlength(self, text):
        return 12 * len(text)


def test_image_lines_break_between_words_and_between_chinese_characters():
    from drivers.printer.ticket_layout import _wrap
    assert _wrap(QUIET["en"], MonoFont(), 12 * 30) == ["Usually quiet: Tue–Thu", "14:00–15:00"]
    assert _wrap("缴费也可在自助终端办理", MonoFont(), 12 * 8) == ["缴费也可在自助终", "端办理"]
