"""The template context: everything the console knows about an incident, ready for a message.

:func:`build_context` turns an :class:`~warroom.incident.state.Incident`, the settings, the live
facts the sources saw (:class:`LiveFacts`) and ``now`` into a :class:`MessageContext`: one typed
object whose fields are the keys a template reads (:data:`CONTEXT_KEYS`), each documented where it
is declared. A template reads ``{{ theory }}``; Python reads ``ctx.theory`` or ``ctx["theory"]``.
A field the responder has not filled is a :class:`Placeholder`: a ``str`` holding the playbook's
bracketed placeholder (``[ROOT_CAUSE_THEORY]``), so the message still reads like the playbook and
the preview can highlight what is missing; :func:`fill_hint` says where each one is filled (a
field of ``e``, a configuration key, or a live source). Every string is cleaned with
:func:`warroom.text.clean`.

Internal and customer words are different fields: a customer message reads only ``feature``,
``customer_impact``, ``customer_affected``, ``customer_resolution``, ``customer_status`` and the
times, never the internal impact, services, resolution, commits or a vendor's components.

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

from collections.abc import Iterator, MutableMapping, Sequence
from dataclasses import dataclass, field, fields
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
    errors_per_minute: str | None = None  # "increasing +240% (38/min, was 11/min)"
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

# The placeholder each responder-edited field (``e``, warroom.incident.events.FIELDS) shows while
# empty: the playbook's words.
FIELD_PLACEHOLDERS: dict[str, str] = {
    "title": "[BRIEF_DESCRIPTION]",
    "summary": "[SUMMARY]",
    "impact": "[USER_IMPACT]",
    "lead": "[NAME]",
    "theory": "[ROOT_CAUSE_THEORY]",
    "eta": "[ESTIMATE]",
    "planned_actions": "[PLANNED_ACTIONS]",
    "users_affected": "[COUNT]",
    "services_affected": "[LIST]",
    "revenue_impact": "[$ AMOUNT or NONE]",
    "data_loss": "[NONE/DETAILS]",
    "root_cause": "[ROOT_CAUSE]",
    "resolution": "[WHAT_WAS_DONE]",
    "feature": "[FEATURE]",
    "customer_impact": "[DESCRIPTION]",
    "customer_affected": "[LIST]",
    "customer_resolution": "[BRIEF_DESCRIPTION]",
    "status_page_link": "[STATUS_PAGE_LINK]",
}
CHANNEL_PLACEHOLDER = "#incident-YYYY-MM-DD-HH-MM"
FIELD_MAX = 2000  # characters kept of one field

# Where an unfilled key that is not a field of ``e`` comes from (the notice after a copy says it).
CONFIG_FILLS: dict[str, str] = {
    "status_page_link": "[incident] status_page_link, or a publish to the status page (S)"
}
# The system whose journaled link fills ``status_page_link`` (warroom.reach.statuspage.SYSTEM).
STATUSPAGE = "Statuspage"
LIVE_FILLS: dict[str, str] = {
    "channel": "the severity's channel in [playbook]",
    "error_rate": "the database source: error rate",
    "db_health": "the database source",
    "errors_summary": "the database source: error tallies",
    "errors_per_minute": "the database source: error tallies",
    "suspected_deploy": "the commits source: no deploy suspected",
    "internal_cadence": "the severity's cadence in [playbook]",
    "customer_cadence": "the severity's cadence in [playbook]",
    "next_internal_update": "none owed: no cadence, or resolved",
    "next_customer_update": "none owed: no cadence, or resolved",
    "internal_update_due": "none owed: no cadence, or resolved",
    "customer_update_due": "none owed: no cadence, or resolved",
    "end": "set when resolved (r)",
    "id": "set when the incident is declared",
    "start": "set when the incident is declared",
    "now": "set when the incident is declared",
    "elapsed": "set when the incident is declared",
    "duration": "set when the incident is declared",
    "timezone": "[incident] timezone",
    "review_at": "set when resolved (r)",
    "completed_actions": "tick checklist items",
    "in_progress_actions": "open phase items",
}


def fill_hint(key: str) -> str:
    """Where the unfilled context key ``key`` is filled: ``e: Current theory``,
    ``e: Status page link or [incident] status_page_link, ...``, ``the database source``; "" if
    unknown."""
    from warroom.incident.events import FIELDS

    if key in FIELDS:
        config = CONFIG_FILLS.get(key)
        return f"e: {FIELDS[key]}" + (f" or {config}" if config else "")
    return CONFIG_FILLS.get(key) or LIVE_FILLS.get(key, "")


# The customer's words for the phase (Statuspage's incident statuses).
CUSTOMER_STATUS: dict[str, str] = {
    "triage": "investigating",
    "investigation": "investigating",
    "mitigation": "identified",
    "recovery": "monitoring",
}


def _text(value: object, placeholder: str, *, max_len: int = FIELD_MAX) -> str:
    text = clean(value, max_len=max_len, multiline=True).strip()
    return text if text else Placeholder(placeholder)


ACTIONS_SHOWN = 5  # a status update names at most this many actions per line, then "(+N more)"
LATEST_NOTES = 3  # a status update gives the newest notes


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
    """Completed (ticked, newest first: the news), in progress (the current phase's open items) and planned
    (the open items of the next phase that has any) actions, each text once."""
    pb = incident.playbook
    out = ActionLists()
    seen: set[str] = set()
    for tick in sorted(incident.ticks.values(), key=lambda t: t.at, reverse=True):
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


_NO_TIMESTAMP = Stamp.unknown("[TIMESTAMP]")
_NO_TIME = Stamp.unknown("[TIME]")
_NO_DATE = Stamp.unknown("[DATE/TIME]")


def _ph(text: str) -> Any:
    return field(default=Placeholder(text))


@dataclass
class MessageContext(MutableMapping[str, Any]):
    """What a message is filled with: one field per key a template reads. The defaults are the
    playbook's placeholders (a blank P0), so rendering the shipped templates with
    ``MessageContext()`` gives the playbook's templates word for word.

    It is a mapping too (``ctx["theory"]``, ``set(ctx)``, ``ctx.update(...)``): the report adds
    its own keys, kept apart from the fields."""

    id: str = _ph("INC-YYYY-MM-DD-###")  # INC-2026-11-26-001
    severity: str = "P0"
    severity_name: str = "Critical"
    severity_label: str = "P0 - Critical"
    status: str = "Investigating"  # Investigating / Mitigating / Monitoring / Resolved / Closed
    phase: str = "Detection & Triage"  # the current phase's name
    customer_status: str = "investigating"  # the phase in customers' words: identified, monitoring, resolved
    # The fields of `e` (FIELD_PLACEHOLDERS); lead without its leading "@".
    title: str = _ph("[BRIEF_DESCRIPTION]")
    summary: str = _ph("[SUMMARY]")
    impact: str = _ph("[USER_IMPACT]")  # internal
    lead: str = _ph("[NAME]")
    theory: str = _ph("[ROOT_CAUSE_THEORY]")
    eta: str = _ph("[ESTIMATE]")
    users_affected: str = _ph("[COUNT]")
    revenue_impact: str = _ph("[$ AMOUNT or NONE]")
    data_loss: str = _ph("[NONE/DETAILS]")
    root_cause: str = _ph("[ROOT_CAUSE]")
    resolution: str = _ph("[WHAT_WAS_DONE]")  # internal: what was done
    feature: str = _ph("[FEATURE]")  # what customers use, in their words
    customer_impact: str = _ph("[DESCRIPTION]")  # what customers see
    customer_affected: str = _ph("[LIST]")  # affected for customers; the feature when not given
    customer_resolution: str = _ph("[BRIEF_DESCRIPTION]")
    # The field set by hand, else the status page incident's link (journaled when warroom published
    # it), else [incident] status_page_link.
    status_page_link: str = _ph("[STATUS_PAGE_LINK]")
    channel: str = _ph(CHANNEL_PLACEHOLDER)
    is_open: bool = True
    resolved: bool = False
    deploy_freeze: bool = True  # the severity calls for a deploy freeze (P0)
    was_frozen: bool = True  # a deploy freeze held at any time (the all-clear line)
    start: Stamp = _NO_TIMESTAMP
    now: Stamp = _NO_TIMESTAMP
    end: Stamp = _NO_TIMESTAMP  # the resolution
    # When the next update is owed *if this message goes out now* (now + the severity's cadence).
    next_internal_update: Stamp = _NO_TIME
    next_customer_update: Stamp = _NO_TIME
    # When the countdown says the next update is owed right now (Incident.next_update_due).
    internal_update_due: Stamp = _NO_TIME
    customer_update_due: Stamp = _NO_TIME
    review_at: Stamp = _NO_DATE  # resolution + playbook.review_within
    elapsed: str = _ph("[DURATION]")  # declaration to now (to the resolution once resolved)
    duration: str = _ph("[TOTAL_TIME]")  # the same value
    internal_cadence: str = _ph("[INTERVAL]")  # "15 minutes"
    customer_cadence: str = _ph("[INTERVAL]")
    # Ticked items, newest first; the current phase's open items (else the phase's name); the
    # responder's planned actions, else the open items of the next phase that has any. Each line
    # names at most five, then "(+N more)"; the *_list fields hold them all.
    completed_actions: str = _ph("[COMPLETED_ACTIONS]")
    in_progress_actions: str = _ph("[IN_PROGRESS_ACTIONS]")
    planned_actions: str = _ph("[PLANNED_ACTIONS]")
    completed_actions_list: list[str] = field(default_factory=list)
    in_progress_actions_list: list[str] = field(default_factory=list)
    planned_actions_list: list[str] = field(default_factory=list)
    latest_notes: list[str] = field(
        default_factory=list
    )  # the timeline's notes, newest first (at most three)
    # Internal: the responder's list plus the degraded status-page components not already named.
    services_affected: str = _ph("[LIST]")
    services_affected_list: list[str] = field(default_factory=list)
    top_errors: list[ErrorLine] = field(default_factory=list)  # largest first
    errors_summary: str = _ph("[ERRORS]")  # the top 3: "TimeoutError: pool exhausted (1,234); ..."
    error_rate: str = _ph("[ERROR_RATE]")  # the rate and how long below the threshold
    errors_per_minute: str = _ph("[ERRORS_PER_MINUTE]")  # with the trend
    db_health: str = _ph("[DB_HEALTH]")
    suspected_deploy: str = _ph("[SUSPECTED_DEPLOY]")  # and the commit that fixed it, if any
    degraded_components: list[str] = field(default_factory=list)
    recent_commits: list[CommitLine] = field(default_factory=list)  # newest first
    timezone: str = _ph("[TIMEZONE]")  # Europe/Berlin, or "local time (CET)"
    extra: dict[str, Any] = field(default_factory=dict, repr=False)  # keys the report adds

    # -- the mapping -------------------------------------------------------------------------------
    def __getitem__(self, key: str) -> Any:
        if key in CONTEXT_KEYS:
            return getattr(self, key)
        return self.extra[key]

    def __setitem__(self, key: str, value: Any) -> None:
        if key in CONTEXT_KEYS:
            setattr(self, key, value)
        else:
            self.extra[key] = value

    def __delitem__(self, key: str) -> None:
        if key in CONTEXT_KEYS:
            raise KeyError(f"{key} is a field of the message context")
        del self.extra[key]

    def __iter__(self) -> Iterator[str]:
        yield from _FIELD_ORDER
        yield from self.extra

    def __len__(self) -> int:
        return len(_FIELD_ORDER) + len(self.extra)


_FIELD_ORDER: tuple[str, ...] = tuple(f.name for f in fields(MessageContext) if f.name != "extra")
CONTEXT_KEYS: frozenset[str] = frozenset(_FIELD_ORDER)


def _severity(pb: Playbook, severity: str) -> dict[str, Any]:
    """The fields that follow from the severity alone."""
    sev = pb.severity(severity)

    def cadence(c: timedelta | None) -> str:
        return cadence_text(c) if c else Placeholder("[INTERVAL]")

    return {
        "severity": sev.key,
        "severity_name": sev.name,
        "severity_label": sev.label,
        "internal_cadence": cadence(sev.internal_update),
        "customer_cadence": cadence(sev.customer_update),
    }


def build_context(
    incident: Incident,
    settings: Settings,
    facts: LiveFacts | None,
    now: datetime,
) -> MessageContext:
    """Everything a template may use (see :class:`MessageContext` for each field)."""
    facts = facts or LiveFacts()
    now = utc(now)
    tz = settings.tz
    pb = incident.playbook
    f = incident.fields

    def stamp_or(when: datetime | None, placeholder: str) -> Stamp:
        return Stamp.of(when, tz) if when is not None else Stamp.unknown(placeholder)

    def next_after_send(audience: str) -> Stamp:
        cadence = incident.cadence(audience)
        if not incident.is_open or cadence is None or cadence <= timedelta(0):
            return Stamp.unknown("[TIME]")
        return Stamp.of(now + cadence, tz)

    fields_ = {name: _text(f.get(name, ""), ph) for name, ph in FIELD_PLACEHOLDERS.items()}
    lead = fields_["lead"]
    if not isinstance(lead, Placeholder):
        fields_["lead"] = _text(lead.lstrip("@").strip(), FIELD_PLACEHOLDERS["lead"])
    if isinstance(fields_["customer_affected"], Placeholder) and not isinstance(
        fields_["feature"], Placeholder
    ):
        fields_["customer_affected"] = fields_["feature"]  # plain words customers already read
    if isinstance(fields_["status_page_link"], Placeholder):
        published = incident.remotes.get(STATUSPAGE, ("", ""))[1]
        fields_["status_page_link"] = _text(
            published or settings.status_page_link or facts.status_page_link,
            "[STATUS_PAGE_LINK]",
            max_len=500,
        )
    named = fields_.pop("services_affected")  # with the degraded components, below
    services = _services("" if isinstance(named, Placeholder) else named, facts.degraded_components)
    actions = action_lists(incident)
    planned = actions.planned
    if not isinstance(fields_["planned_actions"], Placeholder):
        planned = [fields_["planned_actions"], *planned]
    del fields_["planned_actions"]  # the field's words first, then the playbook's next items
    errors = _clean_errors(facts.top_errors)
    elapsed = human_duration(incident.elapsed(now))
    notes = [clean(text, max_len=300) for _at, _who, text in reversed(incident.notes)][:LATEST_NOTES]
    return MessageContext(
        id=incident.id,
        **_severity(pb, incident.severity),
        status=incident.status_text,
        phase=pb.phase(incident.phase).name,
        customer_status=CUSTOMER_STATUS.get(incident.phase, "investigating")
        if incident.is_open
        else "resolved",
        **fields_,
        channel=_text(incident.channel, CHANNEL_PLACEHOLDER, max_len=200),
        is_open=incident.is_open,
        resolved=not incident.is_open,
        deploy_freeze=incident.deploy_freeze,
        was_frozen=bool(incident.freeze_intervals()),
        start=Stamp.of(incident.declared_at, tz),
        now=Stamp.of(now, tz),
        end=stamp_or(incident.resolved_at, "[TIMESTAMP]"),
        next_internal_update=next_after_send("internal"),
        next_customer_update=next_after_send("customer"),
        internal_update_due=stamp_or(incident.next_update_due("internal"), "[TIME]"),
        customer_update_due=stamp_or(incident.next_update_due("customer"), "[TIME]"),
        review_at=stamp_or(incident.review_due(), "[DATE/TIME]"),
        elapsed=elapsed,
        duration=elapsed,
        completed_actions=_joined(_most(actions.completed), "; ", "[COMPLETED_ACTIONS]"),
        in_progress_actions=_joined(_most(actions.in_progress), "; ", "[IN_PROGRESS_ACTIONS]"),
        planned_actions=_joined(_most(planned), "; ", "[PLANNED_ACTIONS]"),
        completed_actions_list=actions.completed,
        in_progress_actions_list=actions.in_progress,
        planned_actions_list=planned,
        latest_notes=notes,
        services_affected=_joined(services, ", ", FIELD_PLACEHOLDERS["services_affected"]),
        services_affected_list=services,
        top_errors=errors,
        errors_summary=_errors_summary(errors),
        error_rate=_text(facts.error_rate, "[ERROR_RATE]", max_len=200),
        errors_per_minute=_text(facts.errors_per_minute, "[ERRORS_PER_MINUTE]", max_len=200),
        db_health=_text(facts.db_health, "[DB_HEALTH]", max_len=300),
        suspected_deploy=_text(facts.suspected_deploy, "[SUSPECTED_DEPLOY]", max_len=300),
        degraded_components=[c for c in (clean(x, max_len=200) for x in facts.degraded_components) if c],
        recent_commits=[clean_commit(c) for c in facts.commits],
        timezone=zone_name(settings, incident.declared_at),
    )


def blank_context(playbook: Playbook | None = None, severity: str = "P0") -> MessageContext:
    """A context in which every field is the playbook's placeholder (for a P0 by default).

    Rendering the shipped templates with it gives the playbook's templates word for word; the
    Templates pane can use it to preview a template before any incident exists."""
    from warroom.playbook import DEFAULT

    pb = playbook or DEFAULT
    frozen = pb.severity(severity).key in pb.freeze_severities
    first = pb.phases[0]
    return MessageContext(
        **_severity(pb, severity),
        status=first.status,
        phase=first.name,
        customer_status=CUSTOMER_STATUS.get(first.key, "investigating"),
        deploy_freeze=frozen,
        was_frozen=frozen,
    )
