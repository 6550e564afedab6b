"""``web``: the web app (review, clips, faces, cameras, API)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from camsift.config.base import ConfigModel, Port, Seconds

__all__ = ["WebConfig"]


class WebConfig(ConfigModel):
    """The web app (``camsift serve``, or inside ``camsift run`` when enabled): review, clips, faces, cameras, API.

    Everything but ``/api/health`` needs a login (``camsift users add``). It listens on
    127.0.0.1 by default: to reach it from elsewhere, put a TLS reverse proxy in front
    (README, "Web app behind a reverse proxy") rather than listening on the LAN in clear.
    """

    enabled: bool = Field(False, description="Serve the web app inside 'camsift run'")
    host: str = Field("127.0.0.1", description="Address to listen on (127.0.0.1: this machine only)")
    port: Port = Field(5000, description="Port to listen on")
    session_hours: float = Field(168.0, gt=0, description="Hours a login lasts")
    cookie_secure: bool | Literal["auto"] = Field(
        "auto",
        description="Mark the session cookie Secure (sent over HTTPS only). 'auto': when the request came over "
        "HTTPS (through a proxy: see forwarded_allow_ips) or to this machine (127.0.0.1, localhost)",
    )
    forwarded_allow_ips: list[str] = Field(
        default_factory=list,
        description="Addresses of reverse proxies whose X-Forwarded-For/-Proto headers are trusted "
        "(e.g. ['127.0.0.1']); empty: no proxy headers are trusted",
    )
    login_attempts: int = Field(
        5, ge=1, description="Failed logins allowed per client address and per user name in login_window_s"
    )
    login_window_s: Seconds = Field(300.0, description="Seconds over which failed logins are counted")
    alert_labels: list[str] = Field(
        default_factory=lambda: ["person", "car"],
        description="Labels that make a review item an alert rather than a detection (Frigate's review.alerts.labels)",
    )
    ai_api: bool = Field(
        False, description="Also serve the DeepStack-compatible detection API (POST /v1/vision/detection)"
    )
    unauthenticated_port: Port | None = Field(
        None,
        description="A second port where every request is let in without a login, as Frigate's internal port "
        "5000, for Frigate clients on this machine that cannot log in. RISK: any program on this machine (and any "
        "web page a browser here opens, for reading) gets the whole API; off (null) by default",
    )
    unauthenticated_host: str = Field(
        "127.0.0.1", description="Address of unauthenticated_port (keep it 127.0.0.1: this machine only)"
    )
