"""Sources run independently in the console: with the tallies' full read slowed to 5 s
(pg_sleep in the error_tally query, against the embedded PostgreSQL), database health, the SMS
failures, the error rate, the commits and the status pages are on screen before the tallies are,
a poll interval or two after start (issue 12: a cheap pane never waits for an expensive one)."""

from __future__ import annotations

import subprocess
import threading
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from test_postgres_schedule import slow_full_read
from test_ui_database import seed
from uihelpers import make_journal, make_settings, screen_text
from warroom.demo.standin import StatusStandIn
from warroom.incident.journal import system_clock
from warroom.ui.app import WarroomApp

pytestmark = pytest.mark.pg

SLOW = 5.0  # seconds the tallies' full read sleeps


def git_repo(path: Path) -> Path:
    path.mkdir()
    env = {"GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@example.com", "HOME": str(path)}
    env |= {"GIT_COMMITTER_NAME": "a", "GIT_COMMITTER_EMAIL": "a@example.com", "PATH": "/usr/bin:/bin"}
    for argv in (
        ["git", "init", "-q"],
        ["git", "commit", "-q", "--allow-empty", "-m", "Deploy sms-worker v2"],
    ):
        subprocess.run(argv, cwd=path, env=env, check=True, capture_output=True)
    return path


async def test_cheap_panes_show_while_the_tallies_full_read_is_slow(
    tmp_path: Path, pg_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from warroom.ui import pollers

    # The status pages' client (importing httpx, reading the CA bundle) is made off the UI loop,
    # which the database's first poll needs meanwhile.
    made_in: list[threading.Thread] = []
    real_client = pollers._status_client

    def status_client() -> object:
        made_in.append(threading.current_thread())
        return real_client()

    monkeypatch.setattr(pollers, "_status_client", status_client)
    await seed(pg_dsn, [("TwilioTimeout", "POST /Messages.json timed out", 120)])
    standin = StatusStandIn().start()
    try:
        settings = make_settings(tmp_path / "state")
        settings = replace(
            settings,
            database=replace(
                settings.database,
                dsn=pg_dsn,
                poll_interval=timedelta(seconds=1),
                resync_timeout=timedelta(seconds=30),
                queries={"error_tally": slow_full_read(tmp_path, SLOW)},
            ),
            git=replace(settings.git, repo=git_repo(tmp_path / "repo")),
            status=replace(settings.status, pages=standin.pages()),
        )
        journal = make_journal(settings, system_clock)  # type: ignore[arg-type]
        journal.declare("P0", "SMS sending failing", lead="alice")
        app = WarroomApp(settings, journal=journal, blink=False, watch_terminal=False, system_copy=None)
        start = time.monotonic()
        seen: dict[str, float] = {}
        async with app.run_test(size=(200, 60)) as pilot:
            while time.monotonic() - start < 30 and "tallies" not in seen:
                db = app.live.db
                checks = {
                    "health": db is not None and db.health is not None and "Connections" in screen_text(app),
                    "sms": db is not None and db.sms is not None,
                    "error rate": db is not None and db.error_rate is not None,
                    "commits": app.live.git is not None and "Deploy sms-worker v2" in screen_text(app),
                    "status pages": {"Supabase", "Twilio"} <= set(app.live.pages),
                    "tallies": app.live.tallies() is not None and "TwilioTimeout" in screen_text(app),
                }
                for name, ok in checks.items():
                    if ok and name not in seen:
                        seen[name] = time.monotonic() - start
                await pilot.pause(0.05)
    finally:
        standin.close()
    print("first data (s):", {k: round(v, 2) for k, v in seen.items()})
    assert "tallies" in seen and seen["tallies"] >= SLOW, seen
    cheap = ("health", "sms", "error rate", "commits", "status pages")
    # Before the full read could have ended (under load the console's start itself takes a while).
    assert all(name in seen and seen[name] < SLOW - 1 for name in cheap), seen
    assert all(seen[name] < seen["tallies"] for name in cheap), seen
    assert made_in and threading.main_thread() not in made_in, made_in
