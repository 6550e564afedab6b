"""The real blinkpy code against Blink's HTTP API played by the strict `FakeBlink`: two-step login, tokens, status of
every model, snapshots, refusals."""

from __future__ import annotations

import asyncio
import json
import logging
import stat
import time
from pathlib import Path

import pytest

from camsift.blink import AccountStatus, login, status, verify
from camsift.blink.auth import _REFRESH_MARGIN_S
from camsift.blink.client import BlinkClient, retry_after_s
from camsift.blink.tokens import load_token, pending_file
from camsift.errors import AuthError, RateLimitError, SourceError
from helpers.blink import EMAIL, MP4, PASSWORD, FakeBlink, minutes_ago

pytest_plugins = ["helpers.blink_fixtures"]


def test_login_saves_a_private_token_without_the_password_and_lists_the_cameras(
    blink: FakeBlink, token_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    account = login(token_file, EMAIL, PASSWORD)

    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    text = token_file.read_text()
    saved = json.loads(text)
    assert PASSWORD not in text
    assert EMAIL not in text
    assert "password" not in saved
    assert "username" not in saved
    assert saved["refresh_token"] in blink.refresh
    assert saved["token"] in blink.access
    assert saved["account_id"] == 1111
    assert saved["region_id"] == "u011"
    assert account is not None
    assert [c.name for c in account.cameras] == ["Front Door", "Back Yard"]
    assert blink.count("POST /oauth/v2/signin") == 1
    assert blink.count("2fa") == 0
    for secret in (PASSWORD, saved["token"], saved["refresh_token"]):
        assert secret not in caplog.text


def test_status_converts_blinks_answers_into_camsift_types(blink: FakeBlink, logged_in: Path) -> None:
    account = status(logged_in)

    assert isinstance(account, AccountStatus)
    assert account.account_id == "1111"
    (home,) = account.networks
    assert (home.name, home.network_id, home.sync_id, home.online, home.armed, home.local_storage) == (
        "Home",
        "2222",
        "4444",
        True,
        True,
        True,
    )
    front = account.cameras[0]
    assert (front.camera, front.armed, front.online, front.battery, front.battery_v, front.wifi) == (
        "Front_Door",
        True,
        True,
        "ok",
        1.63,
        4,
    )
    assert front.temperature_c == pytest.approx(21.1)  # 70 °F
    assert front.wifi_unit == "bars"
    assert front.summary() == "Front_Door armed, battery ok, 21.1 °C, wifi 4 bars"
    doc = account.to_dict()
    assert json.loads(json.dumps(doc))["cameras"][1]["name"] == "Back Yard"


def test_a_login_blink_answers_with_a_code_waits_for_it_and_verify_finishes_it(
    blink: FakeBlink, token_file: Path
) -> None:
    blink.two_factor = True

    assert login(token_file, EMAIL, PASSWORD) is None

    pending = pending_file(token_file)
    assert stat.S_IMODE(pending.stat().st_mode) == 0o600
    assert PASSWORD not in pending.read_text()
    assert EMAIL not in pending.read_text()
    assert not token_file.exists()

    account = verify(token_file, blink.sent_codes[-1])  # another process, as a script or the web app runs it

    assert [c.name for c in account.cameras] == ["Front Door", "Back Yard"]
    assert load_token(token_file)["refresh_token"] in blink.refresh
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert not pending.exists()
    assert blink.count("POST /oauth/v2/signin") == 1
    assert blink.count("POST /oauth/v2/2fa/verify") == 1


def test_each_sign_in_sends_a_new_code_and_only_the_last_one_works(blink: FakeBlink, token_file: Path) -> None:
    blink.two_factor = True
    login(token_file, EMAIL, PASSWORD)
    login(token_file, EMAIL, PASSWORD)
    first, second = blink.sent_codes

    with pytest.raises(AuthError, match=r"did not accept the two-factor code: Blink answered 400 Bad Request"):
        verify(token_file, first)
    assert pending_file(token_file).exists()  # a mistyped code can be given again

    verify(token_file, second)
    assert load_token(token_file)["refresh_token"] in blink.refresh
    assert first != second


def test_verify_with_no_sign_in_waiting_says_to_log_in_first(blink: FakeBlink, token_file: Path) -> None:
    with pytest.raises(AuthError, match=r"no sign-in waits for a code; run 'camsift blink login' first"):
        verify(token_file, "123456")


@pytest.mark.parametrize(
    ("fault", "password", "error", "message"),
    [
        (
            None,
            "hunter2-bad",
            AuthError,
            r"rejected the login: wrong e-mail or password \(Blink: Invalid credentials\)",
        ),
        (("/oauth/v2/authorize", 406, None), PASSWORD, AuthError, r"Blink's edge refused the request \(406 Not Acc"),
        (("/oauth/v2/signin", 429, "30"), PASSWORD, RateLimitError, r"429 .*signin \(it asks to wait 30 s\)"),
        (("/oauth/v2/signin", 403, None), PASSWORD, AuthError, r"rejected the login: Blink answered 403 Forbidden"),
    ],
)
def test_a_refused_login_says_blinks_reason_in_one_line_and_saves_nothing(
    blink: FakeBlink,
    token_file: Path,
    fault: tuple[str, int, str | None] | None,
    password: str,
    error: type[Exception],
    message: str,
) -> None:
    if fault is not None:
        blink.fail(fault[0], fault[1], retry_after=fault[2])
    with pytest.raises(error, match=message) as raised:
        login(token_file, EMAIL, password)
    assert "\n" not in str(raised.value)
    assert password not in str(raised.value)
    assert not token_file.exists()


def test_a_token_near_its_end_is_renewed_and_the_new_refresh_token_saved(blink: FakeBlink, logged_in: Path) -> None:
    before = load_token(logged_in)
    doc = json.loads(logged_in.read_text())
    doc["expiration_date"] = doc["expiration_date"] - 3500  # 100 s left: inside the 10-minute margin
    logged_in.write_text(json.dumps(doc))

    status(logged_in)

    after = load_token(logged_in)
    assert after["refresh_token"] != before["refresh_token"]
    assert after["token"] != before["token"]
    assert before["refresh_token"] not in blink.refresh
    assert after["refresh_token"] in blink.refresh
    assert after["hardware_id"] == before["hardware_id"]
    assert stat.S_IMODE(logged_in.stat().st_mode) == 0o600
    assert blink.count("POST /oauth/token") == 2  # login, renewal


def test_a_fresh_token_is_used_as_it_is(blink: FakeBlink, logged_in: Path) -> None:
    status(logged_in)
    assert blink.count("POST /oauth/token") == 1


def test_a_revoked_login_means_login_needed(blink: FakeBlink, logged_in: Path) -> None:
    blink.revoke()
    doc = json.loads(logged_in.read_text())
    doc["expiration_date"] = 0
    logged_in.write_text(json.dumps(doc))
    with pytest.raises(AuthError, match="run 'camsift blink login'"):
        status(logged_in)


def test_a_401_on_an_api_call_means_login_needed(blink: FakeBlink, logged_in: Path) -> None:
    async def go() -> None:
        async with BlinkClient(logged_in) as client:
            await client.connect()
            blink.access.clear()
            await client.refresh_status()

    with pytest.raises(AuthError, match="login needed"):
        asyncio.run(go())


def test_no_token_file_means_login_needed(blink: FakeBlink, token_file: Path) -> None:
    with pytest.raises(AuthError, match="no Blink login yet; run 'camsift blink login'"):
        status(token_file)


@pytest.mark.parametrize(
    ("status_code", "headers", "wait"), [(429, {"Retry-After": "17"}, 17.0), (500, {}, None), (503, {}, None)]
)
def test_429_and_5xx_become_rate_limit_errors_with_retry_after(
    blink: FakeBlink, logged_in: Path, status_code: int, headers: dict[str, str], wait: float | None
) -> None:
    blink.fail("/homescreen", status_code, retry_after=headers.get("Retry-After"))
    with pytest.raises(RateLimitError, match=f"Blink answered {status_code}") as raised:
        status(logged_in)
    assert raised.value.retry_after_s == wait


def test_an_unreachable_blink_is_a_source_error(blink: FakeBlink, logged_in: Path) -> None:
    blink.stop()
    with pytest.raises(SourceError, match="cannot reach Blink"):
        status(logged_in)


def test_retry_after_reads_seconds_and_http_dates() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 11, 22, 8, 0, 0, tzinfo=UTC)
    assert retry_after_s("120") == 120.0
    assert retry_after_s("Sun, 22 Nov 2026 08:01:30 GMT", now) == 90.0
    assert retry_after_s("soon") is None
    assert retry_after_s(None) is None


def test_arm_disarm_and_snapshot(blink: FakeBlink, logged_in: Path) -> None:
    from camsift.blink import arm, snapshot

    assert arm(logged_in, "Home", False) is False
    assert blink.armed is False
    assert arm(logged_in, "home", True) is True
    assert blink.armed is True
    old = blink.device("Front Door").picture
    blink.device("Front Door").next_picture = NEW_PICTURE
    assert snapshot(logged_in, "Front_Door") == NEW_PICTURE != old
    assert blink.count("POST /network/2222/camera/3333/thumbnail") == 1
    with pytest.raises(SourceError, match="no Blink camera 'Garage' \\(cameras: Front Door, Back Yard\\)"):
        snapshot(logged_in, "Garage")


NEW_PICTURE = b"\xff\xd8\xff\xe0the new picture\xff\xd9"

HOUSEHOLD = {"cameras": ("Front Door",), "minis": ("Living Room",), "doorbells": ("Porch",)}
"""A Blink Outdoor and a Mini on the Sync Module's network, a doorbell on a network of its own."""


@pytest.mark.parametrize("blink", [HOUSEHOLD], indirect=True)
def test_minis_and_doorbells_report_their_own_values_wifi_labelled_and_degrees_in_celsius(
    blink: FakeBlink, logged_in: Path
) -> None:
    account = status(logged_in)

    rows = {c.name: (c.network, c.model, c.battery, c.temperature_c, c.wifi, c.wifi_unit) for c in account.cameras}
    assert rows == {
        "Front Door": ("Home", "catalina", "ok", 21.1, 4, "bars"),  # 70 °F
        "Living Room": ("Home", "owl", None, None, -58, "dBm"),  # wired, no thermometer, an RSSI
        "Porch": ("Porch", "lotus", "ok", 20.0, 3, "bars"),  # 68 °F, under "signals"
    }
    assert sorted(n.name for n in account.networks) == ["Home", "Porch"]
    assert sorted(c.summary() for c in account.cameras) == [
        "Front_Door armed, battery ok, 21.1 °C, wifi 4 bars",
        "Living_Room armed, wifi -58 dBm",
        "Porch armed, battery ok, 20.0 °C, wifi 3 bars",
    ]


@pytest.mark.parametrize("blink", [HOUSEHOLD], indirect=True)
@pytest.mark.parametrize(
    ("camera", "command"),
    [
        ("Living Room", "POST /api/v1/accounts/1111/networks/2222/owls/3334/thumbnail"),
        ("Porch", "POST /api/v1/accounts/1111/networks/6002/doorbells/3335/thumbnail"),
    ],
)
def test_a_snapshot_of_a_mini_or_a_doorbell_is_the_new_picture(
    blink: FakeBlink, logged_in: Path, camera: str, command: str
) -> None:
    """Minis and doorbells have no config of their own: the new picture's address is in the next home screen."""
    from camsift.blink import snapshot

    old = blink.device(camera).picture
    blink.device(camera).next_picture = NEW_PICTURE

    assert snapshot(logged_in, camera) == NEW_PICTURE != old
    assert blink.count(command) == 1


@pytest.mark.parametrize("blink", [HOUSEHOLD], indirect=True)
def test_clips_of_minis_and_doorbells_are_listed_with_their_network(blink: FakeBlink, logged_in: Path) -> None:
    blink.add_clip("Living Room", MP4, minutes_ago(9))
    blink.add_clip("Porch", MP4, minutes_ago(8))

    async def go() -> list[tuple[str, str]]:
        async with BlinkClient(logged_in) as client:
            await client.connect()
            return [(c.camera, c.network) for c in await client.cloud_clips(minutes_ago(60))]

    assert asyncio.run(go()) == [("Living_Room", "Home"), ("Porch", "Porch")]


def test_a_snapshot_blink_never_shows_is_an_error_not_the_old_picture(blink: FakeBlink, logged_in: Path) -> None:
    from camsift.blink import snapshot

    blink.fail(
        "/camera/3333/config",
        200,
        times=10,
        body=json.dumps(
            {
                "camera": [
                    {
                        "id": 3333,
                        "name": "Front Door",
                        "network_id": 2222,
                        "type": "catalina",
                        "thumbnail": f"/api/v3/media/accounts/1111/networks/2222/catalina/"
                        f"3333/thumbnail/thumbnail.jpg?ts={blink.device('Front Door').thumbnail_ts}&ext=",
                    }
                ]
            }
        ),
        content_type="application/json",
    )

    with pytest.raises(SourceError, match="Blink shows no new picture yet; try again in a minute"):
        snapshot(logged_in, "Front Door")


def test_two_processes_sharing_the_token_renew_it_once(blink: FakeBlink, logged_in: Path) -> None:
    """The service and a ``camsift blink`` command: the second takes the token the first saved, since Blink
    rotates refresh tokens and the old one no longer works."""

    async def go() -> tuple[str, str]:
        async with BlinkClient(logged_in) as a, BlinkClient(logged_in) as b:
            await a.connect()
            await b.connect()
            for client in (a, b):
                client.blink.auth.expiration_date = time.time() + 100
            assert await a.renew_token()
            assert not await b.renew_token()
            await b.refresh_status()  # works with the adopted token
            return a.blink.auth.token, b.blink.auth.token

    renewals = blink.count("POST /oauth/token")
    token_a, token_b = asyncio.run(go())
    assert token_a == token_b
    assert blink.count("POST /oauth/token") == renewals + 1


def expire_soon(token_file: Path, left_s: float = 100.0) -> None:
    """Make the saved access token expire in ``left_s`` seconds (inside the renewal margin)."""
    doc = json.loads(token_file.read_text())
    doc["expiration_date"] = time.time() + left_s
    token_file.write_text(json.dumps(doc))


@pytest.mark.parametrize(
    ("left_s", "renewed"), [(_REFRESH_MARGIN_S - 30, True), (_REFRESH_MARGIN_S + 60, False), (3000.0, False)]
)
def test_the_token_is_renewed_within_ten_minutes_of_its_end_and_not_before(
    blink: FakeBlink, logged_in: Path, left_s: float, renewed: bool
) -> None:
    assert _REFRESH_MARGIN_S == 600.0  # the README and the docstrings say 10 minutes
    expire_soon(logged_in, left_s)
    status(logged_in)
    assert blink.count("POST /oauth/token") == (2 if renewed else 1)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [("<html><body>Down for maintenance</body></html>", "text/html"), ("{not json", "application/json")],
)
def test_a_token_renewal_answered_with_no_json_means_login_needed_in_one_line(
    blink: FakeBlink, logged_in: Path, body: str, content_type: str
) -> None:
    expire_soon(logged_in)
    blink.fail("/oauth/token", 200, body=body, content_type=content_type)

    with pytest.raises(AuthError, match=r"not JSON.*run 'camsift blink login'") as raised:
        status(logged_in)

    assert "\n" not in str(raised.value)
    assert blink.count("POST /oauth/token") == 2


def test_status_shows_each_cameras_last_motion_from_blinks_clip_list(blink: FakeBlink, logged_in: Path) -> None:
    body = b"\x00\x00\x00\x18ftypmp42" + bytes(10)
    newest = minutes_ago(5)
    blink.add_clip("Front Door", body, minutes_ago(50))
    blink.add_clip("Front Door", body, newest)
    blink.add_clip("Front Door", body, minutes_ago(2)).deleted = True  # deleted in the app: not motion to show

    front, back = status(logged_in).cameras

    assert front.last_motion_utc == newest
    assert back.last_motion_utc is None  # no clip of it
    assert blink.count("GET /api/v1/accounts/1111/media/changed") == 1  # one page: Blink lists newest first


def test_clip_listings_keep_last_motion_up_to_date_without_more_requests(blink: FakeBlink, logged_in: Path) -> None:
    body = b"\x00\x00\x00\x18ftypmp42" + bytes(10)
    back_motion, front_motion = minutes_ago(9), minutes_ago(4)

    async def go() -> list[AccountStatus]:
        async with BlinkClient(logged_in) as client:
            await client.connect()
            before = client.status()
            blink.add_clip("Back Yard", body, back_motion)
            blink.add_clip("Front Door", body, front_motion, local=True)
            await client.cloud_clips(minutes_ago(60))
            await client.local_clips()
            return [before, client.status()]

    before, after = asyncio.run(go())

    assert [c.last_motion_utc for c in before.cameras] == [None, None]
    front, back = (c.last_motion_utc for c in after.cameras)
    assert back == back_motion
    assert front is not None
    assert abs((front - front_motion).total_seconds()) < 1  # as the USB stick's manifest says it
