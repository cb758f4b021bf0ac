"""Hostile text through every place the console writes text that is not the screen (issue 10).

Arbitrary text (every C0/C1 control, escape sequences, bidi controls, Rich/Textual markup, lone
surrogates, Jinja syntax, the templates' private-use placeholder marks) enters where a stranger
can put it: the journal (a file: every event kind, its actor, evidence JSON), the live facts a
template gets, a team's templates, and the CLI's arguments. It leaves through the report
(``build_report`` and ``warroom report``), ``warroom list``, ``warroom check``, a message rendered
by ``TemplateSet.render``, the clipboard's OSC 52 payload and the outbox file. The property
everywhere: nothing raises, and no output holds a control character (other than newline, and tab
where the format allows), an escape, a C1 control, a bidi control or a lone surrogate; each
example takes bounded time, and a megabyte of input costs little memory.

The console's screen is in test_hostile_screen.py, ``warroom.toml`` in test_hostile_config.py.
Defects found are kept as ``xfail(strict=True)`` tests naming the defect.
"""

from __future__ import annotations

import asyncio
import base64
import json
import sqlite3
import stat
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import ManualClock
from uihelpers import make_settings
from warroom.cli import main
from warroom.comms.clipboard import OSC52_PREFIX, OSC52_SUFFIX, Clipboard
from warroom.comms.context import CONTEXT_KEYS, CommitLine, ErrorLine, LiveFacts, build_context
from warroom.comms.report import build_report
from warroom.comms.templates import TemplateSet
from warroom.durations import iso_utc
from warroom.incident import events as ev
from warroom.incident.journal import Journal, JournalError
from warroom.playbook import DEFAULT
from warroom.settings import Settings

# -- what must never come out ----------------------------------------------------------------------

C0 = [chr(i) for i in range(0x20)] + ["\x7f"]
C1 = [chr(i) for i in range(0x80, 0xA0)]
BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
SURROGATES = ["\ud800", "\udbff", "\udc00", "\udcff", "\udfff"]


def forbidden(text: str, *, newline: bool = True, tab: bool = True) -> list[str]:
    """The characters of ``text`` that must never reach a terminal or a file a person reads."""
    out = []
    for ch in text:
        if (ch == "\n" and newline) or (ch == "\t" and tab):
            continue
        o = ord(ch)
        if o < 0x20 or 0x7F <= o <= 0x9F or ch in BIDI or 0xD800 <= o <= 0xDFFF:
            out.append(ch)
    return out


def assert_inert(text: str, where: str, *, newline: bool = True, tab: bool = True) -> None:
    bad = forbidden(text, newline=newline, tab=tab)
    assert not bad, f"{where}: {sorted({repr(c) for c in bad})} in {text[:400]!r}"


def assert_one_line(message: str, where: str) -> None:
    assert message.strip(), f"{where}: an empty message"
    assert "\n" not in message.rstrip("\n"), f"{where}: more than one line: {message!r}"
    assert_inert(message.rstrip("\n"), where, newline=False, tab=False)


# -- what a stranger can write ------------------------------------------------------------------------

FRAGMENTS = (
    "\x1b]0;PWNED-TITLE\x07",
    "\x1b]52;c;SElKQUNLRUQ=\x07",
    "\x1b]8;;https://evil.example/\x1b\\link\x1b]8;;\x1b\\",
    "\x1b[31m",
    "\x1b[0m",
    "\x1b[2J\x1b[H",
    "\x1b[?1049h",
    "\x1b[6n",
    "\x1bP+q544e\x1b\\",
    "\x1bc",
    "\x1b(0",
    "\x9b31m",
    "\x9d0;PWNED\x9c",
    "\x1b",
    "\x1b]",
    "[bold]x[/bold]",
    "[@click=app.quit]click me[/]",
    "[link=https://evil.example]x[/link]",
    "[/]",
    "[",
    "]",
    "\\[",
    "[red",
    "$text-error",
    "{{ title }}",
    "{% raw %}",
    "{#",
    "%}",
    "{0}",
    "%s",
    "|",
    "`",
    "```",
    "# ",
    "\n",
    "\r\n",
    "\r",
    "\t",
    "   ",
    "\u2028",
    "\u2029",
    "\ufeff",
    "\u200b",
    "\ue000",
    "\ue001",
    "\ue002",
    "\ufffe",
    "\uffff",
    "\U0001f6a8",
    "مرحبا",
    "e\u0301",
    "INC-2026-01-01-001",
    "***",
)
SPECIAL = C0 + C1 + sorted(BIDI) + SURROGATES


def hostile_text(max_pieces: int = 12, *, surrogates: bool = True) -> st.SearchStrategy[str]:
    """Text made of escape sequences, controls, markup and any other character."""
    piece = st.one_of(
        st.sampled_from(FRAGMENTS),
        st.sampled_from(SPECIAL),
        st.text(st.characters(categories=["Cc", "Cf", "Cs", "Co", "Zl", "Zp"]), max_size=4),
        st.text(max_size=10),
    )
    text = st.lists(piece, max_size=max_pieces).map("".join)
    if not surrogates:
        text = text.map(no_surrogates)
    return text


def no_surrogates(text: str) -> str:
    return "".join(ch for ch in text if not 0xD800 <= ord(ch) <= 0xDFFF)


@st.composite
def incident_texts(draw: st.DrawFn) -> dict[str, Any]:
    """Every piece of text one incident's journal holds."""

    def t(pieces: int = 12) -> str:
        return draw(hostile_text(pieces))

    return {
        "title": t(),
        "impact": t(),
        "lead": t(),
        "channel": t(),
        "actor": t(6),
        "actor2": t(6),
        "note": t(20),
        "field": draw(st.sampled_from(sorted(ev.FIELDS)) | hostile_text(4)),
        "value": t(20),
        "theory": t(),
        "update": t(20),
        "audience": draw(st.sampled_from(["internal", "customer"]) | hostile_text(3)),
        "template": draw(st.sampled_from(["internal_update", "customer_notification", ""]) | hostile_text(3)),
        "reason": t(),
        "question": t(),
        "answer": t(),
        "source": t(3),
        "observed": t(),
        "details": t(20),
        "rows": draw(
            st.lists(st.tuples(hostile_text(6), hostile_text(10), st.integers(-(10**15), 10**15)), max_size=4)
        ),
        "summary": t(),
        "sha": t(4),
        "item": t(4),
        "item_text": t(),
        "resolved": draw(st.booleans()),
        "ascii": draw(st.booleans()),
    }


@st.composite
def live_facts(draw: st.DrawFn) -> LiveFacts:
    text = hostile_text(10)
    commits = st.builds(
        CommitLine,
        sha=hostile_text(3),
        subject=text,
        author=hostile_text(4),
        at=st.none() | st.datetimes(timezones=st.just(UTC)),
        deploy=st.booleans(),
        migration=st.booleans(),
        freeze_breach=st.booleans(),
    )
    return LiveFacts(
        top_errors=draw(st.lists(st.builds(ErrorLine, text, text, st.integers(0, 10**12)), max_size=4)),
        db_health=draw(st.none() | text),
        suspected_deploy=draw(st.none() | text),
        degraded_components=draw(st.lists(text, max_size=3)),
        status_page_link=draw(st.none() | text),
        error_rate=draw(st.none() | text),
        commits=draw(st.lists(commits, max_size=3)),
    )


# -- a journal holding it -------------------------------------------------------------------------------

START = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)


def _json(data: dict[str, Any]) -> str:
    # \uXXXX escapes: a file can hold a lone surrogate (or any control) this way
    return json.dumps(data, ensure_ascii=True)


def _bodies(t: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    investigation = DEFAULT.investigation
    rows = [{"type": a, "message": b, "count": n} for a, b, n in t["rows"]]
    tally = json.dumps(
        {"window_minutes": 60, "rows": rows, "total": sum(r["count"] for r in rows)}, ensure_ascii=t["ascii"]
    )
    out: list[tuple[str, dict[str, Any]]] = [
        ("severity_changed", {"severity": "P1", "previous": "P0", "reason": t["reason"]}),
        ("phase_changed", {"phase": "investigation", "previous": "triage"}),
        (
            "item_ticked",
            {"checklist": investigation.key, "item": investigation.items[0].key, "text": t["item_text"]},
        ),
        ("item_ticked", {"checklist": t["item"], "item": t["item"], "text": t["item_text"]}),
        ("note_added", {"text": t["note"]}),
        ("field_edited", {"field": t["field"], "value": t["value"]}),
        ("field_edited", {"field": "theory", "value": t["theory"]}),
        ("update_sent", {"audience": t["audience"], "text": t["update"], "template": t["template"]}),
        ("escalated", {"level": 3, "reason": t["reason"]}),
        ("answered", {"question": t["question"], "answer": t["answer"]}),
        ("observed", {"source": t["source"], "text": t["observed"], "details": t["details"]}),
        (
            "evidence_recorded",
            {"source": "errors", "label": "at declaration", "data": tally, "summary": t["summary"]},
        ),
        ("evidence_recorded", {"source": "errors", "label": "peak", "data": tally, "summary": t["summary"]}),
        (
            "evidence_recorded",
            {
                "source": "deploy",
                "label": "suspected",
                "data": _json({"sha": t["sha"]}),
                "summary": t["summary"],
            },
        ),
        ("severity_changed", {"severity": "P0", "previous": "P1", "reason": t["reason"]}),
    ]
    if t["resolved"]:
        out.append(("resolved", {"summary": t["note"]}))
        out.append(("phase_changed", {"phase": "review", "previous": "investigation"}))
    return out


def write_journal(path: Path, t: dict[str, Any], clock: ManualClock) -> str:
    """One incident whose every text is ``t``'s, written straight into the file (a journal is a
    file anyone with access may edit: the actor column and every field are raw)."""
    with Journal(path, actor="alice", clock=clock) as journal:
        incident_id = journal.declare("P0", "placeholder").incident_id
    declared = {"severity": "P0", "title": t["title"], "impact": t["impact"], "lead": t["lead"]}
    declared["channel"] = t["channel"]
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute(
            "UPDATE events SET actor = ?, data = ? WHERE incident_id = ?",
            (no_surrogates(t["actor"]), _json(declared), incident_id),
        )
        for i, (kind, body) in enumerate(_bodies(t), start=1):
            db.execute(
                "INSERT INTO events (event_id, incident_id, at, actor, kind, data) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    uuid.uuid4().hex,
                    incident_id,
                    iso_utc(clock.now + timedelta(minutes=i)),
                    no_surrogates(t["actor2"] if i % 2 else t["actor"]),
                    kind,
                    _json(body),
                ),
            )
    finally:
        db.close()
    return incident_id


@contextmanager
def hostile_world(t: dict[str, Any]) -> Iterator[tuple[Settings, Journal, str, ManualClock]]:
    """A state dir in a temp folder whose journal holds ``t``; the journal opened on it."""
    with tempfile.TemporaryDirectory(prefix="wr-hostile-") as tmp:
        clock = ManualClock(START)
        settings = make_settings(Path(tmp) / "state")
        incident_id = write_journal(settings.journal_path, t, clock)
        clock.advance(minutes=40)
        journal = Journal(settings.journal_path, actor="alice", clock=clock)
        try:
            yield settings, journal, incident_id, clock
        finally:
            journal.close()


BUILTIN = TemplateSet()  # one set for the whole module: its Jinja environment is built once

PROPS = settings(
    max_examples=40,
    deadline=timedelta(seconds=3),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# Each CLI run builds its settings, opens the journal and compiles the report template: fewer.
CLI_PROPS = settings(PROPS, max_examples=12, deadline=timedelta(seconds=6))


@pytest.fixture(scope="module", autouse=True)
def warm() -> None:
    """Import and compile what every example uses once, so no example pays for it (deadline)."""
    with hostile_world(plain_texts()) as (settings, journal, incident_id, clock):
        incident = journal.load(incident_id)
        build_report(incident, settings, now=clock.now, commits=[], templates=BUILTIN)
        for info in BUILTIN.messages():
            BUILTIN.render(info, build_context(incident, settings, None, clock.now))
        invoke(["list", "--state-dir", str(settings.state_dir)], settings.state_dir.parent)


def plain_texts() -> dict[str, Any]:
    t: dict[str, Any] = dict.fromkeys(
        [
            "title",
            "impact",
            "lead",
            "channel",
            "actor",
            "actor2",
            "note",
            "value",
            "theory",
            "update",
            "reason",
            "question",
            "answer",
            "source",
            "observed",
            "details",
            "summary",
            "sha",
            "item",
            "item_text",
        ],
        "x",
    )
    t.update(
        field="theory", audience="internal", template="internal_update", rows=[], resolved=True, ascii=True
    )
    return t


# -- the CLI ------------------------------------------------------------------------------------------


def cli_env(tmp: Path) -> dict[str, str]:
    """No user configuration, no state outside ``tmp``, a fixed zone."""
    return {
        "XDG_CONFIG_HOME": str(tmp / "xdg-config"),
        "XDG_DATA_HOME": str(tmp / "xdg-data"),
        "TZ": "UTC",
        "WARROOM_CONFIG": "",
        "WARROOM_STATE_DIR": "",
        "WARROOM_DSN": "",
        "DATABASE_URL": "",
    }


def invoke(args: list[str], tmp: Path) -> Result:
    """``warroom ARGS`` through Click's runner, with colour kept: Click strips CSI sequences from
    what it echoes to a pipe, but not from what it echoes to a terminal, where the user is."""
    return CliRunner().invoke(main, args, env=cli_env(tmp), color=True, catch_exceptions=True)


def assert_clean_exit(result: Result, what: str) -> None:
    """Exit 0, or a one-line ``warroom: ...`` error: never a traceback."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{what} raised {result.exception!r}") from result.exception
    assert_inert(result.stdout, f"{what} stdout")
    if result.exit_code != 0:
        assert result.stderr.startswith("warroom: "), (what, result.stderr)
        assert_one_line(result.stderr, f"{what} stderr")
    else:
        assert_inert(result.stderr, f"{what} stderr")


# -- the report ---------------------------------------------------------------------------------------


@PROPS
@given(t=incident_texts(), facts=live_facts())
def test_the_report_of_a_hostile_journal_is_inert(t: dict[str, Any], facts: LiveFacts) -> None:
    """Every event kind, its actor and its evidence, plus hostile live facts and commits, through
    ``build_report``: Markdown without a control character, and never an exception."""
    with hostile_world(t) as (settings, journal, incident_id, clock):
        incident = journal.load(incident_id)
        report = build_report(
            incident, settings, now=clock.now, commits=list(facts.commits), facts=facts, templates=BUILTIN
        )
        assert_inert(report, "report")
        assert report.startswith("# Incident Report: ")
        # looked up (no repository configured): the note says so
        report = build_report(incident, settings, now=clock.now, facts=facts, templates=BUILTIN)
        assert_inert(report, "report without commits")


@CLI_PROPS
@given(t=incident_texts())
def test_warroom_list_and_report_of_a_hostile_journal_are_inert(t: dict[str, Any]) -> None:
    with hostile_world(t) as (settings, journal, incident_id, _clock):
        journal.close()
        state = ["--state-dir", str(settings.state_dir)]
        tmp = settings.state_dir.parent
        for args in (["list", *state], ["report", incident_id, *state]):
            result = invoke(args, tmp)
            assert_clean_exit(result, " ".join(args[:2]))
            assert result.exit_code == 0, result.stderr
        out = tmp / "report.md"
        result = invoke(["report", "-o", str(out), *state], tmp)
        assert_clean_exit(result, "report -o")
        assert_inert(out.read_text(encoding="utf-8"), "report file")


# -- messages, the clipboard and the outbox -----------------------------------------------------------------


def osc52_payloads(writes: list[str]) -> list[str]:
    out = []
    for w in writes:
        assert w.startswith(OSC52_PREFIX) and w.endswith(OSC52_SUFFIX), repr(w[:40])
        out.append(base64.b64decode(w[len(OSC52_PREFIX) : -len(OSC52_SUFFIX)], validate=True).decode("utf-8"))
    return out


def copy_everywhere(text: str, outbox: Path, incident_id: str, name: str) -> tuple[list[str], Path | None]:
    """What :class:`Clipboard` sends as OSC 52 (decoded) and the outbox file it writes."""
    writes: list[str] = []
    clipboard = Clipboard(outbox, terminal_write=writes.append, system_copy=None, clock=lambda: START)
    result = asyncio.run(clipboard.copy(text, incident_id=incident_id, name=name))
    assert_one_line(result.message, "copy message")
    return osc52_payloads(writes), result.path


@PROPS
@given(t=incident_texts(), facts=live_facts())
def test_every_message_rendered_copied_and_saved_is_inert(t: dict[str, Any], facts: LiveFacts) -> None:
    """The five messages rendered from a hostile journal and hostile live facts: the text, what
    OSC 52 would carry to the terminal's clipboard and the outbox file are all inert."""
    with hostile_world(t) as (settings, journal, incident_id, clock):
        incident = journal.load(incident_id)
        context = build_context(incident, settings, facts, clock.now)
        assert set(context) == CONTEXT_KEYS
        for info in BUILTIN.messages():
            result = BUILTIN.render(info, context)
            assert result.ok, result.error
            assert result.text is not None
            assert_inert(result.text, info.name)
            for span in result.spans:
                assert result.text[span.start : span.end] == span.placeholder
            sent, path = copy_everywhere(result.text, settings.outbox_dir, incident_id, info.name)
            assert sent == [result.text]
            assert path is not None and path.read_text(encoding="utf-8") == result.text
            assert stat.S_IMODE(path.stat().st_mode) == 0o600


def team_template(literal: str, raw: bool) -> str:
    """A team's template: hostile literal text and every context value printed."""
    values = "\n".join(f"{key}={{{{ {key} }}}}" for key in sorted(CONTEXT_KEYS))
    loops = (
        "{% for e in top_errors %}{{ e.type }} {{ e.message }} {{ e.count }}\n{% endfor %}"
        "{% for c in recent_commits %}{{ c.sha }} {{ c.subject }} {{ c.author }} {{ c.at }}\n{% endfor %}"
        "{% for d in degraded_components %}{{ d | upper }} {{ d | md_cell }}\n{% endfor %}"
        "{{ title | placeholder('[T]') }} {{ start.iso }} {{ end.time }}"
    )
    body = "{% raw %}" + literal + "{% endraw %}" if raw else literal
    return f"{body}\n{values}\n{loops}\n{body}"


@settings(PROPS, max_examples=20)
@given(t=incident_texts(), facts=live_facts(), literal=hostile_text(16, surrogates=False), raw=st.booleans())
def test_a_team_template_printing_hostile_values_is_inert(
    t: dict[str, Any], facts: LiveFacts, literal: str, raw: bool
) -> None:
    """A team's template holding arbitrary literal text (sometimes not even valid Jinja) and
    printing every context value: either inert text, or one inert line of error."""
    with hostile_world(t) as (settings, journal, incident_id, clock):
        team = settings.state_dir.parent / "team"
        team.mkdir()
        (team / "internal_update.txt.j2").write_text(team_template(literal, raw), encoding="utf-8")
        (team / "exec_summary.j2").write_text(
            "{#- warroom\ntitle: Exec\naudience: internal\n-#}\n" + team_template(literal, not raw),
            encoding="utf-8",
        )
        incident = journal.load(incident_id)
        context = build_context(incident, settings, facts, clock.now)
        templates = TemplateSet(team)
        for info in templates.messages():
            result = templates.render(info, context)
            if result.ok:
                assert result.text is not None
                assert_inert(result.text, info.name)
            else:
                assert result.error is not None
                assert_one_line(result.error, f"{info.name} error")
        report = build_report(incident, settings, now=clock.now, commits=[], facts=facts, templates=templates)
        assert_inert(report, "report with team templates")


@settings(max_examples=30, deadline=timedelta(seconds=3))
@given(title=hostile_text(16), what=hostile_text(6))
def test_what_the_clipboard_carries_of_a_timeline_entry_is_inert(title: str, what: str) -> None:
    """The ``y`` key copies the highlighted timeline entry (what the screen shows of an event):
    OSC 52 and the outbox get it inert."""
    from warroom.ui.panes.timeline import event_line

    with hostile_world({**plain_texts(), "title": title, "actor": what}) as (
        settings,
        journal,
        incident_id,
        _c,
    ):
        for event in journal.events(incident_id):
            text = str(event_line(event, settings.tz, settings.playbook))
            sent, path = copy_everywhere(text, settings.outbox_dir, incident_id, what)
            assert_inert(sent[0], "OSC 52 payload", newline=False, tab=False)
            assert path is not None
            assert_inert(path.read_text(encoding="utf-8"), "outbox file", newline=False, tab=False)
            assert path.parent.parent == settings.outbox_dir  # the name cannot climb out


# -- the CLI's arguments --------------------------------------------------------------------------------


@CLI_PROPS
@given(
    title=hostile_text(12),
    impact=hostile_text(8),
    lead=hostile_text(6),
    user=hostile_text(6),
    severity=st.sampled_from(["P0", "p1", " P2 ", "P3"]) | hostile_text(3),
)
def test_declare_then_list_and_report_stay_inert(
    title: str, impact: str, lead: str, user: str, severity: str
) -> None:
    """``warroom declare --title/--impact/--lead/--user`` with arbitrary arguments, then ``list``
    and ``report``: an id or a one-line error, and inert output."""
    with tempfile.TemporaryDirectory(prefix="wr-cli-") as name:
        tmp = Path(name)
        state = ["--state-dir", str(tmp / "state")]
        args = [
            "declare",
            f"--severity={severity}",
            f"--title={title}",
            f"--impact={impact}",
            f"--lead={lead}",
        ]
        result = invoke([*args, f"--user={user}", *state], tmp)
        assert_clean_exit(result, "declare")
        if result.exit_code == 0:
            assert result.stdout.startswith("INC-")
        for args in (["list", *state], ["report", *state]):
            result = invoke(args, tmp)
            assert_clean_exit(result, args[0])


@CLI_PROPS
@given(user=hostile_text(6))
@example(user="bob\x1b]0;PWNED\x07\u202e")
def test_check_with_a_hostile_user_is_inert(user: str) -> None:
    with tempfile.TemporaryDirectory(prefix="wr-check-") as name:
        tmp = Path(name)
        result = invoke(["check", f"--user={user}", "--state-dir", str(tmp / "state")], tmp)
        assert_clean_exit(result, "check")


# -- a megabyte ---------------------------------------------------------------------------------------------

MEGABYTE = ("\x1b]0;x\x07[bold]\u202e\ud800 Å\x00\r\n" * 80_000)[: 1024 * 1024]


@contextmanager
def bounded(seconds: float, megabytes: float, what: str) -> Iterator[None]:
    """The block takes at most ``seconds`` and allocates at most ``megabytes`` at its peak."""
    tracemalloc.start()
    started = time.monotonic()
    try:
        yield
    finally:
        took = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert took < seconds, f"{what} took {took:.1f} s"
    assert peak < megabytes * 1024 * 1024, f"{what} peaked at {peak / 2**20:.0f} MB"


def test_a_megabyte_in_every_journal_field_costs_little() -> None:
    """1 MB in every text of the journal (evidence too) and in every live fact: the report, the
    messages and the clipboard payloads stay inert and bounded."""
    t = {k: (MEGABYTE if isinstance(v, str) else v) for k, v in plain_texts().items()}
    t.update(field="theory", audience="internal", template="internal_update")
    t["rows"] = [(MEGABYTE, MEGABYTE, 7)] * 3
    big = LiveFacts(
        top_errors=[ErrorLine(MEGABYTE, MEGABYTE, 3)] * 3,
        db_health=MEGABYTE,
        suspected_deploy=MEGABYTE,
        degraded_components=[MEGABYTE] * 3,
        status_page_link=MEGABYTE,
        error_rate=MEGABYTE,
        commits=[CommitLine(MEGABYTE, MEGABYTE, MEGABYTE)] * 3,
    )
    with hostile_world(t) as (settings, journal, incident_id, clock):
        # Reading costs what the file holds (every row is read whole, then cut to a bound)...
        file_mb = settings.journal_path.stat().st_size / 2**20
        with bounded(10, 2 * file_mb + 16, f"loading a journal of {file_mb:.0f} MB"):
            incident = journal.load(incident_id)
        # ... and what is built from it costs what the bounds allow, whatever the input's size.
        with bounded(10, 48, "the report and the messages"):
            report = build_report(incident, settings, now=clock.now, commits=[], facts=big, templates=BUILTIN)
            context = build_context(incident, settings, big, clock.now)
            texts = [BUILTIN.render(info, context) for info in BUILTIN.messages()]
        assert_inert(report, "report")
        assert len(report) < 2 * 1024 * 1024
        for result in texts:
            assert result.ok and result.text is not None, result.error
            assert_inert(result.text, result.template.name)
            sent, _path = copy_everywhere(result.text, settings.outbox_dir, incident_id, result.template.name)
            assert sent == [result.text]


def test_a_megabyte_in_the_cli_arguments_costs_little(tmp_path: Path) -> None:
    state = ["--state-dir", str(tmp_path / "state")]
    with bounded(10, 120, "declare, list and report"):
        result = invoke(
            [
                "declare",
                "-s",
                "P0",
                f"--title={MEGABYTE}",
                f"--impact={MEGABYTE}",
                f"--lead={MEGABYTE}",
                *state,
            ],
            tmp_path,
        )
        assert_clean_exit(result, "declare")
        assert result.exit_code == 0
        for args in (["list", *state], ["report", *state]):
            result = invoke(args, tmp_path)
            assert_clean_exit(result, args[0])
            assert len(result.stdout) < 64 * 1024


# -- defects found ---------------------------------------------------------------------------------------


def _journal_with(tmp: Path, *bodies: ev.Body) -> tuple[Settings, str]:
    settings = make_settings(tmp / "state")
    with Journal(settings.journal_path, actor="alice", clock=ManualClock(START)) as journal:
        incident_id = journal.declare("P0", "x").incident_id
        for body in bodies:
            journal.append(incident_id, body)
    return settings, incident_id


def test_long_commit_lines_are_cut_not_the_report() -> None:
    commits = [CommitLine(f"abc{i}", MEGABYTE, MEGABYTE, START) for i in range(3)]
    with hostile_world(plain_texts()) as (settings, journal, incident_id, clock):
        incident = journal.load(incident_id)
        report = build_report(incident, settings, now=clock.now, commits=commits, templates=BUILTIN)
        assert_inert(report, "report")


def test_evidence_with_a_huge_number_is_a_note_in_the_report(tmp_path: Path) -> None:
    data = '{"window_minutes": 60, "rows": [{"type": "x", "message": "y", "count": 1' + "0" * 5000 + "}]}"
    settings, _id = _journal_with(tmp_path, ev.EvidenceRecorded("errors", "peak", data))
    result = invoke(["report", "--state-dir", str(settings.state_dir)], tmp_path)
    assert_clean_exit(result, "report")
    assert result.exit_code == 0
    assert "cannot be read" in result.stdout


def test_deeply_nested_evidence_is_a_note_in_the_report(tmp_path: Path) -> None:
    nested = "[" * 30_000 + "]" * 30_000
    settings, _id = _journal_with(
        tmp_path,
        ev.EvidenceRecorded("errors", "at resolution", nested),
        ev.EvidenceRecorded("deploy", "suspected", nested, summary="s"),
    )
    result = invoke(["report", "--state-dir", str(settings.state_dir)], tmp_path)
    assert_clean_exit(result, "report")
    assert result.exit_code == 0


def test_a_journal_row_of_deeply_nested_json_is_one_line(tmp_path: Path) -> None:
    settings, _incident_id = _journal_with(tmp_path, ev.NoteAdded("hi"))
    db = sqlite3.connect(settings.journal_path, isolation_level=None)
    nested = '{"text": "a", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    db.execute("UPDATE events SET data = ? WHERE kind = 'note_added'", (nested,))
    db.close()
    result = invoke(["list", "--state-dir", str(settings.state_dir)], tmp_path)
    assert_clean_exit(result, "list")
    # the damaged incident is named (one line each), the listing goes on
    assert result.exit_code == 0 and "cannot be opened" in result.stderr and "damaged" in result.stderr


@settings(max_examples=20, deadline=timedelta(seconds=2))
@given(text=hostile_text(8))
@example(text="note \ud800 end")
def test_journal_append_stores_any_text_or_says_why_in_one_line(text: str) -> None:
    with (
        tempfile.TemporaryDirectory(prefix="wr-append-") as name,
        Journal(Path(name) / "journal.sqlite3", actor=text) as journal,
    ):
        try:
            incident_id = journal.declare("P0", text or "x", impact=text, lead=text).incident_id
            journal.append(incident_id, ev.NoteAdded(text), actor=text)
            journal.append(incident_id, ev.FieldEdited("theory", text))
        except JournalError as exc:
            assert_one_line(str(exc), "journal error")
            return
        for event in journal.events(incident_id):
            assert_inert(event.actor + event.describe(), "journal read back")


def file_name(text: str) -> str:
    """``text`` as a file name Linux accepts (no / or NUL, at most 200 bytes; invalid UTF-8
    comes back from the file system as the surrogates U+DC80-U+DCFF)."""
    name = "".join(
        ch
        for ch in text
        if ch not in "/\x00" and (not 0xD800 <= ord(ch) <= 0xDFFF or 0xDC80 <= ord(ch) <= 0xDCFF)
    )
    return name.encode("utf-8", "surrogateescape")[:200].decode("utf-8", "ignore")


@settings(PROPS, max_examples=30)
@given(name=hostile_text(6, surrogates=True), broken=st.booleans())
@example(name="\x1b]0;PWNED\x07", broken=True)
def test_a_team_template_file_name_is_inert_wherever_it_is_named(name: str, broken: bool) -> None:
    """A team's folder holding files with hostile names (one overriding a built-in, one a new
    message, one with the same name twice): titles, problems and errors are inert lines."""
    stem = file_name(name).lstrip(".") or "x"
    source = "{{ title }" if broken else "{{ title }}"
    with tempfile.TemporaryDirectory(prefix="wr-names-") as tmp:
        team = Path(tmp)
        for file in (f"internal_update.{stem}.j2", f"z{stem}.j2", f"z{stem}.txt.j2"):
            (team / file_name(file)).write_bytes(source.encode())
        templates = TemplateSet(team)
        for problem in templates.problems:
            assert_one_line(problem, "problem")
        context = build_context(_incident(), make_settings(team / "s"), None, START)
        for info in templates.messages():
            assert_one_line(info.title, "title")
            result = templates.render(info, context)
            if result.ok:
                assert_inert(result.text or "", info.name)
            else:
                assert_one_line(result.error or "", f"{info.name} error")


def _incident() -> Any:
    from warroom.incident.state import fold

    declared = ev.Event(1, "e1", "INC-2026-11-26-001", START, "alice", ev.Declared("P0", "x"))
    return fold([declared])
