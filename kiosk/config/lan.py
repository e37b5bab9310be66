"""The `[lan]` section: the hall web app served by the kiosk on the hall network (validated strictly,
`kiosk.config.strict`). Off by default; `kiosk run --lan HOST:PORT` turns it on, `--simulate` too."""
from __future__ import annotations

from pydantic import Field, model_validator

from kiosk.config.strict import StrictModel


class DeviceToken(StrictModel):
    """A satellite ticket machine or a screen that may issue tickets through the API. Only the
    SHA-256 of its token is kept here (`printf %s TOKEN | sha256sum`); removing the entry revokes it."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,32}$", description="shown in the log of what it did")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="hex SHA-256 of the token (at least 128 random bits)")


class LanConfig(StrictModel):
    enabled: bool = Field(False, description="serve the counter caller and the floor guide on the hall network")
    bind: str = Field("0.0.0.0", pattern=r"^[0-9A-Za-z.:-]{1,64}$", description="address to listen on")
    port: int = Field(8090, ge=1, le=65535)
    tls_cert: str | None = Field(None, description="PEM certificate: serve HTTPS (with tls_key)")
    tls_key: str | None = Field(None, description="PEM private key of tls_cert")
    session_hours: float = Field(12.0, gt=0, le=24, description="a signed-in clerk's token expires after this")
    device_tokens: list[DeviceToken] = Field(default_factory=list, max_length=64)

    @model_validator(mode="after")
    def _checks(self) -> LanConfig:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together: give both or neither")
        names = [d.name for d in self.device_tokens]
        for i, n in enumerate(names):
            if n in names[:i]:
                raise ValueError(f"device_tokens: duplicate name {n!r}")
        return self
