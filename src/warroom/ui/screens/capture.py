"""Capture what the post-incident review needs while it happens, from anywhere in the console:
an action item with its owner and an optional due date (``A``), a lesson, what went well or what
could be improved (``O``). Each is journaled (:class:`~warroom.incident.events.ActionItemAdded`,
:class:`~warroom.incident.events.LessonAdded`) and listed in the report."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from warroom.incident import events as ev
from warroom.text import clean
from warroom.ui.screens.modals import Dialog, Save
from warroom.ui.widgets import TextInput as Input

if TYPE_CHECKING:
    from warroom.ui.app import WarroomApp

ITEM_MAX = 500
OWNER_MAX = 100
DUE_MAX = 100

WENT_WELL = "yes"
TO_IMPROVE = "no"


class ActionItemModal(Dialog):
    """What to do after the incident, who owns it and, optionally, by when."""

    DEFAULT_CSS = """
    ActionItemModal #item-who { height: auto; }
    ActionItemModal #item-who Input { width: 1fr; }
    """

    def __init__(self, *, save: Save | None = None) -> None:
        super().__init__(
            "Add an action item (for the report)",
            "tab moves · enter saves · esc cancels",
            save=save,
        )

    def body(self) -> ComposeResult:
        yield Label("Action item (required)")
        yield Input(placeholder="e.g. Alert on Twilio 429 responses", id="item-text")
        yield Label("Owner (required) and due date (optional)")
        with Horizontal(id="item-who"):
            yield Input(placeholder="who will do it", id="item-owner")
            yield Input(placeholder="e.g. 2026-12-04 or Friday", id="item-due")

    @on(Input.Submitted)
    def submit(self) -> None:
        text = clean(self.query_one("#item-text", Input).value, max_len=ITEM_MAX)
        owner = clean(self.query_one("#item-owner", Input).value, max_len=OWNER_MAX)
        due = clean(self.query_one("#item-due", Input).value, max_len=DUE_MAX)
        if not text:
            self.show_error("Say what is to be done.")
            self.query_one("#item-text", Input).focus()
            return
        if not owner:
            self.show_error("Name an owner: an action item nobody owns does not get done.")
            self.query_one("#item-owner", Input).focus()
            return
        self.finish(ev.ActionItemAdded(text, owner, due))


class LessonModal(Dialog):
    """A lesson for the review: what went well, or what could be improved."""

    def __init__(self, *, save: Save | None = None) -> None:
        super().__init__(
            "Add a lesson learned (for the report)",
            "↑↓ choose · tab to the lesson · enter saves · esc cancels",
            save=save,
        )

    def body(self) -> ComposeResult:
        yield OptionList(
            Option("What went well", id=WENT_WELL),
            Option("What could be improved", id=TO_IMPROVE),
            id="lesson-kind",
        )
        yield Label("Lesson (required)")
        yield Input(placeholder="e.g. the suspect deploy was found in 7 minutes", id="lesson-text")

    def on_mount(self) -> None:
        self.query_one("#lesson-kind", OptionList).highlighted = 0

    @on(OptionList.OptionSelected, "#lesson-kind")
    def chosen(self) -> None:
        self.query_one("#lesson-text", Input).focus()

    @on(Input.Submitted, "#lesson-text")
    def submit(self, event: Input.Submitted) -> None:
        option = self.query_one("#lesson-kind", OptionList).highlighted_option
        if option is None or option.id not in (WENT_WELL, TO_IMPROVE):
            self.show_error("Choose: what went well, or what could be improved.")
            return
        text = clean(event.value, max_len=ITEM_MAX)
        if not text:
            self.show_error("The lesson is empty.")
            return
        self.finish(ev.LessonAdded(option.id, text))


def add_action_item(app: WarroomApp) -> None:
    """``A``: the action item dialog; saved to the journal, said in one line."""
    if app.actions.need_incident() is None:
        return

    def save(body: ev.ActionItemAdded) -> str | None:
        problem = app.try_record(body)
        if problem is None:
            due = f", due {body.due}" if body.due else ""
            app.say(f"Action item added for the report (owner {body.owner}{due}).", severity="information")
        return problem

    app.push_screen(ActionItemModal(save=save))


def add_lesson(app: WarroomApp) -> None:
    """``O``: the lesson dialog; saved to the journal, said in one line."""
    if app.actions.need_incident() is None:
        return

    def save(body: ev.LessonAdded) -> str | None:
        problem = app.try_record(body)
        if problem is None:
            kind = "What went well" if body.went_well == WENT_WELL else "What could be improved"
            app.say(f"Lesson added for the report ({kind}).", severity="information")
        return problem

    app.push_screen(LessonModal(save=save))
