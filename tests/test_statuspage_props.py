"""Property tests: whatever a status page answers, reading it never raises, and every string the
reading holds (names, descriptions, update bodies, reasons, labels, timeline lines) is inert text
of a bounded length: no C0/C1 control, no ESC, no bidi control, no lone surrogate.

Documents are arbitrary JSON (recursive), documents shaped like a summary with arbitrary values in
every field, the same documents as JSON text (lone surrogates written ``"\\ud800"``), and arbitrary
bytes, plain or in a compressed coding, through the worker-thread half of ``fetch``."""

from __future__ import annotations

import gzip
import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

pytest.importorskip("hypothesis")

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from warroom.settings import StatusPage
from warroom.sources.statuspage import PageStatus, changes, fetching, parse_summary, timeline
from warroom.sources.statuspage import summary as parsing

T0 = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
PAGE = StatusPage("Twilio", "https://status.twilio.com")

# C0 and C1 controls, DEL, ESC, explicit bidi formatting characters and lone surrogates.
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
# One timeline line: the page name, a group and a component name, two status words; an incident
# line holds the repr() of a name of 200 characters (up to 10 characters each once escaped).
LINE_MAX = 2500

PROPS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# -- strategies --------------------------------------------------------------------------------------

NASTY = [
    "\x1b]0;title\x07",
    "\x1b]52;c;AAAA\x07",
    "\x1b[31m",
    "\x1b[2J\x1b[H",
    "\x9b31m",
    "\x9d0;t\x9c",
    "\x1bP+q544e\x1b\\",
    "\x1b",
    "[bold red]x[/]",
    "[@click=app.quit]quit[/]",
    "[link=https://evil.example]x[/link]",
    "\ud800",
    "\udfff",
    "\u202e",
    "\u2066",
    "\u200f",
    "\u061c",
    "\r\n",
    "\t",
    "\x00",
    "\x7f",
    "\x85",
    "operational",
    "major_outage",
    "resolved",
    "in_progress",
]
nasty_text = st.lists(
    st.one_of(
        st.sampled_from(NASTY),
        st.text(max_size=8),
        st.characters(min_codepoint=0, max_codepoint=0x9F),  # every C0/C1 control and DEL
        st.integers(0xD800, 0xDFFF).map(chr),  # lone surrogates
        st.sampled_from(["\u202a", "\u202b", "\u202c", "\u202d", "\u2067", "\u2068", "\u2069", "\u200e"]),
    ),
    max_size=12,
).map("".join)
long_text = st.builds(lambda piece, n: piece * n, nasty_text, st.integers(100, 3000))
text = st.one_of(nasty_text, long_text)

KEYS = [
    "status",
    "indicator",
    "description",
    "components",
    "incidents",
    "scheduled_maintenances",
    "page",
    "updated_at",
    "id",
    "name",
    "group",
    "group_id",
    "incident_updates",
    "body",
    "display_at",
    "created_at",
    "started_at",
    "impact",
    "shortlink",
]
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True), text
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), nasty_text), children, max_size=5),
    ),
    max_leaves=25,
)


def field(known: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A field's value: often a plausible one, else anything at all."""
    return st.one_of(known, known, json_values)


ids = st.sampled_from(["a", "b", "c", "g", "\x1b[1ma", "a "])  # few, so ids and group_ids meet
times = st.sampled_from(
    ["2026-11-26T05:25:57.666-07:00", "2026-11-26T06:00:00Z", "", "2026-13-45", "Z" * 100]
)
component_statuses = st.sampled_from(
    [
        "operational",
        "degraded_performance",
        "partial_outage",
        "major_outage",
        "under_maintenance",
        "Major Outage",
    ]
)
incident_statuses = st.sampled_from(
    [
        "investigating",
        "identified",
        "monitoring",
        "resolved",
        "postmortem",
        "in_progress",
        "verifying",
        "scheduled",
    ]
)

components = st.fixed_dictionaries(
    {},
    optional={
        "id": field(ids),
        "name": field(text),
        "status": field(st.one_of(component_statuses, text)),
        "group": field(st.booleans()),
        "group_id": field(ids),
        "components": field(st.lists(ids, max_size=3)),
        "description": field(text),
    },
)
updates = st.fixed_dictionaries(
    {},
    optional={
        "status": field(st.one_of(incident_statuses, text)),
        "body": field(text),
        "display_at": field(times),
        "created_at": field(times),
        "updated_at": field(times),
    },
)
incidents = st.fixed_dictionaries(
    {},
    optional={
        "id": field(ids),
        "name": field(text),
        "status": field(st.one_of(incident_statuses, text)),
        "impact": field(st.one_of(st.sampled_from(["none", "minor", "major", "critical"]), text)),
        "incident_updates": field(st.lists(st.one_of(updates, json_values), max_size=4)),
        "started_at": field(times),
        "created_at": field(times),
        "shortlink": field(text),
    },
)
summaries = st.fixed_dictionaries(
    {
        "status": st.fixed_dictionaries(
            {"indicator": st.one_of(st.sampled_from(["none", "minor", "major", "critical"]), text)},
            optional={"description": field(text)},
        )
    },
    optional={
        "page": field(st.fixed_dictionaries({}, optional={"updated_at": field(times), "name": field(text)})),
        "components": field(st.lists(st.one_of(components, json_values), max_size=8)),
        "incidents": field(st.lists(st.one_of(incidents, json_values), max_size=5)),
        "scheduled_maintenances": field(st.lists(st.one_of(incidents, json_values), max_size=3)),
    },
)
documents = st.one_of(summaries, summaries, json_values)


# -- what is checked ----------------------------------------------------------------------------------


def strings(status: PageStatus) -> Iterator[tuple[str, str, int]]:
    """Every string a reading holds: (what, value, its bound)."""
    word = 40  # status and impact words
    yield "name", status.name, parsing.NAME_MAX
    yield "description", status.description, 200
    yield "reason", status.reason, parsing.REASON_MAX
    yield "summary", status.summary, 20 + max(200, parsing.REASON_MAX)
    for c in status.components:
        yield "component id", c.id, parsing.NAME_MAX
        yield "component name", c.name, parsing.NAME_MAX
        yield "component group", c.group, parsing.NAME_MAX
        yield "component status", c.status, word
        yield "component label", c.label, 2 * parsing.NAME_MAX + 3
        yield "component status text", c.status_text, word
    for inc in (*status.incidents, *status.maintenances):
        yield "incident id", inc.id, parsing.NAME_MAX
        yield "incident name", inc.name, 200
        yield "incident status", inc.status, word
        yield "incident impact", inc.impact, word
        yield "incident shortlink", inc.shortlink, 200
        if inc.latest is not None:
            yield "update status", inc.latest.status, word
            yield "update body", inc.latest.body, parsing.UPDATE_MAX


def assert_inert(status: PageStatus) -> None:
    """Every string of ``status`` is bounded and holds nothing a terminal would act on."""
    assert isinstance(status, PageStatus)
    for what, value, bound in strings(status):
        assert isinstance(value, str), what
        assert not UNSAFE.search(value), f"{what}: {value!r}"
        assert len(value) <= bound, f"{what}: {len(value)} characters"
    assert len(status.components) <= parsing.MAX_COMPONENTS
    assert (
        len(status.incidents) <= parsing.MAX_INCIDENTS and len(status.maintenances) <= parsing.MAX_INCIDENTS
    )
    assert min(status.components_omitted, status.incidents_omitted, status.maintenances_omitted) >= 0


def assert_lines(lines: list[str]) -> None:
    assert isinstance(lines, list) and len(lines) <= timeline.MAX_CHANGES
    for line in lines:
        assert isinstance(line, str) and line
        assert not UNSAFE.search(line), repr(line)
        assert len(line) <= LINE_MAX


# -- properties ----------------------------------------------------------------------------------------


# A found warroom.toml is untrusted too: the page's name.
pages = st.one_of(st.just(PAGE), st.builds(StatusPage, nasty_text, st.just("https://status.example.com")))


@PROPS
@given(documents, documents, pages)
def test_any_document_reads_as_inert_bounded_text(first: Any, second: Any, page: StatusPage) -> None:
    a = parse_summary(first, page, T0)
    b = parse_summary(second, page, T0)
    assert_inert(a)
    assert_inert(b)
    assert_lines(changes(None, a))
    assert_lines(changes(a, b))
    assert_lines(changes(b, a))
    unreadable = parsing.unknown(page, T0, "timeout after 5 s")
    assert_lines(changes(a, unreadable))
    if a.readable:
        assert_lines(changes(replace(unreadable, last_good=a), b))


@PROPS
@given(documents)
def test_any_document_as_json_text_reads_as_inert_bounded_text(doc: Any) -> None:
    # json.dumps writes lone surrogates as "\ud800" escapes, NaN as NaN: what a page could send.
    text = json.dumps(doc)
    st_ = fetching._read_answer(
        fetching._Body("", fetching.MAX_BODY), text.encode(), "application/json", PAGE, T0
    )
    assert_inert(st_)
    assert st_.readable == (parse_summary(json.loads(text), PAGE, T0).readable)


@PROPS
@given(
    st.one_of(
        st.binary(max_size=200),
        documents.map(lambda d: json.dumps(d).encode()),
        documents.map(lambda d: json.dumps(d, ensure_ascii=False).encode("utf-8", "surrogatepass")),
    ),
    st.sampled_from(["", "gzip", "deflate", "raw"]),
    st.integers(0, 400),
)
def test_any_bytes_in_any_asked_coding_read_as_inert_text(body: bytes, coding: str, cut: int) -> None:
    """The worker-thread half of fetch(): decoding, JSON and summary, on any bytes, whole or cut."""
    if coding == "gzip":
        body = gzip.compress(body)
    elif coding == "deflate":
        body = zlib.compress(body)
    elif coding == "raw":
        c = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
        body = c.compress(body) + c.flush()
    if cut:
        body = body[: max(0, len(body) - cut)]
    header = "deflate" if coding == "raw" else coding
    state = fetching._Body(header, fetching.MAX_BODY)
    half = len(body) // 2
    try:
        state.feed(body[:half])
    except fetching._Refused as exc:
        reason = str(exc)
        assert not UNSAFE.search(reason) and "\n" not in reason
        return
    st_ = fetching._read_answer(state, body[half:], "application/json", PAGE, T0)
    assert_inert(st_)


@PROPS
@given(text)
def test_any_content_encoding_header_is_refused_in_one_line(header: str) -> None:
    try:
        fetching._Body(header, fetching.MAX_BODY)
    except fetching._Refused as exc:
        reason = str(exc)
        assert reason.startswith("answer in an encoding not asked for (")
        assert not UNSAFE.search(parsing.unknown(PAGE, T0, reason).reason)


def test_markup_stays_literal() -> None:
    doc = {
        "status": {"indicator": "minor", "description": "[bold red]x[/]"},
        "components": [{"id": "a", "name": "[@click=app.quit]quit[/]", "status": "major_outage"}],
    }
    st_ = parse_summary(doc, PAGE, T0)
    assert st_.description == "[bold red]x[/]"
    assert st_.components[0].name == "[@click=app.quit]quit[/]"
    assert changes(None, st_) == [
        "Twilio: minor ([bold red]x[/])",
        "Twilio: [@click=app.quit]quit[/] major outage",
    ]


def test_escape_sequences_and_surrogates_are_removed() -> None:
    doc = json.loads(
        '{"status": {"indicator": "major", "description": "\\u001b]0;title\\u0007Outage\\u001b]52;c;AAAA\\u0007"},'
        ' "incidents": [{"id": "i", "name": "\\ud800\\u202eevil\\u001b[2J", "status": "investigating",'
        ' "incident_updates": [{"body": "a\\u0000b\\u009bc\\r\\nd", "status": "investigating"}]}]}'
    )
    st_ = parse_summary(doc, PAGE, T0)
    assert st_.description == "Outage"
    assert st_.incidents[0].name == "\ufffdevil"
    # NUL goes; an 8-bit CSI takes the "c" after it as its final byte; CR LF is one space.
    assert st_.incidents[0].latest is not None and st_.incidents[0].latest.body == "ab d"
    assert_inert(st_)
