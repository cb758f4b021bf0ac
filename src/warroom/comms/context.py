"""The template context: everything the console knows about an incident, ready for a message.

:func:`build_context` turns an :class:`~warroom.incident.state.Incident`, the settings, the live
facts the sources saw (:class:`LiveFacts`) and ``now`` into a plain ``dict`` whose keys are always
the same (:data:`CONTEXT_KEYS`). A field the responder has not filled is a :class:`Placeholder`:
a ``str`` holding the playbook's bracketed placeholder (``[ROOT_CAUSE_THEORY]``), so the message
still reads like the playbook and the preview can highlight what is missing.

Keys (every string is cleaned with :func:`warroom.text.clean`):

==========================  =====================================================================
id                          ``INC-2026-11-26-001``
severity                    ``P0``; ``severity_name`` ``Critical``; ``severity_label`` ``P0 - Critical``
status                      the status line: Investigating / Mitigating / Monitoring / Resolved / Closed
phase                       the current phase's name (``Investigation``)
title                       placeholder ``[BRIEF_DESCRIPTION]``
impact                      placeholder ``[USER_IMPACT]``
lead                        the incident lead without a leading ``@``; placeholder ``[NAME]``
channel                     the incident channel; placeholder ``#incident-YYYY-MM-DD-HH-MM``
feature                     the affected feature (customer messages); placeholder ``[FEATURE]``
is_open, resolved           booleans
deploy_freeze               True while the severity calls for a deploy freeze (P0)
was_frozen                  True if a deploy freeze held at any time (the all-clear line)
start, now, end             :class:`Stamp`; ``end`` is the resolution (placeholder ``[TIMESTAMP]``)
next_internal_update        :class:`Stamp`: when the next internal update is owed *if this message
                            goes out now* (``now`` + the severity's internal cadence; every
                            internal template counts as an update, see templates.py);
                            placeholder ``[TIME]`` when there is no cadence or it is resolved
next_customer_update        the same for customers (placeholder ``[TIME]``)
internal_update_due         :class:`Stamp`: when the countdown says the next internal update is
customer_update_due         owed right now (``Incident.next_update_due``); placeholder ``[TIME]``
review_at                   :class:`Stamp`: resolution + ``playbook.review_within``; ``[DATE/TIME]``
elapsed                     ``1 h 5 min``: declaration to now (to the resolution once resolved)
duration                    the same value (``Duration:`` / ``Issue duration:`` lines)
internal_cadence            ``15 minutes``; placeholder ``[INTERVAL]`` when the severity has none
customer_cadence            ``30 minutes``; placeholder ``[INTERVAL]``
completed_actions           ticked checklist items, in the order they were ticked, joined with
                            ``"; "``; placeholder ``[COMPLETED_ACTIONS]``
in_progress_actions         the open items of the checklists that belong to the current phase;
                            when there are none, the current phase's name (the phase is what is in
                            progress, e.g. ``Mitigation``); placeholder ``[IN_PROGRESS_ACTIONS]``
                            once resolved
planned_actions             the open items of the next phase that has any; placeholder
                            ``[PLANNED_ACTIONS]``. Each of the three joined lines names at most
                            five actions, then ``(+N more)``
*_actions_list              the same three as lists of strings
theory                      current theory; placeholder ``[ROOT_CAUSE_THEORY]``
eta                         ETA to resolution; placeholder ``[ESTIMATE]``
users_affected              placeholder ``[COUNT]``
services_affected           the responder's list plus the degraded status-page components not
                            already named, joined with ``", "``; placeholder ``[LIST]``
services_affected_list      the same as a list
revenue_impact              placeholder ``[$ AMOUNT or NONE]``
data_loss                   placeholder ``[NONE/DETAILS]``
root_cause                  placeholder ``[ROOT_CAUSE]``
resolution                  what was done; placeholder ``[WHAT_WAS_DONE]``
top_errors                  list of :class:`ErrorLine` (type, message, count), largest first
errors_summary              ``TimeoutError: pool exhausted (1,234); ...`` (top 3); ``[ERRORS]``
error_rate                  placeholder ``[ERROR_RATE]``
db_health                   one line; placeholder ``[DB_HEALTH]``
suspected_deploy            one line; placeholder ``[SUSPECTED_DEPLOY]``
degraded_components         list of strings
recent_commits              list of :class:`CommitLine` from the live facts (newest first)
status_page_link            the team's own status page; placeholder ``[STATUS_PAGE_LINK]``
timezone                    the display zone: ``Europe/Berlin``, or ``local time (CET)``
==========================  =====================================================================

Checklists belong to phases as the playbook orders them: the severity's actions to Detection &
Triage, the investigation checklist to Investigation, the verification checklist and the
"when to declare resolved" criteria to Recovery & Verification. Open items of phases already
left are neither in progress nor planned (they were passed over) and are not listed.

Times: :class:`Stamp` renders as local time with its zone and UTC,
``2026-11-26 15:00 CET (14:00 UTC)``; ``.time`` is ``15:00 CET (14:00 UTC)``; ``.local``,
``.local_time``, ``.utc``, ``.utc_time`` and ``.iso`` give one form each. The display zone is
``settings.tz`` (None: the machine's local zone).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from warroom.durations import clock_time, format_duration, local, stamp, utc
from warroom.text import clean

if TYPE_CHECKING:
    from warroom.incident.state import Incident
    from warroom.playbook import Checklist, Playbook
    from warroom.settings import Settings


class Placeholder(str):
    """A field nobody has filled: the playbook's bracketed placeholder, e.g. ``[ESTIMATE]``."""

    __slots__ = ()


def is_placeholder(value: object) -> bool:
    return isinstance(value, Placeholder) or (isinstance(value, Stamp) and value.missing)


# -- live facts (filled by the UI from the sources; primitives only) ---------------------------


@dataclass(frozen=True)
class ErrorLine:
    """One row of the error tally: the playbook's ``error_type, error_message, COUNT(*)``."""

    type: str
    message: str
    count: int


@dataclass(frozen=True)
class CommitLine:
    """One commit as the report lists it."""

    sha: str  # short sha
    subject: str
    author: str = ""
    at: datetime | None = None  # aware UTC (committer date)
    deploy: bool = False
    migration: bool = False
    freeze_breach: bool = False
    fix: bool = False  # marked as the fix, or a revert of the suspect: a mitigation, not a breach


@dataclass(frozen=True)
class LiveFacts:
    """What the sources saw last; every field may be empty (the source is down or not set up).

    The UI fills it from the latest snapshots; strings need not be cleaned (build_context does)."""

    top_errors: Sequence[ErrorLine] = ()
    db_health: str | None = None  # "12/100 connections, 3 running, longest query 4 s"
    suspected_deploy: str | None = None  # "a1b2c3d Deploy checkout v2 (errors rose 4 min later)"
    degraded_components: Sequence[str] = ()  # "Twilio: SMS (major outage)"
    status_page_link: str | None = None  # the team's own status page
    error_rate: str | None = None  # "12.5% of requests"
    commits: Sequence[CommitLine] = ()  # recent commits, newest first (the report may use them)


# -- times ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stamp:
    """One instant in the forms a message needs; a missing one renders as its placeholder."""

    full: str  # 2026-11-26 15:00 CET (14:00 UTC)
    time: str  # 15:00 CET (14:00 UTC)
    local: str  # 2026-11-26 15:00 CET
    local_time: str  # 15:00 CET
    utc: str  # 2026-11-26 14:00 UTC
    utc_time: str  # 14:00 UTC
    iso: str  # 2026-11-26T14:00:00Z
    missing: bool = False

    def __str__(self) -> str:
        return self.full

    @classmethod
    def of(cls, when: datetime, tz: tzinfo | None) -> Stamp:
        at = utc(when)
        loc = local(at, tz)
        local_time = clock_time(at, tz, seconds=False)
        local_full = stamp(at, tz)
        utc_time = at.strftime("%H:%M UTC")
        utc_full = at.strftime("%Y-%m-%d %H:%M UTC")
        if loc.utcoffset() == timedelta(0) and loc.tzname() in ("UTC", "Z", "UTC+00:00"):
            time, full = utc_time, utc_full
        else:
            time = f"{local_time} ({utc_time})"
            same_day = loc.date() == at.date()
            full = f"{local_full} ({utc_time if same_day else utc_full})"
        return cls(full, time, local_full, local_time, utc_full, utc_time, at.strftime("%Y-%m-%dT%H:%M:%SZ"))

    @classmethod
    def unknown(cls, placeholder: str) -> Stamp:
        p = Placeholder(placeholder)
        return cls(p, p, p, p, p, p, p, missing=True)


def human_duration(td: timedelta) -> str:
    """An elapsed time as everywhere in warroom (``20m 17s``, ``1h 05m``), never negative."""
    return format_duration(max(timedelta(0), td))


def cadence_text(td: timedelta) -> str:
    """The playbook's words for a cadence: ``15 minutes``, ``1 hour``, ``90 minutes``."""
    minutes = int(td.total_seconds() // 60)
    if minutes >= 60 and minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour" + ("s" if hours != 1 else "")
    if minutes < 1:
        seconds = int(td.total_seconds())
        return f"{seconds} second" + ("s" if seconds != 1 else "")
    return f"{minutes} minute" + ("s" if minutes != 1 else "")


def zone_name(settings: Settings, when: datetime) -> str:
    """``Europe/Berlin``, or ``local time (CET)`` when the machine's zone is used."""
    if settings.timezone_name:
        return settings.timezone_name
    return f"local time ({local(when, None).strftime('%Z')})"


# -- fields ----------------------------------------------------------------------------------------

# The placeholder each responder-edited field shows while empty (the playbook's words).
FIELD_PLACEHOLDERS: dict[str, str] = {
    "title": "[BRIEF_DESCRIPTION]",
    "impact": "[USER_IMPACT]",
    "lead": "[NAME]",
    "theory": "[ROOT_CAUSE_THEORY]",
    "eta": "[ESTIMATE]",
    "users_affected": "[COUNT]",
    "services_affected": "[LIST]",
    "revenue_impact": "[$ AMOUNT or NONE]",
    "data_loss": "[NONE/DETAILS]",
    "root_cause": "[ROOT_CAUSE]",
    "resolution": "[WHAT_WAS_DONE]",
    "feature": "[FEATURE]",
}
CHANNEL_PLACEHOLDER = "#incident-YYYY-MM-DD-HH-MM"
FIELD_MAX = 2000  # characters kept of one field

CONTEXT_KEYS: frozenset[str] = frozenset(
    {
        "id",
        "severity",
        "severity_name",
        "severity_label",
        "status",
        "phase",
        "title",
        "impact",
        "lead",
        "channel",
        "feature",
        "is_open",
        "resolved",
        "deploy_freeze",
        "was_frozen",
        "start",
        "now",
        "end",
        "next_internal_update",
        "next_customer_update",
        "internal_update_due",
        "customer_update_due",
        "review_at",
        "elapsed",
        "duration",
        "internal_cadence",
        "customer_cadence",
        "completed_actions",
        "in_progress_actions",
        "planned_actions",
        "completed_actions_list",
        "in_progress_actions_list",
        "planned_actions_list",
        "theory",
        "eta",
        "users_affected",
        "services_affected",
        "services_affected_list",
        "revenue_impact",
        "data_loss",
        "root_cause",
        "resolution",
        "top_errors",
        "errors_summary",
        "error_rate",
        "db_health",
        "suspected_deploy",
        "degraded_components",
        "recent_commits",
        "status_page_link",
        "timezone",
    }
)


def _text(value: object, placeholder: str, *, max_len: int = FIELD_MAX) -> str:
    text = clean(value, max_len=max_len, multiline=True).strip()
    return text if text else Placeholder(placeholder)


ACTIONS_SHOWN = 5  # a status update names at most this many actions per line, then "(+N more)"


def _most(items: list[str], limit: int = ACTIONS_SHOWN) -> list[str]:
    if len(items) <= limit:
        return items
    return [*items[:limit], f"(+{len(items) - limit} more)"]


def _joined(items: list[str], sep: str, placeholder: str) -> str:
    return sep.join(items) if items else Placeholder(placeholder)


# -- actions ---------------------------------------------------------------------------------------

# Which phase each checklist belongs to (by phase key; the severity's actions are "triage").
CHECKLIST_PHASES: dict[str, str] = {
    "actions": "triage",
    "investigation": "investigation",
    "verification": "recovery",
    "resolution": "recovery",
}


def _checklist_phase(checklist: Checklist) -> str:
    if checklist.key.startswith("actions-"):
        return CHECKLIST_PHASES["actions"]
    return CHECKLIST_PHASES.get(checklist.key, "")


def _item_text(incident: Incident, checklist: str, item: str) -> str:
    cl = incident.playbook.checklist(checklist)
    found = cl.item(item) if cl is not None else None
    if found is not None:
        return found.text
    # An item the playbook no longer has (the team changed its checklists): use what was ticked.
    from warroom.incident import events as ev

    for event in reversed(incident.events):
        b = event.body
        if isinstance(b, ev.ItemTicked) and b.checklist == checklist and b.item == item and b.text:
            return b.text
    return item


@dataclass
class ActionLists:
    completed: list[str] = field(default_factory=list)
    in_progress: list[str] = field(default_factory=list)
    planned: list[str] = field(default_factory=list)


def action_lists(incident: Incident) -> ActionLists:
    """Completed (ticked, by tick time), in progress (the current phase's open items) and planned
    (the open items of the next phase that has any) actions, each text once."""
    pb = incident.playbook
    out = ActionLists()
    seen: set[str] = set()
    for tick in sorted(incident.ticks.values(), key=lambda t: t.at):
        text = clean(tick.text or _item_text(incident, tick.checklist, tick.item), max_len=300)
        if text and text not in seen:
            seen.add(text)
            out.completed.append(text)
    if not incident.is_open:
        return out
    current = pb.phase_index(incident.phase)
    planned_phase = -1
    for checklist in pb.checklists(incident.severity):
        phase = _checklist_phase(checklist)
        try:
            idx = pb.phase_index(phase)
        except ValueError:
            continue
        if idx < current:
            continue
        if idx > current and out.planned and idx != planned_phase:
            continue  # only the next phase with open items: a status update, not the whole playbook
        target = out.in_progress if idx == current else out.planned
        if idx > current:
            planned_phase = idx
        for it in checklist.items:
            if incident.tick(checklist.key, it.key) is None and it.text not in seen:
                seen.add(it.text)
                target.append(clean(it.text, max_len=300))
    if not out.in_progress:
        out.in_progress.append(pb.phase(incident.phase).name)
    return out


# -- the context -----------------------------------------------------------------------------------


def _services(field_value: str, degraded: Sequence[str]) -> list[str]:
    items: list[str] = []
    if field_value:
        items.append(field_value)
    named = field_value.lower()
    for comp in degraded:
        c = clean(comp, max_len=200)
        if c and c.lower() not in named and c not in items:
            items.append(c)
    return items


def _errors_summary(rows: Sequence[ErrorLine]) -> str:
    parts = []
    for row in rows[:3]:
        what = f"{row.type}: {row.message}" if row.message else row.type
        parts.append(f"{what} ({row.count:,})")
    return _joined(parts, "; ", "[ERRORS]")


def clean_commit(c: CommitLine) -> CommitLine:
    """A commit line with its text cleaned and bounded (it comes from a repository)."""
    return CommitLine(
        sha=clean(c.sha, max_len=40),
        subject=clean(c.subject, max_len=200),
        author=clean(c.author, max_len=80),
        at=utc(c.at) if c.at is not None else None,
        deploy=bool(c.deploy),
        migration=bool(c.migration),
        freeze_breach=bool(c.freeze_breach),
        fix=bool(c.fix),
    )


def _clean_errors(rows: Sequence[ErrorLine]) -> list[ErrorLine]:
    out = []
    for r in rows:
        try:
            count = int(r.count)
        except (TypeError, ValueError):
            count = 0
        out.append(ErrorLine(clean(r.type, max_len=200), clean(r.message, max_len=300), count))
    out.sort(key=lambda r: -r.count)
    return out


def build_context(
    incident: Incident,
    settings: Settings,
    facts: LiveFacts | None,
    now: datetime,
) -> dict[str, Any]:
    """Everything a template may use (see the module docstring for each key)."""
    facts = facts or LiveFacts()
    now = utc(now)
    tz = settings.tz
    pb = incident.playbook
    sev = pb.severity(incident.severity)
    f = incident.fields

    def stamp_or(when: datetime | None, placeholder: str) -> Stamp:
        return Stamp.of(when, tz) if when is not None else Stamp.unknown(placeholder)

    def next_after_send(audience: str) -> Stamp:
        cadence = incident.cadence(audience)
        if not incident.is_open or cadence is None or cadence <= timedelta(0):
            return Stamp.unknown("[TIME]")
        return Stamp.of(now + cadence, tz)

    def cadence(audience: str) -> str:
        c = sev.internal_update if audience == "internal" else sev.customer_update
        return cadence_text(c) if c else Placeholder("[INTERVAL]")

    fields = {name: _text(f.get(name, ""), ph) for name, ph in FIELD_PLACEHOLDERS.items()}
    lead = fields["lead"]
    if not isinstance(lead, Placeholder):
        fields["lead"] = _text(lead.lstrip("@").strip(), FIELD_PLACEHOLDERS["lead"])
    named = fields["services_affected"]
    services = _services("" if isinstance(named, Placeholder) else named, facts.degraded_components)
    actions = action_lists(incident)
    errors = _clean_errors(facts.top_errors)
    elapsed = human_duration(incident.elapsed(now))
    review = incident.review_due()

    ctx: dict[str, Any] = {
        "id": incident.id,
        "severity": sev.key,
        "severity_name": sev.name,
        "severity_label": sev.label,
        "status": incident.status_text,
        "phase": pb.phase(incident.phase).name,
        **fields,
        "channel": _text(incident.channel, CHANNEL_PLACEHOLDER, max_len=200),
        "is_open": incident.is_open,
        "resolved": not incident.is_open,
        "deploy_freeze": incident.deploy_freeze,
        "was_frozen": bool(incident.freeze_intervals()),
        "start": Stamp.of(incident.declared_at, tz),
        "now": Stamp.of(now, tz),
        "end": stamp_or(incident.resolved_at, "[TIMESTAMP]"),
        "next_internal_update": next_after_send("internal"),
        "next_customer_update": next_after_send("customer"),
        "internal_update_due": stamp_or(incident.next_update_due("internal"), "[TIME]"),
        "customer_update_due": stamp_or(incident.next_update_due("customer"), "[TIME]"),
        "review_at": stamp_or(review, "[DATE/TIME]"),
        "elapsed": elapsed,
        "duration": elapsed,
        "internal_cadence": cadence("internal"),
        "customer_cadence": cadence("customer"),
        "completed_actions": _joined(_most(actions.completed), "; ", "[COMPLETED_ACTIONS]"),
        "in_progress_actions": _joined(_most(actions.in_progress), "; ", "[IN_PROGRESS_ACTIONS]"),
        "planned_actions": _joined(_most(actions.planned), "; ", "[PLANNED_ACTIONS]"),
        "completed_actions_list": actions.completed,
        "in_progress_actions_list": actions.in_progress,
        "planned_actions_list": actions.planned,
        "services_affected": _joined(services, ", ", FIELD_PLACEHOLDERS["services_affected"]),
        "services_affected_list": services,
        "top_errors": errors,
        "errors_summary": _errors_summary(errors),
        "error_rate": _text(facts.error_rate, "[ERROR_RATE]", max_len=200),
        "db_health": _text(facts.db_health, "[DB_HEALTH]", max_len=300),
        "suspected_deploy": _text(facts.suspected_deploy, "[SUSPECTED_DEPLOY]", max_len=300),
        "degraded_components": [c for c in (clean(x, max_len=200) for x in facts.degraded_components) if c],
        "recent_commits": [clean_commit(c) for c in facts.commits],
        "status_page_link": _text(facts.status_page_link, "[STATUS_PAGE_LINK]", max_len=500),
        "timezone": zone_name(settings, incident.declared_at),
    }
    return ctx


def blank_context(playbook: Playbook | None = None, severity: str = "P0") -> dict[str, Any]:
    """A context in which every field is the playbook's placeholder (for a P0 by default).

    Rendering the shipped templates with it gives the playbook's templates word for word; the
    Templates pane can use it to preview a template before any incident exists."""
    from warroom.playbook import DEFAULT

    pb = playbook or DEFAULT
    sev = pb.severity(severity)
    ctx: dict[str, Any] = {name: Placeholder(ph) for name, ph in FIELD_PLACEHOLDERS.items()}
    ctx.update(
        {
            "id": Placeholder("INC-YYYY-MM-DD-###"),
            "severity": sev.key,
            "severity_name": sev.name,
            "severity_label": sev.label,
            "status": pb.phases[0].status,
            "phase": pb.phases[0].name,
            "channel": Placeholder(CHANNEL_PLACEHOLDER),
            "is_open": True,
            "resolved": False,
            "deploy_freeze": sev.key in pb.freeze_severities,
            "was_frozen": sev.key in pb.freeze_severities,
            "start": Stamp.unknown("[TIMESTAMP]"),
            "now": Stamp.unknown("[TIMESTAMP]"),
            "end": Stamp.unknown("[TIMESTAMP]"),
            "next_internal_update": Stamp.unknown("[TIME]"),
            "next_customer_update": Stamp.unknown("[TIME]"),
            "internal_update_due": Stamp.unknown("[TIME]"),
            "customer_update_due": Stamp.unknown("[TIME]"),
            "review_at": Stamp.unknown("[DATE/TIME]"),
            "elapsed": Placeholder("[DURATION]"),
            "duration": Placeholder("[TOTAL_TIME]"),
            "internal_cadence": cadence_text(sev.internal_update)
            if sev.internal_update
            else Placeholder("[INTERVAL]"),
            "customer_cadence": cadence_text(sev.customer_update)
            if sev.customer_update
            else Placeholder("[INTERVAL]"),
            "completed_actions": Placeholder("[COMPLETED_ACTIONS]"),
            "in_progress_actions": Placeholder("[IN_PROGRESS_ACTIONS]"),
            "planned_actions": Placeholder("[PLANNED_ACTIONS]"),
            "completed_actions_list": [],
            "in_progress_actions_list": [],
            "planned_actions_list": [],
            "services_affected_list": [],
            "top_errors": [],
            "errors_summary": Placeholder("[ERRORS]"),
            "error_rate": Placeholder("[ERROR_RATE]"),
            "db_health": Placeholder("[DB_HEALTH]"),
            "suspected_deploy": Placeholder("[SUSPECTED_DEPLOY]"),
            "degraded_components": [],
            "recent_commits": [],
            "status_page_link": Placeholder("[STATUS_PAGE_LINK]"),
            "timezone": Placeholder("[TIMEZONE]"),
        }
    )
    return ctx
