"""FTP account passwords, kept only as Argon2id hashes (argon2-cffi)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from camsift.errors import SourceError

if TYPE_CHECKING:
    from argon2 import PasswordHasher

__all__ = ["hash_password", "verify_password"]


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
