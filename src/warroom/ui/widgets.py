"""Small widget variants shared by the screens."""

from __future__ import annotations

from textual.widgets import Input, OptionList


class TextInput(Input):
    """An Input whose cursor blink follows the app (frozen in snapshot tests)."""

    def on_mount(self) -> None:
        self.cursor_blink = bool(getattr(self.app, "blink", True))


class NoWrapOptionList(OptionList):
    """An option list whose cursor stops at the first and the last option: up on the first (or
    down on the last) does not jump to the other end, where an item could be ticked unseen."""

    def action_cursor_up(self) -> None:
        self._step(-1)

    def action_cursor_down(self) -> None:
        self._step(1)

    def _step(self, direction: int) -> None:
        """Highlight the next enabled option in ``direction`` (1 down, -1 up); none: stay."""
        if self.highlighted is None:
            start = 0 if direction > 0 else self.option_count - 1
        else:
            start = self.highlighted + direction
        i = start
        while 0 <= i < self.option_count:
            if not self.get_option_at_index(i).disabled:
                self.highlighted = i
                return
            i += direction
