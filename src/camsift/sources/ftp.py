"""``ftp``: an FTP server that cheap cameras upload motion snapshots and clips to.

One account per camera (the user name is the camera name), uploads confined
to ``<root>/<user>/``, passwords kept only as Argon2 hashes
(`hash_password`, ``camsift ftp passwd USER``). pyftpdlib runs the server on
one thread of the service's main process; analysis happens elsewhere, so a
slow detector never delays an upload.

An upload is written to ``.<name>.part`` and, once the client has sent it
all, checked and made durable *before* the client is told ``226 Transfer
complete``: fsync, a look at its first bytes (a file that is not the image or
clip its suffix says is deleted with ``550`` and a log line saying why),
rename to its name, then a row in the job queue. A camera therefore never
sees a success for an upload that a crash could lose. An upload larger than
``max_size_mb`` is cut off with ``552`` and deleted; an interrupted one is
deleted: one whose data connection was reset, or that does not end where its
format says it ends (`camsift.media.cut_off`: a sender that stopped halfway
and closed the connection), gets ``426`` or ``550``, never ``226``. A command
with a NUL byte is refused with one log line.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from camsift import media
from camsift.config import FtpSourceConfig, Settings
from camsift.errors import AuthError, CamsiftError, MediaError, SourceError, disk_full
from camsift.layout import DataDir
from camsift.logs import get_logger
from camsift.sources import Intake, register

if TYPE_CHECKING:
    from argon2 import PasswordHasher

__all__ = ["MIN_FREE_BYTES", "FtpSource", "hash_password", "verify_password"]

log = get_logger("camsift.sources.ftp")

MIN_FREE_BYTES = 2 * 2**20
"""Free bytes below which uploads are refused with ``452`` (room for the queue's row and the service's state)."""

_FULL_REPLY = "452 Data disk full; try again later."

PERMISSIONS = "elmw"
"""What a camera may do (pyftpdlib letters): change and list folders, make folders, store files.
No reading back, deleting, renaming or appending."""


def hash_password(password: str) -> str:
    """An Argon2id hash of ``password`` for ``sources.<name>.users.<user>.password_hash``.

    Parameters are argon2-cffi's defaults (RFC 9106's second recommended
    option: 3 passes over 64 MiB, 4 lanes), a fair cost on a Raspberry Pi.

    Raises:
        SourceError: argon2-cffi is not installed.
    """
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash`` (never raises for a wrong password)."""
    from argon2.exceptions import VerificationError, VerifyMismatchError

    try:
        return bool(_hasher().verify(password_hash, password))
    except (VerifyMismatchError, VerificationError, ValueError):
        return False


def _hasher() -> PasswordHasher:
    try:
        from argon2 import PasswordHasher
    except ImportError as err:
        raise SourceError("FTP passwords need argon2-cffi: pip install argon2-cffi") from err
    return PasswordHasher()


def _final_name(part: Path) -> Path:
    """``dir/.name.part`` -> ``dir/name`` (STOU's temporary names are already final)."""
    if part.name.startswith(".") and part.name.endswith(".part"):
        return part.with_name(part.name[1 : -len(".part")])
    return part


@register("ftp")
class FtpSource:
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
        self.name, self.config, self.intake = name, config, intake
        self.root = DataDir(settings.data_dir).footage_root(config)
        self.max_bytes = int(config.max_size_mb * 1e6)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.address: tuple[str, int] | None = None
        self.received = 0
        self.rejected = 0
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
        handler = _handler_class(self)
        try:
            server = FTPServer((self.config.host, self.config.port), handler, ioloop=IOLoop())
        except OSError as err:
            raise SourceError(
                f"sources.{self.name}: cannot listen on {self.config.host}:{self.config.port}: {err.strerror or err}"
            ) from err
        server.max_cons = self.config.max_connections
        self.address = server.address
        self._thread = threading.Thread(target=self._serve, args=(server,), name=f"source-{self.name}", daemon=True)
        self._thread.start()
        self._report("running")
        log.info("FTP server listening", source=self.name, address=f"{self.address[0]}:{self.address[1]}")

    def _serve(self, server: Any) -> None:
        try:
            while not self._stop.is_set():  # the loop itself: serve_forever logs a banner at every call
                server.ioloop.loop(timeout=0.2, blocking=False)
        finally:
            server.close_all()

    def stop(self) -> None:
        """Close the server (transfers in progress are cut off; their clients retry)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
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
        """With ``remove_files``, delete the upload once analysed."""
        if self.config.remove_files:
            path.unlink(missing_ok=True)

    def _report(self, state: str, error: str | None = None) -> None:
        where = f"{self.config.host}:{self.address[1] if self.address else self.config.port}"
        detail = f"ftp://{where} ({self.received} received, {self.rejected} rejected)"
        self.intake.report(self.name, self.kind, state, detail, error)

    def authenticate(self, username: str, password: str) -> None:
        """Check a login against the configured hashes.

        Raises:
            AuthError: unknown user or wrong password (the message names neither the password nor the hash).
        """
        user = self.config.users.get(username)
        if user is None or not verify_password(user.password_hash, password):
            log.warning("FTP login refused", source=self.name, user=username)
            raise AuthError(f"login refused for user {username!r}")

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
        os.replace(part, final)
        try:
            self.intake.submit(final, camera, self.name, self.kind)
        except CamsiftError as err:
            final.unlink(missing_ok=True)
            log.error("upload not queued", source=self.name, path=str(final), reason=str(err))
            if disk_full(err):
                return _FULL_REPLY
            self._report("error", str(err))
            return "451 Cannot queue the upload now; try again."
        self.received += 1
        log.info("upload queued", source=self.name, camera=camera, path=str(final), bytes=final.stat().st_size)
        self._report("running")
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


def _handler_class(source: FtpSource) -> Any:
    """pyftpdlib's handler, authorizer, filesystem and data channel, specialised for ``source``."""
    from pyftpdlib.authorizers import AuthenticationFailed, DummyAuthorizer
    from pyftpdlib.filesystems import AbstractedFS
    from pyftpdlib.handlers import DTPHandler, FTPHandler
    from pyftpdlib.log import logger as ftp_logger

    class Authorizer(DummyAuthorizer):  # type: ignore[misc]
        def validate_authentication(self, username: str, password: str, handler: Any) -> None:
            try:
                source.authenticate(username, password)
            except AuthError as err:
                raise AuthenticationFailed("Authentication failed.") from err

    class UploadFS(AbstractedFS):  # type: ignore[misc]
        def open(self, filename: str, mode: str) -> Any:
            if "w" not in mode:
                return super().open(filename, mode)
            path = Path(filename)
            return path.with_name(f".{path.name}.part").open(mode)

    class DataChannel(DTPHandler):  # type: ignore[misc]
        def handle_read(self) -> None:
            super().handle_read()
            if self.receive and not self._closed and self.tot_bytes_received > source.max_bytes:
                limit = f"{source.config.max_size_mb:g}"
                self._resp = (f"552 Upload larger than {limit} MB; deleted.", ftp_logger.warning)
                self.transfer_finished = False
                self.close()

        handle_read_event = handle_read

        def recv(self, buffer_size: int) -> bytes:
            # pyftpdlib takes a reset for the end of an upload, as a close is; a reset upload was cut off
            if self.receive and self.socket.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                self._resp = ("426 Connection reset; upload deleted.", ftp_logger.warning)
                self.transfer_finished = False
                log.warning("FTP upload cut off: the client reset the connection", source=source.name)
                self.close()
                return b""
            return bytes(super().recv(buffer_size))

        def close(self) -> None:
            upload = self.file_obj
            if not self._closed and self.receive and self.transfer_finished and upload and not upload.closed:
                try:
                    upload.flush()
                    os.fsync(upload.fileno())
                    upload.close()
                except OSError as err:  # a full disk: the client hears 452 and retries later
                    log.warning("upload not saved", source=source.name, path=upload.name, reason=err.strerror)
                    self._resp = (_FULL_REPLY if disk_full(err) else "451 Cannot save the upload.", ftp_logger.warning)
                    self.transfer_finished = False
                    super().close()
                    return
                refusal = source.accept(Path(upload.name), camera=self.cmd_channel.username)
                if refusal is not None:
                    self._resp = (refusal, ftp_logger.warning)
                    self.transfer_finished = False
            super().close()

    class Handler(FTPHandler):  # type: ignore[misc]
        authorizer = Authorizer()
        dtp_handler = DataChannel
        abstracted_fs = UploadFS
        banner = "camsift FTP ready."
        passive_ports = (
            range(source.config.passive_ports[0], source.config.passive_ports[1] + 1)
            if source.config.passive_ports
            else None
        )
        masquerade_address = source.config.masquerade_address

        def pre_process_command(self, line: str, cmd: str, arg: str) -> None:
            if "\0" in line:  # no path may hold one (open() would raise on it)
                log.warning("FTP command refused: NUL byte in it", source=source.name, command=cmd[:8])
                self.respond("501 Invalid character (NUL) in the command.")
                return
            super().pre_process_command(line, cmd, arg)

        def ftp_STOR(self, file: str, mode: str = "w") -> Any:  # noqa: N802 - pyftpdlib names commands so
            if source.full():
                log.warning("upload refused: data disk full", source=source.name, camera=self.username)
                self.respond(_FULL_REPLY)
                return None
            return super().ftp_STOR(file, mode)

        def on_incomplete_file_received(self, file: str) -> None:
            source.incomplete(Path(file), "the transfer did not complete")

    for user in source.config.users:
        Handler.authorizer.add_user(user, "", str(source.root / user), perm=PERMISSIONS)
    return Handler
