"""Web-app users, their login sessions and API tokens, in the event database.

Passwords are hashed with argon2id (argon2-cffi's defaults, RFC 9106's second
recommended profile); a login with an unknown name is checked against a dummy
hash so that timing does not tell which names exist. Session cookies and API
tokens are 256-bit random values (`secrets.token_urlsafe`); the database keeps
only their SHA-256, so a stolen backup opens no session. Nothing here logs or
returns a password or a token except `UserStore.start_session` and
`UserStore.new_token`, which hand the new secret to the caller once.

Example:
    >>> users = UserStore(Store(Path("camsift-data")))  # doctest: +SKIP
    >>> users.add("ann", "correct horse battery staple")  # doctest: +SKIP
    >>> users.verify("ann", "correct horse battery staple").name  # doctest: +SKIP
    'ann'
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from camsift.errors import AuthError, StorageError
from camsift.store.schema import sessions_table, tokens_table, users_table

if TYPE_CHECKING:
    from camsift.store import Store

__all__ = ["MIN_PASSWORD", "Session", "User", "UserStore", "check_user_name"]

MIN_PASSWORD = 10
"""Shortest password accepted (NIST SP 800-63B asks for at least 8; this app shows the inside of homes)."""

_HASHER = PasswordHasher()
_DUMMY = _HASHER.hash("camsift-dummy-password")


@dataclass(frozen=True)
class User:
    """A person who may log in.

    Attributes:
        id: Row id.
        name: Login name.
        created_utc: When the account was made.
        last_login_utc: Last successful login (``None``: never).
        tokens: Number of API tokens.
    """

    id: int
    name: str
    created_utc: datetime
    last_login_utc: datetime | None
    tokens: int = 0


@dataclass(frozen=True)
class Session:
    """A logged-in browser.

    Attributes:
        user: Who is logged in.
        csrf: The anti-forgery token forms and scripts must send back.
        expires_utc: When the session ends.
    """

    user: User
    csrf: str
    expires_utc: datetime


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_user_name(name: str) -> str:
    """A login name, stripped.

    Raises:
        AuthError: empty, longer than 64 characters, or with spaces or control characters.
    """
    name = name.strip()
    if not name or len(name) > 64 or not name.isprintable() or any(c.isspace() for c in name):
        raise AuthError(f"{name!r}: a user name must be 1-64 printable characters without spaces")
    return name


class UserStore:
    """Users, sessions and API tokens of a `Store`.

    Args:
        store: The event store.
    """

    def __init__(self, store: Store) -> None:
        self.engine = store.engine
        self._clock = store.clock

    def add(self, name: str, password: str) -> User:
        """Create a user, or set a new password for an existing one.

        Raises:
            AuthError: bad name, or a password shorter than `MIN_PASSWORD`.
            StorageError: the database refused the write.
        """
        name = check_user_name(name)
        if len(password) < MIN_PASSWORD:
            raise AuthError(f"user {name}: the password needs at least {MIN_PASSWORD} characters")
        digest = _HASHER.hash(password)
        t = users_table
        try:
            with self.engine.begin() as conn:
                row = conn.execute(sa.select(t.c.id).where(t.c.name == name)).first()
                if row is None:
                    conn.execute(t.insert().values(name=name, password_hash=digest, created_utc=self._clock()))
                else:  # a new password ends the sessions opened with the old one
                    conn.execute(t.update().where(t.c.id == row.id).values(password_hash=digest))
                    conn.execute(sessions_table.delete().where(sessions_table.c.user_id == row.id))
        except sa.exc.SQLAlchemyError as err:
            raise StorageError(f"cannot save user {name}: {err.__class__.__name__}") from err
        user = self.user(name)
        assert user is not None
        return user

    def remove(self, name: str) -> None:
        """Delete a user with their sessions and tokens.

        Raises:
            AuthError: no such user.
        """
        with self.engine.begin() as conn:
            if conn.execute(users_table.delete().where(users_table.c.name == name)).rowcount == 0:
                raise AuthError(f"no user {name!r}")

    def users(self) -> list[User]:
        """Every user, by name."""
        t = users_table
        tokens = sa.select(sa.func.count()).where(tokens_table.c.user_id == t.c.id).scalar_subquery()
        query = sa.select(t.c.id, t.c.name, t.c.created_utc, t.c.last_login_utc, tokens).order_by(t.c.name)
        with self.engine.connect() as conn:
            return [User(*row) for row in conn.execute(query)]

    def user(self, name: str) -> User | None:
        """A user by name."""
        return next((u for u in self.users() if u.name == name), None)

    def count(self) -> int:
        """Number of users."""
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(users_table)).scalar_one())

    def verify(self, name: str, password: str) -> User:
        """The user whose name and password these are.

        Raises:
            AuthError: unknown name or wrong password (the same message for both).
        """
        t = users_table
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t.c.id, t.c.password_hash).where(t.c.name == name)).first()
        try:
            _HASHER.verify(row.password_hash if row else _DUMMY, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            row = None
        if row is None:
            raise AuthError("wrong user name or password")
        with self.engine.begin() as conn:
            conn.execute(t.update().where(t.c.id == row.id).values(last_login_utc=self._clock()))
        user = self.user(name)
        assert user is not None
        return user

    def start_session(self, user: User, lifetime_s: float) -> tuple[str, Session]:
        """Open a session; returns the cookie value (shown once) and the session."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = self._clock()
        expires = now + timedelta(seconds=lifetime_s)
        with self.engine.begin() as conn:
            conn.execute(sessions_table.delete().where(sessions_table.c.expires_utc < now))
            conn.execute(
                sessions_table.insert().values(
                    token_sha256=_sha(token), user_id=user.id, csrf=csrf, created_utc=now, expires_utc=expires
                )
            )
        return token, Session(user, csrf, expires)

    def session(self, token: str) -> Session | None:
        """The live session of a cookie value (``None`` when unknown or expired)."""
        s, u = sessions_table, users_table
        query = (
            sa.select(u.c.id, u.c.name, u.c.created_utc, u.c.last_login_utc, s.c.csrf, s.c.expires_utc)
            .join(u, u.c.id == s.c.user_id)
            .where(s.c.token_sha256 == _sha(token), s.c.expires_utc > self._clock())
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return Session(User(row.id, row.name, row.created_utc, row.last_login_utc), row.csrf, row.expires_utc)

    def end_session(self, token: str) -> None:
        """Log a session out."""
        with self.engine.begin() as conn:
            conn.execute(sessions_table.delete().where(sessions_table.c.token_sha256 == _sha(token)))

    def new_token(self, name: str, label: str = "api") -> str:
        """Make an API token for a user; returns it (it cannot be shown again).

        Raises:
            AuthError: no such user.
        """
        user = self.user(name)
        if user is None:
            raise AuthError(f"no user {name!r}")
        token = "cs_" + secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            conn.execute(
                tokens_table.insert().values(
                    user_id=user.id, label=label[:64], token_sha256=_sha(token), created_utc=self._clock()
                )
            )
        return token

    def revoke_tokens(self, name: str) -> int:
        """Delete every API token of a user; returns how many there were."""
        user = self.user(name)
        if user is None:
            raise AuthError(f"no user {name!r}")
        with self.engine.begin() as conn:
            return int(conn.execute(tokens_table.delete().where(tokens_table.c.user_id == user.id)).rowcount)

    def token_user(self, token: str) -> User | None:
        """The user an API token belongs to (``None`` when unknown)."""
        k, u = tokens_table, users_table
        query = (
            sa.select(u.c.id, u.c.name, u.c.created_utc, u.c.last_login_utc, k.c.id.label("token_id"))
            .join(u, u.c.id == k.c.user_id)
            .where(k.c.token_sha256 == _sha(token))
        )
        with self.engine.begin() as conn:
            row = conn.execute(query).first()
            if row is None:
                return None
            conn.execute(k.update().where(k.c.id == row.token_id).values(last_used_utc=self._clock()))
        return User(row.id, row.name, row.created_utc, row.last_login_utc)
