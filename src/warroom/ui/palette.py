"""What the console offers by name: the command palette's commands (ctrl+p) and the help
screen's sections (``?``), both read from the keys the console and its panes declare."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from textual.app import SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from warroom.ui.screens.console import CONSOLE_BINDINGS, ConsoleScreen

if TYPE_CHECKING:
    from warroom.ui.app import WarroomApp


def help_sections(app: WarroomApp) -> list[tuple[str, list[Binding]]]:
    """Every key of the console, then the checklists' and each pane's (``?``)."""
    from warroom.ui.panes.checklist import ChecklistList

    return [
        ("Console", [b for b in CONSOLE_BINDINGS if b.key not in ("question_mark",)]),
        ("Checklists", list(ChecklistList.BINDINGS)),
        *pane_sections(app),
    ]


def pane_sections(app: WarroomApp) -> list[tuple[str, list[Binding]]]:
    """The keys of each kind of pane (a command pane's only when one is configured)."""
    from warroom.ui.panes.commits import CommitsPane
    from warroom.ui.panes.database import DbPane, HealthPane
    from warroom.ui.panes.decision import DecisionList
    from warroom.ui.panes.templates import TemplateList

    sections = [
        ("Templates pane", list(TemplateList.BINDINGS)),
        ("Commits pane", list(CommitsPane.BINDINGS)),
        ("Decision tree pane", list(DecisionList.BINDINGS)),
        ("Database panes", list(DbPane.BINDINGS)),
        ("Database pane", [b for b in HealthPane.BINDINGS if b not in DbPane.BINDINGS]),
    ]
    if app.settings.command_panes:
        from warroom.ui.panes.command import CommandPane

        sections.append(("Command panes", list(CommandPane.BINDINGS)))
    return sections


def system_commands(
    app: WarroomApp,
    screen: Screen,  # type: ignore[type-arg]
    textuals: Iterable[SystemCommand],
) -> Iterator[SystemCommand]:
    """The palette's commands on ``screen``: the console's keys by name, then Textual's own
    (``textuals``). The read-only view offers only what reads (its commands are called directly,
    not through run_action, so nothing that writes may be listed)."""
    console = app.incident is not None and isinstance(screen, ConsoleScreen)
    if app.read_only:
        if console:
            yield SystemCommand("Show keys", "key ? · every key the console answers to", app.action_help)
        yield from (c for c in textuals if c.title != "Screenshot")
        return
    if console:
        for b in CONSOLE_BINDINGS:
            if b.id in ("quit", "help", "next_tab", "previous_tab"):
                continue
            action = b.action.removeprefix("app.")
            yield SystemCommand(
                f"{b.tooltip or b.description}",
                f"key {b.key}",
                (lambda a=action: app.run_action(a)),  # type: ignore[misc]
            )
        yield SystemCommand("Show keys", "key ? · every key the console answers to", app.action_help)
        for info in app.comms.templates.messages():
            if info.audience == "customer":
                yield SystemCommand(
                    f"Publish to the status page: {info.title}",
                    "key S on the templates pane · the first creates the page's incident, then updates",
                    (lambda i=info: app.reach.publish_template(i)),  # type: ignore[misc]
                )
        acts = app.db_actions
        yield SystemCommand("Cancel a backend's query", "key c in the Database pane", acts.cancel)
        yield SystemCommand("Terminate a backend", "key K in the Database pane", acts.terminate)
        yield SystemCommand("Pause a campaign", "key m in the Database pane", acts.pause_campaign)
    if console and app.incident is not None and not app.incident.is_open:
        yield SystemCommand(
            "Reopen the incident", "it is open again, its countdowns restart", app.action_reopen
        )
        if app.incident.status != "closed":
            yield SystemCommand("Close the incident", "after the post-incident review", app.action_close)
    yield SystemCommand("Declare a new incident", "the playbook's declare form", app.action_declare_new)
    yield SystemCommand("Switch incident", "open another open incident", app.action_switch_incident)
    yield from textuals
