"""Tables that update in place: rows keyed, cells changed only when they differ, the cursor kept."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import DataTable

from warroom.ui.filter import matching, row_text

# DataTable's render caches, by its attribute names, and what a pane's table keeps. Their keys
# include the table's update count, so every poll that changes a cell adds a whole screen of
# entries and the old ones are never read again: at DataTable's sizes (10,000 cells, 1,000 rows
# and lines per table) they grew the demo's memory by megabytes over its first minutes. A pane
# shows at most a screen of rows (60 rows of 10 cells at 200x60): a few updates' worth is kept.
RENDER_CACHES = {
    "_cell_render_cache": 2000,
    "_row_render_cache": 300,
    "_row_renderable_cache": 300,
    "_line_cache": 300,
}


class KeyedTable(DataTable):  # type: ignore[type-arg]
    BINDINGS: ClassVar = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, size in RENDER_CACHES.items():
            if isinstance(getattr(self, name, None), LRUCache):  # (a later Textual may rename them)
                setattr(self, name, LRUCache(size))

    _cached_for = -1  # the update count the render caches hold entries of
    # Rendered cells by what they show: those drawn since the last update, and those drawn
    # between the two before it. A cell not drawn in either is dropped: the cache holds about
    # two screens of cells, never the counts of earlier polls.
    _cells: dict[tuple[Any, ...], Any] | None = None
    _cells_before: dict[tuple[Any, ...], Any] | None = None

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> Any:
        """DataTable's, kept by what the cell shows rather than by the table's update count: a
        poll that changes a row's count makes DataTable render every cell on the screen again
        through Rich (its cache keys hold the count of updates to the whole table), the header
        and the unchanged messages, types and times included. Keyed by everything its result
        depends on: the cell's contents, its place (the row and column are in its segments'
        meta, for the mouse), the style it is drawn in, its width, cursor and hover."""
        if self._cells is None:
            self._cells, self._cells_before = {}, {}
        try:
            if row_index == -1:
                column = self.ordered_columns[column_index]
                shown: Any = column.label
            else:
                row_key = self._row_locations.get_key(row_index)
                if column_index == -1:
                    shown = self.rows[row_key].label
                else:
                    shown = self._data[row_key][self.ordered_columns[column_index].key]
            if not isinstance(shown, Text | str | int | float):
                raise TypeError(shown)  # a renderable of another kind may change in place
            key = (
                row_index,
                column_index,
                cell_key(shown),
                base_style,
                width,
                cursor,
                hover,
                self._show_hover_cursor,
                self._pseudo_class_state,
                self.cursor_type,
                self.show_cursor,
            )
            hash(key)
        except (KeyError, IndexError, TypeError):  # a cell not as expected: DataTable's own way
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        lines = self._cells.get(key)
        if lines is None:
            lines = (self._cells_before or {}).get(key)
            if lines is None:
                lines = super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
            self._cells[key] = lines
        return lines

    def _forget_cells(self) -> None:
        self._cells = self._cells_before = None

    def _clear_caches(self) -> None:
        super()._clear_caches()
        self._forget_cells()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._forget_cells()

    def render_lines(self, crop: Region) -> list[Strip]:
        """DataTable's, after dropping what its render caches hold from before the last update.
        Their keys hold the table's update count, so those entries are never read again; kept,
        each cached line also keeps the crops and divisions the compositor made of it (strips
        with caches of their own), and a table that changes once a minute (the commits' ages)
        kept filling its bounded caches for half an hour (bench/RESULTS.md, demo_rss)."""
        if self._update_count != self._cached_for:
            self._cached_for = self._update_count
            for name in RENDER_CACHES:
                cache = getattr(self, name, None)
                if isinstance(cache, LRUCache):
                    cache.clear()
            if self._cells is not None:
                self._cells_before, self._cells = self._cells, {}
        return super().render_lines(crop)

    def remove_row(self, row_key: Any) -> None:
        """DataTable's ``remove_row`` without laying out the screen: it asks for a layout on
        every removal, and a layout arranges and repaints every widget on the screen (the SMS
        table dropped rows on 9 polls of 10). A pane's table has a size set by its pane, not by
        its rows; a removal that changes the scrollable size still lays out, through the
        ``virtual_size`` the table sets when it next measures its rows. A table sized by its
        content (``height: auto``) keeps the layout."""
        layout_asked = self._layout_required
        super().remove_row(row_key)
        if not layout_asked and not self.styles.auto_dimensions:
            self._layout_required = False


def cell_key(cell: Any) -> Any:
    """What a cell shows, as a value to compare and hash: a Text's words, style, alignment and
    styled spans (rich's ``Text ==`` compares the words alone)."""
    if isinstance(cell, Text):
        return (
            "text",
            cell.plain,
            str(cell.style),
            cell.justify,
            cell.no_wrap,
            cell.overflow,
            tuple(cell.spans),
        )
    return (type(cell).__name__, cell)


def same_cell(a: Any, b: Any) -> bool:
    """Cells are equal when they show the same (see :func:`cell_key`)."""
    return bool(cell_key(a) == cell_key(b))


def sync_table(
    table: DataTable,  # type: ignore[type-arg]
    rows: list[tuple[str, list[Any]]],
    sort_columns: tuple[str, ...] = (),
    sort_key: Any = None,
    search: dict[str, str] | None = None,
) -> None:
    """Make ``table`` show ``rows`` (key, cells) in that order, updating rows in place by key
    (never clearing the table: the cursor and scroll stay). When the order differs,
    ``table.sort(*sort_columns, key=sort_key)`` restores it, or, with no sort given, the rows
    out of place are removed and added again. The cursor follows its row; a column's width
    follows its cells (narrower too: a sparkline redrawn for a narrower pane). Rows a filter
    (``/``) hides are left out; ``search`` gives the text a row is found by when its cells show
    less (a subject cut to the pane's width)."""
    if search is None:
        rows = matching(table, rows, row_text)
    else:
        rows = matching(table, rows, lambda r: f"{row_text(r)} {search.get(r[0], '')}")
    cols = list(table.columns.keys())
    wanted = [k for k, _ in rows]
    existing = {r.value for r in table.rows}
    cursor_key = None
    if table.row_count:
        try:
            cursor_key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        except Exception:
            cursor_key = None
    with table.app.batch_update():
        for key in existing - set(wanted):
            table.remove_row(key)
        for key, cells in rows:
            if key in existing:
                for col, value in zip(cols, cells, strict=True):
                    if not same_cell(table.get_cell(key, col), value):
                        table.update_cell(key, col, value, update_width=True)
            else:
                table.add_row(*cells, key=key)
        if [r.key.value for r in table.ordered_rows] != wanted:
            if sort_columns:
                table.sort(*sort_columns, key=sort_key)
            else:
                for key in wanted:
                    table.remove_row(key)
                for key, cells in rows:
                    table.add_row(*cells, key=key)
        fit_columns(table, rows)
        if cursor_key is not None and cursor_key in wanted:
            table.move_cursor(row=table.get_row_index(cursor_key), animate=False)


def fit_columns(table: DataTable, rows: list[tuple[str, list[Any]]]) -> None:  # type: ignore[type-arg]
    """Make each auto-width column as wide as its widest cell or label, narrower too. Set before
    the table draws: a width it works out later (on idle) leaves rows drawn at the old width
    until their next change (a sparkline redrawn wider showed as its blank start)."""
    for i, column in enumerate(table.ordered_columns):
        if not column.auto_width:
            continue
        widest = max((_width(cells[i]) for _, cells in rows if i < len(cells)), default=0)
        column.content_width = max(widest, column.label.cell_len)


def _width(cell: Any) -> int:
    return cell.cell_len if isinstance(cell, Text) else cell_len(str(cell))
