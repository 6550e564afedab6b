"""camsift's own types for what Blink reports: made from blinkpy's dicts and objects at the boundary, at once."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from camsift.layout import safe_name

__all__ = [
    "AccountStatus",
    "CameraStatus",
    "ClipListing",
    "RemoteClip",
    "SyncModuleStatus",
    "celsius",
    "parse_time",
    "safe_name",
    "wifi_reading",
]


def parse_time(value: object) -> datetime | None:
    """An ISO 8601 time from Blink as an aware UTC datetime; naive times are taken as UTC; junk gives ``None``."""
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def celsius(fahrenheit: object) -> float | None:
    """A Blink temperature (°F: Blink sends Fahrenheit whatever the app shows, blinkpy issue #60) in °C, 0.1° steps;
    ``None`` for no number."""
    if isinstance(fahrenheit, bool) or not isinstance(fahrenheit, int | float | str):
        return None
    try:
        return round((float(fahrenheit) - 32) * 5 / 9, 1)
    except ValueError:
        return None


def wifi_reading(value: object) -> tuple[int | None, Literal["bars", "dBm"] | None]:
    """A Wi-Fi reading and its unit: Blink sends bars (0-5) for most models and an RSSI in dBm (negative) for
    some (Minis); anything else keeps its number with no unit."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None, None
    try:
        number = int(float(value))
    except ValueError:
        return None, None
    if number < 0:
        return number, "dBm"
    return number, "bars" if number <= 5 else None


@dataclass(frozen=True)
class SyncModuleStatus:
    """One Blink network with its Sync Module (or a sync-less Mini/doorbell, which blinkpy models the same way).

    Attributes:
        name: Network name as the Blink app shows it.
        network_id: Blink's network id.
        sync_id: Sync Module id (``None`` if Blink did not say).
        serial: Sync Module serial number.
        online: The Sync Module is online.
        armed: The network is armed (``None``: Blink did not say).
        local_storage: Local storage (a USB stick in a Sync Module 2) is active.
        firmware: Firmware version.
    """

    name: str
    network_id: str
    sync_id: str | None
    serial: str | None
    online: bool
    armed: bool | None
    local_storage: bool
    firmware: str | None


@dataclass(frozen=True)
class CameraStatus:
    """One Blink camera.

    Attributes:
        name: Camera name as the Blink app shows it (``camera`` is its camsift name).
        camera: camsift camera name: `safe_name` of ``name``.
        camera_id: Blink's camera id.
        network: Name of its network.
        model: Blink's product type (``catalina`` = Blink Outdoor, ``owl`` = Mini, ``lotus`` = doorbell …).
        armed: Motion detection is enabled for this camera (``None``: unknown).
        online: Blink reports the camera online (``None``: unknown).
        battery: Battery state as Blink says it (``ok``, ``low``), ``None`` for wired cameras.
        battery_v: Battery voltage in volts, if reported.
        temperature_c: Temperature in °C (Blink reports °F, blinkpy issue #60; converted), ``None`` for models
            without a thermometer (Minis).
        wifi: Wi-Fi signal as Blink reports it for the model: bars (0-5) or an RSSI in dBm (see ``wifi_unit``).
        wifi_unit: ``bars`` or ``dBm`` (``None``: no reading, or one in neither range).
        sync_signal: Signal to the Sync Module (LFR, bars 1-5), if reported.
        last_motion_utc: Start of the camera's newest motion clip camsift has seen (in the first page of
            Blink's clip list, a clip listing, the local-storage manifest, or blinkpy's ``last_record``), if any.
    """

    name: str
    camera: str
    camera_id: str
    network: str
    model: str | None
    armed: bool | None
    online: bool | None
    battery: str | None
    battery_v: float | None
    temperature_c: float | None
    wifi: int | None
    wifi_unit: Literal["bars", "dBm"] | None
    sync_signal: int | None
    last_motion_utc: datetime | None

    @property
    def wifi_text(self) -> str:
        """The Wi-Fi reading with its unit (``4 bars``, ``-58 dBm``); empty with none."""
        if self.wifi is None:
            return ""
        return f"{self.wifi} {self.wifi_unit}" if self.wifi_unit else str(self.wifi)

    def summary(self) -> str:
        """One short line for the status board, e.g. ``Front_Door armed, battery ok, 21.5 °C, wifi 4 bars``."""
        parts = [self.camera, "armed" if self.armed else "disarmed" if self.armed is False else "arm ?"]
        if self.online is False:
            parts.append("OFFLINE")
        if self.battery is not None:
            parts.append(f"battery {self.battery}")
        if self.temperature_c is not None:
            parts.append(f"{self.temperature_c:.1f} °C")
        if self.wifi is not None:
            parts.append(f"wifi {self.wifi_text}")
        return " ".join(parts[:2]) + (", " + ", ".join(parts[2:]) if parts[2:] else "")


@dataclass(frozen=True)
class AccountStatus:
    """Everything ``camsift blink status`` shows.

    Attributes:
        account_id: Blink's account id (not a secret; used in folder names).
        checked_utc: When Blink was asked.
        networks: Sync Modules / networks.
        cameras: Cameras, in Blink's order.
    """

    account_id: str
    checked_utc: datetime
    networks: tuple[SyncModuleStatus, ...]
    cameras: tuple[CameraStatus, ...]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (times as ISO 8601 strings)."""

        def fix(value: Any) -> Any:
            if isinstance(value, datetime):
                return value.isoformat()
            if isinstance(value, dict):
                return {k: fix(v) for k, v in value.items()}
            if isinstance(value, list | tuple):
                return [fix(v) for v in value]
            return value

        return {str(k): fix(v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class RemoteClip:
    """A motion clip Blink holds: in its cloud, or on a Sync Module's USB stick.

    Attributes:
        clip_id: Blink's id of the clip (cloud media id, or local-storage clip id).
        camera_name: Blink camera name.
        network: Network name.
        created_utc: When the camera started recording.
        address: Path on the Blink API host to fetch it from (``/api/v2/accounts/…/media/clip/….mp4``).
        where: ``cloud`` or ``local`` (a Sync Module's USB stick: it must be uploaded to the cloud first).
        size_bytes: Size as announced (local storage only), else ``None``.
    """

    clip_id: str
    camera_name: str
    network: str
    created_utc: datetime
    address: str
    where: Literal["cloud", "local"] = "cloud"
    size_bytes: int | None = None

    @property
    def camera(self) -> str:
        """camsift camera name (`safe_name` of the Blink name)."""
        return safe_name(self.camera_name)


@dataclass(frozen=True)
class ClipListing:
    """Part of Blink's cloud clip list (``media/changed``), which Blink sends newest first, page by page.

    Attributes:
        clips: The clips of the pages read, oldest first.
        complete: The last page was reached: every clip changed since the time asked for is in ``clips``
            (with the pages of earlier listings, when ``first_page`` was not 1).
        next_page: The first page not read (where to carry on when ``complete`` is ``False``).
    """

    clips: tuple[RemoteClip, ...]
    complete: bool
    next_page: int
