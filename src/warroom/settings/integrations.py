"""The settings of the systems warroom reaches (PagerDuty, Slack, Statuspage, Twilio), of the
team's shared war room, and of the command panes: declared with :mod:`warroom.settings.keys` like
every other key, gathered in :class:`warroom.settings.Settings`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from warroom.settings.keys import (
    _MIN,
    _MS,
    _NON_EMPTY,
    _SEC,
    _TIMEOUT,
    _URL,
    LIST_MAX,
    LONG_TEXT_MAX,
    Duration,
    Number,
    PathTo,
    Refusal,
    Show,
    Text,
    Whole,
    key,
    line,
)
from warroom.text import MASK, mask_dsn, unsafe_character

# -- reaching other systems: paging, chat, the SMS provider (warroom.reach) ------------------------

URL_EXPECTED = 'an http(s) URL, like "https://example.com/path"'


def http_url(value: str) -> Refusal | None:
    return None if not value or _URL.fullmatch(value) else (URL_EXPECTED, value)


def masked_url(url: str) -> str:
    """A URL that is a secret as a whole (a Slack webhook): its scheme and host, the rest ``***``."""
    head, sep, rest = url.partition("://")
    return f"{head}{sep}{rest.split('/', 1)[0]}/{MASK}" if sep else MASK


def _secret_lines(label: str, attr: str) -> Show:
    def show(obj: Any) -> list[str]:
        value = getattr(obj, attr)
        return [line(label, (masked_url(value) if "://" in value else MASK) if value else "(not configured)")]

    return show


_REACH_TIMEOUT = Duration(lo=100 * _MS, hi=2 * _MIN)
PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
TWILIO_API_URL = "https://api.twilio.com"
STATUSPAGE_API_URL = "https://api.statuspage.io/v1"
_PAGE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def statuspage_page_id(value: str) -> Refusal | None:
    """A Statuspage page id goes into the API's URLs: letters, digits, - and _ only."""
    if value and not _PAGE_ID.fullmatch(value):
        return 'a Statuspage page id (letters and digits, like "kctbh9vrtdwd")', value
    return None


@dataclass(frozen=True)
class PagerDutySettings:
    """PagerDuty's Events API v2: the integration's routing key pages on-call."""

    routing_key: str = field(
        default="",
        metadata=key(
            Text(),
            env="WARROOM_PAGERDUTY_ROUTING_KEY",
            secret=True,
            show=_secret_lines("routing_key", "routing_key"),
        ),
    )
    events_url: str = field(
        default=PAGERDUTY_EVENTS_URL,
        metadata=key(Text(LONG_TEXT_MAX, allow_empty=False, check=http_url), show="events_url"),
    )
    timeout: timedelta = field(default=10 * _SEC, metadata=key(_REACH_TIMEOUT, show="timeout"))

    @property
    def configured(self) -> bool:
        return bool(self.routing_key)


@dataclass(frozen=True)
class SlackSettings:
    """A Slack incoming webhook: a message posted to the incident's channel."""

    webhook_url: str = field(
        default="",
        metadata=key(
            Text(LONG_TEXT_MAX, check=http_url),
            env="WARROOM_SLACK_WEBHOOK_URL",
            secret=True,
            show=_secret_lines("webhook_url", "webhook_url"),
        ),
    )
    timeout: timedelta = field(default=10 * _SEC, metadata=key(_REACH_TIMEOUT, show="timeout"))

    @property
    def configured(self) -> bool:
        return bool(self.webhook_url)


@dataclass(frozen=True)
class StatuspageSettings:
    """The team's own status page (Atlassian Statuspage's REST API v1): the customer messages
    create, then update, one incident on it."""

    page_id: str = field(
        default="",
        metadata=key(
            Text(80, check=statuspage_page_id),
            show=lambda sp: [line("page_id", sp.page_id or "(not configured)")],
        ),
    )
    api_key: str = field(
        default="",
        metadata=key(
            Text(),
            env="WARROOM_STATUSPAGE_API_KEY",
            secret=True,
            show=_secret_lines("api_key", "api_key"),
        ),
    )
    api_url: str = field(
        default=STATUSPAGE_API_URL,
        metadata=key(Text(LONG_TEXT_MAX, allow_empty=False, check=http_url), show="api_url"),
    )
    timeout: timedelta = field(default=10 * _SEC, metadata=key(_REACH_TIMEOUT, show="timeout"))

    @property
    def configured(self) -> bool:
        return bool(self.page_id and self.api_key)


@dataclass(frozen=True)
class TwilioSettings:
    """Twilio's REST API, read only: the account's status and balance."""

    account_sid: str = field(
        default="",
        metadata=key(
            Text(),
            env="TWILIO_ACCOUNT_SID",
            show=lambda t: [line("account_sid", t.account_sid or "(not configured)")],
        ),
    )
    auth_token: str = field(
        default="",
        metadata=key(
            Text(), env="TWILIO_AUTH_TOKEN", secret=True, show=_secret_lines("auth_token", "auth_token")
        ),
    )
    api_url: str = field(
        default=TWILIO_API_URL,
        metadata=key(Text(LONG_TEXT_MAX, allow_empty=False, check=http_url), show="api_url"),
    )
    low_balance: float = field(default=10.0, metadata=key(Number(0.0, 1e9), show="low_balance"))
    poll_interval: timedelta = field(default=_MIN, metadata=key(Duration(lo=10 * _SEC), show="poll_interval"))
    timeout: timedelta = field(default=10 * _SEC, metadata=key(_REACH_TIMEOUT))

    @property
    def configured(self) -> bool:
        return bool(self.account_sid and self.auth_token)


def _shared_dsn_lines(shared: SharedSettings) -> list[str]:
    source = "   (from WARROOM_SHARED_DSN)" if shared.dsn and shared.dsn_from_env else ""
    return [line("dsn", (mask_dsn(shared.dsn) if shared.dsn else "(not configured: working alone)") + source)]


@dataclass(frozen=True)
class SharedSettings:
    """The team's shared PostgreSQL for a shared war room (not the monitored database, which
    may be the one that is down): events, incident ids, presence. Its password is masked like
    the database DSN's."""

    dsn: str = field(
        default="", metadata=key(Text(LONG_TEXT_MAX), env="WARROOM_SHARED_DSN", show=_shared_dsn_lines)
    )
    dsn_from_env: bool = False  # given by WARROOM_SHARED_DSN (over the file)
    connect_timeout: timedelta = field(default=5 * _SEC, metadata=key(_TIMEOUT, show="connect_timeout"))
    # How often a console says it is still there; a responder is gone after presence_timeout.
    heartbeat: timedelta = field(
        default=5 * _SEC, metadata=key(Duration(lo=500 * _MS, hi=10 * _MIN), show="heartbeat")
    )
    presence_timeout: timedelta = field(
        default=20 * _SEC, metadata=key(Duration(lo=_SEC, hi=60 * _MIN), show="presence_timeout")
    )

    @property
    def configured(self) -> bool:
        return bool(self.dsn)

    @property
    def masked_dsn(self) -> str:
        return mask_dsn(self.dsn)

    def where(self, config_path: Path | None) -> str:
        """Where the DSN came from, for a message."""
        return "WARROOM_SHARED_DSN" if self.dsn_from_env else f"{config_path}: [shared] dsn"


# -- command panes: a command run and followed in a pane (warroom.sources.command) -----------------

COMMAND_NAME_MAX = 60
COMMAND_EXPECTED = 'a command: a list of strings like ["kubectl", "logs", "-f", "deploy/api"], or one string'


def command_line(argv: tuple[str, ...]) -> str:
    """A command as a shell would read it (for ``warroom check``, ``warroom trust`` and the pane)."""
    import shlex

    return shlex.join(argv)


class CommandRefused(ValueError):
    """A ``command`` that cannot be run: what was expected; ``show``: quote the value."""

    def __init__(self, expected: str, *, show: bool = True) -> None:
        super().__init__(expected)
        self.expected = expected
        self.show = show


def command_argv(value: object) -> tuple[str, ...]:
    """A ``command`` as its argv: a list of strings as it is, one string split as a shell would
    (shlex; it is never run by a shell). Raises :class:`CommandRefused`."""
    import shlex

    if isinstance(value, str):
        try:
            argv = shlex.split(value)
        except ValueError as exc:  # an unclosed quote
            raise CommandRefused(f"a command line a shell could read ({exc})") from None
    elif isinstance(value, list) and all(isinstance(x, str) for x in value):
        argv = list(value)
    else:
        raise CommandRefused(COMMAND_EXPECTED)
    bad = next((found for x in argv if (found := unsafe_character(x))), None)
    if bad:
        raise CommandRefused(f"text without control characters (found {bad})", show=False)
    if not argv or not argv[0].strip():
        raise CommandRefused("a command that is not empty")
    if len(argv) > LIST_MAX or any(len(x) > LONG_TEXT_MAX for x in argv):
        raise CommandRefused(f"at most {LIST_MAX} arguments of {LONG_TEXT_MAX} characters", show=False)
    return tuple(argv)


@dataclass(frozen=True)
class CommandPane:
    """``[[command_panes]]``: a command whose output a pane follows (``supabase functions logs
    sms-send --tail``, ``kubectl logs -f deploy/api``). Run without a shell, in a process group of
    its own, ended with the console."""

    name: str = field(metadata=key(Text(COMMAND_NAME_MAX, allow_empty=False), required=_NON_EMPTY))
    # A list of strings, or one string split as a shell would (shlex), never run by a shell.
    command: tuple[str, ...] = field(metadata=key(required=COMMAND_EXPECTED))
    cwd: Path | None = field(default=None, metadata=key(PathTo("dir")))  # default: the current folder
    lines: int = field(default=1000, metadata=key(Whole(10, 100_000)))  # the last lines kept
    # SIGTERM, then SIGKILL after this long (a restart, the console quitting).
    stop_grace: timedelta = field(default=2 * _SEC, metadata=key(Duration(hi=30 * _SEC)))


COMMAND_PANE_DEFAULTS: dict[str, object] = {"cwd": None, "lines": 1000, "stop_grace": 2 * _SEC}


def command_pane_lines(panes: tuple[CommandPane, ...]) -> list[str]:
    return [
        line(
            f"command pane {i + 1}",
            f"{p.name!r}: {command_line(p.command)}" + (f"  (in {p.cwd})" if p.cwd else ""),
        )
        for i, p in enumerate(panes)
    ]
