"""The templates pane: the playbook's messages with their keys and a live preview.

Keys 1-6 copy a message from anywhere in the console; here, enter or y copies the highlighted
one, v shows its text to select by hand, e fills the fields it is missing, o posts it to Slack and
S publishes a customer message to the team's status page. Unfilled fields are
the playbook's bracketed placeholders, highlighted in the preview.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static, Tab, Tabs

from warroom.comms.context import LiveFacts
from warroom.ui.base import Pane, update_static

if TYPE_CHECKING:
    from warroom.comms.context import MessageContext
    from warroom.comms.templates import RenderResult, TemplateInfo
    from warroom.incident.state import Incident

PLACEHOLDER_STYLE = "bold $text-warning on $warning-muted"


SHORT = {
    "internal_declaration": "Declare",
    "internal_update": "Update",
    "internal_resolution": "Resolved",
    "customer_notification": "Customer",
    "customer_resolution": "Restored",
    "customer_update": "Cust. update",
}


TAB_PADDING = 2  # a tab's padding (0 1), see TemplatesPane.DEFAULT_CSS


class TemplateList(Tabs):
    """The templates as one row of tabs (key and short name), so the preview gets the room."""

    BINDINGS: ClassVar = [
        Binding("enter,y", "copy_selected", "Copy", id="template_copy"),
        Binding("v", "show_text", "Show text", id="template_show"),
        Binding("e", "fill_fields", "Fill fields", id="template_fill"),
        # In help and the palette, not the footer: with them it lost "q Quit" at 160 columns.
        Binding("o", "post_selected", "Post to Slack", id="template_post", show=False),
        Binding(
            "S",
            "publish_selected",
            "Status page",
            id="template_publish",
            tooltip="Publish to the status page",
            show=False,
        ),
        Binding("j,down,right,l", "next_tab", "Next", show=False),
        Binding("k,up,left,h", "previous_tab", "Previous", show=False),
    ]

    def _pane(self) -> TemplatesPane:
        return self.query_ancestor(TemplatesPane)

    def action_copy_selected(self) -> None:
        info = self._pane().selected()
        if info is not None:
            self._pane().wapp.comms.copy_template(info)

    def action_post_selected(self) -> None:
        info = self._pane().selected()
        if info is not None:
            self._pane().wapp.reach.post_template(info)

    def action_publish_selected(self) -> None:
        info = self._pane().selected()
        if info is not None:
            self._pane().wapp.reach.publish_template(info)

    def action_show_text(self) -> None:
        self._pane().show_text()

    def action_fill_fields(self) -> None:
        self._pane().fill_fields()


class TemplatesPane(Pane):
    """The messages and a preview of the selected one, filled with the incident and the live facts
    (``facts``, set by the app). The preview is rendered again only when what it is rendered from
    changed: the template file, or a value of the context that this template reads (the
    incident's fields, the live facts it shows, its times to the minute); a poll or a clock tick
    that changes nothing it shows renders nothing."""

    TITLE = "Templates"
    facts: reactive[LiveFacts | None] = reactive(None, repaint=False)
    DEFAULT_CSS = """
    TemplatesPane { layout: vertical; }
    TemplatesPane #template-list { height: 2; }
    TemplatesPane #template-list Tab { padding: 0 1; }
    TemplatesPane #template-right { height: 1fr; }
    TemplatesPane #template-status { height: auto; color: $text-muted; }
    TemplatesPane #template-preview { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._last: RenderResult | None = None
        self._ready = False
        # What the preview shows was rendered from: (template, template files' revision, context).
        self._inputs: tuple[Any, ...] | None = None
        self._sources: tuple[Any, ...] | None = None  # what the last context was built from
        self._held: tuple[Any, ...] = ()
        self._minute: datetime | None = None
        self._names: list[str] = []  # the messages' names, in tab order
        self.tab_labels: list[tuple[str, str]] = []  # (key, whole label), in tab order

    def compose(self) -> ComposeResult:
        yield TemplateList(*self._tabs(), id="template-list")
        with Vertical(id="template-right"):
            yield Static(id="template-status")
            with VerticalScroll(id="template-preview"):
                yield Static(id="template-text")

    def on_mount(self) -> None:
        self.border_subtitle = "1-6 copy · enter copy · v text · e fill"
        # Rendering imports Jinja2: do it after the first frame is on screen.
        self.call_after_refresh(self._first_render)

    def _first_render(self) -> None:
        if not self.is_attached:
            return  # recomposed (a resize) before the first frame: the new pane does this
        self._ready = True
        self.refresh_preview()

    def on_show(self) -> None:
        if self._ready:
            self.refresh_preview()

    def show_incident(self, incident: Incident) -> None:
        self.refresh_preview()

    def watch_facts(self) -> None:
        self.refresh_preview()

    def show_clock(self, now: datetime) -> None:
        minute = now.replace(second=0, microsecond=0)
        if minute != self._minute:  # a message's times have minutes, not seconds
            self._minute = minute
            self.refresh_preview()

    def _tabs(self) -> list[Tab]:
        """One tab per message, by position (a team's file name is no widget id)."""
        tabs = []
        self._names = [info.name for info in self.wapp.comms.templates.messages()]
        self.tab_labels = []
        for n, info in enumerate(self.wapp.comms.templates.messages()):
            label = f"{info.key} {SHORT.get(info.name, info.title)}" if info.key else info.title
            if info.error:
                label += " (unusable)"
            self.tab_labels.append((info.key or label, label))  # a team's own: always whole
            tabs.append(Tab(Content(label), id=f"t-{n}"))  # a team's title: never markup
        return tabs

    def on_resize(self) -> None:
        self.fit_tab_labels()

    def fit_tab_labels(self) -> None:
        """Every tab's whole label when the row holds them all; else the selected tab's label
        and the others' keys ("1 Declare  2  3  4  5"), so no label is ever cut in the middle (a
        team's template without a key keeps its label)."""
        tab_list = self.query_one(TemplateList)
        room = tab_list.size.width or self.size.width
        tabs = list(tab_list.query(Tab))
        if not room or len(tabs) != len(self.tab_labels):
            return
        active = tab_list.active
        whole = sum(len(label) + TAB_PADDING for _, label in self.tab_labels)
        for tab, (key, label) in zip(tabs, self.tab_labels, strict=True):
            wanted = label if whole <= room or tab.id == active else key
            if tab.label.plain != wanted:
                tab.label = Content(wanted)

    def selected(self) -> TemplateInfo | None:
        tab = self.query_one(TemplateList).active_tab
        if tab is None or tab.id is None:
            return None
        index = int(tab.id.removeprefix("t-"))
        return self.wapp.comms.templates.get(self._names[index]) if index < len(self._names) else None

    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        event.stop()  # not for the console's TabbedContent around this pane
        self.fit_tab_labels()
        if self._ready:
            self.refresh_preview()

    def refresh_preview(self) -> None:
        """Render the selected template again if what it is rendered from changed (the clock
        moves its times once a minute), off the UI loop."""
        if not self._ready or not self.is_attached:
            return
        if self._last is not None and not self.is_on_screen:
            return  # a hidden tab: render when shown (on_show), not every second
        info = self.selected()
        if info is None:
            self.query_one("#template-status", Static).update(
                Content.styled("No templates found.", "$text-error")
            )
            return
        templates = self.wapp.comms.templates
        # Its times to the minute, as shown (a copy takes the exact now): a tick is no new input.
        minute = self.wapp.clock().replace(second=0, microsecond=0)
        # What the context is built from (a poll sets the facts and shows the incident, each
        # asking for this: built once, not twice). The incident changes only by its events,
        # appended, or folded again into the same object (``become``: a new list); compared by
        # identity, and held so that no other object takes its id meanwhile.
        incident, settings = self.wapp.incident, self.wapp.settings
        events = incident.events if incident is not None else []
        sources = (info, templates.revision, id(incident), id(events), len(events), id(settings))
        sources += (self.facts, minute)
        if sources == self._sources:
            return
        self._sources = sources
        self._held = (incident, events, settings)
        context = self.wapp.comms.context(minute)
        reads = templates.reads(info)  # None: it includes another template, any key may matter
        used = tuple((k, context[k]) for k in sorted(reads if reads is not None else context))
        inputs = (info, templates.revision, used)
        if inputs == self._inputs:
            return
        self._inputs = inputs
        # A callable, not a coroutine: a worker replaced before it starts never creates one.
        self.run_worker(
            partial(self.render_preview, info, context),
            group="template-preview",
            exclusive=True,
            exit_on_error=False,
        )

    async def render_preview(self, info: TemplateInfo, context: MessageContext) -> None:
        result = await self.wapp.comms.render(info, context)
        if self.is_attached:
            self.show(result)

    def show(self, result: RenderResult) -> None:
        info = result.template
        self._last = result
        status = self.query_one("#template-status", Static)
        text = self.query_one("#template-text", Static)
        problems = self.wapp.comms.templates.problems
        if not result.ok:
            status.update(Content.styled(result.error or "cannot render", "bold $text-error"))
            text.update("")
            return
        assert result.text is not None
        from warroom.ui.comms import CONFIRM_KEYS

        if info.resolution and self.wapp.incident is not None and self.wapp.incident.is_open:
            counts = "not an update while open"
        elif info.counts_as_update and info.audience is not None:
            counts = f"{CONFIRM_KEYS[info.audience]} confirms it sent"
        else:
            counts = "not an update"
        unfilled = result.unfilled
        if unfilled:
            line = Content.assemble(
                (f"{len(unfilled)} unfilled: ", "bold $text-warning"),
                (" ".join(unfilled), "$text-warning"),
                (f" · e fills · {counts}", "$text-muted"),
            )
        else:
            line = Content.assemble(("all fields filled", "$text-success"), (f" · {counts}", "$text-muted"))
        if problems:
            line = Content.assemble(Content.styled("; ".join(problems) + "\n", "$text-error"), line)
        update_static(status, line)
        content = Content(result.text)
        for span in result.spans:
            content = content.stylize(PLACEHOLDER_STYLE, span.start, span.end)
        update_static(text, content)

    def show_text(self) -> None:
        if self._last is not None and self._last.ok and self._last.text is not None:
            from warroom.ui.screens.modals import TextModal

            self.app.push_screen(TextModal(self._last.template.title, self._last.text))

    def fill_fields(self) -> None:
        from warroom.incident.events import FIELDS

        fields = [f for f in (self._last.unfilled_fields if self._last else ()) if f in FIELDS]
        self.wapp.action_edit(fields[0] if fields else "title")

    def copy_text(self) -> tuple[str, str] | None:
        if self._last is not None and self._last.ok and self._last.text is not None:
            return (self._last.template.title, self._last.text)
        return None
