"""The one-line incident header: id, severity, status, title, elapsed, lead, channel, escalation,
and the DEPLOY FREEZE badge while a freeze severity (P0) is open."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from warroom.durations import format_duration
from warroom.live import Upstream

if TYPE_CHECKING:
    from warroom.incident.state import Incident
    from warroom.ui.app import WarroomApp

SEVERITY_STYLE = {
    "P0": "bold $text on $error",
    "P1": "bold $text on $warning-darken-1",
    "P2": "bold $text on $accent-darken-2",
    "P3": "bold $text on $secondary-darken-2",
}


UPSTREAM_ALARM = "bold $text on $error-darken-1"
UPSTREAM_WARNING = "bold $text on $warning-darken-2"


def shorten(text: str, width: int) -> str:
    """``text`` cut to ``width`` cells at a word boundary, with an ellipsis ("" if nothing fits)."""
    if len(text) <= width:
        return text
    if width < 2:
        return ""
    cut = text[: width - 1]
    space = cut.rfind(" ")
    if space >= max(4, width // 3):
        cut = cut[:space]
    return cut.rstrip(" ,;:-") + "…"


class IncidentHeader(Widget):
    """One line: the incident (``show_incident``), its elapsed time (``show_clock``) and the
    upstream badge (``upstream``, set by the app)."""

    DEFAULT_CSS = """
    IncidentHeader {
        dock: top;
        height: 1;
        background: $panel;
        color: $foreground;
    }
    """

    upstream: reactive[Upstream | None] = reactive(None)
    _incident: Incident | None = None
    _now: datetime | None = None

    @property
    def wapp(self) -> WarroomApp:
        return self.app  # type: ignore[return-value]

    def on_mount(self) -> None:
        self.call_later(self.wapp.attach, self)  # once mounted: what it shows can be drawn

    def on_unmount(self) -> None:
        self.wapp.detach(self)

    def show_incident(self, incident: Incident) -> None:
        self._incident = incident
        self.refresh()

    def show_clock(self, now: datetime) -> None:
        self._now = now
        self.refresh()

    def render(self) -> Content:
        app = self.wapp
        inc = self._incident
        if inc is None:
            return Content.styled(" warroom", "bold")
        now = self._now or app.clock()
        width = self.size.width or 80
        sev = app.settings.playbook.severity(inc.severity)
        level = inc.escalation_level(now)
        elapsed = format_duration(inc.elapsed(now))
        sep = (" ", "")
        # (priority, parts): lower priority number = kept longer when space runs out.
        pieces: list[tuple[int, list[tuple[str, str]]]] = [
            (0, [(f" {inc.id} ", "bold")]),
            (0, [(f" {sev.key} {sev.name.upper()} ", SEVERITY_STYLE.get(sev.key, "bold reverse"))]),
            (1, [(f" {inc.status_text} ", "bold" if inc.is_open else "bold $text-success")]),
            (0, [("T+", "$text-muted"), (elapsed, "bold")]),
        ]
        if inc.deploy_freeze:
            pieces.append((0, [(" DEPLOY FREEZE ", "bold $text on $error-darken-2")]))
        if app.demo is not None:
            note = " DEMO · local stand-in status pages " if app.status_note else " DEMO "
            pieces.append((1, [(note, "bold $text on $accent-darken-2")]))
        upstream = self.upstream
        if upstream is not None:
            mark, style = ("■", UPSTREAM_ALARM) if upstream.alarm else ("▲", UPSTREAM_WARNING)
            pieces.append((1, [(f" UPSTREAM {mark} {upstream.names} ", style)]))
        pieces.append((2, [(f"L{level.level} ", "bold"), (level.name, "")]))
        pieces.append(
            (3, [("lead ", "$text-muted"), (inc.lead or "unassigned", "" if inc.lead else "italic")])
        )
        if inc.channel:
            pieces.append((4, [(inc.channel, "$text-primary")]))
        title_room = max(0, width)
        # Drop low-priority pieces until what is fixed fits, then give the title what remains.
        fixed = list(pieces)
        while True:
            used = sum(sum(len(t) for t, _ in parts) for _, parts in fixed) + len(fixed) * len(sep[0])
            title_room = width - used - 2
            if title_room >= min(len(inc.title), 40) or all(p == 0 for p, _ in fixed):
                break
            worst = max(p for p, _ in fixed)
            # remove the last piece with the worst priority
            for i in range(len(fixed) - 1, -1, -1):
                if fixed[i][0] == worst:
                    del fixed[i]
                    break
        title = shorten(inc.title, title_room)
        out: list[tuple[str, str] | str] = []
        for i, (_, parts) in enumerate(fixed):
            if i:
                out.append(sep[0])
            out.extend(parts)
            if title and i == 1:
                out.append(sep[0])
                out.append((title, "bold"))
        return Content.assemble(*out)
