"""Web-app users: argon2 passwords, sessions that expire, API tokens kept as hashes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from camsift.errors import AuthError
from camsift.store import Store
from camsift.store.users import UserStore
from helpers.clock import FakeClock

PASSWORD = "correct horse battery staple"


@pytest.fixture
def users(tmp_path: Path, database_url: str | None, clock: FakeClock) -> Iterator[UserStore]:
    with Store(tmp_path / "data", database_url, clock=clock) as store:
        store.users.add("ann", PASSWORD)
        yield store.users


def test_verify_accepts_the_password_only(users: UserStore) -> None:
    assert users.verify("ann", PASSWORD).name == "ann"
    ann = users.user("ann")
    assert ann is not None
    assert ann.last_login_utc is not None
    for name, password in (("ann", PASSWORD + "x"), ("bob", PASSWORD), ("ann", "")):
        with pytest.raises(AuthError, match=r"^wrong user name or password$"):
            users.verify(name, password)


@pytest.mark.parametrize(
    ("name", "password", "reason"),
    [("ann", "short", "at least 10"), ("", PASSWORD, "user name"), ("two words", PASSWORD, "user name")],
)
def test_bad_names_and_short_passwords_are_refused(users: UserStore, name: str, password: str, reason: str) -> None:
    with pytest.raises(AuthError, match=reason):
        users.add(name, password)


def test_sessions_expire_and_a_new_password_ends_them(users: UserStore, clock: FakeClock) -> None:
    ann = users.verify("ann", PASSWORD)
    token, session = users.start_session(ann, 3600)
    short, _ = users.start_session(ann, 60)

    assert users.session(short) is not None
    clock.advance(61)
    assert users.session(token) == session
    assert users.session(short) is None
    users.add("ann", "another long password")
    assert users.session(token) is None


def test_tokens_and_removal(users: UserStore) -> None:
    token = users.new_token("ann", "backup script")

    owner = users.token_user(token)
    assert owner is not None
    assert owner.name == "ann"
    assert users.users()[0].tokens == 1
    assert users.revoke_tokens("ann") == 1
    assert users.token_user(token) is None
    users.remove("ann")
    assert users.users() == []
    with pytest.raises(AuthError, match="no user"):
        users.remove("ann")
