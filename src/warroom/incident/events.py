"""What can happen to an incident: event types (frozen dataclasses) and their JSON form.

An :class:`Event` is the journal's envelope (sequence, globally unique id, UTC time, actor) around
one body. Bodies carry only what the responder did or saw; derived values (deadlines, levels,
durations) are computed by :mod:`warroom.incident.state` and never stored.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import MISSING, asdict, dataclass, fields
from datetime import datetime
from typing import Any, ClassVar, Literal

Audience = Literal["internal", "customer"]
AUDIENCES: tuple[Audience, ...] = ("internal", "customer")

# Fields a responder edits with `e`, in the order the edit form shows them, with their labels.
# Internal and customer words are different fields: what goes to customers is never filled from
# internal facts (commit shas, service names, a vendor's components).
FIELDS: dict[str, str] = {
    "title": "Title",
    "summary": "Summary (for the report)",
    "impact": "Impact (internal)",
    "lead": "Incident lead",
    "theory": "Current theory",
    "eta": "ETA to resolution",
    "planned_actions": "Planned actions",
    "users_affected": "Users affected",
    "services_affected": "Services affected (internal)",
    "revenue_impact": "Revenue impact",
    "data_loss": "Data loss",
    "root_cause": "Root cause",
    "resolution": "Resolution (internal)",
    "feature": "Feature customers see",
    "customer_impact": "What customers see",
    "customer_affected": "Affected for customers",
    "customer_resolution": "Resolution (for customers)",
    "status_page_link": "Status page link",
}


# The war room's roles (the playbook's incident lead, and common practice), assigned and handed
# over as events (:class:`RoleAssigned`): key -> label.
ROLES: dict[str, str] = {
    "lead": "Incident lead",
    "comms": "Comms",
    "ops": "Ops (driver)",
    "scribe": "Scribe",
}


class EventError(ValueError):
    """An event that cannot be read (unknown kind, missing or mistyped field)."""


# How much of a text field the journal gives back when it reads an event (a journal is a file: its
# text is untrusted and cleaned as it is read, see Journal). Fields named in ``MULTILINE`` keep
# their line breaks; those in ``LONG`` may hold a whole message or JSON evidence.
TEXT_MAX = 4000
LONG_TEXT_MAX = 64 * 1024


@dataclass(frozen=True)
class Body:
    kind: ClassVar[str] = ""
    MULTILINE: ClassVar[frozenset[str]] = frozenset()
    LONG: ClassVar[frozenset[str]] = frozenset()

    def describe(self) -> str:  # pragma: no cover - every subclass overrides
        return self.kind


@dataclass(frozen=True)
class Declared(Body):
    kind: ClassVar[str] = "declared"
    severity: str
    title: str
    impact: str = ""
    lead: str = ""
    channel: str = ""

    def describe(self) -> str:
        return f"{self.severity} incident declared: {self.title}"


@dataclass(frozen=True)
class SeverityChanged(Body):
    kind: ClassVar[str] = "severity_changed"
    severity: str
    previous: str
    reason: str = ""

    def describe(self) -> str:
        why = f" ({self.reason})" if self.reason else ""
        return f"Severity {self.previous} → {self.severity}{why}"


@dataclass(frozen=True)
class PhaseChanged(Body):
    kind: ClassVar[str] = "phase_changed"
    phase: str
    previous: str

    def describe(self) -> str:
        return f"Phase: {self.previous} → {self.phase}"


@dataclass(frozen=True)
class ItemTicked(Body):
    kind: ClassVar[str] = "item_ticked"
    checklist: str
    item: str
    text: str = ""

    def describe(self) -> str:
        return f"✔ {self.text or self.item}"


@dataclass(frozen=True)
class ItemUnticked(Body):
    kind: ClassVar[str] = "item_unticked"
    checklist: str
    item: str
    text: str = ""

    def describe(self) -> str:
        return f"✘ unticked: {self.text or self.item}"


@dataclass(frozen=True)
class NoteAdded(Body):
    kind: ClassVar[str] = "note_added"
    MULTILINE: ClassVar[frozenset[str]] = frozenset({"text"})
    text: str

    def describe(self) -> str:
        return f"Note: {self.text}"


@dataclass(frozen=True)
class FieldEdited(Body):
    kind: ClassVar[str] = "field_edited"
    MULTILINE: ClassVar[frozenset[str]] = frozenset({"value"})
    field: str
    value: str

    def describe(self) -> str:
        label = FIELDS.get(self.field, self.field)
        return f"{label}: {self.value}" if self.value else f"{label} cleared"


@dataclass(frozen=True)
class MessageCopied(Body):
    """A message was rendered and copied (to the clipboard and the outbox). Copied is not sent:
    it becomes the update sent only when the responder confirms it (:class:`UpdateSent`)."""

    kind: ClassVar[str] = "message_copied"
    MULTILINE: ClassVar[frozenset[str]] = frozenset({"text"})
    LONG: ClassVar[frozenset[str]] = frozenset({"text"})
    audience: str  # "internal", "customer", or "" for a message that is not an update
    template: str
    text: str

    def describe(self) -> str:
        return f"Copied: {self.template}"


@dataclass(frozen=True)
class UpdateSent(Body):
    """An update confirmed sent to an audience (restarts its countdown). ``copy`` is the event id
    of the copied message it confirms ("" when marked sent without one)."""

    kind: ClassVar[str] = "update_sent"
    MULTILINE: ClassVar[frozenset[str]] = frozenset({"text"})
    LONG: ClassVar[frozenset[str]] = frozenset({"text"})
    audience: str  # "internal" or "customer"
    text: str
    template: str = ""
    copy: str = ""

    def describe(self) -> str:
        return f"{self.audience.capitalize()} update sent" + (f" ({self.template})" if self.template else "")


@dataclass(frozen=True)
class UpdateUndone(Body):
    """Takes back an :class:`UpdateSent` recorded by mistake (the journal is append-only)."""

    kind: ClassVar[str] = "update_undone"
    event_id: str
    audience: str

    def describe(self) -> str:
        return f"{self.audience.capitalize()} update taken back"


@dataclass(frozen=True)
class ActionItemAdded(Body):
    """A follow-up for after the incident, captured while it happens (the report lists them)."""

    kind: ClassVar[str] = "action_item_added"
    text: str
    owner: str = ""
    due: str = ""  # as the responder wrote it ("Friday", "2026-12-04")

    def describe(self) -> str:
        who = f" (owner {self.owner})" if self.owner else ""
        return f"Action item: {self.text}{who}"


@dataclass(frozen=True)
class LessonAdded(Body):
    """A lesson for the review: what went well, or what could be improved."""

    kind: ClassVar[str] = "lesson_added"
    went_well: str  # "yes" or "no" (what could be improved)
    text: str

    def describe(self) -> str:
        return ("Went well: " if self.went_well == "yes" else "To improve: ") + self.text


@dataclass(frozen=True)
class CommitMarked(Body):
    """The responder marked a commit: ``role`` "fix" (it ends the incident: a mitigation, not a
    freeze breach), or "" (the mark taken back)."""

    kind: ClassVar[str] = "commit_marked"
    sha: str
    role: str = "fix"
    subject: str = ""

    def describe(self) -> str:
        if not self.role:
            return f"Commit {self.sha[:7]} no longer marked as the fix"
        return f"Commit {self.sha[:7]} marked as the {self.role}" + (
            f": {self.subject}" if self.subject else ""
        )


@dataclass(frozen=True)
class Escalated(Body):
    kind: ClassVar[str] = "escalated"
    level: int
    reason: str = ""

    def describe(self) -> str:
        why = f": {self.reason}" if self.reason else ""
        return f"Escalated to L{self.level}{why}"


@dataclass(frozen=True)
class Resolved(Body):
    kind: ClassVar[str] = "resolved"
    MULTILINE: ClassVar[frozenset[str]] = frozenset({"summary"})
    summary: str = ""

    def describe(self) -> str:
        return "Incident resolved" + (f": {self.summary}" if self.summary else "")


@dataclass(frozen=True)
class Closed(Body):
    kind: ClassVar[str] = "closed"
    reason: str = ""

    def describe(self) -> str:
        return "Incident closed" + (f": {self.reason}" if self.reason else "")


@dataclass(frozen=True)
class Reopened(Body):
    kind: ClassVar[str] = "reopened"
    reason: str = ""

    def describe(self) -> str:
        return "Incident reopened" + (f": {self.reason}" if self.reason else "")


@dataclass(frozen=True)
class Answered(Body):
    """The responder's answer to a decision-tree question ("affecting all users?")."""

    kind: ClassVar[str] = "answered"
    question: str
    answer: str

    def describe(self) -> str:
        return f"{self.question} {self.answer}"


@dataclass(frozen=True)
class Observed(Body):
    """What a source saw and the console wrote down: one event per reading (a status page's
    components degrading, say). ``text`` is one line; ``details`` the lines of every change, one
    per line, when there was more than one."""

    kind: ClassVar[str] = "observed"
    MULTILINE: ClassVar[frozenset[str]] = frozenset({"details"})
    LONG: ClassVar[frozenset[str]] = frozenset({"details"})
    source: str
    text: str
    details: str = ""

    @property
    def lines(self) -> list[str]:
        return [line for line in self.details.splitlines() if line.strip()] or [self.text]

    def describe(self) -> str:
        return f"[{self.source}] {self.text}"


@dataclass(frozen=True)
class EvidenceRecorded(Body):
    """Live evidence kept for the report: error tallies at declaration, at peak, at resolution.

    ``data`` is JSON written by the console; ``summary`` is one line for the timeline.
    """

    kind: ClassVar[str] = "evidence_recorded"
    MULTILINE: ClassVar[frozenset[str]] = frozenset({"data"})
    LONG: ClassVar[frozenset[str]] = frozenset({"data"})
    source: str  # "errors", "deploy", ...
    label: str  # "at declaration", "peak", "at resolution"
    data: str
    summary: str = ""

    def describe(self) -> str:
        return f"Evidence ({self.source}, {self.label})" + (f": {self.summary}" if self.summary else "")


@dataclass(frozen=True)
class Reached(Body):
    """The console reached another system for the responder (paged on-call, posted to Slack,
    published to the status page) and what came back: ``outcome`` "accepted", "rejected",
    "rate-limited" or "unreachable", with the other side's reason. ``ref`` ties it to what it was
    about: PagerDuty's dedup key, the copied message's event id. ``remote`` is the other side's id
    for what it made (the status page's incident), ``link`` its public address (its shortlink)."""

    kind: ClassVar[str] = "reached"
    system: str  # "PagerDuty", "Slack", "Statuspage"
    action: str  # "trigger", "resolve", "post", "create", "update"
    outcome: str
    reason: str = ""
    ref: str = ""
    remote: str = ""
    link: str = ""

    @property
    def accepted(self) -> bool:
        return self.outcome == "accepted"

    def describe(self) -> str:
        why = f": {self.reason}" if self.reason else ""
        made = " · ".join(p for p in (f"incident {self.remote}" if self.remote else "", self.link) if p)
        return f"{self.system} {self.action} {self.outcome}{why}" + (f" ({made})" if made else "")


@dataclass(frozen=True)
class RoleAssigned(Body):
    """A role of the war room (:data:`ROLES`) given to ``person`` ("" : nobody now), handed over
    from ``previous``."""

    kind: ClassVar[str] = "role_assigned"
    role: str
    person: str
    previous: str = ""

    def describe(self) -> str:
        label = ROLES.get(self.role, self.role)
        if not self.person:
            return f"{label}: nobody now" + (f" ({self.previous} stepped down)" if self.previous else "")
        return f"{label}: {self.person}" + (f" (handed over from {self.previous})" if self.previous else "")


# What an :class:`OwnerAssigned` is about when it is not a checklist item: an action item (its
# ``item`` is the :class:`ActionItemAdded` event's id).
ACTION_ITEM = "action_item"


@dataclass(frozen=True)
class OwnerAssigned(Body):
    """``person`` owns a checklist item (``checklist``, ``item``) or an action item
    (``checklist`` :data:`ACTION_ITEM`, ``item`` its event id) from now on ("": nobody);
    ``text`` is the item's words (for the timeline, and when the playbook changes)."""

    kind: ClassVar[str] = "owner_assigned"
    checklist: str
    item: str
    person: str
    text: str = ""

    def describe(self) -> str:
        what = self.text or self.item
        return f"Owner of {what}: {self.person}" if self.person else f"{what}: no owner now"


@dataclass(frozen=True)
class DatabaseActed(Body):
    """A runbook's database action (cancel or terminate a backend, pause a campaign): the exact
    SQL, the role it ran as on the action connection, and what came back. ``outcome`` "done",
    "no effect" (the backend had gone, no campaign matched), "failed" (with the server's reason),
    or "copied" (no action connection is configured: the SQL was copied for the responder to run,
    nothing was run)."""

    kind: ClassVar[str] = "database_action"
    MULTILINE: ClassVar[frozenset[str]] = frozenset({"sql"})
    action: str  # "cancel", "terminate", "pause campaign"
    target: str  # "pid 4242", "spring-sale" (the campaign's id)
    sql: str
    outcome: str
    result: str = ""
    role: str = ""  # the database role of the action connection

    @property
    def ran(self) -> bool:
        return self.outcome != "copied"

    def describe(self) -> str:
        if not self.ran:
            return f"Database {self.action} {self.target}: SQL copied, not run (no action_dsn)"
        who = f" as {self.role}" if self.role else ""
        why = f": {self.result}" if self.result else ""
        return f"Database {self.action} {self.target}{who}: {self.outcome}{why}"


BODIES: dict[str, type[Body]] = {
    cls.kind: cls
    for cls in (
        Declared,
        SeverityChanged,
        PhaseChanged,
        ItemTicked,
        ItemUnticked,
        NoteAdded,
        FieldEdited,
        MessageCopied,
        UpdateSent,
        UpdateUndone,
        ActionItemAdded,
        LessonAdded,
        CommitMarked,
        Escalated,
        Resolved,
        Closed,
        Reopened,
        Answered,
        Observed,
        EvidenceRecorded,
        Reached,
        RoleAssigned,
        OwnerAssigned,
        DatabaseActed,
    )
}


def body_to_json(body: Body) -> str:
    """The body as the journal stores it (UTF-8 JSON; text that UTF-8 cannot hold, a lone
    surrogate from a pasted string, is kept escaped rather than refused)."""
    data = json.dumps(asdict(body), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    try:
        data.encode("utf-8")
    except UnicodeEncodeError:
        data = json.dumps(asdict(body), ensure_ascii=True, sort_keys=True, separators=(",", ":"))
    return data


def body_from_json(
    kind: str, data: str | dict[str, Any], text: Callable[[str, int, bool], str] | None = None
) -> Body:
    """The body a journal row holds. ``text(value, max_len, multiline)``, when given, is applied
    to every string field (the journal passes the sanitizer: its text is untrusted)."""
    cls = BODIES.get(kind)
    if cls is None:
        raise EventError(f"unknown event kind {kind!r}")
    try:
        raw = json.loads(data) if isinstance(data, str) else data
    except json.JSONDecodeError as exc:
        raise EventError(f"{kind} event data is not JSON ({exc.msg})") from None
    except RecursionError:
        raise EventError("nested too deeply") from None
    except ValueError:  # a number of 5,000 digits
        raise EventError(f"{kind} event data holds a number too long to read") from None
    if not isinstance(raw, dict):
        raise EventError(f"{kind} event data is not an object")
    kwargs: dict[str, Any] = {}
    for f in fields(cls):
        if f.name in raw:
            value = raw[f.name]
            expected = int if f.type == "int" else str
            if not isinstance(value, expected) or isinstance(value, bool):
                raise EventError(f"{kind} event field {f.name!r} should be {expected.__name__}")
            if text is not None and isinstance(value, str):
                bound = LONG_TEXT_MAX if f.name in cls.LONG else TEXT_MAX
                value = text(value, bound, f.name in cls.MULTILINE)
            kwargs[f.name] = value
        elif f.default is MISSING and f.default_factory is MISSING:
            raise EventError(f"{kind} event lacks field {f.name!r}")
    return cls(**kwargs)


@dataclass(frozen=True)
class Event:
    seq: int
    event_id: str
    incident_id: str
    at: datetime
    actor: str
    body: Body

    @property
    def kind(self) -> str:
        return self.body.kind

    def describe(self) -> str:
        return self.body.describe()


def describe(event: Event | Body, playbook: object | None = None) -> str:
    """One line for people: like ``describe()``, with phase keys shown by their playbook names."""
    body = event.body if isinstance(event, Event) else event
    if isinstance(body, PhaseChanged) and playbook is not None:
        names = {p.key: p.name for p in getattr(playbook, "phases", ())}
        return f"Phase: {names.get(body.previous, body.previous)} → {names.get(body.phase, body.phase)}"
    return body.describe()
