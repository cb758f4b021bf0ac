"""The war-room console: header, severity timer, phases, checklists, data panes, timeline.

Two layouts, chosen by terminal size: *wide* (three columns of split panes) and *compact*
(the timer strip on top and the panes as tabs). Crossing the breakpoint recomposes the screen;
panes re-render from the app's state, so nothing is lost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal, Vertical
from textual.content import Content
from textual.lazy import Lazy
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, TabbedContent, TabPane

from warroom.sources.dbpoll import query_pane_index, query_pane_name
from warroom.ui.filter import clear, open_filter
from warroom.ui.header import IncidentHeader
from warroom.ui.panes.checklist import ChecklistPane
from warroom.ui.panes.not_configured import NotConfiguredPane
from warroom.ui.panes.phases import PhasePane
from warroom.ui.panes.timeline import TimelinePane
from warroom.ui.panes.timer import TimerPane
from warroom.ui.zoom import pane_of, restore, toggle_zoom

if TYPE_CHECKING:
    from warroom.settings import Settings
    from warroom.ui.app import WarroomApp

WIDE = (150, 36)  # columns, rows: three columns of split panes
MEDIUM = (100, 26)  # the incident column on the left, the data panes as tabs on the right

# (key, label, help) of every console key; bindings below are built from the same words.
CONSOLE_BINDINGS: list[Binding] = [
    Binding("n", "app.note", "Note", id="note", tooltip="Add a note to the timeline"),
    Binding(
        "s", "app.severity", "Severity", id="severity", tooltip="Change severity (P0-P3, asks for a reason)"
    ),
    Binding("p", "app.next_phase", "Phase ▶", id="next_phase", tooltip="Next phase"),
    Binding("P", "app.previous_phase", "Phase ◀", show=False, id="previous_phase", tooltip="Previous phase"),
    Binding(
        "e",
        "app.edit",
        "Edit",
        id="edit",
        tooltip="Edit incident fields (title, impact, lead, theory, ETA, ...)",
    ),
    Binding(
        "u",
        "app.mark_update('internal')",
        "Int. sent",
        id="internal_sent",
        tooltip="Mark the internal update sent (confirms the last copy)",
    ),
    Binding(
        "U",
        "app.mark_update('customer')",
        "Cust. sent",
        show=False,
        id="customer_sent",
        tooltip="Mark the customer update sent (confirms the last copy)",
    ),
    Binding(
        "r",
        "app.resolve",
        "Resolve",
        id="resolve",
        tooltip="Resolve: shows the resolution criteria, asks to confirm",
    ),
    Binding("y", "app.copy_focused", "Copy", id="copy", tooltip="Copy the focused item"),
    Binding(
        "1",
        "app.template(1)",
        "P0 declaration",
        show=False,
        id="template_1",
        tooltip="Copy the internal P0 declaration (template 1)",
    ),
    Binding(
        "2",
        "app.template(2)",
        "Status update",
        show=False,
        id="template_2",
        tooltip="Copy the internal status update (template 2)",
    ),
    Binding(
        "3",
        "app.template(3)",
        "Resolution",
        show=False,
        id="template_3",
        tooltip="Copy the internal resolution (template 3)",
    ),
    Binding(
        "4",
        "app.template(4)",
        "Customer notice",
        show=False,
        id="template_4",
        tooltip="Copy the customer P0 notification (template 4)",
    ),
    Binding(
        "5",
        "app.template(5)",
        "Customer resolved",
        show=False,
        id="template_5",
        tooltip="Copy the customer resolution (template 5)",
    ),
    Binding(
        "6",
        "app.template(6)",
        "Customer update",
        show=False,
        id="template_6",
        tooltip="Copy the customer status update (template 6)",
    ),
    Binding(
        "L",
        "app.escalate",
        "Escalate",
        show=False,
        id="escalate",
        tooltip="Record an escalation (level and reason)",
    ),
    Binding(
        "A",
        "app.add_action_item",
        "Action item",
        show=False,
        id="add_action_item",
        tooltip="Add an action item for the report (owner, optional due date)",
    ),
    Binding(
        "I",
        "app.assign_action_owner",
        "Item owner",
        show=False,
        id="assign_action_owner",
        tooltip="Assign an owner to an action item (default: you)",
    ),
    Binding(
        "H",
        "app.assign_role",
        "Roles",
        show=False,
        id="assign_role",
        tooltip="Assign or hand over a role (lead, comms, ops, scribe)",
    ),
    Binding(
        "O",
        "app.add_lesson",
        "Lesson",
        show=False,
        id="add_lesson",
        tooltip="Add a lesson for the report (went well / could be improved)",
    ),
    Binding(
        "exclamation_mark",
        "app.page_on_call",
        "Page on-call",
        show=False,
        id="page_on_call",
        tooltip="Page on-call through PagerDuty (its answer goes to the timeline)",
    ),
    Binding(
        "ctrl+z",
        "app.undo_update",
        "Undo sent",
        show=False,
        id="undo_update",
        tooltip="Take back the update u / U just confirmed sent",
    ),
    Binding(
        "v",
        "app.show_last_copy",
        "Show text",
        show=False,
        id="show_last_copy",
        tooltip="Show the last copied text, to select by hand",
    ),
    Binding(
        "w",
        "app.report",
        "Report",
        show=False,
        id="report",
        tooltip="Write the post-incident report (Markdown) to the state dir",
    ),
    Binding(
        "z",
        "zoom",
        "Zoom",
        id="zoom",
        tooltip="Zoom the focused pane to the whole console (z or esc restores)",
    ),
    Binding(
        "slash",
        "filter",
        "Filter",
        id="filter",
        tooltip="Filter the focused list or table (esc clears)",
    ),
    Binding(
        "escape",
        "back",
        "Back",
        show=False,
        id="back",
        tooltip="Clear the focused pane's filter, then unzoom",
    ),
    Binding("question_mark", "app.help", "Help", id="help", tooltip="This help"),
    Binding("q", "app.quit", "Quit", id="quit", tooltip="Quit (no prompt: everything is already saved)"),
    Binding("left_square_bracket", "previous_tab", "Prev tab", show=False, id="previous_tab"),
    Binding("right_square_bracket", "next_tab", "Next tab", show=False, id="next_tab"),
]


# What a pane says when its source is not configured: its title, and how to configure it.
NOT_CONFIGURED: dict[str, tuple[str, str]] = {
    "errors": ("Errors", "Live error tallies need a database: set [database] dsn in warroom.toml, or --dsn."),
    "health": ("Database", "Connection stats need a database: set [database] dsn in warroom.toml, or --dsn."),
    "sms": ("SMS failures", "SMS delivery failures need a database: set [database] dsn, or --dsn."),
    "commits": ("Commits", "Recent commits need a repository: set [git] repo in warroom.toml, or --repo."),
    "status": ("Status pages", "No status pages: add [[status_pages]] entries (name, url) to warroom.toml."),
}


def data_pane(settings: Settings, key: str) -> Widget:
    """The pane for a data source, or a pane saying plainly that it is not configured."""
    s = settings
    if key == "templates":
        from warroom.ui.panes.templates import TemplatesPane

        return TemplatesPane(id="templates")
    if key in ("errors", "health", "sms") and s.database.dsn:
        from warroom.ui.panes.database import ErrorsPane, HealthPane, SmsPane

        return {"errors": ErrorsPane, "health": HealthPane, "sms": SmsPane}[key](id=key)
    index = query_pane_index(key)
    if index is not None and index < len(s.database.panes) and s.database.dsn:
        from warroom.ui.panes.database import QueryTablePane

        return QueryTablePane(index, s.database.panes[index].title, id=key)
    if key == "commits" and s.git.repo is not None:
        from warroom.ui.panes.commits import CommitsPane

        return CommitsPane(id=key)
    if key == "status" and s.status.pages:
        from warroom.ui.panes.upstream import StatusPane

        return StatusPane(id=key)
    if key == "decision":
        from warroom.ui.panes.decision import DecisionPane

        return DecisionPane(id=key)
    command = command_pane_index(key)
    if command is not None and command < len(s.command_panes):
        from warroom.ui.panes.command import CommandPane

        return CommandPane(command, s.command_panes[command].name, id=key)
    return NotConfiguredPane(*NOT_CONFIGURED[key], id=key)


def side_tabs(settings: Settings) -> list[tuple[str, str]]:
    """Tabs under the wide layout's right column: (pane key, label)."""
    return [
        ("templates", "Comms"),
        ("status", "Upstream"),
        ("decision", "Decide"),
        ("sms", "SMS"),
        *extra_tabs(settings),
        *command_tabs(settings),
    ]


def extra_tabs(settings: Settings) -> list[tuple[str, str]]:
    """The team's extra query panes ([[database.panes]])."""
    if not settings.database.dsn:
        return []
    return [(query_pane_name(i), p.title[:16]) for i, p in enumerate(settings.database.panes)]


def command_pane_index(key: str) -> int | None:
    """The index of the ``[[command_panes]]`` entry a pane key names (``command-0``), or None."""
    prefix, _, number = key.partition("-")
    return int(number) if prefix == "command" and number.isdigit() else None


def command_tabs(settings: Settings) -> list[tuple[str, str]]:
    """The team's command panes ([[command_panes]]): (pane key, label)."""
    return [(f"command-{i}", p.name[:16]) for i, p in enumerate(settings.command_panes)]


class ConsoleScreen(Screen[None]):
    BINDINGS: ClassVar = CONSOLE_BINDINGS
    ALLOW_IN_MAXIMIZED_VIEW: ClassVar[str | None] = "IncidentHeader, Footer"
    ESCAPE_TO_MINIMIZE: ClassVar[bool | None] = False  # escape: the focused widget's first (a filter)
    DEFAULT_CSS = """
    ConsoleScreen #body { height: 1fr; }
    ConsoleScreen #grid {
        layout: grid;
        grid-size: 3 2;
        grid-columns: 48 1fr 1fr;
        grid-rows: 17 1fr;
        height: 1fr;
    }
    ConsoleScreen #grid #left { row-span: 2; width: 48; }
    ConsoleScreen #grid #errors { column-span: 2; height: 100%; }
    ConsoleScreen #grid #center, ConsoleScreen #grid #right { height: 100%; width: 100%; }
    ConsoleScreen #grid #commits { height: 1fr; }
    ConsoleScreen #grid #timeline { height: 1fr; }
    ConsoleScreen #left { width: 50; }
    ConsoleScreen.-medium #left { width: 46; }
    ConsoleScreen #center { width: 1fr; }

    ConsoleScreen #left ChecklistPane { height: 1fr; }
    ConsoleScreen #right #health { height: auto; max-height: 12; }
    ConsoleScreen #right-tabs { height: 1fr; }
    ConsoleScreen TabbedContent, ConsoleScreen TabPane { height: 1fr; }
    ConsoleScreen TabPane { padding: 0; }
    ConsoleScreen #tabs { height: 1fr; width: 1fr; }
    ConsoleScreen.-compact TimerPane { height: auto; }
    ConsoleScreen TabPane #commits { height: 2fr; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.layout_mode = ""

    @property
    def wapp(self) -> WarroomApp:
        return self.app  # type: ignore[return-value]

    def wanted_mode(self) -> str:
        w, h = self.app.size
        if w >= WIDE[0] and h >= WIDE[1]:
            return "wide"
        if w >= MEDIUM[0] and h >= MEDIUM[1]:
            return "medium"
        return "compact"

    def compose(self) -> ComposeResult:
        self.layout_mode = self.wanted_mode()
        self.set_class(self.layout_mode == "compact", "-compact")
        self.set_class(self.layout_mode == "medium", "-medium")
        app = self.wapp
        yield IncidentHeader(id="header")
        if self.layout_mode == "wide":
            with Container(id="grid"):
                with Vertical(id="left"):
                    yield TimerPane(id="timer")
                    yield PhasePane(id="phases")
                    yield ChecklistPane(id="checklists")
                # The data panes mount right after the first frame: the incident (header, timer,
                # checklists) is on screen first.
                yield Lazy(data_pane(app.settings, "errors"))
                with Lazy(Vertical(id="center")):
                    yield data_pane(app.settings, "commits")
                    yield TimelinePane(id="timeline")
                with Lazy(Vertical(id="right")):
                    yield data_pane(app.settings, "health")
                    with TabbedContent(id="right-tabs"):
                        for key, label in side_tabs(app.settings):
                            with TabPane(Content(label), id=f"tab-{key}"):
                                yield data_pane(app.settings, key)
        elif self.layout_mode == "medium":
            with Horizontal(id="body"):
                with Vertical(id="left"):
                    yield TimerPane(id="timer")
                    yield PhasePane(id="phases")
                    yield ChecklistPane(id="checklists")
                with Lazy(TabbedContent(id="tabs")):
                    yield from self._data_tabs()
        else:
            timer = TimerPane(id="timer", classes="-compact")
            yield timer
            with TabbedContent(id="tabs"):
                with TabPane("Checklists", id="tab-checklists"):
                    yield ChecklistPane(id="checklists")
                yield from self._data_tabs()
                with TabPane("Phases", id="tab-phases"):
                    yield PhasePane(id="phases")
        yield Footer()

    def _data_tabs(self) -> ComposeResult:
        """The data panes and the timeline as tabs (the medium and compact layouts)."""
        app = self.wapp
        with TabPane("Errors", id="tab-errors"):
            yield data_pane(app.settings, "errors")
        with TabPane("Database", id="tab-database"):
            yield data_pane(app.settings, "health")
            yield data_pane(app.settings, "sms")
        with TabPane("Changes", id="tab-changes"):
            yield data_pane(app.settings, "commits")
            yield data_pane(app.settings, "decision")
        with TabPane("Upstream", id="tab-upstream"):
            yield data_pane(app.settings, "status")
        with TabPane("Comms", id="tab-comms"):
            yield data_pane(app.settings, "templates")
        for key, label in (*extra_tabs(app.settings), *command_tabs(app.settings)):
            with TabPane(Content(label), id=f"tab-{key}"):  # a team's title: never markup
                yield data_pane(app.settings, key)
        with TabPane("Timeline", id="tab-timeline"):
            yield TimelinePane(id="timeline")

    def on_mount(self) -> None:
        self.call_after_refresh(self.focus_first_pane)

    def focus_first_pane(self) -> None:
        for selector in ("#checklist",):
            found = self.query(selector)
            if found:
                found.first().focus()
                return

    def action_zoom(self) -> None:
        if not toggle_zoom(self):
            self.wapp.say("Nothing to zoom: focus a pane first (tab moves between panes).")

    def action_filter(self) -> None:
        if not open_filter(pane_of(self.focused)):
            self.wapp.say("Nothing to filter here: focus a checklist, the timeline, commits or a table.")

    def action_back(self) -> None:
        """Escape: the focused pane's filter goes first, then the zoom."""
        if clear(pane_of(self.focused)):
            return
        if self.maximized is None:
            raise SkipAction
        restore(self)

    async def on_resize(self) -> None:
        if self.layout_mode and self.wanted_mode() != self.layout_mode:
            restore(self)  # the panes are composed again: none stays zoomed
            focused = self.focused.id if self.focused is not None else None
            await self.recompose()
            # The data panes mount lazily after the next refresh: restore the focus after that.
            self.call_after_refresh(self._refocus, focused)

    def _refocus(self, widget_id: str | None, tries: int = 3) -> None:
        found = self.query(f"#{widget_id}") if widget_id else None
        if found:
            widget = found.first()
            if widget.focusable:
                widget.focus()
                return
        if widget_id and tries > 0:
            self.call_after_refresh(self._refocus, widget_id, tries - 1)
            return
        self.focus_first_pane()

    def _tabs(self) -> TabbedContent | None:
        found = self.query("#tabs")
        return found.first(TabbedContent) if found else None

    def action_next_tab(self) -> None:
        self._cycle(+1)

    def action_previous_tab(self) -> None:
        self._cycle(-1)

    def _cycle(self, step: int) -> None:
        tabs = self._tabs() or (
            self.query("#right-tabs").first(TabbedContent) if self.query("#right-tabs") else None
        )
        if tabs is None:
            return
        ids = [pane.id for pane in tabs.query(TabPane) if pane.id]
        if not ids:
            return
        i = ids.index(tabs.active) if tabs.active in ids else 0
        tabs.active = ids[(i + step) % len(ids)]
        pane = tabs.get_pane(tabs.active)
        focusable = [w for w in pane.query("*") if isinstance(w, Widget) and w.focusable]
        if focusable:
            focusable[0].focus()
