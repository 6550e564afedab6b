"""The real blinkpy code against Blink's HTTP API played by `FakeBlink`: login, 2FA, tokens, status, refusals."""

from __future__ import annotations

import asyncio
import json
import logging
import stat
import time
from pathlib import Path

import pytest

from blink_helpers import CODE_2FA, EMAIL, PASSWORD, FakeBlink, minutes_ago
from camsift.blink import AccountStatus, login, status
from camsift.blink.client import _REFRESH_MARGIN_S, BlinkClient, retry_after_s
from camsift.blink.tokens import load_token
from camsift.errors import AuthError, RateLimitError, SourceError

pytest_plugins = ["blink_fixtures"]


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
    assert front.summary() == "Front_Door armed, battery ok, 21.1 °C, wifi 4"
    doc = account.to_dict()
    assert json.loads(json.dumps(doc))["cameras"][1]["name"] == "Back Yard"


@pytest.mark.parametrize("how", ["given", "asked"])
def test_login_with_two_factor_code(blink: FakeBlink, token_file: Path, how: str) -> None:
    blink.two_factor = True
    asked: list[bool] = []

    def ask() -> str:
        asked.append(True)
        return CODE_2FA

    account = login(token_file, EMAIL, PASSWORD, CODE_2FA if how == "given" else None, ask if how == "asked" else None)

    assert len(account.cameras) == 2
    assert asked == ([True] if how == "asked" else [])
    assert blink.count("POST /oauth/v2/2fa/verify") == 1
    assert load_token(token_file)["refresh_token"] in blink.refresh


@pytest.mark.parametrize(
    ("two_factor", "password", "code", "message"),
    [
        (False, "hunter2-bad", None, "Blink rejected the login: wrong e-mail or password"),
        (True, PASSWORD, "000000", "Blink did not accept the two-factor code"),
        (True, PASSWORD, None, "Blink asks for the two-factor code"),
    ],
)
def test_a_refused_login_says_why_in_one_line_and_saves_nothing(
    blink: FakeBlink, token_file: Path, two_factor: bool, password: str, code: str | None, message: str
) -> None:
    blink.two_factor = two_factor
    with pytest.raises(AuthError, match=message) as raised:
        login(token_file, EMAIL, password, code)
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
    blink.picture = b"\xff\xd8\xff\xe0new picture\xff\xd9"
    assert snapshot(logged_in, "Front_Door") == blink.picture
    assert blink.count("POST /network/2222/camera/3333/thumbnail") == 1
    with pytest.raises(SourceError, match="no Blink camera 'Garage' \\(cameras: Front Door, Back Yard\\)"):
        snapshot(logged_in, "Garage")


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
