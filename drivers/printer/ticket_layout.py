"""Ticket layout, pure: a job becomes a list of layout elements, then ESC/POS bytes or a PIL image.

The same element list feeds the real printer (:func:`encode_escpos`) and the virtual printer
(:func:`render_image`), so what the demo shows is what the printer gets. Nothing here touches
a device; fonts are loaded lazily (never at import) and cached.
"""

from __future__ import annotations

import functools
import logging
import string
from dataclasses import dataclass
from typing import Optional, Sequence, Union

from drivers.printer.escpos_cache import prepare as prepare_escpos
from drivers.jobs import Text, TicketPrintJob, pick
from drivers.printer.phrases import ahead_text, estimate_text, nearby_text, phrase

log = logging.getLogger(__name__)

DEFAULT_FONT = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
PROFILE_FOR_PAPER = {58: "POS-5890", 80: "TM-T20II"}
FS_CHINESE_ON = b"\x1c&"
FS_CHINESE_OFF = b"\x1c."
LINE_PX = 24  # height of ESC/POS font A, in dots
CHAR_PX = 12  # width of font A, in dots


# -- elements ----------------------------------------------------------------------------
@dataclass(frozen=True)
class TextLine:
    text: str
    size: int = 1  # 1 normal, 2 double width and height
    bold: bool = False
    align: str = "center"


@dataclass(frozen=True)
class BigNumber:
    text: str


@dataclass(frozen=True)
class Logo:
    path: str


@dataclass(frozen=True)
class QrCode:
    data: str


@dataclass(frozen=True)
class Rule:
    pass


@dataclass(frozen=True)
class Feed:
    lines: int = 1


Element = Union[TextLine, BigNumber, Logo, QrCode, Rule, Feed]


@dataclass(frozen=True)
class LayoutOptions:
    """How tickets look on one printer.

    ``text_mode``: ``"gb18030"`` sends non-ASCII lines as GB18030 inside the printer's
    Chinese mode (``FS &`` ... ``FS .``); ``"image"`` renders them with ``font_path`` to a
    raster image (works on any printer, ~10x the bytes).
    """

    paper_mm: int = 80
    profile: Optional[str] = None
    text_mode: str = "gb18030"
    font_path: str = DEFAULT_FONT
    logo: Optional[str] = None
    qr_url: str = ""
    footer: Optional[Text] = None
    qr_size: int = 6
    cut: bool = True
    branch_id: str = ""

    def __post_init__(self) -> None:
        if self.paper_mm not in PROFILE_FOR_PAPER:
            raise ValueError(f"paper_mm must be 58 or 80, not {self.paper_mm!r}")
        if self.text_mode not in ("gb18030", "image"):
            raise ValueError(f"text_mode must be 'gb18030' or 'image', not {self.text_mode!r}")
        if not 1 <= self.qr_size <= 16:
            raise ValueError("qr_size must be 1..16")

    @property
    def profile_name(self) -> str:
        return self.profile or PROFILE_FOR_PAPER[self.paper_mm]

    @property
    def width_px(self) -> int:
        return profile_width_px(self.profile_name)

    @property
    def columns(self) -> int:
        return self.width_px // CHAR_PX


@functools.lru_cache(maxsize=16)
def profile_width_px(profile: str) -> int:
    """Printable width of an escpos profile; a profile without a width is refused."""
    prepare_escpos()  # before escpos reads its capabilities
    from escpos.capabilities import get_profile

    try:
        pixels = get_profile(profile).profile_data["media"]["width"]["pixels"]
        return int(pixels)
    except (KeyError, ValueError, TypeError):
        raise ValueError(f"printer profile {profile!r} has no paper width in pixels; "
                         "choose one that has (e.g. POS-5890, TM-T20II)") from None


# -- job -> elements ---------------------------------------------------------------------
class _SafeDict(dict):
    def __missing__(self, key: str) -> str:
        return ""


def qr_data(job: TicketPrintJob, template: str) -> str:
    """The URL to encode: the job's own, else the template filled from the job."""
    if job.qr_url:
        return job.qr_url
    if not template:
        return ""
    fields = _SafeDict(
        branch=job.branch_id, ticket=job.number, ticket_id="" if job.ticket_id is None else job.ticket_id,
        service=job.service or job.number.rstrip(string.digits),
        day=job.issued_at.date().isoformat() if job.issued_at else "",
    )
    return string.Formatter().vformat(template, (), fields)


def layout_ticket(job: TicketPrintJob, opts: LayoutOptions) -> list[Element]:
    """The ticket as a list of elements, top to bottom."""
    langs = tuple(job.languages) or ("en",)
    out: list[Element] = []
    if opts.logo:
        out.append(Logo(opts.logo))
    branches = _distinct(pick(job.branch_name, lang) for lang in langs)
    for name in branches:
        out.append(TextLine(name, bold=True))
    if branches:
        out.append(Rule())
    for i, name in enumerate(_distinct(pick(job.service_names, lang) for lang in langs)):
        out.append(TextLine(name, size=2 if i == 0 else 1, bold=i == 0))
    tier = " ".join(_distinct(pick(job.tier_name, lang) for lang in langs))
    if tier:
        out.append(TextLine(tier, bold=True))
    out.append(Feed(1))
    out.append(BigNumber(job.number))
    out.append(Feed(1))
    if job.ahead is not None:
        for lang in langs:
            out.append(TextLine(ahead_text(lang, job.ahead)))
    for lang in langs:
        text = (job.estimate_text or {}).get(lang) or estimate_text(lang, job.estimate_s)
        if text:
            out.append(TextLine(text))
    if job.issued_at is not None:
        stamp = job.issued_at.strftime("%Y-%m-%d %H:%M")
        out.append(TextLine(phrase(langs[0], "issued", t=stamp)))
    hints = _distinct(pick(job.self_service, lang) for lang in langs)
    if hints:
        out.append(Rule())
        out.extend(TextLine(text) for text in hints)
    out.extend(_nearby_lines(job, langs, rule=not hints))
    if job.reprint:
        out.append(TextLine(" / ".join(_distinct(phrase(l, "reprint") for l in langs)), bold=True))
    data = qr_data(job, opts.qr_url)
    if data:
        out.append(Feed(1))
        out.append(QrCode(data))
        out.append(TextLine(phrase(langs[0], "scan")))
    footer = job.footer if job.footer is not None else opts.footer
    lines = _distinct(pick(job.quiet_hours, lang) for lang in langs) + _distinct(pick(footer, lang) for lang in langs)
    if lines:
        out.append(Rule())
        out.extend(TextLine(text) for text in lines)
    out.append(Feed(3))
    return out


def _nearby_lines(job: TicketPrintJob, langs: Sequence[str], *, rule: bool) -> list[Element]:
    """The nearby branches, in each of the ticket's languages: a heading, then one line each."""
    if not job.nearby:
        return []
    out: list[Element] = [Rule()] if rule else []
    for lang in langs:
        out.append(TextLine(phrase(lang, "nearby"), bold=True))
        out.extend(TextLine(nearby_text(lang, pick(b.name, lang), b.km, b.waiting)) for b in job.nearby)
    return out


def _distinct(texts) -> list[str]:
    seen: list[str] = []
    for t in texts:
        if t and t not in seen:
            seen.append(t)
    return seen


# -- elements -> ESC/POS -----------------------------------------------------------------
def big_number_scale(text: str, opts: LayoutOptions) -> int:
    cap = 6 if opts.paper_mm == 58 else 8
    return max(1, min(cap, opts.width_px // (CHAR_PX * max(1, len(text)))))


def encode_escpos(elements: Sequence[Element], opts: LayoutOptions) -> bytes:
    """ESC/POS bytes for the elements (python-escpos builds every command)."""
    prepare_escpos()  # before escpos reads its capabilities
    from escpos.printer import Dummy

    p = Dummy(profile=opts.profile_name)
    p._raw(b"\x1b@")  # ESC @: initialise
    for el in elements:
        if isinstance(el, TextLine):
            p.set(align=el.align, bold=el.bold, custom_size=True, width=el.size, height=el.size)
            if el.text.isascii():
                p._raw(el.text.encode("ascii") + b"\n")
            elif opts.text_mode == "gb18030":
                p._raw(FS_CHINESE_ON + el.text.encode("gb18030", "replace") + FS_CHINESE_OFF + b"\n")
            else:
                p.set(align="left")
                p._raw(_raster_line(el, opts.font_path, opts.width_px, opts.profile_name))
        elif isinstance(el, BigNumber):
            k = big_number_scale(el.text, opts)
            p.set(align="center", bold=True, custom_size=True, width=k, height=k)
            p._raw(el.text.encode("ascii", "replace") + b"\n")
        elif isinstance(el, QrCode):
            p.set(align="center", bold=False, custom_size=True, width=1, height=1)
            p.qr(el.data, native=True, size=opts.qr_size)
            p._raw(b"\n")
        elif isinstance(el, Rule):
            p.set(align="left", bold=False, custom_size=True, width=1, height=1)
            p._raw(b"-" * opts.columns + b"\n")
        elif isinstance(el, Feed):
            p._raw(b"\n" * el.lines)
        elif isinstance(el, Logo):
            img = _load_logo(el.path, opts.width_px)
            if img is not None:
                p.set(align="left")
                p.image(img, impl="bitImageRaster")
    p.set(align="left", bold=False, custom_size=True, width=1, height=1)
    if opts.cut:
        p._raw(b"\x1dV\x42\x00")  # GS V 66 0: feed to the cutter and cut (partial)
    return p.output


# -- elements -> image -------------------------------------------------------------------
@functools.lru_cache(maxsize=32)
def _font(path: str, size: int):
    """The font with Pillow's BASIC layout, always: by default Pillow picks Raqm when it can
    load libfribidi at run time (fractional HarfBuzz advances) and BASIC otherwise (hinted whole
    pixels), so the same wheel placed glyphs up to 5 px apart on a host with libfribidi (x86)
    and on one without (the Pi's arm64 root). BASIC is in every build; tickets need no bidi."""
    from PIL import ImageFont

    try:
        return ImageFont.truetype(path, size, layout_engine=ImageFont.Layout.BASIC)
    except OSError:
        log.error("font %s not found: Chinese text will not render", path)
        return ImageFont.load_default(size)


@functools.lru_cache(maxsize=8)
def _load_logo_cached(path: str, width: int):
    from PIL import Image, ImageOps

    try:
        with Image.open(path) as im:
            im = ImageOps.exif_transpose(im).convert("L")
    except (OSError, ValueError) as exc:
        log.error("logo %s cannot be read: %s", path, exc)
        return None
    if im.width > width:
        im = im.resize((width, max(1, im.height * width // im.width)))
    canvas = Image.new("L", (width, im.height), 255)
    canvas.paste(im, ((width - im.width) // 2, 0))
    return canvas.convert("1")


def _load_logo(path: str, width: int):
    return _load_logo_cached(path, width)


def _text_block(text: str, px: int, opts: LayoutOptions, align: str, bold: bool):
    """Text drawn across the full paper width, wrapped to fit. Returns an 'L' image."""
    from PIL import Image, ImageDraw

    font = _font(opts.font_path, px)
    width = opts.width_px
    stroke = 1 if bold else 0
    lines = _wrap(text, font, width)
    height = int(px * 1.25)
    img = Image.new("L", (width, height * len(lines)), 255)
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(lines):
        w = draw.textlength(line, font=font) + 2 * stroke
        x = {"left": 0, "right": width - w}.get(align, (width - w) / 2)
        draw.text((max(0, x), i * height + (height - px) / 2), line, font=font, fill=0,
                  stroke_width=stroke, stroke_fill=0)
    return img


def _wrap(text: str, font, width: int) -> list[str]:
    """Lines that fit `width`: broken at the last space when the line has one (words stay whole:
    "14:00–15:00"), else between any two characters (Chinese)."""
    lines, current = [], ""
    for ch in text:
        if current and font.getlength(current + ch) > width:
            cut = current.rfind(" ")
            if cut > 0 and not ch.isspace():
                lines.append(current[:cut])
                current = current[cut + 1:] + ch
            else:
                lines.append(current)
                current = ch.lstrip()
        else:
            current += ch
    return lines + [current] if current or not lines else lines


@functools.lru_cache(maxsize=256)
def _raster_line(line: TextLine, font_path: str, width_px: int, profile: str) -> bytes:
    """``GS v 0`` bytes of one text line; cached, as most lines repeat from ticket to ticket
    (branch, service, captions, footer) and rasterising is the costly part of image mode."""
    prepare_escpos()  # before escpos reads its capabilities
    from escpos.printer import Dummy

    opts = LayoutOptions(profile=profile, text_mode="image", font_path=font_path)
    assert opts.width_px == width_px
    p = Dummy(profile=profile)
    p.image(render_text_image(line, opts), impl="bitImageRaster")
    return p.output


def render_text_image(line: TextLine, opts: LayoutOptions):
    """One text line as a 1-bit image the width of the paper (image text mode)."""
    from PIL import Image

    img = _text_block(line.text, LINE_PX * line.size, opts, line.align, line.bold)
    return img.convert("1", dither=Image.Dither.NONE)  # a clean threshold, no dither noise


def render_image(elements: Sequence[Element], opts: LayoutOptions):
    """The whole ticket as a greyscale PIL image (what the virtual printer saves)."""
    from PIL import Image, ImageDraw

    width = opts.width_px
    parts = []
    for el in elements:
        if isinstance(el, TextLine):
            parts.append(_text_block(el.text, LINE_PX * el.size, opts, el.align, el.bold))
        elif isinstance(el, BigNumber):
            k = big_number_scale(el.text, opts)
            parts.append(_text_block(el.text, LINE_PX * k, opts, "center", True))
        elif isinstance(el, QrCode):
            parts.append(_qr_image(el.data, opts))
        elif isinstance(el, Rule):
            img = Image.new("L", (width, LINE_PX), 255)
            ImageDraw.Draw(img).line((0, LINE_PX // 2, width, LINE_PX // 2), fill=0, width=2)
            parts.append(img)
        elif isinstance(el, Feed):
            parts.append(Image.new("L", (width, LINE_PX * el.lines), 255))
        elif isinstance(el, Logo):
            logo = _load_logo(el.path, width)
            if logo is not None:
                parts.append(logo.convert("L"))
    total = sum(p.height for p in parts)
    ticket = Image.new("L", (width, total), 255)
    y = 0
    for part in parts:
        ticket.paste(part, (0, y))
        y += part.height
    return ticket


def _qr_image(data: str, opts: LayoutOptions):
    import qrcode
    from PIL import Image

    qr = qrcode.QRCode(box_size=opts.qr_size, border=2,
                       error_correction=qrcode.constants.ERROR_CORRECT_L)
    qr.add_data(data)
    qr.make(fit=True)
    img = qr.make_image().get_image().convert("L")
    if img.width > opts.width_px:
        img = img.resize((opts.width_px, opts.width_px))
    canvas = Image.new("L", (opts.width_px, img.height), 255)
    canvas.paste(img, ((opts.width_px - img.width) // 2, 0))
    return canvas


def ticket_bytes(job: TicketPrintJob, opts: LayoutOptions) -> bytes:
    return encode_escpos(layout_ticket(job, opts), opts)


def ticket_image(job: TicketPrintJob, opts: LayoutOptions):
    return render_image(layout_ticket(job, opts), opts)
