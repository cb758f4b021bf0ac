"""Helpers for the Pilot and snapshot tests: a console on a temp journal with a manual clock."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from conftest import ManualClock
from warroom.config import load_settings
from warroom.incident.journal import Journal
from warroom.settings import Settings


def make_settings(state_dir: Path, **overrides: Any) -> Settings:
    settings = load_settings(env={}, state_dir=state_dir, config=None, user="alice")
    # No status pages unless a test asks (the default ones are on the internet, which tests lack).
    settings = replace(settings, timezone_name="UTC", bell=True, status=replace(settings.status, pages=()))
    if overrides:
        settings = replace(settings, **overrides)
    return settings


def make_journal(settings: Settings, clock: ManualClock, actor: str = "alice") -> Journal:
    return Journal(settings.journal_path, actor=actor, clock=clock)


def make_app(settings: Settings, journal: Journal, clock: ManualClock, *, cls: Any = None, **kwargs: Any):  # type: ignore[no-untyped-def]
    from warroom.ui.app import WarroomApp

    kwargs.setdefault("blink", False)
    kwargs.setdefault("watch_terminal", False)
    kwargs.setdefault("tick_interval", 3600.0)  # tests call app.tick() themselves after moving the clock
    return (cls or WarroomApp)(settings, journal=journal, clock=clock, **kwargs)


def screen_text(app) -> str:  # type: ignore[no-untyped-def]
    """What the terminal would show, as plain text (one line per row)."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(seg.text for seg in strip) for strip in strips)


async def shown(pilot, app) -> str:  # type: ignore[no-untyped-def]
    """The screen as text, after letting pending messages and a repaint through."""
    await pilot.pause()
    await pilot.pause()
    return screen_text(app)


async def settle(pilot, app, *groups: str) -> None:  # type: ignore[no-untyped-def]
    """Let the workers of ``groups`` (default: clipboard and report) finish, then repaint."""
    await pilot.pause()
    wanted = set(groups or ("clipboard", "report"))
    workers = [w for w in app.workers if w.group in wanted]
    if workers:
        await app.workers.wait_for_complete(workers)
    await pilot.pause()
