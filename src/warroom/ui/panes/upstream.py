"""What is down upstream: the status pages, their indicators, degraded components and incidents."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from warroom.ui.base import Pane, age_text, fresh_age_text, update_static

if TYPE_CHECKING:
    from warroom.sources.statuspage import PageStatus


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
    pages: reactive[dict[str, PageStatus]] = reactive(dict, always_update=True, repaint=False)
    DEFAULT_CSS = """
    StatusPane #status-scroll { height: 1fr; }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="status-scroll"):
            yield Static(id="status-body")

    def watch_pages(self) -> None:
        self.show_clock(self.wapp.clock())

    def show_clock(self, now: datetime) -> None:
        """The pages' answers and their ages (the ages follow the clock: a readable answer's to the
        10 seconds, then the minute, so the pane repaints a few times a minute, not every second)."""
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
            # a readable answer's age coarsely (pages are read once a minute or less often), an
            # unreadable one's to the second
            age = fresh_age_text(st.fetched_at, now) if st.readable else age_text(st.fetched_at, now)
            head.append((f"  · {age}", "$text-muted"))
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
        update_static(self.query_one("#status-body", Static), Content("\n").join(lines))

    def copy_text(self) -> tuple[str, str] | None:
        from warroom.sources.statuspage import describe_pages

        statuses = [self.pages.get(p.name) for p in self.wapp.settings.status.pages]
        return ("status pages", describe_pages(statuses))
