"""Zoom (``z``) and filter (``/``): the focused pane fills the console and comes back; the focused
list or table shows only the rows containing the filter's text, and Escape clears it."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, OptionList

from conftest import ManualClock
from panedata import git_snapshot, static_app
from uihelpers import make_app, make_journal, make_settings, shown
from warroom.incident import events as ev
from warroom.ui.filter import FilterInput, option_text
from warroom.ui.screens.help import HelpScreen

SIZE = (160, 48)


def console(tmp_path: Path, clock: ManualClock):  # type: ignore[no-untyped-def]
    settings = make_settings(tmp_path)
    journal = make_journal(settings, clock)
    i = journal.declare("P0", "SMS sending failing", impact="All customers", lead="alice").incident_id
    journal.append(i, ev.NoteAdded("Twilio 30003 errors spiking"))
    journal.append(i, ev.NoteAdded("rolled back deploy 86a46ab"))
    return make_app(settings, journal, clock)


def option_texts(ol: OptionList) -> list[str]:
    return [option_text(ol.get_option_at_index(i)) for i in range(ol.option_count)]


async def test_z_zooms_the_focused_pane_and_z_or_escape_restores_it(
    tmp_path: Path, clock: ManualClock
) -> None:
    app = console(tmp_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        checklists = app.screen.query_one("#checklists")
        before = checklists.region
        await pilot.press("z")
        await pilot.pause()
        assert app.screen.maximized is checklists
        text = await shown(pilot, app)
        assert "Next update" not in text and "Timeline" not in text  # the other panes are gone
        assert "SMS sending failing" in text.splitlines()[0]  # the header stays, and the footer
        assert "z or esc restores" in text and "Zoom" in text.splitlines()[-1]
        assert checklists.region.height > before.height and checklists.region.width > before.width
        await pilot.press("down", "space")  # the zoomed pane still answers its keys
        await pilot.pause()
        assert app.incident is not None and len(app.incident.ticks) == 1
        await pilot.press("z")
        await pilot.pause()
        assert app.screen.maximized is None and checklists.region == before
        assert "Next update" in await shown(pilot, app)
        await pilot.press("z")
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.maximized is None
        assert "z or esc restores" not in await shown(pilot, app)


async def test_slash_filters_the_checklist_and_escape_clears(tmp_path: Path, clock: ManualClock) -> None:
    app = console(tmp_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        ol = app.screen.query_one("#checklist", OptionList)
        everything = option_texts(ol)
        await pilot.press("slash")
        await pilot.pause()
        assert isinstance(app.screen.focused, FilterInput)
        await pilot.press(*"ROLLBACK")  # case does not matter
        await pilot.pause()
        assert option_texts(ol) == ["☐ Consider immediate rollback"]
        await pilot.press("enter")  # back to the list; the filter stays
        await pilot.pause()
        assert app.screen.focused is ol and ol.option_count == 1
        app.tick()  # the pane shows its rows again (a tick, an event): the filter holds
        app.record(ev.NoteAdded("still filtered"))
        await pilot.pause()
        assert ol.option_count == 1
        await pilot.press("escape")
        await pilot.pause()
        assert option_texts(ol) == everything
        assert not app.screen.query(FilterInput)


async def test_slash_filters_the_timeline_as_events_arrive(tmp_path: Path, clock: ManualClock) -> None:
    app = console(tmp_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        timeline = app.screen.query_one("#timeline-list", OptionList)
        timeline.focus()
        await pilot.press("slash", *"twilio")
        await pilot.pause()
        assert [t.split(" ", 2)[2] for t in option_texts(timeline)] == ["Note: Twilio 30003 errors spiking"]
        app.record(ev.NoteAdded("Twilio status page says major"))
        app.record(ev.NoteAdded("not this one"))
        await pilot.pause()
        assert len(option_texts(timeline)) == 2
        await pilot.press("escape")
        await pilot.pause()
        assert timeline.option_count == len(app.incident.events)  # type: ignore[union-attr]


async def test_slash_filters_the_commits_table(tmp_path: Path, clock: ManualClock) -> None:
    app = static_app(tmp_path, clock)
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        app.live.git = git_snapshot(clock.now)
        app.feed_all()
        table = app.screen.query_one("#commits-table", DataTable)
        table.focus()
        await pilot.pause()
        assert table.row_count == 5
        await pilot.press("slash", *"send-sms")
        await pilot.pause()
        assert [r.key.value for r in table.ordered_rows] and table.row_count == 2
        app.live.git = git_snapshot(clock.now)  # a new reading: still filtered
        app.feed_all()
        await pilot.pause()
        assert table.row_count == 2
        await pilot.press("escape")
        await pilot.pause()
        assert table.row_count == 5


async def test_zoom_and_filter_are_in_the_footer_and_the_help(tmp_path: Path, clock: ManualClock) -> None:
    app = console(tmp_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        footer = (await shown(pilot, app)).splitlines()[-1]
        assert "z Zoom" in footer and "/ Filter" in footer
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = await shown(pilot, app)
        assert "Zoom the focused pane" in text and "Filter the focused list or table (esc clears)" in text


async def test_help_keeps_every_key_in_its_column_and_wraps_under_the_description(
    tmp_path: Path, clock: ManualClock
) -> None:
    app = console(tmp_path, clock)
    async with app.run_test(size=(90, 80)) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        lines = (await shown(pilot, app)).splitlines()
        starts = {}
        for what in ("Add a note to the timeline", "Fill fields", "Next", "Previous", "Move between panes"):
            line = next(ln for ln in lines if ln.rstrip(" █▊▎▐▌▕▏│┃╹").endswith(what) or f" {what} " in ln)
            starts[what] = line.index(what)
        assert len(set(starts.values())) == 1, starts  # one column, wider than "j / down / right / l"
        column = starts["Next"]
        key_line = next(ln for ln in lines if "j / down / right / l" in ln)
        assert key_line.index("j / down / right / l") + len("j / down / right / l") < column
        # the zoom's description wraps at this width: its second line starts under the first
        first = next(i for i, ln in enumerate(lines) if "Zoom the focused pane" in ln)
        assert lines[first + 1][:column].strip(" █▊▎▐▌▕▏│┃") == ""
        assert lines[first + 1][column:].strip()
