"""Declare an incident: severity, title, impact, lead, with the playbook's severity table beside it."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, Footer, Label, OptionList, Static
from textual.widgets.option_list import Option

from warroom.durations import describe_duration
from warroom.text import clean
from warroom.ui.widgets import NoWrapOptionList
from warroom.ui.widgets import TextInput as Input

if TYPE_CHECKING:
    from warroom.playbook import Playbook
    from warroom.ui.app import WarroomApp


def severity_table(playbook: Playbook) -> Content:
    rows: list[Content] = []
    for sev in playbook.severities.values():
        internal = describe_duration(sev.internal_update) if sev.internal_update else "none"
        customer = describe_duration(sev.customer_update) if sev.customer_update else "none"
        rows.append(
            Content.assemble((f"{sev.key} - {sev.name} ", "bold"), (f"({sev.summary})", "$text-muted"))
        )
        rows.append(Content(f"  Response: {sev.response_text}"))
        rows.append(Content(f"  Updates: internal {internal}, customer {customer}"))
        rows.append(Content(f"  Impact: {sev.impact}"))
        for example in sev.examples:
            rows.append(Content.styled(f"  · {example}", "$text-muted"))
        rows.append(Content(""))
    return Content("\n").join(rows)


class DeclareScreen(Screen[str]):
    """Returns the new incident's id (via dismiss) or None when cancelled."""

    BINDINGS: ClassVar = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "declare", "Declare"),
        Binding("q", "app.quit", "Quit", show=False),
    ]
    DEFAULT_CSS = """
    DeclareScreen { layout: vertical; }
    DeclareScreen #declare-body { height: 1fr; }
    DeclareScreen #form { width: 1fr; min-width: 40; padding: 1 2; }
    DeclareScreen #table { width: 1fr; border-left: tall $border-blurred; padding: 1 2; }
    DeclareScreen #heading { text-style: bold; color: $text-error; margin-bottom: 1; }
    DeclareScreen Label { color: $text-muted; margin-top: 1; }
    DeclareScreen #severity { height: auto; max-height: 8; }
    DeclareScreen #error { color: $text-error; margin-top: 1; }
    DeclareScreen Button { margin-top: 1; }
    DeclareScreen.-narrow #table { display: none; }
    """

    def __init__(self, *, cancellable: bool = False) -> None:
        super().__init__()
        self._cancellable = cancellable
        self._declaring = False  # a shared declaration under way (the team's id being asked)

    @property
    def wapp(self) -> WarroomApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        pb = self.wapp.settings.playbook
        with Horizontal(id="declare-body"):
            with VerticalScroll(id="form"):
                yield Static(Content("Declare an incident"), id="heading")
                yield Label("Severity")
                ol = NoWrapOptionList(
                    *[
                        Option(Content.assemble((f"{s.key} {s.name:<10}", "bold"), s.summary), id=s.key)
                        for s in pb.severities.values()
                    ],
                    id="severity",
                )
                ol.highlighted = 0
                yield ol
                yield Label("Title: what is broken, in a few words")
                yield Input(placeholder="SMS sending failing for all campaigns", id="title")
                yield Label("Impact: who or what is affected")
                yield Input(placeholder="All customers; campaigns stuck in sending", id="impact")
                yield Label("Incident lead")
                yield Input(value=self.wapp.settings.user, id="lead")
                yield Static(Content(""), id="error")
                yield Button("Declare (ctrl+s)", variant="error", id="go")
            with VerticalScroll(id="table"):
                yield Static(Content.styled("Severity levels (the playbook)", "bold"))
                yield Static(severity_table(pb))
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#severity", OptionList).focus()
        self.set_class(self.app.size.width < 90, "-narrow")

    def on_resize(self) -> None:
        self.set_class(self.app.size.width < 90, "-narrow")

    @on(OptionList.OptionSelected, "#severity")
    def severity_chosen(self) -> None:
        self.query_one("#title", Input).focus()

    @on(Input.Submitted)
    def next_field(self, event: Input.Submitted) -> None:
        if event.input.id == "lead":
            self.action_declare()
        else:
            self.focus_next()

    @on(Button.Pressed, "#go")
    def pressed(self) -> None:
        self.action_declare()

    def action_declare(self) -> None:
        opt = self.query_one("#severity", OptionList).highlighted_option
        title = clean(self.query_one("#title", Input).value, max_len=200)
        if opt is None or opt.id is None:
            self.query_one("#error", Static).update(Content("Choose a severity."))
            return
        if not title:
            self.query_one("#error", Static).update(Content("A title is needed: what is broken?"))
            self.query_one("#title", Input).focus()
            return
        impact = clean(self.query_one("#impact", Input).value, max_len=500)
        lead = clean(self.query_one("#lead", Input).value, max_len=100)
        if not self.wapp.team.configured:
            incident_id = self.wapp.declare(opt.id, title, impact, lead)
            if incident_id is not None:
                self.dismiss(incident_id)
            return
        if self._declaring:
            return  # asked once already: the answer is on its way
        self._declaring = True
        wait = describe_duration(self.wapp.settings.shared.connect_timeout)
        self.query_one("#error", Static).update(
            Content(f"Asking the team for an incident id (at most {wait})…")
        )
        self.run_worker(
            self._declare_shared(opt.id, title, impact, lead),
            name="declare",
            group="declare",
            exit_on_error=False,
        )

    async def _declare_shared(self, severity: str, title: str, impact: str, lead: str) -> None:
        """The team's id asked without blocking the UI loop; the console opens when it comes."""
        try:
            incident_id = await self.wapp.team.declare(severity, title, impact, lead)
        finally:
            self._declaring = False
        if incident_id is not None:
            self.dismiss(incident_id)
        else:
            self.query_one("#error", Static).update(Content(""))

    def action_cancel(self) -> None:
        if self._cancellable:
            self.dismiss(None)
        else:
            self.app.exit(0)
