"""The Blink login files: what lets camsift talk to Blink without the password.

- The **token file** holds blinkpy's login attributes (access and refresh
  token, expiry, region, account id, the hardware id the refresh token is
  bound to).
- The **pending sign-in** (``<token file stem>.pending.json`` beside it)
  holds a sign-in waiting for its two-factor code, so ``camsift blink
  verify CODE`` can finish it in another process: the hardware id, the
  OAuth CSRF token and PKCE verifier, and Blink's sign-in session cookies.

Neither ever holds the password or the e-mail. Both are created with mode
0600 (`camsift.layout.atomic_writer` gives the new file that mode as it
creates it, so there is no moment when they are readable by others) and
replaced atomically, so a crash while saving never leaves half a file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from camsift.errors import AuthError
from camsift.layout import DataDir, write_atomically

__all__ = [
    "KEPT_KEYS",
    "PENDING_KEYS",
    "default_token_file",
    "drop_pending",
    "load_pending",
    "load_token",
    "pending_file",
    "save_pending",
    "save_token",
]

KEPT_KEYS = (
    "token",
    "expires_in",
    "expiration_date",
    "refresh_token",
    "host",
    "region_id",
    "client_id",
    "account_id",
    "user_id",
    "hardware_id",
)
"""blinkpy login attributes kept in the file (``username`` and ``password`` are never written)."""

PENDING_KEYS = ("hardware_id", "csrf_token", "code_verifier", "cookies", "started_utc")
"""What a pending sign-in keeps (``cookies``: name to value, for Blink's sign-in host)."""


def default_token_file(data_dir: Path) -> Path:
    """``<data_dir>/blink/token.json``."""
    return DataDir(data_dir).blink / "token.json"


def pending_file(token_file: Path) -> Path:
    """Where a sign-in waiting for its code is kept: ``token.json`` -> ``token.pending.json``."""
    return token_file.with_name(f"{token_file.stem}.pending.json")


def _read(path: Path) -> object:
    """The JSON in ``path``; ``FileNotFoundError`` passes, other failures are `AuthError`."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as err:
        raise AuthError(f"{path}: not a readable Blink login file; run 'camsift blink login' again") from err


def _write_private(path: Path, doc: dict[str, Any]) -> None:
    """Write ``doc`` to ``path`` as JSON: mode 0600, atomically, parent folders made 0700.

    Raises:
        AuthError: the file cannot be written.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomically(path, json.dumps(doc, indent=2), mode=0o600)
    except OSError as err:
        raise AuthError(f"{path}: cannot save the Blink login: {err.strerror or err}") from err


def load_token(path: Path) -> dict[str, Any]:
    """Read the token file.

    Returns:
        The kept attributes (unknown keys are dropped).

    Raises:
        AuthError: no file (never logged in), or it is unreadable or not a token; the
            message says to run ``camsift blink login``.
    """
    try:
        data = _read(path)
    except FileNotFoundError as err:
        raise AuthError(f"{path}: no Blink login yet; run 'camsift blink login'") from err
    if not isinstance(data, dict) or not data.get("refresh_token"):
        raise AuthError(f"{path}: not a Blink token file (no refresh token); run 'camsift blink login' again")
    return {k: data.get(k) for k in KEPT_KEYS}


def save_token(path: Path, attributes: dict[str, Any]) -> None:
    """Write the kept attributes to ``path`` (mode 0600, atomically; parent folders made 0700).

    Raises:
        AuthError: the file cannot be written.
    """
    _write_private(path, {k: attributes.get(k) for k in KEPT_KEYS})


def save_pending(token_file: Path, pending: dict[str, Any]) -> None:
    """Keep a sign-in waiting for its two-factor code (`PENDING_KEYS` only) beside ``token_file``.

    Raises:
        AuthError: the file cannot be written.
    """
    _write_private(pending_file(token_file), {k: pending.get(k) for k in PENDING_KEYS})


def load_pending(token_file: Path) -> dict[str, Any]:
    """The sign-in waiting for its code.

    Raises:
        AuthError: there is none (or it is unreadable): ``camsift blink login`` first.
    """
    path = pending_file(token_file)
    try:
        data = _read(path)
    except FileNotFoundError as err:
        raise AuthError(f"{path}: no sign-in waits for a code; run 'camsift blink login' first") from err
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in PENDING_KEYS[:3]):
        raise AuthError(f"{path}: not a pending Blink sign-in; run 'camsift blink login' again")
    return {k: data.get(k) for k in PENDING_KEYS}


def drop_pending(token_file: Path) -> None:
    """Forget the sign-in waiting for its code (done, or replaced by a new sign-in)."""
    pending_file(token_file).unlink(missing_ok=True)
