"""Filter (``/``): an input appears on top of the focused list or table; rows not containing its
text (case-insensitive) are hidden; Escape clears it.

The hook: a pane whose list can be filtered has a method ``refresh_rows()`` that shows its rows
again from what it last received. The rows pass through :func:`matching` on their way to the
screen (``sync_options`` and ``sync_table`` call it), so a filter holds while data keeps arriving.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar, runtime_checkable
from weakref import WeakKeyDictionary

from rich.table import Table
from rich.text import Text
from textual import on
from textual.binding import Binding
from textual.content import Content
from textual.widget import Widget
from textual.widgets import DataTable, OptionList
from textual.widgets.option_list import Option

from warroom.text import clean
from warroom.ui.widgets import TextInput

if TYPE_CHECKING:
    from warroom.ui.base import Pane

T = TypeVar("T")

# The filter of each list or table (absent: not filtered). Weak: a recomposed pane's list goes.
FILTERS: WeakKeyDictionary[Widget, str] = WeakKeyDictionary()


@runtime_checkable
class Filterable(Protocol):
    """A pane that can show its rows again (through :func:`matching`) when its filter changes."""

    def refresh_rows(self) -> None: ...


def plain(value: object) -> str:
    """The words of a cell or prompt: a grid of cells (a checklist row) reads as its cells'."""
    if isinstance(value, Text | Content):
        return value.plain
    if isinstance(value, Table):
        cells = (plain(cell).strip() for column in value.columns for cell in column.cells)
        return " ".join(c for c in cells if c)
    return str(value)


def option_text(option: Option) -> str:
    return plain(option.prompt)


def row_text(row: tuple[str, Sequence[Any]]) -> str:
    return " ".join(plain(cell) for cell in row[1])


def matching(widget: Widget, rows: list[T], text_of: Callable[[T], str]) -> list[T]:
    """``rows`` less those not containing ``widget``'s filter text (all of them when unfiltered)."""
    needle = FILTERS.get(widget, "").casefold()
    if not needle:
        return rows
    return [r for r in rows if needle in text_of(r).casefold()]


def target(pane: Pane) -> Widget | None:
    """The list or table a pane's filter applies to: its first one (or a widget of rows that
    says it is one, ``FILTERS_ROWS``: a command pane's output)."""
    for widget in pane.query("*"):
        if isinstance(widget, OptionList | DataTable) or getattr(widget, "FILTERS_ROWS", False):
            return widget
    return None


class FilterInput(TextInput):
    """The filter's input, on top of the pane's list; enter goes back to the list (the filter
    stays), escape clears it."""

    BINDINGS: ClassVar = [Binding("escape", "clear_filter", "Clear filter", show=False)]
    DEFAULT_CSS = """
    FilterInput.filter { height: 1; border: none; padding: 0 1; background: $boost; margin: 0; }
    FilterInput.filter:focus { border: none; background: $primary 25%; }
    """

    def __init__(self, pane: Pane, rows: Widget, value: str = "") -> None:
        super().__init__(value=value, placeholder="filter: rows containing… (esc clears)", classes="filter")
        self.pane = pane
        self.rows = rows

    @on(TextInput.Changed)
    def changed(self, event: TextInput.Changed) -> None:
        event.stop()
        apply(self.pane, self.rows, clean(event.value, max_len=200))

    @on(TextInput.Submitted)
    def submitted(self, event: TextInput.Submitted) -> None:
        event.stop()
        if not event.value:
            clear(self.pane)
        else:
            self.rows.focus()

    def action_clear_filter(self) -> None:
        clear(self.pane)


def apply(pane: Pane, rows: Widget, text: str) -> None:
    if text:
        FILTERS[rows] = text
    else:
        FILTERS.pop(rows, None)
    if isinstance(pane, Filterable):
        pane.refresh_rows()


def open_filter(pane: Pane | None) -> bool:
    """Show (or focus again) the filter of ``pane``. False when it has no list to filter."""
    if pane is None or not isinstance(pane, Filterable):
        return False
    rows = target(pane)
    if rows is None:
        return False
    found = pane.query(FilterInput)
    if found:
        found.first().focus()
        return True
    field = FilterInput(pane, rows, FILTERS.get(rows, ""))
    pane.mount(field, before=0)
    field.focus()
    return True


def clear(pane: Pane | None) -> bool:
    """Clear the filter of ``pane`` and put the focus back on its list. False when it had none."""
    if pane is None:
        return False
    rows = target(pane)
    inputs = list(pane.query(FilterInput))
    if not inputs and (rows is None or rows not in FILTERS):
        return False
    for field in inputs:
        field.remove()
    if rows is not None:
        apply(pane, rows, "")
        rows.focus()
    return True
