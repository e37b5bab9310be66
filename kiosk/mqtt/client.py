"""The MQTT client setup shared by the kiosk and the HQ server: broker URLs, password
files, TLS files, and a configured (not yet connected) paho client.

Imports only paho, the standard library, `kiosk.config` and `kiosk.domain`, so HQ can use
it without pulling in anything of the running kiosk.
"""
from __future__ import annotations

import os
import ssl
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from kiosk.config.mqtt import MqttTls
from kiosk.domain.errors import KioskError


class TelemetryError(KioskError):
    """MQTT cannot be set up as configured (names the key)."""


@dataclass(frozen=True)
class BrokerUrl:
    host: str
    port: int
    tls: bool
    username: str | None = None

    def __str__(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


def parse_url(url: str) -> BrokerUrl:
    """``mqtt://host[:1883]``, ``mqtts://host[:8883]`` (``tcp://``/``ssl://`` too), optional
    ``user@``. A password in the URL is refused: it belongs in ``mqtt.password_file``."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TelemetryError(f"mqtt.url: {url!r} is not a broker URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
        raise TelemetryError(f"mqtt.url: {url!r} must start with mqtt:// or mqtts://")
    if not parts.hostname:
        raise TelemetryError(f"mqtt.url: {url!r} names no host")
    if parts.password:
        raise TelemetryError("mqtt.url: do not put a password in the URL; use mqtt.password_file")
    tls = scheme in ("mqtts", "ssl")
    return BrokerUrl(parts.hostname, port or (8883 if tls else 1883), tls,
                     unquote(parts.username) if parts.username else None)


def read_password(path: str | os.PathLike) -> str:
    """The password in `path` (first line). Refused if group or others may read the file."""
    p = Path(path)
    try:
        st = p.stat()
    except OSError as exc:
        raise TelemetryError(f"mqtt.password_file: cannot read {p}: {exc.strerror or exc}") from None
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise TelemetryError(f"mqtt.password_file: {p} is accessible by group or others "
                             f"(mode {stat.S_IMODE(st.st_mode):04o}); run: chmod 600 {p}")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TelemetryError(f"mqtt.password_file: cannot read {p}: {exc}") from None
    lines = text.splitlines()
    if not lines or not lines[0]:
        raise TelemetryError(f"mqtt.password_file: {p} is empty")
    return lines[0]


def check_tls(tls: MqttTls | None) -> None:
    """Refuse TLS settings naming a file that does not exist, or a certificate without its key."""
    if tls is None:
        return
    for key in ("ca_file", "cert_file", "key_file"):
        f = getattr(tls, key)
        if f is not None and not Path(f).is_file():
            raise TelemetryError(f"mqtt.tls.{key}: no such file {f}")
    if (tls.cert_file is None) != (tls.key_file is None):
        raise TelemetryError("mqtt.tls: cert_file and key_file go together")


def protocol_of(name: str) -> MQTTProtocolVersion:
    """``"3.1.1"`` → MQTT 3.1.1; anything else (``"5"``, ``"auto"``) → MQTT 5."""
    return mqtt.MQTTv311 if name == "3.1.1" else mqtt.MQTTv5


def make_client(client_id: str, protocol: MQTTProtocolVersion, broker: BrokerUrl, *,
                tls: MqttTls | None = None, username: str | None = None, password: str | None = None,
                max_inflight: int = 20, clean_session: bool = True,
                client_class: type[mqtt.Client] = mqtt.Client) -> mqtt.Client:
    """A paho client (callback API 2) with TLS and credentials set, not yet connected."""
    kwargs: dict[str, Any] = {"callback_api_version": CallbackAPIVersion.VERSION2, "client_id": client_id,
                              "protocol": protocol}
    if protocol != mqtt.MQTTv5:
        kwargs["clean_session"] = clean_session
    client = client_class(**kwargs)
    client.max_inflight_messages_set(max_inflight)
    client.max_queued_messages_set(0)
    if broker.tls or tls is not None:
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH,
                                         cafile=tls.ca_file if tls and tls.ca_file else None)
        if tls and tls.cert_file:
            ctx.load_cert_chain(tls.cert_file, tls.key_file)
        if tls and tls.insecure:
            ctx.check_hostname = False
        client.tls_set_context(ctx)
    user = username or broker.username
    if user:
        client.username_pw_set(user, password)
    return client


__all__ = ["BrokerUrl", "TelemetryError", "check_tls", "make_client", "parse_url", "protocol_of", "read_password"]
