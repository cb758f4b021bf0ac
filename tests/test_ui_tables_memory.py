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
        kept = len(table._cells or {}) + len(table._cells_before or {})  # by contents: two updates'
        assert 0 < kept <= 2 * 2 * visible * COLUMNS, kept  # (a cursor row is drawn twice)


class Counting(KeyedTable):
    """Counts the cells DataTable renders through Rich (a miss of the cells kept by contents)."""

    rendered: list[tuple[int, int]]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.rendered = []


def _count_renders(monkeypatch: object) -> None:
    from textual.widgets import DataTable

    original = DataTable._render_cell

    def counted(self, row_index, column_index, *args, **kwargs):  # type: ignore[no-untyped-def]
        if isinstance(self, Counting):
            self.rendered.append((row_index, column_index))
        return original(self, row_index, column_index, *args, **kwargs)

    monkeypatch.setattr(DataTable, "_render_cell", counted)  # type: ignore[attr-defined]


class CountingApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Counting(id="t", cursor_type="row", zebra_stripes=True)


async def test_a_poll_that_changes_one_cell_renders_that_cell_alone(monkeypatch: object) -> None:
    """DataTable renders every cell on the screen again after any update (its cache keys hold the
    update count): during a spike the errors table rendered its header, messages and types
    through Rich on every poll. Cells are kept by what they show."""
    _count_renders(monkeypatch)
    app = CountingApp()
    async with app.run_test(size=(120, 20)) as pilot:
        table = app.query_one(Counting)
        for c in range(4):
            table.add_column(f"c{c}", key=f"c{c}")
        rows = [(f"r{r}", [f"{r}:{c}" for c in range(4)]) for r in range(6)]
        sync_table(table, rows)
        await pilot.pause()
        assert len(table.rendered) >= 7 * 4  # the header and six rows, first drawn
        table.rendered.clear()
        rows[3] = ("r3", ["3:X", "3:1", "3:2", "3:3"])  # as wide: the column keeps its width
        sync_table(table, rows)
        await pilot.pause()
        assert "3:X" in screen_text(app)
        assert table.rendered == [(3, 0)], table.rendered


async def test_cells_kept_by_contents_follow_their_row_when_it_moves(monkeypatch: object) -> None:
    """A row sorted to a new place is drawn there with that place's stripe and that place's row
    in its mouse meta (a click selects the row under the pointer)."""
    _count_renders(monkeypatch)
    app = CountingApp()
    async with app.run_test(size=(120, 20)) as pilot:
        table = app.query_one(Counting)
        table.add_column("n", key="n")
        table.add_column("name", key="name")
        sync_table(table, [("a", ["3", "alpha"]), ("b", ["2", "beta"]), ("c", ["1", "gamma"])])
        await pilot.pause()
        sync_table(table, [("c", ["1", "gamma"]), ("b", ["2", "beta"]), ("a", ["3", "alpha"])], ("n",), None)
        await pilot.pause()
        assert [r.key.value for r in table.ordered_rows] == ["c", "b", "a"]
        lines = table.render_lines(table.region.reset_offset)  # header, then the rows in order
        for index, word in enumerate(["gamma", "beta", "alpha"]):
            line = lines[1 + index]
            assert word in line.text
            rows = {seg.style.meta.get("row") for seg in line if seg.style and seg.style.meta}
            assert rows == {index}, (word, rows)
        assert table._render_line_in_row(
            table.ordered_rows[0].key, 0, table.rich_style, table.cursor_coordinate, table.hover_coordinate
        )  # drawn
