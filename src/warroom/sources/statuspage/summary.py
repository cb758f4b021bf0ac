"""Parsing a Statuspage v2 ``summary.json`` into a :class:`~warroom.sources.statuspage.page.PageStatus`.

Everything a page says is untrusted: names, descriptions and update bodies pass through
:func:`warroom.text.clean` and are bounded. :func:`parse_summary` looks at no more than
:data:`MAX_SCAN` entries of a list and keeps at most :data:`MAX_COMPONENTS` components (the worst
first) and :data:`MAX_INCIDENTS` incidents and maintenances (in page order), saying in
``*_omitted`` how many it left out. Only what is kept is cleaned.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from warroom.durations import utc
from warroom.settings import StatusPage
from warroom.sources.statuspage.page import (
    INDICATORS,
    OPERATIONAL,
    Component,
    IncidentUpdate,
    PageIncident,
    PageStatus,
)
from warroom.text import clean

MAX_SCAN = 200_000  # entries of one list (components, incidents) looked at
MAX_UPDATES_SCAN = 500  # updates of one incident looked at for the latest (real ones have a few)
MAX_COMPONENTS = 200  # components kept of one reading (the worst first); the pane shows a handful
MAX_INCIDENTS = 50  # unresolved incidents kept (in page order), and as many maintenances
UPDATE_MAX = 300  # characters kept of an incident update
NAME_MAX = 120
ID_MAX = 60
REASON_MAX = 160

# Which components are kept first when a page lists more than MAX_COMPONENTS not operational: the
# worst. A word the page invents ranks after degraded performance, maintenance last.
SEVERITY_RANK = {"major_outage": 0, "partial_outage": 1, "degraded_performance": 2, "under_maintenance": 4}
OTHER_RANK = 3


class _Shape(Exception):
    """The JSON is not a Statuspage summary; the message says what was wrong."""


def page_name(page: StatusPage) -> str:
    """The configured name, as text (a found warroom.toml is untrusted too)."""
    return clean(page.name, max_len=NAME_MAX)


def unknown(page: StatusPage, at: datetime, reason: str) -> PageStatus:
    """The reading of a page that could not be read, and why (one line)."""
    return PageStatus(page_name(page), page.url, at, "unknown", reason=clean(reason, max_len=REASON_MAX))


# -- values -----------------------------------------------------------------------------------------


def _ts(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value or len(value) > 64:
        return None
    try:
        return utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None


def _scalar(value: Any) -> Any:
    """``value`` when it is a JSON scalar; None for null, an object or a list."""
    return None if isinstance(value, (dict, list)) else value


def _raw(value: Any, limit: int) -> str:
    """A scalar as the page wrote it (not cleaned), cut to ``limit``: to sort, filter and match
    every entry of a list cheaply; only the entries kept are cleaned."""
    value = _scalar(value)
    if value is None:
        return ""
    return (value if isinstance(value, str) else str(value))[:limit]


def _text(value: Any, max_len: int = NAME_MAX) -> str:
    value = _scalar(value)
    return "" if value is None else clean(value, max_len=max_len)


def _word(value: Any) -> str:
    """An enumeration value (status, impact): lower-case, no spaces, bounded."""
    text = _text(value, 40).lower()
    return re.sub(r"\s+", "_", text)


def _quick_word(value: Any) -> str:
    """The word :func:`_word` gives for a usual value (``"major_outage"``), without cleaning."""
    return "_".join(_raw(value, 64).lower().split())


def _ident(value: Any) -> str:
    """What an entry is matched by (its ``id``, a ``group_id``), as the page wrote it."""
    return _raw(value, ID_MAX * 4)


def _list(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise _Shape(f"'{key}' is not a list")
    return value


# -- components -------------------------------------------------------------------------------------


def _is_group(item: dict[str, Any]) -> bool:
    return item.get("group") is True or isinstance(item.get("components"), list)


def _not_operational(status: str) -> bool:
    return bool(status) and status != OPERATIONAL


def _components(items: list[Any]) -> tuple[tuple[Component, ...], int]:
    """The components not operational (at most MAX_COMPONENTS, the worst first, shown in page
    order) and how many were left out (past the bound, or past MAX_SCAN entries: not looked at)."""
    not_scanned = max(0, len(items) - MAX_SCAN)
    by_id: dict[str, dict[str, Any]] = {}
    for item in items[:MAX_SCAN]:
        if isinstance(item, dict):
            by_id[_ident(item.get("id")) or _ident(item.get("name"))] = item
    group_ids = {cid for cid, item in by_id.items() if _is_group(item)}
    # A group container's status summarises its children: list the degraded children under the
    # group's name, and the group itself only when none of its children is listed (hidden ones).
    # Entries are (rank, position, id, item, group id); nothing is cleaned before it is kept.
    found: list[tuple[int, int, str, dict[str, Any], str]] = []
    groups_with_listed_child: set[str] = set()
    for cid, item in by_id.items():
        if cid in group_ids:
            continue
        status = _quick_word(item.get("status"))
        if not _not_operational(status):
            continue
        gid = _ident(item.get("group_id"))
        if gid not in group_ids:
            gid = ""
        if gid:
            groups_with_listed_child.add(gid)
        found.append((SEVERITY_RANK.get(status, OTHER_RANK), len(found), cid, item, gid))
    for cid, item in by_id.items():
        if cid not in group_ids or cid in groups_with_listed_child:
            continue
        status = _quick_word(item.get("status"))
        if _not_operational(status):
            found.append((SEVERITY_RANK.get(status, OTHER_RANK), len(found), cid, item, ""))
    kept = found
    if len(found) > MAX_COMPONENTS:
        kept = heapq.nsmallest(MAX_COMPONENTS, found, key=lambda f: f[:2])
        kept.sort(key=lambda f: f[1])  # page order: children first, then the groups standing alone
    out = []
    for _, _, cid, item, gid in kept:
        status = _word(item.get("status"))
        if _not_operational(status):  # (a word that only reads "operational" once cleaned is)
            cid_text = _text(cid, NAME_MAX)
            group = _text(by_id[gid].get("name")) if gid else ""
            out.append(Component(cid_text, _text(item.get("name")) or cid_text, status, group))
    return tuple(out), len(found) - len(kept) + not_scanned


# -- incidents and maintenances ---------------------------------------------------------------------


def _update_time(upd: dict[str, Any]) -> datetime | None:
    return _ts(upd.get("display_at")) or _ts(upd.get("created_at")) or _ts(upd.get("updated_at"))


def _latest_update(updates: list[Any]) -> IncidentUpdate | None:
    best: tuple[datetime, int, dict[str, Any], datetime | None] | None = None
    floor = datetime.min.replace(tzinfo=UTC)
    for i, upd in enumerate(updates[:MAX_UPDATES_SCAN]):
        if not isinstance(upd, dict):
            continue
        at = _update_time(upd)
        # Newest first on real pages; on equal or missing times, the earlier entry wins.
        key = (at or floor, -i, upd, at)
        if best is None or key[:2] > best[:2]:
            best = key
    if best is None:
        return None
    upd, at = best[2], best[3]
    return IncidentUpdate(_word(upd.get("status")), clean(upd.get("body"), max_len=UPDATE_MAX), at)


def _incident(item: dict[str, Any], status: str) -> PageIncident:
    updates = item.get("incident_updates")
    return PageIncident(
        id=_text(item.get("id"), ID_MAX) or _text(item.get("name")),
        name=_text(item.get("name"), 200) or "(untitled)",
        status=status,
        impact=_word(item.get("impact")),
        latest=_latest_update(updates if isinstance(updates, list) else []),
        started_at=_ts(item.get("started_at")) or _ts(item.get("created_at")),
        shortlink=_text(item.get("shortlink"), 200),
    )


def _incidents(items: list[Any], keep: Callable[[str], bool]) -> tuple[tuple[PageIncident, ...], int]:
    """The incidents ``keep`` accepts, in page order (at most MAX_INCIDENTS), and how many more
    there were (past the bound, or past MAX_SCAN entries: not looked at)."""
    out: list[PageIncident] = []
    omitted = max(0, len(items) - MAX_SCAN)
    for item in items[:MAX_SCAN]:
        if not isinstance(item, dict) or not keep(_quick_word(item.get("status"))):
            continue
        if len(out) >= MAX_INCIDENTS:
            omitted += 1
            continue
        status = _word(item.get("status"))
        if keep(status):  # (a word that only reads "resolved" once cleaned is)
            out.append(_incident(item, status))
    return tuple(out), omitted


def _unresolved(status: str) -> bool:
    return status not in ("resolved", "postmortem", "completed")


def _under_way(status: str) -> bool:
    return status in ("in_progress", "verifying")


# -- the summary ------------------------------------------------------------------------------------


def parse_summary(data: Any, page: StatusPage, fetched_at: datetime) -> PageStatus:
    """A ``summary.json`` document as a :class:`PageStatus` (unknown, with the reason, when the
    document does not have the shape of one).

    Bounded whatever the document holds: at most :data:`MAX_SCAN` entries of each list are looked
    at and at most :data:`MAX_COMPONENTS` components are kept, the worst first (major outage,
    partial outage, degraded performance, any other word, under maintenance; page order among
    equals), listed in page order; at most :data:`MAX_INCIDENTS` unresolved incidents and as many
    maintenances, in page order (newest first on real pages). The ``*_omitted`` fields count what
    was left out. Only what is kept is cleaned.
    """
    try:
        if not isinstance(data, dict):
            raise _Shape(f"expected a JSON object, got {type(data).__name__}")
        status = data.get("status")
        if not isinstance(status, dict):
            raise _Shape("no 'status' object")
        raw_indicator = status.get("indicator")
        if not isinstance(raw_indicator, str):
            raise _Shape("no 'status.indicator'")
        indicator = _word(raw_indicator)
        components, components_omitted = _components(_list(data, "components"))
        incidents, incidents_omitted = _incidents(_list(data, "incidents"), _unresolved)
        maintenances, maintenances_omitted = _incidents(_list(data, "scheduled_maintenances"), _under_way)
    except _Shape as exc:
        return unknown(page, fetched_at, f"unexpected shape: {exc}")
    page_info = data.get("page")
    updated = _ts(page_info.get("updated_at")) if isinstance(page_info, dict) else None
    reason = ""
    if indicator not in INDICATORS:
        reason = f"unrecognised indicator {clean(raw_indicator, max_len=30)!r}"
    return PageStatus(
        name=page_name(page),
        url=page.url,
        fetched_at=fetched_at,
        indicator=indicator if indicator in INDICATORS else "unknown",  # type: ignore[arg-type]
        description=_text(status.get("description"), 200),
        components=components,
        incidents=incidents,
        maintenances=maintenances,
        reason=clean(reason, max_len=REASON_MAX),
        readable=True,
        page_updated_at=updated,
        components_omitted=components_omitted,
        incidents_omitted=incidents_omitted,
        maintenances_omitted=maintenances_omitted,
    )
