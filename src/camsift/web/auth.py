"""Who may use the web app: session cookies, API tokens, CSRF checks, login rate limiting, security headers.

- A browser logs in with a name and password (`camsift.store.users.UserStore`)
  and gets a random session token in an HttpOnly, SameSite=Lax cookie,
  Secure when the request came over HTTPS or to this machine
  (``web.cookie_secure``).
- A script sends ``Authorization: Bearer <token>`` (``camsift users token``).
  DeepStack clients (Blue Iris, Agent DVR, Home Assistant), which can only
  send a form field, may give the same token as the ``api_key`` field of a
  form posted to the detection API (`API_KEY_PATHS`), as DeepStack's own
  ``API-KEY`` is given.
- Every state change (POST, PUT, PATCH, DELETE) made with a session cookie
  must carry the session's CSRF token, in an ``X-CSRF-Token`` header or a
  ``csrf_token`` form field (OWASP's synchronizer-token pattern); bearer
  tokens are not sent by browsers on their own, so they need none.
- Failed logins are counted per client address and per user name
  (``web.login_attempts`` in ``web.login_window_s``); beyond, 429.
- Frigate's clients log in with ``POST /api/login`` and get a ``frigate_token``
  cookie holding a JWT (`frigate_token`), which they send back as that cookie
  (read-only requests) or as ``Authorization: Bearer``. The JWT stands for a
  camsift session: it is signed with the session's own token (its ``jti``), so
  logging out or the session's end makes it invalid.
- ``web.unauthenticated_port`` (off by default) lets every request on that port
  in, as Frigate's internal port does; requests a browser marks as coming from a
  web page (``Origin``, ``Sec-Fetch-Site``) are refused there.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from fastapi import HTTPException, Request, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from camsift.detectors.deepstack import PATH as DEEPSTACK_PATH

if TYPE_CHECKING:
    from camsift.store.users import Session, User
    from camsift.web.state import WebState

__all__ = [
    "API_KEY_FIELD",
    "API_KEY_PATHS",
    "CSRF_HEADER",
    "FRIGATE_COOKIE",
    "LOGIN_CSRF_COOKIE",
    "SESSION_COOKIE",
    "LoginLimiter",
    "NotLoggedInError",
    "Principal",
    "SecurityHeaders",
    "authorize",
    "cookie_secure",
    "frigate_session_key",
    "frigate_token",
    "verify_login",
]

SESSION_COOKIE = "camsift_session"
FRIGATE_COOKIE = "frigate_token"
"""The cookie Frigate's ``/api/login`` sets (a JWT); its clients read it from ``Set-Cookie``."""
LOGIN_CSRF_COOKIE = "camsift_login"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

API_KEY_FIELD = "api_key"
"""The form field DeepStack clients send their key in (DeepStack's ``API-KEY``)."""
API_KEY_PATHS = frozenset({DEEPSTACK_PATH})
"""Where an API token is also accepted as `API_KEY_FIELD`: the DeepStack detection API (`camsift.detection_api`).

Matched on the end of the path, so that a prefix a reverse proxy adds (``root_path``) does not matter."""

CSP = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self'; script-src 'self'; style-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
"""No inline script or style anywhere: scripts and CSS come from /static only."""


class NotLoggedInError(Exception):
    """No valid session or token: the API answers 401, pages redirect to the login page."""


@dataclass(frozen=True)
class Principal:
    """Who made a request.

    Attributes:
        user: The user.
        session: The browser session (``None`` for an API token).
    """

    user: User
    session: Session | None

    @property
    def csrf(self) -> str:
        """The CSRF token to put in forms (empty for API tokens)."""
        return self.session.csrf if self.session else ""


class LoginLimiter:
    """Counts failed logins in a sliding window, per key (client address, user name); in memory.

    Args:
        attempts: Failures allowed per key in the window.
        window_s: The window in seconds.
    """

    def __init__(self, attempts: int, window_s: float) -> None:
        self.attempts, self.window_s = attempts, window_s
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def retry_after(self, keys: list[str]) -> float | None:
        """Seconds until a login may be tried again for any of ``keys`` (``None``: now)."""
        now = time.monotonic()
        wait = None
        with self._lock:
            for key in keys:
                failures = self._failures.get(key)
                if failures is None:
                    continue
                while failures and now - failures[0] > self.window_s:
                    failures.popleft()
                if len(failures) >= self.attempts:
                    left = self.window_s - (now - failures[0])
                    wait = max(wait or 0.0, left)
        return wait

    def failed(self, keys: list[str]) -> None:
        """Count a failed login for each key."""
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._failures[key].append(now)

    def succeeded(self, keys: list[str]) -> None:
        """Forget the failures of ``keys``."""
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)


def _is_local(request: Request) -> bool:
    host = (request.url.hostname or "").lower()
    return host in ("localhost", "127.0.0.1", "::1") or host.endswith(".localhost")


def cookie_secure(request: Request, setting: bool | str) -> bool:
    """Whether the session cookie gets the Secure flag (``web.cookie_secure``)."""
    if setting == "auto":
        return request.url.scheme == "https" or _is_local(request)
    return bool(setting)


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def _form_key(request: Request) -> str | None:
    """The `API_KEY_FIELD` of a form posted to `API_KEY_PATHS` (``None``: elsewhere, or not sent)."""
    if request.method != "POST" or not request.url.path.endswith(tuple(API_KEY_PATHS)):
        return None
    if not request.headers.get("content-type", "").startswith(FORM_TYPES):
        return None
    field = (await request.form()).get(API_KEY_FIELD)
    return field if isinstance(field, str) and field else None


def verify_login(request: Request, state: WebState, name: str, password: str) -> User | None:
    """Check a login name and password with the rate limit (per client address and per name).

    Returns:
        The user, or ``None`` for a wrong name or password (counted as a failure).

    Raises:
        HTTPException: 429 with ``Retry-After`` after too many failures.
    """
    from camsift.errors import AuthError

    client = request.client.host if request.client else "unknown"
    keys = [f"ip:{client}", f"user:{name.strip().lower()}"]
    wait = state.limiter.retry_after(keys)
    if wait is not None:
        raise HTTPException(429, "too many failed logins; try again later", headers={"Retry-After": f"{wait:.0f}"})
    try:
        user = state.users.verify(name.strip(), password)
    except AuthError:
        state.limiter.failed(keys)
        return None
    state.limiter.succeeded(keys)
    return user


def frigate_token(session_token: str, session: Session) -> str:
    """The JWT of Frigate's ``frigate_token`` cookie for a camsift session.

    Claims: ``sub`` (the user name), ``role`` (``admin``), ``exp`` (the session's end, Unix seconds), ``jti``
    (the session's token, which is also the HS256 key: the JWT is worth exactly the session).
    """
    import jwt

    claims = {"sub": session.user.name, "role": "admin", "exp": int(session.expires_utc.timestamp())}
    return jwt.encode({**claims, "jti": session_token}, session_token, algorithm="HS256")


def frigate_session_key(token: str) -> str | None:
    """The camsift session token a ``frigate_token`` JWT stands for, once its signature and ``exp`` check out
    (``None``: not such a JWT, forged, or expired)."""
    import jwt

    try:
        key = jwt.decode(token, options={"verify_signature": False}).get("jti")
        if not isinstance(key, str) or not key:
            return None
        jwt.decode(token, key, algorithms=["HS256"], options={"require": ["exp", "jti"]})
    except jwt.PyJWTError:
        return None
    return key


def _jwt_session(state: WebState, token: str) -> Session | None:
    """The live session a ``frigate_token`` JWT stands for (``None``: not a JWT, forged, expired, logged out)."""
    key = frigate_session_key(token)
    return None if key is None else state.users.session(key)


def _looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2 and token.startswith("eyJ")


LOCAL_USER_NAME = "unauthenticated-port"
"""The user name requests on ``web.unauthenticated_port`` act as."""


def _unauthenticated(request: Request, state: WebState) -> Principal | None:
    """The principal of a request on ``web.unauthenticated_port`` (``None`` elsewhere).

    Raises:
        HTTPException: 403 when a browser says a web page sent it (``Origin``, cross-site ``Sec-Fetch-Site``).
    """
    from camsift.store.users import User

    port = state.settings.web.unauthenticated_port
    server = request.scope.get("server")
    if port is None or not server or server[1] != port:
        return None
    if request.headers.get("origin") or request.headers.get("sec-fetch-site") in ("cross-site", "same-site"):
        raise HTTPException(403, "the unauthenticated port does not serve web pages' requests")
    return Principal(User(0, LOCAL_USER_NAME, datetime.fromtimestamp(0, UTC), None), None)


async def authorize(request: Request) -> Principal:
    """FastAPI dependency: the logged-in principal; checks CSRF on state changes made with a cookie.

    An API token is taken from ``Authorization: Bearer``, else (on `API_KEY_PATHS` only) from the
    form field `API_KEY_FIELD`; a token given but unknown is refused even when a cookie is sent too.

    Raises:
        NotLoggedInError: no valid session cookie or API token.
        HTTPException: 403 when the CSRF token is missing or wrong.
    """
    state: WebState = request.app.state.web
    local = _unauthenticated(request, state)
    if local is not None:
        return local
    token = _bearer(request) or await _form_key(request)
    if token is not None and _looks_like_jwt(token):
        by_jwt = _jwt_session(state, token)
        if by_jwt is None:
            raise NotLoggedInError
        return Principal(by_jwt.user, None)  # sent as a header, never by a browser on its own: no CSRF
    if token is not None:
        user = state.users.token_user(token)
        if user is None:
            raise NotLoggedInError
        return Principal(user, None)
    cookie = request.cookies.get(SESSION_COOKIE)
    session = state.users.session(cookie) if cookie else None
    if session is None:
        frigate = request.cookies.get(FRIGATE_COOKIE) if request.method in SAFE_METHODS else None
        by_cookie = _jwt_session(state, frigate) if frigate else None
        if by_cookie is None:
            raise NotLoggedInError
        return Principal(by_cookie.user, None)  # read-only: state changes with it would need a CSRF token
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER)
        if sent is None and request.headers.get("content-type", "").startswith(FORM_TYPES):
            field = (await request.form()).get("csrf_token")
            sent = field if isinstance(field, str) else None
        if not sent or not hmac.compare_digest(sent, session.csrf):
            raise HTTPException(403, "missing or wrong CSRF token")
    return Principal(session.user, session)


def new_login_token() -> str:
    """A random token for the login form's double-submit cookie."""
    return secrets.token_urlsafe(24)


def check_login_token(request: Request, sent: str) -> None:
    """The login form's token must equal its cookie (double-submit: a forged cross-site login fails).

    Raises:
        HTTPException: 403 when they differ.
    """
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not sent or not hmac.compare_digest(cookie, sent):
        raise HTTPException(403, "missing or wrong CSRF token")


def set_cookie(response: Response, name: str, value: str, max_age: int, secure: bool) -> None:
    """An HttpOnly, SameSite=Lax cookie for the whole app."""
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="lax", secure=secure, path="/")


class SecurityHeaders:
    """ASGI middleware adding security headers to every HTTP response.

    CSP without inline scripts, clickjacking protection (``X-Frame-Options: DENY``
    and ``frame-ancestors 'none'``), ``nosniff``, no referrer, and no caching of
    pages (media responses set their own ``Cache-Control``).
    """

    HEADERS = (
        (b"content-security-policy", CSP.encode()),
        (b"x-frame-options", b"DENY"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"cross-origin-opener-policy", b"same-origin"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    )

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in self.HEADERS if k not in present]
                if b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
