"""A command pane (``[[command_panes]]``): a command's output as it comes, its status, ``R`` to
restart it.

The command runs in :mod:`warroom.sources.command` (its own process group, read by a thread of its
own, output cut, cleaned and kept as the last lines); the app owns the runs (``app.commands``), so
a pane that is recomposed (the layout changed) finds its command where it was. The pane looks for
new lines a few times a second (:data:`PULL_EVERY`) and writes them in one batch: a flood reaches
the screen as at most that many updates, each of at most the ring's lines.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.widgets import Log, Static

from warroom.ui.base import Pane, update_static

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


class CommandPane(Pane):
    """One ``[[command_panes]]`` entry: status line and output."""

    BINDINGS: ClassVar = [
        Binding("R", "restart", "Restart command", id="command_restart", tooltip="Restart the command"),
    ]
    DEFAULT_CSS = """
    CommandPane #command-status { height: 1; text-wrap: nowrap; text-overflow: ellipsis; }
    CommandPane #command-log { height: 1fr; background: transparent; }
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
        yield Log(id="command-log", max_lines=self.run.capacity, highlight=False)

    def on_mount(self) -> None:
        super().on_mount()
        self.pull()
        self.set_interval(PULL_EVERY, self.pull, name="command-pull")

    def pull(self) -> None:
        """Write the lines that came since the last look (one batch), and the status."""
        if not self.is_mounted:
            return
        run = self.run
        out = run.read(self._seen)
        log = self.query_one("#command-log", Log)
        if out.reset:
            log.clear()
        if out.fresh:
            log.write_lines(out.fresh)
        self._seen = out.seq
        status = status_line(out, run)
        if status != self._status:
            self._status = status
            update_static(self.query_one("#command-status", Static), status)

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
        lines = self.query_one("#command-log", Log).lines[-COPY_LINES:]
        if not lines:
            return None
        return (f"{self.border_title} output", "\n".join(lines))
