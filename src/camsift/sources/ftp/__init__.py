"""``ftp``: an FTP server that cheap cameras upload motion snapshots and clips to.

One account per camera (the user name is the camera name), uploads confined
to ``<root>/<user>/``, passwords kept only as Argon2 hashes
(`hash_password`, ``camsift ftp passwd USER``). pyftpdlib runs the server on
one thread of the service's main process; analysis happens elsewhere, so a
slow detector never delays an upload.

An upload is written to a temporary file of its own
(``.<name>.<random>.part``, created exclusively, so two uploads of one name
never mix) and, once the client has sent it all, checked and made durable
*before* the client is told ``226 Transfer complete``: fsync, a look at its
first bytes (a file that is not the image or clip its suffix says is deleted
with ``550`` and a log line saying why), an atomic move to a name no other
file has had (``snap.jpg``, or ``snap-20261207T175901Z.jpg`` once a
``snap.jpg`` was received: a camera uploading to a fixed name every second
never overwrites an upload not yet analysed, nor the events of one analysed
before), then a row in the job queue. A camera therefore never sees a success
for an upload that a crash could lose. The same bytes sent again under the
same name (a camera that did not hear the ``226`` before a kill) are the
upload already received, kept once, whether it still waits or was analysed and
removed since. An upload larger than ``max_size_mb`` is cut off with ``552``
and deleted; an interrupted one is deleted: one whose data connection was
reset, or that does not end where its format says it ends
(`camsift.media.cut_off`: a sender that stopped halfway and closed the
connection), gets ``426`` or ``550``, never ``226``. A command with a NUL byte
is refused with one log line. Symbolic links in a camera's folder are never
followed (see `camsift.sources.contained`).

One client cannot block the cameras: at most ``max_connections_per_address``
connections from one address, a connection that has not logged in within
``login_timeout_s`` (or is idle for ``idle_timeout_s``) is closed, and an
address with ``ban_after_failures`` failed logins within ``ban_s`` is banned
for ``ban_s`` (logged; its connections are refused with ``421`` and its
logins refused without the cost of checking a password). A password is
checked (Argon2: about a second of CPU and 64 MiB on a small machine) on a
thread of its own, one at a time, never on the server's loop, so uploads in
progress go on meanwhile; a camera's password, once checked, is remembered
for the run (as a keyed digest in memory), so its next logins cost nothing.
"""

from __future__ import annotations

import errno
import hashlib
import hmac
import os
import queue
import secrets
import shutil
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from camsift import media
from camsift.background import BackgroundLoop
from camsift.config import FtpSourceConfig, Settings
from camsift.errors import AuthError, CamsiftError, MediaError, SourceError, disk_full
from camsift.layout import DataDir
from camsift.logs import get_logger
from camsift.sources import Intake, contained, register
from camsift.sources.ftp.passwords import hash_password, verify_password
from camsift.sources.ftp.server import FULL_REPLY, handler_class

__all__ = ["MIN_FREE_BYTES", "FtpSource", "hash_password", "verify_password"]

log = get_logger("camsift.sources.ftp")

MIN_FREE_BYTES = 2 * 2**20
"""Free bytes below which uploads are refused with ``452`` (room for the queue's row and the service's state)."""

MAX_VERDICTS = 1000
"""Password checks kept for logins still to resume (more are dropped: their clients are gone)."""


def _final_name(part: Path) -> Path:
    """``dir/.name.<random>.part`` -> ``dir/name`` (STOU's temporary names are already final)."""
    if part.name.startswith(".") and part.name.endswith(".part"):
        return part.with_name(part.name[1 : -len(".part")].rpartition(".")[0])
    return part


def _repeats(part: Path, final: Path, stored_sha256: str | None) -> bool:
    """Whether the upload in ``part`` is the same bytes as the file already received as ``final``: still there (a
    regular file, never a link), or analysed and removed since (``stored_sha256``, its content's digest)."""
    import filecmp

    try:
        if final.is_file() and not final.is_symlink():
            return filecmp.cmp(part, final, shallow=False)
        if stored_sha256 is None or os.path.lexists(final):
            return False
        with part.open("rb") as f:
            return hashlib.file_digest(f, "sha256").hexdigest() == stored_sha256
    except OSError:
        return False


def _candidates(name: Path) -> Any:
    """Final names for an upload to ``name``: itself, then with its arrival time (UTC), then numbered."""
    yield name
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    yield name.with_name(f"{name.stem}-{stamp}{name.suffix}")
    n = 2
    while True:
        yield name.with_name(f"{name.stem}-{stamp}-{n}{name.suffix}")
        n += 1


def _place(part: Path, final: Path) -> bool:
    """Give ``part`` the name ``final`` if no file has it, atomically; ``False`` if one has."""
    try:
        os.link(part, final, follow_symlinks=False)  # fails if ``final`` exists, even as a link
    except FileExistsError:
        return False
    except OSError as err:  # a file system without hard links (FAT, some shares): rename, checked first
        if err.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        if os.path.lexists(final):
            return False
        os.rename(part, final)
        return True
    part.unlink()
    return True


@register("ftp")
class FtpSource(BackgroundLoop):
    """Receives uploads over FTP and hands each complete one in.

    Args:
        name: Source name.
        config: Its config.
        settings: The whole configuration (``data_dir`` for the default root).
        intake: Where uploads go.

    Raises:
        SourceError: (from `start`) the port cannot be opened or pyftpdlib is missing.
    """

    kind = "ftp"

    def __init__(self, name: str, config: FtpSourceConfig, settings: Settings, intake: Intake) -> None:
        super().__init__()
        self.name, self.config, self.intake = name, config, intake
        self.root = DataDir(settings.data_dir).footage_root(config)
        self.max_bytes = int(config.max_size_mb * 1e6)
        self.address: tuple[str, int] | None = None
        self.received = 0
        self.rejected = 0
        self._failures: dict[str, deque[float]] = {}  # address -> monotonic times of its recent failed logins
        self._banned: dict[str, float] = {}  # address -> monotonic time its ban ends
        self._key = secrets.token_bytes(32)  # keys the digests of checked passwords (this run only)
        self._good: set[bytes] = set()  # digests of (user, password) pairs found right
        self._verdicts: dict[bytes, bool] = {}  # checked off the loop, waiting for their login to resume
        self._checker: ThreadPoolExecutor | None = None
        self._calls: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()  # run on the loop's thread
        self.disk_full = threading.Event()  # set by the service while the data disk is full

    def start(self) -> None:
        """Open the port and serve on a thread of its own."""
        try:
            from pyftpdlib.ioloop import IOLoop
            from pyftpdlib.servers import FTPServer
        except ImportError as err:
            raise SourceError("the FTP source needs pyftpdlib: pip install pyftpdlib") from err
        for user in self.config.users:
            (self.root / user).mkdir(parents=True, exist_ok=True, mode=0o750)
            for stale in (self.root / user).rglob(".*.part"):  # uploads cut off by a stop: none was acknowledged
                stale.unlink(missing_ok=True)
                log.info("incomplete upload of an earlier run deleted", source=self.name, path=str(stale))
        handler = handler_class(self)
        try:
            server = FTPServer((self.config.host, self.config.port), handler, ioloop=IOLoop())
        except OSError as err:
            raise SourceError(
                f"sources.{self.name}: cannot listen on {self.config.host}:{self.config.port}: {err.strerror or err}"
            ) from err
        server.max_cons = self.config.max_connections
        server.max_cons_per_ip = self.config.max_connections_per_address
        self.address = server.address
        self._checker = ThreadPoolExecutor(1, thread_name_prefix=f"source-{self.name}-passwords")
        self._start_loop(f"source-{self.name}", self._serve, server)
        self._report("running")
        log.info("FTP server listening", source=self.name, address=f"{self.address[0]}:{self.address[1]}")

    def _serve(self, server: Any) -> None:
        try:
            while not self._stop.is_set():  # the loop itself: serve_forever logs a banner at every call
                server.ioloop.loop(timeout=0.05, blocking=False)
                while not self._calls.empty():
                    call = self._calls.get_nowait()
                    try:
                        call()
                    except Exception:  # one client's login must not end the server
                        log.exception("FTP login could not resume", source=self.name)
        finally:
            server.close_all()

    def stop(self) -> None:
        """Close the server (transfers in progress are cut off; their clients retry)."""
        self._stop_loop(5)
        if self._checker is not None:
            self._checker.shutdown(wait=False, cancel_futures=True)
        self._report("stopped")

    def set_disk_full(self, full: bool) -> None:
        """While the data disk is full, refuse uploads with ``452`` (cameras retry them later)."""
        if full:
            self.disk_full.set()
        else:
            self.disk_full.clear()
        self._report("running", "data disk full: uploads refused with 452" if full else None)

    def full(self) -> bool:
        """Whether an upload would not fit now: the service says the disk is full, or less than
        `MIN_FREE_BYTES` are free where uploads go."""
        try:
            free = shutil.disk_usage(self.root).free
        except OSError:
            return self.disk_full.is_set()
        return self.disk_full.is_set() or free < MIN_FREE_BYTES

    def processed(self, path: Path, events: int) -> None:
        """With ``remove_files``, delete the upload once analysed (never through a link)."""
        if self.config.remove_files and contained(self.root, path):
            path.unlink(missing_ok=True)

    def _report(self, state: str, error: str | None = None) -> None:
        where = f"{self.config.host}:{self.address[1] if self.address else self.config.port}"
        detail = f"ftp://{where} ({self.received} received, {self.rejected} rejected)"
        self.intake.report(self.name, self.kind, state, detail, error)

    def authenticate(self, username: str, password: str, address: str = "") -> None:
        """Check a login from ``address`` against the configured hashes; a failure counts towards a ban.

        Raises:
            AuthError: unknown user, wrong password, or a banned address (whose password is not even
                checked); the message names neither the password nor the hash.
        """
        if self.banned(address):
            raise AuthError(f"login refused for user {username!r}: address banned")
        digest = self._digest(username, password)
        verdict = self._verdicts.pop(digest) if digest in self._verdicts else None
        right = digest in self._good or (self._check(username, password) if verdict is None else verdict)
        if not right:
            log.warning("FTP login refused", source=self.name, user=username, address=address)
            self._failed(address)
            raise AuthError(f"login refused for user {username!r}")
        self._failures.pop(address, None)

    def answered(self, username: str, password: str, address: str) -> bool:
        """Whether `authenticate` can answer this login at once (banned, or the password checked before)."""
        digest = self._digest(username, password)
        return self.banned(address) or digest in self._good or digest in self._verdicts

    def check_later(self, username: str, password: str, address: str, then: Callable[[], None]) -> None:
        """Check a password on the checking thread, then call ``then`` on the server's thread (where
        `authenticate` finds the verdict). A login from an address banned meanwhile is not checked."""
        assert self._checker is not None, "started"

        def check() -> None:
            if not self.banned(address):
                if len(self._verdicts) > MAX_VERDICTS:  # of clients gone before their answer: forget them
                    self._verdicts.clear()
                self._verdicts[self._digest(username, password)] = self._check(username, password)
            self._calls.put(then)

        self._checker.submit(check)

    def _check(self, username: str, password: str) -> bool:
        user = self.config.users.get(username)
        right = user is not None and verify_password(user.password_hash, password)
        if right:
            self._good.add(self._digest(username, password))
        return right

    def _digest(self, username: str, password: str) -> bytes:
        return hmac.digest(self._key, f"{username}\0{password}".encode(errors="surrogatepass"), hashlib.sha256)

    def banned(self, address: str) -> bool:
        """Whether ``address`` is banned now (after ``ban_after_failures`` failed logins within ``ban_s``)."""
        until = self._banned.get(address)
        if until is not None and time.monotonic() >= until:
            self._banned.pop(address, None)
            return False
        return until is not None

    def _failed(self, address: str) -> None:
        limit = self.config.ban_after_failures
        if not address or limit == 0:
            return
        now = time.monotonic()
        failures = self._failures.setdefault(address, deque())
        failures.append(now)
        while failures and failures[0] < now - self.config.ban_s:
            failures.popleft()
        if len(failures) >= limit:
            del self._failures[address]
            self._banned[address] = now + self.config.ban_s
            log.warning(
                "FTP address banned after failed logins",
                source=self.name,
                address=address,
                failures=limit,
                ban_s=self.config.ban_s,
            )

    def accept(self, part: Path, camera: str) -> str | None:
        """Make a received upload durable work; returns the FTP error reply if it is refused.

        Called by the data channel before it answers the client, with the file
        complete and flushed to disk under its ``.part`` name.
        """
        final = _final_name(part)
        try:
            reason = media.sniff(part, final.name) or media.cut_off(part, final.name)
        except MediaError as err:
            reason = err.reason
        if reason is not None:
            self._refuse(part, final, reason)
            return f"550 Not accepted: {reason}; deleted."
        if part != final and _repeats(part, final, self.intake.stored_sha256(final)):
            # A client that did not hear the 226 of an upload (a kill between storing it and answering) sends
            # it again: the same bytes under the same name are the upload already received, not a new one.
            part.unlink(missing_ok=True)
            return self._repeated(final, camera)
        if part != final:
            final = next(c for c in _candidates(final) if not self.intake.known(c) and _place(part, c))
        try:
            self.intake.submit(final, camera, self.name, self.kind)
        except CamsiftError as err:
            final.unlink(missing_ok=True)
            log.error("upload not queued", source=self.name, path=str(final), reason=str(err))
            if disk_full(err):
                return FULL_REPLY
            self._report("error", str(err))
            return "451 Cannot queue the upload now; try again."
        self.received += 1
        log.info("upload queued", source=self.name, camera=camera, path=str(final), bytes=final.stat().st_size)
        self._report("running")
        return None

    def _repeated(self, final: Path, camera: str) -> str | None:
        """Keep an upload sent again once: queue the file received first again (a no-op if it is queued: a kill
        between naming it and queueing it left it unqueued), unless it was analysed and removed since."""
        try:
            if final.exists():
                self.intake.submit(final, camera, self.name, self.kind)
        except CamsiftError as err:
            log.error("upload not queued", source=self.name, path=str(final), reason=str(err))
            return FULL_REPLY if disk_full(err) else "451 Cannot queue the upload now; try again."
        log.info("upload repeated; kept once", source=self.name, camera=camera, path=str(final))
        return None

    def _refuse(self, part: Path, final: Path, reason: str) -> None:
        self.rejected += 1
        part.unlink(missing_ok=True)
        log.warning("upload refused and deleted", source=self.name, path=str(final), reason=reason)
        self._report("running", f"{final.name}: {reason}")

    def incomplete(self, part: Path, reason: str) -> None:
        """An upload that did not complete (aborted, cut off, too large): delete what arrived."""
        if part.exists():  # a refused upload is already gone
            part.unlink(missing_ok=True)
            log.warning("incomplete upload deleted", source=self.name, path=str(_final_name(part)), reason=reason)
