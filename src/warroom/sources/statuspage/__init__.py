"""Is it the platform? Upstream status pages (Atlassian Statuspage v2 ``summary.json``), with httpx.

- :mod:`~warroom.sources.statuspage.fetching`: :func:`fetch` reads one page, bounded, and always
  returns a :class:`PageStatus` (``indicator == "unknown"`` with the reason when it cannot be read);
- :mod:`~warroom.sources.statuspage.summary`: :func:`parse_summary`, the page's JSON as a
  :class:`PageStatus`, every text cleaned and bounded;
- :mod:`~warroom.sources.statuspage.page`: the reading (:class:`PageStatus`, :class:`Component`,
  :class:`PageIncident`);
- :mod:`~warroom.sources.statuspage.poller`: :class:`StatusPoller`, each page at most once a
  minute, keeping the last good answer of a page that stopped answering;
- :mod:`~warroom.sources.statuspage.timeline`: :func:`changes` between two readings, one line
  each, for the incident timeline, and :func:`describe_pages` for templates.
"""

from warroom.sources.statuspage.fetching import fetch, make_client
from warroom.sources.statuspage.page import (
    Component,
    IncidentUpdate,
    Indicator,
    PageIncident,
    PageStatus,
)
from warroom.sources.statuspage.poller import PageUpdate, StatusPoller
from warroom.sources.statuspage.summary import parse_summary
from warroom.sources.statuspage.timeline import changes, describe_pages

__all__ = [
    "Component",
    "IncidentUpdate",
    "Indicator",
    "PageIncident",
    "PageStatus",
    "PageUpdate",
    "StatusPoller",
    "changes",
    "describe_pages",
    "fetch",
    "make_client",
    "parse_summary",
]
