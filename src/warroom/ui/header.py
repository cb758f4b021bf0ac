"""The one-line incident header: id, severity, status, title, elapsed, lead, channel, escalation,
and the DEPLOY FREEZE badge while a freeze severity (P0) is open."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

from textual.content import Content
from textual.reactive import reactive

from warroom.durations import format_duration
from warroom.incident.events import ROLES
from warroom.live import Upstream
from warroom.ui.base import Fed
from warroom.ui.readonly import READ_ONLY_BADGE

if TYPE_CHECKING:
    from warroom.incident.state import Incident
    from warroom.shared.room import RoomStatus

SEVERITY_STYLE = {
    "P0": "bold $text on $error",
    "P1": "bold $text on $warning-darken-1",
    "P2": "bold $text on $accent-darken-2",
    "P3": "bold $text on $secondary-darken-2",
}


UPSTREAM_ALARM = "bold $text on $error-darken-1"
UPSTREAM_WARNING = "bold $text on $warning-darken-2"
UPSTREAM_UNKNOWN = "$text-muted"
DROP_FIRST = 6  # the demo badge: the first piece to go when the line is short

Parts = list[tuple[str, str]]


class Piece(NamedTuple):
    """A piece of the line: lower ``priority`` numbers are kept longer; ``short`` is what it
    shrinks to before it goes."""

    priority: int
    parts: Parts
    short: Parts | None = None


def upstream_piece(upstream: Upstream, source: str = "") -> Piece:
    """(priority, parts) of the upstream badge, with the status page's own marks: ■ for a page
    saying major or critical (an alarm, kept as long as the incident itself), ▲ for trouble short
    of that, and no mark, no colour, for pages that could not be read (no network is not an
    outage upstream). ``source`` says where the pages come from when they are not the real ones
    (the demo's "local stand-in"), beside the alarm it explains."""
    said = f"{upstream.names} ({source})" if source else upstream.names
    if upstream.alarm:
        short = [(f" ■ {upstream.names} ", UPSTREAM_ALARM)]
        return Piece(1, [(f" UPSTREAM ■ {said} ", UPSTREAM_ALARM)], short)
    if upstream.trouble:
        return Piece(2, [(f" UPSTREAM ▲ {said} ", UPSTREAM_WARNING)])
    unread = upstream.names.replace("?", "")
    return Piece(2, [(f"upstream unread: {unread}" + (f" ({source})" if source else ""), UPSTREAM_UNKNOWN)])


def team_piece(team: RoomStatus, when: Callable[[datetime], str], roles: dict[str, str]) -> Piece:
    """The shared war room: who is here (online), or OFFLINE from the team since when, kept as
    long as the upstream alarm (the responder must know the team does not see their work)."""
    text = team.line(when, roles)
    if not team.shared or not team.online:
        return Piece(1, [(f" {text} ", UPSTREAM_WARNING)], [(" OFFLINE ", UPSTREAM_WARNING)])
    return Piece(4, [(text, "$text-muted")])


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


def fit(pieces: list[Piece], width: int, title_wanted: int) -> list[Piece]:
    """The pieces kept on a line of ``width`` cells: the least needed (highest priority number,
    the last one first) shrink to their short form, then go, until the title gets
    ``title_wanted`` cells; then what went and fits again in the room left comes back (the
    most needed first). Priority 0 stays always; priority 1 (the upstream alarm) shrinks or goes
    only when the line could not hold it even without a title."""
    forms: list[Parts | None] = [p.parts for p in pieces]  # what each piece shows (None: gone)

    def room() -> int:
        kept = [f for f in forms if f is not None]
        return width - sum(sum(len(t) for t, _ in f) for f in kept) - len(kept) - 2

    while room() < title_wanted:
        shown = [i for i, f in enumerate(forms) if f is not None]
        droppable = [i for i in shown if pieces[i].priority >= 2] or [
            i for i in shown if pieces[i].priority == 1 and room() < 0
        ]
        if not droppable:
            break
        i = max(droppable, key=lambda i: (pieces[i].priority, i))
        short = pieces[i].short
        forms[i] = short if forms[i] is pieces[i].parts and short is not None else None
    for i in sorted(range(len(pieces)), key=lambda i: pieces[i].priority):
        if forms[i] is not pieces[i].parts:
            was = forms[i]
            for form in (pieces[i].parts, pieces[i].short):
                if form is not None and form is not was:
                    forms[i] = form
                    if room() >= title_wanted:
                        break
                    forms[i] = was
    return [Piece(p.priority, f) for p, f in zip(pieces, forms, strict=True) if f is not None]


class IncidentHeader(Fed):
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
    team: reactive[RoomStatus | None] = reactive(None)  # the shared war room, when configured
    _incident: Incident | None = None
    _now: datetime | None = None

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
            return Content.styled(
                " warroom" + (" · read-only view" if getattr(app, "read_only", False) else ""), "bold"
            )
        now = self._now or app.clock()
        width = self.size.width or 80
        sev = app.settings.playbook.severity(inc.severity)
        level = inc.escalation_level(now)
        elapsed = format_duration(inc.elapsed(now))
        sep = (" ", "")
        pieces: list[Piece] = [
            Piece(0, [(f" {inc.id} ", "bold")]),
            Piece(0, [(f" {sev.key} {sev.name.upper()} ", SEVERITY_STYLE.get(sev.key, "bold reverse"))]),
            Piece(2, [(f" {inc.status_text} ", "bold" if inc.is_open else "bold $text-success")]),
            Piece(0, [("T+", "$text-muted"), (elapsed, "bold")]),
        ]
        if getattr(app, "read_only", False):  # said before anything else the line may drop
            pieces.append(Piece(0, [(READ_ONLY_BADGE, "bold $text on $primary-darken-2")]))
        if inc.deploy_freeze:
            pieces.append(Piece(0, [(" DEPLOY FREEZE ", "bold $text on $error-darken-2")]))
        upstream = self.upstream
        if upstream is not None:
            pieces.append(upstream_piece(upstream, "local stand-in" if app.status_note else ""))
        if app.demo is not None:  # dropped before anything the responder needs
            badge = [(" DEMO ", "bold $text on $accent-darken-2")]
            note = [("· local stand-in status pages ", "bold $text on $accent-darken-2")]
            pieces.append(
                Piece(DROP_FIRST, badge + note, badge) if app.status_note else Piece(DROP_FIRST, badge)
            )
        team = self.team
        if team is not None:
            pieces.append(team_piece(team, app.at, inc.roles))
        pieces.append(Piece(3, [(f"L{level.level} ", "bold"), (level.name, "")]))
        lead: Parts = [("lead ", "$text-muted"), (inc.lead or "unassigned", "" if inc.lead else "italic")]
        others: Parts = []
        for role in ROLES:  # the other roles held (H hands them over), when there is room
            who = inc.roles.get(role, "") if role != "lead" else ""
            if who:
                others += [(f" · {role} ", "$text-muted"), (who[:24], "")]
        pieces.append(Piece(4, lead + others, lead if others else None))
        if inc.channel:
            pieces.append(Piece(5, [(inc.channel, "$text-primary")]))
        fixed = fit(pieces, width, min(len(inc.title), 40))
        used = sum(sum(len(t) for t, _ in piece.parts) for piece in fixed) + len(fixed) * len(sep[0])
        title_room = width - used - 2
        title = shorten(inc.title, title_room)
        out: list[tuple[str, str] | str] = []
        for i, piece in enumerate(fixed):
            if i:
                out.append(sep[0])
            out.extend(piece.parts)
            if title and i == 1:
                out.append(sep[0])
                out.append((title, "bold"))
        return Content.assemble(*out)
