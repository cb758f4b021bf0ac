"""Help: every key the console answers to, from the bindings themselves (so it cannot drift)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

KEY_NAMES = {
    "question_mark": "?",
    "exclamation_mark": "!",
    "left_square_bracket": "[",
    "right_square_bracket": "]",
    "space": "space",
    "slash": "/",
    "escape": "esc",
    "ctrl+p": "ctrl+p",
}

EXTRA = [
    ("tab / shift+tab", "Move between panes"),
    ("j / k, ↑ / ↓", "Move inside a pane"),
    ("ctrl+p", "Command palette: every action, themes, declare, switch incident"),
    ("ctrl+c", "Quit (no prompt: everything is already saved)"),
    ("esc", "Close a dialog, clear a pane's filter, put a zoomed pane back"),
]


def key_label(keys: str) -> str:
    return " / ".join(KEY_NAMES.get(k, k) for k in keys.split(","))


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar = [Binding("escape,q,question_mark", "dismiss", "Close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen #box { width: 96; max-width: 95%; height: 100%; border: thick $primary; background: $surface;
                      padding: 0 2; }
    HelpScreen #title { text-style: bold; margin-bottom: 1; }
    HelpScreen .section.later { margin-top: 1; }
    HelpScreen .entry { height: auto; }
    HelpScreen .entry .does { width: 1fr; }
    """

    def __init__(self, sections: list[tuple[str, list[Binding]]]) -> None:
        super().__init__()
        self._sections = sections

    def compose(self) -> ComposeResult:
        rows: list[tuple[str, str] | str] = []  # (keys, what they do), or a section title
        for title, bindings in self._sections:
            rows.append(title)
            for b in bindings:
                if b.description in ("Down", "Up") or b.key == "escape":
                    continue  # j / k and esc: listed once under "Everywhere"
                rows.append((key_label(b.key), b.tooltip or b.description))
        rows.append("Everywhere")
        rows.extend(EXTRA)
        # The keys' column is as wide as its widest keys; a long description wraps under itself.
        width = max(len(r[0]) for r in rows if isinstance(r, tuple)) + 4
        with Vertical(id="box"):
            yield Static(Content("warroom keys (esc closes)"), id="title")
            with VerticalScroll():
                for i, row in enumerate(rows):
                    if isinstance(row, str):
                        classes = "section" if i == 0 else "section later"
                        yield Static(Content.styled(row, "bold $text-primary"), classes=classes)
                        continue
                    with Horizontal(classes="entry"):
                        key = Static(Content.styled(f"  {row[0]}", "bold $text-accent"), classes="keys")
                        key.styles.width = width
                        yield key
                        yield Static(Content(row[1]), classes="does")
