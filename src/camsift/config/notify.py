"""``notify``: channels (apprise URLs), rules, the daily digest and problem alerts."""

from __future__ import annotations

import logging
import warnings
from typing import TYPE_CHECKING, Annotated

from pydantic import AfterValidator, Field, SecretStr, ValidationInfo, model_validator

from camsift.config.base import ClockTime, ConfigModel, Fraction, Label, Percent, Seconds, TimeWindows, WebUrl, thorough
from camsift.errors import ConfigError
from camsift.faces import UNKNOWN

if TYPE_CHECKING:
    import apprise

__all__ = [
    "DigestConfig",
    "FaceRule",
    "NotifyChannel",
    "NotifyConfig",
    "NotifyRule",
    "ProblemsConfig",
    "apprise_for",
    "unusable",
]


def apprise_for(url: str) -> apprise.Apprise | None:
    """apprise set up to send to ``url``, or ``None`` when none of apprise's services takes that URL.

    apprise's own log lines (and urllib3's) can carry hosts, paths and topics of the
    secret URL: they are kept out of camsift's log.

    Args:
        url: The channel's apprise URL (a secret).

    Raises:
        ConfigError: apprise is not installed.
    """
    logging.getLogger("apprise").propagate = False
    urllib3 = logging.getLogger("urllib3")
    urllib3.setLevel(max(urllib3.getEffectiveLevel(), logging.WARNING))
    try:
        import apprise
    except ImportError as err:
        raise ConfigError("notifications need apprise: pip install 'camsift[notify]'") from err
    asset = apprise.AppriseAsset(app_id="camsift", app_desc="camsift", app_url="https://pypi.org/project/camsift/")
    sender = apprise.Apprise(asset=asset)
    with warnings.catch_warnings():  # apprise's first use loads its plugins; its e-mail one imports imghdr
        warnings.filterwarnings("ignore", message="'imghdr' is deprecated", category=DeprecationWarning)
        added = sender.add(url)
    return sender if added else None


def _usable(url: SecretStr, info: ValidationInfo) -> SecretStr:
    """At start-up (`thorough`): the URL must be one apprise can send to (the scheme alone is named)."""
    if thorough(info):
        try:
            usable = apprise_for(url.get_secret_value()) is not None
        except ConfigError as err:
            raise ValueError(str(err)) from err
        if not usable:
            raise ValueError(unusable(url.get_secret_value()))
    return url


def unusable(url: str) -> str:
    """Why apprise refuses ``url``, naming its scheme only (the rest may hold a token)."""
    scheme = url.split("://", 1)[0] if "://" in url else "none"
    return f"not a URL apprise can use (scheme {scheme!r})"


class NotifyChannel(ConfigModel):
    """One place the owner is told: any service apprise knows, by its URL."""

    url: Annotated[SecretStr, AfterValidator(_usable)] = Field(
        description="Apprise URL: mailto://, json://, slack://, tgram://, ntfy://, discord://, pover://, pbul:// … "
        "(https://github.com/caronc/apprise/wiki). It holds tokens or passwords: it is never logged; prefer "
        "setting it with CAMSIFT_NOTIFY__CHANNELS__<NAME>__URL"
    )
    attach: bool = Field(True, description="Attach the annotated snapshot where the channel supports attachments")


class FaceRule(ConfigModel):
    """Face conditions of a notification rule; the rule matches when any condition that is set holds.

    Uses the event's ``sub_label``: a person's name, ``"unknown"`` (a face was seen and not
    recognised) or none (no usable face was seen).
    """

    unknown: bool = Field(False, description="A face was seen and is not in the library")
    anyone_but: list[str] = Field(
        default_factory=list,
        description="Anyone who is not one of these people: unknown faces, other names and persons whose face "
        "was not seen",
    )
    arrived: list[str] = Field(default_factory=list, description="One of these people was recognised")

    def matches(self, sub_label: str | None) -> bool:
        """Whether an event with this ``sub_label`` (``Event.sub_label``) meets one of the conditions.

        Names compare without regard to case, as the known-faces library finds them (``Alice`` = ``alice``).
        """
        name = None if sub_label is None else sub_label.casefold()
        return (
            (self.unknown and sub_label == UNKNOWN)
            or (bool(self.anyone_but) and name not in {n.casefold() for n in self.anyone_but})
            or name in {n.casefold() for n in self.arrived}
        )


class NotifyRule(ConfigModel):
    """Which events notify which channels. Every condition that is set must hold."""

    channels: list[str] = Field(default_factory=list, description="Channels to tell; empty = every channel")
    cameras: list[str] = Field(default_factory=list, description="Only these cameras; empty = every camera")
    labels: list[Label] = Field(default_factory=list, description="Only these labels; empty = every label")
    zones: list[str] = Field(
        default_factory=list, description="Only objects that entered one of these zones; empty = anywhere"
    )
    min_confidence: Fraction = Field(0.0, description="Only events at least this sure")
    faces: FaceRule | None = Field(None, description="Only person events whose face meets one of these conditions")
    alarms_only: bool = Field(
        True,
        description="Only events that raise an alarm (see 'alarm': 'labels' mode, or 'new_labels' for labels not "
        "normally in the picture). false: any event that passes this rule (e.g. a known face arriving)",
    )
    cooldown_s: float = Field(
        60.0,
        ge=0,
        description="After a message, events of the same camera and label (footage time) stay quiet this many "
        "seconds; kept in the database, so a restart remembers it",
    )
    quiet_hours: TimeWindows = Field(
        default_factory=list,
        description="Daily windows 'HH:MM-HH:MM' (local time, may cross midnight) with no messages from this rule "
        "(the daily digest still counts the events)",
    )


class DigestConfig(ConfigModel):
    """A daily summary of what was seen: counts per camera and label, and the best picture."""

    channels: list[str] = Field(default_factory=list, description="Channels that get the digest; empty = no digest")
    at: ClockTime = Field("08:00", description="Local time 'HH:MM' it is sent, covering the day before")


class ProblemsConfig(ConfigModel):
    """Telling the owner what the service cannot fix alone, once per problem and rate-limited."""

    enabled: bool = Field(True, description="Tell the owner of problems (source down, disk full, failures)")
    channels: list[str] = Field(default_factory=list, description="Channels to tell; empty = every channel")
    repeat_s: float = Field(
        21600.0, ge=60, description="A problem that goes on is told again at most this often (seconds)"
    )
    source_down_s: Seconds = Field(
        600.0,
        description="A source in error or reconnecting (or the MQTT broker away) for this many seconds is reported",
    )
    failures: int = Field(5, ge=1, description="This many files in a row that fail analysis are reported")
    disk_used_pct: Percent = Field(90.0, description="The data directory's disk this full (percent) is reported")
    check_s: Seconds = Field(30.0, description="Seconds between checks of sources and disk")


class NotifyConfig(ConfigModel):
    """Notifications: channels (apprise URLs), rules, a daily digest and problem alerts, through a durable outbox."""

    channels: dict[Annotated[str, Field(pattern=r"^[^@]")], NotifyChannel] = Field(
        default_factory=dict,
        description="Channels by name (not starting with '@', kept for camsift's own queues such as MQTT's); "
        "nothing is sent without at least one",
    )
    rules: dict[str, NotifyRule] = Field(
        default_factory=dict, description="Rules by name; empty = every alarm to every channel"
    )
    digest: DigestConfig = Field(default_factory=DigestConfig, description="A daily summary")
    problems: ProblemsConfig = Field(default_factory=ProblemsConfig, description="Problem alerts")
    public_url: WebUrl | None = Field(
        None,
        description="Address of camsift's web app as the owner's phone reaches it (e.g. https://cam.example.org); "
        "messages link to <public_url>/events/<id> and the clip; default: the file's path",
    )
    retry_first_s: Seconds = Field(5.0, description="First wait before sending again to a channel that failed")
    retry_max_s: Seconds = Field(600.0, description="Longest wait between tries (the wait doubles each time)")
    give_up_s: Seconds = Field(
        172800.0, description="A message not delivered after this many seconds is given up (and logged)"
    )
    scan_wait_s: float = Field(
        60.0,
        ge=0,
        description="'camsift scan --notify': how long to keep trying a channel that is down; what is left is "
        "sent by the next scan or 'camsift run'",
    )

    @model_validator(mode="after")
    def _known_channels(self) -> NotifyConfig:
        named = [(f"rules.{n}", r.channels) for n, r in self.rules.items()]
        named += [("digest", self.digest.channels), ("problems", self.problems.channels)]
        for where, channels in named:
            unknown = sorted(set(channels) - set(self.channels))
            if unknown:
                raise ValueError(f"{where}: unknown channel {', '.join(map(repr, unknown))}")
        return self
