"""The checklists: the severity's actions, investigation, verification, resolution criteria.

Space or x ticks or unticks the highlighted item, o names its owner (shown after its words); each
is a journal event and a tick shows its time, in
a column of its own. A tick moves the cursor on to the next unticked item; an item too long for
the pane wraps under its own text, not under its box.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.reactive import reactive
from textual.widgets.option_list import Option

from warroom.durations import local
from warroom.live import RateHint
from warroom.ui.base import Pane, rich_style, sync_options
from warroom.ui.widgets import NoWrapOptionList

if TYPE_CHECKING:
    from warroom.incident.state import Incident

HINT_STYLE = {"met": "bold $text-success", "not met": "$text-error", "unknown": "$text-warning"}

OWNER_SHOWN = 20  # characters of an owner's name on a row (the report has it whole)
SEP = "\x1f"  # option ids are "<checklist><SEP><item>"


class ChecklistList(NoWrapOptionList):
    BINDINGS: ClassVar = [
        Binding("space,x", "tick", "Tick", id="tick"),
        Binding(
            "o", "app.assign_owner", "Owner", show=False, id="owner", tooltip="Assign an owner (default: you)"
        ),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    def action_tick(self) -> None:
        """Tick or untick the highlighted item; after a tick, on to the next unticked item."""
        pane = next((a for a in self.ancestors if isinstance(a, ChecklistPane)), None)
        before = pane.focused_item() if pane is not None else None
        self.app.actions.toggle_item()  # type: ignore[attr-defined]
        if pane is not None and before is not None:
            pane.after_tick(before)


def item_prompt(box: Text, text: Text, at: str) -> Table:
    """A checklist row: the box, the text (wrapped lines hang under the text), the tick time in a
    column of its own (blank until ticked)."""
    row = Table.grid(expand=True)
    row.add_column(width=2, no_wrap=True)
    row.add_column(ratio=1)
    row.add_column(width=6, justify="right", no_wrap=True)
    row.add_row(box, text, at)
    return row


class ChecklistPane(Pane):
    """The checklists of the incident's severity and phases; beside "error rate < 1% for 30
    minutes", the rate the database measures (``rate``, set by the app)."""

    TITLE = "Checklists"
    rate: reactive[RateHint | None] = reactive(None, repaint=False)
    _incident: Incident | None = None

    def compose(self) -> ComposeResult:
        yield ChecklistList(id="checklist")

    def desired(self) -> list[Option]:
        app = self.wapp
        inc = self._incident
        if inc is None:
            return []
        tz = app.settings.tz
        ticked, open_box, muted, owner_style = (
            rich_style(app, s) for s in ("bold $text-success", "$text-muted", "$text-muted", "$text-accent")
        )
        out: list[Option] = []
        for cl in app.settings.playbook.checklists(inc.severity):
            done = sum(1 for i in cl.items if inc.tick(cl.key, i.key))
            out.append(
                Option(
                    Content.assemble(
                        (cl.title, "bold $text-primary"), (f"  {done}/{len(cl.items)}", "$text-muted")
                    ),
                    id=f"head{SEP}{cl.key}",
                    disabled=True,
                )
            )
            for item in cl.items:
                tick = inc.tick(cl.key, item.key)
                hint = self._hint(cl.key, item.text)
                text = Text(item.text)
                if hint is not None:
                    text.append("  " + hint.text, style=rich_style(app, HINT_STYLE[hint.criterion]))
                owner = inc.owner(cl.key, item.key)
                if owner:  # after the words, so a narrow pane wraps it rather than cuts the item
                    text.append(f" @{owner[:OWNER_SHOWN]}", style=owner_style)
                box = Text("☑ ", style=ticked) if tick else Text("☐ ", style=open_box)
                at = Text(local(tick.at, tz).strftime("%H:%M"), style=muted) if tick else Text("")
                out.append(Option(item_prompt(box, text, at), id=f"{cl.key}{SEP}{item.key}"))
        return out

    def _hint(self, checklist: str, text: str) -> RateHint | None:
        if checklist == "resolution" and "error rate" in text.lower().replace("-", " "):
            return self.rate
        return None

    def show_incident(self, incident: Incident) -> None:
        self._incident = incident
        self._render_list()

    def watch_rate(self) -> None:
        self._render_list()

    def _render_list(self) -> None:
        if not self.is_mounted:
            return
        zone = local(self.wapp.clock(), self.wapp.settings.tz).strftime("%Z")
        self.border_title = f"Checklists · ticked times in {zone}"
        sync_options(self.query_one(ChecklistList), self.desired())

    def after_tick(self, item: tuple[str, str]) -> None:
        """``item`` was toggled: if it is now ticked, highlight the next unticked item below it
        (the cursor stays when none is left below)."""
        inc = self.wapp.incident
        ol = self.query_one(ChecklistList)
        if inc is None or not inc.tick(*item):
            return
        ids = [ol.get_option_at_index(i).id or "" for i in range(ol.option_count)]
        here = f"{item[0]}{SEP}{item[1]}"
        if here not in ids:
            return
        for i in range(ids.index(here) + 1, len(ids)):
            if ids[i].startswith(f"head{SEP}") or SEP not in ids[i]:
                continue
            if not inc.tick(*ids[i].split(SEP, 1)):
                ol.highlighted = i
                return

    def refresh_rows(self) -> None:
        self._render_list()

    def focused_item(self) -> tuple[str, str] | None:
        ol = self.query_one(ChecklistList)
        opt = ol.highlighted_option
        if opt is None or opt.id is None or opt.disabled or opt.id.startswith(f"head{SEP}"):
            return None
        checklist, item = opt.id.split(SEP, 1)
        return checklist, item

    def copy_text(self) -> tuple[str, str] | None:
        found = self.focused_item()
        if found is None:
            return None
        cl = self.wapp.settings.playbook.checklist(found[0])
        item = cl.item(found[1]) if cl else None
        return ("checklist item", item.text) if item else None
