"""Configuration: playbook defaults <- warroom.toml <- environment <- flags, and one-line errors."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

import pytest

from warroom import config as cfg
from warroom.config import ConfigError, load_settings, parse_config, read_toml
from warroom.playbook import DEFAULT, EscalationLevel
from warroom.settings import (
    DatabaseSettings,
    ErrorSettings,
    GitSettings,
    QueryPane,
    Settings,
    StatusPage,
    StatusSettings,
)
from warroom.settings.escalation import EscalationContacts
from warroom.settings.integrations import (
    CommandPane,
    PagerDutySettings,
    SharedSettings,
    SlackSettings,
    StatuspageSettings,
    TwilioSettings,
)
from warroom.settings.keys import QUERY_NAMES, keys_of
from warroom.text import clean
from warroom.trust import trust


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No real user config or data dir, and a cwd without a warroom.toml."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    for var in ("WARROOM_DSN", "DATABASE_URL", "WARROOM_CONFIG", "WARROOM_STATE_DIR"):
        monkeypatch.delenv(var, raising=False)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)


def write(tmp_path: Path, text: str, name: str = "warroom.toml") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def load(path: Path | None, env: dict[str, str] | None = None, **flags: object) -> Settings:
    return load_settings(config=path, env=env or {}, **flags)  # type: ignore[arg-type]


# -- defaults ----------------------------------------------------------------------------------


def test_defaults_without_any_file(tmp_path: Path) -> None:
    s = load(None)
    assert s.config_path is None
    assert s.playbook == DEFAULT
    assert s.state_dir == tmp_path / "xdg-data" / "warroom"
    assert s.journal_path == tmp_path / "xdg-data" / "warroom" / "journal.sqlite3"
    assert s.outbox_dir == s.state_dir / "outbox"
    assert s.database.dsn is None and s.database.dsn_source == ""
    assert s.database.poll_interval == timedelta(seconds=2)
    assert s.database.statement_timeout == timedelta(seconds=2)
    assert s.database.command_timeout == timedelta(seconds=3)
    assert [p.name for p in s.status.pages] == ["Supabase", "Twilio"]
    assert s.status.pages[0].summary_url == "https://status.supabase.com/api/v2/summary.json"
    assert s.status.poll_interval == timedelta(seconds=60)
    assert s.errors.table == "error_logs" and s.errors.window == timedelta(hours=1)
    assert s.errors.rate_threshold == 1.0 and s.errors.rate_sustain == timedelta(minutes=30)
    assert s.timezone_name == "" and s.tz is None
    assert s.user  # the login name
    assert s.theme == "dark" and s.bell is True


def test_empty_file_means_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, "")
    s = load(path)
    assert s.config_path == path
    assert s.playbook == DEFAULT


# -- reading values --------------------------------------------------------------------------


FULL = """
[incident]
user = "ana"
timezone = "Europe/Berlin"

[ui]
theme = "light"
bell = false

[templates]
dir = "tpl"

[database]
dsn = "postgresql://watcher:s3cr3t-in-toml@db.internal:5432/app"
poll_interval = "5s"
statement_timeout = "1500ms"
pgbouncer = true

[database.queries]
error_tally = "sql/tally.sql"
error_tally_since = "sql/tally.sql"

[[database.panes]]
title = "Stuck jobs"
sql = "sql/jobs.sql"

[errors]
table = "public.app_errors"
time_column = "created_at"
window = "30m"
limit = 20
rate_threshold = 0.5

[git]
repo = "~/code/app"
count = 25
deploy_pattern = "^(deploy|release)"

[status]
poll_interval = "2m"

[[status_pages]]
name = "Stripe"
url = "https://status.stripe.com/"

[playbook]
freeze_severities = ["P0", "P1"]
review_within = "72h"
due_soon = "5m"
business_day_start = "08:30"

[playbook.severities.P1]
internal_update = "20m"
customer_update = "1h"
response = "15m"
channel = "#inc-{severity}-{time:%Y%m%d}-{slug}"
actions = ["Page the SMS team", "Open the Twilio console"]

[playbook.severities.P2]
internal_update = "2h"

[playbook.severities.P3]
response = "Next business day"
channel = ""

[playbook.severities.P0]
internal_update = "none"

[[playbook.escalation]]
level = 1
name = "Primary on-call"
after = "0"

[[playbook.escalation]]
level = 2
name = "Team lead"
after = "20m"

[[playbook.escalation]]
level = 3
name = "Head of engineering"
after = "45m"
severities = ["P0"]
trigger = "if P0 or unresolved in 45 min"

[playbook.phases.triage]
budget = "10m"

[playbook.phases.mitigation]
budget = "1h"
status = "Fixing"

[playbook.checklists]
verification = ["Error rate back under 1%", "Smoke test passed"]
"""


def test_every_section_is_read(tmp_path: Path) -> None:
    (tmp_path / "sql").mkdir()
    (tmp_path / "sql" / "tally.sql").write_text("SELECT 1")
    (tmp_path / "sql" / "jobs.sql").write_text("SELECT 2")
    (tmp_path / "tpl").mkdir()
    path = write(tmp_path, FULL)
    s = load(path, env={"HOME": "/home/ana"})
    assert s.user == "ana" and s.timezone_name == "Europe/Berlin" and str(s.tz) == "Europe/Berlin"
    assert (s.theme, s.bell) == ("light", False)
    assert s.templates_dir == tmp_path / "tpl"  # relative to the file's folder
    db = s.database
    assert db.dsn == "postgresql://watcher:s3cr3t-in-toml@db.internal:5432/app"
    assert db.dsn_source == "warroom.toml"
    assert db.masked_dsn == "postgresql://watcher:***@db.internal:5432/app"
    assert db.poll_interval == timedelta(seconds=5)
    assert db.statement_timeout == timedelta(milliseconds=1500)
    assert db.pgbouncer is True
    assert db.queries == {
        "error_tally": tmp_path / "sql" / "tally.sql",
        "error_tally_since": tmp_path / "sql" / "tally.sql",
    }
    assert [(p.title, p.sql) for p in db.panes] == [("Stuck jobs", tmp_path / "sql" / "jobs.sql")]
    er = s.errors
    assert (er.table, er.time_column, er.window, er.limit, er.rate_threshold) == (
        "public.app_errors",
        "created_at",
        timedelta(minutes=30),
        20,
        0.5,
    )
    assert s.git.repo == Path("~/code/app").expanduser()
    assert (s.git.count, s.git.deploy_pattern) == (25, "^(deploy|release)")
    assert s.status.poll_interval == timedelta(minutes=2)
    assert [(p.name, p.url) for p in s.status.pages] == [("Stripe", "https://status.stripe.com")]

    pb = s.playbook
    assert pb.freeze_severities == frozenset({"P0", "P1"})
    assert pb.review_within == timedelta(hours=72)
    assert pb.due_soon == timedelta(minutes=5)
    assert pb.business_day_start == time(8, 30)
    p0, p1, p2, p3 = (pb.severity(k) for k in ("P0", "P1", "P2", "P3"))
    assert p0.internal_update is None and p0.customer_update == timedelta(minutes=30)
    assert (p1.internal_update, p1.customer_update, p1.response) == (
        timedelta(minutes=20),
        timedelta(hours=1),
        timedelta(minutes=15),
    )
    assert p1.actions == ("Page the SMS team", "Open the Twilio console")
    assert p1.examples == DEFAULT.severity("P1").examples  # untouched keys keep the playbook's value
    from datetime import UTC, datetime

    assert pb.channel_name("P1", "SMS down", datetime(2026, 11, 26, 14, 0, tzinfo=UTC)) == (
        "#inc-P1-20261126-sms-down"
    )
    assert p2.internal_update == timedelta(hours=2)
    assert p3.response is None and p3.channel == ""
    assert [(lv.level, lv.name, lv.after, lv.severities) for lv in pb.escalation] == [
        (1, "Primary on-call", timedelta(0), frozenset()),
        (2, "Team lead", timedelta(minutes=20), frozenset()),
        (3, "Head of engineering", timedelta(minutes=45), frozenset({"P0"})),
    ]
    assert [lv.trigger for lv in pb.escalation] == [
        "when the incident is declared",
        "if unresolved in 20 min",
        "if P0 or unresolved in 45 min",
    ]
    assert pb.phase("triage").budget == timedelta(minutes=10)
    assert (pb.phase("mitigation").budget, pb.phase("mitigation").status) == (timedelta(hours=1), "Fixing")
    assert pb.phase("investigation") == DEFAULT.phase("investigation")
    assert [i.text for i in pb.verification.items] == ["Error rate back under 1%", "Smoke test passed"]
    assert pb.investigation == DEFAULT.investigation
    # describe() runs over all of it and never shows the password.
    text = "\n".join(s.describe())
    assert "s3cr3t-in-toml" not in text
    assert "postgresql://watcher:***@db.internal:5432/app   (from warroom.toml)" in text
    assert "P1 High     = response 15 min, internal update 20 min, customer update 1 h" in text
    lines = s.describe()
    assert f"query error_tally   = {tmp_path / 'sql' / 'tally.sql'}" in lines
    assert f"query error_tally_since = {tmp_path / 'sql' / 'tally.sql'}" in lines


def test_business_day_start_as_toml_time(tmp_path: Path) -> None:
    s = load(write(tmp_path, "[playbook]\nbusiness_day_start = 07:45:00\n"))
    assert s.playbook.business_day_start == time(7, 45)


def test_escalation_levels_are_sorted(tmp_path: Path) -> None:
    text = '[[playbook.escalation]]\nlevel = 2\nname = "B"\nafter = "1h"\n'
    text += '[[playbook.escalation]]\nlevel = 1\nname = "A"\n'
    s = load(write(tmp_path, text))
    assert [(lv.level, lv.after, lv.trigger) for lv in s.playbook.escalation] == [
        (1, None, "by decision"),
        (2, timedelta(hours=1), "if unresolved in 1 h"),
    ]


# -- where the file comes from -------------------------------------------------------------------


def test_config_file_precedence(tmp_path: Path) -> None:
    user_file = write(tmp_path, '[incident]\nuser = "from-user-dir"\n', "xdg-config/warroom/warroom.toml")
    assert load(None).config_path == user_file
    assert load(None).user == "from-user-dir"
    cwd_file = write(tmp_path, '[incident]\nuser = "from-cwd"\n', "cwd/warroom.toml")
    with pytest.raises(ConfigError, match="found in this folder but not trusted yet"):
        load(None)  # a warroom.toml found here is anybody's: used only once trusted
    trust(cwd_file, [])
    assert load(None).config_path == Path.cwd() / "warroom.toml" == cwd_file
    assert load(None).user == "from-cwd"
    assert load(None).config_origin == "found in the current folder"
    env_file = write(tmp_path, '[incident]\nuser = "from-env"\n', "elsewhere/env.toml")
    assert load(None, env={"WARROOM_CONFIG": str(env_file)}).user == "from-env"
    explicit = write(tmp_path, '[incident]\nuser = "from-flag"\n', "explicit.toml")
    s = load(explicit, env={"WARROOM_CONFIG": str(env_file)})
    assert (s.config_path, s.user) == (explicit, "from-flag")
    # The --user flag beats them all.
    assert load(explicit, user="flag-user").user == "flag-user"


def test_dsn_precedence(tmp_path: Path) -> None:
    toml = write(tmp_path, '[database]\ndsn = "postgresql://t:pw-toml@h/toml"\n')
    empty = write(tmp_path, "", "empty.toml")
    env_both = {"WARROOM_DSN": "postgresql://w:pw-w@h/w", "DATABASE_URL": "postgresql://d:pw-d@h/d"}

    def dsn(path: Path, env: dict[str, str], flag: str | None = None) -> tuple[str | None, str]:
        db = load(path, env=env, dsn=flag).database
        return db.dsn, db.dsn_source

    assert dsn(empty, {}) == (None, "")
    assert dsn(toml, {}) == ("postgresql://t:pw-toml@h/toml", "warroom.toml")
    assert dsn(empty, {"DATABASE_URL": "postgresql://d:pw-d@h/d"}) == (
        "postgresql://d:pw-d@h/d",
        "DATABASE_URL",
    )
    # WARROOM_DSN comes before DATABASE_URL, and before the file.
    assert dsn(empty, env_both) == ("postgresql://w:pw-w@h/w", "WARROOM_DSN")
    assert dsn(toml, env_both) == ("postgresql://w:pw-w@h/w", "WARROOM_DSN")
    # The environment beats the file: DATABASE_URL replaces warroom.toml's dsn (check says so).
    assert dsn(toml, {"DATABASE_URL": "postgresql://d:pw-d@h/d"}) == (
        "postgresql://d:pw-d@h/d",
        "DATABASE_URL",
    )
    # The flag beats everything; an empty flag means "no database".
    assert dsn(toml, env_both, "postgresql://f:pw-f@h/f") == ("postgresql://f:pw-f@h/f", "--dsn")
    assert dsn(toml, env_both, "") == (None, "")
    # An empty variable is no variable.
    assert dsn(toml, {"WARROOM_DSN": ""}) == ("postgresql://t:pw-toml@h/toml", "warroom.toml")


def test_state_dir_precedence(tmp_path: Path) -> None:
    assert load(None).state_dir == tmp_path / "xdg-data" / "warroom"
    assert (
        load(None, env={"WARROOM_STATE_DIR": str(tmp_path / "env-state")}).state_dir == tmp_path / "env-state"
    )
    flagged = load(None, env={"WARROOM_STATE_DIR": str(tmp_path / "env-state")}, state_dir=tmp_path / "flag")
    assert flagged.state_dir == tmp_path / "flag"


def test_other_flags(tmp_path: Path) -> None:
    path = write(tmp_path, '[ui]\ntheme = "light"\n[git]\nrepo = "/srv/a"\n')
    s = load(path, theme="high-contrast", repo=tmp_path / "b")
    assert (s.theme, s.git.repo) == ("high-contrast", tmp_path / "b")


def test_dsn_password_is_registered_as_a_secret(tmp_path: Path) -> None:
    password = "Pw-7f3c9e1d-register"
    load(None, env={"WARROOM_DSN": f"postgresql://u:{password}@db.example:5432/app"})
    assert clean(f'connection to "db.example" failed: password "{password}" rejected') == (
        'connection to "db.example" failed: password "***" rejected'
    )
    s = load(None, dsn=f"host=db user=u password='{password}-kv' dbname=app")
    assert password not in "\n".join(s.describe())
    assert "password=***" in s.database.masked_dsn
    assert clean(f"{password}-kv") == "***"


# -- errors ------------------------------------------------------------------------------------

KNOWN_TOP = ", ".join(sorted(cfg._TOP_KEYS))
SEVERITY_KEYS = (
    "actions, channel, customer_update, examples, impact, internal_update, name, response, summary"
)
EXPECT_DURATION = "expected a duration like '15m' or '1h30m'"

MALFORMED = [
    # (name, toml text, the message after "<file>: ")
    ("unknown top-level key", 'colour = "red"', f"unknown key 'colour' (known keys: {KNOWN_TOP})"),
    (
        "unknown nested key",
        '[playbook.severities.P0]\ncadence = "15m"',
        f"[playbook.severities.P0] unknown key 'cadence' (known keys: {SEVERITY_KEYS})",
    ),
    ("wrong type (bool)", '[ui]\nbell = "yes"', "[ui] bell: expected true or false, got 'yes'"),
    (
        "wrong type (int)",
        '[git]\ncount = "ten"',
        "[git] count: expected a whole number from 1 to 200, got 'ten'",
    ),
    ("number out of range", "[git]\ncount = 0", "[git] count: expected a whole number from 1 to 200, got 0"),
    ("wrong type (table)", "playbook = 3", "playbook: expected a table, got 3"),
    (
        "wrong type (list)",
        '[playbook]\nfreeze_severities = "P0"',
        "[playbook] freeze_severities: expected a list of non-empty strings, got 'P0'",
    ),
    (
        "bad duration",
        '[database]\npoll_interval = "soon"',
        f"[database] poll_interval: {EXPECT_DURATION}, got 'soon'",
    ),
    (
        "bad duration unit",
        '[database]\npoll_interval = "5 parsecs"',
        f"[database] poll_interval: {EXPECT_DURATION}, got '5 parsecs'",
    ),
    (
        "duration as a date",
        "[database]\npoll_interval = 1979-05-27",
        f"[database] poll_interval: {EXPECT_DURATION}, got 1979-05-27",
    ),
    (
        "negative duration",
        "[database]\nsize_interval = -5",
        f"[database] size_interval: {EXPECT_DURATION}, got -5",
    ),
    (
        "infinite duration",
        "[database]\nsize_interval = inf",
        f"[database] size_interval: {EXPECT_DURATION}, got inf",
    ),
    (
        "huge duration",
        '[database]\nsize_interval = "99999999999d"',
        f"[database] size_interval: {EXPECT_DURATION}, got '99999999999d'",
    ),
    (
        "negative cadence",
        "[playbook.severities.P1]\ninternal_update = -5",
        f'[playbook.severities.P1] internal_update: {EXPECT_DURATION} (or "none"), got -5',
    ),
    (
        "too-small cadence",
        '[playbook.severities.P2]\ninternal_update = "30s"',
        "[playbook.severities.P2] internal_update: expected a duration of at least 1 min, got '30s'",
    ),
    (
        "too-small poll interval",
        '[database]\npoll_interval = "100ms"',
        "[database] poll_interval: expected a duration of at least 200 ms, got '100ms'",
    ),
    (
        "status poll interval under 60 s",
        '[status]\npoll_interval = "30s"',
        "[status] poll_interval: expected a duration of at least 1 min, got '30s'",
    ),
    (
        "bad response time",
        '[playbook.severities.P1]\nresponse = "soonish"',
        "[playbook.severities.P1] response: expected a duration like '30m', \"immediate\" or "
        "\"next business day\", got 'soonish'",
    ),
    (
        "bad timezone",
        '[incident]\ntimezone = "Mars/Olympus_Mons"',
        "[incident] timezone: expected an IANA time zone like \"Europe/Berlin\", got 'Mars/Olympus_Mons'",
    ),
    (
        "timezone that is a folder",
        '[incident]\ntimezone = "Europe"',
        "[incident] timezone: expected an IANA time zone like \"Europe/Berlin\", got 'Europe'",
    ),
    (
        "bad channel pattern",
        '[playbook.severities.P0]\nchannel = "#inc-{when}"',
        "[playbook.severities.P0] channel: expected a pattern using {time:%Y-%m-%d-%H-%M}, {severity} "
        "and {slug}, got '#inc-{when}'",
    ),
    (
        "unbalanced channel pattern",
        '[playbook.severities.P1]\nchannel = "#inc-{slug"',
        "[playbook.severities.P1] channel: expected a pattern using {time:%Y-%m-%d-%H-%M}, {severity} "
        "and {slug}, got '#inc-{slug'",
    ),
    (
        "unknown severity key",
        '[playbook.severities.P5]\nname = "Trivial"',
        "[playbook.severities] P5: expected one of P0, P1, P2, P3 (severities can be changed, not added)",
    ),
    (
        "escalation level 0",
        '[[playbook.escalation]]\nlevel = 0\nname = "Nobody"',
        "[[playbook.escalation]] #1 level: expected a whole number from 1 to 9, got 0",
    ),
    (
        "escalation level missing",
        '[[playbook.escalation]]\nname = "Somebody"',
        "[[playbook.escalation]] #1 level: expected a level number (1-9)",
    ),
    (
        "escalation level twice",
        '[[playbook.escalation]]\nlevel = 1\nname = "A"\n[[playbook.escalation]]\nlevel = 1\nname = "B"',
        "[[playbook.escalation]] #2 level: expected a level number not used by another level, got 1",
    ),
    (
        "escalation unknown severity",
        '[[playbook.escalation]]\nlevel = 3\nname = "CTO"\nseverities = ["P0", "SEV1"]',
        "[[playbook.escalation]] #1 severities: expected severities among P0, P1, P2, P3, got 'SEV1'",
    ),
    (
        "escalation as a table",
        "[playbook.escalation]\nlevel = 1",
        "[playbook] escalation: expected an array of tables ([[playbook.escalation]]), got a table",
    ),
    (
        "unknown phase",
        '[playbook.phases.lunch]\nbudget = "1h"',
        "[playbook.phases] lunch: expected one of triage, investigation, mitigation, recovery, review",
    ),
    (
        "empty checklist",
        "[playbook.checklists]\ninvestigation = []",
        "[playbook.checklists] investigation: expected a list with at least one item, got an empty list",
    ),
    (
        "unknown freeze severity",
        '[playbook]\nfreeze_severities = ["P0", "P9"]',
        "[playbook] freeze_severities: expected severities among P0, P1, P2, P3, got 'P9'",
    ),
    (
        "error window over a day",
        '[errors]\nwindow = "40d"',
        "[errors] window: expected a duration of at most 1 d, got '40d'",
    ),
    (
        "overlap over ten minutes",
        '[errors]\noverlap = "40d"',
        "[errors] overlap: expected a duration of at most 10 min, got '40d'",
    ),
    (
        "bad business day start",
        '[playbook]\nbusiness_day_start = "25:00"',
        "[playbook] business_day_start: expected a time of day like \"09:00\", got '25:00'",
    ),
    (
        "unknown query name",
        '[database.queries]\ntop_errors = "x.sql"',
        f"[database.queries] top_errors: expected one of {', '.join(QUERY_NAMES)}",
    ),
    (
        "bad status page url",
        '[[status_pages]]\nname = "Stripe"\nurl = "ftp://status.stripe.com"',
        '[[status_pages]] #1 url: expected the page\'s base URL, like "https://status.example.com", '
        "got 'ftp://status.stripe.com'",
    ),
    (
        "status page url with a space",
        '[[status_pages]]\nname = "Stripe"\nurl = "https://status stripe.com"',
        '[[status_pages]] #1 url: expected the page\'s base URL, like "https://status.example.com", '
        "got 'https://status stripe.com'",
    ),
    (
        "status page without url",
        '[[status_pages]]\nname = "Stripe"',
        '[[status_pages]] #1 url: expected the page\'s base URL, like "https://status.example.com"',
    ),
    (
        "unknown status page key",
        '[[status_pages]]\nname = "Stripe"\nurl = "https://status.stripe.com"\ntoken = "x"',
        "[[status_pages]] #1 unknown key 'token' (known keys: name, url)",
    ),
    (
        "command pane without name",
        '[[command_panes]]\ncommand = ["tail", "-f", "log"]',
        "[[command_panes]] #1 name: expected a non-empty string",
    ),
    (
        "command pane without command",
        '[[command_panes]]\nname = "logs"',
        "[[command_panes]] #1 command: expected a command: a list of strings like "
        '["kubectl", "logs", "-f", "deploy/api"], or one string',
    ),
    (
        "command pane with an empty command",
        '[[command_panes]]\nname = "logs"\ncommand = ""',
        "[[command_panes]] #1 command: expected a command that is not empty, got ''",
    ),
    (
        "command pane with an empty list",
        '[[command_panes]]\nname = "logs"\ncommand = []',
        "[[command_panes]] #1 command: expected a command that is not empty, got an empty list",
    ),
    (
        "command pane with a number in its command",
        '[[command_panes]]\nname = "logs"\ncommand = ["tail", 5]',
        "[[command_panes]] #1 command: expected a command: a list of strings like "
        '["kubectl", "logs", "-f", "deploy/api"], or one string, got a list',
    ),
    (
        "command pane with an unclosed quote",
        '[[command_panes]]\nname = "logs"\ncommand = "tail -f \'my log"',
        "[[command_panes]] #1 command: expected a command line a shell could read (No closing "
        'quotation), got "tail -f \'my log"',
    ),
    (
        "command pane with a control character",
        '[[command_panes]]\nname = "logs"\ncommand = ["echo", "\\u001b]0;x\\u0007"]',
        "[[command_panes]] #1 command: expected text without control characters (found U+001B)",
    ),
    (
        "command pane name not a string",
        '[[command_panes]]\nname = 3\ncommand = "tail -f log"',
        "[[command_panes]] #1 name: expected a non-empty string, got 3",
    ),
    (
        "command pane lines out of range",
        '[[command_panes]]\nname = "logs"\ncommand = "tail -f log"\nlines = 0',
        "[[command_panes]] #1 lines: expected a whole number from 10 to 100000, got 0",
    ),
    (
        "command panes with the same name",
        '[[command_panes]]\nname = "logs"\ncommand = "a"\n[[command_panes]]\nname = "logs"\ncommand = "b"',
        "[[command_panes]] #2 name: expected a name no other command pane has, got 'logs'",
    ),
    (
        "command_panes not an array of tables",
        'command_panes = "tail -f log"',
        "command_panes: expected an array of tables ([[command_panes]]), got 'tail -f log'",
    ),
    (
        "SQL identifier",
        '[errors]\ntable = "errors; DROP TABLE users"',
        "[errors] table: expected an SQL identifier (letters, digits, _; schema.table allowed), "
        "got 'errors; DROP TABLE users'",
    ),
    (
        "bad regular expression",
        '[git]\ndeploy_pattern = "deploy("',
        "[git] deploy_pattern: expected a regular expression (missing ), unterminated subpattern at "
        "position 6), got 'deploy('",
    ),
    (
        "not TOML",
        "[database\ndsn = 1",
        "is not valid TOML (Expected ']' at the end of a table declaration (at line 1, column 10))",
    ),
    (
        "duplicate key",
        'user = "a"\nuser = "b"',
        "is not valid TOML (Cannot overwrite a value (at line 2, column 11))",
    ),
]


@pytest.mark.parametrize(("name", "text", "message"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_configuration(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = write(tmp_path, text + "\n")
    with pytest.raises(ConfigError) as exc:
        load(path)
    assert str(exc.value) == f"{path}: {message}"
    assert "\n" not in str(exc.value)


def test_long_values_are_cut_in_messages(tmp_path: Path) -> None:
    path = write(tmp_path, f'[ui]\nbell = "{"y" * 500}"\n')
    with pytest.raises(ConfigError) as exc:
        load(path)
    assert str(exc.value) == f"{path}: [ui] bell: expected true or false, got '{'y' * 75}...'"


def test_missing_sql_file_for_a_query_override(tmp_path: Path) -> None:
    path = write(tmp_path, '[database.queries]\nerror_tally = "queries/tally.sql"\n')
    with pytest.raises(ConfigError) as exc:
        load(path)
    missing = tmp_path / "queries" / "tally.sql"
    assert (
        str(exc.value)
        == f"{path}: [database.queries] error_tally: expected an existing file ({missing} not found)"
    )


def test_missing_templates_folder(tmp_path: Path) -> None:
    path = write(tmp_path, '[templates]\ndir = "nowhere"\n')
    with pytest.raises(ConfigError) as exc:
        load(path)
    assert (
        str(exc.value)
        == f"{path}: [templates] dir: expected an existing folder ({tmp_path / 'nowhere'} not found)"
    )


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "warroom.toml"
    path.write_bytes(b'[incident]\nuser = "J\xf6rg"\n')
    with pytest.raises(ConfigError) as exc:
        load(path)
    assert str(exc.value) == f"{path}: is not UTF-8 text (byte 20)"


def test_no_such_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.toml"
    with pytest.raises(ConfigError) as exc:
        load(path)
    assert str(exc.value) == f"{path}: no such file"


def test_a_folder_instead_of_a_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as exc:
        load(tmp_path)
    assert str(exc.value) == f"{tmp_path}: is a folder, expected a TOML file"


def test_unreadable_file(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    path = blocker / "warroom.toml"
    with pytest.raises(ConfigError) as exc:
        load(path)
    assert str(exc.value) == f"{path}: cannot be read (Not a directory)"
    loop = tmp_path / "loop.toml"
    loop.symlink_to(loop)
    with pytest.raises(ConfigError) as exc:
        load(loop)
    assert str(exc.value) == f"{loop}: cannot be read (Too many levels of symbolic links)"


def test_bad_file_found_by_search_is_named(tmp_path: Path) -> None:
    """A broken ./warroom.toml is reported with its full path, not ignored."""
    path = write(tmp_path, "[ui]\nbell = 1\n", "cwd/warroom.toml")
    with pytest.raises(ConfigError) as exc:
        load(None)
    assert str(exc.value) == f"{path}: [ui] bell: expected true or false, got 1"


def test_a_dsn_whose_password_breaks_url_parsing_is_refused_in_one_line(tmp_path: Path) -> None:
    from warroom.config import ConfigError, load_settings

    with pytest.raises(ConfigError) as err:
        load_settings(
            env={"WARROOM_DSN": "postgresql://app:s3cr3t/Xy9@db.example/postgres"}, state_dir=tmp_path
        )
    message = str(err.value)
    assert message.startswith("WARROOM_DSN: the DSN's password has an unencoded / ? # or @")
    assert "s3cr3t" not in message and "\n" not in message


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            '[playbook.severities.P0]\ninternal_update = "999999999d"\n',
            "[playbook.severities.P0] internal_update: expected a duration of at most 30 d",
        ),
        (
            '[database]\nstatement_timeout = "30d"\n',
            "[database] statement_timeout: expected a duration of at most 1 h",
        ),
        ('[status]\npoll_interval = "400d"\n', "[status] poll_interval: expected a duration of at most 30 d"),
    ],
)
def test_durations_have_an_upper_bound(tmp_path: Path, toml: str, message: str) -> None:
    from warroom.config import ConfigError, load_settings

    path = tmp_path / "warroom.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(config=path, env={}, state_dir=tmp_path)
    assert message in str(err.value)


def test_a_status_page_url_given_with_its_api_path_is_read_as_the_base(tmp_path: Path) -> None:
    from warroom.config import load_settings

    path = tmp_path / "warroom.toml"
    path.write_text(
        '[[status_pages]]\nname = "Supabase"\nurl = "https://status.supabase.com/api/v2/summary.json"\n'
    )
    s = load_settings(config=path, env={}, state_dir=tmp_path)
    assert s.status.pages[0].summary_url == "https://status.supabase.com/api/v2/summary.json"


# -- every key: declared once, accepted, shown -----------------------------------------------------

# A value other than the default for every key of every table.
EVERY_KEY = """[incident]
user = "ana"
timezone = "Europe/Berlin"
status_page_link = "https://status.example.com"

[ui]
theme = "light"
bell = false

[templates]
dir = "tpl"

[database]
dsn = "postgresql://watcher:s3cr3t-every@db.internal:5432/app"
poll_interval = "5s"
statement_timeout = "1500ms"
connect_timeout = "3s"
size_interval = "10m"
resync_interval = "15m"
resync_timeout = "30s"
pgbouncer = true
action_dsn = "postgresql://actor:s3cr3t-action@db.internal:5432/app"
action_timeout = "3s"
pause_campaign_sql = "UPDATE campaigns SET status = 'paused' WHERE id = $1"
statements_interval = "1m"

[database.queries]
error_tally = "sql/q.sql"
error_tally_ids = "sql/q.sql"
error_tally_since = "sql/q.sql"
db_health = "sql/q.sql"
db_size = "sql/q.sql"
sms_failures = "sql/q.sql"
error_rate = "sql/q.sql"

[[database.panes]]
title = "Stuck jobs"
sql = "sql/q.sql"

[errors]
table = "public.app_errors"
id_column = ""
time_column = "created_at"
window = "30m"
limit = 20
rate_threshold = 0.5
rate_sustain = "15m"
overlap = "30s"

[git]
repo = "/srv/app"
poll_interval = "1m"
count = 25
recent = "4h"
deploy_pattern = "^(deploy|release)"
deploy_tags = false
migration_globs = ["db/**"]

[status]
poll_interval = "2m"
timeout = "10s"

[[status_pages]]
name = "Stripe"
url = "https://status.stripe.com/"

[[command_panes]]
name = "sms-send logs"
command = "supabase functions logs sms-send --tail"
cwd = "sql"
lines = 500
stop_grace = "5s"

[pagerduty]
routing_key = "R0UT1NGKEY0123456789abcdefABCDEF"
events_url = "https://pd.internal/v2/enqueue"
timeout = "3s"

[slack]
webhook_url = "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX"
timeout = "4s"

[statuspage]
page_id = "kctbh9vrtdwd"
api_key = "0123abcd-4567-89ef-0123-456789abcdef"
api_url = "https://statuspage.internal/v1"
timeout = "7s"
[twilio]
account_sid = "AC0123456789abcdef0123456789abcdef"
auth_token = "0123456789abcdef0123456789abcdef"
api_url = "https://twilio.internal"
low_balance = 25.5
poll_interval = "5m"
timeout = "6s"

[shared]
dsn = "postgresql://team:s3cr3t-shared@shared.internal:5432/warroom"
connect_timeout = "2s"
heartbeat = "3s"
presence_timeout = "40s"

[escalation]
l1 = "Pat (on-call) +49 170 1111111"
l2 = "Kim, eng lead"
l3 = "Dana (CTO)"
l4 = "the CEO's office"

[playbook]
freeze_severities = ["P0", "P1"]
review_within = "72h"
due_soon = "5m"
bell_every = "10m"
business_day_start = "08:30"

[playbook.severities.P1]
name = "Urgent"
summary = "Half the product down"
impact = "Many users"
examples = ["SMS down"]
response = "10m"
internal_update = "20m"
customer_update = "45m"
channel = "#inc-{severity}-{slug}"
actions = ["Page the SMS team"]

[[playbook.escalation]]
level = 1
name = "Primary on-call"
after = "5m"
severities = ["P0"]
trigger = "at once for P0, else after 5 min"
after_severities = ["P0", "P1", "P2"]

[playbook.phases.triage]
name = "First look"
budget = "7m"
window = "0-7 minutes"
status = "Looking"

[playbook.checklists]
investigation = ["Look at the logs"]
verification = ["Error rate back under 1%"]
resolution = ["Write the report"]
"""

# The keys of every table, as the "unknown key" message lists them (where: how messages name it).
KNOWN_KEYS = {
    "": "command_panes, database, errors, escalation, git, incident, pagerduty, playbook, shared, slack, "
    "status, status_pages, statuspage, templates, twilio, ui",
    "[incident]": "status_page_link, timezone, user",
    "[ui]": "bell, theme",
    "[templates]": "dir",
    "[database]": "action_dsn, action_timeout, connect_timeout, dsn, panes, pause_campaign_sql, pgbouncer, "
    "poll_interval, queries, resync_interval, resync_timeout, size_interval, statement_timeout, "
    "statements_interval",
    "[[database.panes]] #1": "sql, title",
    "[errors]": "id_column, limit, overlap, rate_sustain, rate_threshold, table, time_column, window",
    "[git]": "count, deploy_pattern, deploy_tags, migration_globs, poll_interval, recent, repo",
    "[status]": "poll_interval, timeout",
    "[[status_pages]] #1": "name, url",
    "[[command_panes]] #1": "command, cwd, lines, name, stop_grace",
    "[pagerduty]": "events_url, routing_key, timeout",
    "[slack]": "timeout, webhook_url",
    "[statuspage]": "api_key, api_url, page_id, timeout",
    "[twilio]": "account_sid, api_url, auth_token, low_balance, poll_interval, timeout",
    "[shared]": "connect_timeout, dsn, heartbeat, presence_timeout",
    "[escalation]": "l1, l2, l3, l4",
    "[playbook]": "bell_every, business_day_start, checklists, due_soon, escalation, freeze_severities, "
    "phases, review_within, severities",
    "[playbook.severities.P1]": SEVERITY_KEYS,
    "[[playbook.escalation]] #1": "after, after_severities, level, name, severities, trigger",
    "[playbook.phases.triage]": "budget, name, status, window",
    "[playbook.checklists]": "investigation, resolution, verification",
}


def every_key_file(tmp_path: Path) -> Path:
    (tmp_path / "sql").mkdir()
    (tmp_path / "sql" / "q.sql").write_text("SELECT 1")
    (tmp_path / "tpl").mkdir()
    return write(tmp_path, EVERY_KEY, "team.toml")


def table_at(data: dict[str, object], where: str) -> dict[str, object]:
    """The table of a parsed file that messages name ``where`` ("[[status_pages]] #1", "[ui]")."""
    table: object = data
    for part in where.removesuffix(" #1").strip("[]").split("."):
        if part:
            table = table[part]  # type: ignore[index]
            if isinstance(table, list):
                table = table[0]
    assert isinstance(table, dict)
    return table


def test_every_key_of_every_table_is_in_the_example() -> None:
    """EVERY_KEY gives each known key (so the tests below cover every key), nothing else."""
    import tomllib

    data = tomllib.loads(EVERY_KEY)
    for where, known in KNOWN_KEYS.items():
        given = set(table_at(data, where))
        if where == "[database]":
            given |= {"queries", "panes"}  # its sub-tables
        elif where == "[playbook]":
            given |= {"severities", "escalation", "phases", "checklists"}
        assert sorted(given) == known.split(", "), where


def test_every_key_is_read_into_its_setting(tmp_path: Path) -> None:
    s = load(every_key_file(tmp_path))
    defaults = Settings(state_dir=tmp_path)
    sections = [
        (s, defaults, ("user", "timezone_name", "status_page_link", "theme", "bell", "templates_dir")),
        (s.database, DatabaseSettings(), tuple(keys_of(DatabaseSettings))),
        (s.errors, ErrorSettings(), tuple(keys_of(ErrorSettings))),
        (s.git, GitSettings(), tuple(keys_of(GitSettings))),
        (s.status, StatusSettings(), (*keys_of(StatusSettings), "pages")),
        (s.pagerduty, PagerDutySettings(), keys_of(PagerDutySettings)),
        (s.slack, SlackSettings(), keys_of(SlackSettings)),
        (s.statuspage, StatuspageSettings(), keys_of(StatuspageSettings)),
        (s.twilio, TwilioSettings(), keys_of(TwilioSettings)),
        (s.shared, SharedSettings(), keys_of(SharedSettings)),
        (s.escalation, EscalationContacts(), keys_of(EscalationContacts)),
        (s.playbook.severity("P1"), DEFAULT.severity("P1"), SEVERITY_KEYS.split(", ")),
        (s.playbook.phase("triage"), DEFAULT.phase("triage"), ("name", "budget", "window", "status")),
        (s.playbook, DEFAULT, KNOWN_KEYS["[playbook]"].replace("checklists", "investigation").split(", ")),
        (s.playbook, DEFAULT, ("verification", "resolution")),
    ]
    for got, default, keys in sections:
        for key in keys:
            name = key if isinstance(key, str) else key.field_name
            assert getattr(got, name) != getattr(default, name), (type(got).__name__, name)
    assert len(keys_of(DatabaseSettings)) == len(KNOWN_KEYS["[database]"].split(", "))
    assert s.playbook.escalation == (
        EscalationLevel(
            1,
            "Primary on-call",
            timedelta(minutes=5),
            frozenset({"P0"}),
            "at once for P0, else after 5 min",
            frozenset({"P0", "P1", "P2"}),
        ),
    )
    assert s.status.pages == (StatusPage("Stripe", "https://status.stripe.com"),)
    assert s.command_panes == (
        CommandPane(
            "sms-send logs",
            ("supabase", "functions", "logs", "sms-send", "--tail"),
            tmp_path / "sql",
            500,
            timedelta(seconds=5),
        ),
    )
    assert s.database.panes == (QueryPane("Stuck jobs", tmp_path / "sql" / "q.sql"),)
    assert s.database.queries == dict.fromkeys(QUERY_NAMES, tmp_path / "sql" / "q.sql")


@pytest.mark.parametrize("where", list(KNOWN_KEYS))
def test_an_unknown_key_is_refused_with_the_known_keys(tmp_path: Path, where: str) -> None:
    path = every_key_file(tmp_path)
    data = read_toml(path)
    table_at(data, where)["nonsense"] = "x"
    with pytest.raises(ConfigError) as exc:
        parse_config(data, str(path), tmp_path, tmp_path / "state")
    at = f"{where} " if where else ""
    assert str(exc.value) == f"{path}: {at}unknown key 'nonsense' (known keys: {KNOWN_KEYS[where]})"


def test_the_documented_example_is_accepted(tmp_path: Path) -> None:
    """The README's warroom.toml, every key of it."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    example = readme.split("## Configuration", 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]
    for sql in ("sql/my_error_tally.sql", "sql/stuck_campaigns.sql"):
        (tmp_path / sql).parent.mkdir(exist_ok=True)
        (tmp_path / sql).write_text("SELECT 1")
    (tmp_path / "comms").mkdir()
    s = load(write(tmp_path, example))
    assert s.database.panes[0].title == "Stuck campaigns"
    assert [lv.level for lv in s.playbook.escalation] == [1, 2, 3]


def test_check_shows_every_setting(tmp_path: Path) -> None:
    """`warroom check`, line for line (a value from every table, the dsn masked)."""
    d = tmp_path
    assert load(every_key_file(tmp_path), state_dir=tmp_path / "state").describe() == [
        f"config file         = {d}/team.toml   (--config)",
        f"state dir           = {d}/state",
        f"journal             = {d}/state/journal.sqlite3",
        "user                = ana",
        "timezone            = Europe/Berlin",
        "status page link    = https://status.example.com",
        "theme               = light",
        f"templates dir       = {d}/tpl",
        "",
        "[database]",
        "dsn                 = postgresql://watcher:***@db.internal:5432/app   (from warroom.toml)",
        "poll_interval       = 5 s",
        "statement_timeout   = 1 s 500 ms",
        "connect_timeout     = 3 s",
        "size_interval       = 10 min",
        "pgbouncer           = true",
        f"query error_tally   = {d}/sql/q.sql",
        f"query error_tally_ids = {d}/sql/q.sql",
        f"query error_tally_since = {d}/sql/q.sql",
        f"query db_health     = {d}/sql/q.sql",
        f"query db_size       = {d}/sql/q.sql",
        f"query sms_failures  = {d}/sql/q.sql",
        f"query error_rate    = {d}/sql/q.sql",
        f"pane                = 'Stuck jobs' from {d}/sql/q.sql",
        "action_dsn          = postgresql://actor:***@db.internal:5432/app   (timeout 3 s)",
        "pause_campaign_sql  = UPDATE campaigns SET status = 'paused' WHERE id = $1",
        "statements_interval = 1 min",
        "",
        "[errors]",
        "table               = public.app_errors (id -, time created_at)",
        "window              = 30 min, top 20",
        "resolution rule     = error rate < 0.5% for 15 min",
        "",
        "[git]",
        "repo                = /srv/app",
        "recent              = 4 h; deploys match /^(deploy|release)/",
        "migration globs     = db/**",
        "",
        "[status]",
        "page                = Stripe: https://status.stripe.com",
        "poll_interval       = 2 min, timeout 10 s",
        "",
        "[pagerduty]",
        "routing_key         = ***",
        "events_url          = https://pd.internal/v2/enqueue",
        "timeout             = 3 s",
        "",
        "[slack]",
        "webhook_url         = https://hooks.slack.com/***",
        "timeout             = 4 s",
        "",
        "[statuspage]",
        "page_id             = kctbh9vrtdwd",
        "api_key             = ***",
        "api_url             = https://statuspage.internal/v1",
        "timeout             = 7 s",
        "",
        "[twilio]",
        "account_sid         = AC0123456789abcdef0123456789abcdef",
        "auth_token          = ***",
        "api_url             = https://twilio.internal",
        "low_balance         = 25.5",
        "poll_interval       = 5 min",
        "",
        "[shared]",
        "dsn                 = postgresql://team:***@shared.internal:5432/warroom",
        "connect_timeout     = 2 s",
        "heartbeat           = 3 s",
        "presence_timeout    = 40 s",
        "",
        "[escalation]",
        "contact L1          = Pat (on-call) +49 170 1111111",
        "contact L2          = Kim, eng lead",
        "contact L3          = Dana (CTO)",
        "contact L4          = the CEO's office",
        "",
        "[playbook]",
        "P0 Critical = response immediate, internal update 15 min, customer update 30 min, channel #incident-{time:%Y-%m-%d-%H-%M}",
        "P1 Urgent   = response 10 min, internal update 20 min, customer update 45 min, channel #inc-{severity}-{slug}",
        "P2 Medium   = response 2 h, internal update none, customer update none, channel #incident-{severity}-{slug}",
        "P3 Low      = response next business day, internal update none, customer update none, channel none",
        "escalation L1       = Primary on-call (at once for P0, else after 5 min; by time only for P0, P1, P2)",
        "phase 1             = First look (0-7 minutes; 7 min)",
        "phase 2             = Investigation (5-30 minutes; 25 min)",
        "phase 3             = Mitigation (varies by severity; no budget)",
        "phase 4             = Recovery & Verification (ongoing; no budget)",
        "phase 5             = Post-Incident Review (within 48 hours; 2 d)",
        "",
        "[[command_panes]]",
        f"command pane 1      = 'sms-send logs': supabase functions logs sms-send --tail  (in {d}/sql)",
    ]


def test_check_shows_the_defaults(tmp_path: Path) -> None:
    d = tmp_path
    assert load(None, state_dir=tmp_path / "state", user="u").describe() == [
        "config file         = (none: playbook defaults)",
        f"state dir           = {d}/state",
        f"journal             = {d}/state/journal.sqlite3",
        "user                = u",
        "timezone            = (local)",
        "theme               = dark",
        "templates dir       = (built-in)",
        "",
        "[database]",
        "dsn                 = (not configured)",
        "poll_interval       = 2 s",
        "statement_timeout   = 2 s",
        "connect_timeout     = 5 s",
        "size_interval       = 5 min",
        "pgbouncer           = false",
        "action_dsn          = (not configured: the database actions copy their SQL instead)",
        "pause_campaign_sql  = (not configured: e.g. \"UPDATE campaigns SET status = 'paused' WHERE id = $1\")",
        "statements_interval = 30 s",
        "",
        "[errors]",
        "table               = error_logs (id id, time occurred_at)",
        "window              = 1 h, top 10",
        "resolution rule     = error rate < 1% for 30 min",
        "",
        "[git]",
        "repo                = (not configured)",
        "recent              = 2 h; deploys match /deploy/ or a tag",
        "migration globs     = supabase/migrations/**, migrations/**, **/migrations/**, scripts/sql/**",
        "",
        "[status]",
        "page                = Supabase: https://status.supabase.com",
        "page                = Twilio: https://status.twilio.com",
        "poll_interval       = 1 min, timeout 5 s",
        "",
        "[pagerduty]",
        "routing_key         = (not configured)",
        "events_url          = https://events.pagerduty.com/v2/enqueue",
        "timeout             = 10 s",
        "",
        "[slack]",
        "webhook_url         = (not configured)",
        "timeout             = 10 s",
        "",
        "[statuspage]",
        "page_id             = (not configured)",
        "api_key             = (not configured)",
        "api_url             = https://api.statuspage.io/v1",
        "timeout             = 10 s",
        "",
        "[twilio]",
        "account_sid         = (not configured)",
        "auth_token          = (not configured)",
        "api_url             = https://api.twilio.com",
        "low_balance         = 10.0",
        "poll_interval       = 1 min",
        "",
        "[shared]",
        "dsn                 = (not configured: working alone)",
        "connect_timeout     = 5 s",
        "heartbeat           = 5 s",
        "presence_timeout    = 20 s",
        "",
        "[escalation]",
        "contact L1          = (not configured)",
        "contact L2          = (not configured)",
        "contact L3          = (not configured)",
        "contact L4          = (not configured)",
        "",
        "[playbook]",
        "P0 Critical = response immediate, internal update 15 min, customer update 30 min, channel #incident-{time:%Y-%m-%d-%H-%M}",
        "P1 High     = response 30 min, internal update 30 min, customer update none, channel #incident-{severity}-{slug}",
        "P2 Medium   = response 2 h, internal update none, customer update none, channel #incident-{severity}-{slug}",
        "P3 Low      = response next business day, internal update none, customer update none, channel none",
        "escalation L1       = On-call Engineer (when the incident is declared)",
        "escalation L2       = Engineering Lead (if unresolved in 30 min; by time only for P0, P1)",
        "escalation L3       = CTO / VP Engineering (if P0 or unresolved in 1 hour; by time only for P0, P1)",
        "escalation L4       = CEO / Executive Team (if data breach or major outage)",
        "phase 1             = Detection & Triage (0-5 minutes; 5 min)",
        "phase 2             = Investigation (5-30 minutes; 25 min)",
        "phase 3             = Mitigation (varies by severity; no budget)",
        "phase 4             = Recovery & Verification (ongoing; no budget)",
        "phase 5             = Post-Incident Review (within 48 hours; 2 d)",
    ]
