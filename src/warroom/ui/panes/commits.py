"""What changed: the last commits, their marks, and the deploy the errors followed."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from warroom.durations import format_duration
from warroom.ui.base import Pane, age_text, rich_style
from warroom.ui.tables import KeyedTable, sync_table

if TYPE_CHECKING:
    from warroom.live import Suspect
    from warroom.sources.correlation import Correlation
    from warroom.sources.git import Commit, GitProblem, GitSnapshot


def age_in_minutes(age: timedelta) -> str:
    """A commit's age to the minute (``<1m``, ``42m``, ``1h 07m``, ``2d 03h``): calm to look at,
    and it changes once a minute, not every second."""
    if age < timedelta(minutes=1):
        return "<1m"
    return format_duration(timedelta(minutes=int(age.total_seconds() // 60))).removesuffix(" 00s")


class CommitsPane(Pane):
    """The last commits: short sha, age, author, subject, marks; the deploy correlation on top.
    ``git`` and ``correlation`` are set by the app; the clock moves the ages, once a minute."""

    TITLE = "Commits"
    git: reactive[GitSnapshot | GitProblem | None] = reactive(None)
    correlation: reactive[Correlation | None] = reactive(None)
    suspect: reactive[Suspect | None] = reactive(None)  # kept once the spike is over
    fixes: reactive[frozenset[str]] = reactive(frozenset)  # shas that end the incident
    _minute: datetime | None = None
    BINDINGS: ClassVar = [
        Binding("y", "copy_revert", "Copy git revert", id="commit_revert"),
        Binding("Y", "copy_function_rollback", "Copy function rollback", id="commit_function_rollback"),
    ]
    DEFAULT_CSS = """
    CommitsPane #commits-status { height: auto; }
    CommitsPane #commits-correlation { height: auto; }
    CommitsPane #commits-table.-stale { opacity: 55%; }
    """

    def compose(self) -> ComposeResult:
        yield Static(id="commits-correlation")
        yield Static(id="commits-status")
        table = KeyedTable(id="commits-table", cursor_type="row", zebra_stripes=True)
        for key, label in (
            ("sha", "Sha"),
            ("age", "Age"),
            ("author", "Author"),
            ("marks", "Marks"),
            ("subject", "Subject"),
        ):
            table.add_column(label, key=key)
        yield table

    def watch_git(self) -> None:
        self.show_commits(self.wapp.clock())

    def watch_correlation(self) -> None:
        self.show_commits(self.wapp.clock())

    def refresh_rows(self) -> None:
        self.show_commits(self.wapp.clock())

    def show_clock(self, now: datetime) -> None:
        minute = now.replace(second=0, microsecond=0)
        if minute != self._minute:  # ages are shown to the minute
            self.show_commits(now)

    def show_commits(self, now: datetime) -> None:
        from warroom.sources.git import GitProblem, GitSnapshot

        if not self.is_mounted:
            return
        self._minute = now.replace(second=0, microsecond=0)
        app = self.wapp
        snap = self.git
        corr = self.correlation
        corr_widget = self.query_one("#commits-correlation", Static)
        if corr is not None:
            style = "bold $text-error" if corr.suspected else "$text-muted"
            icon = "⚠ " if corr.suspected else ""
            corr_widget.update(Content.styled(icon + corr.describe(app.settings.tz), style))
        else:
            corr_widget.update("")
        status = self.query_one("#commits-status", Static)
        if snap is None:
            status.update(Content.styled("reading the repository…", "$text-muted"))
            return
        table = self.query_one("#commits-table", KeyedTable)
        if isinstance(snap, GitProblem):
            style = "$text-error" if snap.is_error else "$text-muted"
            kept = (
                " · the commits below are from the last good read"
                if table.row_count and snap.kind != "empty"
                else ""
            )
            status.update(Content.assemble((snap.message, style), (kept, "$text-warning")))
            if snap.kind == "empty":
                sync_table(table, [])
            table.set_class(bool(kept), "-stale")
            return
        assert isinstance(snap, GitSnapshot)
        table.set_class(False, "-stale")
        extra = " · shallow clone" if snap.shallow else ""
        note = f" · {snap.note}" if snap.note else ""
        breaches = len(snap.breaches)
        parts: list[tuple[str, str] | str] = [
            (f"{snap.head}{extra} · read {age_text(snap.read_at, now)}", "$text-muted"),
        ]
        if breaches:
            parts.append((f"  ⛔ {breaches} commit(s) landed during the deploy freeze", "bold $text-error"))
        if note:
            parts.append((note, "$text-warning"))
        parts.append(("  · y git revert · Y function rollback", "$text-muted"))
        status.update(Content.assemble(*parts))
        deploy, migration, breach, recent = (
            rich_style(self.app, s)
            for s in ("bold $text-accent", "$text-secondary", "bold reverse $text-error", "bold")
        )
        rows = []
        for c in snap.commits:
            marks = Text()
            for mark in c.marks:
                if marks:
                    marks.append(" ")
                style = {"deploy": deploy, "migration": migration, "freeze breach": breach}.get(mark, "")
                marks.append(mark.upper() if mark == "freeze breach" else mark, style=style)
            row_style = recent if c.is_recent else rich_style(self.app, "$text-muted")
            rows.append(
                (
                    c.sha,
                    [
                        Text(c.short_sha, style=deploy if c.is_deploy else row_style),
                        Text(age_in_minutes(c.age(now)), style=row_style, justify="right"),
                        Text(c.author, style=row_style),
                        marks,
                        Text(c.subject, style=row_style),
                    ],
                )
            )
        sync_table(self.query_one("#commits-table", KeyedTable), rows)

    def focused_commit(self) -> Commit | None:
        from warroom.sources.git import GitSnapshot

        snap = self.git
        table = self.query_one("#commits-table", KeyedTable)
        if not isinstance(snap, GitSnapshot) or not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((c for c in snap.commits if c.sha == key), None)

    def action_copy_revert(self) -> None:
        from warroom.sources.git import revert_command

        commit = self.focused_commit()
        if commit is None:
            self.wapp.say("No commit is focused.", severity="warning")
            return
        self.wapp.comms.copy_text(
            revert_command(commit), what=f"git revert {commit.short_sha}", name="git-revert"
        )

    def action_copy_function_rollback(self) -> None:
        from warroom.sources.git import function_rollback_commands

        commit = self.focused_commit()
        if commit is None:
            self.wapp.say("No commit is focused.", severity="warning")
            return
        cmds = function_rollback_commands(commit)
        if not cmds:
            self.wapp.say(f"{commit.short_sha} touched no edge function (supabase/functions/<name>/).")
            return
        to = commit.parent[:7] if commit.parent else "?"
        self.wapp.comms.copy_text(
            "\n".join(cmds), what=f"edge-function rollback to {to}", name="function-rollback"
        )

    def copy_text(self) -> tuple[str, str] | None:
        from warroom.sources.git import revert_command

        commit = self.focused_commit()
        return (f"git revert {commit.short_sha}", revert_command(commit)) if commit else None
