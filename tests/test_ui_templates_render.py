"""The template preview renders only when what it shows changed: a clock tick, or a poll whose
facts the selected template does not read, renders nothing and reads no file; a field it reads,
a fact it reads or its file changing renders it again (bench/RESULTS.md, idle: the preview used to
render, reading its file from disk, on every poll)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from conftest import ManualClock
from uihelpers import make_app, make_journal, make_settings, settle, shown
from warroom.comms.context import ErrorLine, LiveFacts
from warroom.comms.templates import TemplateSet
from warroom.incident import events as ev
from warroom.resources import shipped_dir
from warroom.ui.panes.templates import TemplateList, TemplatesPane

SIZE = (200, 60)


def count_renders(app: Any) -> list[str]:
    """The names of the templates rendered from now on."""
    templates = app.comms.templates
    real = templates.render
    seen: list[str] = []

    def counting(template: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(getattr(template, "name", template))
        return real(template, *args, **kwargs)

    templates.render = counting
    return seen


def count_reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Template files read from disk from now on."""
    from warroom.comms import templates as module

    real = module._read
    seen: list[Path] = []

    def counting(path: Path) -> Any:
        seen.append(path)
        return real(path)

    monkeypatch.setattr(module, "_read", counting)
    return seen


async def rendered(pilot: Any, app: Any) -> str:
    await settle(pilot, app, "template-preview")
    pane = app.screen.query_one(TemplatesPane)
    assert pane._last is not None and pane._last.text is not None
    return pane._last.text


@pytest.fixture
def team(tmp_path: Path) -> Path:
    """A team folder holding a copy of the shipped templates (so a test can rewrite one)."""
    folder = tmp_path / "team"
    shutil.copytree(shipped_dir("templates"), folder)
    return folder


async def test_ticks_and_polls_that_change_nothing_shown_render_nothing(
    tmp_path: Path, clock: ManualClock, team: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(tmp_path / "s", templates_dir=team)
    journal = make_journal(settings, clock)
    incident = journal.declare(
        "P0", "SMS failing", impact="all sends", lead="alice", playbook=settings.playbook
    )
    app = make_app(settings, journal, clock, system_copy=None)
    async with app.run_test(size=SIZE) as pilot:
        app.tick()
        first = await rendered(pilot, app)
        assert "Incident: SMS failing" in first  # 1 Declare, selected at start
        renders = count_renders(app)
        reads = count_reads(monkeypatch)
        pane = app.screen.query_one(TemplatesPane)
        live = [LiveFacts()]
        app.live_facts = lambda: live[0]  # what the sources saw last, as a poll leaves it

        def poll(facts: LiveFacts) -> None:
            live[0] = pane.facts = facts  # as the app feeds the pane after a poll

        # Ten seconds of ticks within one minute, and polls with facts the declaration does not show.
        clock.advance(seconds=-clock().second)  # the minute's start: ten ticks stay in it
        app.tick()
        await settle(pilot, app, "template-preview")
        renders.clear()
        for n in range(10):
            clock.advance(seconds=1)
            app.tick()
            poll(
                LiveFacts(
                    top_errors=[ErrorLine("TimeoutError", "pool exhausted", 100 + n)],
                    errors_per_minute=f"increasing ({n}/min)",
                    db_health=f"{n}/100 connections",
                )
            )
            await pilot.pause()
        await settle(pilot, app, "template-preview")
        assert renders == []
        assert reads == []  # nor read from disk

        # A field the declaration shows: rendered again, once.
        journal.append(incident.incident_id, ev.FieldEdited("title", "SMS and email failing"))
        app.sync_journal()
        assert "Incident: SMS and email failing" in await rendered(pilot, app)
        assert renders == ["internal_declaration"]
        assert reads == []  # the file had not changed

        # The internal update shows the errors per minute: a poll that changes them renders it.
        app.screen.query_one(TemplateList).focus()
        await pilot.press("down")  # 2 Update
        assert "increasing (9/min)" in await rendered(pilot, app)
        renders.clear()
        poll(LiveFacts(errors_per_minute="decreasing (3/min)"))
        assert "decreasing (3/min)" in await rendered(pilot, app)
        assert renders == ["internal_update"]
        poll(LiveFacts(errors_per_minute="decreasing (3/min)", db_health="1/100 connections"))
        await settle(pilot, app, "template-preview")
        assert renders == ["internal_update"]  # the update does not show database health

        # Its file rewritten: read and rendered again.
        path = team / "internal_update.txt.j2"
        path.write_text("Update: {{ errors_per_minute }} (rewritten)\n", encoding="utf-8")
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        pane.refresh_preview()
        assert "(rewritten)" in await rendered(pilot, app)
        assert path in reads
        assert "(rewritten)" in await shown(pilot, app)


def test_a_template_file_is_read_once_per_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "team"
    folder.mkdir()
    path = folder / "internal_update.txt.j2"
    path.write_text("Update: {{ errors_per_minute }}\n", encoding="utf-8")
    templates = TemplateSet(folder)
    info = templates.get("internal_update")
    assert info is not None
    reads = count_reads(monkeypatch)
    context = {"errors_per_minute": "3/min"}
    for _ in range(5):
        assert templates.render(info, context).text == "Update: 3/min"
    assert templates.reads(info) == frozenset({"errors_per_minute"})
    assert reads == []  # read once, when listed (a team's file: its front matter), never again
    path.write_text("Update now: {{ errors_per_minute }}\n", encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    info = templates.get("internal_update")
    assert info is not None and templates.render(info, context).text == "Update now: 3/min"
    assert reads == [path]  # the new version, once


def test_a_template_that_includes_another_depends_on_every_key(tmp_path: Path) -> None:
    folder = tmp_path / "team"
    folder.mkdir()
    (folder / "internal_update.txt.j2").write_text('{% include "part.inc" %}\n', encoding="utf-8")
    (folder / "part.inc").write_text("{{ db_health }}\n", encoding="utf-8")
    templates = TemplateSet(folder)
    info = templates.get("internal_update")
    assert info is not None
    assert templates.reads(info) is None


async def test_a_poll_builds_the_message_context_once(tmp_path: Path, clock: ManualClock) -> None:
    """A poll sets the pane's facts and shows it the incident: each asked for the preview, and
    the whole message context was built twice per poll (4.6 % of the idle console's samples)."""
    settings = make_settings(tmp_path / "s")
    journal = make_journal(settings, clock)
    journal.declare("P0", "SMS failing", impact="all sends", lead="alice", playbook=settings.playbook)
    app = make_app(settings, journal, clock, system_copy=None)
    async with app.run_test(size=SIZE) as pilot:
        app.tick()
        await rendered(pilot, app)
        pane = app.screen.query_one(TemplatesPane)
        built: list[object] = []
        real = app.comms.context

        def counting(*args: Any, **kwargs: Any) -> Any:
            built.append(args)
            return real(*args, **kwargs)

        app.comms.context = counting  # type: ignore[method-assign]
        facts = LiveFacts(errors_per_minute="increasing (5/min)")
        app.live_facts = lambda: facts  # type: ignore[method-assign]
        app.feed(pane)  # as after a poll: the facts, then the incident
        await pilot.pause()
        assert len(built) == 1
        app.feed(pane)  # the same again: nothing new to build from
        app.tick()
        await pilot.pause()
        assert len(built) == 1
        facts = LiveFacts(errors_per_minute="decreasing (2/min)")
        app.feed(pane)
        await pilot.pause()
        assert len(built) == 2
