"""What warroom runs with: the settings' types and their defaults.

No TOML, environment or file system here: :mod:`warroom.config` reads those into a :class:`Settings`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

from warroom.durations import describe_duration
from warroom.playbook import DEFAULT, Playbook
from warroom.text import mask_dsn

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


@dataclass(frozen=True)
class QueryPane:
    title: str
    sql: Path


@dataclass(frozen=True)
class DatabaseSettings:
    dsn: str | None = None
    dsn_source: str = ""
    poll_interval: timedelta = timedelta(seconds=2)
    statement_timeout: timedelta = timedelta(seconds=2)
    connect_timeout: timedelta = timedelta(seconds=5)
    size_interval: timedelta = timedelta(minutes=5)
    resync_interval: timedelta = timedelta(minutes=5)
    # The statement timeout of the tallies' full read (at start, every resync_interval, after a
    # reconnect): it aggregates the whole window, so it gets more time than the 2 s of a poll.
    resync_timeout: timedelta = timedelta(seconds=10)
    pgbouncer: bool = False
    queries: Mapping[str, Path] = field(default_factory=dict)
    panes: tuple[QueryPane, ...] = ()

    @property
    def command_timeout(self) -> timedelta:
        """The client-side timeout: a little above the server's statement timeout."""
        return self.statement_timeout + timedelta(seconds=1)

    @property
    def masked_dsn(self) -> str:
        return mask_dsn(self.dsn)


@dataclass(frozen=True)
class ErrorSettings:
    table: str = "error_logs"
    id_column: str = "id"
    time_column: str = "occurred_at"
    window: timedelta = timedelta(hours=1)
    limit: int = 10
    rate_threshold: float = 1.0  # percent
    rate_sustain: timedelta = timedelta(minutes=30)
    # Without an id column: each poll re-reads the rows of the last `overlap` (by time column), so
    # rows committed up to that much later than their time are still counted before a resync.
    overlap: timedelta = timedelta(seconds=10)


@dataclass(frozen=True)
class GitSettings:
    repo: Path | None = None
    poll_interval: timedelta = timedelta(seconds=30)
    count: int = 10
    recent: timedelta = timedelta(hours=2)
    deploy_pattern: str = "deploy"
    deploy_tags: bool = True
    migration_globs: tuple[str, ...] = DEFAULT_MIGRATION_GLOBS


@dataclass(frozen=True)
class StatusPage:
    name: str
    url: str

    @property
    def summary_url(self) -> str:
        return self.url.rstrip("/") + "/api/v2/summary.json"


DEFAULT_STATUS_PAGES = (
    StatusPage("Supabase", "https://status.supabase.com"),
    StatusPage("Twilio", "https://status.twilio.com"),
)


@dataclass(frozen=True)
class StatusSettings:
    pages: tuple[StatusPage, ...] = DEFAULT_STATUS_PAGES
    poll_interval: timedelta = timedelta(seconds=60)
    timeout: timedelta = timedelta(seconds=5)


@dataclass(frozen=True)
class Settings:
    state_dir: Path
    config_path: Path | None = None
    config_origin: str = ""  # "--config", "WARROOM_CONFIG", FOUND_HERE, "your config folder"
    user: str = ""
    timezone_name: str = ""  # "" = the machine's local zone
    playbook: Playbook = DEFAULT
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    errors: ErrorSettings = field(default_factory=ErrorSettings)
    git: GitSettings = field(default_factory=GitSettings)
    status: StatusSettings = field(default_factory=StatusSettings)
    templates_dir: Path | None = None
    theme: str = "dark"
    bell: bool = True

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
        db, er, g, st, pb = self.database, self.errors, self.git, self.status, self.playbook
        d = describe_duration
        lines = [
            f"config file        = {self.config_path or '(none: playbook defaults)'}"
            + (f"   ({self.config_origin})" if self.config_origin else ""),
            f"state dir          = {self.state_dir}",
            f"journal            = {self.journal_path}",
            f"user               = {self.user}",
            f"timezone           = {self.timezone_name or '(local)'}",
            f"theme              = {self.theme}",
            f"templates dir      = {self.templates_dir or '(built-in)'}",
            "",
            "[database]",
            f"dsn                = {db.masked_dsn or '(not configured)'}"
            + (f"   (from {db.dsn_source})" if db.dsn else ""),
            f"poll_interval      = {d(db.poll_interval)}",
            f"statement_timeout  = {d(db.statement_timeout)}",
            f"connect_timeout    = {d(db.connect_timeout)}",
            f"size_interval      = {d(db.size_interval)}",
            f"pgbouncer          = {str(db.pgbouncer).lower()}",
        ]
        for name, path in db.queries.items():
            lines.append(f"{'query ' + name:<18} = {path}")
        for pane in db.panes:
            lines.append(f"pane               = {pane.title!r} from {pane.sql}")
        lines += [
            "",
            "[errors]",
            f"table              = {er.table} (id {er.id_column or '-'}, time {er.time_column})",
            f"window             = {d(er.window)}, top {er.limit}",
            f"resolution rule    = error rate < {er.rate_threshold:g}% for {d(er.rate_sustain)}",
            "",
            "[git]",
            f"repo               = {g.repo or '(not configured)'}",
            f"recent             = {d(g.recent)}; deploys match /{g.deploy_pattern}/"
            + (" or a tag" if g.deploy_tags else ""),
            f"migration globs    = {', '.join(g.migration_globs)}",
            "",
            "[status]",
        ]
        for page in st.pages:
            lines.append(f"page               = {page.name}: {page.url}")
        lines += [f"poll_interval      = {d(st.poll_interval)}, timeout {d(st.timeout)}", "", "[playbook]"]
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
            lines.append(f"escalation L{lv.level}      = {lv.name} ({lv.trigger}{scope})")
        for ph in pb.phases:
            budget = d(ph.budget) if ph.budget else "no budget"
            lines.append(f"phase {ph.number}            = {ph.name} ({ph.window}; {budget})")
        return lines
