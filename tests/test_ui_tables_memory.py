"""A pane's table keeps a bounded render cache: every update changes the cache keys (they hold
the table's update count), so at DataTable's own sizes each poll added a screen of entries that
were never read again (tracemalloc in the demo: the largest growth after start-up)."""

from __future__ import annotations

from textual.app import App, ComposeResult

from uihelpers import screen_text
from warroom.ui.tables import RENDER_CACHES, KeyedTable, sync_table

ROWS, COLUMNS, POLLS = 40, 8, 40


class OneTable(App[None]):
    def compose(self) -> ComposeResult:
        yield KeyedTable(id="t")


async def test_a_table_updated_every_poll_keeps_a_bounded_render_cache() -> None:
    app = OneTable()
    async with app.run_test(size=(200, 60)) as pilot:
        table = app.query_one(KeyedTable)
        for c in range(COLUMNS):
            table.add_column(f"c{c}", key=f"c{c}")
        for poll in range(POLLS):
            sync_table(table, [(f"r{r}", [f"{poll}:{r}:{c}" for c in range(COLUMNS)]) for r in range(ROWS)])
            await pilot.pause()
        assert f"{POLLS - 1}:0:0" in screen_text(app)  # the last poll's cells are what is shown
        cells = len(table._cell_render_cache)
        assert cells <= RENDER_CACHES["_cell_render_cache"]
        assert len(table._line_cache) <= RENDER_CACHES["_line_cache"]
        # A screen of cells was rendered per poll: without the bound the cache would hold them all.
        assert POLLS * min(ROWS, 57) * COLUMNS > RENDER_CACHES["_cell_render_cache"]


async def test_the_render_caches_hold_only_the_current_update() -> None:
    """Entries from before the last update are never read again (their keys hold the update
    count): the caches keep about a screen's worth, not their bound, however slowly the table
    changes (the commits pane's ages change once a minute and filled the bound over half an hour)."""
    app = OneTable()
    async with app.run_test(size=(200, 30)) as pilot:
        table = app.query_one(KeyedTable)
        for c in range(COLUMNS):
            table.add_column(f"c{c}", key=f"c{c}")
        for poll in range(POLLS):
            sync_table(table, [(f"r{r}", [f"{poll}:{r}:{c}" for c in range(COLUMNS)]) for r in range(10)])
            await pilot.pause()
            table.move_cursor(row=poll % 10)  # the cursor moves between updates: no new update
            await pilot.pause()
        assert f"{POLLS - 1}:0:0" in screen_text(app)
        visible = 10 + 1  # the rows and the header
        assert len(table._line_cache) <= 2 * visible, len(table._line_cache)
        assert len(table._cell_render_cache) <= 2 * visible * COLUMNS, len(table._cell_render_cache)
