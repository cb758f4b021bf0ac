"""The phase tracker: the five phases, the current one, time in each against its budget."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import Static

from warroom.durations import format_duration
from warroom.ui.base import ClockPane, update_static

if TYPE_CHECKING:
    pass


def _budget(td: timedelta) -> str:
    minutes = int(td.total_seconds() // 60)
    if minutes % 60 == 0 and minutes >= 60:
        return f"{minutes // 60}h"
    return f"{minutes}min"


MARK_STYLE = {"▶": "bold $text-primary", "✓": "$text-success", "○": "$text-muted"}


class PhasePane(ClockPane):
    TITLE = "Phase"
    DEFAULT_CSS = """
    PhasePane { height: auto; }
    """

    def compose(self) -> ComposeResult:
        yield Static(id="phase-lines")

    def show_clock(self, now: datetime) -> None:
        """The time spent in the current phase follows the clock."""
        app = self.wapp
        inc = self._incident
        if inc is None:
            return
        durations = inc.phase_durations(now)
        visited = {v.phase for v in inc.phase_visits}
        current = inc.phase
        lines = []
        pb = app.settings.playbook
        width = max(20, (self.size.width or 46) - 2)
        full = max(len(p.name) for p in pb.phases)
        compact = width < full + 22
        names = [p.name.split(" &")[0] if compact else p.name for p in pb.phases]
        name_w = max(len(n) for n in names)
        for phase, name in zip(pb.phases, names, strict=True):
            spent = durations.get(phase.key, timedelta(0))
            is_current = phase.key == current and inc.is_open
            # ▶ now, ✓ done, ○ not yet (or passed over): every phase carries a mark
            marker = "▶" if is_current else ("✓" if phase.key in visited else "○")
            took = format_duration(spent) if phase.key in visited else "—"
            over = phase.budget is not None and spent > phase.budget
            if phase.budget is not None:
                limit = f" / {_budget(phase.budget)}"
            else:
                limit = "" if compact else f"  {phase.window}"
            if phase.key == pb.phases[-1].key and inc.resolved_at is not None:
                due = inc.review_due()
                over = due is not None and now > due and phase.key not in visited
            time_style = "bold $text-error" if over else ("bold" if is_current else "")
            lines.append(
                Content.assemble(
                    (f"{marker} ", MARK_STYLE[marker]),
                    (f"{phase.number} ", "$text-muted"),
                    (f"{name:<{name_w}}", "bold reverse" if is_current else ""),
                    (f" {took:>8}", time_style),
                    (limit, "$text-muted"),
                )
            )
        hint = Content.styled("p next · P previous", "$text-muted")
        update_static(self.query_one("#phase-lines", Static), Content("\n").join([*lines, hint]))
