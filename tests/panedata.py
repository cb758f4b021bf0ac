"""Fixed data for the pane tests: commits, status pages, correlations, a console that does not
start its real sources (the sources have their own tests against real git, HTTP and PostgreSQL)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from conftest import ManualClock
from uihelpers import make_app, make_journal, make_settings
from warroom.settings import StatusPage
from warroom.sources.correlation import correlate
from warroom.sources.git import Commit, GitProblem, GitSnapshot
from warroom.sources.statuspage import Component, IncidentUpdate, PageIncident, PageStatus
from warroom.ui.app import WarroomApp

PAGES = (
    StatusPage("Supabase", "https://status.supabase.com"),
    StatusPage("Twilio", "https://status.twilio.com"),
)


class StaticApp(WarroomApp):
    """The console with its sources replaced by what the test puts on it."""

    def start_sources(self) -> None:
        pass


def static_app(
    tmp_path: Path, clock: ManualClock, *, severity: str = "P0", **settings_changes: Any
) -> StaticApp:
    settings = make_settings(tmp_path)
    settings = replace(
        settings,
        git=replace(settings.git, repo=tmp_path / "repo"),
        status=replace(settings.status, pages=PAGES),
        **settings_changes,
    )
    journal = make_journal(settings, clock)
    journal.declare(severity, "SMS sending failing", impact="All customers", lead="alice")
    return make_app(settings, journal, clock, cls=StaticApp, system_copy=None)  # type: ignore[no-any-return]


def commit(
    now: datetime,
    sha: str,
    minutes_ago: float,
    subject: str,
    *,
    author: str = "Maya Patel",
    deploy: bool = False,
    migration: bool = False,
    functions: tuple[str, ...] = (),
    breach: bool = False,
    parent: str = "",
) -> Commit:
    when = now - timedelta(minutes=minutes_ago)
    return Commit(
        sha=sha * 5,
        short_sha=sha[:7],
        author=author,
        author_email=f"{author.split()[0].lower()}@example.com",
        committed_at=when,
        subject=subject,
        parents=((parent * 5),) if parent else (),
        is_recent=minutes_ago <= 120,
        is_deploy=deploy,
        deploy_reason="subject matches 'deploy'" if deploy else "",
        is_migration=migration,
        migration_paths=("supabase/migrations/20261126_add_index.sql",) if migration else (),
        functions=functions,
        paths=tuple(f"supabase/functions/{f}/index.ts" for f in functions),
        paths_total=len(functions),
        freeze_breach=breach,
    )


def commits(now: datetime) -> tuple[Commit, ...]:
    return (
        commit(
            now,
            "f00dfee",
            3,
            "fix typo in campaign list",
            author="Sam O'Connor",
            breach=True,
            parent="86a46ab",
        ),
        commit(
            now,
            "86a46ab",
            30,
            "deploy: production 2026.11.26-1 (send-sms batching)",
            deploy=True,
            functions=("send-sms",),
            parent="cf9717f",
            author="github-actions[bot]",
        ),
        commit(now, "cf9717f", 68, "add campaign send counters", migration=True, parent="e03963d"),
        commit(
            now,
            "e03963d",
            83,
            "send-sms: batch Twilio requests",
            functions=("send-sms",),
            parent="1640691",
            author="Priya Raman",
        ),
        commit(now, "1640691", 300, "campaign list: paginate", parent="0a0a0a0", author="Diego Fernández"),
    )


def git_snapshot(now: datetime, **changes: Any) -> GitSnapshot:
    snap = GitSnapshot(
        Path("/srv/ace-engage"), "main", False, False, commits(now), now - timedelta(seconds=4)
    )
    return replace(snap, **changes)


def git_problem(kind: str, message: str) -> GitProblem:
    return GitProblem(kind, message)  # type: ignore[arg-type]


def spike_series(
    now: datetime, *, spike_minutes_ago: int = 18, base: int = 20, peak: int = 400
) -> list[tuple[datetime, int]]:
    """Errors per minute over the last hour: a flat baseline, then a spike rising to ``peak``."""
    start = now.replace(second=0, microsecond=0) - timedelta(minutes=60)
    out = []
    for i in range(61):
        minute = start + timedelta(minutes=i)
        ago = (now - minute).total_seconds() / 60
        n = (
            base + (i % 3)
            if ago > spike_minutes_ago
            else base + int(peak * (1 - ago / (spike_minutes_ago + 1)))
        )
        out.append((minute, n))
    return out


def deploy_correlation(now: datetime):  # type: ignore[no-untyped-def]
    return correlate(spike_series(now), commits(now), now)


def statuses(now: datetime) -> dict[str, PageStatus]:
    fetched = now - timedelta(seconds=25)
    supabase = PageStatus("Supabase", PAGES[0].url, fetched, "none", "All Systems Operational", readable=True)
    twilio = PageStatus(
        "Twilio",
        PAGES[1].url,
        fetched,
        "major",
        "Partial System Outage",
        components=(Component("c1", "T-Mobile", "partial_outage", "SMS Carrier Delivery - United States"),),
        incidents=(
            PageIncident(
                "i1",
                "Delayed SMS delivery to T-Mobile US",
                "investigating",
                "major",
                IncidentUpdate(
                    "investigating",
                    "We are investigating delays delivering SMS to T-Mobile US.",
                    now - timedelta(minutes=9),
                ),
                now - timedelta(minutes=14),
            ),
        ),
        readable=True,
    )
    return {"Supabase": supabase, "Twilio": twilio}


def unreadable(now: datetime, good: PageStatus) -> PageStatus:
    return PageStatus(
        good.name, good.url, now - timedelta(seconds=5), "unknown", reason="timeout after 5 s", last_good=good
    )
