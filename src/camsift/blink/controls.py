"""Status and controls of `camsift.blink.client.BlinkClient`: arm state, batteries and signals, arming, snapshots
and live views."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from blinkpy import api
from blinkpy.livestream import BlinkLiveStream

from camsift.blink.auth import BlinkSession, _int, _patiently
from camsift.blink.models import (
    AccountStatus,
    CameraStatus,
    SyncModuleStatus,
    celsius,
    parse_time,
    safe_name,
    wifi_reading,
)
from camsift.errors import SourceError

__all__ = ["BlinkControls", "LiveView"]

_SNAPSHOT_TRIES = 4
"""Looks for the new thumbnail after a snapshot command (Blink may list it a moment after the command is done)."""

_SNAPSHOT_WAIT_S = 1.0
"""Wait before the second look, doubling after each."""


@dataclass(frozen=True)
class LiveView:
    """A live session Blink granted.

    Attributes:
        stream: blinkpy's IMMI relay for it (not started).
        polling_s: How often Blink wants its command polled (``polling_interval``: 15 s in blinkpy's fixtures).
        continue_s: How long the session lasts unless continued (``continue_interval``, else ``duration``: 300 s).
    """

    stream: BlinkLiveStream
    polling_s: float
    continue_s: float


class _OldPictureError(SourceError):
    """Blink still shows the thumbnail from before the snapshot."""


def _bool(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "armed", "disarmed"):
        return value.lower() in ("true", "armed")
    if isinstance(value, int):
        return bool(value)
    return None


def _float(value: object) -> float | None:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _online(status: object) -> bool:
    return status is True or str(status).lower() in ("online", "done", "true")


class BlinkControls(BlinkSession):
    """The status and control part of `camsift.blink.client.BlinkClient` (see there)."""

    async def refresh_status(self) -> None:
        """Ask Blink again for arm state, battery, temperature and signals (no thumbnails, no clips).

        About 2 + 2 per camera requests: the part of blinkpy's ``Blink.refresh`` that reads state.
        """
        await self.renew_token()
        await self._call("home screen", self.blink.get_homescreen())
        for sync in list(self.blink.sync.values()):
            await self._call("network state", sync.get_network_info())
            for name, camera in list(sync.cameras.items()):
                info = await self._call(
                    "camera config", sync.get_camera_info(camera.camera_id, unique_info=sync.get_unique_info(name))
                )
                if info:
                    camera.extract_config_info(info)
                    await self._call("camera signals", camera.get_sensor_info())

    def status(self) -> AccountStatus:
        """What blinkpy last learnt, as camsift types (no request)."""
        networks: list[SyncModuleStatus] = []
        cameras: list[CameraStatus] = []
        for sync in self.blink.sync.values():
            networks.append(
                SyncModuleStatus(
                    name=str(sync.name),
                    network_id=str(sync.network_id),
                    sync_id=None if sync.sync_id is None else str(sync.sync_id),
                    serial=sync.serial,
                    online=_online(sync.status),
                    armed=_bool(sync.arm),
                    local_storage=bool(sync.local_storage),
                    firmware=sync.version,
                )
            )
            for name, camera in sync.cameras.items():
                volts = _float(camera.battery_voltage)
                signals = (sync.get_unique_info(name) or {}).get("signals") or {}  # doorbells: Wi-Fi only here
                wifi, unit = wifi_reading(
                    camera.wifi_strength if camera.wifi_strength is not None else signals.get("wifi")
                )
                cameras.append(
                    CameraStatus(
                        name=str(name),
                        camera=safe_name(str(name)),
                        camera_id=str(camera.camera_id),
                        network=str(sync.name),
                        model=camera.product_type,
                        armed=_bool(camera.arm),
                        online=None if camera.status is None else _online(camera.status),
                        battery=camera.battery,
                        battery_v=None if volts is None else round(volts / 100, 2),
                        temperature_c=celsius(camera.temperature),
                        wifi=wifi,
                        wifi_unit=unit,
                        sync_signal=_int(camera.sync_signal_strength),
                        last_motion_utc=self._newest_motion(str(sync.name), str(name), camera.last_record),
                    )
                )
        return AccountStatus(self.account_id, datetime.now(UTC), tuple(networks), tuple(cameras))

    def _newest_motion(self, network: str, camera: str, last_record: object) -> datetime | None:
        """The newest of what camsift saw of ``camera`` and blinkpy's ``last_record`` (``None``: neither)."""
        seen = [t for t in (self._last_motion.get((network, camera)), parse_time(last_record)) if t is not None]
        return max(seen, default=None)

    # --- controls ----------

    def _network(self, name: str) -> Any:
        for sync in self.blink.sync.values():
            if name.lower() in (str(sync.name).lower(), str(sync.network_id)):
                return sync
        known = ", ".join(str(s.name) for s in self.blink.sync.values()) or "none"
        raise SourceError(f"no Blink network {name!r} (networks: {known})")

    def _camera(self, name: str) -> Any:
        for sync in self.blink.sync.values():
            for camera_name, camera in sync.cameras.items():
                if name.lower() in (str(camera_name).lower(), safe_name(str(camera_name)).lower()):
                    return camera
        known = ", ".join(str(n) for s in self.blink.sync.values() for n in s.cameras) or "none"
        raise SourceError(f"no Blink camera {name!r} (cameras: {known})")

    async def arm(self, network: str, on: bool) -> bool | None:
        """Arm (``on``) or disarm a network (name or id); returns the armed state Blink reports afterwards.

        Raises:
            SourceError: no such network; Blink unreachable.
        """
        sync = self._network(network)
        await self.renew_token()
        await self._call("arm", sync.async_arm(on))
        await self._call("network state", sync.get_network_info())
        return _bool(sync.arm)

    async def snapshot(self, camera: str) -> bytes:
        """Make the camera take a new picture and return it (JPEG bytes): never the picture from before.

        The picture is asked for by its new address, which Blink gives in the
        camera's config (Blink Outdoor) or in the home screen (Minis,
        doorbells); it is looked for `_SNAPSHOT_TRIES` times, waits doubling
        from `_SNAPSHOT_WAIT_S`.

        Raises:
            SourceError: no such camera, Blink refused the command, or no new picture came.
        """
        cam = self._camera(camera)
        before = cam.thumbnail
        await self.renew_token()
        self._refusal = None
        answer = await self._call(
            "snapshot", api.request_new_image(self.blink, cam.network_id, cam.camera_id, camera_type=cam.camera_type)
        )
        if not isinstance(answer, dict):
            raise SourceError(f"camera {camera!r}: Blink did not take a picture ({self._why('no answer')})")
        try:
            async for attempt in _patiently(_OldPictureError, _SNAPSHOT_WAIT_S, _SNAPSHOT_TRIES):
                with attempt:
                    await self._new_thumbnail(cam, before)
        except _OldPictureError as err:
            raise SourceError(f"camera {camera!r}: Blink shows no new picture yet; try again in a minute") from err
        picture = cam.image_from_cache
        if not isinstance(picture, bytes) or not picture.startswith(b"\xff\xd8"):
            raise SourceError(f"camera {camera!r}: Blink sent no picture ({self._why('not a JPEG')})")
        return picture

    async def _new_thumbnail(self, cam: Any, before: object) -> None:
        """Read the camera's thumbnail address afresh and fetch the picture if it is a new one.

        Raises:
            _OldPictureError: Blink still gives the old address.
        """
        sync = cam.sync
        if cam.camera_type:  # Minis and doorbells: their config is their entry in the home screen
            await self._call("home screen", self.blink.get_homescreen())
        info = await self._call(
            "camera config", sync.get_camera_info(cam.camera_id, unique_info=sync.get_unique_info(cam.name))
        )
        if not info:
            raise SourceError(f"camera {cam.name!r}: Blink sent no camera config ({self._why('no answer')})")
        cam._cached_image = None  # what blinkpy fetches now is the new picture, or nothing
        await self._call("thumbnail", cam.update(info, force_cache=False, expire_clips=False))
        if cam.thumbnail == before:
            raise _OldPictureError(f"camera {cam.name!r}: Blink still shows the old picture")

    async def open_live(self, camera: str) -> LiveView:
        """Ask Blink for a live view of ``camera`` (Blink Outdoor, Mini or doorbell: each has its own path).

        Raises:
            SourceError: no such camera, or Blink offered no IMMI stream (refused, or a model camsift cannot open),
                with Blink's reason. RateLimitError: Blink asks to slow down (``Retry-After``).
        """
        cam = self._camera(camera)
        await self.renew_token()
        self._refusal = None
        answer = await self._call(
            "live view",
            api.request_camera_liveview(self.blink, cam.sync.network_id, cam.camera_id, camera_type=cam.camera_type),
        )
        server = answer.get("server") if isinstance(answer, dict) else None
        if not isinstance(server, str) or not server.startswith("immis://"):
            offered = f"it offered {server.split(':')[0]}" if isinstance(server, str) else self._why("no answer")
            raise SourceError(f"camera {camera!r}: Blink gave no live view camsift can open ({offered})")
        try:
            stream = BlinkLiveStream(cam, answer)
        except (KeyError, TypeError, ValueError) as err:
            raise SourceError(f"camera {camera!r}: Blink's live-view answer lacks {err}") from err
        return LiveView(
            stream,
            polling_s=_float(answer.get("polling_interval")) or 15.0,
            continue_s=_float(answer.get("continue_interval")) or _float(answer.get("duration")) or 300.0,
        )
