"""What changed: the last commits, their marks, and the deploy the errors followed."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import DataTable, Static

from warroom.durations import format_duration
from warroom.incident import events as ev
from warroom.live import is_revert_of
from warroom.ui.base import Pane, age_text, rich_style, update_static
from warroom.ui.tables import KeyedTable, sync_table

if TYPE_CHECKING:
    from warroom.incident.state import Incident
    from warroom.live import Suspect
    from warroom.sources.correlation import Correlation
    from warroom.sources.git import Commit, GitProblem, GitSnapshot

AUTHOR_MAX = 20
SUBJECT_MIN = 24  # the author shows in full only when the subject keeps this room
COLUMNS = (("sha", "Sha"), ("age", "Age"), ("subject", "Marks · subject"), ("author", "Author"))


def age_in_minutes(age: timedelta) -> str:
    """A commit's age to the minute (``<1m``, ``42m``, ``1h 07m``, ``2d 03h``): calm to look at,
    and it changes once a minute, not every second."""
    if age < timedelta(minutes=1):
        return "<1m"
    return format_duration(timedelta(minutes=int(age.total_seconds() // 60))).removesuffix(" 00s")


def commit_marks(
    commit: Commit, suspect: Suspect | None, fixes: frozenset[str], marked: frozenset[str]
) -> list[str]:
    """The words of a commit's mark column: what the source found (deploy, migration, functions),
    ``FREEZE BREACH`` unless the commit ends the incident, then ``suspect`` (the deploy the errors
    followed), ``revert`` (a revert of the suspect) and ``fix`` (marked as the fix with ``f``)."""
    is_fix = commit.sha in marked or commit.short_sha in marked
    reverts = suspect is not None and is_revert_of(commit.subject, suspect)
    ends_it = is_fix or reverts or commit.sha in fixes
    out = [m for m in commit.marks if m != "freeze breach"]
    if commit.freeze_breach and not ends_it:
        out.append("FREEZE BREACH")
    if suspect is not None and commit.sha == suspect.sha:
        out.append("suspect")
    if reverts:
        out.append("revert")
    if is_fix:
        out.append("fix")
    return out


def subject_width(available: int, age: int, marks: int, author: int) -> tuple[int, int]:
    """(marks and subject, author) widths in cells for a table ``available`` cells wide: the sha
    and the age are never cut, the marks and the subject take what is left, and the author (the
    last column) shows in full only when the longest marks and ``SUBJECT_MIN`` cells of subject
    keep room beside it (else the edge cuts it)."""
    pad = 2  # a cell's padding
    rest = available - (7 + pad) - (age + pad) - pad
    if rest - (author + pad) >= marks + SUBJECT_MIN:
        return rest - (author + pad), author
    return max(8, rest), author


class CommitsPane(Pane):
    """The last commits: short sha, age, marks and subject, author; the deploy correlation on top.
    ``git``, ``correlation``, ``suspect`` and ``fixes`` are set by the app; the clock moves the
    ages, once a minute. When a deploy is suspected the cursor starts on it, so ``y`` copies its
    revert; ``f`` marks the commit under the cursor as the fix."""

    TITLE = "Commits"
    git: reactive[GitSnapshot | GitProblem | None] = reactive(None, repaint=False)
    correlation: reactive[Correlation | None] = reactive(None, repaint=False)
    suspect: reactive[Suspect | None] = reactive(None, repaint=False)  # kept once the spike is over
    fixes: reactive[frozenset[str]] = reactive(frozenset, repaint=False)  # shas that end the incident
    _minute: datetime | None = None
    _marked: frozenset[str] = frozenset()  # shas marked as the fix in the journal
    _cursor_on: str | None = None  # the suspect the cursor was last put on
    _shown_width = 0
    BINDINGS: ClassVar = [
        Binding("y", "copy_revert", "Copy git revert", id="commit_revert"),
        Binding("Y", "copy_function_rollback", "Copy function rollback", id="commit_function_rollback"),
        Binding(
            "f",
            "mark_fix",
            "Mark as the fix",
            id="commit_fix",
            tooltip="Mark the commit as the fix, or take the mark back",
        ),
    ]
    DEFAULT_CSS = """
    CommitsPane #commits-status { height: auto; max-height: 2; }
    CommitsPane #commits-correlation { height: auto; max-height: 3; }
    CommitsPane.-short #commits-correlation, CommitsPane.-short #commits-status {
        height: 1; text-wrap: nowrap; text-overflow: ellipsis;
    }
    CommitsPane #commits-table { overflow-x: hidden; }
    CommitsPane #commits-table.-stale { opacity: 55%; }
    """

    def compose(self) -> ComposeResult:
        yield Static(id="commits-correlation")
        yield Static(id="commits-status")
        table = KeyedTable(id="commits-table", cursor_type="row", zebra_stripes=True)
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        yield table

    def watch_git(self) -> None:
        self.show_commits(self.wapp.clock())

    def watch_correlation(self) -> None:
        self.show_commits(self.wapp.clock())

    def watch_suspect(self) -> None:
        self.show_commits(self.wapp.clock())

    def watch_fixes(self) -> None:
        self.show_commits(self.wapp.clock())

    def show_incident(self, incident: Incident) -> None:
        marked = frozenset(sha for sha, role in incident.marked_commits.items() if role == "fix")
        if marked != self._marked:
            self._marked = marked
            self.show_commits(self.wapp.clock())

    def on_resize(self) -> None:
        self.set_class(self.size.height < 12, "-short")
        if self.size.width != self._shown_width:
            self.show_commits(self.wapp.clock())  # the subject takes the new width

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
        if corr is not None and corr.suspected:
            update_static(
                corr_widget, Content.styled("⚠ " + corr.describe(app.settings.tz), "bold $text-error")
            )
        elif self.suspect is not None:
            update_static(
                corr_widget, Content.styled(self.suspect.describe(app.settings.tz), "bold $text-warning")
            )
        elif corr is not None:
            update_static(corr_widget, Content.styled(corr.describe(app.settings.tz), "$text-muted"))
        else:
            update_static(corr_widget, Content())
        status = self.query_one("#commits-status", Static)
        if snap is None:
            update_static(status, Content.styled("reading the repository…", "$text-muted"))
            return
        table = self.query_one("#commits-table", KeyedTable)
        if isinstance(snap, GitProblem):
            style = "$text-error" if snap.is_error else "$text-muted"
            kept = (
                " · the commits below are from the last good read"
                if table.row_count and snap.kind != "empty"
                else ""
            )
            update_static(status, Content.assemble((snap.message, style), (kept, "$text-warning")))
            if snap.kind == "empty":
                sync_table(table, [])
                self.show_hint()
            table.set_class(bool(kept), "-stale")
            return
        assert isinstance(snap, GitSnapshot)
        table.set_class(False, "-stale")
        extra = " · shallow clone" if snap.shallow else ""
        note = f" · {snap.note}" if snap.note else ""
        marks_of = {c.sha: commit_marks(c, self.suspect, self.fixes, self._marked) for c in snap.commits}
        breaches = sum(1 for c in snap.commits if "FREEZE BREACH" in marks_of[c.sha])
        parts: list[tuple[str, str] | str] = [
            (f"{snap.head}{extra} · read {age_text(snap.read_at, now)}", "$text-muted"),
        ]
        if breaches:
            landed = f"{breaches} {'commit' if breaches == 1 else 'commits'} landed"
            parts.append((f"  ⛔ {landed} during the deploy freeze", "bold $text-error"))
        if note:
            parts.append((note, "$text-warning"))
        update_static(status, Content.assemble(*parts))
        self._show_rows(table, snap.commits, marks_of, now)
        self._cursor_to_suspect(table)
        self.show_hint()

    def _show_rows(
        self, table: KeyedTable, commits: tuple[Commit, ...], marks_of: dict[str, list[str]], now: datetime
    ) -> None:
        styles = {
            name: rich_style(self.app, s)
            for name, s in (
                ("deploy", "bold $text-accent"),
                ("migration", "$text-secondary"),
                ("FREEZE BREACH", "bold reverse $text-error"),
                ("suspect", "bold $text-error"),
                ("revert", "bold $text-success"),
                ("fix", "bold reverse $text-success"),
                ("recent", "bold"),
                ("old", "$text-muted"),
            )
        }
        ages = {c.sha: age_in_minutes(c.age(now)) for c in commits}
        age_width = max([len(a) for a in ages.values()] + [len("Age")])
        author_width = min(AUTHOR_MAX, max([len(c.author) for c in commits] + [len("Author")]))
        available = table.scrollable_content_region.width or self.content_region.width or 80
        self._shown_width = self.size.width
        mark_width = max(len(" ".join(m)) + 1 if m else 0 for m in marks_of.values()) if marks_of else 0
        width, author = subject_width(available, age_width, mark_width, author_width)
        rows = []
        for c in commits:
            row_style = styles["recent"] if c.is_recent else styles["old"]
            cell = Text(no_wrap=True, overflow="ellipsis")
            for mark in marks_of[c.sha]:  # first: never cut
                cell.append(mark, style=styles.get(mark, ""))
                cell.append(" ")
            cell.append(c.subject, style=row_style)
            cell.truncate(width, overflow="ellipsis")
            rows.append(
                (
                    c.sha,
                    [
                        Text(c.short_sha, style=styles["deploy"] if c.is_deploy else row_style),
                        Text(ages[c.sha], style=row_style, justify="right"),
                        cell,
                        fit(c.author, author, row_style),
                    ],
                )
            )
        # found by the whole subject, author and SHA, not only what the width shows
        sync_table(table, rows, search={c.sha: f"{c.sha} {c.subject} {c.author}" for c in commits})

    def _cursor_to_suspect(self, table: KeyedTable) -> None:
        """Put the cursor on the suspect once, when it is first shown (then it is the responder's)."""
        suspect = self.suspect
        if suspect is None or suspect.sha == self._cursor_on:
            return
        keys = [r.key.value for r in table.ordered_rows]
        if suspect.sha in keys:
            table.move_cursor(row=keys.index(suspect.sha), animate=False)
            self._cursor_on = suspect.sha

    @on(DataTable.RowHighlighted, "#commits-table")
    def show_hint(self) -> None:
        """The keys, and what ``y`` will revert: the commit under the cursor."""
        commit = self.focused_commit()
        if commit is None:
            self.border_subtitle = ""
            return
        role = "suspect" if self.suspect is not None and commit.sha == self.suspect.sha else ""
        role = role or ("fix" if commit.sha in self._marked or commit.short_sha in self._marked else "")
        what = f"y git revert {commit.short_sha}" + (f" ({role})" if role else "")
        self.border_subtitle = f"{what} · Y function rollback · f fix"

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

    def action_mark_fix(self) -> None:
        """Journal the commit under the cursor as the fix: the mitigation, not a freeze breach;
        on a commit marked so, take the mark back (a wrong row)."""
        commit = self.focused_commit()
        if commit is None:
            self.wapp.say("No commit is focused.", severity="warning")
            return
        if commit.sha in self._marked or commit.short_sha in self._marked:
            marked_as = commit.sha if commit.sha in self._marked else commit.short_sha
            if self.wapp.record(ev.CommitMarked(marked_as, "", commit.subject)) is not None:
                self.wapp.say(f"{commit.short_sha} is no longer marked as the fix (f marks it again).")
            return
        if self.wapp.record(ev.CommitMarked(commit.sha, "fix", commit.subject)) is not None:
            self.wapp.say(f"{commit.short_sha} marked as the fix (no freeze breach).")

    def copy_text(self) -> tuple[str, str] | None:
        from warroom.sources.git import revert_command

        commit = self.focused_commit()
        return (f"git revert {commit.short_sha}", revert_command(commit)) if commit else None


def fit(text: str, width: int, style: str) -> Text:
    """``text`` cut to ``width`` cells with an ellipsis (a column as wide as the pane allows)."""
    out = Text(text, style=style, no_wrap=True, overflow="ellipsis")
    out.truncate(max(1, width), overflow="ellipsis")
    return out
