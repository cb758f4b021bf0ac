"""Small dialogs: note, severity, fields, resolve, escalate, show text, confirm.

Each returns its result through ``dismiss``; Escape cancels (returns None). Everything typed is
passed through the sanitizer before it is journaled.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.events import DescendantFocus
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static, TextArea
from textual.widgets.input import Selection
from textual.widgets.option_list import Option

from warroom.durations import describe_duration
from warroom.incident.events import FIELDS
from warroom.text import clean
from warroom.ui.widgets import NoWrapOptionList
from warroom.ui.widgets import TextInput as Input

if TYPE_CHECKING:
    from warroom.playbook import EscalationLevel, Severity


# Saves a dialog's result; returns why it could not (one line), or None.
Save = Callable[[Any], "str | None"]


class Dialog(ModalScreen):  # type: ignore[type-arg]
    """A centred box with a title and a hint line."""

    BINDINGS: ClassVar = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    Dialog { align: center middle; }
    Dialog > #box {
        width: 76; max-width: 95%; height: auto; max-height: 90%;
        border: thick $primary; background: $surface; padding: 1 2;
    }
    Dialog #title { text-style: bold; margin-bottom: 1; }
    Dialog .hint { color: $text-muted; margin-top: 1; }
    Dialog .error { color: $text-error; }
    Dialog Input { margin-bottom: 0; }
    Dialog Label { color: $text-muted; margin-top: 1; }
    """

    def __init__(self, title: str, hint: str = "", *, save: Save | None = None) -> None:
        super().__init__()
        self._title = title
        self._hint = hint
        self._save = save

    def compose(self) -> ComposeResult:
        with Vertical(id="box"):
            yield Static(Content(self._title), id="title")
            yield from self.body()
            yield Static(Content(""), id="error", classes="error")
            if self._hint:
                yield Static(Content(self._hint), classes="hint")

    def on_mount(self) -> None:
        # Notices are drawn above every screen: one left over from before would cover the
        # dialog's hint at 80x24 (what they said is in the timeline, or was for a moment ago).
        self.app.clear_notifications()

    def body(self) -> ComposeResult:
        yield from ()

    def show_error(self, message: str) -> None:
        self.query_one("#error", Static).update(Content(message))

    def action_cancel(self) -> None:
        self.dismiss(None)

    def finish(self, result: Any) -> None:
        """Save (when the dialog was given a way to) and close; a save that fails (a full disk)
        keeps the dialog open with what was typed, and says why."""
        if self._save is not None:
            problem = self._save(result)
            if problem:
                self.show_error(problem)
                return
        self.dismiss(result)


class NoteModal(Dialog):
    def __init__(self, title: str = "Add a note to the timeline", *, save: Save | None = None) -> None:
        super().__init__(title, "enter saves · esc cancels", save=save)

    def body(self) -> ComposeResult:
        yield Input(placeholder="What happened, what you saw, what you decided…", id="note")

    @on(Input.Submitted, "#note")
    def submit(self, event: Input.Submitted) -> None:
        text = clean(event.value, max_len=2000)
        if not text:
            self.show_error("The note is empty.")
            return
        self.finish(text)


class SeverityModal(Dialog):
    """Pick P0-P3, then say why."""

    def __init__(self, severities: Sequence[Severity], current: str, *, save: Save | None = None) -> None:
        super().__init__(
            "Change severity", "↑↓ choose · tab to the reason · enter saves · esc cancels", save=save
        )
        self._severities = list(severities)
        self._current = current

    def body(self) -> ComposeResult:
        options = []
        for sev in self._severities:
            internal = (
                f"updates every {describe_duration(sev.internal_update)}"
                if sev.internal_update
                else "no cadence"
            )
            mark = "  (current)" if sev.key == self._current else ""
            options.append(
                Option(
                    Content.assemble(
                        (f"{sev.key} {sev.name:<9}", "bold"),
                        f" {sev.summary} · response {sev.response_text.lower()} · {internal}",
                        (mark, "$text-muted"),
                    ),
                    id=sev.key,
                )
            )
        ol = NoWrapOptionList(*options, id="severity")
        keys = [s.key for s in self._severities]
        ol.highlighted = keys.index(self._current) if self._current in keys else 0
        yield ol
        yield Label("Reason (required)")
        yield Input(placeholder="e.g. all SMS sending failing, not just one carrier", id="reason")

    @on(OptionList.OptionSelected, "#severity")
    def chosen(self) -> None:
        self.query_one("#reason", Input).focus()

    @on(Input.Submitted, "#reason")
    def submit(self, event: Input.Submitted) -> None:
        ol = self.query_one("#severity", OptionList)
        opt = ol.highlighted_option
        if opt is None or opt.id is None:
            self.show_error("Choose a severity.")
            return
        if opt.id == self._current:
            self.show_error(f"The incident is already {opt.id}.")
            return
        reason = clean(event.value, max_len=500)
        if not reason:
            self.show_error("Say why the severity changes; it goes into the timeline and the report.")
            return
        self.finish((opt.id, reason))


BOX_OUTSIDE_FIELDS = 9  # border 2, title and its margins 3, more-below 1, error 1, hint and margin 2

# Every field the messages use, in the order events.FIELDS gives (internal, then customer words).
EDITABLE = tuple(FIELDS)


class EditFieldsModal(Dialog):
    """Edit the incident's fields; only the changed ones are journaled."""

    BINDINGS: ClassVar = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save"),
    ]
    # One line a field (a label, then a borderless input), so that at 80x24 a dozen fit; the
    # fields scroll between the title and the hints, which always stay in view.
    DEFAULT_CSS = """
    EditFieldsModal > #box { width: 96; padding: 0 2; }
    EditFieldsModal #title { margin: 1 0; }
    EditFieldsModal #fields { height: auto; }
    EditFieldsModal .row { height: 1; }
    EditFieldsModal .row Label { width: 29; margin: 0; color: $text-muted; }
    EditFieldsModal .row Input {
        width: 1fr; height: 1; border: none; padding: 0 1; background: $panel;
    }
    EditFieldsModal .row Input:focus { background: $primary 30%; }
    EditFieldsModal .row:focus-within Label { color: $text; text-style: bold; }
    EditFieldsModal #more { color: $text-warning; height: 1; }
    EditFieldsModal .hint { margin: 0 0 1 0; }
    """

    def __init__(self, values: dict[str, str], focus: str = "title", *, save: Save | None = None) -> None:
        super().__init__(
            "Edit incident fields",
            "ctrl+s saves · tab / shift+tab move · esc cancels",
            save=save,
        )
        self._values = values
        self._focus = focus

    def body(self) -> ComposeResult:
        with VerticalScroll(id="fields"):
            for key in EDITABLE:
                with Horizontal(classes="row"):
                    yield Label(FIELDS[key])
                    yield Input(value=self._values.get(key, ""), id=f"f-{key}")
        yield Static(Content(""), id="more")

    def on_mount(self) -> None:
        for field in self.query(Input):
            field.cursor_position = 0  # every value shows from its first letter
        self.query_one(f"#f-{self._focus}", Input).focus()
        self.fit_fields()
        fields = self.query_one("#fields", VerticalScroll)
        self.watch(fields, "scroll_y", self.say_what_is_hidden, init=False)

    def on_resize(self) -> None:
        self.fit_fields()

    def fit_fields(self) -> None:
        """The fields get the screen's height less what the box needs for its title, the error,
        the hints and its border (so "ctrl+s saves" shows at 80x24); they scroll inside it."""
        fields = self.query_one("#fields", VerticalScroll)
        room = int(self.size.height * 0.9) - BOX_OUTSIDE_FIELDS
        fields.styles.max_height = max(2, room)
        self.call_after_refresh(self.say_what_is_hidden)

    def say_what_is_hidden(self) -> None:
        """How many fields are out of view below (and above), in a line under the fields."""
        fields = self.query_one("#fields", VerticalScroll)
        top, bottom = fields.scroll_y, fields.scroll_y + fields.scrollable_content_region.height
        rows = list(self.query(".row"))
        below = sum(1 for r in rows if r.virtual_region.y + 1 > bottom)
        above = sum(1 for r in rows if r.virtual_region.y < top)
        words = []
        if below:
            words.append(f"↓ {below} more field{'s' if below > 1 else ''} below")
        if above:
            words.append(f"↑ {above} above")
        text = " · ".join(words) + (" (tab moves to them)" if words else "")
        self.query_one("#more", Static).update(Content(text))

    def on_descendant_focus(self, event: DescendantFocus) -> None:
        if isinstance(event.widget, Input):
            self.call_later(self.show_from_the_start, event.widget)
        self.call_after_refresh(self.say_what_is_hidden)

    @staticmethod
    def show_from_the_start(field: Input) -> None:
        """All of the value selected (typing replaces it), the cursor on its first letter, so a
        long value shows from its start rather than its end."""
        if field.has_focus and field.value:
            field.selection = Selection(len(field.value), 0)

    @on(Input.Submitted)
    def next_or_save(self, event: Input.Submitted) -> None:
        if event.input.id == f"f-{EDITABLE[-1]}":
            self.action_save()
        else:
            self.focus_next()

    def action_save(self) -> None:
        changed = {}
        for key in EDITABLE:
            value = clean(self.query_one(f"#f-{key}", Input).value, max_len=1000)
            if key == "title" and not value:
                self.show_error("The title cannot be empty.")
                return
            if value != self._values.get(key, ""):
                changed[key] = value
        self.finish(changed)


class ResolveModal(Dialog):
    """Shows the resolution criteria and their state, asks to confirm."""

    BINDINGS: ClassVar = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self, criteria: list[tuple[str, str, str]], resolution: str, *, save: Save | None = None
    ) -> None:
        super().__init__(
            "Resolve the incident?",
            "enter resolves · esc cancels (the criteria are the playbook's)",
            save=save,
        )
        self._criteria = criteria  # (state: met|open|unknown, text, detail)
        self._resolution = resolution

    def body(self) -> ComposeResult:
        lines = []
        for state, text, detail in self._criteria:
            mark, style = {"met": ("☑", "$text-success"), "open": ("☐", "$text-warning")}.get(
                state, ("?", "$text-muted")
            )
            lines.append(
                Content.assemble(
                    (f"{mark} ", f"bold {style}"),
                    (text, ""),
                    (f"  {detail}" if detail else "", "$text-muted"),
                )
            )
        yield Static(Content("\n").join(lines), id="criteria")
        unmet = sum(1 for s, _, _ in self._criteria if s != "met")
        if unmet:
            yield Static(
                Content.styled(
                    f"{unmet} {'criterion' if unmet == 1 else 'criteria'} not confirmed. "
                    "You can still resolve.",
                    "$text-warning",
                ),
            )
        yield Label("What was done (resolution)")
        yield Input(value=self._resolution, placeholder="e.g. rolled back deploy a1b2c3d", id="resolution")

    def on_mount(self) -> None:
        self.query_one("#resolution", Input).focus()

    @on(Input.Submitted, "#resolution")
    def submit(self, event: Input.Submitted) -> None:
        self.finish(clean(event.value, max_len=1000))


class EscalateModal(Dialog):
    """Pick the level (it opens on the current one), then say why; the current level again is
    refused (a no-op escalation)."""

    def __init__(self, levels: Sequence[EscalationLevel], current: int, *, save: Save | None = None) -> None:
        super().__init__(
            "Record an escalation", "↑↓ choose · tab to the reason · enter saves · esc cancels", save=save
        )
        self._levels = list(levels)
        self._current = current

    def body(self) -> ComposeResult:
        ol = NoWrapOptionList(
            *[
                Option(
                    Content.assemble(
                        (f"L{lv.level} {lv.name}", "bold"),
                        (f"  {lv.trigger}", "$text-muted"),
                        ("  (current)" if lv.level == self._current else "", "$text-muted"),
                    ),
                    id=str(lv.level),
                )
                for lv in self._levels
            ],
            id="level",
        )
        levels = [lv.level for lv in self._levels]
        ol.highlighted = levels.index(self._current) if self._current in levels else 0
        yield ol
        yield Label("Reason (required)")
        yield Input(placeholder="e.g. data breach suspected", id="reason")

    @on(OptionList.OptionSelected, "#level")
    def chosen(self) -> None:
        self.query_one("#reason", Input).focus()

    @on(Input.Submitted, "#reason")
    def submit(self, event: Input.Submitted) -> None:
        opt = self.query_one("#level", OptionList).highlighted_option
        reason = clean(event.value, max_len=500)
        if opt is None or opt.id is None:
            self.show_error("Choose a level.")
            return
        if int(opt.id) == self._current:
            self.show_error(f"Already at L{self._current}; choose another level (↑↓).")
            return
        if not reason:
            self.show_error("Say why; it goes into the timeline and the report.")
            return
        self.finish((int(opt.id), reason))


class TextModal(Dialog):
    """Shows text to select by hand (for terminals where no clipboard works)."""

    DEFAULT_CSS = """
    TextModal > #box { width: 100; height: 90%; }
    TextModal TextArea { height: 1fr; }
    TextModal #detail { height: auto; max-height: 8; color: $text-muted; margin-bottom: 1; }
    """

    def __init__(self, title: str, text: str, detail: str = "") -> None:
        super().__init__(title, "select with the mouse (shift+drag in most terminals) · esc closes")
        self._text = text
        self._detail = detail  # where the text went (clipboards, the outbox file), what is left

    def body(self) -> ComposeResult:
        if self._detail:
            yield Static(Content(self._detail), id="detail")
        yield TextArea(self._text, read_only=True, soft_wrap=True, id="text")


class ChoiceModal(Dialog):
    """A question with a few answers; returns the chosen answer's key."""

    def __init__(
        self,
        question: str,
        choices: list[tuple[str, str]],
        hint: str = "↑↓ choose · enter records the answer in the journal · esc cancels",
    ) -> None:
        super().__init__(question, hint)
        self._choices = choices

    def body(self) -> ComposeResult:
        ol = NoWrapOptionList(*[Option(Content(label), id=key) for key, label in self._choices], id="choices")
        ol.highlighted = 0
        yield ol

    @on(OptionList.OptionSelected, "#choices")
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)
