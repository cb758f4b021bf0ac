"""The post-incident report: the playbook's incident log template, filled from the journal.

:func:`build_report` renders ``templates/incident_report.md.j2`` (a team may override it like any
other template) with the message context (:func:`warroom.comms.context.build_context`) plus:

==================  ==================================================================================
zone_line           "All times are Europe/Berlin (CET, UTC+01:00) unless marked UTC."
duration_hhmm       ``40m 00s`` (the one duration format, for the playbook's ``Duration: [HH:MM]``)
review_due          when the post-incident review is due, with its date ("" while open)
severity_note       ``declared P1; P0 from 15:04 CET`` ("" when the severity never changed)
summary             the summary field (``e``); else the resolution's words when they differ from the
                    resolution field; else the placeholder
milestones          list of :class:`MilestoneRow`: detected, investigating, root cause identified,
                    mitigation applied, resolved, each with its time (or ``not reached``)
timeline            list of :class:`TimelineEntry` (time, text): the journal, condensed
                    (:mod:`warroom.comms.timeline`)
phases              list of :class:`PhaseRow` (number, name, entered, spent, budget, note)
time_to_triage      ``4m 00s`` (declaration until Investigation began), or ``not reached``
time_to_mitigate    declaration until Recovery & Verification began (the mitigation was in place)
time_to_resolve     declaration until resolution
checklists          list of :class:`ChecklistBlock` (title, items of :class:`ChecklistRow`)
updates             list of :class:`UpdateRow`: every update confirmed sent, with its text
copied              list of :class:`UpdateRow`: messages copied and never confirmed sent
action_items        list of :class:`ActionRow` captured during the incident (text, owner, due)
went_well           the lessons that went well (list of str); ``to_improve`` what could be improved
commits             list of :class:`CommitRow` in the window (``git.recent`` before the declaration
                    until the end), oldest first; ``commits_window`` says the window and
                    ``commits_note`` why there are none (no repository, git source failed...)
rates               list of :class:`~warroom.comms.report_errors.RateRow`: errors per minute at
                    declaration, at the peak, at resolution; ``errors_sparkline`` the whole
                    incident's minutes; ``top_errors`` the top errors before the peak (or None)
generated           :class:`~warroom.comms.context.Stamp` of ``now``; ``version``; ``event_count``
==================  ==================================================================================

Error evidence is described in :mod:`warroom.comms.evidence`; a suspected deploy is recorded as
``EvidenceRecorded(source="deploy", label="suspected", data={"sha": ...}, summary="errors rose 4
min after deploy a1b2c3d")``; the report prefers ``facts.suspected_deploy``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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
    DEPLOY_SOURCE,
)
from warroom.comms.report_errors import errors_records, rates, sparkline_text
from warroom.comms.templates import MAX_MESSAGE_OUTPUT, REPORT, TemplateSet
from warroom.comms.timeline import condensed
from warroom.durations import clock_time, local, stamp, utc
from warroom.files import write_private
from warroom.incident import events as ev
from warroom.incident.state import Incident, fold
from warroom.text import clean

if TYPE_CHECKING:
    from warroom.settings import Settings
    from warroom.sources.git import Commit


MARKED_SENT = "marked sent"  # the template name `u` records: an update marked sent without a copy


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
    owner: str = ""  # who owns it ("" when nobody was named)


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
class MilestoneRow:
    time: str  # "15:05 CET" or "not reached"
    name: str


@dataclass(frozen=True)
class ActionRow:
    text: str
    owner: str  # the placeholder when nobody was named
    due: str


# -- evidence helpers (for the UI) -----------------------------------------------------------------


# -- building ----------------------------------------------------------------------------------------


def _fmt_time(when: datetime, tz: tzinfo | None, start_day: Any) -> str:
    if local(when, tz).date() != start_day:
        return stamp(when, tz)
    return clock_time(when, tz, seconds=False)


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
        if b.template in ("", MARKED_SENT) and not b.text.strip():
            return f"{b.audience.capitalize()} update marked sent (no copied text)"
        title = titles.get(b.template) or b.template
        return f"{b.audience.capitalize()} update sent" + (f": {title}" if title else "")
    return event.describe()


def _timeline(
    incident: Incident, titles: Mapping[str, str], tz: tzinfo | None, day: Any
) -> list[TimelineEntry]:
    lines = condensed(incident, titles, lambda e: _describe(incident, e, titles))
    return [TimelineEntry(_fmt_time(line.at, tz, day), line.text) for line in lines]


def _milestones(incident: Incident, tz: tzinfo | None, day: Any) -> list[MilestoneRow]:
    return [
        MilestoneRow(_fmt_time(m.at, tz, day) if m.at else "not reached", m.name)
        for m in incident.milestones()
    ]


def _action_items(incident: Incident) -> list[ActionRow]:
    return [
        ActionRow(
            clean(a.text, max_len=500),
            clean(a.owner, max_len=100) or Placeholder("[NAME]"),
            clean(a.due, max_len=100) or Placeholder("[DATE]"),
        )
        for a in incident.action_items
    ]


def _lessons(incident: Incident, went_well: bool) -> list[str]:
    return [clean(x.text, max_len=500) for x in incident.lessons if x.went_well == went_well]


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
                budget=human_duration(ph.budget) if ph.budget else "—",
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
                    owner=clean(incident.owner(cl.key, item.key), max_len=100),
                )
            )
        blocks.append(ChecklistBlock(clean(cl.title, max_len=100), rows))
    return blocks


def _title(titles: Mapping[str, str], template: str, audience: str) -> str:
    title = titles.get(template) or ("" if template in ("", MARKED_SENT) else clean(template, max_len=80))
    if not title:
        return f"{audience} update" if audience else "Message"
    if audience and not title.lower().startswith(audience.lower()):
        return f"{audience}: {title}"
    return title


def _update_rows(
    incident: Incident, titles: Mapping[str, str], tz: tzinfo | None, day: Any
) -> list[UpdateRow]:
    """Every update confirmed sent, with the text it confirmed (its copy's when it names one)."""
    rows = []
    events = incident.events  # in the order they were folded (the same on every console)
    copies = {c.event_id: c for c in incident.copies}
    for u in incident.updates:
        # When was this update owed? Fold the journal up to just before it.
        before = events[: _position_of(incident, u.event_id)]
        notes = []
        try:
            due = fold(before, incident.playbook).next_update_due(u.audience) if before else None
        except Exception:
            due = None
        if due is not None:
            notes.append("on time" if u.at <= due else f"late by {human_duration(u.at - due)}")
        copied = copies.get(u.copy)
        raw, template = (u.text, u.template)
        if not raw.strip() and copied is not None:
            raw, template = copied.text, copied.template
        text = clean(raw, max_len=MAX_MESSAGE_OUTPUT, multiline=True)  # no message renders longer
        if not text.strip():
            notes.append("marked sent; no copied text")
        if u.undone_at is not None:
            notes.append(f"taken back at {_fmt_time(u.undone_at, tz, day)}")
        audience = clean(u.audience, max_len=20).capitalize()
        rows.append(
            UpdateRow(
                time=_fmt_time(u.at, tz, day),
                audience=audience,
                title=_title(titles, template, audience),
                actor=clean(u.actor, max_len=60),
                text=text if text.strip() else "",
                fence=_fence(text),
                note="; ".join(notes),
            )
        )
    return rows


def _copied_rows(
    incident: Incident, titles: Mapping[str, str], tz: tzinfo | None, day: Any
) -> list[UpdateRow]:
    """Messages copied and never confirmed sent (or whose update was taken back)."""
    confirmed = {u.copy for u in incident.updates if u.copy and u.undone_at is None}
    rows = []
    for c in incident.copies:
        if c.event_id in confirmed:
            continue
        text = clean(c.text, max_len=MAX_MESSAGE_OUTPUT, multiline=True)
        audience = clean(c.audience, max_len=20).capitalize()
        rows.append(
            UpdateRow(
                time=_fmt_time(c.at, tz, day),
                audience=audience,
                title=_title(titles, c.template, audience),
                actor=clean(c.actor, max_len=60),
                text=text if text.strip() else "",
                fence=_fence(text),
                note="",
            )
        )
    return rows


def _position_of(incident: Incident, event_id: str) -> int:
    return next((i for i, e in enumerate(incident.events) if e.event_id == event_id), 0)


def _evidence(incident: Incident, source: str) -> list[tuple[ev.Event, ev.EvidenceRecorded]]:
    out = []
    for e in sorted(incident.events, key=lambda e: e.at):  # stable: folded order breaks ties
        if isinstance(e.body, ev.EvidenceRecorded) and e.body.source == source:
            out.append((e, e.body))
    return out


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


def _same_sha(a: str, b: str) -> bool:
    return bool(a and b) and (a.startswith(b) or b.startswith(a))


def _reverts(subject: str, suspect: CommitLine | None, suspected_sha: str) -> bool:
    """``git revert`` writes ``Revert "<subject>"``; a team may name the sha instead."""
    if not suspected_sha or not subject.lower().startswith("revert"):
        return False
    named = suspect is not None and bool(suspect.subject) and suspect.subject in subject
    return named or suspected_sha[:7] in subject


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
    suspect = next((c for c in commits if _same_sha(c.sha, suspected_sha)), None) if suspected_sha else None
    fixes = {sha for sha, role in incident.marked_commits.items() if role == "fix"}
    picked.sort(key=lambda c: (c.at is None, c.at or start))
    rows = []
    for c in picked:
        marks = []
        if c.deploy:
            marks.append("deploy")
        if c.migration:
            marks.append("migration")
        is_fix = any(_same_sha(c.sha, sha) for sha in fixes) or _reverts(c.subject, suspect, suspected_sha)
        if is_fix:
            marks.append("the fix")  # a mitigation, not a freeze breach
        elif c.freeze_breach or (c.at is not None and _in_freeze(c.at, freeze, end)):
            marks.append("during deploy freeze")
        if suspected_sha and _same_sha(c.sha, suspected_sha):
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
    resolution_words = incident.fields.get("resolution", "").strip()
    if incident.fields.get("summary", "").strip():
        summary = clean(incident.fields["summary"], max_len=2000, multiline=True)
    else:
        for e in reversed(incident.events):
            said = e.body.summary.strip() if isinstance(e.body, ev.Resolved) else ""
            if said and said != resolution_words:  # the resolution has its own section
                summary = clean(said, max_len=2000, multiline=True)
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
    before = human_duration(settings.git.recent)
    commits_window = (
        f"Commits that landed from {_fmt_time(window_start, tz, day)} ({before} before the declaration) "
        f"to {_fmt_time(end, tz, day)}"
        + (" (the resolution)" if incident.resolved_at else " (now; still open)")
        + ", oldest first."
    )

    def when(at: datetime) -> str:
        return _fmt_time(at, tz, day)

    records = errors_records(incident)
    rate_rows, top_errors = rates(records, when, incident.declared_at, end)
    review = incident.review_due()

    def took(td: timedelta | None) -> str:
        return human_duration(td) if td is not None else "not reached"

    ctx.update(
        {
            "zone_line": _zone_line(settings, incident.declared_at),
            "duration_hhmm": human_duration(incident.elapsed(now)),  # one format everywhere
            "severity_note": severity_note,
            "summary": summary,
            "milestones": _milestones(incident, tz, day),
            "timeline": _timeline(incident, titles or {}, tz, day),
            "phases": _phases(incident, now, tz, day),
            "time_to_triage": took(incident.time_to_triage()),
            "time_to_mitigate": took(incident.time_to_mitigate()),
            "time_to_resolve": took(incident.time_to_resolve()),
            "checklists": _checklists(incident, tz, day),
            "updates": _update_rows(incident, titles or {}, tz, day),
            "copied": _copied_rows(incident, titles or {}, tz, day),
            "action_items": _action_items(incident),
            "went_well": _lessons(incident, True),
            "to_improve": _lessons(incident, False),
            "review_due": stamp(review, tz) if review is not None else "",
            "commits": commit_rows,
            "commits_window": commits_window,
            "commits_note": commits_note,
            "rates": rate_rows,
            "top_errors": top_errors,
            "errors_sparkline": sparkline_text(records, incident.declared_at, end, when),
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
