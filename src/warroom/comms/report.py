"""The post-incident report: the playbook's incident log template, filled from the journal.

:func:`build_report` renders ``templates/incident_report.md.j2`` (a team may override it like any
other template) with the message context (:func:`warroom.comms.context.build_context`) plus:

==================  ==================================================================================
zone_line           "All times are Europe/Berlin (CET, UTC+01:00) unless marked UTC."
duration_hhmm       ``01:05`` (the playbook's ``Duration: [HH:MM]``)
severity_note       ``declared P1; P0 from 15:04 CET`` ("" when the severity never changed)
summary             the last resolution summary (``warroom resolve``'s text); else the placeholder
timeline            list of :class:`TimelineEntry` (time, text): every journal event, sorted by time
phases              list of :class:`PhaseRow` (number, name, entered, spent, budget, note)
time_to_triage      ``4 min`` (declaration until Investigation began), or ``not reached``
time_to_mitigate    declaration until Recovery & Verification began (the mitigation was in place)
time_to_resolve     declaration until resolution
checklists          list of :class:`ChecklistBlock` (title, items of :class:`ChecklistRow`)
updates             list of :class:`UpdateRow`: every update sent, with its text and timeliness
commits             list of :class:`CommitRow` in the window (``git.recent`` before the declaration
                    until the end), oldest first; ``commits_window`` says the window and
                    ``commits_note`` why there are none (no repository, git source failed...)
tallies             list of :class:`TallyBlock`: errors at declaration, at peak, at resolution
generated           :class:`~warroom.comms.context.Stamp` of ``now``; ``version``; ``event_count``
==================  ==================================================================================

Error tallies come from the journal. The console records them as
``EvidenceRecorded(source="errors", label=<label>, data=<JSON>, summary=<one line>)`` with
``label`` one of ``"at declaration"``, ``"peak"``, ``"at resolution"`` and ``data``::

    {"window_minutes": 60,
     "rows": [{"type": "TimeoutError", "message": "pool exhausted", "count": 812}, ...],
     "total": 1234}

``rows`` is the playbook's top-errors query (largest first), ``total`` every error in the window
(may exceed the sum of the rows). Use :func:`errors_evidence` to build the event. For the same
label the last record wins, except ``peak``, where the largest total wins. A suspected deploy is
recorded as ``EvidenceRecorded(source="deploy", label="suspected", data={"sha": ...},
summary="errors rose 4 min after deploy a1b2c3d")``; the report prefers ``facts.suspected_deploy``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from warroom import __version__
from warroom.comms.context import (
    CommitLine,
    LiveFacts,
    Placeholder,
    Stamp,
    build_context,
    clean_commit,
    human_duration,
)
from warroom.comms.evidence import (
    AT_DECLARATION,
    AT_RESOLUTION,
    DEPLOY_SOURCE,
    ERRORS_SOURCE,
    PEAK,
    TALLY_LABELS,
    TALLY_TITLES,
)
from warroom.comms.templates import REPORT, TemplateSet
from warroom.durations import clock_time, describe_duration, local, stamp, utc
from warroom.files import write_private
from warroom.incident import events as ev
from warroom.incident.state import Incident, fold
from warroom.text import clean

if TYPE_CHECKING:
    from warroom.settings import Settings
    from warroom.sources.git import Commit


class ReportError(Exception):
    """The report could not be written; one line."""


# -- rows the template iterates over ---------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    time: str  # 15:04 CET (a date first when the day differs from the start's)
    text: str


@dataclass(frozen=True)
class PhaseRow:
    number: int
    name: str
    entered: str  # "15:05 CET" or "—"
    spent: str  # "10 min" or "—"
    budget: str  # "25 min" or "—"
    note: str  # "over budget by 3 min" or ""


@dataclass(frozen=True)
class ChecklistRow:
    done: bool
    text: str
    ticked: str  # "15:06 CET" ("" when open)
    by: str


@dataclass(frozen=True)
class ChecklistBlock:
    title: str
    items: list[ChecklistRow]

    @property
    def done_count(self) -> int:
        return sum(1 for i in self.items if i.done)


@dataclass(frozen=True)
class UpdateRow:
    time: str
    audience: str  # "Internal" / "Customer"
    title: str  # "Internal - Status Update"; "Customer: Exec summary" for a team's own template
    actor: str
    text: str
    fence: str  # a code fence longer than any run of backticks in the text
    note: str  # "on time", "late by 3 min", "taken back at 15:12 CET"


@dataclass(frozen=True)
class CommitRow:
    sha: str
    time: str
    author: str
    subject: str
    marks: str  # "deploy, migration, during deploy freeze, suspected"


@dataclass(frozen=True)
class TallyRow:
    count: str  # "1,234"
    type: str
    message: str


@dataclass(frozen=True)
class TallyBlock:
    label: str  # "at declaration"
    title: str  # "At declaration"
    recorded: str  # "15:00 CET" or ""
    window: str  # "60 min"
    total: str  # "1,234"
    rows: list[TallyRow] = field(default_factory=list)
    note: str = ""  # why there is nothing to show


# -- evidence helpers (for the UI) -----------------------------------------------------------------


# -- building ----------------------------------------------------------------------------------------


def _fmt_time(when: datetime, tz: tzinfo | None, start_day: Any) -> str:
    if local(when, tz).date() != start_day:
        return stamp(when, tz)
    return clock_time(when, tz, seconds=False)


def _hhmm(td: timedelta) -> str:
    minutes = max(0, int(td.total_seconds()) // 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _fence(text: str) -> str:
    longest = run = 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    return "`" * max(3, longest + 1)


def _zone_line(settings: Settings, when: datetime) -> str:
    loc = local(when, settings.tz)
    offset = loc.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    off = f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"
    if offset == timedelta(0) and loc.tzname() in ("UTC", "Z", "UTC+00:00"):
        return "All times are UTC."
    name = settings.timezone_name or "the local time of the machine that wrote this report"
    return f"All times are {name} ({loc.strftime('%Z')}, {off} at the start) unless marked UTC."


def _describe(incident: Incident, event: ev.Event, titles: Mapping[str, str]) -> str:
    """The journal's own words for an event, with phase and template names spelled out."""
    b = event.body
    pb = incident.playbook
    if isinstance(b, ev.PhaseChanged):
        names = {p.key: p.name for p in pb.phases}
        return f"Phase: {names.get(b.previous, b.previous)} → {names.get(b.phase, b.phase)}"
    if isinstance(b, ev.UpdateSent):
        title = titles.get(b.template) or b.template
        return f"{b.audience.capitalize()} update sent" + (f": {title}" if title else "")
    return event.describe()


def _timeline(
    incident: Incident, titles: Mapping[str, str], tz: tzinfo | None, day: Any
) -> list[TimelineEntry]:
    ordered = sorted(incident.events, key=lambda e: (e.at, e.seq))
    out = []
    for e in ordered:
        text = clean(_describe(incident, e, titles), max_len=300)
        if e.actor and not isinstance(e.body, ev.Observed | ev.EvidenceRecorded):
            text = f"{text} ({clean(e.actor, max_len=60)})"
        out.append(TimelineEntry(_fmt_time(e.at, tz, day), text))
    return out


def _phases(incident: Incident, now: datetime, tz: tzinfo | None, day: Any) -> list[PhaseRow]:
    spent = incident.phase_durations(now)
    rows = []
    for ph in incident.playbook.phases:
        entered = next((v.entered for v in incident.phase_visits if v.phase == ph.key), None)
        took = spent.get(ph.key, timedelta(0))
        visited = entered is not None
        note = ""
        if visited and ph.budget is not None and took > ph.budget:
            note = f"over budget by {human_duration(took - ph.budget)}"
        rows.append(
            PhaseRow(
                number=ph.number,
                name=ph.name,
                entered=_fmt_time(entered, tz, day) if entered else "—",
                spent=human_duration(took) if visited else "—",
                budget=describe_duration(ph.budget) if ph.budget else "—",
                note=note,
            )
        )
    return rows


def _checklists(incident: Incident, tz: tzinfo | None, day: Any) -> list[ChecklistBlock]:
    pb = incident.playbook
    lists = list(pb.checklists(incident.severity))
    # Actions of a severity the incident had earlier, if anything on them was ticked.
    ticked_lists = {t.checklist for t in incident.ticks.values()}
    for key in sorted(ticked_lists):
        if key.startswith("actions-") and key != f"actions-{incident.severity}":
            extra = pb.checklist(key)
            if extra is not None:
                lists.insert(0, extra)
    blocks = []
    for cl in lists:
        rows = []
        for item in cl.items:
            tick = incident.tick(cl.key, item.key)
            rows.append(
                ChecklistRow(
                    done=tick is not None,
                    text=clean(item.text, max_len=300),
                    ticked=_fmt_time(tick.at, tz, day) if tick else "",
                    by=clean(tick.actor, max_len=60) if tick else "",
                )
            )
        blocks.append(ChecklistBlock(clean(cl.title, max_len=100), rows))
    return blocks


def _update_rows(
    incident: Incident, titles: Mapping[str, str], tz: tzinfo | None, day: Any
) -> list[UpdateRow]:
    rows = []
    events = sorted(incident.events, key=lambda e: e.seq)
    for u in incident.updates:
        # When was this update owed? Fold the journal up to just before it.
        before = [e for e in events if e.seq < _seq_of(incident, u.event_id)]
        note = ""
        try:
            due = fold(before, incident.playbook).next_update_due(u.audience) if before else None
        except Exception:
            due = None
        if due is not None:
            note = "on time" if u.at <= due else f"late by {human_duration(u.at - due)}"
        if u.undone_at is not None:
            taken_back = f"taken back at {_fmt_time(u.undone_at, tz, day)}"
            note = f"{note}; {taken_back}" if note else taken_back
        text = clean(u.text, max_len=None, multiline=True)
        audience = clean(u.audience, max_len=20).capitalize()
        title = titles.get(u.template) or clean(u.template, max_len=80)
        if not title:
            title = f"{audience} update"
        elif not title.lower().startswith(audience.lower()):
            title = f"{audience}: {title}"
        rows.append(
            UpdateRow(
                time=_fmt_time(u.at, tz, day),
                audience=audience,
                title=title,
                actor=clean(u.actor, max_len=60),
                text=text,
                fence=_fence(text),
                note=note,
            )
        )
    return rows


def _seq_of(incident: Incident, event_id: str) -> int:
    return next((e.seq for e in incident.events if e.event_id == event_id), 0)


def _evidence(incident: Incident, source: str) -> list[tuple[ev.Event, ev.EvidenceRecorded]]:
    out = []
    for e in sorted(incident.events, key=lambda e: (e.at, e.seq)):
        if isinstance(e.body, ev.EvidenceRecorded) and e.body.source == source:
            out.append((e, e.body))
    return out


def _parse_tally(body: ev.EvidenceRecorded) -> tuple[int, list[TallyRow], int] | str:
    try:
        data = json.loads(body.data)
    except json.JSONDecodeError as exc:
        return f"not JSON ({exc.msg})"
    except (ValueError, RecursionError):  # a number of 5,000 digits; nesting 100,000 deep
        return "not JSON a tally can hold"
    if not isinstance(data, dict):
        return "not a JSON object"
    window = data.get("window_minutes", 60)
    rows_raw = data.get("rows", [])
    if not isinstance(window, int) or isinstance(window, bool) or window <= 0:
        return "window_minutes is not a positive whole number"
    if not isinstance(rows_raw, list):
        return "rows is not a list"
    rows = []
    counted = 0
    for r in rows_raw:
        if not isinstance(r, dict):
            return "a row is not an object"
        count = r.get("count", 0)
        if not isinstance(count, int) or isinstance(count, bool):
            return "a row's count is not a whole number"
        counted += count
        rows.append(
            TallyRow(
                f"{count:,}", clean(r.get("type", ""), max_len=200), clean(r.get("message", ""), max_len=300)
            )
        )
    total = data.get("total", counted)
    if not isinstance(total, int) or isinstance(total, bool):
        return "total is not a whole number"
    return window, rows, total


def _tallies(incident: Incident, tz: tzinfo | None, day: Any) -> list[TallyBlock]:
    parsed: dict[str, tuple[ev.Event, tuple[int, list[TallyRow], int] | str]] = {}
    for event, body in _evidence(incident, ERRORS_SOURCE):
        if body.label not in TALLY_LABELS:
            continue
        result = _parse_tally(body)
        if body.label == PEAK and body.label in parsed:
            prev = parsed[PEAK][1]
            if isinstance(result, tuple) and isinstance(prev, tuple) and result[2] < prev[2]:
                continue
        parsed[body.label] = (event, result)
    blocks = []
    for label in TALLY_LABELS:
        title = TALLY_TITLES[label]
        if label not in parsed:
            note = f"No error tally was recorded {_label_words(label)}."
            blocks.append(TallyBlock(label, title, "", "", "", note=note))
            continue
        event, result = parsed[label]
        when = _fmt_time(event.at, tz, day)
        if isinstance(result, str):
            blocks.append(
                TallyBlock(
                    label, title, when, "", "", note=f"The tally recorded at {when} cannot be read: {result}."
                )
            )
            continue
        window, rows, total = result
        blocks.append(
            TallyBlock(
                label,
                title,
                when,
                describe_duration(timedelta(minutes=window)),
                f"{total:,}",
                rows,
                note="",
            )
        )
    return blocks


def _label_words(label: str) -> str:
    words = {AT_DECLARATION: "at the declaration", PEAK: "at the peak", AT_RESOLUTION: "at the resolution"}
    return words[label]


# -- commits -------------------------------------------------------------------------------------------


def as_commit_line(commit: CommitLine | Commit) -> CommitLine:
    """A :class:`CommitLine` (cleaned and bounded) from one, or from the git source's Commit."""
    if isinstance(commit, CommitLine):
        return clean_commit(commit)
    return clean_commit(
        CommitLine(
            sha=commit.short_sha,
            subject=commit.subject,
            author=commit.author,
            at=commit.committed_at,
            deploy=commit.is_deploy,
            migration=commit.is_migration,
            freeze_breach=commit.freeze_breach,
        )
    )


def _lookup_commits(
    settings: Settings, incident: Incident, start: datetime, end: datetime, now: datetime
) -> tuple[list[CommitLine], str]:
    if settings.git.repo is None:
        return [], "No git repository configured ([git] repo in warroom.toml, or --repo)."
    from warroom.sources.git import GitProblem, commits_between

    found = commits_between(settings.git, start, end, now=now, freeze=incident.freeze_intervals())
    if isinstance(found, GitProblem):
        return [], f"Commits not listed: {found.message}"
    return [as_commit_line(c) for c in found], ""


def _in_freeze(when: datetime, spans: Sequence[tuple[datetime, datetime | None]], end: datetime) -> bool:
    return any(s <= when <= (e or end) for s, e in spans)


def _commit_rows(
    incident: Incident,
    commits: Sequence[CommitLine],
    suspected_sha: str,
    start: datetime,
    end: datetime,
    tz: tzinfo | None,
    day: Any,
) -> list[CommitRow]:
    freeze = incident.freeze_intervals()
    picked = [c for c in commits if c.at is None or start <= c.at <= end]
    picked.sort(key=lambda c: (c.at is None, c.at or start))
    rows = []
    for c in picked:
        marks = []
        if c.deploy:
            marks.append("deploy")
        if c.migration:
            marks.append("migration")
        if c.freeze_breach or (c.at is not None and _in_freeze(c.at, freeze, end)):
            marks.append("during deploy freeze")
        if suspected_sha and c.sha and (c.sha.startswith(suspected_sha) or suspected_sha.startswith(c.sha)):
            marks.append("suspected")
        rows.append(
            CommitRow(
                sha=c.sha,
                time=_fmt_time(c.at, tz, day) if c.at else "unknown time",
                author=c.author or "unknown",
                subject=c.subject,
                marks=", ".join(marks),
            )
        )
    return rows


# -- the report ------------------------------------------------------------------------------------------


def report_context(
    incident: Incident,
    settings: Settings,
    *,
    now: datetime,
    commits: Sequence[CommitLine | Commit] | None = None,
    facts: LiveFacts | None = None,
    titles: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The context :func:`build_report` renders (the message context plus the report's rows)."""
    now = utc(now)
    tz = settings.tz
    ctx = build_context(incident, settings, facts, now)
    end = incident.end(now)
    day = local(incident.declared_at, tz).date()

    severity_note = ""
    history = incident.severity_history
    if len(history) > 1:
        steps = [f"declared {history[0][1]}"]
        steps += [f"{sev} from {_fmt_time(at, tz, day)}" for at, sev, _ in history[1:]]
        severity_note = "; ".join(steps)

    summary: str = Placeholder("[Brief description of what happened]")
    for e in reversed(incident.events):
        if isinstance(e.body, ev.Resolved) and e.body.summary.strip():
            summary = clean(e.body.summary, max_len=2000, multiline=True)
            break

    # The suspected deploy: the live facts, else what the console journaled.
    suspected_sha = ""
    deploy_records = _evidence(incident, DEPLOY_SOURCE)
    if deploy_records:
        body = deploy_records[-1][1]
        try:
            data = json.loads(body.data) if body.data else {}
            if isinstance(data, dict) and isinstance(data.get("sha"), str):
                suspected_sha = clean(data["sha"], max_len=40)
        except (ValueError, RecursionError):  # not JSON, or JSON nobody wrote on purpose
            pass
        if isinstance(ctx["suspected_deploy"], Placeholder) and body.summary.strip():
            ctx["suspected_deploy"] = clean(body.summary, max_len=300)

    window_start = incident.declared_at - settings.git.recent
    if commits is None:
        lines, commits_note = _lookup_commits(settings, incident, window_start, end, now)
    else:
        lines, commits_note = [as_commit_line(c) for c in commits], ""
    commit_rows = _commit_rows(incident, lines, suspected_sha, window_start, end, tz, day)
    if not commit_rows and not commits_note:
        commits_note = "No commits landed in this window."
    before = describe_duration(settings.git.recent)
    commits_window = (
        f"Commits that landed from {_fmt_time(window_start, tz, day)} ({before} before the declaration) "
        f"to {_fmt_time(end, tz, day)}"
        + (" (the resolution)" if incident.resolved_at else " (now; still open)")
        + ", oldest first."
    )

    def took(td: timedelta | None) -> str:
        return human_duration(td) if td is not None else "not reached"

    ctx.update(
        {
            "zone_line": _zone_line(settings, incident.declared_at),
            "duration_hhmm": human_duration(incident.elapsed(now)),  # one format everywhere
            "severity_note": severity_note,
            "summary": summary,
            "timeline": _timeline(incident, titles or {}, tz, day),
            "phases": _phases(incident, now, tz, day),
            "time_to_triage": took(incident.time_to_triage()),
            "time_to_mitigate": took(incident.time_to_mitigate()),
            "time_to_resolve": took(incident.time_to_resolve()),
            "checklists": _checklists(incident, tz, day),
            "updates": _update_rows(incident, titles or {}, tz, day),
            "commits": commit_rows,
            "commits_window": commits_window,
            "commits_note": commits_note,
            "tallies": _tallies(incident, tz, day),
            "generated": Stamp.of(now, tz),
            "version": __version__,
            "event_count": len(incident.events),
        }
    )
    return ctx


def build_report(
    incident: Incident,
    settings: Settings,
    *,
    now: datetime,
    commits: Sequence[CommitLine | Commit] | None = None,
    facts: LiveFacts | None = None,
    templates: TemplateSet | None = None,
) -> str:
    """The report in Markdown. ``commits``: the commits to list (CommitLine or the git source's
    Commit objects); None looks them up with ``warroom.sources.git.commits_between`` (a failure
    becomes a one-line note in the report). Raises :class:`ReportError` when the report template
    cannot be rendered."""
    ts = templates or TemplateSet.from_settings(settings)
    titles = {i.name: i.title for i in ts.templates()}
    ctx = report_context(incident, settings, now=now, commits=commits, facts=facts, titles=titles)
    info = ts.get(REPORT)
    if info is None:
        problems = "; ".join(ts.problems) or "no incident_report template"
        raise ReportError(f"cannot write the report: {problems}")
    result = ts.render(info, ctx)
    if result.error is not None or result.text is None:
        raise ReportError(f"cannot write the report: {result.error}")
    return result.text.rstrip("\n") + "\n"


def write_report(path: Path, text: str) -> None:
    """Write the report for its owner only (0600), atomically; raises OSError (a symbolic link
    or a folder is refused, a device or a pipe is written in place; see
    :func:`warroom.files.write_private`)."""
    write_private(Path(path), text.encode("utf-8"))
