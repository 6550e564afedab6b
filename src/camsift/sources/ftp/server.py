"""The FTP server itself: pyftpdlib's handler, authorizer, filesystem and data channel, made for one source.

Kept apart from `camsift.sources.ftp.FtpSource` (what to do with an upload, who may log in) so that the
pyftpdlib glue, which follows pyftpdlib's own names and hooks, reads in one place.
"""

from __future__ import annotations

import os
import secrets
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any

from camsift.errors import AuthError, disk_full
from camsift.logs import get_logger
from camsift.sources import contained

if TYPE_CHECKING:
    from camsift.sources.ftp import FtpSource

__all__ = ["FULL_REPLY", "PERMISSIONS", "handler_class", "open_part"]

log = get_logger("camsift.sources.ftp")

FULL_REPLY = "452 Data disk full; try again later."
"""The reply to an upload while the data disk is full: cameras retry later."""

PERMISSIONS = "elmw"
"""What a camera may do (pyftpdlib letters): change and list folders, make folders, store files.
No reading back, deleting, renaming or appending."""


def open_part(path: Path) -> Any:
    """A new temporary file for an upload to ``path``, open for writing: ``.<name>.<random>.part``.

    Created exclusively (``x`` mode, which also refuses to follow a link), so
    no two uploads share one and no link is written through.
    """
    while True:
        part = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
        try:
            return part.open("xb")
        except FileExistsError:
            continue


def handler_class(source: FtpSource) -> Any:
    """pyftpdlib's handler, authorizer, filesystem and data channel, specialised for ``source``."""
    from pyftpdlib.authorizers import AuthenticationFailed, DummyAuthorizer
    from pyftpdlib.filesystems import AbstractedFS
    from pyftpdlib.handlers import DTPHandler, FTPHandler
    from pyftpdlib.log import logger as ftp_logger

    class Authorizer(DummyAuthorizer):  # type: ignore[misc]
        def validate_authentication(self, username: str, password: str, handler: Any) -> None:
            try:
                source.authenticate(username, password, handler.remote_ip)
            except AuthError as err:
                raise AuthenticationFailed("Authentication failed.") from err

    class UploadFS(AbstractedFS):  # type: ignore[misc]
        def validpath(self, path: str) -> bool:
            return bool(super().validpath(path)) and contained(Path(self.root), Path(path))

        def open(self, filename: str, mode: str) -> Any:
            if "w" not in mode:
                return super().open(filename, mode)
            return open_part(Path(filename))

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
                    self._resp = (FULL_REPLY if disk_full(err) else "451 Cannot save the upload.", ftp_logger.warning)
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
        timeout = source.config.idle_timeout_s
        _login_timer: Any = None

        def handle(self) -> None:
            if source.banned(self.remote_ip):
                self.respond("421 Too many failed logins from your address; try again later.")
                self.close_when_done()
                return
            self._login_timer = self.ioloop.call_later(
                source.config.login_timeout_s, self._login_expired, _errback=self.handle_error
            )
            super().handle()

        def _login_expired(self) -> None:
            if not self.authenticated and not self._closed and not self._closing:
                self.respond("421 Login timed out.")
                self.close_when_done()

        def close(self) -> None:
            if self._login_timer is not None and not self._login_timer.cancelled:
                self._login_timer.cancel()
            super().close()

        def pre_process_command(self, line: str, cmd: str, arg: str) -> None:
            if "\0" in line:  # no path may hold one (open() would raise on it)
                log.warning("FTP command refused: NUL byte in it", source=source.name, command=cmd[:8])
                self.respond("501 Invalid character (NUL) in the command.")
                return
            super().pre_process_command(line, cmd, arg)

        def ftp_PASS(self, line: str) -> None:  # noqa: N802 - pyftpdlib's name
            if self.authenticated or not self.username or source.answered(self.username, line, self.remote_ip):
                super().ftp_PASS(line)
                return

            def resume() -> None:  # on the server's thread, the verdict waiting in the source
                if not self._closed:
                    self.add_channel()
                    super(Handler, self).ftp_PASS(line)

            self.del_channel()  # no command is read from this client until its password is checked
            source.check_later(self.username, line, self.remote_ip, resume)

        def ftp_STOR(self, file: str, mode: str = "w") -> Any:  # noqa: N802 - pyftpdlib names commands so
            if source.full():
                log.warning("upload refused: data disk full", source=source.name, camera=self.username)
                self.respond(FULL_REPLY)
                return None
            return super().ftp_STOR(file, mode)

        def on_incomplete_file_received(self, file: str) -> None:
            source.incomplete(Path(file), "the transfer did not complete")

    for user in source.config.users:
        Handler.authorizer.add_user(user, "", str(source.root / user), perm=PERMISSIONS)
    return Handler
