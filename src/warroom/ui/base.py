"""What every pane shares: a titled border, and how it gets what it shows.

The app delivers, the panes show. Each pane gets exactly its own data from the app: the incident
(:meth:`Pane.show_incident`, after every journal event), the time (:meth:`Pane.show_clock`, once a
second, for the text that depends on it) and its source's result (a typed reactive attribute the
app sets, e.g. ``ErrorsPane.view``). A pane asks for all of it once, when it mounts
(:meth:`WarroomApp.feed`), so the console can recompose (narrow <-> wide layout) at any time
without losing anything.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from rich.table import Table
from rich.text import Text
from textual.containers import Vertical
from textual.content import Content
from textual.geometry import Region
from textual.visual import visualize
from textual.widget import Widget
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from warroom.durations import format_duration
from warroom.ui.filter import matching, option_text

if TYPE_CHECKING:
    from warroom.incident.state import Incident
    from warroom.ui.app import WarroomApp


_UNSET = object()


class QuietBorderTitle:
    """``border_title`` / ``border_subtitle`` that repaints the pane only when the title changes:
    Textual's repaints on every assignment, and panes set their titles on every poll (a pane's
    repaint is its whole region)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.textual = Widget.__dict__[name]  # Textual's own descriptor, which stores and repaints

    def __set__(self, obj: Widget, title: Any) -> None:
        key = f"_quiet_{self.name}"
        last = obj.__dict__.get(key, _UNSET)
        if last is not _UNSET and type(last) is type(title) and _same(last, title):
            return
        obj.__dict__[key] = title
        self.textual.__set__(obj, title)

    def __get__(self, obj: Widget | None, objtype: type | None = None) -> Any:
        if obj is None:
            return self
        return self.textual.__get__(obj, objtype)


def displayed(widget: Widget) -> bool:
    """Whether ``widget`` and every widget around it are displayed (a tab not in front is not).

    What is not displayed is not updated: a refresh of a widget off screen makes Textual's next
    paint drop its map of the screen, and the refresh itself asks the widget its size, which
    arranges the whole screen again to find it (in the demo, the tabs behind the front ones
    updating on every poll cost 8 % of the console's samples). It is brought up to date when it
    is shown (``Fed.on_show``)."""
    node: object = widget
    while isinstance(node, Widget):
        if not node.display:
            return False
        node = node.parent
    return True


def _same(a: Any, b: Any) -> bool:
    """Equal in text and style (``Content ==`` compares the text alone)."""
    return a.is_same(b) if isinstance(a, Content) else bool(a == b)


class Fed(Widget):
    """A widget the app feeds (every pane, and the header): attached to the app while mounted.
    While it is not displayed (in a tab behind another) the app leaves it ``behind`` and feeds
    it everything when it is shown again."""

    behind = False

    @property
    def wapp(self) -> WarroomApp:
        return self.app  # type: ignore[return-value]

    def on_mount(self) -> None:
        self.call_later(self.wapp.attach, self)  # once mounted: what it shows can be drawn

    def on_show(self) -> None:
        if self.behind:
            self.behind = False
            self.wapp.catch_up(self)

    def on_unmount(self) -> None:
        self.wapp.detach(self)

    def show_incident(self, incident: Incident) -> None:
        """The incident changed (an event was journaled, here or by another process)."""

    def show_clock(self, now: datetime) -> None:
        """A second passed: update the text that depends on the time, and nothing else."""


class Pane(Fed, Vertical):
    """A bordered pane the app feeds. Its data attributes (reactives a subclass declares) are
    declared with ``repaint=False``: the pane's own region is only its border, and the watchers
    update the widgets inside, which repaint what changed."""

    border_title = QuietBorderTitle()
    border_subtitle = QuietBorderTitle()

    DEFAULT_CSS = """
    Pane {
        border: round $border-blurred;
        border-title-color: $text-muted;
        border-title-style: bold;
        border-subtitle-color: $text-muted;
        padding: 0 1;
        height: 1fr;
    }
    Pane:focus-within {
        border: round $border;
        border-title-color: $text;
    }
    Pane OptionList {
        border: none;
        padding: 0;
        background: transparent;
        height: 1fr;
    }
    Pane OptionList:focus {
        border: none;
    }
    Pane DataTable {
        height: 1fr;
        background: transparent;
    }
    """

    TITLE = ""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.border_title = self.TITLE

    def copy_text(self) -> tuple[str, str] | None:
        """(what, text) for ``y``: the focused item's text, or None if nothing is focused."""
        return None


class ClockPane(Pane):
    """A pane whose every line follows the clock: a new incident is shown as a tick is."""

    _incident: Incident | None = None

    def show_incident(self, incident: Incident) -> None:
        self._incident = incident
        self.show_clock(self.wapp.clock())


def age_text(fetched_at: datetime, now: datetime) -> str:
    """The exact age, to the second: for data that is stale (it says so beside it)."""
    seconds = max(0, int((now - fetched_at).total_seconds()))
    if seconds < 60:
        return f"{seconds} s ago"
    return f"{format_duration(timedelta(seconds=seconds))} ago"


def fresh_age_text(fetched_at: datetime, now: datetime) -> str:
    """The age of data that is not stale, coarsely: ``under 10 s ago``, then to the 10 seconds
    (``20 s ago``), then to the minute (``3m ago``), rounded down. An age to the second changes
    the text, so repaints its line, every second, and a source polling every 2 s is always
    "under 10 s"; stale data says so with its exact age (:func:`age_text`)."""
    seconds = max(0, int((now - fetched_at).total_seconds()))
    if seconds < 10:
        return "under 10 s ago"
    if seconds < 60:
        return f"{seconds // 10 * 10} s ago"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes}m ago"
    return f"{format_duration(timedelta(minutes=minutes))} ago"


def rich_style(app: object, spec: str) -> str:
    """A Rich style for widgets that take Rich renderables (DataTable cells): ``$variables`` of
    the current theme become their colours, so table text follows the theme like the CSS does.
    ``$text-muted`` (a relative colour) becomes ``dim``."""
    variables: dict[str, str] = getattr(app, "theme_variables", {}) or {}
    out = []
    for token in spec.split():
        if token.startswith("$"):
            name = token[1:]
            if name == "text-muted":
                out.append("dim")
                continue
            value = variables.get(name, "")
            if value.startswith("#"):
                out.append(value[:7])
            continue
        out.append(token)
    return " ".join(out)


def sync_options(ol: OptionList, wanted: list[Option]) -> None:
    """Make ``ol`` show ``wanted``: prompts replaced in place when the ids are the same (the
    highlight and scroll stay), else rebuilt with the highlight kept on the same id (or the first
    enabled option). Rows a filter (``/``) hides are left out."""
    wanted = matching(ol, wanted, option_text)
    if [ol.get_option_at_index(i).id for i in range(ol.option_count)] == [o.id for o in wanted]:
        for opt in wanted:
            assert opt.id is not None
            if prompt_key(ol.get_option(opt.id).prompt) != prompt_key(opt.prompt):
                replace_prompt(ol, opt.id, opt.prompt)
        return
    keep = ol.highlighted_option.id if ol.highlighted_option else None
    ol.clear_options()
    ol.add_options(wanted)
    ids = [o.id for o in wanted]
    if keep in ids:
        ol.highlighted = ids.index(keep)
    else:
        ol.highlighted = next((i for i, o in enumerate(wanted) if not o.disabled), None)


def replace_prompt(ol: OptionList, option_id: str, prompt: Any) -> None:
    """``ol.replace_option_prompt(option_id, prompt)``, re-rendering that option alone.

    Textual's clears the list's render and line caches, so one changed row (the checklist's
    live error rate, on every poll) re-measured and re-rendered every option of the list, each a
    Rich table: a quarter of the console's paint time in the running demo. When the option keeps
    its height, only its cached renders are dropped and only its lines repainted; otherwise (or
    should a later Textual rename these internals) Textual's own method."""
    index = ol.get_option_index(option_id)
    option = ol.get_option_at_index(index)
    renders = getattr(ol, "_option_render_cache", None)
    lines = getattr(ol, "_line_cache", None)
    if renders is None or lines is None or index not in lines.heights or index not in lines.index_to_line:
        ol.replace_option_prompt(option_id, prompt)
        return
    option._set_prompt(prompt)
    padding = ol.get_component_styles("option-list--option").padding
    width = ol.scrollable_content_region.width - ol._get_left_gutter_width()
    height = ol._get_visual(option).get_height(ol.styles, width - padding.width) + option._divider
    if height != lines.heights[index]:
        ol._clear_caches()  # what replace_option_prompt does after setting the prompt
        return
    for key in [k for k in renders.keys() if k[0] is option]:  # noqa: SIM118 (an LRUCache: no __iter__)
        renders.discard(key)
    ol.refresh_lines(lines.index_to_line[index], height)


def prompt_key(prompt: Any) -> Any:
    """What an option's prompt shows, comparable with ``==`` (a Rich ``Table`` compares by
    identity: a checklist row built again from the same data must count as the same)."""
    if isinstance(prompt, Table):
        return (
            "table",
            tuple(
                (c.width, c.ratio, c.justify, c.no_wrap, tuple(prompt_key(cell) for cell in c.cells))
                for c in prompt.columns
            ),
        )
    if isinstance(prompt, Text):
        return ("text", prompt.plain, tuple(prompt.spans), str(prompt.style), prompt.justify)
    return prompt


def update_static(static: Static, content: Content) -> None:
    """``static.update(content)``, with a layout only when its height may change.

    ``Static.update`` lays out the whole screen by default, and a layout repaints every widget on
    it: text that follows the clock would repaint the screen every second. When the new text
    wraps to the height the widget has (at its width, which the text does not decide), or its
    height is set in CSS, the size stays and the text alone is repainted."""
    old = static.content
    if isinstance(old, Content) and old.is_same(content):  # (== compares the text alone)
        return
    region = static.content_region
    if region.width == 0:  # not on screen (a hidden tab): laid out when shown
        static.update(content, layout=False)
        return
    auto_width = static.styles.width is not None and static.styles.width.is_auto
    # A height the CSS fixes (1, 1fr, 50%) is not the text's to change (a one-line status).
    set_height = static.styles.height is not None and not static.styles.height.is_auto
    same_size = not auto_width and (
        set_height
        or visualize(static, content, markup=False).get_height(static.styles, region.width) == region.height
    )
    changed = _changed_lines(old, content, region.width) if same_size else None
    if changed is None:
        static.update(content, layout=not same_size)
        return
    # Only the lines that differ are repainted (a countdown's one line of six, not the six):
    # the update without its whole-widget refresh, then a refresh of those lines.
    static.refresh = _no_refresh  # type: ignore[method-assign]
    try:
        static.update(content, layout=False)
    finally:
        del static.refresh
    static.refresh(*(Region(0, y, region.width, 1) for y in changed))


def _no_refresh(*_args: Any, **_kw: Any) -> None:
    return None


def _changed_lines(old: Any, new: Content, width: int) -> list[int] | None:
    """The indices of the lines that differ between two texts of the same number of lines,
    none of them wider than ``width`` (so each is one row on screen); None when that is not so
    (the whole text is repainted)."""
    if not isinstance(old, Content):
        return None
    old_lines, new_lines = old.split("\n"), new.split("\n")
    if len(old_lines) != len(new_lines):
        return None
    if any(line.cell_length > width for line in (*old_lines, *new_lines)):
        return None
    return [y for y, (a, b) in enumerate(zip(old_lines, new_lines, strict=True)) if not a.is_same(b)]
