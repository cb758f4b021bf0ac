"""Settings: the playbook's defaults <- ``warroom.toml`` <- environment <- command-line flags.

Every problem with a configuration file (unreadable, not TOML, an unknown key, a wrong type, a
bad duration) is a :class:`ConfigError` whose message is one line naming the file, the key and
what was expected. The CLI prints it and exits with status 2.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from warroom.durations import DurationError, describe_duration, parse_duration
from warroom.playbook import (
    CHANNEL_MAX,
    DEFAULT,
    NEXT_BUSINESS_DAY,
    Checklist,
    EscalationLevel,
    Phase,
    Playbook,
    Severity,
)
from warroom.settings import (
    DEFAULT_MIGRATION_GLOBS,
    DEFAULT_STATUS_PAGES,
    LIST_MAX,
    LONG_TEXT_MAX,
    QUERY_NAMES,
    TEXT_MAX,
    DatabaseSettings,
    ErrorSettings,
    GitSettings,
    QueryPane,
    Settings,
    StatusPage,
    StatusSettings,
)
from warroom.text import dsn_problem, register_dsn, unsafe_character

CONFIG_FILE = "warroom.toml"
# Still imported from here by some modules until their imports move to warroom.settings.
_MOVED = (DEFAULT_MIGRATION_GLOBS, DEFAULT_STATUS_PAGES)


class ConfigError(Exception):
    """A configuration problem; ``str(error)`` is one line for the user."""


# -- reading a TOML file ----------------------------------------------------------------------


class _Table:
    """One TOML table with typed getters that raise one-line errors and track unknown keys."""

    def __init__(
        self, file: str, where: str, data: Mapping[str, Any], base: Path | None, name: str = ""
    ) -> None:
        self.file = file
        self.where = where  # how messages name this table: "", "[database]", "[[status_pages]] #2"
        self.data = data
        self.base = base
        # The dotted TOML name ("playbook.severities"); "" for the top level.
        if not name and where.startswith("[") and not where.startswith("[["):
            name = where[1:-1]
        self.name = name
        self.used: set[str] = set()

    def error(self, key: str, expected: str, value: Any = None, *, show: bool = True) -> ConfigError:
        got = f", got {_show(value)}" if show else ""
        loc = f"{self.where} {key}" if self.where else key
        return ConfigError(f"{self.file}: {loc}: expected {expected}{got}")

    def has(self, key: str) -> bool:
        return key in self.data

    def raw(self, key: str) -> Any:
        self.used.add(key)
        return self.data[key]

    def str(self, key: str, default: str, *, allow_empty: bool = True, max_len: int = TEXT_MAX) -> str:
        if key not in self.data:
            return default
        v = self.raw(key)
        if not isinstance(v, str) or (not allow_empty and not v.strip()):
            raise self.error(key, "a non-empty string" if not allow_empty else "a string", v)
        return self._text(key, v, max_len)

    def _text(self, key: str, v: str, max_len: int) -> str:
        """Configuration text reaches the screen, the journal and `warroom check`: a found file
        is untrusted, so control characters and bidi overrides are refused, lengths bounded."""
        bad = unsafe_character(v)
        if bad:
            raise self.error(key, f"text without control characters (found {bad})", show=False)
        if len(v) > max_len:
            raise self.error(key, f"at most {max_len} characters (got {len(v)})", show=False)
        return v

    def bool(self, key: str, default: bool) -> bool:
        if key not in self.data:
            return default
        v = self.raw(key)
        if not isinstance(v, bool):
            raise self.error(key, "true or false", v)
        return v

    def int(self, key: str, default: int, *, lo: int = 0, hi: int = 10**9) -> int:
        if key not in self.data:
            return default
        v = self.raw(key)
        if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
            raise self.error(key, f"a whole number from {lo} to {hi}", v)
        return v

    def float(self, key: str, default: float, *, lo: float, hi: float) -> float:
        if key not in self.data:
            return default
        v = self.raw(key)
        if not isinstance(v, int | float) or isinstance(v, bool) or not lo <= v <= hi:
            raise self.error(key, f"a number from {lo:g} to {hi:g}", v)
        return float(v)

    def duration(
        self,
        key: str,
        default: timedelta | None,
        *,
        lo: timedelta = timedelta(0),
        hi: timedelta = timedelta(days=30),
        allow_none: bool = False,
    ) -> timedelta | None:
        if key not in self.data:
            return default
        v = self.raw(key)
        if allow_none and (v is False or (isinstance(v, str) and v.strip().lower() in {"none", "off"})):
            return None
        expected = "a duration like '15m' or '1h30m'" + (' (or "none")' if allow_none else "")
        try:
            td = parse_duration(v)
        except DurationError:
            raise self.error(key, expected, v) from None
        if td < lo:
            raise self.error(key, f"a duration of at least {describe_duration(lo)}", v)
        if td > hi:
            raise self.error(key, f"a duration of at most {describe_duration(hi)}", v)
        return td

    def req_duration(
        self,
        key: str,
        default: timedelta,
        *,
        lo: timedelta = timedelta(0),
        hi: timedelta = timedelta(days=30),
    ) -> timedelta:
        td = self.duration(key, default, lo=lo, hi=hi)
        assert td is not None
        return td

    def path(self, key: str, default: Path | None, *, must_exist: str = "") -> Path | None:
        if key not in self.data:
            return default
        v = self.raw(key)
        if not isinstance(v, str) or not v.strip():
            raise self.error(key, "a path", v)
        p = Path(os.path.expandvars(self._text(key, v, LONG_TEXT_MAX))).expanduser()
        if not p.is_absolute() and self.base is not None:
            p = self.base / p
        if must_exist == "file" and not p.is_file():
            raise self.error(key, f"an existing file ({p} not found)", show=False)
        if must_exist == "dir" and not p.is_dir():
            raise self.error(key, f"an existing folder ({p} not found)", show=False)
        return p

    def str_list(
        self, key: str, default: tuple[str, ...], *, allow_empty_list: bool = True
    ) -> tuple[str, ...]:
        if key not in self.data:
            return default
        v = self.raw(key)
        if not isinstance(v, list) or not all(isinstance(x, str) and x.strip() for x in v):
            raise self.error(key, "a list of non-empty strings", v)
        if not v and not allow_empty_list:
            raise self.error(key, "a list with at least one item", v)
        if len(v) > LIST_MAX:
            raise self.error(key, f"at most {LIST_MAX} items (got {len(v)})", show=False)
        return tuple(self._text(key, x, TEXT_MAX) for x in v)

    def table(self, key: str) -> _Table:
        v = self.data.get(key, {})
        if key in self.data:
            self.used.add(key)
        if not isinstance(v, dict):
            raise self.error(key, "a table", v)
        name = f"{self.name}.{key}" if self.name else key
        # Inside one element of an array of tables, say which element: "[[status_pages]] #2 auth".
        where = f"{self.where} {key}" if self.where.startswith("[[") else f"[{name}]"
        return _Table(self.file, where, v, self.base, name)

    def tables(self, key: str) -> list[_Table]:
        if key not in self.data:
            return []
        v = self.raw(key)
        name = f"{self.name}.{key}" if self.name else key
        if not isinstance(v, list) or not all(isinstance(x, dict) for x in v):
            raise self.error(key, f"an array of tables ([[{name}]])", v)
        return [_Table(self.file, f"[[{name}]] #{i + 1}", x, self.base, name) for i, x in enumerate(v)]

    def done(self) -> None:
        unknown = [k for k in self.data if k not in self.used]
        if unknown:
            known = sorted(self.used | set(self._known))
            hint = f" (known keys: {', '.join(known)})" if known else ""
            loc = f"{self.where} " if self.where else ""
            raise ConfigError(f"{self.file}: {loc}unknown key {unknown[0]!r}{hint}")

    _known: tuple[str, ...] = ()

    def known(self, *keys: str) -> _Table:
        self._known = keys
        return self


def _show(value: Any) -> str:
    """A TOML value as the message shows it: short, one line."""
    if isinstance(value, str):
        text = repr(value)
        return text if len(text) <= 80 else text[:76] + "...'"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list" if value else "an empty list"
    if isinstance(value, date | time):  # TOML dates and times (datetime is a date)
        return value.isoformat()
    return repr(value)


def read_toml(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, expected a TOML file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: is not UTF-8 text (byte {exc.start})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: is not valid TOML ({exc})") from None


# -- sections ---------------------------------------------------------------------------------

_TOP_KEYS = ("incident", "ui", "database", "errors", "git", "status", "status_pages", "templates", "playbook")


def _severity(t: _Table, sev: Severity) -> Severity:
    name = t.str("name", sev.name, allow_empty=False)
    summary = t.str("summary", sev.summary)
    impact = t.str("impact", sev.impact)
    response: timedelta | None = sev.response
    if t.has("response"):
        v = t.raw("response")
        if isinstance(v, str) and v.strip().lower() == NEXT_BUSINESS_DAY:
            response = None
        else:
            try:
                response = parse_duration(v)
            except DurationError:
                raise t.error(
                    "response", f'a duration like \'30m\', "immediate" or "{NEXT_BUSINESS_DAY}"', v
                ) from None
    internal = t.duration("internal_update", sev.internal_update, lo=timedelta(minutes=1), allow_none=True)
    customer = t.duration("customer_update", sev.customer_update, lo=timedelta(minutes=1), allow_none=True)
    channel = t.str("channel", sev.channel, max_len=CHANNEL_MAX)
    if channel:
        expected = "a pattern using {time:%Y-%m-%d-%H-%M}, {severity} and {slug}"
        if _WIDE_FIELD.search(channel):  # {slug:>50000000} would make a 50 MB name
            raise t.error("channel", expected + " (no field widths)", channel)
        try:
            sample = channel.format(time=_SAMPLE_TIME, severity=sev.key, slug="x" * 40)
        except (KeyError, ValueError, IndexError, AttributeError) as exc:
            raise t.error("channel", expected, channel) from exc
        if len(sample) > CHANNEL_MAX:
            raise t.error("channel", f"a pattern giving at most {CHANNEL_MAX} characters", channel)
    actions = t.str_list("actions", sev.actions)
    examples = t.str_list("examples", sev.examples)
    t.known(
        "name",
        "summary",
        "impact",
        "examples",
        "response",
        "internal_update",
        "customer_update",
        "channel",
        "actions",
    ).done()
    return Severity(sev.key, name, summary, impact, examples, response, internal, customer, channel, actions)


_SAMPLE_TIME = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
_WIDE_FIELD = re.compile(r"\{[^{}]*:[^{}]*\d{3,}[^{}]*\}")


def _playbook(t: _Table) -> Playbook:
    pb = DEFAULT
    sevs = dict(pb.severities)
    st = t.table("severities")
    for key in st.data:
        if key not in sevs:
            raise st.error(
                key, f"one of {', '.join(sevs)} (severities can be changed, not added)", show=False
            )
        sevs[key] = _severity(st.table(key), sevs[key])
    st.done()

    escalation = pb.escalation
    if t.has("escalation"):
        levels = []
        for lt in t.tables("escalation"):
            level = lt.int("level", 0, lo=1, hi=9)
            if level == 0:
                raise lt.error("level", "a level number (1-9)", show=False)
            name = lt.str("name", "", allow_empty=False)
            if not name:
                raise lt.error("name", "a non-empty string", show=False)
            after = lt.duration("after", None, allow_none=True)
            if any(lv.level == level for lv in levels):
                raise lt.error("level", "a level number not used by another level", level)
            listed = lt.str_list("severities", ())
            bad = [s for s in listed if s not in sevs]
            if bad:
                raise lt.error("severities", f"severities among {', '.join(sevs)}", bad[0])
            severities = frozenset(listed)
            trigger = lt.str("trigger", "")
            after_sevs: frozenset[str] | None = None
            if lt.has("after_severities"):
                after_sevs = frozenset(lt.str_list("after_severities", ()))
                bad_after = [s for s in after_sevs if s not in sevs]
                if bad_after:
                    raise lt.error("after_severities", f"severities among {', '.join(sevs)}", bad_after[0])
            lt.known("level", "name", "after", "severities", "trigger", "after_severities").done()
            levels.append(
                EscalationLevel(
                    level, name, after, severities, trigger or _trigger_words(after, severities), after_sevs
                )
            )
        if not levels:
            raise t.error("escalation", "at least one [[playbook.escalation]] level", show=False)
        levels.sort(key=lambda lv: lv.level)
        escalation = tuple(levels)

    phases = list(pb.phases)
    pt = t.table("phases")
    keys = [p.key for p in phases]
    for key in pt.data:
        if key not in keys:
            raise pt.error(key, f"one of {', '.join(keys)}", show=False)
        ph_t = pt.table(key)
        i = keys.index(key)
        ph = phases[i]
        name = ph_t.str("name", ph.name, allow_empty=False)
        budget = ph_t.duration("budget", ph.budget, allow_none=True)
        window = ph_t.str("window", ph.window)
        status = ph_t.str("status", ph.status, allow_empty=False)
        ph_t.known("name", "budget", "window", "status").done()
        phases[i] = Phase(ph.key, ph.number, name, window, budget, status)
    pt.done()

    ct = t.table("checklists")
    lists = {}
    for key, current in (
        ("investigation", pb.investigation),
        ("verification", pb.verification),
        ("resolution", pb.resolution),
    ):
        texts = ct.str_list(key, tuple(i.text for i in current.items), allow_empty_list=False)
        lists[key] = Checklist.of(current.key, current.title, texts)
    ct.known("investigation", "verification", "resolution").done()

    freeze_list = t.str_list("freeze_severities", tuple(sorted(pb.freeze_severities)))
    bad = [s for s in freeze_list if s not in sevs]
    if bad:
        raise t.error("freeze_severities", f"severities among {', '.join(sevs)}", bad[0])
    freeze = frozenset(freeze_list)
    review = t.req_duration("review_within", pb.review_within)
    due_soon = t.req_duration("due_soon", pb.due_soon)
    bell_every = t.req_duration("bell_every", pb.bell_every, lo=timedelta(seconds=30))
    bds = pb.business_day_start
    if t.has("business_day_start"):
        v = t.raw("business_day_start")
        if isinstance(v, time):
            bds = v
        elif isinstance(v, str) and re.fullmatch(r"\d{1,2}:\d{2}", v.strip()):
            hh, mm = (int(x) for x in v.strip().split(":"))
            if hh > 23 or mm > 59:
                raise t.error("business_day_start", 'a time of day like "09:00"', v)
            bds = time(hh, mm)
        else:
            raise t.error("business_day_start", 'a time of day like "09:00"', v)
    t.known(
        "severities",
        "escalation",
        "phases",
        "checklists",
        "freeze_severities",
        "review_within",
        "due_soon",
        "bell_every",
        "business_day_start",
    ).done()
    return Playbook(
        severities=sevs,
        escalation=escalation,
        phases=tuple(phases),
        investigation=lists["investigation"],
        verification=lists["verification"],
        resolution=lists["resolution"],
        freeze_severities=freeze,
        review_within=review,
        business_day_start=bds,
        due_soon=due_soon,
        bell_every=bell_every,
    )


def _trigger_words(after: timedelta | None, severities: frozenset[str] = frozenset()) -> str:
    sev = " or ".join(sorted(severities))
    if after is None:
        return f"if {sev}" if sev else "by decision"
    if after == timedelta(0):
        return "when the incident is declared"
    return (
        f"if {sev} or unresolved in {describe_duration(after)}"
        if sev
        else f"if unresolved in {describe_duration(after)}"
    )


def _database(t: _Table) -> DatabaseSettings:
    d = DatabaseSettings()
    dsn = t.str("dsn", "", allow_empty=True, max_len=LONG_TEXT_MAX) or None
    poll = t.req_duration("poll_interval", d.poll_interval, lo=timedelta(milliseconds=200))
    stmt = t.req_duration(
        "statement_timeout", d.statement_timeout, lo=timedelta(milliseconds=100), hi=timedelta(hours=1)
    )
    conn = t.req_duration(
        "connect_timeout", d.connect_timeout, lo=timedelta(milliseconds=100), hi=timedelta(hours=1)
    )
    size = t.req_duration("size_interval", d.size_interval, lo=timedelta(seconds=10))
    resync = t.req_duration("resync_interval", d.resync_interval, lo=timedelta(seconds=10))
    resync_timeout = t.req_duration(
        "resync_timeout", d.resync_timeout, lo=timedelta(milliseconds=100), hi=timedelta(hours=1)
    )
    pgbouncer = t.bool("pgbouncer", d.pgbouncer)
    qt = t.table("queries")
    queries: dict[str, Path] = {}
    for name in qt.data:
        if name not in QUERY_NAMES:
            raise qt.error(name, f"one of {', '.join(QUERY_NAMES)}", show=False)
        p = qt.path(name, None, must_exist="file")
        assert p is not None
        queries[name] = p
    panes = []
    for pt in t.tables("panes"):
        title = pt.str("title", "", allow_empty=False)
        if not title:
            raise pt.error("title", "a non-empty string", show=False)
        sql = pt.path("sql", None, must_exist="file")
        if sql is None:
            raise pt.error("sql", "the path of a .sql file", show=False)
        pt.known("title", "sql").done()
        panes.append(QueryPane(title, sql))
    t.known(
        "dsn",
        "poll_interval",
        "statement_timeout",
        "connect_timeout",
        "size_interval",
        "resync_interval",
        "resync_timeout",
        "pgbouncer",
        "queries",
        "panes",
    ).done()
    return DatabaseSettings(
        dsn=dsn,
        dsn_source="warroom.toml" if dsn else "",
        poll_interval=poll,
        statement_timeout=stmt,
        connect_timeout=conn,
        size_interval=size,
        resync_interval=resync,
        resync_timeout=resync_timeout,
        pgbouncer=pgbouncer,
        queries=queries,
        panes=tuple(panes),
    )


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?")


def _errors(t: _Table) -> ErrorSettings:
    d = ErrorSettings()
    out: dict[str, Any] = {}
    for key in ("table", "id_column", "time_column"):
        v = t.str(key, getattr(d, key))
        if v and not _IDENT.fullmatch(v):
            raise t.error(key, "an SQL identifier (letters, digits, _; schema.table allowed)", v)
        if not v and key != "id_column":
            raise t.error(key, "an SQL identifier", v)
        out[key] = v
    window = t.req_duration("window", d.window, lo=timedelta(minutes=1))
    if window > timedelta(days=1):
        raise t.error("window", "a duration of at most 1 d", t.data["window"])
    limit = t.int("limit", d.limit, lo=1, hi=100)
    threshold = t.float("rate_threshold", d.rate_threshold, lo=0.0, hi=100.0)
    sustain = t.req_duration("rate_sustain", d.rate_sustain)
    overlap = t.req_duration("overlap", d.overlap, lo=timedelta(seconds=1))
    if overlap > timedelta(minutes=10):
        raise t.error("overlap", "a duration of at most 10 min", t.data["overlap"])
    t.known(
        "table", "id_column", "time_column", "window", "limit", "rate_threshold", "rate_sustain", "overlap"
    ).done()
    return ErrorSettings(
        out["table"], out["id_column"], out["time_column"], window, limit, threshold, sustain, overlap
    )


def _git(t: _Table) -> GitSettings:
    d = GitSettings()
    repo = t.path("repo", None)
    poll = t.req_duration("poll_interval", d.poll_interval, lo=timedelta(seconds=1))
    count = t.int("count", d.count, lo=1, hi=200)
    recent = t.req_duration("recent", d.recent)
    pattern = t.str("deploy_pattern", d.deploy_pattern, max_len=LONG_TEXT_MAX)
    try:
        re.compile(pattern)
    except re.error as exc:
        raise t.error("deploy_pattern", f"a regular expression ({exc})", pattern) from None
    tags = t.bool("deploy_tags", d.deploy_tags)
    globs = t.str_list("migration_globs", d.migration_globs)
    t.known(
        "repo", "poll_interval", "count", "recent", "deploy_pattern", "deploy_tags", "migration_globs"
    ).done()
    return GitSettings(repo, poll, count, recent, pattern, tags, globs)


def _status(t: _Table, pages_tables: list[_Table] | None) -> StatusSettings:
    d = StatusSettings()
    poll = t.req_duration("poll_interval", d.poll_interval, lo=timedelta(seconds=60))
    timeout = t.req_duration("timeout", d.timeout, lo=timedelta(milliseconds=100), hi=timedelta(minutes=5))
    t.known("poll_interval", "timeout").done()
    pages = d.pages
    if pages_tables is not None:
        out = []
        for pt in pages_tables:
            name = pt.str("name", "", allow_empty=False)
            url = pt.str("url", "", allow_empty=False, max_len=LONG_TEXT_MAX)
            if not name:
                raise pt.error("name", "a non-empty string", show=False)
            expected_url = 'the page\'s base URL, like "https://status.example.com"'
            if not url:
                raise pt.error("url", expected_url, show=False)
            if not re.fullmatch(r"https?://[A-Za-z0-9._~%!$&'()*+,;=:@\[\]-]+(/[!-~]*)?", url):
                raise pt.error("url", expected_url, url)
            pt.known("name", "url").done()
            base = url.rstrip("/")
            for suffix in ("/api/v2/summary.json", "/api/v2/status.json", "/api/v2"):
                if base.endswith(suffix):  # the docs name these; the page's base is what is meant
                    base = base[: -len(suffix)]
                    break
            out.append(StatusPage(name, base))
        pages = tuple(out)
    return StatusSettings(pages, poll, timeout)


def parse_config(data: Mapping[str, Any], file: str, base: Path | None, state_dir: Path) -> Settings:
    """Settings from a parsed ``warroom.toml`` (before the environment and flags)."""
    top = _Table(file, "", data, base)
    inc = top.table("incident")
    user = inc.str("user", "")
    tz_name = inc.str("timezone", "")
    if tz_name:
        try:
            ZoneInfo(tz_name)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # tzdata: a folder name raises OSError
            raise inc.error("timezone", 'an IANA time zone like "Europe/Berlin"', tz_name) from None
    inc.known("user", "timezone").done()
    ui = top.table("ui")
    theme = ui.str("theme", "dark", allow_empty=False)
    bell = ui.bool("bell", True)
    ui.known("theme", "bell").done()
    tpl = top.table("templates")
    templates_dir = tpl.path("dir", None, must_exist="dir")
    tpl.known("dir").done()
    database = _database(top.table("database"))
    errors = _errors(top.table("errors"))
    git = _git(top.table("git"))
    pages = top.tables("status_pages") if top.has("status_pages") else None
    status = _status(top.table("status"), pages)
    playbook = _playbook(top.table("playbook"))
    top.known(*_TOP_KEYS).done()
    return Settings(
        state_dir=state_dir,
        user=user,
        timezone_name=tz_name,
        playbook=playbook,
        database=database,
        errors=errors,
        git=git,
        status=status,
        templates_dir=templates_dir,
        theme=theme,
        bell=bell,
    )


# -- putting it together ----------------------------------------------------------------------


def default_state_dir() -> Path:
    import platformdirs

    return platformdirs.user_data_path("warroom", appauthor=False)


FOUND_HERE = "found in the current folder"


def find_config(explicit: Path | None, env: Mapping[str, str]) -> tuple[Path | None, str]:
    """``--config``, else ``$WARROOM_CONFIG``, else ./warroom.toml, else the user config dir; with
    where it came from (only a file :data:`FOUND_HERE` must be trusted, see :mod:`warroom.trust`)."""
    if explicit is not None:
        return explicit, "--config"
    if env.get("WARROOM_CONFIG"):
        return Path(env["WARROOM_CONFIG"]).expanduser(), "WARROOM_CONFIG"
    here = Path.cwd() / CONFIG_FILE
    if here.is_file():
        return here, FOUND_HERE
    import platformdirs

    user = platformdirs.user_config_path("warroom", appauthor=False) / CONFIG_FILE
    return (user, "your config folder") if user.is_file() else (None, "")


def named_files(settings: Settings) -> list[Path]:
    """The files a configuration names whose contents run: query files, team templates."""
    files = [*settings.database.queries.values(), *(p.sql for p in settings.database.panes)]
    folder = settings.templates_dir
    if folder is not None:
        try:
            files += sorted(p for p in folder.iterdir() if p.name.endswith(".j2"))
        except OSError:
            pass
    return files


def check_trusted(settings: Settings) -> None:
    """Refuse a configuration found in the current folder until its owner trusted it as it is."""
    from warroom.trust import digest, trusted_digest

    path = settings.config_path
    if path is None or settings.config_origin != FOUND_HERE:
        return
    recorded = trusted_digest(path)
    if recorded is None:
        raise ConfigError(
            f"{path}: found in this folder but not trusted yet (its queries and templates would run); "
            "read it, then run `warroom trust`, or name it with --config"
        )
    if recorded != digest(path, named_files(settings)):
        raise ConfigError(
            f"{path}: changed since it was trusted (the file, or a query or template it names); "
            "read the changes, then run `warroom trust` again"
        )


def load_settings(
    *,
    config: Path | None = None,
    env: Mapping[str, str] | None = None,
    state_dir: Path | None = None,
    dsn: str | None = None,
    repo: Path | None = None,
    theme: str | None = None,
    user: str | None = None,
    require_trust: bool = True,
) -> Settings:
    """Defaults <- warroom.toml <- environment <- flags (the keyword arguments). A warroom.toml
    found in the current folder must have been trusted (``warroom trust``) unless
    ``require_trust`` is False (the trust command itself)."""
    env = os.environ if env is None else env
    path, origin = find_config(config, env)
    data: dict[str, Any] = {}
    if path is not None:
        data = read_toml(path)
    env_state = Path(env["WARROOM_STATE_DIR"]).expanduser() if env.get("WARROOM_STATE_DIR") else None
    if env_state is not None and not env_state.is_absolute():
        raise ConfigError(
            f"WARROOM_STATE_DIR: expected an absolute path, got {_show(str(env_state))} "
            "(a relative one would be another journal in every folder)"
        )
    sd = (state_dir.expanduser().absolute() if state_dir else None) or env_state or default_state_dir()
    base = path.parent.resolve() if path is not None else None
    settings = parse_config(data, str(path) if path else CONFIG_FILE, base, sd)
    settings = replace(settings, config_path=path, config_origin=origin)
    if require_trust:
        check_trusted(settings)

    db = settings.database
    if env.get("WARROOM_DSN"):
        db = replace(db, dsn=env["WARROOM_DSN"], dsn_source="WARROOM_DSN")
    elif env.get("DATABASE_URL"):
        # The environment beats the file (the documented order). `warroom check` and the
        # database pane say which one was used, since DATABASE_URL is often the app's own.
        db = replace(db, dsn=env["DATABASE_URL"], dsn_source="DATABASE_URL")
    if dsn is not None:
        db = replace(db, dsn=dsn or None, dsn_source="--dsn" if dsn else "")
    register_dsn(db.dsn)
    problem = dsn_problem(db.dsn)
    if problem:
        where = settings.config_path if db.dsn_source == "warroom.toml" else db.dsn_source
        raise ConfigError(
            f"{where}: [database] dsn: {problem}"
            if db.dsn_source == "warroom.toml"
            else f"{where}: {problem}"
        )
    settings = replace(settings, database=db)
    if repo is not None:
        settings = replace(settings, git=replace(settings.git, repo=repo))
    if theme is not None:
        settings = replace(settings, theme=theme)
    if user is not None:
        settings = replace(settings, user=user)
    if not settings.user:
        from warroom.incident.journal import login_name

        settings = replace(settings, user=login_name())
    register_dsn(settings.database.dsn)
    return settings
