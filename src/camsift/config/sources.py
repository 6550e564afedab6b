"""``sources``: where footage comes from for ``camsift run`` (folders, FTP uploads, live streams, Blink)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from camsift.config.base import ConfigModel, Port, Seconds

__all__ = [
    "BlinkSourceConfig",
    "FolderSourceConfig",
    "FtpSourceConfig",
    "FtpUser",
    "SourceConfig",
    "StreamSourceConfig",
]


class FolderSourceConfig(ConfigModel):
    """A watched folder: a NAS/SMB share or USB drive a camera writes clips or pictures into."""

    type: Literal["folder"] = Field(description="Source kind")
    path: Path = Field(description="The folder to watch (its sub-folders too)")
    camera: str | None = Field(
        None, description="Camera of every file here; default: the camera whose 'paths' match, else the folder name"
    )
    settle_s: Seconds = Field(
        2.0,
        description="A file is taken once its size and mtime have not changed for this many seconds "
        "(so half-written uploads are never analysed)",
    )
    poll: bool = Field(
        False, description="Poll instead of inotify: needed for network mounts (SMB/NFS) where inotify sees nothing"
    )
    delete_after: bool = Field(False, description="Delete each file once it has been analysed and recorded")
    move_to: Path | None = Field(None, description="Move each file here once analysed (keeps sub-folders)")

    @model_validator(mode="after")
    def _one_action(self) -> FolderSourceConfig:
        if self.delete_after and self.move_to is not None:
            raise ValueError("choose delete_after or move_to, not both")
        if self.move_to is not None:  # lexically (validation reads no disk); the source checks links at start
            moved, watched = (Path(os.path.abspath(p.expanduser())) for p in (self.move_to, self.path))
            if moved.is_relative_to(watched):
                raise ValueError(f"move_to {self.move_to} is inside the watched folder {self.path}")
        return self


class FtpUser(ConfigModel):
    """One FTP account; its name is the camera name."""

    password_hash: str = Field(
        pattern=r"^\$argon2(id|i|d)\$",
        description="Argon2 hash of the password, made by 'camsift ftp passwd USER' (never the password itself)",
    )


class FtpSourceConfig(ConfigModel):
    """An FTP server that cameras upload motion snapshots and clips to (one user per camera)."""

    type: Literal["ftp"] = Field(description="Source kind")
    host: str = Field("0.0.0.0", description="Address to listen on")  # noqa: S104 - cameras are on the LAN
    port: Port = Field(2121, description="Control port (21 needs root; cameras accept any)")
    root: Path | None = Field(None, description="Uploads land in <root>/<user>/; default: <data_dir>/ftp")
    users: dict[str, FtpUser] = Field(
        default_factory=dict, description="Accounts by user name; the user name is the camera name"
    )
    passive_ports: tuple[int, int] | None = Field(
        None, description="[first, last] port range for passive data connections (open them in a firewall)"
    )
    masquerade_address: str | None = Field(
        None, description="Address announced for passive connections when behind NAT"
    )
    max_size_mb: float = Field(200.0, gt=0, description="Largest upload in MB; a bigger one is aborted and deleted")
    max_connections: int = Field(32, ge=1, description="Simultaneous connections")
    max_connections_per_address: int = Field(
        8, ge=1, description="Simultaneous connections from one address (more are refused with 421)"
    )
    login_timeout_s: Seconds = Field(30.0, description="Seconds a connection may stay without logging in")
    idle_timeout_s: Seconds = Field(120.0, description="Seconds a logged-in connection may stay idle")
    ban_after_failures: int = Field(
        5, ge=0, description="Failed logins from one address within ban_s that ban it (0: never ban)"
    )
    ban_s: Seconds = Field(900.0, description="Seconds an address is banned for, and over which failures count")
    remove_files: bool = Field(False, description="Delete each upload once it has been analysed and recorded")

    @field_validator("passive_ports")
    @classmethod
    def _port_range(cls, v: tuple[int, int] | None) -> tuple[int, int] | None:
        if v is not None and not 1024 <= v[0] <= v[1] <= 65535:
            raise ValueError(f"expected [first, last] with 1024 <= first <= last <= 65535, got {list(v)}")
        return v


class StreamSourceConfig(ConfigModel):
    """A live stream (RTSP, HTTP, MPEG-TS over TCP: anything FFmpeg opens) recorded around events."""

    type: Literal["stream"] = Field(description="Source kind")
    url: str = Field(description="Stream address, e.g. rtsp://192.168.1.20:554/stream1 (better without a password)")
    camera: str | None = Field(None, description="Camera name; default: the source's name")
    username: str | None = Field(None, description="User name, put into the URL when connecting")
    password: SecretStr | None = Field(
        None, description="Password, put into the URL when connecting; never logged (prefer an environment variable)"
    )
    rtsp_transport: Literal["tcp", "udp"] = Field("tcp", description="RTSP transport (tcp survives packet loss)")
    timeout_s: Seconds = Field(10.0, description="Seconds without data after which the stream counts as dropped")
    reconnect_max_s: float = Field(
        30.0, ge=1, description="Longest wait between reconnection attempts (backoff doubles from 1 s)"
    )


class BlinkSourceConfig(ConfigModel):
    """Blink cameras through Blink's cloud (blinkpy): new motion clips downloaded and analysed, status, live view.

    Limits follow what Home Assistant's Blink integration and blinkpy use (a
    30 s refresh at the fastest, a pause between downloads): Blink suspends
    accounts that poll or bulk-download harder than its app does.
    """

    type: Literal["blink"] = Field(description="Source kind")
    token_file: Path | None = Field(
        None,
        description="Login token written by 'camsift blink login' (mode 0600); default: <data_dir>/blink/token.json. "
        "Re-read at every poll, so a new login takes effect without a restart",
    )
    poll_s: float = Field(60.0, ge=30, description="Seconds between polls of Blink's cloud (never below 30)")
    cameras: list[str] = Field(
        default_factory=list, description="Blink camera names whose clips are downloaded; empty = every camera"
    )
    local_storage: bool = Field(
        True, description="Also fetch clips from the Sync Module's USB stick (local storage), through its manifest"
    )
    request_delay_s: float = Field(
        2.0, ge=0.5, description="Pause in seconds between two clip downloads (Blink suspends bulk downloaders)"
    )
    max_clips_per_poll: int = Field(
        10, ge=1, description="Most clips downloaded in one poll; the rest wait for the next"
    )
    backfill_h: float = Field(
        24.0, ge=0, description="At the very first poll, clips of this many past hours are fetched (then only new ones)"
    )
    delete_empty: bool = Field(
        False, description="Delete a downloaded clip once its analysis found no event (default: keep every clip)"
    )
    live: list[str] = Field(
        default_factory=list,
        description="Blink camera names to keep a live view of (recorded around events like a 'stream' source). "
        "Each session lasts about 5 minutes and is reopened at once; this drains battery cameras",
    )
    live_reconnect_max_s: float = Field(
        300.0,
        ge=1,
        description="Longest wait before asking Blink for a live view again after a refusal or failure (backoff "
        "doubles from 1 s; a longer Retry-After is honoured); a session Blink ends is followed by the next at once",
    )


SourceConfig = Annotated[
    FolderSourceConfig | FtpSourceConfig | StreamSourceConfig | BlinkSourceConfig,
    Field(discriminator="type"),
]
"""One footage source; the ``type`` key picks the kind. New kinds join this union."""
