"""Several incidents are open: ask which one to open (or declare another)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from warroom.durations import format_duration, stamp
from warroom.ui.widgets import NoWrapOptionList

if TYPE_CHECKING:
    from warroom.incident.state import Incident
    from warroom.ui.app import WarroomApp

NEW = "\x1fnew"


class PickIncidentScreen(Screen[str]):
    BINDINGS: ClassVar = [
        Binding("q", "app.quit", "Quit"),
        Binding("n", "new", "Declare new"),
        Binding("escape", "cancel", "Back", show=False),
    ]
    DEFAULT_CSS = """
    PickIncidentScreen #box { padding: 1 2; }
    PickIncidentScreen #heading { text-style: bold; margin-bottom: 1; }
    """

    def __init__(self, incidents: list[Incident], *, cancellable: bool = False) -> None:
        super().__init__()
        self._incidents = incidents
        self._cancellable = cancellable

    def compose(self) -> ComposeResult:
        app: WarroomApp = self.app  # type: ignore[assignment]
        now = app.clock()
        tz = app.settings.tz
        options = [
            Option(
                Content.assemble(
                    (f"{inc.id}  ", "bold"),
                    (f"{inc.severity}  ", "bold $text-error" if inc.severity == "P0" else "bold"),
                    (f"{inc.status_text:<13} ", ""),
                    (
                        f"{stamp(inc.declared_at, tz)}  {format_duration(inc.elapsed(now)):>8}  ",
                        "$text-muted",
                    ),
                    (inc.title, ""),
                ),
                id=inc.id,
            )
            for inc in sorted(self._incidents, key=lambda i: i.declared_at, reverse=True)
        ]
        options.append(Option(Content.styled("+ Declare a new incident", "$text-primary"), id=NEW))
        with Vertical(id="box"):
            yield Static(Content(f"{len(self._incidents)} incidents are open. Which one?"), id="heading")
            yield NoWrapOptionList(*options, id="incidents")
        yield Footer()

    def on_mount(self) -> None:
        ol = self.query_one(OptionList)
        ol.highlighted = 0
        ol.focus()

    @on(OptionList.OptionSelected)
    def chosen(self, event: OptionList.OptionSelected) -> None:
        if event.option.id == NEW:
            self.action_new()
        else:
            self.dismiss(event.option.id)

    def action_new(self) -> None:
        self.dismiss(NEW)

    def action_cancel(self) -> None:
        if self._cancellable:
            self.dismiss(None)
