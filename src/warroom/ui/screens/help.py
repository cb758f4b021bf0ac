"""Help: every key the console answers to, from the bindings themselves (so it cannot drift)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

KEY_NAMES = {
    "question_mark": "?",
    "exclamation_mark": "!",
    "left_square_bracket": "[",
    "right_square_bracket": "]",
    "space": "space",
    "ctrl+p": "ctrl+p",
}

EXTRA = [
    ("tab / shift+tab", "Move between panes"),
    ("j / k, ↑ / ↓", "Move inside a pane"),
    ("ctrl+p", "Command palette: every action, themes, declare, switch incident"),
    ("ctrl+c", "Quit (no prompt: everything is already saved)"),
    ("esc", "Close a dialog"),
]


def key_label(keys: str) -> str:
    return " / ".join(KEY_NAMES.get(k, k) for k in keys.split(","))


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar = [Binding("escape,q,question_mark", "dismiss", "Close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen #box { width: 96; max-width: 95%; height: 90%; border: thick $primary; background: $surface;
                      padding: 1 2; }
    HelpScreen #title { text-style: bold; margin-bottom: 1; }
    """

    def __init__(self, sections: list[tuple[str, list[Binding]]]) -> None:
        super().__init__()
        self._sections = sections

    def compose(self) -> ComposeResult:
        lines: list[Content] = []
        for title, bindings in self._sections:
            lines.append(Content.styled(title, "bold $text-primary"))
            for b in bindings:
                if b.description in ("Down", "Up"):
                    continue  # j / k: listed once under "Everywhere"
                lines.append(
                    Content.assemble(
                        (f"  {key_label(b.key):<18}", "bold $text-accent"), (b.tooltip or b.description, "")
                    )
                )
            lines.append(Content(""))
        lines.append(Content.styled("Everywhere", "bold $text-primary"))
        for key, text in EXTRA:
            lines.append(Content.assemble((f"  {key:<18}", "bold $text-accent"), (text, "")))
        with Vertical(id="box"):
            yield Static(Content("warroom keys (esc closes)"), id="title")
            with VerticalScroll():
                yield Static(Content("\n").join(lines))
