"""What warroom runs with: the settings' types and defaults, and each ``warroom.toml`` key, declared once.

No TOML, environment or file system here (:mod:`warroom.config` reads those into a :class:`Settings`;
:func:`with_environment` lays a mapping the caller read over it).
A key is one field whose metadata is :func:`key`: with its default, that says its :data:`Kind` (what
the file may hold and its bounds: config checks them and writes the one-line errors) and its
``warroom check`` line (:meth:`Settings.describe`). The known keys an "unknown key" error lists are
the same fields, so adding a key is adding one field.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import Field, dataclass, field, fields, replace
from datetime import timedelta, tzinfo
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from warroom.durations import describe_duration
from warroom.playbook import DEFAULT, Playbook
from warroom.text import MASK, dsn_secrets, mask_dsn

TEXT_MAX = 500  # characters of one configuration string (names, checklist items, titles)
LONG_TEXT_MAX = 4096  # a DSN, a path, a URL, a pattern
LIST_MAX = 200  # items of one list (a checklist, migration globs)

# The queries a team can replace with its own .sql file under [database.queries].
QUERY_NAMES = (
    "error_tally",
    "error_tally_ids",
    "error_tally_since",
    "db_health",
    "db_size",
    "sms_failures",
    "error_rate",
)

DEFAULT_MIGRATION_GLOBS = (
    "supabase/migrations/**",
    "migrations/**",
    "**/migrations/**",
    "scripts/sql/**",
)

# -- how a key is declared ------------------------------------------------------------------------

# A refused value: what was expected, and the value the message shows.
Refusal = tuple[str, object]
Check = Callable[[Any], Refusal | None]
# The lines `warroom check` prints for a key, from the object that holds it.
Show = Callable[[Any], list[str]]


@dataclass(frozen=True)
class Text:
    max_len: int = TEXT_MAX
    allow_empty: bool = True
    check: Check | None = None


@dataclass(frozen=True)
class Flag:
    pass


@dataclass(frozen=True)
class Whole:
    lo: int = 0
    hi: int = 10**9


@dataclass(frozen=True)
class Number:
    lo: float
    hi: float


@dataclass(frozen=True)
class Duration:
    lo: timedelta = timedelta(0)
    hi: timedelta = timedelta(days=30)
    allow_none: bool = False  # "none", "off" or false: no duration


@dataclass(frozen=True)
class PathTo:
    must_exist: Literal["", "file", "dir"] = ""


@dataclass(frozen=True)
class TextList:
    allow_empty_list: bool = True
    check: Check | None = None


@dataclass(frozen=True)
class Special:
    """A sub-table, an array of tables or a value of its own syntax: read by its own function in
    :mod:`warroom.config` (found by the key's name)."""


Kind = Text | Flag | Whole | Number | Duration | PathTo | TextList | Special


@dataclass(frozen=True)
class Key:
    """One key of a ``warroom.toml`` table."""

    name: str  # in the file
    kind: Kind
    attr: str = ""  # the field it fills, when its name differs
    table: str = ""  # a key of Settings itself: the table it is in ("incident", "ui", ...)
    required: str = ""  # a key that must be given: what the message says is expected when it is not
    env: str = ""  # the environment variable that gives it (over the file)
    secret: bool = False  # masked wherever text is shown, journaled or logged (see secrets_of)

    @property
    def field_name(self) -> str:
        return self.attr or self.name


_KEY = "warroom.key"
_SHOW = "warroom.show"
_SECTION = "warroom.section"


def key(
    kind: Kind | None = None,
    *,
    name: str = "",
    table: str = "",
    required: str = "",
    show: str | Show | None = None,
    env: str = "",
    secret: bool = False,
) -> dict[str, Any]:
    """The metadata of a field that is a ``warroom.toml`` key (``name``: when it differs from the
    field's; ``kind``: :class:`Special` when not given). ``show``: a label (the value plainly on a
    ``label = value`` line) or a function giving the field's lines in ``warroom check``. ``env``:
    the environment variable that gives the key over the file; ``secret``: its value is masked
    everywhere (:func:`secrets_of`)."""
    declared = Key(name, kind or Special(), table=table, required=required, env=env, secret=secret)
    return {_KEY: declared, _SHOW: show}


def shown_as(show: Show) -> dict[str, Any]:
    """The metadata of a field ``warroom check`` shows that is not a key of its table."""
    return {_SHOW: show}


def section(name: str) -> dict[str, Any]:
    """The metadata of a field of :class:`Settings` that is a table of its own."""
    return {_SECTION: name}


def keys_of(cls: type) -> tuple[Key, ...]:
    """The keys of one table, in the order they are read (a dataclass of this module)."""
    return tuple(_key(f) for f in fields(cls) if _KEY in f.metadata)


def _key(f: Field[Any]) -> Key:
    declared: Key = f.metadata[_KEY]
    return replace(declared, name=declared.name or f.name, attr=f.name)


def sections() -> tuple[tuple[str, str], ...]:
    """The tables of :class:`Settings` that are a part of their own: (field, table name)."""
    return tuple((f.name, f.metadata[_SECTION]) for f in fields(Settings) if _SECTION in f.metadata)


def line(label: str, value: object) -> str:
    """One line of ``warroom check``."""
    return f"{label:<18} = {value}"


def shown(obj: Any) -> list[str]:
    """The ``warroom check`` lines of an object's keys, in their order."""
    out: list[str] = []
    for f in fields(obj):
        show = f.metadata.get(_SHOW)
        if isinstance(show, str):
            out.append(line(show, _plain(getattr(obj, f.name))))
        elif show is not None:
            out += show(obj)
    return out


def _plain(value: object) -> str:
    if isinstance(value, timedelta):
        return describe_duration(value)
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


# -- checks of one value (a refused value: what was expected, the value shown) ------------------

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?")
_URL = re.compile(r"https?://[A-Za-z0-9._~%!$&'()*+,;=:@\[\]-]+(/[!-~]*)?")
STATUS_URL_EXPECTED = 'the page\'s base URL, like "https://status.example.com"'


def sql_identifier(value: str) -> Refusal | None:
    """A column or table name, or nothing."""
    if value and not _IDENT.fullmatch(value):
        return "an SQL identifier (letters, digits, _; schema.table allowed)", value
    return None


def required_identifier(value: str) -> Refusal | None:
    return sql_identifier(value) or (None if value else ("an SQL identifier", value))


def time_zone(value: str) -> Refusal | None:
    if value:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # tzdata: a folder name raises OSError
            return 'an IANA time zone like "Europe/Berlin"', value
    return None


def regular_expression(value: str) -> Refusal | None:
    try:
        re.compile(value)
    except re.error as exc:
        return f"a regular expression ({exc})", value
    except (OverflowError, RecursionError):  # a{99999999999}; a thousand nested groups
        return "a regular expression (this one is too large)", value
    return None


def status_page_url(value: str) -> Refusal | None:
    return None if _URL.fullmatch(value) else (STATUS_URL_EXPECTED, value)


# -- the settings ---------------------------------------------------------------------------------

_NON_EMPTY = "a non-empty string"


@dataclass(frozen=True)
class QueryPane:
    title: str = field(metadata=key(Text(allow_empty=False), required=_NON_EMPTY))
    sql: Path = field(metadata=key(PathTo("file"), required="the path of a .sql file"))


def _dsn_lines(db: DatabaseSettings) -> list[str]:
    source = f"   (from {db.dsn_source})" if db.dsn else ""
    return [line("dsn", (db.masked_dsn or "(not configured)") + source)]


_MS = timedelta(milliseconds=1)
_SEC = timedelta(seconds=1)
_MIN = timedelta(minutes=1)
_TIMEOUT = Duration(lo=100 * _MS, hi=60 * _MIN)


@dataclass(frozen=True)
class DatabaseSettings:
    dsn: str | None = field(default=None, metadata=key(Text(LONG_TEXT_MAX), show=_dsn_lines))
    dsn_source: str = ""  # where the dsn came from: "warroom.toml", "WARROOM_DSN", "--dsn"...
    poll_interval: timedelta = field(
        default=2 * _SEC, metadata=key(Duration(lo=200 * _MS), show="poll_interval")
    )
    statement_timeout: timedelta = field(default=2 * _SEC, metadata=key(_TIMEOUT, show="statement_timeout"))
    connect_timeout: timedelta = field(default=5 * _SEC, metadata=key(_TIMEOUT, show="connect_timeout"))
    size_interval: timedelta = field(
        default=5 * _MIN, metadata=key(Duration(lo=10 * _SEC), show="size_interval")
    )
    resync_interval: timedelta = field(default=5 * _MIN, metadata=key(Duration(lo=10 * _SEC)))
    # The statement timeout of the tallies' full read (at start, every resync_interval, after a
    # reconnect): it aggregates the whole window, so it gets more time than the 2 s of a poll.
    resync_timeout: timedelta = field(default=10 * _SEC, metadata=key(_TIMEOUT))
    pgbouncer: bool = field(default=False, metadata=key(Flag(), show="pgbouncer"))
    queries: Mapping[str, Path] = field(
        default_factory=dict,
        metadata=key(show=lambda db: [line("query " + n, p) for n, p in db.queries.items()]),
    )
    panes: tuple[QueryPane, ...] = field(
        default=(),
        metadata=key(show=lambda db: [line("pane", f"{p.title!r} from {p.sql}") for p in db.panes]),
    )

    @property
    def command_timeout(self) -> timedelta:
        """The client-side timeout: a little above the server's statement timeout."""
        return self.statement_timeout + timedelta(seconds=1)

    @property
    def masked_dsn(self) -> str:
        return mask_dsn(self.dsn)


def _table_lines(er: ErrorSettings) -> list[str]:
    return [line("table", f"{er.table} (id {er.id_column or '-'}, time {er.time_column})")]


def _window_lines(er: ErrorSettings) -> list[str]:
    return [line("window", f"{describe_duration(er.window)}, top {er.limit}")]


def _rule_lines(er: ErrorSettings) -> list[str]:
    rule = f"error rate < {er.rate_threshold:g}% for {describe_duration(er.rate_sustain)}"
    return [line("resolution rule", rule)]


@dataclass(frozen=True)
class ErrorSettings:
    table: str = field(default="error_logs", metadata=key(Text(check=required_identifier), show=_table_lines))
    id_column: str = field(default="id", metadata=key(Text(check=sql_identifier)))  # on the table's line
    time_column: str = field(default="occurred_at", metadata=key(Text(check=required_identifier)))
    window: timedelta = field(
        default=timedelta(hours=1), metadata=key(Duration(lo=_MIN, hi=timedelta(days=1)), show=_window_lines)
    )
    limit: int = field(default=10, metadata=key(Whole(1, 100)))  # on the window's line
    rate_threshold: float = field(default=1.0, metadata=key(Number(0.0, 100.0), show=_rule_lines))  # percent
    rate_sustain: timedelta = field(default=30 * _MIN, metadata=key(Duration()))
    # Without an id column: each poll re-reads the rows of the last `overlap` (by time column), so
    # rows committed up to that much later than their time are still counted before a resync.
    overlap: timedelta = field(default=10 * _SEC, metadata=key(Duration(lo=_SEC, hi=10 * _MIN)))


def _recent_lines(g: GitSettings) -> list[str]:
    tags = " or a tag" if g.deploy_tags else ""
    return [line("recent", f"{describe_duration(g.recent)}; deploys match /{g.deploy_pattern}/{tags}")]


@dataclass(frozen=True)
class GitSettings:
    repo: Path | None = field(
        default=None, metadata=key(PathTo(), show=lambda g: [line("repo", g.repo or "(not configured)")])
    )
    poll_interval: timedelta = field(default=30 * _SEC, metadata=key(Duration(lo=_SEC)))
    count: int = field(default=10, metadata=key(Whole(1, 200)))
    recent: timedelta = field(default=timedelta(hours=2), metadata=key(Duration(), show=_recent_lines))
    deploy_pattern: str = field(  # on the recent line, with deploy_tags
        default="deploy", metadata=key(Text(LONG_TEXT_MAX, check=regular_expression))
    )
    deploy_tags: bool = field(default=True, metadata=key(Flag()))
    migration_globs: tuple[str, ...] = field(
        default=DEFAULT_MIGRATION_GLOBS,
        metadata=key(TextList(), show=lambda g: [line("migration globs", ", ".join(g.migration_globs))]),
    )


@dataclass(frozen=True)
class StatusPage:
    name: str = field(metadata=key(Text(allow_empty=False), required=_NON_EMPTY))
    url: str = field(
        metadata=key(
            Text(LONG_TEXT_MAX, allow_empty=False, check=status_page_url), required=STATUS_URL_EXPECTED
        )
    )

    @property
    def summary_url(self) -> str:
        return self.url.rstrip("/") + "/api/v2/summary.json"


DEFAULT_STATUS_PAGES = (
    StatusPage("Supabase", "https://status.supabase.com"),
    StatusPage("Twilio", "https://status.twilio.com"),
)


def _status_lines(st: StatusSettings) -> list[str]:
    every = f"{describe_duration(st.poll_interval)}, timeout {describe_duration(st.timeout)}"
    return [line("poll_interval", every)]


@dataclass(frozen=True)
class StatusSettings:
    # Not a key of [status]: the top level's [[status_pages]] (tables of StatusPage's keys).
    pages: tuple[StatusPage, ...] = field(
        default=DEFAULT_STATUS_PAGES,
        metadata=shown_as(lambda st: [line("page", f"{p.name}: {p.url}") for p in st.pages]),
    )
    poll_interval: timedelta = field(default=_MIN, metadata=key(Duration(lo=_MIN), show=_status_lines))
    timeout: timedelta = field(default=5 * _SEC, metadata=key(Duration(lo=100 * _MS, hi=5 * _MIN)))


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


CONTACT_MAX = 120  # characters of an escalation contact ("Jane Doe +49 170 1234567, #eng-leads")


def _contact_lines(c: EscalationContacts) -> list[str]:
    return [line(f"contact L{n}", c.contact(n) or "(not configured)") for n in range(1, 5)]


@dataclass(frozen=True)
class EscalationContacts:
    """Who to reach at each level of the playbook's escalation path (shown beside the timer)."""

    l1: str = field(default="", metadata=key(Text(CONTACT_MAX), show=_contact_lines))
    l2: str = field(default="", metadata=key(Text(CONTACT_MAX)))
    l3: str = field(default="", metadata=key(Text(CONTACT_MAX)))
    l4: str = field(default="", metadata=key(Text(CONTACT_MAX)))

    def contact(self, level: int) -> str:
        """Level ``level``'s contact ("" when not configured, or not a level 1-4)."""
        return str(getattr(self, f"l{level}", "")) if 1 <= level <= 4 else ""


@dataclass(frozen=True)
class Settings:
    state_dir: Path
    config_path: Path | None = None
    config_origin: str = ""  # "--config", "WARROOM_CONFIG", FOUND_HERE, "your config folder"
    user: str = field(default="", metadata=key(Text(), table="incident", show="user"))
    timezone_name: str = field(  # "" = the machine's local zone
        default="",
        metadata=key(
            Text(check=time_zone),
            name="timezone",
            table="incident",
            show=lambda s: [line("timezone", s.timezone_name or "(local)")],
        ),
    )
    # The team's own status page, for the customer messages (an incident's `e` field overrides it).
    status_page_link: str = field(
        default="",
        metadata=key(
            Text(LONG_TEXT_MAX),
            table="incident",
            show=lambda s: [line("status page link", s.status_page_link)] if s.status_page_link else [],
        ),
    )
    theme: str = field(default="dark", metadata=key(Text(allow_empty=False), table="ui", show="theme"))
    bell: bool = field(default=True, metadata=key(Flag(), table="ui"))
    templates_dir: Path | None = field(
        default=None,
        metadata=key(
            PathTo("dir"),
            name="dir",
            table="templates",
            show=lambda s: [line("templates dir", s.templates_dir or "(built-in)")],
        ),
    )
    database: DatabaseSettings = field(default_factory=DatabaseSettings, metadata=section("database"))
    errors: ErrorSettings = field(default_factory=ErrorSettings, metadata=section("errors"))
    git: GitSettings = field(default_factory=GitSettings, metadata=section("git"))
    status: StatusSettings = field(default_factory=StatusSettings, metadata=section("status"))
    pagerduty: PagerDutySettings = field(default_factory=PagerDutySettings, metadata=section("pagerduty"))
    slack: SlackSettings = field(default_factory=SlackSettings, metadata=section("slack"))
    statuspage: StatuspageSettings = field(default_factory=StatuspageSettings, metadata=section("statuspage"))
    twilio: TwilioSettings = field(default_factory=TwilioSettings, metadata=section("twilio"))
    shared: SharedSettings = field(default_factory=SharedSettings, metadata=section("shared"))
    escalation: EscalationContacts = field(default_factory=EscalationContacts, metadata=section("escalation"))
    playbook: Playbook = field(default=DEFAULT, metadata=section("playbook"))

    @property
    def tz(self) -> tzinfo | None:
        return ZoneInfo(self.timezone_name) if self.timezone_name else None

    @property
    def journal_path(self) -> Path:
        return self.state_dir / "journal.sqlite3"

    @property
    def outbox_dir(self) -> Path:
        return self.state_dir / "outbox"

    def describe(self) -> list[str]:
        """The effective configuration as ``key = value`` lines, secrets masked."""
        origin = f"   ({self.config_origin})" if self.config_origin else ""
        lines = [
            line("config file", f"{self.config_path or '(none: playbook defaults)'}{origin}"),
            line("state dir", self.state_dir),
            line("journal", self.journal_path),
            *shown(self),
        ]
        for attr, name in sections():
            part = getattr(self, attr)
            lines += ["", f"[{name}]", *(playbook_lines(part) if attr == "playbook" else shown(part))]
        return lines


def secrets_of(settings: Settings) -> list[str]:
    """Every secret the settings hold (the keys declared ``secret``), to register with
    :func:`warroom.text.register_secret`."""
    found = []
    for attr, _ in sections():
        part = getattr(settings, attr)
        for k in keys_of(type(part)):
            value = getattr(part, k.field_name) if k.secret else ""
            # A URL that is a secret (a webhook): its path, and its last part (the token), alone
            # are secrets too (an error may quote them).
            path = value.partition("://")[2].partition("/")[2]
            found += [value, *(p for p in (path, path.rstrip("/").rpartition("/")[2]) if len(p) >= 8)]
    found += dsn_secrets(settings.shared.dsn)  # the shared database's password, like the database's
    return [value for value in found if value]


def with_environment(settings: Settings, env: Mapping[str, str]) -> Settings:
    """The keys an environment (a mapping the caller read) gives over the file's: each key declared
    with its variable (``env=``), like ``WARROOM_PAGERDUTY_ROUTING_KEY``."""
    for attr, _ in sections():
        part = getattr(settings, attr)
        given = {k.field_name: env[k.env] for k in keys_of(type(part)) if k.env and env.get(k.env)}
        if attr == "shared" and "dsn" in given:
            given["dsn_from_env"] = True
        settings = replace(settings, **{attr: replace(part, **given)}) if given else settings
    return settings


def playbook_lines(pb: Playbook) -> list[str]:
    """The playbook as ``warroom check`` shows it: a line per severity, escalation level and phase."""
    d = describe_duration
    lines = []
    for sev in pb.severities.values():
        internal = d(sev.internal_update) if sev.internal_update else "none"
        customer = d(sev.customer_update) if sev.customer_update else "none"
        lines.append(
            f"{sev.key} {sev.name:<9}= response {sev.response_text.lower()}, internal update "
            f"{internal}, customer update {customer}, channel {sev.channel or 'none'}"
        )
    for lv in pb.escalation:
        scope = ""
        if lv.after is not None and lv.after_severities is not None:
            scope = f"; by time only for {', '.join(sorted(lv.after_severities))}"
        lines.append(line(f"escalation L{lv.level}", f"{lv.name} ({lv.trigger}{scope})"))
    for ph in pb.phases:
        budget = d(ph.budget) if ph.budget else "no budget"
        lines.append(line(f"phase {ph.number}", f"{ph.name} ({ph.window}; {budget})"))
    return lines
