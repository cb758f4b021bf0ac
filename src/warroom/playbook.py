"""The team's incident playbook as data.

Every value here comes from ``incident-response-playbook.md`` and is the default; a team changes
any of them under ``[playbook]`` in ``warroom.toml`` (see :mod:`warroom.config`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, tzinfo
from functools import cached_property

from warroom.durations import utc

NEXT_BUSINESS_DAY = "next business day"
CHANNEL_MAX = 80  # characters of an incident channel name (Slack allows 80)


def slug(text: str, max_len: int = 60) -> str:
    """``Check recent code deployments`` -> ``check-recent-code-deployments``."""
    norm = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    s = re.sub(r"[^a-z0-9]+", "-", norm.lower()).strip("-")
    return s[:max_len].rstrip("-") or "item"


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    text: str


@dataclass(frozen=True)
class Checklist:
    key: str
    title: str
    items: tuple[ChecklistItem, ...]

    @classmethod
    def of(cls, key: str, title: str, texts: list[str] | tuple[str, ...]) -> Checklist:
        items: list[ChecklistItem] = []
        seen: set[str] = set()
        for text in texts:
            k = base = slug(text)
            n = 2
            while k in seen:
                k = f"{base}-{n}"
                n += 1
            seen.add(k)
            items.append(ChecklistItem(k, text))
        return cls(key, title, tuple(items))

    def item(self, key: str) -> ChecklistItem | None:
        return next((i for i in self.items if i.key == key), None)


@dataclass(frozen=True)
class Severity:
    key: str  # "P0"
    name: str  # "Critical"
    summary: str  # "Complete Outage"
    impact: str
    examples: tuple[str, ...]
    response: timedelta | None  # None: the next business day
    internal_update: timedelta | None  # None: no internal cadence
    customer_update: timedelta | None  # None: no customer cadence
    channel: str  # a pattern ("" for none): {time:%Y-%m-%d-%H-%M} {severity} {slug}
    actions: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{self.key} - {self.name}"

    @property
    def response_text(self) -> str:
        from warroom.durations import describe_duration

        if self.response is None:
            return "Next business day"
        if self.response == timedelta(0):
            return "Immediate"
        return describe_duration(self.response)


@dataclass(frozen=True)
class EscalationLevel:
    level: int
    name: str
    after: timedelta | None  # reached when unresolved this long after declaration
    severities: frozenset[str]  # reached at once while the incident has one of these severities
    trigger: str  # what the playbook says, in words
    # The time trigger applies only while the incident has one of these severities (None: all).
    # A P3 typo is not escalated to the CTO because it has been open an hour.
    after_severities: frozenset[str] | None = None

    @property
    def label(self) -> str:
        return f"L{self.level} {self.name}"


@dataclass(frozen=True)
class Phase:
    key: str
    number: int
    name: str
    window: str  # the playbook's words: "0-5 minutes"
    budget: timedelta | None  # time the phase should take; None when the playbook gives none
    status: str  # what the status line says while in this phase


def _default_severities() -> dict[str, Severity]:
    return {
        "P0": Severity(
            "P0",
            "Critical",
            "Complete Outage",
            "Complete service unavailability",
            (
                "Database completely down",
                "All edge functions failing",
                "Cannot access application",
                "Data breach detected",
            ),
            timedelta(0),
            timedelta(minutes=15),
            timedelta(minutes=30),
            "#incident-{time:%Y-%m-%d-%H-%M}",
            (
                "Page on-call engineer immediately",
                "Create incident channel",
                "Declare P0 incident in channel",
                "Check Supabase status page",
                "Review recent deployments",
                "Notify stakeholders",
                "Consider immediate rollback",
                "Provide updates every 15 minutes",
            ),
        ),
        "P1": Severity(
            "P1",
            "High",
            "Major Feature Down",
            "Major feature unavailable or severely degraded",
            (
                "SMS delivery completely failing",
                "Campaign creation broken",
                "Authentication not working",
                "Payment processing down",
            ),
            timedelta(minutes=30),
            timedelta(minutes=30),
            None,
            "#incident-{severity}-{slug}",
            (
                "Notify engineering team in Slack",
                "Create incident channel",
                "Check error logs",
                "Identify affected users",
                "Implement workaround if possible",
                "Provide updates every 30 minutes",
            ),
        ),
        "P2": Severity(
            "P2",
            "Medium",
            "Degraded Performance",
            "Service degraded but functional",
            (
                "Slow query performance",
                "Intermittent failures",
                "Non-critical feature broken",
                "High error rate (<50% requests)",
            ),
            timedelta(hours=2),
            None,
            None,
            "#incident-{severity}-{slug}",
            (
                "Monitor metrics closely",
                "Investigate root cause",
                "Schedule fix within business hours",
                "Notify affected users if significant",
            ),
        ),
        "P3": Severity(
            "P3",
            "Low",
            "Minor Issue",
            "Minor inconvenience",
            ("UI bugs", "Non-critical features", "Typos or display issues"),
            None,
            None,
            None,
            "",
            ("Create bug ticket", "Add to backlog", "Prioritize in next sprint planning"),
        ),
    }


def _default_escalation() -> tuple[EscalationLevel, ...]:
    return (
        EscalationLevel(1, "On-call Engineer", timedelta(0), frozenset(), "when the incident is declared"),
        EscalationLevel(
            2,
            "Engineering Lead",
            timedelta(minutes=30),
            frozenset(),
            "if unresolved in 30 min",
            frozenset({"P0", "P1"}),
        ),
        EscalationLevel(
            3,
            "CTO / VP Engineering",
            timedelta(hours=1),
            frozenset({"P0"}),
            "if P0 or unresolved in 1 hour",
            frozenset({"P0", "P1"}),
        ),
        EscalationLevel(4, "CEO / Executive Team", None, frozenset(), "if data breach or major outage"),
    )


def _default_phases() -> tuple[Phase, ...]:
    return (
        Phase("triage", 1, "Detection & Triage", "0-5 minutes", timedelta(minutes=5), "Investigating"),
        Phase("investigation", 2, "Investigation", "5-30 minutes", timedelta(minutes=25), "Investigating"),
        Phase("mitigation", 3, "Mitigation", "varies by severity", None, "Mitigating"),
        Phase("recovery", 4, "Recovery & Verification", "ongoing", None, "Monitoring"),
        Phase("review", 5, "Post-Incident Review", "within 48 hours", timedelta(hours=48), "Review"),
    )


INVESTIGATION = (
    "Check recent code deployments",
    "Check recent database migrations",
    "Check environment variable changes",
    "Check external service status (Twilio, etc.)",
    "Check rate limits",
    "Check disk space / database size",
    "Review performance metrics",
)
VERIFICATION = (
    "Error rate returned to normal",
    "Key features tested and working",
    "Performance metrics within acceptable range",
    "No new errors appearing",
    "User feedback positive",
    "Monitoring shows stability",
)
RESOLUTION = (
    "Error rate < 1% for 30 minutes",
    "All critical features verified working",
    "No new related incidents",
    "Stakeholders notified of resolution",
)


@dataclass(frozen=True)
class Playbook:
    severities: dict[str, Severity] = field(default_factory=_default_severities)
    escalation: tuple[EscalationLevel, ...] = field(default_factory=_default_escalation)
    phases: tuple[Phase, ...] = field(default_factory=_default_phases)
    investigation: Checklist = field(
        default_factory=lambda: Checklist.of("investigation", "Investigation checklist", INVESTIGATION)
    )
    verification: Checklist = field(
        default_factory=lambda: Checklist.of("verification", "Verification checklist", VERIFICATION)
    )
    resolution: Checklist = field(
        default_factory=lambda: Checklist.of("resolution", "When to declare resolved", RESOLUTION)
    )
    freeze_severities: frozenset[str] = frozenset({"P0"})
    review_within: timedelta = timedelta(hours=48)
    business_day_start: time = time(9, 0)
    due_soon: timedelta = timedelta(minutes=2)
    bell_every: timedelta = timedelta(minutes=5)

    # -- lookups -----------------------------------------------------------------------------
    def severity(self, key: str) -> Severity:
        try:
            return self.severities[key]
        except KeyError:
            known = ", ".join(self.severities)
            raise ValueError(f"unknown severity {key!r} (expected one of {known})") from None

    def phase(self, key: str) -> Phase:
        for p in self.phases:
            if p.key == key:
                return p
        raise ValueError(f"unknown phase {key!r}")

    def phase_index(self, key: str) -> int:
        for i, p in enumerate(self.phases):
            if p.key == key:
                return i
        raise ValueError(f"unknown phase {key!r}")

    def actions(self, severity: str) -> Checklist:
        sev = self.severity(severity)
        return self._action_lists[sev.key]

    @cached_property
    def _action_lists(self) -> dict[str, Checklist]:
        """Each severity's actions as a checklist, made once: the checklist pane asks for an
        item's words on every poll, and making the list slugs every item again."""
        return {
            sev.key: Checklist.of(f"actions-{sev.key}", f"{sev.key} actions", list(sev.actions))
            for sev in self.severities.values()
        }

    def checklists(self, severity: str) -> tuple[Checklist, ...]:
        """The severity's actions, then investigation, verification and resolution criteria."""
        return (self.actions(severity), self.investigation, self.verification, self.resolution)

    def checklist(self, key: str) -> Checklist | None:
        if key.startswith("actions-"):
            sev = key.removeprefix("actions-")
            return self.actions(sev) if sev in self.severities else None
        return {c.key: c for c in (self.investigation, self.verification, self.resolution)}.get(key)

    def level(self, number: int) -> EscalationLevel | None:
        return next((lv for lv in self.escalation if lv.level == number), None)

    # -- derived rules -------------------------------------------------------------------------
    def channel_name(self, severity: str, title: str, declared_at: datetime) -> str:
        """The incident channel by the playbook's rule (declared time in UTC), or "" for none."""
        pattern = self.severity(severity).channel
        if not pattern:
            return ""
        return pattern.format(time=utc(declared_at), severity=severity, slug=slug(title, 40))[:CHANNEL_MAX]

    def response_deadline(self, severity: str, declared_at: datetime, tz: tzinfo | None) -> datetime:
        """When the playbook's response time runs out.

        "Next business day" is the start of the next weekday (``business_day_start``) in ``tz``,
        or in the machine's local zone when ``tz`` is None.
        """
        sev = self.severity(severity)
        if sev.response is not None:
            return utc(declared_at) + sev.response
        local = utc(declared_at).astimezone(tz)
        day = local.date() + timedelta(days=1)
        while day.weekday() >= 5:
            day += timedelta(days=1)
        start = datetime.combine(day, self.business_day_start)
        # A naive local time: astimezone() takes the offset in force on *that* day, not the
        # declaration's (a weekend can cross a daylight-saving change).
        return utc(start.replace(tzinfo=tz) if tz is not None else start.astimezone())


DEFAULT = Playbook()
