"""The ticket as a QR code for the floor guide's tablet (a PNG ``data:`` URL), when the customer
takes it on their phone instead of on paper: the printer's QR template (`[hardware.printer]
qr_url`) filled in, or the ticket number alone when the hall has none."""
from __future__ import annotations

import base64
import io
import string

import qrcode

from kiosk.config.settings import Settings


def qr_text(settings: Settings, ticket: str, ticket_id: int, service: str, day: str) -> str:
    template = settings.hardware.printer.qr_url
    if not template:
        return ticket
    fields = _Blank(branch=settings.branch.id, ticket=ticket, ticket_id=ticket_id, service=service, day=day)
    return string.Formatter().vformat(template, (), fields)


class _Blank(dict):
    """An unknown placeholder of the template is left empty (as on the printed ticket)."""

    def __missing__(self, key: str) -> str:
        return ""


def qr_data_url(settings: Settings, ticket: str, ticket_id: int, service: str, day: str) -> str:
    qr = qrcode.QRCode(box_size=8, border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(qr_text(settings, ticket, ticket_id, service, day))
    qr.make(fit=True)
    buf = io.BytesIO()
    qr.make_image().save(buf)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
