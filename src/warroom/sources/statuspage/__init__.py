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

import importlib
from typing import Any

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


def __getattr__(name: str) -> Any:
    """``fetch``, ``make_client`` and the ``fetching`` module, imported when first asked for: they
    import httpx (50 ms and megabytes), which the console needs only once it polls a page, after
    its first frame; the rest of the package (the readings) is imported at start."""
    if name in ("fetch", "make_client", "fetching"):
        fetching = importlib.import_module("warroom.sources.statuspage.fetching")
        return fetching if name == "fetching" else getattr(fetching, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
