"""Ticket layout: elements, golden ESC/POS bytes (text and image mode), rendered PNG."""

import dataclasses

import pytest

from drivers.printer.ticket_layout import (BigNumber, FS_CHINESE_OFF, FS_CHINESE_ON, LayoutOptions, QrCode,
                                   TextLine, layout_ticket, qr_data, render_image, ticket_bytes)

QR = "https://q.example/{branch}/{ticket}?id={ticket_id}"


@pytest.mark.parametrize("mode", ["gb18030", "image"])
@pytest.mark.parametrize("paper", [58, 80])
def test_ticket_bytes_match_golden(ticket_job, golden, mode, paper):
    opts = LayoutOptions(paper_mm=paper, text_mode=mode, qr_url=QR)
    golden(f"ticket_{mode}_{paper}.bin", ticket_bytes(ticket_job, opts))


def test_layout_order_and_content(ticket_job):
    els = layout_ticket(ticket_job, LayoutOptions(qr_url=QR))
    texts = [e.text for e in els if isinstance(e, TextLine)]
    assert texts[:2] == ["示范营业厅", "Demo Service Hall"]
    assert "缴费" in texts and "Payments" in texts
    assert "您前面还有 5 人" in texts and "5 people ahead of you" in texts
    assert "预计等候约 15 分钟" in texts and "Estimated wait: about 15 min" in texts
    assert "取号时间 2026-11-23 09:31" in texts
    assert texts[-1] == "Thank you for your visit"
    assert [e.text for e in els if isinstance(e, BigNumber)] == ["A023"]
    assert [e.data for e in els if isinstance(e, QrCode)] == ["https://q.example/demo-001/A023?id=17"]


def test_text_mode_wraps_chinese_in_fs_mode(ticket_job):
    data = ticket_bytes(ticket_job, LayoutOptions(text_mode="gb18030"))
    assert FS_CHINESE_ON + "缴费".encode("gb18030") + FS_CHINESE_OFF in data
    assert data.count(FS_CHINESE_ON) == data.count(FS_CHINESE_OFF)
    assert b"\x1d!\x77\x1bE\x01\x1ba\x01A023\n" in data  # 8x8, bold, centred on 80 mm


def test_image_mode_has_no_chinese_mode_and_uses_raster(ticket_job):
    data = ticket_bytes(ticket_job, LayoutOptions(text_mode="image", paper_mm=58))
    assert FS_CHINESE_ON not in data
    assert data.count(b"\x1dv0") >= 6
    assert b"Payments\n" in data  # ASCII lines stay text


def test_job_url_wins_and_no_template_means_no_qr(ticket_job):
    job = dataclasses.replace(ticket_job, qr_url="https://x.example/t/1")
    assert qr_data(job, QR) == "https://x.example/t/1"
    els = layout_ticket(ticket_job, LayoutOptions(qr_url=""))
    assert not [e for e in els if isinstance(e, QrCode)]


def test_reprint_marker_and_next_in_line(ticket_job):
    job = dataclasses.replace(ticket_job, reprint=True, ahead=0, estimate_s=None, languages=("en",))
    texts = [e.text for e in layout_ticket(job, LayoutOptions()) if isinstance(e, TextLine)]
    assert "REPRINT" in texts and "You are next" in texts
    assert not [t for t in texts if "Estimated" in t]


def test_bad_options_refused():
    with pytest.raises(ValueError):
        LayoutOptions(paper_mm=76)
    with pytest.raises(ValueError):
        LayoutOptions(text_mode="utf8")
    with pytest.raises(ValueError):
        LayoutOptions(profile="default").width_px


def test_rendered_image_is_paper_wide(ticket_job, tmp_path):
    from PIL import Image

    logo = tmp_path / "logo.png"
    Image.new("L", (800, 100), 0).save(logo)
    opts = LayoutOptions(paper_mm=58, qr_url=QR, logo=str(logo))
    img = render_image(layout_ticket(ticket_job, opts), opts)
    assert img.width == 384 and img.height > 600
    # the logo (black) is on top, scaled to the paper width
    assert img.getpixel((10, 5)) == 0


def test_image_text_does_not_depend_on_raqm(ticket_job, monkeypatch):
    """Pillow lays text out with Raqm when it can load libfribidi at run time, else BASIC: the
    glyphs of "2026-11-23 09:31" landed up to 5 px apart on x86 (libfribidi) and on the Pi's
    arm64 root (none). The bytes must be the same with and without Raqm."""
    from PIL import ImageFont

    from drivers.printer import ticket_layout

    def image_bytes():
        ticket_layout._font.cache_clear()
        ticket_layout._raster_line.cache_clear()
        return ticket_bytes(ticket_job, LayoutOptions(paper_mm=58, text_mode="image", qr_url=QR))

    as_found = image_bytes()
    monkeypatch.setattr(ImageFont.core, "HAVE_RAQM", False)
    without_raqm = image_bytes()
    monkeypatch.undo()
    ticket_layout._font.cache_clear()
    ticket_layout._raster_line.cache_clear()
    assert as_found == without_raqm
    assert ticket_layout._font(ticket_layout.DEFAULT_FONT, 24).layout_engine == ImageFont.Layout.BASIC
