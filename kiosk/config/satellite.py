"""The `[satellite]` section: this machine is a second ticket machine of a hall whose queue is kept
by the main kiosk; it issues through the main kiosk's hall web app API with a device token
(`kiosk run --satellite URL --device-token-file FILE` overrides)."""
from __future__ import annotations

from pydantic import Field

from kiosk.config.strict import StrictModel


class SatelliteConfig(StrictModel):
    main_url: str | None = Field(None, pattern=r"^https?://[0-9A-Za-z.:\[\]-]{1,128}(/[^\s]*)?$",
                                 description="the main kiosk's hall web app, e.g. http://10.0.0.2:8090; "
                                             "set: this machine is a satellite")
    token_file: str | None = Field(None, description="file holding this machine's device token (mode 600); "
                                                     "the main kiosk's [[lan.device_tokens]] has its SHA-256")
    ca_file: str | None = Field(None, description="PEM CA certificate that signed the main kiosk's TLS certificate")
    timeout_s: float = Field(3.0, gt=0, le=3.0, description="an answer of the main kiosk takes at most this long")
    retry_s: float = Field(2.0, ge=0.2, le=60, description="how often an unreachable main kiosk is tried again")
