"""The templates pane: the playbook's messages with their keys and a live preview.

Keys 1-5 copy a message from anywhere in the console; here, enter or y copies the highlighted
one, v shows its text to select by hand, e fills the fields it is missing. Unfilled fields are
the playbook's bracketed placeholders, highlighted in the preview.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from warroom.ui.base import Pane

if TYPE_CHECKING:
    from warroom.comms.templates import RenderResult, TemplateInfo

PLACEHOLDER_STYLE = "bold $text-warning on $warning-muted"


class TemplateList(OptionList):
    BINDINGS: ClassVar = [
        Binding("enter,y", "copy_selected", "Copy", id="template_copy"),
        Binding("v", "show_text", "Show text", id="template_show"),
        Binding("e", "fill_fields", "Fill fields", id="template_fill"),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    def _pane(self) -> TemplatesPane:
        return self.query_ancestor(TemplatesPane)

    def action_copy_selected(self) -> None:
        info = self._pane().selected()
        if info is not None:
            self._pane().wapp.copy_template(info)

    def action_show_text(self) -> None:
        self._pane().show_text()

    def action_fill_fields(self) -> None:
        self._pane().fill_fields()


class TemplatesPane(Pane):
    TITLE = "Templates"
    TOPICS: ClassVar[frozenset[str]] = frozenset({"incident", "clock", "facts"})
    DEFAULT_CSS = """
    TemplatesPane { layout: vertical; }
    TemplatesPane.-side { layout: horizontal; }
    TemplatesPane #template-list { height: auto; max-height: 8; }
    TemplatesPane.-side #template-list { width: 36; height: 1fr; max-height: 100%; }
    TemplatesPane #template-right { height: 1fr; }
    TemplatesPane #template-status { height: auto; color: $text-muted; }
    TemplatesPane #template-preview { height: 1fr; border-top: solid $border-blurred; }
    TemplatesPane.-side #template-preview { border-top: none; border-left: solid $border-blurred;
                                            padding-left: 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._last: RenderResult | None = None
        self._ready = False

    def compose(self) -> ComposeResult:
        yield TemplateList(id="template-list")
        with Vertical(id="template-right"):
            yield Static(id="template-status")
            with VerticalScroll(id="template-preview"):
                yield Static(id="template-text")

    def on_mount(self) -> None:
        self.border_subtitle = "1-5 copy · enter copy · v text · e fill"
        # Rendering imports Jinja2: do it after the first frame is on screen.
        self.call_after_refresh(self._first_render)

    def _first_render(self) -> None:
        self._ready = True
        self._fill_list()
        self.refresh_data()

    def on_resize(self) -> None:
        self.set_class(self.size.width >= 100, "-side")

    def _fill_list(self) -> None:
        ts = self.wapp.templates
        ol = self.query_one(TemplateList)
        keep = ol.highlighted
        ol.clear_options()
        for info in ts.messages():
            key = info.key or " "
            parts: list[tuple[str, str] | str] = [(f"{key} ", "bold $text-accent"), (info.title, "")]
            if info.error:
                parts.append(("  (unusable)", "$text-error"))
            ol.add_option(Option(Content.assemble(*parts), id=info.name))
        ol.highlighted = keep if keep is not None and keep < ol.option_count else 0

    def selected(self) -> TemplateInfo | None:
        ol = self.query_one(TemplateList)
        opt = ol.highlighted_option
        if opt is None or opt.id is None:
            return None
        return self.wapp.templates.get(opt.id)

    def on_option_list_option_highlighted(self) -> None:
        if self._ready:
            self.refresh_data()

    def refresh_data(self) -> None:
        if not self._ready:
            return
        info = self.selected()
        status = self.query_one("#template-status", Static)
        text = self.query_one("#template-text", Static)
        if info is None:
            status.update(Content.styled("No templates found.", "$text-error"))
            return
        result = self.wapp.render_template(info)
        self._last = result
        problems = self.wapp.templates.problems
        if not result.ok:
            status.update(Content.styled(result.error or "cannot render", "bold $text-error"))
            text.update("")
            return
        assert result.text is not None
        counts = f"copying records the {info.audience} update" if info.counts_as_update else "does not count"
        unfilled = result.unfilled
        if unfilled:
            status.update(
                Content.assemble(
                    (f"{len(unfilled)} unfilled: ", "bold $text-warning"),
                    (" ".join(unfilled), "$text-warning"),
                    (f" · e fills · {counts}", "$text-muted"),
                )
            )
        else:
            status.update(
                Content.assemble(("all fields filled", "$text-success"), (f" · {counts}", "$text-muted"))
            )
        if problems:
            status.update(
                Content.assemble(Content.styled("; ".join(problems) + "\n", "$text-error"), status.content)
            )
        content = Content(result.text)
        for span in result.spans:
            content = content.stylize(PLACEHOLDER_STYLE, span.start, span.end)
        text.update(content)

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
