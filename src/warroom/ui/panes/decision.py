"""What to do: the playbook's mitigation decision tree, answered live, and the runbooks."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.reactive import reactive
from textual.widgets.option_list import Option

from warroom.ui.base import Pane, sync_options
from warroom.ui.widgets import NoWrapOptionList

if TYPE_CHECKING:
    from warroom.live import Decision


def command_option(label: str, text: str, option_id: str) -> Option:
    """A copyable command: its label, then the command indented under it."""
    body = "\n     " + text.replace("\n", "\n     ")
    return Option(
        Content.assemble(("   ▸ ", "$text-accent"), (label, "$text-accent"), (body, "")), id=option_id
    )


class DecisionList(NoWrapOptionList):
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
    decision: reactive[Decision | None] = reactive(None, repaint=False)

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
