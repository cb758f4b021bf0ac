"""A pane whose source is not configured: it says so plainly, and how to configure it."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import Static

from warroom.ui.base import Pane


class NotConfiguredPane(Pane):
    DEFAULT_CSS = """
    NotConfiguredPane Static { color: $text-muted; }
    """

    def __init__(self, title: str, message: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = title
        self._message = message

    def compose(self) -> ComposeResult:
        yield Static(Content.assemble(("not configured", "bold $text-warning"), "\n", self._message))
