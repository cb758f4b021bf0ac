"""Zoom (``z``): the focused pane fills the console, between the header and the footer; ``z``
again or Escape puts it back. Textual's own maximized view does the layout; this module chooses
the pane and says what happened on the pane's border."""

from __future__ import annotations

from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from warroom.ui.base import Pane

if TYPE_CHECKING:
    from textual.screen import Screen
    from textual.widget import Widget

ZOOMED_NOTE = "z or esc restores"
_SUBTITLES: WeakKeyDictionary[Pane, str] = WeakKeyDictionary()  # a zoomed pane's own subtitle


def pane_of(widget: Widget | None) -> Pane | None:
    """The pane holding ``widget`` (or None when the focus is outside every pane)."""
    node: object = widget
    while node is not None and not isinstance(node, Pane):
        node = getattr(node, "parent", None)
    return node


def toggle_zoom(screen: Screen[object]) -> bool:
    """Zoom the focused pane, or restore the zoomed one. Returns False when nothing has the focus
    inside a pane (nothing to zoom)."""
    if screen.maximized is not None:
        restore(screen)
        return True
    pane = pane_of(screen.focused)
    if pane is None:
        return False
    pane.set_class(True, "-zoomed")
    screen.maximized = pane  # not screen.maximize(): a pane is not focusable, its list is
    _SUBTITLES[pane] = pane.border_subtitle
    pane.border_subtitle = ZOOMED_NOTE
    return True


def restore(screen: Screen[object]) -> None:
    """Put a zoomed pane back in its place (no-op when none is zoomed)."""
    pane = screen.maximized
    if pane is None:
        return
    screen.minimize()
    if isinstance(pane, Pane):
        pane.set_class(False, "-zoomed")
        saved = _SUBTITLES.pop(pane, "")
        if pane.border_subtitle == ZOOMED_NOTE:  # (unless the pane has said something since)
            pane.border_subtitle = saved
