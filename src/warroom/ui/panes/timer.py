"""The severity timer: the countdown to the next update, impossible to miss.

Deadlines come from the journal (:meth:`Incident.countdown`) and the clock, never from counting
ticks, so a restart or a suspended laptop shows the right time.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import Digits, Static

from warroom.comms.updates import status_update_key
from warroom.durations import clock_time, describe_duration, format_duration
from warroom.incident.state import Countdown
from warroom.settings.escalation import CONTACT_MAX, EscalationContacts
from warroom.text import clean
from warroom.ui.base import ClockPane, update_static
from warroom.ui.header import shorten

if TYPE_CHECKING:
    from warroom.incident.state import Incident

STATE_CLASSES = ("-ok", "-soon", "-overdue", "-none")
_STATE_CLASS = {"ok": "-ok", "due_soon": "-soon", "overdue": "-overdue", "none": "-none"}
_STATE_STYLE = {"ok": "$text-success", "due_soon": "bold $text-warning", "overdue": "bold $text-error"}


def _digits(cd: Countdown) -> str:
    if cd.state == "overdue":
        return "+" + format_duration(cd.overdue_by)
    return format_duration(cd.remaining)


_URGENCY = {"overdue": 0, "due_soon": 1, "ok": 2, "none": 3}


def most_urgent(*countdowns: Countdown) -> Countdown:
    """The countdown to show big: overdue first, then due soon, then the earliest due."""
    return min(
        countdowns,
        key=lambda c: (_URGENCY[c.state], c.due.timestamp() if c.due is not None else float("inf")),
    )


# The least of a contact worth showing beside the level's name (else the contact replaces it).
CONTACT_ROOM = 16


class _Capture:
    """Collects what one part of the pane should show, so both layouts can arrange it."""

    def __init__(self) -> None:
        self.value: object = ""

    def update(self, value: object) -> None:
        self.value = value


class TimerPane(ClockPane):
    TITLE = "Next update"

    DEFAULT_CSS = """
    TimerPane { height: auto; padding: 0 1; }
    TimerPane #timer-label { text-style: bold; }
    TimerPane Digits { width: auto; margin: 0 0; }
    TimerPane.-ok Digits { color: $success; }
    TimerPane.-soon Digits { color: $warning; }
    TimerPane.-overdue Digits { color: $error; text-style: bold; }
    TimerPane.-none Digits { color: $text-muted; }
    TimerPane.-soon { border: round $warning; }
    TimerPane.-overdue { border: heavy $error; }
    TimerPane.-overdue #timer-label { color: $text-error; }
    TimerPane.-compact Digits { display: none; }
    TimerPane.-compact #timer-lines { display: none; }
    """

    _state = "none"

    def compose(self) -> ComposeResult:
        yield Static(id="timer-label")
        yield Digits("", id="timer-digits")
        yield Static(id="timer-due")
        yield Static(id="timer-lines")

    def on_resize(self) -> None:
        """The escalation contacts are cut to the pane's width: cut again at the new one."""
        if self._incident is not None and self.wapp.settings.escalation != EscalationContacts():
            self.show_clock(self.wapp.clock())

    def show_clock(self, now: datetime) -> None:
        """Everything here counts down: the whole pane follows the clock."""
        app = self.wapp
        inc = self._incident
        if inc is None:
            return
        tz = app.settings.tz
        internal = inc.countdown("internal", now)
        customer = inc.countdown("customer", now)
        label = _Capture()
        digits = _Capture()
        due = _Capture()
        lines: list[Content] = []

        if not inc.is_open:
            self._set_state("none")
            label.update(
                # the digits say how long (beside the label in the compact layout: said once)
                Content.styled(f"{inc.status_text.upper()} after", "bold $text-success")
            )
            digits.update(format_duration(inc.elapsed(now)))
            review = inc.review_due()
            due.update(
                Content.assemble(
                    ("Post-incident review due ", "$text-muted"), (clock_time(review, tz), "bold")
                )
                if review
                else ""
            )
        else:
            primary = most_urgent(internal, customer)
            if primary.state == "none":
                self._set_state("none")
                sev = app.settings.playbook.severity(inc.severity)
                label.update(
                    Content.styled(f"No update cadence for {sev.key} ({sev.name})", "bold $text-muted")
                )
                digits.update(format_duration(inc.elapsed(now)))
                due.update(Content.styled("time since declared", "$text-muted"))
            else:
                self._set_state(primary.state)
                who = "INTERNAL" if primary.audience == "internal" else "CUSTOMER"
                cadence = f" · every {describe_duration(primary.cadence)}" if primary.cadence else ""
                if primary.state == "overdue":
                    label.update(Content.styled(f"{who} UPDATE OVERDUE{cadence}", "bold $text-error"))
                elif primary.state == "due_soon":
                    label.update(Content.styled(f"{who} UPDATE DUE SOON{cadence}", "bold $text-warning"))
                else:
                    label.update(Content.styled(f"NEXT {who} UPDATE{cadence}", "bold"))
                digits.update(_digits(primary))
                assert primary.due is not None
                key = "u" if primary.audience == "internal" else "U"
                copy = status_update_key(primary.audience)
                due.update(
                    Content.assemble(
                        ("due ", "$text-muted"),
                        (clock_time(primary.due, tz), "bold"),
                        (f"  ·  {copy} copies, {key} sent", "$text-muted"),
                    )
                )
                other = customer if primary is internal else internal
                if other.state != "none":
                    lines.append(self._line("Customer" if other is customer else "Internal", other, tz))
        # Response deadline
        resp = inc.response_deadline(tz)
        sev0 = app.settings.playbook.severity(inc.severity_history[0][1])
        if inc.responded_at is not None:
            took = inc.responded_at - inc.declared_at
            ok = inc.responded_at <= resp or sev0.response == timedelta(0)
            lines.append(
                Content.assemble(
                    ("Response  ", "$text-muted"),
                    (f"{sev0.response_text.lower()}; ", ""),
                    (
                        f"responded in {format_duration(took)}",
                        "$text-success" if ok else "$text-warning",
                    ),
                )
            )
        else:
            left = resp - now
            style = "bold $text-error" if left <= timedelta(0) else ""
            when = "now" if sev0.response == timedelta(0) else f"by {clock_time(resp, tz, seconds=False)}"
            lines.append(
                Content.assemble(
                    ("Response  ", "$text-muted"), (f"{sev0.response_text.lower()}: respond {when}", style)
                )
            )
        # Escalation
        level = inc.escalation_level(now)
        lines.append(
            Content.assemble(("Escalation ", "$text-muted"), (f"L{level.level} {level.name}", "bold"))
        )
        lines += self._contact_line("  call ", level.level)
        nxt = inc.next_escalation(now)
        if nxt is not None:
            if nxt.due is not None:
                left = nxt.due - now
                lines.append(
                    Content.assemble(
                        ("  next ", "$text-muted"),
                        (f"L{nxt.level.level} {nxt.level.name}", ""),
                        (
                            f" in {format_duration(left)}",
                            "bold $text-warning" if left <= timedelta(minutes=5) else "",
                        ),
                    )
                )
            else:
                lines.append(
                    Content.assemble(
                        ("  next ", "$text-muted"),
                        (f"L{nxt.level.level} {nxt.level.name}", ""),
                        (
                            f" {nxt.level.trigger}"
                            if nxt.level.after is None
                            else " by decision (not by the clock)",
                            "$text-muted",
                        ),
                    )
                )
            lines += self._contact_line("       call ", nxt.level.level)  # under the next level's line
        label_c = label.value if isinstance(label.value, Content) else Content(str(label.value))
        value = str(digits.value)
        due_c = due.value if isinstance(due.value, Content) else Content(str(due.value))
        if self.has_class("-compact"):
            self._show_compact(inc, now, label_c, value)
            return
        update_static(self.query_one("#timer-label", Static), label_c)
        shown = self.query_one("#timer-digits", Digits)
        if shown.value != value:  # Digits.update repaints even the same value
            shown.update(value)
        update_static(self.query_one("#timer-due", Static), due_c)
        update_static(self.query_one("#timer-lines", Static), Content("\n").join(lines))

    def _show_compact(self, inc: Incident, now: datetime, label: Content, value: str) -> None:
        """Two lines: the countdown, then customer / response / escalation in short form."""
        app = self.wapp
        style = _STATE_STYLE.get(self._state, "bold")
        if self._state == "overdue":
            style += " reverse"
        head = label.plain.split(" · ")[0]
        first = Content.assemble(
            (head, label.spans[0].style if label.spans else "bold"), "  ", (f" {value} ", style)
        )
        countdowns = [inc.countdown(a, now) for a in ("internal", "customer")]
        main = most_urgent(*countdowns)
        if main.state == "none":
            main = None
        if main is not None and main.due is not None and inc.is_open:
            first = Content.assemble(first, ("  due ", "$text-muted"), clock_time(main.due, app.settings.tz))
        parts: list[Content] = []
        other = [c for c in countdowns if c is not main and c.state != "none"]
        for cd in other:
            txt = (
                f"{cd.audience} OVERDUE +{format_duration(cd.overdue_by)}"
                if cd.state == "overdue"
                else f"{cd.audience} in {format_duration(cd.remaining)}"
            )
            parts.append(Content.styled(txt, _STATE_STYLE.get(cd.state, "")))
        if inc.responded_at is None and inc.is_open:
            parts.append(Content.styled("not yet responded", "bold $text-warning"))
        level = inc.escalation_level(now)
        level_at = len(parts)
        parts.append(Content.styled(f"L{level.level} {level.name}", "bold"))
        contact = self._contact(level.level)
        nxt = inc.next_escalation(now)
        if nxt is not None:
            when = f"in {format_duration(nxt.due - now)}" if nxt.due is not None else "by decision"
            parts.append(Content.styled(f"next L{nxt.level.level} {when}", "$text-muted"))
        if contact:  # who to call at this level, in the room the line has left
            room = (self.content_size.width or 78) - len(Content("  ·  ").join(parts).plain) - 2
            if room >= min(len(contact), CONTACT_ROOM):
                parts[level_at] = Content.assemble(parts[level_at], (": ", "bold"), shorten(contact, room))
            elif said := shorten(contact, room + len(level.name) + 2):
                # Narrow (80 columns): who to call says more than the level's name, which the
                # wide layouts show.
                parts[level_at] = Content.assemble((f"L{level.level} ", "bold"), said)
        update_static(self.query_one("#timer-label", Static), first)
        update_static(self.query_one("#timer-due", Static), Content("  ·  ").join(parts))

    def _contact(self, level: int) -> str:
        """Level ``level``'s escalation contact ([escalation] l1-l4), cleaned and bounded."""
        return clean(self.wapp.settings.escalation.contact(level), max_len=CONTACT_MAX)

    def _contact_line(self, prefix: str, level: int) -> list[Content]:
        """``  call Pat +49 170 1111111``: one line, cut to the pane's width (none when unset)."""
        contact = self._contact(level)
        said = shorten(contact, (self.content_size.width or 44) - len(prefix)) if contact else ""
        return [Content.assemble((prefix, "$text-muted"), said)] if said else []

    def _line(self, who: str, cd: Countdown, tz: object) -> Content:
        assert cd.due is not None
        if cd.state == "overdue":
            value = f"OVERDUE +{format_duration(cd.overdue_by)}"
        else:
            value = f"in {format_duration(cd.remaining)}"
        return Content.assemble(
            (f"{who:<9} ", "$text-muted"),
            (value, _STATE_STYLE.get(cd.state, "")),
            (f" · due {clock_time(cd.due, tz)}", "$text-muted"),  # type: ignore[arg-type]
            (f" · {status_update_key(cd.audience)}", "$text-muted"),  # the key that copies its update
        )

    def _set_state(self, state: str) -> None:
        self._state = state
        wanted = _STATE_CLASS[state]
        for cls in STATE_CLASSES:
            self.set_class(cls == wanted, cls)
