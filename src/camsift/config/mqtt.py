"""``mqtt``: events, counts, snapshots and motion for Home Assistant and friends."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, model_validator

from camsift.config.base import ConfigModel, Port, Seconds

__all__ = ["MqttConfig"]


class MqttConfig(ConfigModel):
    """MQTT for Home Assistant and friends, in Frigate's topic layout, with Home Assistant discovery."""

    enabled: bool = Field(False, description="Publish events, counts, snapshots and motion to an MQTT broker")
    host: str = Field("127.0.0.1", description="Broker address")
    port: Port = Field(1883, description="Broker port (8883 usually for TLS)")
    username: str | None = Field(None, description="User name at the broker")
    password: SecretStr | None = Field(
        None, description="Password at the broker; never logged (prefer CAMSIFT_MQTT__PASSWORD)"
    )
    tls: bool = Field(False, description="Connect with TLS")
    ca_file: Path | None = Field(None, description="CA certificate (PEM) of the broker; default: the system's")
    cert_file: Path | None = Field(None, description="Client certificate (PEM), for brokers that ask for one")
    key_file: Path | None = Field(None, description="Key of the client certificate (PEM)")
    tls_insecure: bool = Field(False, description="Do not check the broker's host name (self-signed test brokers)")
    client_id: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="MQTT client id; it must be unique on the broker (a second client with the same id disconnects "
        "the first). Default: camsift-<host name>-<process id>-<random>, unique per publisher",
    )
    topic_prefix: str = Field(
        "camsift", pattern=r"^[^#+\s]+[^#+\s/]$", description="First level of every topic ('camsift/events' …)"
    )
    discovery: bool = Field(True, description="Publish Home Assistant discovery configs (retained)")
    discovery_prefix: str = Field("homeassistant", description="Home Assistant's discovery prefix")
    off_delay_s: Seconds = Field(
        30.0,
        description="Object counts (the objects in view together in the newest footage) fall back to 0 this many "
        "seconds after it was stored; so does motion of cameras without a live stream (a live stream's motion "
        "follows its motion gate: motion.mqtt_off_delay_s)",
    )
    stats_interval_s: Seconds = Field(
        60.0, description="Seconds between the stats published on <topic_prefix>/stats (Frigate's stats_interval)"
    )
    keepalive_s: int = Field(30, ge=5, description="MQTT keep-alive; the broker declares camsift offline after 1.5x")

    @model_validator(mode="after")
    def _key_with_cert(self) -> MqttConfig:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together")
        return self

    def tls_files(self) -> dict[str, Path]:
        """The TLS files the client reads when it connects, by key (``ca_file`` …); none unless enabled with TLS."""
        if not (self.enabled and self.tls):
            return {}
        given = {"ca_file": self.ca_file, "cert_file": self.cert_file, "key_file": self.key_file}
        return {key: path for key, path in given.items() if path is not None}
