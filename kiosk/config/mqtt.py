"""The `[mqtt]` section: the connection to HQ (validated strictly, `kiosk.config.strict`)."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from kiosk.config.strict import StrictModel
from kiosk.config.text import PrintableText

LOCAL_BROKER = "mqtt://127.0.0.1:1883"  # a broker on this machine: the default of the kiosk and of HQ


class MqttTls(StrictModel):
    ca_file: str | None = Field(None, description="CA bundle that signed the broker's certificate")
    cert_file: str | None = Field(None, description="client certificate (mutual TLS)")
    key_file: str | None = Field(None, description="client private key")
    insecure: bool = Field(False, description="skip host-name checking (test benches only)")


class MqttConfig(StrictModel):
    enabled: bool = Field(False, description="false: run offline, keep the outbox")
    url: PrintableText = Field(LOCAL_BROKER, description="mqtt://host:port or mqtts://host:port (shown in the status)")
    topic_prefix: str = Field("kiosk", pattern=r"^[A-Za-z0-9_/-]{1,64}$")
    client_id: str | None = Field(None, description="default: kiosk-<branch id>")
    protocol: Literal["auto", "5", "3.1.1"] = Field("auto", description="auto: MQTT 5, falling back to 3.1.1")
    keepalive_s: int = Field(30, ge=5, le=3600)
    username: str | None = None
    password_file: str | None = Field(None, description="file holding the password; readable by the service user only")
    tls: MqttTls | None = None
    reconnect_min_s: float = Field(1.0, gt=0, le=60)
    reconnect_max_s: float = Field(60.0, gt=0, le=3600)
    queue_min_interval_s: float = Field(1.0, ge=0, le=60, description="rate limit of queue snapshots on change")
    queue_period_s: float = Field(60.0, gt=0, le=3600, description="a queue snapshot at least this often")
    follow_min_interval_s: float = Field(0.3, ge=0, le=60,
                                         description="rate limit of the phones' follow message on change")
    follow_period_s: float = Field(30.0, gt=0, le=3600, description="the follow message at least this often")
    commands_enabled: bool = Field(True, description="accept HQ commands on cmd/{name}")
    max_command_bytes: int = Field(4096, ge=64, le=65536)
    max_inflight: int = Field(500, ge=1, le=65535, description="outbox events published and not yet acknowledged")
    stats_hourly: bool = Field(True, description="publish stats/hourly when each hour closes")

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not v.startswith(("mqtt://", "mqtts://", "tcp://", "ssl://")):
            raise ValueError("must start with mqtt:// or mqtts://")
        return v

    @model_validator(mode="after")
    def _backoff(self) -> MqttConfig:
        if self.reconnect_min_s > self.reconnect_max_s:
            raise ValueError("reconnect_min_s must not be above reconnect_max_s")
        return self
