"""Small widget variants shared by the screens."""

from __future__ import annotations

from textual.widgets import Input


class TextInput(Input):
    """An Input whose cursor blink follows the app (frozen in snapshot tests)."""

    def on_mount(self) -> None:
        self.cursor_blink = bool(getattr(self.app, "blink", True))
