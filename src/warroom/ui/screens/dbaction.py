"""The dialogs of the database actions (see :mod:`warroom.ui.dbactions`): pick a backend from the
Database pane's list, confirm the exact SQL, give a campaign's id."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from warroom.durations import format_duration
from warroom.text import clean
from warroom.ui.screens.modals import ChoiceModal, Dialog
from warroom.ui.widgets import NoWrapOptionList
from warroom.ui.widgets import TextInput as Input

if TYPE_CHECKING:
    from warroom.sources.dbpoll import Backend

ROLE_WORDS = {"blocker": "blocking", "blocked": "blocked", "longest": "longest", "session": ""}


def backend_line(b: Backend) -> Content:
    """``pid 4242 blocking  10m 12s idle in transaction  UPDATE campaigns…`` (one line)."""
    age = format_duration(timedelta(seconds=b.seconds)) if b.seconds is not None else "–"
    return Content.assemble(
        (f"pid {b.pid:<6} ", "bold"),
        (f"{ROLE_WORDS.get(b.role, b.role):<9}", "bold $text-error" if b.role == "blocker" else ""),
        (f"{age:>7} ", "$text-warning"),
        (f"{b.state[:19]:<19}  ", "$text-muted"),
        (b.query, ""),
    )


class BackendPickModal(Dialog):
    """Pick one of the Database pane's backends; returns its pid."""

    DEFAULT_CSS = """
    BackendPickModal > #box { width: 130; }
    BackendPickModal #backends { height: auto; max-height: 12; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, title: str, backends: tuple[Backend, ...]) -> None:
        super().__init__(
            title, "↑↓ choose · enter picks (the SQL is shown before anything runs) · esc cancels"
        )
        self._backends = backends

    def body(self) -> ComposeResult:
        ol = NoWrapOptionList(
            *[Option(backend_line(b), id=str(b.pid)) for b in self._backends], id="backends"
        )
        ol.highlighted = 0
        yield ol

    @on(OptionList.OptionSelected, "#backends")
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(event.option.id or 0))


class SqlConfirmModal(ChoiceModal):
    """The exact SQL, where it runs, and run it or not."""

    DEFAULT_CSS = """
    SqlConfirmModal #sql { color: $text-warning; text-style: bold; margin-bottom: 1; }
    SqlConfirmModal #where { color: $text-muted; margin-bottom: 1; }
    """

    def __init__(self, title: str, sql: str, where: str) -> None:
        super().__init__(
            title,
            [("no", "Do not run it"), ("run", "Run it")],  # not running is the default
            "↓ enter runs it · esc cancels (nothing runs)",
        )
        self._sql = sql
        self._where = where

    def body(self) -> ComposeResult:
        yield Static(Content(self._sql), id="sql")
        yield Static(Content(self._where), id="where")
        yield from super().body()


class CampaignModal(Dialog):
    """The id of the campaign to pause."""

    def __init__(self, sql: str) -> None:
        super().__init__("Pause a campaign: its id ($1)", f"{sql} · enter goes on · esc cancels")

    def body(self) -> ComposeResult:
        yield Input(placeholder="the campaign's id", id="campaign")

    @on(Input.Submitted, "#campaign")
    def submit(self, event: Input.Submitted) -> None:
        cid = clean(event.value, max_len=200).strip()
        if not cid:
            self.show_error("The campaign's id is empty.")
            return
        self.dismiss(cid)
