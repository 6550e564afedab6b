"""``folder``: a watched folder (a NAS/SMB share or USB drive a camera writes into).

Changes are seen with watchfiles (inotify), or by looking at the whole folder
every tick for network mounts that inotify cannot see (``poll``). Links in the
folder are never followed (`camsift.sources.contained`). A file is handed in
only once it is complete: its size and mtime have not changed for
``settle_s`` seconds, so an upload that is still being written is never
analysed. Files already there at start are
caught up the same way (those analysed before are no-ops: the queue and the
store know them). After analysis the file is optionally deleted or moved.
"""

from __future__ import annotations

import os
import shutil
import stat
import time
from pathlib import Path

from camsift import media
from camsift.background import BackgroundLoop
from camsift.config import FolderSourceConfig, Settings
from camsift.errors import CamsiftError
from camsift.logs import get_logger
from camsift.scanner import camera_for
from camsift.sources import Intake, contained, files_within, register

__all__ = ["FolderSource", "unreadable"]

log = get_logger("camsift.sources.folder")


def _wanted(path: Path) -> bool:
    """A media file that is not hidden and not a partial download (the same rule as `collect`)."""
    return path.suffix.lower() in media.MEDIA_SUFFIXES and not path.name.startswith(".")


def unreadable(path: Path) -> str | None:
    """Why this process cannot read ``path`` (``"Permission denied"`` …), or ``None`` if it can."""
    try:
        with path.open("rb"):
            return None
    except OSError as err:
        return err.strerror or str(err)


@register("folder")
class FolderSource(BackgroundLoop):
    """Watches ``config.path`` (recursively) and hands complete media files in.

    Args:
        name: Source name.
        config: Its config.
        settings: The whole configuration (cameras' ``paths`` name a file's camera).
        intake: Where files go.
    """

    kind = "folder"

    def __init__(self, name: str, config: FolderSourceConfig, settings: Settings, intake: Intake) -> None:
        super().__init__()
        self.name, self.config, self.settings, self.intake = name, config, settings, intake
        self.folder = config.path.expanduser().resolve()
        self._waiting: dict[Path, tuple[int, int, float]] = {}  # path -> (size, mtime_ns, unchanged since)
        self._unreadable: set[Path] = set()  # settled files that cannot be read (reported once each)

    def start(self) -> None:
        """See `Source.start`."""
        self._start_loop(f"source-{self.name}", self._run)

    def stop(self) -> None:
        """See `Source.stop`."""
        self._stop_loop(5)

    def processed(self, path: Path, events: int) -> None:
        """Delete or move the file, as configured; never anything outside the folder (see `contained`)."""
        if (self.config.delete_after or self.config.move_to is not None) and not contained(self.folder, path):
            log.warning("not clearing away a file reached through a link", source=self.name, path=str(path))
            return
        try:
            if self.config.delete_after:
                path.unlink(missing_ok=True)
            elif self.config.move_to is not None:
                target = self.config.move_to.expanduser().resolve() / path.relative_to(self.folder)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(path, target)
        except (OSError, ValueError) as err:
            log.warning("cannot clear away an analysed file", source=self.name, path=str(path), reason=str(err))

    def _report(self, state: str, error: str | None = None) -> None:
        self.intake.report(self.name, self.kind, state, f"{self.folder} ({len(self._waiting)} settling)", error)

    def _run(self) -> None:
        try:
            self._watch()
        except CamsiftError as err:
            log.error("folder source failed", source=self.name, reason=str(err))
            self._report("error", str(err))
        except Exception as err:  # a failing source must not take the service down: report it
            log.exception("folder source crashed", source=self.name)
            self._report("error", f"internal error: {type(err).__name__}: {err}")

    def _watch(self) -> None:
        import watchfiles

        while not self.folder.is_dir():
            self._report("error", f"{self.folder}: no such folder; waiting for it")
            if self._stop.wait(5):
                return
        move_to = self.config.move_to
        if move_to is not None and move_to.expanduser().resolve().is_relative_to(self.folder):
            self._report("error", f"move_to {move_to} is inside the watched folder {self.folder}")
            return
        tick_ms = max(50, int(self.config.settle_s * 250))
        if self.config.poll:
            self._poll(tick_ms / 1000)
            return
        caught_up = False
        for changes in watchfiles.watch(
            self.folder,
            watch_filter=lambda _change, name: _wanted(Path(name)) or os.path.isdir(name),
            debounce=tick_ms,
            rust_timeout=tick_ms,
            yield_on_timeout=True,
            stop_event=self._stop,
        ):
            if not caught_up:  # files already there; looked for once the watch runs, so none slips between
                caught_up = True
                for path in files_within(self.folder):
                    self._note(path)
                self._running()
            for change, name in changes:
                path = Path(name)
                if change == watchfiles.Change.deleted:
                    self._waiting.pop(path, None)
                elif not contained(self.folder, path):  # through a link (or a loop): never followed
                    continue
                elif path.is_dir():  # files can land in a new folder before it is watched: look inside
                    for inner in files_within(self.folder, path):
                        self._note(inner)
                else:
                    self._note(path)
            self._hand_in_settled()

    def _poll(self, tick_s: float) -> None:
        """Look at the whole folder every ``tick_s`` seconds (network mounts inotify cannot see).

        Done here rather than by watchfiles' polling, which follows links and stops at the first loop.
        """
        before: dict[Path, tuple[int, int]] | None = None  # the last look: path -> (size, mtime_ns)
        while True:
            now: dict[Path, tuple[int, int]] = {}
            for path in files_within(self.folder):
                try:
                    st = path.lstat()
                except OSError:
                    continue
                now[path] = (st.st_size, st.st_mtime_ns)
                if path not in self._waiting and (before or {}).get(path) != now[path]:  # new, or changed
                    self._note(path)
            for gone in set(self._waiting) - set(now):
                del self._waiting[gone]
            if before is None:
                self._running()
            before = now
            self._hand_in_settled()
            if self._stop.wait(tick_s):
                return

    def _running(self) -> None:
        self._report("running")
        log.info("watching folder", source=self.name, folder=str(self.folder), catching_up=len(self._waiting))

    def _note(self, path: Path) -> None:
        """Start (or restart) the settle clock of a file that appeared or changed."""
        try:
            st = path.lstat()
        except OSError:
            st = None
        if st is None or not stat.S_ISREG(st.st_mode):  # gone, a link, a pipe or a device
            self._waiting.pop(path, None)
            return
        self._waiting[path] = (st.st_size, st.st_mtime_ns, time.monotonic())

    def _readable(self, path: Path) -> bool:
        """Whether a settled file can be read; one that cannot is reported once (log and status) and waits."""
        reason = unreadable(path)
        if reason is None:
            if path in self._unreadable:
                self._unreadable.discard(path)
                log.info("file readable again", source=self.name, path=str(path))
            return True
        if path not in self._unreadable:
            self._unreadable.add(path)
            log.warning("file cannot be read; waiting until it can", source=self.name, path=str(path), reason=reason)
            self._report("running", f"{path}: cannot read: {reason}")
        return False

    def _hand_in_settled(self) -> None:
        now = time.monotonic()
        for path, (size, mtime_ns, since) in list(self._waiting.items()):
            try:
                st = path.stat()
            except OSError:
                del self._waiting[path]
                continue
            if (st.st_size, st.st_mtime_ns) != (size, mtime_ns):
                self._waiting[path] = (st.st_size, st.st_mtime_ns, now)
            elif now - since >= self.config.settle_s:
                if not contained(self.folder, path):  # replaced by a link while it settled
                    del self._waiting[path]
                    continue
                if not self._readable(path):
                    continue
                camera = camera_for(path, self.settings, self.config.camera)
                try:
                    new = self.intake.submit(path, camera, self.name, self.kind)
                except CamsiftError as err:  # the database is busy or gone: try again at the next tick
                    self._report("error", str(err))
                    continue
                del self._waiting[path]
                if new:
                    log.info("file queued", source=self.name, path=str(path), camera=camera, bytes=size)
