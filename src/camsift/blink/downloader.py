"""Polite downloads of new Blink clips into neat dated folders.

A clip lands in
``<data_dir>/blink/<account>/<network>/<camera>/YYYY-MM-DD/<HH-MM-SS>-<camera>.mp4``
(local time of the recording's start; names reduced to ``[A-Za-z0-9._-]``).
In the hour a fall-back to winter time repeats, the UTC offset follows the
time (``01-30-00-0400-…`` and ``01-30-00-0500-…``), and two clips of a camera
listed with the same name otherwise are told apart by Blink's clip id
(``…-<camera>-<clip id>.mp4`` for all but the first). A clip already there is
never asked for again.

Manners, because Blink suspends accounts that bulk-download:

- a **watermark** (``<data_dir>/blink/<account>/state.json``) remembers up
  to when everything was fetched, so each run lists only what changed since
  (minus 10 minutes of overlap for clips still uploading);
- a **pause** of ``request_delay_s`` between two downloads;
- a **minimum interval** between runs for cron users (`Downloader.wait_s`);
- at most ``limit`` clips per run; the watermark stops before the first clip
  not fetched, so the rest come next run;
- at most 20 pages of the clip list per run (`camsift.blink.client`): Blink
  lists newest first, so when there are more the watermark stays, and the
  next run carries on at the page where this one stopped (``resume_*`` in the
  state file); only once the list is read to its end does the watermark move;
- a clip that fails ``max_attempts`` (3) times, once a run (Blink sends a
  web page instead of the MP4 …), is given up with a log line
  (``failures.json`` beside the state counts the attempts), so it no longer
  holds the watermark back and is not asked for again.

What counts as a failure is the client's (`camsift.blink.client`): a body is
given up only after a silence, never for taking long, and a USB clip is
asked for until the Sync Module has uploaded it. An answer to the clip list
that is not a list of clips stops the run before anything moves, so the
next run lists the same clips again.

Writes are atomic (``.part`` renamed when complete): an interrupted download
leaves nothing that looks like a clip, and the next run fetches it again.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from camsift.blink.models import RemoteClip, parse_time, safe_name
from camsift.errors import AuthError, RateLimitError, SourceError
from camsift.layout import DataDir, write_atomically
from camsift.logs import get_logger

if TYPE_CHECKING:
    from camsift.blink.client import BlinkClient

__all__ = ["MAX_ATTEMPTS", "OVERLAP", "DownloadReport", "Downloaded", "Downloader", "clip_file"]

log = get_logger("camsift.blink")

OVERLAP = timedelta(minutes=10)
"""Each listing reaches this far behind the watermark (a clip shows up once its upload is done)."""

MAX_ATTEMPTS = 3
"""Failed downloads of one clip (one a run) after which it is given up."""


def _repeated(utc: datetime, tz: tzinfo | None) -> bool:
    """The local time of ``utc`` happens twice (the hour a fall-back to winter time repeats).

    The offset 3 hours before and after is the other candidate (DST shifts are 1 hour, 2 at most): the wall
    time is repeated if read with that offset it names another instant that really has that offset.
    """
    local = utc.astimezone(tz)
    wall, offset = local.replace(tzinfo=None), local.utcoffset()
    for probe in (utc - timedelta(hours=3), utc + timedelta(hours=3)):
        other = probe.astimezone(tz).utcoffset()
        if other is None or other == offset:
            continue
        twin = (wall - other).replace(tzinfo=UTC)
        if twin != utc and twin.astimezone(tz).utcoffset() == other:
            return True
    return False


def clip_file(
    data_dir: Path, account: str, clip: RemoteClip, tz: tzinfo | None = None, *, with_id: bool = False
) -> Path:
    """Where ``clip`` is kept (see the module docstring); ``tz`` = ``None`` means this machine's zone.

    Args:
        data_dir: camsift's data directory.
        account: Blink account id.
        clip: The clip.
        tz: Zone of the folder date and the time in the name.
        with_id: Put Blink's clip id in the name (for a clip whose plain name another clip has).

    Example:
        >>> clip = RemoteClip("7", "Front Door", "Home", datetime(2026, 11, 1, 5, 30, tzinfo=UTC), "")
        >>> clip_file(Path("/d"), "1111", clip, ZoneInfo("America/New_York")).name  # doctest: +SKIP
        '01-30-00-0400-Front_Door.mp4'
    """
    local = clip.created_utc.astimezone(tz)
    folder = DataDir(data_dir).blink / safe_name(account) / safe_name(clip.network) / clip.camera
    when = f"{local:%H-%M-%S}" + (f"{local:%z}" if _repeated(clip.created_utc, tz) else "")
    suffix = f"-{safe_name(clip.clip_id)}" if with_id else ""
    return folder / f"{local:%Y-%m-%d}" / f"{when}-{clip.camera}{suffix}.mp4"


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
        failed: One line per clip that could not be fetched (asked for again next run).
        given_up: One line per clip that failed its last allowed attempt in this run (not asked for again).
        watermark_utc: The watermark saved at the end.
        runs: Passes over the clip list (`Downloader.run_for` may make several).
        note: Why no pass was made (the minimum interval since the last run had not passed).
    """

    downloaded: list[Downloaded] = field(default_factory=list)
    on_disk: int = 0
    left: int = 0
    failed: list[str] = field(default_factory=list)
    given_up: list[str] = field(default_factory=list)
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
        max_attempts: Failed downloads of a clip, in separate runs, before it is given up.
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
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self.client, self.data_dir, self.tz = client, data_dir, tz
        self.cameras = {c.lower() for c in cameras} | {safe_name(c).lower() for c in cameras}
        self.local_storage = local_storage
        self.request_delay_s = request_delay_s
        self.backfill_h = backfill_h
        self.max_attempts = max_attempts

    @property
    def state_file(self) -> Path:
        """``<data_dir>/blink/<account>/state.json``: watermark and last run."""
        return DataDir(self.data_dir).blink / safe_name(self.client.account_id) / "state.json"

    @property
    def failures_file(self) -> Path:
        """``<data_dir>/blink/<account>/failures.json``: failed attempts per clip not fetched yet."""
        return self.state_file.with_name("failures.json")

    def _state(self) -> dict[str, str]:
        data = _read_json(self.state_file)
        return {k: v for k, v in data.items() if isinstance(v, str)}

    def _save_state(self, **values: datetime | int | None) -> None:
        """Set (``None``: remove) keys of the state file; times as ISO 8601, all values as strings."""
        state: dict[str, str] = self._state()
        for key, value in values.items():
            if value is None:
                state.pop(key, None)
            else:
                state[key] = value.isoformat() if isinstance(value, datetime) else str(value)
        _write_json(self.state_file, state, "the blink watermark")

    def _resume(self) -> tuple[int, datetime, datetime] | None:
        """``(page, since, mark)`` of a clip list cut at the page limit: where to carry on, the ``since`` of its
        pages, and the watermark earned by the part already read (set once the list is read to its end)."""
        state = self._state()
        page, since, mark = state.get("resume_page", ""), state.get("resume_since"), state.get("resume_mark")
        since_utc, mark_utc = parse_time(since), parse_time(mark)
        if not page.isdigit() or int(page) < 1 or since_utc is None or mark_utc is None:
            return None
        return int(page), since_utc, mark_utc

    def _failures(self) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in _read_json(self.failures_file).items() if isinstance(v, dict)}

    def _count_failure(self, clip: RemoteClip, reason: str) -> int:
        """Record one more failed attempt at ``clip`` (saved at once); returns the attempts so far."""
        failures = self._failures()
        key = f"{clip.where}:{clip.clip_id}"
        attempts = _attempts(failures.get(key)) + 1
        failures[key] = {"attempts": attempts, "created_utc": clip.created_utc.isoformat(), "reason": reason}
        _write_json(self.failures_file, failures, "the blink failure counts")
        return attempts

    def _forget_failures(self, done: set[str], before: datetime) -> None:
        """Drop the counts of clips fetched (``done``) and of clips too old to be listed again."""
        failures = self._failures()
        kept = {
            key: value
            for key, value in failures.items()
            if key not in done and (parse_time(value.get("created_utc")) or before) >= before
        }
        if kept != failures:
            _write_json(self.failures_file, kept, "the blink failure counts")

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
        resume = self._resume()
        if resume is not None:
            first_page, since, earned = resume
            log.info("blink clip list: carrying on where the last run stopped", page=first_page)
        else:
            first_page, since, earned = 1, max(mark - OVERLAP, datetime.fromtimestamp(0, UTC)), started
        listing = await self.client.list_cloud(since, first_page)
        listed = list(listing.clips)
        if self.local_storage:
            listed += [c for c in await self.client.local_clips() if c.created_utc >= since]
        account = self.client.account_id
        failures = self._failures()
        todo: list[tuple[RemoteClip, Path]] = []
        claimed: set[Path] = set()
        report = DownloadReport()
        for clip in sorted(listed, key=lambda c: (c.created_utc, c.where, c.clip_id)):
            if not self._wanted(clip):
                continue
            if _attempts(failures.get(f"{clip.where}:{clip.clip_id}")) >= self.max_attempts:
                continue  # given up in an earlier run (logged then)
            path = clip_file(self.data_dir, account, clip, self.tz)
            if path in claimed:  # another clip of the listing has this name: this one carries its id
                path = clip_file(self.data_dir, account, clip, self.tz, with_id=True)
            claimed.add(path)
            if path.exists():
                report.on_disk += 1
            else:
                todo.append((clip, path))
        first_missed: datetime | None = None
        fetched: set[str] = set()
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
                    attempts = self._count_failure(clip, str(err))
                    if attempts >= self.max_attempts:
                        report.given_up.append(f"{err} (given up after {attempts} attempts)")
                        log.warning(
                            "blink clip given up",
                            camera=clip.camera,
                            clip=clip.clip_id,
                            attempts=attempts,
                            reason=str(err),
                        )
                        continue
                    report.failed.append(str(err))
                    log.warning("blink clip not fetched; trying again next run", camera=clip.camera, reason=str(err))
                    first_missed = clip.created_utc if first_missed is None else first_missed
                    continue
                fetched.add(f"{clip.where}:{clip.clip_id}")
                done = Downloaded(clip, path)
                report.downloaded.append(done)
                log.info("blink clip downloaded", camera=clip.camera, path=str(path), where=clip.where)
                if on_clip is not None:
                    on_clip(done)
        finally:
            earned = earned if first_missed is None else min(earned, first_missed)
            if listing.complete:
                report.watermark_utc = max(earned, mark)
                self._save_state(
                    watermark_utc=report.watermark_utc, resume_page=None, resume_since=None, resume_mark=None
                )
            else:  # the oldest clips are on later pages: the watermark waits until they are read
                report.watermark_utc = mark
                self._save_state(
                    watermark_utc=mark,
                    resume_page=max(first_page, listing.next_page - 1),  # a page again, in case the list shifted
                    resume_since=since,
                    resume_mark=earned,
                )
            self._forget_failures(fetched, report.watermark_utc - OVERLAP)
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
            total.given_up += report.given_up
            total.on_disk, total.left, total.watermark_utc = report.on_disk, report.left, report.watermark_utc
            if seconds is None or (limit is not None and len(total.downloaded) >= limit):
                break
            wait = min_interval_s
        return total


def _attempts(entry: dict[str, Any] | None) -> int:
    """Failed attempts an entry of ``failures.json`` counts (0 for none, or for one that is not readable)."""
    value = (entry or {}).get("attempts")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _read_json(path: Path) -> dict[str, Any]:
    """A JSON object from ``path``; an empty one if it is missing or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_json(path: Path, data: dict[str, Any], what: str) -> None:
    """Replace ``path`` with ``data`` atomically; a failure is logged (the next run then does more again)."""
    try:
        write_atomically(path, json.dumps(data, indent=2))
    except OSError as err:
        log.warning("cannot save blink state", what=what, path=str(path), reason=str(err))
