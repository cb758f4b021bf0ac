"""A clock tick repaints the text that follows the clock, and lays nothing out: a layout
repaints every widget on the screen, which once a second was most of an idle console's CPU
(bench/RESULTS.md, idle)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult
from textual.content import Content
from textual.widgets import Static

from conftest import ManualClock
from uihelpers import make_app, make_journal, make_settings, shown
from warroom.ui.base import update_static


def count_layouts(app: Any) -> list[int]:
    """How many times the screen is laid out from now on (a one-element list, counting)."""
    screen = app.screen
    real = screen._refresh_layout
    seen = [0]

    def counting(*args: Any, **kwargs: Any) -> None:
        seen[0] += 1
        real(*args, **kwargs)

    screen._refresh_layout = counting
    return seen


async def test_a_tick_changes_the_clock_text_without_a_layout(tmp_path: Path, clock: ManualClock) -> None:
    settings = make_settings(tmp_path)
    journal = make_journal(settings, clock)
    journal.declare("P0", "SMS failing", impact="all sends", lead="alice", playbook=settings.playbook)
    app = make_app(settings, journal, clock)
    async with app.run_test(size=(200, 60)) as pilot:
        app.tick()
        before = await shown(pilot, app)
        layouts = count_layouts(app)
        for _ in range(3):
            clock.advance(seconds=1)
            app.tick()
            await pilot.pause()
        after = await shown(pilot, app)
        assert "T+3s" in after and "T+3s" not in before  # the header, the timer and the phase moved on
        assert "3s / 5min" in after  # the time spent in the phase
        assert layouts[0] == 0


class OneLine(App[None]):
    CSS = "Static { width: 20; height: auto; }"

    def compose(self) -> ComposeResult:
        yield Static("a", id="text")


async def test_update_static_lays_out_only_when_the_height_changes() -> None:
    app = OneLine()
    async with app.run_test(size=(40, 10)) as pilot:
        static = app.query_one("#text", Static)
        await pilot.pause()
        layouts = count_layouts(app)
        update_static(static, Content("b"))  # one line for one line
        await pilot.pause()
        assert layouts[0] == 0 and static.content == Content("b")
        update_static(static, Content("x" * 30))  # wraps to two lines
        await pilot.pause()
        assert layouts[0] > 0 and static.size.height == 2
        seen = layouts[0]
        update_static(static, Content("c\nd"))  # two lines for two
        await pilot.pause()
        assert layouts[0] == seen and static.size.height == 2
        update_static(static, Content("e"))
        await pilot.pause()
        assert layouts[0] > seen and static.size.height == 1


def count_refreshes(monkeypatch: Any) -> list[str]:
    """The widgets refreshed (repainted or laid out) from now on: ``Class#id`` each time."""
    from textual.widget import Widget

    real = Widget.refresh
    seen: list[str] = []

    def counting(self: Widget, *args: Any, **kwargs: Any) -> Any:
        seen.append(f"{type(self).__name__}#{self.id}")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Widget, "refresh", counting)
    return seen


CLOCK_TEXT = {"IncidentHeader#header", "Digits#timer-digits", "Static#timer-lines", "Static#phase-lines"}


async def test_a_tick_repaints_only_the_clock_texts(
    tmp_path: Path, clock: ManualClock, monkeypatch: Any
) -> None:
    settings = make_settings(tmp_path)
    journal = make_journal(settings, clock)
    journal.declare("P0", "SMS failing", impact="all sends", lead="alice", playbook=settings.playbook)
    app = make_app(settings, journal, clock)
    async with app.run_test(size=(200, 60)) as pilot:
        app.tick()
        await shown(pilot, app)
        clock.advance(seconds=-clock().second)  # ticks within one minute (the preview's times)
        app.tick()
        await shown(pilot, app)
        refreshed = count_refreshes(monkeypatch)
        for _ in range(5):
            clock.advance(seconds=1)
            app.tick()
            await pilot.pause()
        assert set(refreshed) == CLOCK_TEXT
        assert len(refreshed) == 5 * len(CLOCK_TEXT)


async def test_a_poll_that_changes_nothing_repaints_no_pane(
    tmp_path: Path, clock: ManualClock, monkeypatch: Any
) -> None:
    """The app gives every pane what it shows after each poll (``feed``): a pane whose data is
    the same repaints nothing (its title, its list's rows, its border)."""
    settings = make_settings(tmp_path)
    journal = make_journal(settings, clock)
    journal.declare("P0", "SMS failing", impact="all sends", lead="alice", playbook=settings.playbook)
    app = make_app(settings, journal, clock)
    async with app.run_test(size=(200, 60)) as pilot:
        app.tick()
        await shown(pilot, app)
        refreshed = count_refreshes(monkeypatch)
        for _ in range(3):
            app.feed_all()
            await pilot.pause()
        assert set(refreshed) <= {"IncidentHeader#header"}, sorted(set(refreshed))


class ThreeLines(App[None]):
    CSS = "Static { width: 30; height: auto; }"

    def compose(self) -> ComposeResult:
        yield Static(Content("phase 1  5s\nphase 2  —\nphase 3  —"), id="text")


async def test_update_static_repaints_only_the_lines_that_changed(monkeypatch: Any) -> None:
    """A countdown changes one line of several each second: only that line is repainted (and
    sent to the terminal), the text on screen is the new one; a change of style alone (the time
    turning red) is a change too (``Content ==`` compares the text alone)."""
    from textual.geometry import Region
    from textual.widget import Widget

    from uihelpers import screen_text

    app = ThreeLines()
    async with app.run_test(size=(40, 10)) as pilot:
        static = app.query_one("#text", Static)
        await pilot.pause()
        real = Widget.refresh
        calls: list[tuple[Region, ...]] = []

        def recording(self: Widget, *regions: Region, **kwargs: Any) -> Any:
            if self is static:
                calls.append(regions)
            return real(self, *regions, **kwargs)

        monkeypatch.setattr(Widget, "refresh", recording)
        update_static(static, Content("phase 1  6s\nphase 2  —\nphase 3  —"))
        await pilot.pause()
        assert calls == [(Region(0, 0, 30, 1),)]
        assert "phase 1  6s" in screen_text(app)
        calls.clear()
        red = Content.assemble("phase 1  ", ("6s", "bold red"), "\nphase 2  —\nphase 3  —")
        update_static(static, red)
        await pilot.pause()
        assert calls == [(Region(0, 0, 30, 1),)]
        assert static.content.is_same(red)
        calls.clear()
        update_static(static, Content("phase 1  6s\nphase 2  1s\nphase 3  —\nphase 4"))  # a line more
        await pilot.pause()
        assert calls and calls[0] == ()  # the whole text, laid out again
        assert static.size.height == 4 and "phase 4" in screen_text(app)
