"""The checklists: the severity's actions, investigation, verification, resolution criteria.

Space or x ticks or unticks the highlighted item; each is a journal event and shows its time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from warroom.durations import local
from warroom.live import RateHint
from warroom.ui.base import Pane, sync_options

if TYPE_CHECKING:
    from warroom.incident.state import Incident

HINT_STYLE = {"met": "bold $text-success", "not met": "$text-error", "unknown": "$text-warning"}

SEP = "\x1f"  # option ids are "<checklist><SEP><item>"


class ChecklistList(OptionList):
    BINDINGS: ClassVar = [
        Binding("space,x", "app.toggle_item", "Tick", id="tick"),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]


class ChecklistPane(Pane):
    """The checklists of the incident's severity and phases; beside "error rate < 1% for 30
    minutes", the rate the database measures (``rate``, set by the app)."""

    TITLE = "Checklists"
    rate: reactive[RateHint | None] = reactive(None)
    _incident: Incident | None = None

    def compose(self) -> ComposeResult:
        yield ChecklistList(id="checklist")

    def desired(self) -> list[Option]:
        app = self.wapp
        inc = self._incident
        if inc is None:
            return []
        tz = app.settings.tz
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
                parts: list[tuple[str, str] | str] = []
                if tick:
                    parts += [("☑ ", "bold $text-success"), (item.text, "")]
                    parts += [("  " + local(tick.at, tz).strftime("%H:%M"), "$text-muted")]
                else:
                    parts += [("☐ ", "$text-muted"), (item.text, "")]
                if hint is not None:
                    parts += [("  " + hint.text, HINT_STYLE[hint.criterion])]
                out.append(Option(Content.assemble(*parts), id=f"{cl.key}{SEP}{item.key}"))
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
