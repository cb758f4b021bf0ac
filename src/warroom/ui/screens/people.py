"""Who does what: an owner for a checklist item (``o`` on the checklists) or an action item
(``I``), and the war room's roles (``H``: assign or hand over). Each is a journal event
(:class:`~warroom.incident.events.OwnerAssigned`, :class:`~warroom.incident.events.RoleAssigned`,
the same event ``warroom role`` writes), shared with the team like every other event; the name
asked for defaults to the responder at this console ([incident] user)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from warroom.incident import events as ev
from warroom.text import clean
from warroom.ui.screens.modals import ChoiceModal, Dialog, Save
from warroom.ui.widgets import NoWrapOptionList
from warroom.ui.widgets import TextInput as Input

if TYPE_CHECKING:
    from warroom.ui.app import WarroomApp

NAME_MAX = 100  # a person's name, as typed


class OwnerModal(Dialog):
    """Who owns ``what``: a name (the responder's by default); empty clears the owner."""

    def __init__(self, what: str, name: str, current: str = "", *, save: Save | None = None) -> None:
        now = f" (now {current})" if current else ""
        super().__init__(
            f"Owner of: {what}{now}", "enter saves · an empty name: no owner · esc cancels", save=save
        )
        self._name = name

    def body(self) -> ComposeResult:
        yield Label("Owner")
        yield Input(value=self._name, placeholder="who owns it", id="owner")

    @on(Input.Submitted, "#owner")
    def submit(self, event: Input.Submitted) -> None:
        self.finish(clean(event.value, max_len=NAME_MAX))


class RoleModal(Dialog):
    """Choose a role (with who holds it now), then name who takes it (the responder by default;
    empty: nobody holds it now)."""

    def __init__(self, roles: dict[str, str], name: str, *, save: Save | None = None) -> None:
        super().__init__(
            "Assign or hand over a role",
            "↑↓ choose · enter, then the name · empty: nobody · esc cancels",
            save=save,
        )
        self._roles = roles
        self._name = name

    def body(self) -> ComposeResult:
        options = [
            Option(
                Content.assemble(
                    (f"{label:<15}", "bold"),
                    (self._roles.get(key) or "nobody", "" if key in self._roles else "italic"),
                ),
                id=key,
            )
            for key, label in ev.ROLES.items()
        ]
        ol = NoWrapOptionList(*options, id="role")
        ol.highlighted = 0
        yield ol
        yield Label("Who takes it")
        yield Input(value=self._name, placeholder="a name", id="person")

    @on(OptionList.OptionSelected, "#role")
    def chosen(self) -> None:
        self.query_one("#person", Input).focus()

    @on(Input.Submitted, "#person")
    def submit(self, event: Input.Submitted) -> None:
        option = self.query_one("#role", OptionList).highlighted_option
        if option is None or option.id not in ev.ROLES:
            self.show_error("Choose a role.")
            return
        person = clean(event.value, max_len=NAME_MAX)
        held = self._roles.get(option.id, "")
        if person == held:
            self.show_error(f"{ev.ROLES[option.id]} is already {person or 'nobody'}.")
            return
        self.finish(ev.RoleAssigned(option.id, person, held))


def _said(app: WarroomApp, what: str, person: str) -> None:
    app.say(f"{what}: {person}." if person else f"{what}: no owner now.")


def assign_owner(app: WarroomApp) -> None:
    """``o`` on the checklists: an owner for the highlighted item."""
    from warroom.ui.panes.checklist import ChecklistPane

    inc = app.actions.need_incident()
    if inc is None:
        return
    panes = app.screen.query(ChecklistPane)
    found = panes.first().focused_item() if panes else None
    if found is None:
        app.say("Highlight a checklist item first (its owner is asked for).", severity="warning")
        return
    checklist, item = found
    cl = app.settings.playbook.checklist(checklist)
    entry = cl.item(item) if cl is not None else None
    text = entry.text if entry is not None else item
    current = inc.owner(checklist, item)

    def save(person: str) -> str | None:
        if person == current:
            return None
        problem = app.try_record(ev.OwnerAssigned(checklist, item, person, text))
        if problem is None:
            _said(app, "Owner", person)
        return problem

    app.push_screen(OwnerModal(text, app.settings.user, current, save=save))


def assign_action_owner(app: WarroomApp) -> None:
    """``I``: choose an action item, then its owner."""
    inc = app.actions.need_incident()
    if inc is None:
        return
    items = [a for a in inc.action_items if a.event_id]
    if not items:
        app.say("No action items yet: A adds one (with its owner).", severity="warning")
        return

    def chosen(event_id: str | None) -> None:
        item = next((a for a in inc.action_items if a.event_id == event_id), None)
        if item is None:
            return

        def save(person: str) -> str | None:
            if person == item.owner:
                return None
            problem = app.try_record(ev.OwnerAssigned(ev.ACTION_ITEM, item.event_id, person, item.text))
            if problem is None:
                _said(app, "Action item owner", person)
            return problem

        app.push_screen(OwnerModal(item.text, app.settings.user, item.owner, save=save))

    choices = [(a.event_id, f"{a.text[:50]} · {a.owner or 'no owner'}") for a in items]
    app.push_screen(
        ChoiceModal("Which action item?", choices, "↑↓ choose · enter asks its owner · esc cancels"), chosen
    )


def assign_role(app: WarroomApp) -> None:
    """``H``: assign or hand over one of the war room's roles."""
    inc = app.actions.need_incident()
    if inc is None:
        return

    def save(body: ev.RoleAssigned) -> str | None:
        problem = app.try_record(body)
        if problem is None:
            app.say(body.describe())
        return problem

    app.push_screen(RoleModal(dict(inc.roles), app.settings.user, save=save))
