"""Arbitrary ``warroom.toml`` documents (issue 10): a found configuration is untrusted. Through
``load_settings`` and ``warroom check --config FILE``, any document gives working Settings or a
``ConfigError`` whose message is one line without control characters: never another exception,
never a traceback, in bounded time and memory.

Documents are built as data (random tables, keys and values of every TOML type, plus the known
sections with their keys and random or plausible values) and written as TOML text.
"""

from __future__ import annotations

import math
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from test_hostile_text import assert_clean_exit, assert_one_line, hostile_text, invoke
from warroom.config import ConfigError, Settings, load_settings

# -- writing TOML ------------------------------------------------------------------------------------

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def toml_string(text: str) -> str:
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, datetime | date | clock_time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{toml_string(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(type(value))


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def toml_document(doc: dict[str, Any], path: tuple[str, ...] = ()) -> str:
    """``doc`` as TOML: plain keys first, then [tables] and [[arrays of tables]]."""
    lines = []
    for key, value in doc.items():
        if not isinstance(value, dict) and not _is_table_array(value):
            lines.append(f"{toml_string(key)} = {toml_value(value)}")
    for key, value in doc.items():
        name = ".".join(toml_string(k) for k in (*path, key))
        if isinstance(value, dict):
            lines.append(f"\n[{name}]")
            lines.append(toml_document(value, (*path, key)))
        elif _is_table_array(value):
            for item in value:
                lines.append(f"\n[[{name}]]")
                lines.append(toml_document(item, (*path, key)))
    return "\n".join(lines)


# -- documents ---------------------------------------------------------------------------------------

PLAUSIBLE = (
    "15m",
    "1h30m",
    "2s",
    "0s",
    "none",
    "off",
    "immediate",
    "next business day",
    "Europe/Berlin",
    "UTC",
    "dark",
    "high-contrast",
    "https://status.example.com",
    "https://status.example.com/api/v2/summary.json",
    "deploy|release",
    "{severity}-{slug}",
    "#incident-{time:%Y-%m-%d-%H-%M}",
    "{0}",
    "{time.year}",
    "{slug!r}",
    "{nope}",
    "P0",
    "P1",
    ".",
    "templates",
    "error_logs",
    "public.error_logs",
    "id",
    "postgresql://u:p@127.0.0.1:1/db",
    "postgresql://u:p/ss@h/db",
    "09:00",
    "25:99",
    "",
    " ",
)


def safe_text() -> st.SearchStrategy[str]:
    """Hostile text a TOML string can hold (no lone surrogates), short enough to be a file name
    (50 characters are at most 200 bytes: a path too long is a defect of its own, below)."""
    return hostile_text(8, surrogates=False).map(lambda s: s[:50])


scalars = st.one_of(
    safe_text(),
    st.sampled_from(PLAUSIBLE),
    st.integers(-(2**70), 2**70),
    st.sampled_from([0, 1, -1, 15, 60, 10**9, 10**18]),
    st.floats(),
    st.booleans(),
    st.dates(),
    st.times(),
    st.datetimes(),
)
keys = st.one_of(safe_text(), st.sampled_from(["name", "url", "dir", "user", "level", "P0", "triage"]))
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
    max_leaves=6,
)
str_lists = st.lists(st.sampled_from(["P0", "P1", "P2", "P3", "migrations/**"]) | safe_text(), max_size=3)

SECTIONS: dict[str, tuple[str, ...]] = {
    "incident": ("user", "timezone"),
    "ui": ("theme", "bell"),
    "database": (
        "dsn",
        "poll_interval",
        "statement_timeout",
        "connect_timeout",
        "size_interval",
        "resync_interval",
        "resync_timeout",
        "pgbouncer",
    ),
    "errors": (
        "table",
        "id_column",
        "time_column",
        "window",
        "limit",
        "rate_threshold",
        "rate_sustain",
        "overlap",
    ),
    "git": ("repo", "poll_interval", "count", "recent", "deploy_pattern", "deploy_tags", "migration_globs"),
    "status": ("poll_interval", "timeout"),
    "templates": ("dir",),
}
SEVERITY_KEYS = (
    "name",
    "summary",
    "impact",
    "examples",
    "response",
    "internal_update",
    "customer_update",
    "channel",
    "actions",
)
PHASE_KEYS = ("name", "budget", "window", "status")
LEVEL_KEYS = ("level", "name", "after", "severities", "trigger", "after_severities")


@st.composite
def table_of(draw: st.DrawFn, known: tuple[str, ...], extra: bool = True) -> dict[str, Any]:
    chosen = draw(st.lists(st.sampled_from(known), unique=True, max_size=len(known))) if known else []
    table = {key: draw(values | str_lists | st.sampled_from(PLAUSIBLE)) for key in chosen}
    if extra and draw(st.integers(0, 4)) == 0:
        table[draw(keys)] = draw(values)
    return table


@st.composite
def playbook_tables(draw: st.DrawFn) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if draw(st.booleans()):
        sevs = draw(st.lists(st.sampled_from(["P0", "P1", "P2", "P3"]) | keys, unique=True, max_size=3))
        out["severities"] = {s: draw(table_of(SEVERITY_KEYS)) for s in sevs}
    if draw(st.booleans()):
        out["escalation"] = draw(st.lists(table_of(LEVEL_KEYS), max_size=3))
    if draw(st.booleans()):
        phases = draw(
            st.lists(st.sampled_from(["triage", "investigation", "review"]) | keys, unique=True, max_size=2)
        )
        out["phases"] = {p: draw(table_of(PHASE_KEYS)) for p in phases}
    if draw(st.booleans()):
        out["checklists"] = draw(table_of(("investigation", "verification", "resolution")))
    out.update(
        draw(table_of(("freeze_severities", "review_within", "due_soon", "bell_every", "business_day_start")))
    )
    return out


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for section in draw(st.lists(st.sampled_from(sorted(SECTIONS)), unique=True)):
        doc[section] = draw(table_of(SECTIONS[section]))
    if draw(st.booleans()):
        doc.setdefault("database", {})
        if draw(st.booleans()):
            doc["database"]["queries"] = draw(table_of(("error_tally", "db_health", "nope")))
        if draw(st.booleans()):
            doc["database"]["panes"] = draw(st.lists(table_of(("title", "sql")), max_size=2))
    if draw(st.booleans()):
        doc["status_pages"] = draw(st.lists(table_of(("name", "url")), max_size=3))
    if draw(st.booleans()):
        doc["playbook"] = draw(playbook_tables())
    if draw(st.integers(0, 3)) == 0:
        doc[draw(keys)] = draw(values)
    return doc


# One hostile spot in an otherwise empty document: a known key given a hostile string, or a
# hostile key where the known tables take any name (severities, phases, queries). The first
# problem of a document ends its reading, so a random document rarely gets this far.
SPOTS: tuple[tuple[str, ...], ...] = (
    *((section, key) for section, known in SECTIONS.items() for key in known),
    *(("playbook", "severities", "P0", key) for key in SEVERITY_KEYS),
    *(("playbook", "phases", "triage", key) for key in PHASE_KEYS),
    ("database", "queries", "error_tally"),
    ("playbook", "checklists", "investigation"),
)
KEYED = (("playbook", "severities"), ("playbook", "phases"), ("database", "queries"), ())


def nested(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    doc: Any = value
    for key in reversed(path):
        doc = {key: doc}
    return doc


@st.composite
def single_spots(draw: st.DrawFn) -> dict[str, Any]:
    text = draw(safe_text().filter(lambda s: s.strip()))
    if draw(st.booleans()):
        return nested(draw(st.sampled_from(SPOTS)), text)
    where = draw(st.sampled_from(KEYED))
    return nested((*where, text), {"name": "x"} if where and where[-1] != "queries" else "x")


# -- running them ------------------------------------------------------------------------------------

PROPS = settings(
    max_examples=100,
    deadline=timedelta(seconds=2),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@contextmanager
def config_file(text: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="wr-toml-") as tmp:
        path = Path(tmp) / "warroom.toml"
        path.write_text(text, encoding="utf-8")
        (Path(tmp) / "templates").mkdir()
        yield path


def load(path: Path) -> Settings | ConfigError:
    try:
        return load_settings(config=path, env={}, state_dir=path.parent / "state", user="alice")
    except ConfigError as exc:
        return exc


@PROPS
@given(doc=single_spots() | documents())
def test_any_document_gives_settings_or_a_config_error(doc: dict[str, Any]) -> None:
    """Never another exception, in bounded time (the deadline) and memory."""
    text = toml_document(doc)
    with config_file(text) as path:
        tracemalloc.start()
        try:
            result = load(path)
        finally:
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        assert isinstance(result, Settings | ConfigError)
        assert peak < 16 * 2**20, f"loading took {peak / 2**20:.0f} MB"
        if isinstance(result, ConfigError):
            assert str(result).strip()


@PROPS
@given(text=hostile_text(30))
def test_any_text_gives_settings_or_a_config_error(text: str) -> None:
    """Not even TOML (or not UTF-8): one ConfigError."""
    with tempfile.TemporaryDirectory(prefix="wr-toml-") as tmp:
        path = Path(tmp) / "warroom.toml"
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
        result = load(path)
        assert isinstance(result, Settings | ConfigError)
        if isinstance(result, ConfigError):
            assert_one_line(str(result), "config error")


@settings(PROPS, max_examples=60)
@given(doc=single_spots() | documents())
@example(doc={"playbook": {"phases": {"tri\nage\x1b[2J": {"name": "x"}}}})
@example(doc={"templates": {"dir": "team\u202e\x1b]0;PWNED\x07"}})
def test_a_config_error_is_one_inert_line(doc: dict[str, Any]) -> None:
    with config_file(toml_document(doc)) as path:
        result = load(path)
        if isinstance(result, ConfigError):
            assert_one_line(str(result), "config error")


@settings(PROPS, max_examples=25, deadline=timedelta(seconds=6))
@given(doc=documents())
def test_warroom_check_with_any_document_never_prints_a_traceback(doc: dict[str, Any]) -> None:
    """``warroom check --config FILE``: exit 0 (the effective configuration) or 2 (the problem),
    never a traceback. (``--dsn=`` keeps the probe off the network.)"""
    with config_file(toml_document(doc)) as path:
        result = invoke(
            ["check", "--config", str(path), "--state-dir", str(path.parent / "state"), "--dsn="], path.parent
        )
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise AssertionError(f"check raised {result.exception!r}") from result.exception
        assert result.exit_code in (0, 2), (result.exit_code, result.stderr)
        assert "Traceback" not in result.stderr


@settings(PROPS, max_examples=25, deadline=timedelta(seconds=6))
@given(doc=single_spots() | documents())
@example(doc={"playbook": {"severities": {"P1": {"name": "High\x1b]0;PWNED\x07"}}}})
@example(doc={"ui": {"theme": "\x1b[2Jdark\u202e"}})
def test_warroom_check_output_is_inert(doc: dict[str, Any]) -> None:
    with config_file(toml_document(doc)) as path:
        result = invoke(
            ["check", "--config", str(path), "--state-dir", str(path.parent / "state"), "--dsn="], path.parent
        )
        assert_clean_exit(result, "check")


def test_check_shows_a_valid_configuration_inert() -> None:
    """Escape sequences and bidi controls in configuration text are refused: `check` says so in
    one clean line instead of printing them."""
    text = (
        '[playbook.severities.P0]\nname = "Crit\\u001b]0;PWNED\\u0007"\n'
        '[[status_pages]]\nname = "Up\\u202estream\\u001b[2J"\nurl = "https://status.example.com"\n'
    )
    with config_file(text) as path:
        assert isinstance(load(path), ConfigError)
        result = invoke(
            ["check", "--config", str(path), "--state-dir", str(path.parent / "state"), "--dsn="], path.parent
        )
        assert result.exit_code == 2, result.stderr
        assert_clean_exit(result, "check")


# -- defects found -------------------------------------------------------------------------------------


def outcome(text: str) -> Settings | ConfigError:
    with config_file(text) as path:
        return load(path)


@pytest.mark.parametrize(
    "text",
    [
        '[templates]\ndir = "' + "a" * 5000 + '"\n',
        '[database.queries]\nerror_tally = "' + "a/" * 3000 + '"\n',
        '[[database.panes]]\ntitle = "t"\nsql = "' + "b" * 300 + '"\n',
    ],
    ids=["templates-dir", "query", "pane"],
)
def test_a_path_too_long_is_a_config_error(text: str) -> None:
    assert isinstance(outcome(text), ConfigError)


@pytest.mark.parametrize("pattern", ["a{99999999999}", "(" * 1000 + ")" * 1000], ids=["overflow", "nested"])
def test_any_deploy_pattern_is_a_config_error_or_a_regex(pattern: str) -> None:
    assert isinstance(outcome(f"[git]\ndeploy_pattern = {toml_string(pattern)}\n"), Settings | ConfigError)


def test_a_huge_integer_is_a_config_error() -> None:
    assert isinstance(outcome("[status]\npoll_interval = " + "9" * 5000 + "\n"), ConfigError)


def test_a_channel_pattern_cannot_allocate_a_lot() -> None:
    tracemalloc.start()
    started = time.monotonic()
    try:
        result = outcome('[playbook.severities.P0]\nchannel = "#inc-{severity:>50000000}"\n')
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert isinstance(result, Settings | ConfigError)
    assert time.monotonic() - started < 2
    assert peak < 8 * 2**20, f"reading the configuration took {peak / 2**20:.0f} MB"


def test_the_toml_writer_round_trips() -> None:
    """The documents are what the tests say they are: the writer's TOML parses back to them."""
    import tomllib

    doc = {
        "a\x1b\nb": 'x\x00\u202e"\\',
        "t": {"k": [1, 2.5, True, "s"], "d": date(2026, 1, 2), "i": {"x": 1}},
        "arr": [{"name": "n"}, {"url": "u"}],
    }
    assert tomllib.loads(toml_document(doc)) == doc
    assert tomllib.loads(toml_document(nested(("a", "b\n"), {"c": 1}))) == {"a": {"b\n": {"c": 1}}}


def test_a_megabyte_in_a_configuration_costs_little() -> None:
    """1 MB strings where the configuration takes text (a name, an unknown key, a path): read in
    bounded time and memory, one line of error when it is wrong."""
    big = ("x" * 1000 + "\x1b]0;x\x07[bold]\u202e Å\r\n")[:1024] * 1024
    docs = (
        {"playbook": {"severities": {"P0": {"name": big, "summary": big}}}},
        {big: 1},
        {"incident": {"timezone": big}},
        {"status_pages": [{"name": big, "url": "https://status.example.com"}]},
    )
    for i, doc in enumerate(docs):
        with config_file(toml_document(doc)) as path:
            started = time.monotonic()
            result = load(path)
            assert time.monotonic() - started < 5
            if isinstance(result, ConfigError):
                assert "\n" not in str(result), str(result)[:200]
            if i == 0:  # tracemalloc slows tomllib down a lot: once is enough
                tracemalloc.start()
                try:
                    load(path)
                finally:
                    _, peak = tracemalloc.get_traced_memory()
                    tracemalloc.stop()
                assert peak < 32 * 2**20, f"{peak / 2**20:.0f} MB"


@pytest.mark.parametrize(
    "where", [(), ("playbook", "phases"), ("playbook", "severities")], ids=["top", "phases", "severities"]
)
def test_a_config_error_names_a_long_key_in_a_short_line(where: tuple[str, ...]) -> None:
    key = "k" * 1_000_000
    result = outcome(toml_document(nested((*where, key), {"name": "x"})))
    assert isinstance(result, ConfigError)
    assert len(str(result)) < 2000, len(str(result))
