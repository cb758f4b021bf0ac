"""Comparing two readings of a status page, for the incident timeline: one line per change
(component degraded or recovered, indicator, incident opened or closed, page readable or not), at
most :data:`MAX_CHANGES` lines a reading; and one line over all pages for templates."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from warroom.sources.statuspage.page import Component, PageIncident, PageStatus, baseline

MAX_CHANGES = 50  # timeline lines of one reading, the last one saying how many more there were


class _Listed(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def status(self) -> str: ...


_T = TypeVar("_T", bound=_Listed)


@dataclass(frozen=True)
class _List(Generic[_T]):
    """One list of a reading (components, incidents): how to find it, and how the timeline says
    what happened to one of its entries."""

    what: str  # "components", "incidents"
    entries: Callable[[PageStatus], Sequence[_T]]
    omitted: Callable[[PageStatus], int]  # how many the reading left out
    appeared: Callable[[_T], str]
    changed: Callable[[_T, _T], str]  # (before, now)
    gone: Callable[[_T], str]


def _incident_appeared(inc: PageIncident) -> str:
    impact = f", impact {inc.impact}" if inc.impact and inc.impact != "none" else ""
    return f"incident {inc.name!r} ({inc.status}{impact})"


_COMPONENTS: _List[Component] = _List(
    "components",
    lambda status: status.components,
    lambda status: status.components_omitted,
    lambda c: f"{c.label} {c.status_text}",
    lambda was, c: f"{c.label} {was.status_text} → {c.status_text}",
    lambda c: f"{c.label} recovered (operational)",
)
_INCIDENTS: _List[PageIncident] = _List(
    "incidents",
    lambda status: status.incidents,
    lambda status: status.incidents_omitted,
    _incident_appeared,
    lambda was, inc: f"incident {inc.name!r} {was.status} → {inc.status}",
    lambda inc: f"incident {inc.name!r} no longer listed (resolved)",
)


def changes(previous: PageStatus | None, current: PageStatus) -> list[str]:
    """One line per change between two readings of a page, for the incident timeline.

    - a component that degraded, changed state or recovered;
    - the page indicator going up or down;
    - an incident appearing, changing status or leaving the list (resolved);
    - the page becoming unreadable (once, with the reason) and readable again;
    - how many components or incidents the reading left out (too many to keep), when that changes.

    ``previous`` None means the first reading: only what is wrong is reported (nothing at all for
    a healthy page or one that cannot be read). Unreadable after unreadable says nothing. Changes
    are measured against the last readable answer (``last_good``, kept by the poller), so a page
    flapping between a timeout and the same outage does not repeat the outage. When the reading
    left components (incidents) out, one missing from it may be among those: it is not called
    recovered (resolved). At most :data:`MAX_CHANGES` lines, the last one then saying how many
    more there were.
    """
    name = current.name
    if not current.readable:
        if previous is not None and previous.readable:
            return [f"{name}: status page unreadable ({current.reason or 'no reason given'})"]
        return []

    lines: list[str] = []
    base = baseline(previous)
    if previous is not None and not previous.readable and base is not None:
        lines.append("status page readable again")

    desc = f" ({current.description})" if current.description else ""
    if base is None:
        if current.indicator != "none":
            lines.append(f"{current.indicator}{desc}")
    elif base.indicator != current.indicator:
        lines.append(f"{base.indicator} → {current.indicator}{desc}")
    lines += _list_changes(_COMPONENTS, base, current)
    lines += _list_changes(_INCIDENTS, base, current)
    return _capped(name, [f"{name}: {line}" for line in lines])


def _list_changes(listed: _List[_T], base: PageStatus | None, current: PageStatus) -> list[str]:
    """What happened to the entries of one list between the last readable reading and this one."""
    old: Mapping[str, _T] = {e.id: e for e in listed.entries(base)} if base is not None else {}
    new: Mapping[str, _T] = {e.id: e for e in listed.entries(current)}
    lines: list[str] = []
    for key, entry in new.items():
        was = old.get(key)
        if was is None:
            lines.append(listed.appeared(entry))
        elif was.status != entry.status:
            lines.append(listed.changed(was, entry))
    omitted = listed.omitted(current)
    if not omitted:  # one missing may be among those left out: not called gone
        lines += [listed.gone(entry) for key, entry in old.items() if key not in new]
    if omitted and omitted != (listed.omitted(base) if base is not None else 0):
        lines.append(f"{omitted} more {listed.what} not listed (too many to keep)")
    return lines


def _capped(name: str, lines: list[str]) -> list[str]:
    """At most MAX_CHANGES lines: past that, the first ones and a count of the rest."""
    if len(lines) <= MAX_CHANGES:
        return lines
    shown = max(0, MAX_CHANGES - 1)
    more = len(lines) - shown
    return [*lines[:shown], f"{name}: … and {more} more change{'s' if more != 1 else ''}"]


def describe_pages(statuses: Sequence[PageStatus | None]) -> str:
    """One line over all pages for templates: ``Supabase: major (Partial System Outage); Twilio: none``."""
    return "; ".join(f"{st.name}: {st.summary}" for st in statuses if st is not None)
