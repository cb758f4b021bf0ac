"""The timeline: the journal as it grows, local time, following new events unless scrolled up."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.widgets.option_list import Option

from warroom.durations import local
from warroom.incident import events as ev
from warroom.text import clean
from warroom.ui.base import Pane
from warroom.ui.filter import FILTERS, matching, option_text
from warroom.ui.widgets import NoWrapOptionList

if TYPE_CHECKING:
    from warroom.incident.state import Incident

KIND_STYLE = {
    "declared": "bold $text-error",
    "severity_changed": "bold $text-warning",
    "phase_changed": "bold $text-primary",
    "item_ticked": "$text-success",
    "item_unticked": "$text-muted",
    "note_added": "",
    "field_edited": "$text-secondary",
    "update_sent": "bold $text-success",
    "update_undone": "$text-warning",
    "escalated": "bold $text-warning",
    "resolved": "bold $text-success",
    "closed": "$text-success",
    "reopened": "bold $text-warning",
    "answered": "$text-secondary",
    "observed": "$text-accent",
    "evidence_recorded": "italic $text-muted",
    "database_action": "bold $text-warning",
}


class TimelineList(NoWrapOptionList):
    # The scrollbar's room is kept from the start: entries laid out before the list overflowed
    # would otherwise keep their width and lose their last characters under it.
    DEFAULT_CSS = "TimelineList { scrollbar-gutter: stable; }"
    BINDINGS: ClassVar = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]


def event_line(event: ev.Event, tz: object, playbook: object, *, with_date: bool = False) -> Content:
    when = local(event.at, tz)  # type: ignore[arg-type]
    stamp = when.strftime("%m-%d %H:%M:%S" if with_date else "%H:%M:%S")
    text = clean(ev.describe(event, playbook), max_len=400)
    return Content.assemble(
        (stamp, "$text-muted"),
        " ",
        (clean(event.actor, max_len=16), "$text-secondary"),
        " ",
        (text, KIND_STYLE.get(event.kind, "")),
    )


class TimelinePane(Pane):
    TITLE = "Timeline"

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._shown: list[int] = []  # the journal sequence of each event on the list, in order

    def compose(self) -> ComposeResult:
        yield TimelineList(id="timeline-list")

    def show_incident(self, inc: Incident) -> None:
        """New events are added at the end (followed, unless the responder scrolled up)."""
        app = self.wapp
        tz = app.settings.tz
        ol = self.query_one(TimelineList)
        zone = local(app.clock(), tz).strftime("%Z")  # type: ignore[arg-type]
        self.border_title = f"Timeline · {zone}"
        events = inc.events
        shown = self._shown
        seqs = [e.seq for e in events]
        if ol in FILTERS or ol.option_count != len(shown):  # a filter (/) shows the matching events anew
            ol.clear_options()
            shown.clear()
        # In a shared war room another console's events can belong before ours (the incident is
        # folded again in the team's order): the rows from the first that moved are laid again.
        at_end = ol.max_scroll_y == 0 or ol.scroll_y >= ol.max_scroll_y - 1
        have = len(shown)
        if seqs[:have] != shown:
            same = (i for i, (a, b) in enumerate(zip(shown, seqs, strict=False)) if a != b)
            have = next(same, min(len(shown), len(seqs)))
            for i in range(len(shown) - 1, have - 1, -1):
                ol.remove_option_at_index(i)
            del shown[have:]
        if have == len(events):
            return
        follow = at_end and (ol.highlighted is None or ol.highlighted >= ol.option_count - 1)
        shown += seqs[have:]
        multi_day = events[0].at.date() != events[-1].at.date()
        ol.add_options(
            matching(
                ol,
                [
                    Option(event_line(e, tz, app.settings.playbook, with_date=multi_day), id=f"e{e.seq}")
                    for e in events[have:]
                ],
                option_text,
            )
        )
        if follow:
            ol.highlighted = ol.option_count - 1
            ol.scroll_end(animate=False, immediate=False)

    def refresh_rows(self) -> None:
        self.query_one(TimelineList).clear_options()
        if self.wapp.incident is not None:
            self.show_incident(self.wapp.incident)

    def copy_text(self) -> tuple[str, str] | None:
        ol = self.query_one(TimelineList)
        opt = ol.highlighted_option
        if opt is None:
            return None
        return ("timeline entry", str(opt.prompt))
