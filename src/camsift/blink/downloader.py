"""Polite downloads of new Blink clips into neat dated folders.

A clip lands in
``<data_dir>/blink/<account>/<network>/<camera>/YYYY-MM-DD/<HH-MM-SS>-<camera>.mp4``
(local time of the recording's start; names reduced to ``[A-Za-z0-9._-]``).
A clip already there is never asked for again.

Manners, because Blink suspends accounts that bulk-download:

- a **watermark** (``<data_dir>/blink/<account>/state.json``) remembers up
  to when everything was fetched, so each run lists only what changed since
  (minus 10 minutes of overlap for clips still uploading);
- a **pause** of ``request_delay_s`` between two downloads;
- a **minimum interval** between runs for cron users (`Downloader.wait_s`);
- at most ``limit`` clips per run; the watermark stops before the first clip
  not fetched, so the rest come next run.

Writes are atomic (``.part`` renamed when complete): an interrupted download
leaves nothing that looks like a clip, and the next run fetches it again.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from camsift.blink.models import RemoteClip, parse_time, safe_name
from camsift.errors import AuthError, RateLimitError, SourceError
from camsift.logs import get_logger

if TYPE_CHECKING:
    from camsift.blink.client import BlinkClient

__all__ = ["DownloadReport", "Downloaded", "Downloader", "clip_file"]

log = get_logger("camsift.blink")

OVERLAP = timedelta(minutes=10)
"""Each listing reaches this far behind the watermark (a clip shows up once its upload is done)."""


def clip_file(data_dir: Path, account: str, clip: RemoteClip, tz: tzinfo | None = None) -> Path:
    """Where ``clip`` is kept (see the module docstring); ``tz`` = ``None`` means this machine's zone."""
    local = clip.created_utc.astimezone(tz)
    folder = data_dir.resolve() / "blink" / safe_name(account) / safe_name(clip.network) / clip.camera
    return folder / f"{local:%Y-%m-%d}" / f"{local:%H-%M-%S}-{clip.camera}.mp4"


@dataclass(frozen=True)
class Downloaded:
    """A clip fetched in this run.

    Attributes:
        clip: What Blink announced.
        path: Where it now is (complete).
    """

    clip: RemoteClip
    path: Path


@dataclass
class DownloadReport:
    """What one run did.

    Attributes:
        downloaded: Clips fetched, oldest first.
        on_disk: Clips listed that were already there (not asked for).
        left: Clips listed but left for a later run (``limit`` reached, stop asked).
        failed: One line per clip that could not be fetched (fetched again next run).
        watermark_utc: The watermark saved at the end.
        runs: Passes over the clip list (`Downloader.run_for` may make several).
        note: Why no pass was made (the minimum interval since the last run had not passed).
    """

    downloaded: list[Downloaded] = field(default_factory=list)
    on_disk: int = 0
    left: int = 0
    failed: list[str] = field(default_factory=list)
    watermark_utc: datetime | None = None
    runs: int = 1
    note: str | None = None


class Downloader:
    """Fetches the clips of one account that are not on disk yet.

    Args:
        client: A connected `BlinkClient`.
        data_dir: camsift's data directory.
        tz: Zone of folder dates and file names (``Settings.tz()``).
        cameras: Blink camera names to fetch (empty: all).
        local_storage: Also fetch clips from Sync Modules' USB sticks.
        request_delay_s: Pause between two downloads.
        backfill_h: With no watermark yet, how many past hours to fetch (``None``: everything Blink has).
    """

    def __init__(
        self,
        client: BlinkClient,
        data_dir: Path,
        tz: tzinfo | None,
        *,
        cameras: Sequence[str] = (),
        local_storage: bool = True,
        request_delay_s: float = 2.0,
        backfill_h: float | None = None,
    ) -> None:
        self.client, self.data_dir, self.tz = client, data_dir, tz
        self.cameras = {c.lower() for c in cameras} | {safe_name(c).lower() for c in cameras}
        self.local_storage = local_storage
        self.request_delay_s = request_delay_s
        self.backfill_h = backfill_h

    @property
    def state_file(self) -> Path:
        """``<data_dir>/blink/<account>/state.json``: watermark and last run."""
        return self.data_dir / "blink" / safe_name(self.client.account_id) / "state.json"

    def _state(self) -> dict[str, str]:
        try:
            data = json.loads(self.state_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {k: v for k, v in data.items() if isinstance(v, str)} if isinstance(data, dict) else {}

    def _save_state(self, **values: datetime) -> None:
        state = {**self._state(), **{k: v.isoformat() for k, v in values.items()}}
        part = self.state_file.with_name("state.json.part")
        try:
            self.state_file.parent.mkdir(parents=True, exist_ok=True)
            part.write_text(json.dumps(state, indent=2), encoding="utf-8")
            os.replace(part, self.state_file)
        except OSError as err:
            log.warning("cannot save the blink watermark", path=str(self.state_file), reason=str(err))

    @property
    def watermark_utc(self) -> datetime | None:
        """Everything created before this was fetched (``None``: never ran)."""
        return parse_time(self._state().get("watermark_utc"))

    def wait_s(self, min_interval_s: float) -> float:
        """Seconds until a new run is allowed, ``min_interval_s`` after the start of the last one (0 = now)."""
        last = parse_time(self._state().get("last_run_utc"))
        if last is None:
            return 0.0
        return max(0.0, min_interval_s - (datetime.now(UTC) - last).total_seconds())

    def _wanted(self, clip: RemoteClip) -> bool:
        return not self.cameras or clip.camera_name.lower() in self.cameras or clip.camera.lower() in self.cameras

    async def run(
        self,
        limit: int | None = None,
        *,
        stop: Callable[[], bool] | None = None,
        on_clip: Callable[[Downloaded], None] | None = None,
    ) -> DownloadReport:
        """List what is new, fetch what is not on disk (oldest first), move the watermark.

        Args:
            limit: Most clips to fetch in this run (``None``: all).
            stop: Asked before each download; ``True`` ends the run early (the rest is left for later).
            on_clip: Called after each clip is complete on disk.

        Raises:
            AuthError, RateLimitError: the run stops; clips fetched so far stay, the
                watermark stops before the first clip not fetched.
            SourceError: Blink could not be asked for the list.
        """
        started = datetime.now(UTC)
        self._save_state(last_run_utc=started)
        mark = self.watermark_utc
        if mark is None:
            mark = (
                datetime.fromtimestamp(0, UTC)
                if self.backfill_h is None
                else started - timedelta(hours=self.backfill_h)
            )
        since = max(mark - OVERLAP, datetime.fromtimestamp(0, UTC))
        listed = await self.client.cloud_clips(since)
        if self.local_storage:
            listed += [c for c in await self.client.local_clips() if c.created_utc >= since]
        account = self.client.account_id
        todo: list[tuple[RemoteClip, Path]] = []
        report = DownloadReport()
        for clip in sorted(listed, key=lambda c: c.created_utc):
            if not self._wanted(clip):
                continue
            path = clip_file(self.data_dir, account, clip, self.tz)
            if path.exists() or any(p == path for _, p in todo):
                report.on_disk += 1
            else:
                todo.append((clip, path))
        first_missed: datetime | None = None
        try:
            for i, (clip, path) in enumerate(todo):
                if (limit is not None and len(report.downloaded) >= limit) or (stop is not None and stop()):
                    report.left = len(todo) - i
                    first_missed = clip.created_utc if first_missed is None else first_missed
                    break
                if i:
                    await asyncio.sleep(self.request_delay_s)
                try:
                    await self.client.fetch(clip, path)
                except (AuthError, RateLimitError):
                    report.left = len(todo) - i
                    first_missed = clip.created_utc if first_missed is None else first_missed
                    raise
                except SourceError as err:
                    report.failed.append(str(err))
                    log.warning("blink clip not fetched; trying again next run", camera=clip.camera, reason=str(err))
                    first_missed = clip.created_utc if first_missed is None else first_missed
                    continue
                done = Downloaded(clip, path)
                report.downloaded.append(done)
                log.info("blink clip downloaded", camera=clip.camera, path=str(path), where=clip.where)
                if on_clip is not None:
                    on_clip(done)
        finally:
            new_mark = started if first_missed is None else min(started, first_missed)
            report.watermark_utc = max(new_mark, mark)
            self._save_state(watermark_utc=report.watermark_utc)
        return report

    async def run_for(
        self,
        seconds: float | None,
        limit: int | None,
        min_interval_s: float,
        on_clip: Callable[[Downloaded], None] | None = None,
    ) -> DownloadReport:
        """A bounded run for cron (like blinkpy's ``video_dl_loop``): poll for ``seconds``, at most ``limit`` clips.

        Passes are ``min_interval_s`` apart, the first one ``min_interval_s``
        after the start of the last run (of any process using this data
        directory). With ``seconds=None`` there is one pass, or none (with a
        ``note``) when the last run was too recent.

        Raises:
            See `run`.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (seconds or 0.0)
        total = DownloadReport(runs=0)
        wait = self.wait_s(min_interval_s)
        while True:
            if wait > 0:
                if loop.time() + wait > deadline:
                    if not total.runs:
                        total.note = f"Blink was asked less than {min_interval_s:.0f} s ago; next run in {wait:.0f} s"
                    break
                await asyncio.sleep(wait)
            await self.client.renew_token()
            report = await self.run(None if limit is None else limit - len(total.downloaded), on_clip=on_clip)
            total.runs += 1
            total.downloaded += report.downloaded
            total.failed += report.failed
            total.on_disk, total.left, total.watermark_utc = report.on_disk, report.left, report.watermark_utc
            if seconds is None or (limit is not None and len(total.downloaded) >= limit):
                break
            wait = min_interval_s
        return total
