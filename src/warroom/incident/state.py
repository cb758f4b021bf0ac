"""``Incident = fold(events)``: the state of one incident and everything derived from it.

Pure: no I/O, no Textual, no wall clock. Every derived value that depends on time takes ``now``
(an aware UTC datetime) from the caller, so a restart, a suspended laptop or a test's fake clock
all give the same answer for the same instant.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, tzinfo
from typing import Literal

from warroom.durations import utc
from warroom.incident import events as ev
from warroom.playbook import DEFAULT, EscalationLevel, Playbook

Status = Literal["open", "resolved", "closed"]
TimerState = Literal["none", "ok", "due_soon", "overdue"]


class FoldError(ValueError):
    """Events that do not make an incident (no declaration first, another incident's event...)."""


@dataclass(frozen=True)
class Tick:
    at: datetime
    actor: str
    checklist: str = ""  # where it was ticked (an item on several action lists shares its tick)
    item: str = ""
    text: str = ""


@dataclass
class PhaseVisit:
    phase: str
    entered: datetime
    left: datetime | None = None


@dataclass
class SentUpdate:
    event_id: str
    at: datetime
    actor: str
    audience: str
    text: str
    template: str
    undone_at: datetime | None = None
    copy: str = ""  # the event id of the copied message this confirms


@dataclass(frozen=True)
class CopiedMessage:
    """A message copied (clipboard and outbox); not an update until confirmed sent."""

    event_id: str
    at: datetime
    actor: str
    audience: str
    template: str
    text: str


@dataclass(frozen=True)
class ActionItem:
    at: datetime
    actor: str
    text: str
    owner: str
    due: str
    event_id: str = ""  # the ActionItemAdded event (an OwnerAssigned names it)


@dataclass(frozen=True)
class Lesson:
    at: datetime
    actor: str
    went_well: bool
    text: str


@dataclass(frozen=True)
class Milestone:
    """One of the report's milestones (the playbook's appendix): detected, investigating, root
    cause identified, mitigation applied, resolved; ``at`` None when not reached."""

    name: str
    at: datetime | None


@dataclass(frozen=True)
class Countdown:
    """Where one update cadence stands at ``now``."""

    audience: str
    state: TimerState
    due: datetime | None
    remaining: timedelta  # negative once overdue
    cadence: timedelta | None

    @property
    def overdue_by(self) -> timedelta:
        return -self.remaining if self.remaining < timedelta(0) else timedelta(0)


@dataclass(frozen=True)
class NextEscalation:
    level: EscalationLevel
    due: datetime | None  # None: reached only by a human decision (data breach, major outage)


@dataclass
class Incident:
    id: str
    playbook: Playbook
    declared_at: datetime
    declared_by: str
    severity: str
    channel: str
    fields: dict[str, str]
    status: Status = "open"
    phase: str = ""
    severity_history: list[tuple[datetime, str, str]] = field(default_factory=list)
    phase_visits: list[PhaseVisit] = field(default_factory=list)
    ticks: dict[tuple[str, str], Tick] = field(default_factory=dict)
    updates: list[SentUpdate] = field(default_factory=list)
    copies: list[CopiedMessage] = field(default_factory=list)
    action_items: list[ActionItem] = field(default_factory=list)
    lessons: list[Lesson] = field(default_factory=list)
    marked_commits: dict[str, str] = field(default_factory=dict)  # full or short sha -> role
    escalations: list[tuple[datetime, int, str]] = field(default_factory=list)
    answers: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    notes: list[tuple[datetime, str, str]] = field(default_factory=list)
    resolutions: list[datetime] = field(default_factory=list)
    reopenings: list[datetime] = field(default_factory=list)
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    responded_at: datetime | None = None
    # What another system made for the incident and accepted, by system ("Statuspage"): the other
    # side's id and its public link (the status page's incident and its shortlink).
    remotes: dict[str, tuple[str, str]] = field(default_factory=dict)
    events: list[ev.Event] = field(default_factory=list)
    roles: dict[str, str] = field(default_factory=dict)  # role (events.ROLES) -> who holds it
    owners: dict[tuple[str, str], str] = field(default_factory=dict)  # a checklist item's tick key -> owner
    seen_seq: int = 0  # the highest journal sequence folded in (events may come out of order)

    # -- building --------------------------------------------------------------------------
    @classmethod
    def declared(cls, event: ev.Event, playbook: Playbook = DEFAULT) -> Incident:
        body = event.body
        if not isinstance(body, ev.Declared):
            raise FoldError(f"{event.incident_id}: the first event is {event.kind!r}, not a declaration")
        playbook.severity(body.severity)  # raises for an unknown severity
        inc = cls(
            id=event.incident_id,
            playbook=playbook,
            declared_at=event.at,
            declared_by=event.actor,
            severity=body.severity,
            channel=body.channel,
            fields={"title": body.title, "impact": body.impact, "lead": body.lead},
            phase=playbook.phases[0].key,
        )
        if body.lead:
            inc.roles["lead"] = body.lead
        inc.severity_history.append((event.at, body.severity, ""))
        inc.phase_visits.append(PhaseVisit(inc.phase, event.at))
        inc.events.append(event)
        inc.seen_seq = event.seq
        return inc

    def apply(self, event: ev.Event) -> None:
        """Fold one more event into this state."""
        if event.incident_id != self.id:
            raise FoldError(f"event {event.event_id} belongs to {event.incident_id}, not {self.id}")
        b = event.body
        at = event.at
        if self.responded_at is None and not isinstance(b, ev.Declared | ev.Observed | ev.EvidenceRecorded):
            self.responded_at = at
        match b:
            case ev.Declared():
                raise FoldError(f"{self.id} is declared twice (event {event.event_id})")
            case ev.SeverityChanged(severity=sev, reason=reason):
                self.playbook.severity(sev)
                self.severity = sev
                self.severity_history.append((at, sev, reason))
            case ev.PhaseChanged(phase=phase):
                self.playbook.phase(phase)
                if phase != self.phase:
                    self.phase_visits[-1].left = at
                    self.phase_visits.append(PhaseVisit(phase, at))
                    self.phase = phase
            case ev.ItemTicked(checklist=cl, item=item, text=text):
                self.ticks[self._tick_key(cl, item, text)] = Tick(
                    at, event.actor, cl, item, self._item_text(cl, item) or text
                )
            case ev.ItemUnticked(checklist=cl, item=item, text=text):
                self.ticks.pop(self._tick_key(cl, item, text), None)
            case ev.NoteAdded(text=text):
                self.notes.append((at, event.actor, text))
            case ev.FieldEdited(field=name, value=value):
                self.fields[name] = value
                if name == "lead":
                    self._hold("lead", value)
            case ev.RoleAssigned(role=role, person=person):
                self._hold(role, person)
                if role == "lead":
                    self.fields["lead"] = person
            case ev.UpdateSent(audience=aud, text=text, template=template, copy=copy):
                self.updates.append(
                    SentUpdate(event.event_id, at, event.actor, aud, text, template, copy=copy)
                )
            case ev.MessageCopied(audience=aud, template=template, text=text):
                self.copies.append(CopiedMessage(event.event_id, at, event.actor, aud, template, text))
            case ev.ActionItemAdded(text=text, owner=owner, due=due):
                self.action_items.append(ActionItem(at, event.actor, text, owner, due, event.event_id))
            case ev.OwnerAssigned(checklist=ev.ACTION_ITEM, item=target, person=person):
                self.action_items = [
                    replace(a, owner=person) if a.event_id == target else a for a in self.action_items
                ]
            case ev.OwnerAssigned(checklist=cl, item=item, person=person, text=text):
                key = self._tick_key(cl, item, text)
                if person:
                    self.owners[key] = person
                else:
                    self.owners.pop(key, None)
            case ev.LessonAdded(went_well=went_well, text=text):
                self.lessons.append(Lesson(at, event.actor, went_well == "yes", text))
            case ev.CommitMarked(sha=sha, role=role):
                if role:
                    self.marked_commits[sha] = role
                else:  # the mark taken back
                    self.marked_commits.pop(sha, None)
            case ev.UpdateUndone(event_id=target):
                for u in self.updates:
                    if u.event_id == target and u.undone_at is None:
                        u.undone_at = at
            case ev.Escalated(level=level, reason=reason):
                self.escalations.append((at, level, reason))
            case ev.Resolved():
                if self.status == "open":
                    self.status = "resolved"
                    self.resolved_at = at
                    self.resolutions.append(at)
            case ev.Closed():
                self.status = "closed"
                self.closed_at = at
                if self.resolved_at is None:
                    self.resolved_at = at
                    self.resolutions.append(at)
            case ev.Reopened():
                if self.status != "open":
                    self.reopenings.append(at)
                self.status = "open"
                self.resolved_at = None
                self.closed_at = None
            case ev.Answered(question=q, answer=a):
                self.answers[q] = (a, at)
            case ev.Reached(system=system, remote=remote, link=link) if b.accepted and remote:
                before = self.remotes.get(system, ("", ""))
                self.remotes[system] = (remote, link or (before[1] if before[0] == remote else ""))
            case ev.Observed() | ev.EvidenceRecorded() | ev.Reached() | ev.DatabaseActed():
                pass  # in the timeline and the report; nothing else derives from them
        self.events.append(event)
        self.seen_seq = max(self.seen_seq, event.seq)

    def _hold(self, role: str, person: str) -> None:
        if person:
            self.roles[role] = person
        else:
            self.roles.pop(role, None)

    def become(self, other: Incident) -> None:
        """Take ``other``'s state (the same incident folded again, after events came out of
        order from another console), so whoever holds this object sees the new state."""
        self.__dict__.update(other.__dict__)

    # -- plain values ----------------------------------------------------------------------
    @property
    def title(self) -> str:
        return self.fields.get("title", "")

    @property
    def lead(self) -> str:
        return self.fields.get("lead", "")

    @property
    def impact(self) -> str:
        return self.fields.get("impact", "")

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    @property
    def status_text(self) -> str:
        if self.status == "closed":
            return "Closed"
        if self.status == "resolved":
            return "Resolved"
        return self.playbook.phase(self.phase).status

    @property
    def last_seq(self) -> int:
        return self.seen_seq

    def end(self, now: datetime) -> datetime:
        """``now`` while open; the moment of resolution afterwards."""
        return self.resolved_at if self.resolved_at is not None else utc(now)

    def elapsed(self, now: datetime) -> timedelta:
        """Declaration to ``now`` (to the resolution once resolved); never negative, even when
        the clock went back."""
        return max(timedelta(0), self.end(now) - self.declared_at)

    # -- update cadence --------------------------------------------------------------------
    def cadence(self, audience: str, severity: str | None = None) -> timedelta | None:
        sev = self.playbook.severity(severity or self.severity)
        return sev.internal_update if audience == "internal" else sev.customer_update

    def sent_updates(self, audience: str | None = None) -> list[SentUpdate]:
        return [
            u for u in self.updates if u.undone_at is None and (audience is None or u.audience == audience)
        ]

    def last_update(self, audience: str) -> SentUpdate | None:
        sent = self.sent_updates(audience)
        return sent[-1] if sent else None

    def next_update_due(self, audience: str) -> datetime | None:
        """When the next update to ``audience`` is owed, or None if none is.

        Counted from the last update sent to that audience (else the declaration, or the last
        reopening if later) with the cadence of the current severity. If the severity that held at
        that base had no cadence for this audience, the countdown starts when a severity with one
        took over.
        """
        if not self.is_open:
            return None
        cadence = self.cadence(audience)
        if cadence is None or cadence <= timedelta(0):
            return None
        last = self.last_update(audience)
        base = last.at if last else self.declared_at
        if self.reopenings and self.reopenings[-1] > base:
            base = self.reopenings[-1]
        started = base
        for at, sev, _reason in self.severity_history:
            if at <= base:
                continue
            had = self.cadence(audience, self._severity_before(at))
            if had is None and self.cadence(audience, sev) is not None:
                started = at
        return max(base, started) + cadence

    def _severity_before(self, at: datetime) -> str:
        current = self.severity_history[0][1]
        for when, sev, _ in self.severity_history:
            if when >= at:
                break
            current = sev
        return current

    def countdown(self, audience: str, now: datetime) -> Countdown:
        due = self.next_update_due(audience)
        cadence = self.cadence(audience) if self.is_open else None
        if due is None:
            return Countdown(audience, "none", None, timedelta(0), cadence)
        remaining = due - utc(now)
        if remaining <= timedelta(0):
            state: TimerState = "overdue"
        elif remaining <= self.playbook.due_soon:
            state = "due_soon"
        else:
            state = "ok"
        return Countdown(audience, state, due, remaining, cadence)

    # -- response ----------------------------------------------------------------------------
    def response_deadline(self, tz: tzinfo | None = None) -> datetime:
        """The declared severity's response deadline, brought forward by any raise of severity
        (a P2 raised to P0 must be answered immediately, not within the P2's 2 hours)."""
        deadline = self.playbook.response_deadline(self.severity_history[0][1], self.declared_at, tz)
        for at, sev, _ in self.severity_history[1:]:
            deadline = min(deadline, self.playbook.response_deadline(sev, at, tz))
        return deadline

    def _time_trigger_at(self, level: EscalationLevel) -> datetime | None:
        """When ``level``'s time trigger fires: unresolved for ``after`` while the severity is one
        it applies to (the first moment both hold)."""
        if level.after is None:
            return None
        due = self.declared_at + level.after
        allowed = level.after_severities
        history = self.severity_history
        for i, (start, sev, _) in enumerate(history):
            end = history[i + 1][0] if i + 1 < len(history) else None
            if allowed is not None and sev not in allowed:
                continue
            t = max(start, due)
            if end is None or t < end:
                return t
        return None

    # -- escalation --------------------------------------------------------------------------
    def level_reached_at(self, level: EscalationLevel) -> datetime | None:
        """When the playbook's ladder requires ``level`` (None: not by the ladder, or not yet known)."""
        candidates: list[datetime] = []
        limit = self.resolved_at
        t = self._time_trigger_at(level)
        if t is not None and (limit is None or t <= limit):
            candidates.append(t)
        if level.severities:
            for at, sev, _ in self.severity_history:
                if sev in level.severities and (limit is None or at <= limit):
                    candidates.append(at)
                    break
        return min(candidates) if candidates else None

    def escalation_level(self, now: datetime) -> EscalationLevel:
        """The highest level reached by the ladder or by a recorded escalation."""
        now = utc(now)
        best = self.playbook.escalation[0]
        for lv in self.playbook.escalation:
            reached = self.level_reached_at(lv)
            if reached is not None and reached <= now and lv.level > best.level:
                best = lv
        for at, number, _ in self.escalations:
            lv = self.playbook.level(number)
            if lv is not None and at <= now and lv.level > best.level:
                best = lv
        return best

    def next_escalation(self, now: datetime) -> NextEscalation | None:
        """The next level above the current one and when the ladder will require it."""
        if not self.is_open:
            return None
        current = self.escalation_level(now)
        for lv in sorted(self.playbook.escalation, key=lambda x: x.level):
            if lv.level <= current.level:
                continue
            due = self._time_trigger_at(lv)
            return NextEscalation(lv, due)
        return None

    # -- phases ------------------------------------------------------------------------------
    def open_spans(self, now: datetime) -> list[tuple[datetime, datetime]]:
        """The spans during which the incident was open (declared or reopened until resolved)."""
        now = utc(now)
        spans: list[tuple[datetime, datetime]] = []
        start, status = self.declared_at, "open"
        for event in self.events[1:]:
            match event.body:
                case ev.Resolved() | ev.Closed() if status == "open":
                    spans.append((start, event.at))
                    status = "closed"
                case ev.Reopened() if status != "open":
                    start, status = event.at, "open"
        if status == "open":
            spans.append((start, max(start, now)))
        return spans

    def phase_durations(self, now: datetime) -> dict[str, timedelta]:
        """Time spent in each phase while the incident was open.

        A phase entered while the incident was resolved (the post-incident review) counts from
        its start until it is left or the incident is closed.
        """
        now = utc(now)
        spans = self.open_spans(now)
        out = {p.key: timedelta(0) for p in self.playbook.phases}
        for visit in self.phase_visits:
            end = visit.left or (self.closed_at if self.status == "closed" and self.closed_at else now)
            if any(a <= visit.entered < b for a, b in spans):
                took = sum(
                    (max(timedelta(0), min(end, b) - max(visit.entered, a)) for a, b in spans),
                    timedelta(0),
                )
            else:
                took = max(timedelta(0), end - visit.entered)
            out[visit.phase] = out.get(visit.phase, timedelta(0)) + took
        return out

    def phase_entered(self, key: str) -> datetime | None:
        """First time the incident entered phase ``key`` or any later one."""
        idx = self.playbook.phase_index(key)
        for visit in self.phase_visits:
            if self.playbook.phase_index(visit.phase) >= idx:
                return visit.entered
        return None

    def time_to_triage(self) -> timedelta | None:
        """Declaration until Investigation began (the end of Detection & Triage)."""
        t = self.phase_entered(self.playbook.phases[1].key) if len(self.playbook.phases) > 1 else None
        return t - self.declared_at if t else None

    def time_to_mitigate(self) -> timedelta | None:
        """Declaration until the mitigation was in place (Recovery & Verification began)."""
        t = self.phase_entered(self.playbook.phases[3].key) if len(self.playbook.phases) > 3 else None
        return t - self.declared_at if t else None

    def time_to_resolve(self) -> timedelta | None:
        return self.resolved_at - self.declared_at if self.resolved_at else None

    def review_due(self) -> datetime | None:
        return self.resolved_at + self.playbook.review_within if self.resolved_at else None

    # -- checklists and freeze -----------------------------------------------------------------
    def _item_text(self, checklist: str, item: str) -> str:
        cl = self.playbook.checklist(checklist)
        found = cl.item(item) if cl is not None else None
        return found.text if found is not None else ""

    def _tick_key(self, checklist: str, item: str, text: str = "") -> tuple[str, str]:
        """Where a tick is kept. The severity's action lists change with the severity (P0's, then
        P1's): an item with the same words is the same action, so its tick is kept by its words."""
        if checklist.startswith("actions-"):
            # The playbook's words for the item; the journal's copy of them if it is gone.
            text = self._item_text(checklist, item) or text
            if text:
                return ("actions", " ".join(text.lower().split()))
        return (checklist, item)

    def tick(self, checklist: str, item: str) -> Tick | None:
        return self.ticks.get(self._tick_key(checklist, item))

    def owner(self, checklist: str, item: str) -> str:
        """Who owns a checklist item ("": nobody); an item on several action lists shares it."""
        return self.owners.get(self._tick_key(checklist, item), "")

    @property
    def deploy_freeze(self) -> bool:
        """Deploys are frozen from the first freeze severity (P0) until the all-clear (the
        resolution): lowering the severity does not lift it ("DO NOT DEPLOY anything until
        all-clear given")."""
        spans = self.freeze_intervals()
        return self.is_open and bool(spans) and spans[-1][1] is None

    def freeze_intervals(self) -> list[tuple[datetime, datetime | None]]:
        """The spans of a deploy freeze (None: still going): each starts when a freeze severity
        begins and lasts until the incident is resolved."""
        spans: list[tuple[datetime, datetime | None]] = []
        start: datetime | None = None
        frozen_sevs = self.playbook.freeze_severities
        is_open = True
        severity = ""
        for event in self.events:
            b = event.body
            if isinstance(b, ev.Declared | ev.SeverityChanged):
                severity = b.severity
                if is_open and severity in frozen_sevs and start is None:
                    start = event.at
            elif isinstance(b, ev.Resolved | ev.Closed) and is_open:
                is_open = False
                if start is not None:
                    spans.append((start, event.at))
                    start = None
            elif isinstance(b, ev.Reopened) and not is_open:
                is_open = True
                if severity in frozen_sevs:
                    start = event.at
        if start is not None:
            spans.append((start, None))
        return spans

    def milestones(self) -> list[Milestone]:
        """Detected, investigating, root cause identified, mitigation applied, resolved."""
        pb = self.playbook
        keys = [p.key for p in pb.phases]
        root_cause = next(
            (
                e.at
                for e in self.events
                if isinstance(e.body, ev.FieldEdited)
                and e.body.field == "root_cause"
                and e.body.value.strip()
            ),
            None,
        )
        return [
            Milestone("Detected (declared)", self.declared_at),
            Milestone("Investigation started", self.phase_entered(keys[1]) if len(keys) > 1 else None),
            Milestone("Root cause identified", root_cause),
            Milestone("Mitigation applied", self.phase_entered(keys[3]) if len(keys) > 3 else None),
            Milestone("Resolved", self.resolutions[0] if self.resolutions else None),
        ]


def order_key(event: ev.Event) -> tuple[int, datetime, str]:
    """The order every console folds a shared incident in: its declaration first, then by event
    time, then by event id (a journal hands out increasing ids, see :mod:`warroom.incident.journal`),
    so consoles that received the same events in different orders end in the same state: a field
    edited on two consoles ends with the later edit (last writer wins by event time)."""
    return (0 if isinstance(event.body, ev.Declared) else 1, event.at, event.event_id)


def in_order(events: Iterable[ev.Event]) -> list[ev.Event]:
    """``events`` in :func:`order_key` order."""
    return sorted(events, key=order_key)


def fold(events: Iterable[ev.Event], playbook: Playbook = DEFAULT) -> Incident:
    """The incident the events describe. The first event must be its declaration."""
    it = iter(events)
    try:
        first = next(it)
    except StopIteration:
        raise FoldError("no events to fold") from None
    inc = Incident.declared(first, playbook)
    for event in it:
        inc.apply(event)
    return inc
