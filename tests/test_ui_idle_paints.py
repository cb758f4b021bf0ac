"""What keeps an idle console from painting: a table drops rows without laying out the screen,
one changed list row re-renders that row alone, fresh data's age is coarse, and a poll like the
last one is drawn in the next tick's paint (bench/RESULTS.md, idle)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from conftest import ManualClock
from panedata import StaticApp
from test_ui_clock_repaint import count_layouts
from test_ui_panes import PaneScreen
from uihelpers import make_app, make_journal, make_settings, screen_text, shown
from warroom.sources.dbpoll import ConnectionState, DbPoll, HealthSnapshot, QueryFailure
from warroom.ui.base import age_text, fresh_age_text, sync_options
from warroom.ui.panes.database import HealthPane
from warroom.ui.pollers import DbPolled
from warroom.ui.tables import KeyedTable, sync_table

T0 = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)


def test_fresh_data_says_its_age_coarsely_and_stale_data_to_the_second() -> None:
    ages = {s: fresh_age_text(T0 - timedelta(seconds=s), T0) for s in (0, 3, 9, 10, 25, 59, 60, 125, 7500)}
    assert ages == {
        0: "under 10 s ago",
        3: "under 10 s ago",
        9: "under 10 s ago",
        10: "10 s ago",
        25: "20 s ago",
        59: "50 s ago",
        60: "1m ago",
        125: "2m ago",
        7500: "2h 05m ago",
    }
    assert age_text(T0 - timedelta(seconds=25), T0) == "25 s ago"


class OneTable(App[None]):
    CSS = "KeyedTable { height: 1fr; }"

    def compose(self) -> ComposeResult:
        table = KeyedTable(id="t")
        table.add_column("n", key="n")
        table.add_column("what", key="what")
        yield table


def rows(*names: str) -> list[tuple[str, list[Any]]]:
    return [(name, [Text(str(i)), Text(name)]) for i, name in enumerate(names)]


async def test_a_table_drops_rows_without_laying_out_the_screen() -> None:
    app = OneTable()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(KeyedTable)
        sync_table(table, rows("a", "b", "c", "d"))
        await pilot.pause()
        layouts = count_layouts(app)
        sync_table(table, rows("b", "c", "d", "e"))  # "a" leaves the top rows, "e" comes in
        await pilot.pause()
        await pilot.pause()
        assert [r.key.value for r in table.ordered_rows] == ["b", "c", "d", "e"]
        text = screen_text(app)
        assert " e" in text and " a\n" not in text and " a " not in text
        assert layouts[0] == 0


def prompt(label: str) -> Table:
    row = Table.grid(expand=True)
    row.add_column()
    row.add_row(Text(label))
    return row


class OneList(App[None]):
    def compose(self) -> ComposeResult:
        yield OptionList(*(Option(prompt(f"item {i}"), id=f"o{i}") for i in range(6)))


async def test_one_changed_list_row_is_rendered_again_alone() -> None:
    app = OneList()
    async with app.run_test(size=(60, 12)) as pilot:
        ol = app.query_one(OptionList)
        await pilot.pause()
        others = [ol.get_option(f"o{i}") for i in (0, 1, 3, 4, 5)]
        cached = {k: ol._option_render_cache.get(k) for k in ol._option_render_cache.keys() if k[0] in others}  # noqa: SIM118
        assert cached  # every shown option was rendered once
        sync_options(
            ol, [Option(prompt("item 2 live: 4.2%" if i == 2 else f"item {i}"), id=f"o{i}") for i in range(6)]
        )
        text = await shown(pilot, app)
        assert "item 2 live: 4.2%" in text and "item 5" in text
        for key, strips in cached.items():  # the other rows were not rendered again
            assert ol._option_render_cache.get(key) is strips
        # A row that grows to two lines: the list is measured again and shows every row.
        sync_options(
            ol, [Option(prompt("two\nlines" if i == 2 else f"item {i}"), id=f"o{i}") for i in range(6)]
        )
        text = await shown(pilot, app)
        assert "two" in text and "lines" in text and "item 5" in text


def health(total: int) -> HealthSnapshot:
    return HealthSnapshot(T0, 100, total, 1, 0, 1, 0, 0, None, (), None)


def poll(data: Any) -> DbPoll:
    return DbPoll(T0, ConnectionState("connected", since=T0), health=data)


async def test_a_poll_like_the_last_one_is_drawn_with_the_next_tick(tmp_path: Path) -> None:
    clock = ManualClock(T0)
    settings = make_settings(tmp_path)
    journal = make_journal(settings, clock)
    journal.declare("P0", "SMS failing", impact="all sends", lead="alice", playbook=settings.playbook)
    app = make_app(settings, journal, clock, cls=StaticApp, system_copy=None, tick_interval=1.0)
    async with app.run_test(size=(160, 40)) as pilot:
        for timer in list(app._timers):
            if timer.name == "tick":
                timer.pause()  # the test ticks
        await app.push_screen(PaneScreen(HealthPane))
        await pilot.pause()
        app.post_message(DbPolled(poll(health(11))))
        assert "11/100" in await shown(pilot, app)  # a first answer: at once
        app.post_message(DbPolled(poll(health(22))))
        text = await shown(pilot, app)
        assert "11/100" in text and "22/100" not in text  # the same kind of answer: with the tick
        app.tick()
        assert "22/100" in await shown(pilot, app)
        failed = QueryFailure("db_health", "permission denied", "privilege", T0)
        app.post_message(DbPolled(poll(failed)))
        assert "query failed (privilege)" in await shown(pilot, app)  # a failure: at once
