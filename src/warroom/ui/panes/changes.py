"""What changed and what is down upstream: commits with deploy correlation, status pages, and
the playbook's mitigation decision tree with its runbooks."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from warroom.durations import format_duration
from warroom.ui.base import Pane, rich_style, sync_options
from warroom.ui.panes.database import KeyedTable, age_text, sync_table

if TYPE_CHECKING:
    from warroom.live import Decision
    from warroom.sources.correlation import Correlation
    from warroom.sources.git import Commit, GitProblem, GitSnapshot
    from warroom.sources.statuspage import PageStatus


def age_in_minutes(age: timedelta) -> str:
    """A commit's age to the minute (``<1m``, ``42m``, ``1h07m``, ``2d03h``): calm to look at,
    and it changes once a minute, not every second."""
    if age < timedelta(minutes=1):
        return "<1m"
    return format_duration(timedelta(minutes=int(age.total_seconds() // 60)), short=True).removesuffix("00s")


class CommitsPane(Pane):
    """The last commits: short sha, age, author, subject, marks; the deploy correlation on top.
    ``git`` and ``correlation`` are set by the app; the clock moves the ages, once a minute."""

    TITLE = "Commits"
    git: reactive[GitSnapshot | GitProblem | None] = reactive(None)
    correlation: reactive[Correlation | None] = reactive(None)
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


INDICATOR = {
    "none": ("●", "$text-success"),
    "minor": ("▲", "$text-warning"),
    "major": ("■", "bold $text-error"),
    "critical": ("■", "bold $text-error"),
    "unknown": ("?", "bold $text-warning"),
}


class StatusPane(Pane):
    """Upstream status pages: indicator, degraded components, unresolved incidents."""

    TITLE = "Status pages"
    pages: reactive[dict[str, PageStatus]] = reactive(dict, always_update=True)
    DEFAULT_CSS = """
    StatusPane #status-scroll { height: 1fr; }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="status-scroll"):
            yield Static(id="status-body")

    def watch_pages(self) -> None:
        self.show_clock(self.wapp.clock())

    def show_clock(self, now: datetime) -> None:
        """The pages' answers and their ages (the ages follow the clock)."""
        if not self.is_mounted:
            return
        app = self.wapp
        pages = app.settings.status.pages
        statuses = self.pages
        if app.status_note:
            self.border_subtitle = app.status_note
        lines: list[Content] = []
        alarms = 0
        for page in pages:
            st = statuses.get(page.name)
            if st is None:
                lines.append(
                    Content.assemble(
                        ("… ", "$text-muted"), (page.name, "bold"), ("  not read yet", "$text-muted")
                    )
                )
                continue
            icon, style = INDICATOR.get(st.indicator, INDICATOR["unknown"])
            alarms += st.alarm
            head: list[tuple[str, str] | str] = [(f"{icon} ", style), (page.name, "bold"), "  "]
            if st.known:
                head.append((st.description or st.indicator, style))
            else:
                head.append(("unknown", style))
                head.append((f": {st.reason}", "$text-warning"))
            head.append((f"  · {age_text(st.fetched_at, now)}", "$text-muted"))
            lines.append(Content.assemble(*head))
            shown = st if st.readable else st.last_good
            if shown is not None and shown is not st:
                lines.append(
                    Content.styled(f"  last readable {age_text(shown.fetched_at, now)}:", "$text-muted")
                )
            if shown is None:
                continue
            for comp in shown.components:
                lines.append(
                    Content.assemble(
                        ("  › ", "$text-muted"), (comp.label, ""), (f": {comp.status_text}", "$text-warning")
                    )
                )
            if shown.components_omitted:
                lines.append(
                    Content.styled(f"  … and {shown.components_omitted:,} more not listed", "$text-muted")
                )
            for inc in (*shown.incidents, *shown.maintenances):
                lines.append(
                    Content.assemble(
                        ("  ! ", "bold $text-error"),
                        (inc.name, "bold"),
                        (f" ({inc.status}, {inc.impact})", "$text-muted"),
                    )
                )
                if inc.latest is not None and inc.latest.body:
                    lines.append(Content.styled(f"    {inc.latest.body}", "$text-muted"))
            left_out = shown.incidents_omitted + shown.maintenances_omitted
            if left_out:
                lines.append(Content.styled(f"  … and {left_out:,} more incidents not listed", "$text-muted"))
        self.border_title = "Status pages" + (f" · {alarms} ALARM" if alarms else "")
        self.set_class(alarms > 0, "-alarm")
        body = self.query_one("#status-body", Static)
        content = Content("\n").join(lines)
        if body.content != content:
            body.update(content)

    def copy_text(self) -> tuple[str, str] | None:
        from warroom.sources.statuspage import describe_pages

        statuses = [self.pages.get(p.name) for p in self.wapp.settings.status.pages]
        return ("status pages", describe_pages(statuses))


def command_option(label: str, text: str, option_id: str) -> Option:
    """A copyable command: its label, then the command indented under it."""
    body = "\n     " + text.replace("\n", "\n     ")
    return Option(
        Content.assemble(("   ▸ ", "$text-accent"), (label, "$text-accent"), (body, "")), id=option_id
    )


class DecisionList(OptionList):
    BINDINGS: ClassVar = [
        Binding("y,enter", "copy_command", "Copy command", id="decision_copy"),
        Binding("a", "app.answer_all_users", "Answer: all users?", id="decision_answer"),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    def action_copy_command(self) -> None:
        self.query_ancestor(DecisionPane).copy_focused_command()


ANSWER_STYLE = {
    "yes": "bold $text-error",
    "no": "bold $text-success",
    "unknown": "$text-muted",
    "unanswered": "bold $text-warning",
}


class DecisionPane(Pane):
    """The playbook's mitigation decision tree, answered live, then the runbooks, best match first."""

    TITLE = "Decision tree"
    decision: reactive[Decision | None] = reactive(None)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._commands: dict[str, tuple[str, str]] = {}

    def compose(self) -> ComposeResult:
        yield DecisionList(id="decision-list")

    def watch_decision(self, decision: Decision | None) -> None:
        if decision is None or not self.is_mounted:
            return
        answers, matches = decision.answers, decision.runbooks
        options: list[Option] = []
        commands: dict[str, tuple[str, str]] = {}
        for n, ans in enumerate(answers, 1):
            qid = f"q:{ans.question.key}"
            word = ans.answer.upper() if ans.settled else ("?" if ans.answer == "unknown" else "not answered")
            options.append(
                Option(
                    Content.assemble(
                        (f"{n}. {ans.question.text} ", "bold"),
                        (word, ANSWER_STYLE.get(ans.answer, "")),
                        (f" → {ans.action}" if ans.action else "", "bold"),
                        (f"\n   {ans.because}", "$text-muted"),
                        ("  (a answers)" if ans.question.answered_by == "responder" else "", "$text-muted"),
                    ),
                    id=qid,
                )
            )
            for i, cmd in enumerate(ans.commands):
                cid = f"{qid}:c{i}"
                commands[cid] = (cmd.label, cmd.text)
                options.append(command_option(cmd.label, cmd.text, cid))
        for r, match in enumerate(matches):
            rb = match.runbook
            why = f" ({'; '.join(match.reasons)})" if match.reasons and match.score > 0 else ""
            options.append(
                Option(
                    Content.assemble(
                        ("Runbook: " if r else "Runbook, best match: ", "$text-muted"),
                        (rb.title, "bold $text-primary"),
                        (why, "$text-muted"),
                        (f"\n   Symptoms: {rb.symptoms}", ""),
                    ),
                    id=f"rb:{rb.key}",
                )
            )
            for i, cmd in enumerate(rb.commands):
                cid = f"rb:{rb.key}:c{i}"
                commands[cid] = (cmd.label, cmd.text)
                options.append(command_option(cmd.label, cmd.text, cid))
            if rb.solutions:
                solutions = "\n".join(f"   {i}. {s}" for i, s in enumerate(rb.solutions, 1))
                options.append(
                    Option(Content.styled(solutions, "$text-muted"), id=f"rb:{rb.key}:s", disabled=True)
                )
        sync_options(self.query_one(DecisionList), options)
        self._commands = commands

    def copy_focused_command(self) -> None:
        found = self.copy_text()
        if found is None:
            self.wapp.say("Highlight a command (▸) to copy it.", severity="warning")
            return
        self.wapp.comms.copy_text(found[1], what=found[0], name="command")

    def copy_text(self) -> tuple[str, str] | None:
        ol = self.query_one(DecisionList)
        opt = ol.highlighted_option
        if opt is None or opt.id is None or opt.id not in self._commands:
            return None
        return self._commands[opt.id]
