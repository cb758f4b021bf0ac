"""Tables that update in place: rows keyed, cells changed only when they differ, the cursor kept."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable

from warroom.ui.filter import matching, row_text


class KeyedTable(DataTable):  # type: ignore[type-arg]
    BINDINGS: ClassVar = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]


def same_cell(a: Any, b: Any) -> bool:
    """Cells are equal when text, style and alignment are (rich's ``Text ==`` ignores the style)."""
    if isinstance(a, Text) and isinstance(b, Text):
        return (a.plain, str(a.style), a.justify, a.spans) == (b.plain, str(b.style), b.justify, b.spans)
    return bool(a == b)


def sync_table(
    table: DataTable,  # type: ignore[type-arg]
    rows: list[tuple[str, list[Any]]],
    sort_columns: tuple[str, ...] = (),
    sort_key: Any = None,
) -> None:
    """Make ``table`` show ``rows`` (key, cells) in that order, updating rows in place by key
    (never clearing the table: the cursor and scroll stay). When the order differs,
    ``table.sort(*sort_columns, key=sort_key)`` restores it, or, with no sort given, the rows
    out of place are removed and added again. The cursor follows its row. Rows a filter (``/``)
    hides are left out."""
    rows = matching(table, rows, row_text)
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
                        table.update_cell(key, col, value)
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
        if cursor_key is not None and cursor_key in wanted:
            table.move_cursor(row=table.get_row_index(cursor_key), animate=False)
