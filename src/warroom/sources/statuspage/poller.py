"""Polling the configured status pages, each **at most once a minute** (or ``[status]
poll_interval`` if longer), whatever the UI asks. An unreadable answer keeps the last good one in
``last_good`` so the pane can show it as stale; each poll's :class:`PageUpdate` carries the lines
for the incident timeline."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from warroom.durations import utc_now
from warroom.settings import StatusPage, StatusSettings
from warroom.sources.statuspage.page import PageStatus, baseline
from warroom.sources.statuspage.timeline import changes

if TYPE_CHECKING:
    import httpx

# The playbook's rule is one poll a minute per page; configuration can only make it slower.
MIN_INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True)
class PageUpdate:
    """What one poll of one page brought: the new status and the lines for the timeline."""

    page: StatusPage
    previous: PageStatus | None
    status: PageStatus

    @property
    def changes(self) -> list[str]:
        return changes(self.previous, self.status)


class StatusPoller:
    """The configured pages, each polled at most once per ``interval`` (never under a minute).

    Call :meth:`poll_due` whenever convenient (a timer every few seconds is fine): it fetches, in
    parallel, only the pages whose minute is up and returns their :class:`PageUpdate`; pages not
    due, or already being fetched, are skipped. :meth:`poll` asks for one page and returns None
    when the rule says not yet (:meth:`next_due` says when). The clock is injectable.
    """

    def __init__(
        self,
        settings: StatusSettings,
        *,
        client: httpx.AsyncClient,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.pages: tuple[StatusPage, ...] = tuple(settings.pages)
        self.interval: timedelta = max(MIN_INTERVAL, settings.poll_interval)
        self.timeout: float = settings.timeout.total_seconds()
        self.client = client
        self.clock = clock
        self._attempted: dict[tuple[str, str], datetime] = {}
        self._latest: dict[tuple[str, str], PageStatus] = {}
        self._in_flight: set[tuple[str, str]] = set()

    @staticmethod
    def _key(page: StatusPage) -> tuple[str, str]:
        return (page.name, page.summary_url)

    def latest(self, page: StatusPage) -> PageStatus | None:
        """The last answer for ``page`` (unknown ones carry ``last_good``), or None before any."""
        return self._latest.get(self._key(page))

    def statuses(self) -> list[PageStatus | None]:
        return [self.latest(p) for p in self.pages]

    def next_due(self, page: StatusPage) -> datetime:
        """When ``page`` may be polled next (the past or now when it is due)."""
        last = self._attempted.get(self._key(page))
        return self.clock() if last is None else last + self.interval

    def is_due(self, page: StatusPage) -> bool:
        key = self._key(page)
        if key in self._in_flight:
            return False
        last = self._attempted.get(key)
        return last is None or self.clock() >= last + self.interval

    async def poll(self, page: StatusPage) -> PageUpdate | None:
        """Fetch ``page`` if its minute is up; None when it is not (or a fetch is under way)."""
        if not self.is_due(page):
            return None
        key = self._key(page)
        self._attempted[key] = self.clock()
        self._in_flight.add(key)
        try:
            from warroom.sources.statuspage.fetching import fetch  # httpx: after the first frame

            status = await fetch(page, timeout=self.timeout, client=self.client, clock=self.clock)
        finally:
            self._in_flight.discard(key)
        previous = self._latest.get(key)
        if not status.readable:
            good = baseline(previous)
            if good is not None:
                status = replace(status, last_good=good)
        self._latest[key] = status
        return PageUpdate(page, previous, status)

    async def poll_due(self) -> list[PageUpdate]:
        """Fetch every due page concurrently; the updates in configuration order."""
        due = [p for p in self.pages if self.is_due(p)]
        if not due:
            return []
        results = await asyncio.gather(*(self.poll(p) for p in due))
        return [r for r in results if r is not None]
