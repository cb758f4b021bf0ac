"""What warroom runs with: the settings' types and defaults, and each ``warroom.toml`` key, declared once.

No TOML, environment or file system here (:mod:`warroom.config` reads those into a :class:`Settings`;
:func:`with_environment` lays a mapping the caller read over it).
A key is one field whose metadata is :func:`key`: with its default, that says its :data:`Kind` (what
the file may hold and its bounds: config checks them and writes the one-line errors) and its
``warroom check`` line (:meth:`Settings.describe`). The known keys an "unknown key" error lists are
the same fields, so adding a key is adding one field.

How a key is declared and the checks of one value are in :mod:`warroom.settings.keys`; the
integrations', the shared war room's and the command panes' settings in
:mod:`warroom.settings.integrations`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

from warroom.durations import describe_duration
from warroom.playbook import DEFAULT, Playbook
from warroom.settings.escalation import EscalationContacts
from warroom.settings.integrations import (
    CommandPane,
    PagerDutySettings,
    SharedSettings,
    SlackSettings,
    StatuspageSettings,
    TwilioSettings,
    command_pane_lines,
)
from warroom.settings.keys import (
    _MIN,
    _MS,
    _NON_EMPTY,
    _SEC,
    _SECTION,
    _TIMEOUT,
    DEFAULT_MIGRATION_GLOBS,
    LONG_TEXT_MAX,
    STATUS_URL_EXPECTED,
    Duration,
    Flag,
    Number,
    PathTo,
    Refusal,
    Text,
    TextList,
    Whole,
    key,
    keys_of,
    line,
    regular_expression,
    required_identifier,
    section,
    shown,
    shown_as,
    sql_identifier,
    status_page_url,
    time_zone,
)
from warroom.text import dsn_problem, dsn_secrets, mask_dsn

# -- the settings ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueryPane:
    title: str = field(metadata=key(Text(allow_empty=False), required=_NON_EMPTY))
    sql: Path = field(metadata=key(PathTo("file"), required="the path of a .sql file"))


def _dsn_lines(db: DatabaseSettings) -> list[str]:
    source = f"   (from {db.dsn_source})" if db.dsn else ""
    return [line("dsn", (db.masked_dsn or "(not configured)") + source)]


def _action_lines(db: DatabaseSettings) -> list[str]:
    if not db.action_dsn:
        return [line("action_dsn", "(not configured: the database actions copy their SQL instead)")]
    return [
        line("action_dsn", f"{mask_dsn(db.action_dsn)}   (timeout {describe_duration(db.action_timeout)})")
    ]


def dsn_value(value: str) -> Refusal | None:
    """A DSN a driver can take as it is (shown masked when it cannot)."""
    problem = dsn_problem(value)
    return (f"a DSN: {problem}", mask_dsn(value)) if problem else None


PAUSE_CAMPAIGN_EXAMPLE = "UPDATE campaigns SET status = 'paused' WHERE id = $1"


def _pause_lines(db: DatabaseSettings) -> list[str]:
    if not db.pause_campaign_sql:
        return [line("pause_campaign_sql", f'(not configured: e.g. "{PAUSE_CAMPAIGN_EXAMPLE}")')]
    return [line("pause_campaign_sql", db.pause_campaign_sql)]


def one_parameter_sql(value: str) -> Refusal | None:
    """An SQL statement taking the campaign's id as ``$1`` (and no other parameter), or nothing."""
    if not value:
        return None
    if "$1" not in value or re.search(r"\$([2-9]|1[0-9])", value):
        return "one SQL statement using $1 for the campaign's id (and no other $n), like " + repr(
            PAUSE_CAMPAIGN_EXAMPLE
        ), value
    return None


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
    # The runbooks' database actions (cancel or terminate a backend, pause a campaign) run on a
    # connection of their own, with a role the team grants for it; the watching connection stays
    # read-only. Without it, the same keys copy the SQL instead.
    action_dsn: str = field(
        default="",
        metadata=key(Text(LONG_TEXT_MAX, check=dsn_value), env="WARROOM_ACTION_DSN", show=_action_lines),
    )
    action_timeout: timedelta = field(default=5 * _SEC, metadata=key(_TIMEOUT))  # on action_dsn's line
    # The playbook's mitigation "UPDATE campaigns SET status = 'paused' WHERE id = ..." in the
    # team's schema, with $1 for the campaign's id ("": not offered).
    pause_campaign_sql: str = field(
        default="", metadata=key(Text(LONG_TEXT_MAX, check=one_parameter_sql), show=_pause_lines)
    )
    # pg_stat_statements ("Review performance metrics") is read at most this often.
    statements_interval: timedelta = field(
        default=30 * _SEC, metadata=key(Duration(lo=_SEC), show="statements_interval")
    )

    @property
    def command_timeout(self) -> timedelta:
        """The client-side timeout: a little above the server's statement timeout."""
        return self.statement_timeout + timedelta(seconds=1)

    @property
    def masked_dsn(self) -> str:
        return mask_dsn(self.dsn)

    @property
    def masked_action_dsn(self) -> str:
        return mask_dsn(self.action_dsn)


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
    # Not a key of a table: the top level's [[command_panes]] (tables of CommandPane's keys).
    command_panes: tuple[CommandPane, ...] = ()

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
        if self.command_panes:
            lines += ["", "[[command_panes]]", *command_pane_lines(self.command_panes)]
        return lines


def sections() -> tuple[tuple[str, str], ...]:
    """The tables of :class:`Settings` that are a part of their own: (field, table name)."""
    return tuple((f.name, f.metadata[_SECTION]) for f in fields(Settings) if _SECTION in f.metadata)


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
