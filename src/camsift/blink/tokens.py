"""The Blink login token file: what lets camsift talk to Blink without the password.

The file holds blinkpy's login attributes (access and refresh token, expiry,
region, account id, the hardware id the refresh token is bound to) and never
the password or e-mail. It is created with mode 0600 (``os.open`` with the
mode, so there is no moment when it is readable by others) and replaced
atomically, so a crash while saving never leaves half a token.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from camsift.errors import AuthError

__all__ = ["KEPT_KEYS", "default_token_file", "load_token", "save_token"]

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


def default_token_file(data_dir: Path) -> Path:
    """``<data_dir>/blink/token.json``."""
    return data_dir / "blink" / "token.json"


def load_token(path: Path) -> dict[str, Any]:
    """Read the token file.

    Returns:
        The kept attributes (unknown keys are dropped).

    Raises:
        AuthError: no file (never logged in), or it is unreadable or not a token; the
            message says to run ``camsift blink login``.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise AuthError(f"{path}: no Blink login yet; run 'camsift blink login'") from err
    except (OSError, ValueError) as err:
        raise AuthError(f"{path}: not a readable Blink token file; run 'camsift blink login' again") from err
    if not isinstance(data, dict) or not data.get("refresh_token"):
        raise AuthError(f"{path}: not a Blink token file (no refresh token); run 'camsift blink login' again")
    return {k: data.get(k) for k in KEPT_KEYS}


def save_token(path: Path, attributes: dict[str, Any]) -> None:
    """Write the kept attributes to ``path`` (mode 0600, atomically; parent folders made 0700).

    Raises:
        AuthError: the file cannot be written.
    """
    kept = {k: attributes.get(k) for k in KEPT_KEYS}
    part = path.with_name(path.name + ".part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        part.unlink(missing_ok=True)
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(kept, f, indent=2)
        os.replace(part, path)
    except OSError as err:
        raise AuthError(f"{path}: cannot save the Blink token: {err.strerror or err}") from err
