"""A command pane (``[[command_panes]]``): a command's output as it comes, its status, ``R`` to
restart it.

The command runs in :mod:`warroom.sources.command` (its own process group, read by a thread of its
own, output cut, cleaned and kept as the last lines); the app owns the runs (``app.commands``), so
a pane that is recomposed (the layout changed) finds its command where it was. The pane looks for
new lines a few times a second (:data:`PULL_EVERY`) and writes them in one batch: a flood reaches
the screen as at most that many updates, each of at most the ring's lines.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Static

from warroom.ui.base import Pane, displayed, update_static
from warroom.ui.filter import matching

if TYPE_CHECKING:
    from warroom.sources.command import CommandRun, Output

PULL_EVERY = 0.25  # seconds between two looks for new lines
COPY_LINES = 200  # lines `y` copies (the last ones)


def status_line(out: Output, run: CommandRun) -> Content:
    """``● running · pid 4242 · 1,204 lines  $ kubectl logs -f deploy/api``, coloured by state."""
    st = out.status
    if st.state == "running":
        head = ("● " + st.text, "$text-success")
    elif st.state == "starting":
        head = ("… " + st.text, "$text-muted")
    elif st.ok:
        head = ("✔ " + st.text, "$text-muted")
    else:
        head = ("✖ " + st.text, "bold $text-error")
    parts: list[tuple[str, str] | str] = [head]
    if st.state != "failed":
        parts.append((f" · {out.lines_read:,} lines", "$text-muted"))
    if out.run > 1:
        parts.append((f" · run {out.run}", "$text-muted"))
    if out.throttled:
        parts.append((" · throttled (output faster than it is read)", "$text-warning"))
    parts.append(("  $ " + run.command_line, "$text-muted"))
    return Content.assemble(*parts)


class OutputView(ScrollView, can_focus=True):
    """The last lines of a command's output, plain text (already cleaned), following the end
    unless scrolled up. Holds at most ``capacity`` lines; renders only the rows on screen."""

    DEFAULT_CSS = """
    OutputView { background: transparent; overflow: auto; scrollbar-size-horizontal: 1; }
    """
    FILTERS_ROWS = True  # `/` filters its lines (warroom.ui.filter)
    BINDINGS: ClassVar = [
        Binding("j", "scroll_down", "Down", show=False),
        Binding("k", "scroll_up", "Up", show=False),
        Binding("G", "scroll_end", "End", show=False),
    ]

    def __init__(self, capacity: int, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lines: deque[str] = deque(maxlen=capacity)
        self._width = 0
        self.follow = True  # keep the last line in view (until the responder scrolls up)

    def replace(self, lines: Sequence[str]) -> None:
        self.lines.clear()
        self._width = 0
        self.append(lines)

    def append(self, lines: Sequence[str]) -> None:
        self.lines.extend(lines)
        if lines:
            self._width = max(self._width, max(cell_len(line) for line in lines[-len(self.lines) :]))
        size = Size(self._width, len(self.lines))
        if size != self.virtual_size:
            # Not through the reactive, which lays out the whole screen (every widget arranged
            # and repainted) each time lines come: this view's own size does not change with
            # them, only its scrollbars do, which _scroll_update sets (as Textual's own
            # _size_updated does when told not to lay out).
            self.set_reactive(ScrollView.virtual_size, size)
            self._scroll_update(size)
        self.refresh()
        if self.follow:
            self.call_after_refresh(self._to_end)

    def on_resize(self) -> None:
        """Shown (a tab brought forward) or resized: the end stays in view when following."""
        if self.follow:
            self.call_after_refresh(self._to_end)

    def on_show(self) -> None:
        """Brought forward (its tab chosen): the end comes back into view when following."""
        if self.follow:
            self.call_after_refresh(self._to_end)

    def _to_end(self) -> None:
        if self.follow and displayed(self) and self.size.height and self.scroll_y < self.max_scroll_y:
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True)

    def keep_following(self) -> None:
        """At each look for new lines: back to the end if a layout moved it (a tab shown, the
        pane resized before its lines came) while following."""
        self._to_end()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self.size.height:  # (a hidden tab has no end to be at)
            self.follow = new_value >= self.max_scroll_y

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        style = self.rich_style
        index = scroll_y + y
        if index >= len(self.lines):
            return Strip.blank(width, style)
        text = self.lines[index]
        strip = Strip([Segment(text, style)], cell_len(text))
        return strip.crop_extend(scroll_x, scroll_x + width, style)


class CommandPane(Pane):
    """One ``[[command_panes]]`` entry: status line and output."""

    BINDINGS: ClassVar = [
        Binding("R", "restart", "Restart command", id="command_restart", tooltip="Restart the command"),
    ]
    DEFAULT_CSS = """
    CommandPane #command-status { height: 1; text-wrap: nowrap; text-overflow: ellipsis; }
    CommandPane #command-log { height: 1fr; }
    """

    def __init__(self, index: int, name: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.index = index
        self.border_title = name
        self._seen = -1  # the last line number written to the log (-1: none yet)
        self._status: Content | None = None

    @property
    def run(self) -> CommandRun:
        return self.wapp.commands.runs[self.index]

    def compose(self) -> ComposeResult:
        yield Static(id="command-status", markup=False)
        yield OutputView(self.run.capacity, id="command-log")

    def on_mount(self) -> None:
        super().on_mount()
        self.pull()
        self.set_interval(PULL_EVERY, self.pull, name="command-pull")

    def on_show(self) -> None:
        self.pull()  # what came while it was behind another tab

    def pull(self) -> None:
        """Write the lines that came since the last look (one batch), and the status. Not while
        the pane is behind another tab (see ``displayed``): the lines wait in the run's ring."""
        if not self.is_mounted or not displayed(self):
            return
        run = self.run
        out = run.read(self._seen)
        view = self.query_one("#command-log", OutputView)
        fresh = matching(view, list(out.fresh), str)  # the lines a filter (`/`) lets through
        if out.reset:
            view.replace(fresh)
        elif fresh:
            view.append(fresh)
        self._seen = out.seq
        view.keep_following()
        status = status_line(out, run)
        if status != self._status:
            self._status = status
            update_static(self.query_one("#command-status", Static), status)

    def refresh_rows(self) -> None:
        """The filter changed: the kept lines again, through it."""
        self._seen = -1
        self.pull()

    def action_restart(self) -> None:
        run = self.run
        app = self.wapp
        if any(w.group == f"command-{self.index}" and not w.is_finished for w in app.workers):
            app.say(f"{self.border_title}: already restarting.")
            return
        app.say(f"Restarting {self.border_title}: {run.command_line}")
        app.run_worker(
            run.restart,
            thread=True,
            group=f"command-{self.index}",
            exit_on_error=False,
            description=f"restart {self.border_title}",
        )

    def copy_text(self) -> tuple[str, str] | None:
        lines = list(self.query_one("#command-log", OutputView).lines)[-COPY_LINES:]
        if not lines:
            return None
        return (f"{self.border_title} output", "\n".join(lines))
