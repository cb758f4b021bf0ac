"""One reading of one status page: what the page said (:class:`PageStatus`), or why it could not be
read. Every text in it is cleaned and bounded (:mod:`warroom.sources.statuspage.summary`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Indicator = Literal["none", "minor", "major", "critical", "unknown"]
INDICATORS: tuple[str, ...] = ("none", "minor", "major", "critical")
ALARM_INDICATORS: frozenset[str] = frozenset({"major", "critical"})

OPERATIONAL = "operational"
COMPONENT_STATUS_WORDS = {
    "operational": "operational",
    "degraded_performance": "degraded performance",
    "partial_outage": "partial outage",
    "major_outage": "major outage",
    "under_maintenance": "under maintenance",
}


@dataclass(frozen=True)
class Component:
    """A component that is not operational. ``group`` names its container, if any."""

    id: str
    name: str
    status: str  # the page's word: degraded_performance, partial_outage, major_outage, ...
    group: str = ""

    @property
    def label(self) -> str:
        return f"{self.group} › {self.name}" if self.group else self.name

    @property
    def status_text(self) -> str:
        return COMPONENT_STATUS_WORDS.get(self.status, self.status.replace("_", " "))


@dataclass(frozen=True)
class IncidentUpdate:
    status: str
    body: str  # cleaned, at most UPDATE_MAX characters
    at: datetime | None


@dataclass(frozen=True)
class PageIncident:
    """An unresolved incident (or an in-progress maintenance) and its latest update."""

    id: str
    name: str
    status: str  # investigating, identified, monitoring... (in_progress, verifying: maintenance)
    impact: str  # none, minor, major, critical (maintenance)
    latest: IncidentUpdate | None
    started_at: datetime | None
    shortlink: str = ""


@dataclass(frozen=True)
class PageStatus:
    """One reading of one status page. ``indicator == "unknown"`` when it could not be read."""

    name: str
    url: str  # the page's base URL (as configured)
    fetched_at: datetime
    indicator: Indicator
    description: str = ""  # the page's own words: "Partial System Outage"
    components: tuple[Component, ...] = ()  # the ones not operational
    incidents: tuple[PageIncident, ...] = ()  # unresolved
    maintenances: tuple[PageIncident, ...] = ()  # in progress or verifying
    reason: str = ""  # why the indicator is unknown (one line); "" otherwise
    readable: bool = False  # the page answered with a summary (even one with an odd indicator)
    page_updated_at: datetime | None = None
    # On an unreadable answer, the poller keeps the last readable one here (shown as stale).
    last_good: PageStatus | None = field(default=None, compare=False, repr=False)
    # What the bounds left out: components not operational past MAX_COMPONENTS (plus list entries
    # past MAX_SCAN, not looked at), unresolved incidents and maintenances past MAX_INCIDENTS.
    components_omitted: int = 0
    incidents_omitted: int = 0
    maintenances_omitted: int = 0

    @property
    def known(self) -> bool:
        """True when the page answered with an indicator we understand."""
        return self.indicator != "unknown"

    @property
    def alarm(self) -> bool:
        """True for ``major`` and ``critical``: both mean the upstream itself is badly broken.

        Statuspage computes the indicator from component states and incident impact, and page
        owners override it by hand; users report pages staying at ``major`` through outages they
        would call ``critical`` (reference/incident-tools-survey.md §4). The two cannot be told
        apart reliably, and for the playbook's question ("is it the platform?") they lead to the
        same action, so both raise the alarm. ``minor`` is shown but does not alarm.
        """
        return self.indicator in ALARM_INDICATORS

    @property
    def omitted(self) -> int:
        """How many components, incidents and maintenances the bounds left out of this reading."""
        return self.components_omitted + self.incidents_omitted + self.maintenances_omitted

    @property
    def summary(self) -> str:
        """One line: ``major: Partial System Outage`` or ``unknown: timeout after 5 s``."""
        if not self.known:
            return f"unknown: {self.reason}" if self.reason else "unknown"
        return f"{self.indicator}: {self.description}" if self.description else self.indicator


def baseline(status: PageStatus | None) -> PageStatus | None:
    """The last readable answer a reading stands for: itself, or the good one it kept."""
    if status is None:
        return None
    return status if status.readable else status.last_good
