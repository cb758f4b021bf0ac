"""`warroom demo` end to end, headless: every pane filled from the embedded server within 5 s,
the send-sms function's log followed in its command pane, and nothing left running afterwards
(the pane's ``tail`` names the demo folder, so it is among the processes looked for)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from test_command_pane import show_tab
from uihelpers import screen_text
from warroom.config import load_settings

pytestmark = pytest.mark.pg


def processes_under(path: Path) -> list[str]:
    """Command lines of live processes that mention ``path`` (postgres, the watchdog...)."""
    found = []
    for proc in Path("/proc").iterdir():
        pid = proc.name
        if not pid.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(path) in cmd:
            found.append(f"{pid}: {cmd}")
    return found


def populated(app) -> dict[str, bool]:  # type: ignore[no-untyped-def]
    from warroom.sources.dbpoll import ErrorRateSnapshot, HealthSnapshot, SmsSnapshot
    from warroom.sources.git import GitSnapshot
    from warroom.sources.tallies import TallySnapshot

    poll = app.live.db
    return {
        "errors": poll is not None and isinstance(poll.errors, TallySnapshot) and bool(poll.errors.rows),
        "health": poll is not None and isinstance(poll.health, HealthSnapshot) and poll.health.total > 0,
        "sms": poll is not None and isinstance(poll.sms, SmsSnapshot) and bool(poll.sms.rows),
        "error_rate": poll is not None and isinstance(poll.error_rate, ErrorRateSnapshot),
        "commits": isinstance(app.live.git, GitSnapshot) and bool(app.live.git.commits),
        "status": len(app.live.pages) == len(app.settings.status.pages)
        and all(s.known for s in app.live.pages.values()),
        "correlation": app.live.correlation is not None and app.live.correlation.suspected,
    }


async def test_demo_fills_every_pane_within_5_seconds_and_leaves_nothing(tmp_path: Path) -> None:
    from warroom.demo.session import prepare
    from warroom.ui.app import WarroomApp

    base = load_settings(env={}, state_dir=tmp_path / "state", user="demo-tester")
    session = prepare(base)
    try:
        app = WarroomApp(
            session.settings,
            incident_id=session.incident_id,
            demo=session,
            blink=False,
            watch_terminal=False,
            system_copy=None,
        )
        async with app.run_test(size=(160, 48)) as pilot:
            start = time.monotonic()
            state = populated(app)
            while not all(state.values()) and time.monotonic() - start < 5.0:
                await pilot.pause(0.1)
                state = populated(app)
            elapsed = time.monotonic() - start
            assert all(state.values()), f"not populated after {elapsed:.1f} s: {state}"
            await pilot.pause(0.3)
            text = screen_text(app)
            # what a newcomer sees: live numbers, the suspected deploy, the stand-in label
            assert "errors/min" in text
            assert "Connections" in text
            assert "errors rose" in text and "after deploy" in text
            assert "local stand-in" in text
            assert session.incident_id in text
            # the generator keeps it alive: new rows arrive
            before = app.live.db.errors.total
            deadline = time.monotonic() + 8
            while app.live.db.errors.total == before and time.monotonic() < deadline:
                await pilot.pause(0.2)
            assert app.live.db.errors.total != before
            # The playbook's "check function logs": the send-sms function's log followed by tail -F.
            pane = await show_tab(pilot, app, 0)
            deadline = time.monotonic() + 10
            while not any(" ERROR " in line for line in pane.query_one("#command-log").lines):
                assert time.monotonic() < deadline, list(pane.query_one("#command-log").lines)
                await pilot.pause(0.2)
            assert "send-sms (demo)" in screen_text(app) and "running" in screen_text(app)
            await pilot.press("q")
    finally:
        session.close()
    await asyncio.sleep(0.5)
    assert session.postgres is not None
    cluster = session.postgres
    # As root the cluster lives outside the demo folder (see warroom.demo.embedded).
    left = processes_under(session.demo_dir) + processes_under(cluster.pgdata)
    cluster.remove()
    assert left == [], left
