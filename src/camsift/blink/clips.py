"""Clip listing and download of `camsift.blink.client.BlinkClient`: Blink's cloud and the Sync Modules' USB sticks.

Requests whose answer camsift must judge itself go around blinkpy, on the
same session: the clip list (an answer that is not a list of clips is an
error, never "no more clips"), and clip downloads (streamed with a time limit
for silence, `_INACTIVITY_S`, not for the whole clip as blinkpy's 10 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import string
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from blinkpy import api
from blinkpy.helpers.util import get_time, local_storage_clip_url_template, to_alphanumeric

from camsift.blink.auth import BlinkSession, _int, _message, _patiently, log
from camsift.blink.models import (
    ClipListing,
    RemoteClip,
    parse_time,
)
from camsift.errors import SourceError
from camsift.layout import recording_path

__all__ = ["BlinkClips"]

_MAX_PAGES = 20
"""Pages of ``media/changed`` read at most in one listing (Blink sends 25 clips a page, or 500)."""

_PAGE_PAUSE_S = 1.0
"""Pause between two pages of the clip list."""

_INACTIVITY_S = 30.0
"""A download (or the clip list) that brings no byte for this long is given up; the whole clip may take as long
as it needs (a 10 MB clip over a slow uplink: minutes)."""

_UPLOAD_TRIES = 5
"""Downloads of a USB clip tried while Blink says "Media not found" (the Sync Module is still uploading it)."""

_UPLOAD_WAIT_S = 3.0
"""Wait before the second try, doubling after each (3, 6, 12, 24 s: blinkpy's ``download_video`` waits so too)."""


class _NotUploadedError(SourceError):
    """Blink has no copy of a USB clip yet (the Sync Module is still uploading it)."""


class BlinkClips(BlinkSession):
    """The clip part of `camsift.blink.client.BlinkClient` (see there)."""

    @contextlib.asynccontextmanager
    async def _get(self, address: str) -> AsyncIterator[aiohttp.ClientResponse]:
        """GET ``address`` (a path on the account's API host, or a whole URL) with the token renewed if due, given
        up after `_INACTIVITY_S` without a byte (never for taking long)."""
        await self.renew_token()
        assert self._session is not None
        url = address if address.startswith("https://") else f"{self.blink.urls.base_url}{address}"
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=_INACTIVITY_S, sock_read=_INACTIVITY_S)
        async with self._session.get(url, headers=self.blink.auth.header, timeout=timeout) as response:
            yield response

    def _note_motion(self, clips: list[RemoteClip]) -> None:
        """Remember each camera's newest clip among ``clips`` (for `CameraStatus.last_motion_utc`)."""
        for clip in clips:
            key = (clip.network, clip.camera_name)
            if key not in self._last_motion or clip.created_utc > self._last_motion[key]:
                self._last_motion[key] = clip.created_utc

    async def check_motion(self) -> None:
        """Learn each camera's last motion from the first page of Blink's clip list (one request).

        Blink lists clips newest first (25 a page or more), so this is the newest clip of every camera that
        recorded one of the account's last 25 or so (blinkpy's ``check_new_videos`` reads page 1 too).
        Clip listings (`list_cloud`, `local_clips`) keep it up to date without more requests.

        Raises:
            SourceError: Blink answered something that is not a clip list.
        """
        page = await self._clip_page(datetime.fromtimestamp(0, UTC), 1)
        self._note_motion(_cloud_page(page, self._network_names()))

    def _network_names(self) -> dict[str, str]:
        return {str(s.network_id): str(s.name) for s in self.blink.sync.values()}

    async def _clip_page(self, since: datetime, page: int) -> list[object]:
        """The entries of one page of ``media/changed`` (Blink's order: newest first; none past the last page).

        Raises:
            SourceError: any answer but a clip list (Blink has answered 403, 404 and 426 "app update required"),
                with Blink's reason; nothing may take it for the end of the list.
        """
        address = (
            f"/api/v1/accounts/{self.blink.account_id}/media/changed?since={get_time(since.timestamp())}&page={page}"
        )
        async with self._get(address) as response:
            body = await response.read()
        with contextlib.suppress(ValueError):
            doc = json.loads(body)
            if response.status == 200 and isinstance(doc, dict) and isinstance(doc.get("media"), list):
                return list(doc["media"])
        self._refusal = None
        said = f"{response.status} {response.reason or ''}".strip() + (f": {_message(body)}" if body else "")
        raise SourceError(f"Blink answered the clip list (page {page}) with {said}, not a list of clips")

    async def list_cloud(self, since: datetime, first_page: int = 1, max_pages: int = _MAX_PAGES) -> ClipListing:
        """Clips in Blink's cloud changed since ``since``: pages ``first_page`` … of ``media/changed``.

        Blink sends the list newest first, so a listing cut at ``max_pages``
        holds the newest clips and lacks the oldest: carry on from
        ``next_page`` (same ``since``) to reach them. Only an empty page ends
        the list. Deleted clips and entries without an address are left out.

        Raises:
            SourceError: a page was not a clip list (see `_clip_page`): the listing is not returned at all.
        """
        networks = self._network_names()
        clips: list[RemoteClip] = []
        page = first_page
        while True:
            if page == first_page + max_pages:
                log.warning(
                    "blink clip list cut at the page limit: the older clips come next run",
                    pages=max_pages,
                    next_page=page,
                )
                complete = False
                break
            if page > first_page:
                await asyncio.sleep(_PAGE_PAUSE_S)
            media = await self._clip_page(since, page)
            if not media:
                complete = True
                break
            clips += _cloud_page(media, networks)
            page += 1
        self._note_motion(clips)
        return ClipListing(tuple(sorted(clips, key=lambda c: c.created_utc)), complete, page)

    async def cloud_clips(self, since: datetime, max_pages: int = _MAX_PAGES) -> list[RemoteClip]:
        """The clips of `list_cloud` from its first page, oldest first (a cut list lacks the oldest: see there)."""
        return list((await self.list_cloud(since, 1, max_pages)).clips)

    async def local_clips(self) -> list[RemoteClip]:
        """Clips on the USB sticks of Sync Modules with local storage active, from a fresh manifest, oldest first.

        Asking for the manifest makes the Sync Module build it (a command that
        blinkpy polls until done, backing off while the module is busy); each
        manifest has an id of its own, and a clip is fetched under the newest
        one (`fetch`). A module that cannot answer now is skipped with a log
        line and asked again next time.
        """
        clips: list[RemoteClip] = []
        for sync in list(self.blink.sync.values()):
            if not sync.local_storage:
                continue
            await self.renew_token()
            request = await self._call("local storage manifest", sync.poll_local_storage_manifest())
            request_id = request.get("id") if isinstance(request, dict) else None
            manifest = (
                await self._call("local storage manifest", sync.poll_local_storage_manifest(request_id))
                if request_id
                else None
            )
            if not isinstance(manifest, dict) or not isinstance(manifest.get("clips"), list):
                log.warning("sync module gave no local-storage manifest; trying again next time", network=sync.name)
                continue
            self._manifests[str(sync.network_id)] = str(manifest.get("manifest_id"))
            names = {to_alphanumeric(str(n)): str(n) for n in sync.cameras}
            for item in manifest["clips"]:
                clip = self._local_clip(sync, item, names)
                if clip is not None:
                    clips.append(clip)
        self._note_motion(clips)
        return sorted(clips, key=lambda c: c.created_utc)

    def _local_address(self, sync: Any, clip_id: str) -> str:
        """Where a USB clip is uploaded from and fetched, under the Sync Module's newest manifest."""
        values = {
            "account_id": self.blink.account_id,
            "network_id": sync.network_id,
            "sync_id": sync.sync_id,
            "manifest_id": self._manifests.get(str(sync.network_id)),
            "clip_id": clip_id,
        }
        return string.Template(local_storage_clip_url_template()).substitute(values)

    def _local_clip(self, sync: Any, item: object, names: dict[str, str]) -> RemoteClip | None:
        """One manifest entry as a `RemoteClip` (``None``: unreadable)."""
        if not isinstance(item, dict):
            return None
        created, number = parse_time(item.get("created_at")), _int(item.get("id"))
        if created is None or number is None:
            return None
        clip = RemoteClip(
            clip_id=str(number),
            camera_name=names.get(str(item.get("camera_name")), str(item.get("camera_name"))),
            network=str(sync.name),
            created_utc=created,
            address=self._local_address(sync, str(number)),
            where="local",
            size_bytes=_int(item.get("size")),
        )
        self._local[clip.clip_id] = sync
        return clip

    async def fetch(self, clip: RemoteClip, path: Path) -> Path:
        """Download ``clip`` to ``path`` atomically (``<path>.part`` renamed when complete).

        The body is streamed for as long as it takes, and given up only after
        `_INACTIVITY_S` without a byte. A local-storage clip is first uploaded
        by its Sync Module to the cloud (a command polled until done), then
        asked for until Blink has it (``Media not found`` until then),
        `_UPLOAD_TRIES` times with waits doubling from `_UPLOAD_WAIT_S`.

        Returns:
            ``path``.

        Raises:
            SourceError: Blink answered something other than an MP4, the download broke off or went silent, or a
                USB clip never arrived (nothing is left at ``path``; it can be fetched again).
            RateLimitError, AuthError: see `connect`.
        """
        if clip.where == "cloud":
            await self._download(clip, path)
            return path
        sync = self._local.get(clip.clip_id)
        if sync is None:
            raise SourceError(f"local-storage clip {clip.clip_id} is not in the last manifest")
        current = replace(clip, address=self._local_address(sync, clip.clip_id))  # the newest manifest's id
        await self.renew_token()
        self._refusal = None
        answer = await self._call(
            "local clip upload",
            api.request_local_storage_clip(
                self.blink, sync.network_id, sync.sync_id, self._manifests.get(str(sync.network_id)), clip.clip_id
            ),
        )
        if not isinstance(answer, dict):
            raise SourceError(
                f"{clip.camera} clip {clip.clip_id} on the USB stick: the Sync Module was not asked to upload it "
                f"({self._why('no answer')})"
            )
        async for attempt in _patiently(_NotUploadedError, _UPLOAD_WAIT_S, _UPLOAD_TRIES):
            with attempt:
                await self._download(current, path)
        return path

    async def _download(self, clip: RemoteClip, path: Path) -> None:
        """One GET of ``clip`` streamed into ``path`` (see `fetch`)."""
        async with self._get(clip.address) as response:
            if response.status == 200:
                await _write_atomically(response, path)
                return
            said = f"{response.status} {response.reason or ''}".strip()
            message = _message(await response.read())
            self._refusal = None
        if response.status == 404 and clip.where == "local":
            raise _NotUploadedError(
                f"{clip.camera} clip {clip.clip_id} on the USB stick: Blink has no copy yet ({message}) after "
                f"{_UPLOAD_TRIES} tries; the next run asks again"
            )
        raise SourceError(f"Blink answered {said} ({message}) for clip {clip.clip_id} of {clip.camera_name}")


def _cloud_page(media: list[object], networks: dict[str, str]) -> list[RemoteClip]:
    """The readable, not deleted clips of a page's entries."""
    return [clip for clip in (_cloud_clip(item, networks) for item in media) if clip is not None]


def _cloud_clip(item: object, networks: dict[str, str]) -> RemoteClip | None:
    """One ``media/changed`` entry as a `RemoteClip`; ``None`` for deleted or unreadable entries."""
    if not isinstance(item, dict) or item.get("deleted"):
        return None
    created = parse_time(item.get("created_at"))
    address, camera = item.get("media"), item.get("device_name")
    if created is None or not isinstance(address, str) or not isinstance(camera, str):
        return None
    network = item.get("network_name") or networks.get(str(item.get("network_id")), str(item.get("network_id")))
    return RemoteClip(str(item.get("id")), camera, str(network), created, address, "cloud")


async def _write_atomically(response: aiohttp.ClientResponse, path: Path) -> None:
    """Stream the body into ``<path>.part``, check it, rename it to ``path``; on any failure remove the part."""
    part = recording_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with part.open("wb") as f:
            head = b""
            async for chunk in response.content.iter_chunked(1 << 16):
                if len(head) < 12:
                    head += chunk[:12]
                f.write(chunk)
        expected = response.content_length
        size = part.stat().st_size
        if expected is not None and size != expected:
            raise SourceError(f"{path.name}: the download from Blink stopped at {size} of {expected} bytes")
        if head[4:8] != b"ftyp":
            raise SourceError(f"{path.name}: Blink sent something that is not an MP4 clip")
        os.replace(part, path)
    except TimeoutError as err:
        part.unlink(missing_ok=True)
        raise SourceError(f"{path.name}: Blink sent nothing for {_INACTIVITY_S:.0f} s; the download broke off") from err
    except (aiohttp.ClientError, OSError) as err:
        part.unlink(missing_ok=True)
        raise SourceError(f"{path.name}: the download from Blink broke off ({type(err).__name__})") from err
    except SourceError:
        part.unlink(missing_ok=True)
        raise
