"""Settings from files: the playbook's defaults <- ``warroom.toml`` <- environment <- command-line flags.

The settings' types, and each key's kind, bounds and ``warroom check`` line, are in
:mod:`warroom.settings`; this module reads them from a TOML file (:func:`parse_config`, through the
keys declared there), finds the file (:func:`find_config`), refuses a found one that was not trusted
(:func:`check_trusted`) and lays the environment and the flags over it (:func:`load_settings`).

Every problem with a configuration file (unreadable, not TOML, an unknown key, a wrong type, a
bad duration) is a :class:`ConfigError` whose message is one line naming the file, the key and
what was expected. The CLI prints it and exits with status 2.

How one table of the file is read (typed keys, one-line errors, unknown keys) is in
:mod:`warroom.config.table`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import fields, replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any, TypeVar

from warroom.config.table import SPECIAL, ConfigError, Table, read_toml, show_value, whole_table
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
    DatabaseSettings,
    QueryPane,
    Settings,
    StatusPage,
    StatusSettings,
    secrets_of,
    sections,
    with_environment,
)
from warroom.settings.integrations import (
    COMMAND_EXPECTED,
    COMMAND_PANE_DEFAULTS,
    CommandPane,
    CommandRefused,
    command_argv,
)
from warroom.settings.keys import (
    QUERY_NAMES,
    Duration,
    Key,
    PathTo,
    Refusal,
    Special,
    Text,
    TextList,
    Whole,
    keys_of,
)
from warroom.text import dsn_problem, register_dsn, register_secret

CONFIG_FILE = "warroom.toml"
_S = TypeVar("_S")


# -- the playbook's tables (its types are warroom.playbook's) -------------------------------------


def _severities_among(values: Sequence[str]) -> Refusal | None:
    bad = [s for s in values if s not in DEFAULT.severities]  # severities can be changed, not added
    return (f"severities among {', '.join(DEFAULT.severities)}", bad[0]) if bad else None


_SAMPLE_TIME = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
_WIDE_FIELD = re.compile(r"\{[^{}]*:[^{}]*\d{3,}[^{}]*\}")


def _channel_pattern(channel: str) -> Refusal | None:
    if not channel:
        return None
    expected = "a pattern using {time:%Y-%m-%d-%H-%M}, {severity} and {slug}"
    if _WIDE_FIELD.search(channel):  # {slug:>50000000} would make a 50 MB name
        return expected + " (no field widths)", channel
    try:
        sample = channel.format(time=_SAMPLE_TIME, severity="P0", slug="x" * 40)
    except (KeyError, ValueError, IndexError, AttributeError):
        return expected, channel
    if len(sample) > CHANNEL_MAX:
        return f"a pattern giving at most {CHANNEL_MAX} characters", channel
    return None


_CADENCE = Duration(lo=timedelta(minutes=1), allow_none=True)
_SEVERITY_KEYS = (
    Key("name", Text(allow_empty=False)),
    Key("summary", Text()),
    Key("impact", Text()),
    Key("response", Special()),
    Key("internal_update", _CADENCE),
    Key("customer_update", _CADENCE),
    Key("channel", Text(CHANNEL_MAX, check=_channel_pattern)),
    Key("actions", TextList()),
    Key("examples", TextList()),
)
_LEVEL_KEYS = (
    Key("level", Whole(1, 9), required="a level number (1-9)"),
    Key("name", Text(allow_empty=False), required="a non-empty string"),
    Key("after", Duration(allow_none=True)),
    Key("severities", TextList(check=_severities_among)),
    Key("trigger", Text()),
    Key("after_severities", TextList(check=_severities_among)),
)
_LEVEL_DEFAULTS = {"after": None, "severities": (), "trigger": "", "after_severities": None}
_PHASE_KEYS = (
    Key("name", Text(allow_empty=False)),
    Key("budget", Duration(allow_none=True)),
    Key("window", Text()),
    Key("status", Text(allow_empty=False)),
)
_CHECKLIST_KEYS = tuple(
    Key(name, TextList(allow_empty_list=False)) for name in ("investigation", "verification", "resolution")
)
_PLAYBOOK_KEYS = (
    Key("severities", Special()),
    Key("escalation", Special()),
    Key("phases", Special()),
    Key("checklists", Special()),
    Key("freeze_severities", TextList(check=_severities_among)),
    Key("review_within", Duration()),
    Key("due_soon", Duration()),
    Key("bell_every", Duration(lo=timedelta(seconds=30))),
    Key("business_day_start", Special()),
)


def _response(t: Table, default: timedelta | None) -> timedelta | None:
    if not t.has("response"):
        return default
    v = t.raw("response")
    if isinstance(v, str) and v.strip().lower() == NEXT_BUSINESS_DAY:
        return None
    try:
        return parse_duration(v)
    except DurationError:
        expected = f'a duration like \'30m\', "immediate" or "{NEXT_BUSINESS_DAY}"'
        raise t.error("response", expected, v) from None


def _severities(t: Table, default: Mapping[str, Severity]) -> dict[str, Severity]:
    sevs = dict(default)
    st = t.table("severities")
    for key in st.data:
        if key not in sevs:
            raise st.error(
                key, f"one of {', '.join(sevs)} (severities can be changed, not added)", show=False
            )
        sevs[key] = replace(sevs[key], **whole_table(st.table(key), _SEVERITY_KEYS, sevs[key]))
    st.done()
    return sevs


def _escalation(t: Table, default: tuple[EscalationLevel, ...]) -> tuple[EscalationLevel, ...]:
    if not t.has("escalation"):
        return default
    levels: list[EscalationLevel] = []
    for lt in t.tables("escalation"):
        v = whole_table(lt, _LEVEL_KEYS, _LEVEL_DEFAULTS)
        if any(lv.level == v["level"] for lv in levels):
            raise lt.error("level", "a level number not used by another level", v["level"])
        after_sevs = v["after_severities"]
        severities = frozenset(v["severities"])
        trigger = v["trigger"] or _trigger_words(v["after"], severities)
        levels.append(
            EscalationLevel(
                v["level"],
                v["name"],
                v["after"],
                severities,
                trigger,
                None if after_sevs is None else frozenset(after_sevs),
            )
        )
    if not levels:
        raise t.error("escalation", "at least one [[playbook.escalation]] level", show=False)
    return tuple(sorted(levels, key=lambda lv: lv.level))


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


def _phases(t: Table, default: tuple[Phase, ...]) -> tuple[Phase, ...]:
    phases = list(default)
    pt = t.table("phases")
    keys = [p.key for p in phases]
    for key in pt.data:
        if key not in keys:
            raise pt.error(key, f"one of {', '.join(keys)}", show=False)
        i = keys.index(key)
        phases[i] = replace(phases[i], **whole_table(pt.table(key), _PHASE_KEYS, phases[i]))
    pt.done()
    return tuple(phases)


def _checklists(t: Table, pb: Playbook) -> dict[str, Checklist]:
    current = {key.name: getattr(pb, key.name) for key in _CHECKLIST_KEYS}
    texts = {name: tuple(i.text for i in c.items) for name, c in current.items()}
    lists = whole_table(t.table("checklists"), _CHECKLIST_KEYS, texts)
    return {name: Checklist.of(current[name].key, current[name].title, lists[name]) for name in lists}


def _business_day_start(t: Table, default: time) -> time:
    if not t.has("business_day_start"):
        return default
    v = t.raw("business_day_start")
    if isinstance(v, time):
        return v
    if isinstance(v, str) and re.fullmatch(r"\d{1,2}:\d{2}", v.strip()):
        hh, mm = (int(x) for x in v.strip().split(":"))
        if hh <= 23 and mm <= 59:
            return time(hh, mm)
    raise t.error("business_day_start", 'a time of day like "09:00"', v)


def _playbook(t: Table) -> Playbook:
    pb = DEFAULT
    # The checklists table holds three of the playbook's values: its reader gets the playbook.
    defaults = {f.name: getattr(pb, f.name) for f in fields(pb)} | {"checklists": pb}
    values = whole_table(t, _PLAYBOOK_KEYS, defaults)
    lists = values.pop("checklists")
    values["freeze_severities"] = frozenset(values["freeze_severities"])
    return replace(pb, **values, **lists)


# -- the settings' tables -------------------------------------------------------------------------


def _queries(t: Table, default: Mapping[str, Path]) -> dict[str, Path]:
    qt = t.table("queries")
    queries: dict[str, Path] = {}
    for name in qt.data:
        if name not in QUERY_NAMES:
            raise qt.error(name, f"one of {', '.join(QUERY_NAMES)}", show=False)
        queries[name] = qt.read(Key(name, PathTo("file")), None)
    return queries


def _panes(t: Table, default: tuple[QueryPane, ...]) -> tuple[QueryPane, ...]:
    return tuple(QueryPane(**whole_table(pt, keys_of(QueryPane), {})) for pt in t.tables("panes"))


def _status_page(t: Table) -> StatusPage:
    page = StatusPage(**whole_table(t, keys_of(StatusPage), {}))
    base = page.url.rstrip("/")
    for suffix in ("/api/v2/summary.json", "/api/v2/status.json", "/api/v2"):
        if base.endswith(suffix):  # the docs name these; the page's base is what is meant
            return replace(page, url=base[: -len(suffix)])
    return replace(page, url=base)


def _command(t: Table, default: object) -> tuple[str, ...]:
    if not t.has("command"):
        raise t.error("command", COMMAND_EXPECTED, show=False)
    try:
        return command_argv(t.raw("command"))
    except CommandRefused as no:
        raise t.error("command", no.expected, t.raw("command"), show=no.show) from None


def _command_panes(tables: list[Table]) -> tuple[CommandPane, ...]:
    panes: list[CommandPane] = []
    for pt in tables:
        pane = CommandPane(**whole_table(pt, keys_of(CommandPane), COMMAND_PANE_DEFAULTS))
        if any(p.name == pane.name for p in panes):
            raise pt.error("name", "a name no other command pane has", pane.name)
        panes.append(pane)
    return tuple(panes)


# The readers of the keys of kind Special, by the key's name.
SPECIAL.update(
    {
        "queries": _queries,
        "panes": _panes,
        "response": _response,
        "severities": _severities,
        "escalation": _escalation,
        "phases": _phases,
        "checklists": _checklists,
        "business_day_start": _business_day_start,
        "command": _command,
    }
)


def _section(t: Table, defaults: _S) -> _S:
    """A table whose keys are the fields of a settings type."""
    return replace(defaults, **whole_table(t, keys_of(type(defaults)), defaults))


def _database(t: Table) -> DatabaseSettings:
    db = _section(t, DatabaseSettings())
    return replace(db, dsn=db.dsn or None, dsn_source="warroom.toml" if db.dsn else "")


def _status(t: Table, pages_tables: list[Table] | None) -> StatusSettings:
    status = _section(t, StatusSettings())
    if pages_tables is None:
        return status
    return replace(status, pages=tuple(_status_page(pt) for pt in pages_tables))


# The top level: the tables of Settings' own keys, its sections, and the status pages.
_OWN_TABLES = tuple(dict.fromkeys(key.table for key in keys_of(Settings)))
_OWN_READER = ("database", "status", "playbook")  # the tables read by a function of their own
_TOP_KEYS = (*_OWN_TABLES, *(name for _, name in sections()), "status_pages", "command_panes")


def parse_config(data: Mapping[str, Any], file: str, base: Path | None, state_dir: Path) -> Settings:
    """Settings from a parsed ``warroom.toml`` (before the environment and flags)."""
    top = Table(file, "", data, base)
    defaults = Settings(state_dir=state_dir)
    own: dict[str, Any] = {}
    for table in _OWN_TABLES:
        keys = [key for key in keys_of(Settings) if key.table == table]
        own |= whole_table(top.table(table), keys, defaults)
    database = _database(top.table("database"))
    pages = top.tables("status_pages") if top.has("status_pages") else None
    status = _status(top.table("status"), pages)
    playbook = _playbook(top.table("playbook"))
    # The other tables (errors, git, pagerduty, slack, statuspage, twilio, shared...) hold their type's keys.
    plain = {a: _section(top.table(n), getattr(defaults, a)) for a, n in sections() if a not in _OWN_READER}
    plain["command_panes"] = _command_panes(top.tables("command_panes"))
    top.known(*_TOP_KEYS).done()
    return replace(defaults, **own, **plain, database=database, status=status, playbook=playbook)


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
    """The files a configuration names whose contents run: query files, team templates, and a
    command pane's program when it is named by a relative path (``./scripts/logs.sh``: a file of
    the folder, as anybody's as the configuration; ``supabase`` or ``/usr/bin/kubectl`` is not)."""
    files = [*settings.database.queries.values(), *(p.sql for p in settings.database.panes)]
    for pane in settings.command_panes:
        program = pane.command[0]
        if "/" in program and not program.startswith(("/", "~")):
            files.append((pane.cwd or Path.cwd()) / program)
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
            f"{path}: found in this folder but not trusted yet (its queries, templates and commands "
            "would run); read it, then run `warroom trust`, or name it with --config"
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
            f"WARROOM_STATE_DIR: expected an absolute path, got {show_value(str(env_state))} "
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
    settings = with_environment(settings, env)  # (the watching DSN's password is registered above)
    if problem := dsn_problem(settings.shared.dsn or None):  # its password: see secrets_of
        raise ConfigError(f"{settings.shared.where(settings.config_path)}: {problem}")
    register_dsn(settings.database.action_dsn)  # masked wherever the watching DSN's password is
    if problem := dsn_problem(settings.database.action_dsn):  # the file's is checked as it is read
        raise ConfigError(f"WARROOM_ACTION_DSN: {problem}")
    for secret in secrets_of(settings):  # the routing key, the webhook URL, the API key, the auth token...
        register_secret(secret)
    return settings
