"""The operator's notification settings, checked at start: the VAPID key file (a P-256
private key in PEM, e.g. from py-vapid's ``vapid --gen``), the VAPID subject (``mailto:`` or an
https URL, sent to push services as the contact) and the webhook URL."""
from __future__ import annotations

import base64
import re
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid

_SUBJECT_RE = re.compile(r"mailto:[^@\s/]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}|https://[A-Za-z0-9.-]+(:[0-9]+)?/?")


class NotifyConfigError(ValueError):
    """A notification option that cannot be used; the message names it."""


def load_vapid(path: str) -> Vapid:
    """The VAPID key in `path` (PEM); `NotifyConfigError` if it is missing or not a P-256 key."""
    p = Path(path)
    if not p.is_file():
        raise NotifyConfigError(f"--vapid-key: no such file {path} (make one with `vapid --gen`)")
    try:
        vapid = Vapid.from_pem(p.read_bytes())
    except (ValueError, TypeError) as exc:
        raise NotifyConfigError(f"--vapid-key: {path} is not a PEM private key ({type(exc).__name__})") from None
    key = vapid.private_key
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise NotifyConfigError(f"--vapid-key: {path} is not a P-256 (prime256v1) EC key")
    return vapid


def public_key_b64(vapid: Vapid) -> str:
    """The VAPID public key as the browser's `applicationServerKey` wants it (base64url, no padding)."""
    raw = vapid.public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def check_subject(subject: str) -> str:
    if not _SUBJECT_RE.fullmatch(subject):
        raise NotifyConfigError(f"--vapid-subject: {subject!r} is not a mailto: address or an https:// URL")
    return subject


def check_webhook_url(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise NotifyConfigError("--notify-webhook is not an http(s) URL with a host")
    return url


__all__ = ["NotifyConfigError", "check_subject", "check_webhook_url", "load_vapid", "public_key_b64"]
