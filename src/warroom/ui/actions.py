"""What a responder does, each a journal event written before the screen shows it: notes,
severity, phases, fields, updates marked sent, escalation, the decision tree's answer, checklist
ticks, resolution, reopening and closing.

:class:`IncidentActions` belongs to the app (``app.actions``); the app's ``action_*`` methods, which
the keys and the command palette call, hand over to it. Dialogs that take typed text save through
:meth:`WarroomApp.try_record`: a write that fails keeps the dialog open with what was typed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from warroom.incident import events as ev
from warroom.text import counted

if TYPE_CHECKING:
    from warroom.incident.state import Incident
    from warroom.ui.app import WarroomApp


class IncidentActions:
    """See the module docstring."""

    def __init__(self, app: WarroomApp) -> None:
        self.app = app

    def need_incident(self) -> Incident | None:
        if self.app.incident is None:
            self.app.say("No incident is open.", severity="warning")
        return self.app.incident

    def need_open(self) -> Incident | None:
        """The incident, if it is still open (else say how to reopen it)."""
        inc = self.need_incident()
        if inc is not None and not inc.is_open:
            self.app.say(
                f"{inc.id} is {inc.status_text.lower()}; reopen it from the palette (ctrl+p) first.",
                severity="warning",
            )
            return None
        return inc

    def note(self) -> None:
        from warroom.ui.screens.modals import NoteModal

        if self.need_incident() is None:
            return
        self.app.push_screen(NoteModal(save=lambda text: self.app.try_record(ev.NoteAdded(text))))

    def severity(self) -> None:
        from warroom.ui.screens.modals import SeverityModal

        inc = self.need_open()
        if inc is None:
            return

        def save(result: tuple[str, str]) -> str | None:
            previous = inc.severity
            problem = self.app.try_record(ev.SeverityChanged(result[0], previous, result[1]))
            if problem is None:
                self.app.say(f"Severity {previous} → {result[0]}", severity="warning")
            return problem

        severities = list(self.app.settings.playbook.severities.values())
        self.app.push_screen(SeverityModal(severities, inc.severity, save=save))

    def move_phase(self, step: int) -> None:
        inc = self.need_incident()
        if inc is None:
            return
        phases = self.app.settings.playbook.phases
        if not inc.is_open and step < 0:
            self.app.say(
                f"{inc.id} is {inc.status_text.lower()}; reopen it from the palette first.",
                severity="warning",
            )
            return
        i = self.app.settings.playbook.phase_index(inc.phase)
        j = i + step
        if not 0 <= j < len(phases):
            self.app.say(
                "Already in the " + ("last" if step > 0 else "first") + " phase.", severity="warning"
            )
            return
        self.app.record(ev.PhaseChanged(phases[j].key, inc.phase))

    def edit(self, focus: str = "title") -> None:
        from warroom.ui.screens.modals import EditFieldsModal

        inc = self.need_incident()
        if inc is None:
            return

        def save(changed: dict[str, str]) -> str | None:
            for key, value in changed.items():
                if inc.fields.get(key, "") == value:
                    continue  # saved by an earlier try that stopped half-way
                problem = self.app.try_record(ev.FieldEdited(key, value))
                if problem:
                    return problem
            if changed:
                self.app.say(f"Saved {counted(len(changed), 'field')}.")
            return None

        self.app.push_screen(EditFieldsModal(dict(inc.fields), focus, save=save))

    def mark_update(self, audience: str) -> None:
        """``u`` / ``U``: confirm the last copied message of ``audience`` sent (see Comms)."""
        if self.need_incident() is not None:
            self.app.comms.confirm_sent(audience)

    def resolution_criteria(self) -> list[tuple[str, str, str]]:
        inc = self.app.incident
        assert inc is not None
        out = []
        for item in self.app.settings.playbook.resolution.items:
            tick = inc.tick("resolution", item.key)
            rate = self.app.live.rate_hint()
            hint = rate if rate is not None and "error rate" in item.text.lower().replace("-", " ") else None
            state = "met" if tick else "open"
            detail = ""
            if tick:
                detail = f"ticked {self.app.at(tick.at)}"
            if hint is not None:
                detail = (detail + "; " if detail else "") + hint.text
            out.append((state, item.text, detail))
        return out

    def resolve(self) -> None:
        from warroom.ui.screens.modals import ResolveModal

        inc = self.need_incident()
        if inc is None:
            return
        if not inc.is_open:
            self.app.say(f"{inc.id} is already {inc.status_text.lower()}.", severity="warning")
            return

        def save(resolution: str) -> str | None:
            changed = resolution and resolution != inc.fields.get("resolution", "")
            problem = self.app.try_record(ev.FieldEdited("resolution", resolution)) if changed else None
            if problem:
                return problem
            if inc.is_open:
                self.before_resolve()
                problem = self.app.try_record(ev.Resolved(resolution))
                if problem:
                    return problem
                self.app.reach.resolved(inc)  # PagerDuty's alert too, if it was paged
            review = self.app.settings.playbook.phases[-1].key
            if inc.phase != review:
                self.app.record(ev.PhaseChanged(review, inc.phase))
            self.app.say(f"{inc.id} resolved. Deployments may resume once the all-clear is given.")
            return None

        criteria = self.resolution_criteria()
        self.app.push_screen(ResolveModal(criteria, inc.fields.get("resolution", ""), save=save))

    def before_resolve(self) -> None:
        """Record evidence at resolution (the error tallies, the suspected deploy) for the report."""
        for body in self.app.live.resolution_evidence():
            self.app.record(body)

    def answer_all_users(self) -> None:
        from warroom.runbooks import ALL_USERS
        from warroom.ui.screens.modals import ChoiceModal

        if self.need_incident() is None:
            return

        def done(answer: str | None) -> None:
            if answer:
                self.app.record(ev.Answered(ALL_USERS.text, answer))

        choices = [("yes", "Yes: check platform status"), ("no", "No: check user-specific data")]
        self.app.push_screen(ChoiceModal(ALL_USERS.text, choices), done)

    def escalate(self) -> None:
        from warroom.ui.screens.modals import EscalateModal

        inc = self.need_open()
        if inc is None:
            return
        current = inc.escalation_level(self.app.clock()).level

        def save(result: tuple[int, str]) -> str | None:
            return self.app.try_record(ev.Escalated(result[0], result[1]))

        self.app.push_screen(EscalateModal(self.app.settings.playbook.escalation, current, save=save))

    def toggle_item(self) -> None:
        inc = self.need_incident()
        if inc is None:
            return
        from warroom.ui.panes.checklist import ChecklistPane

        panes = self.app.screen.query(ChecklistPane)
        if not panes:
            return
        found = panes.first().focused_item()
        if found is None:
            return
        checklist, item = found
        cl = self.app.settings.playbook.checklist(checklist)
        text = cl.item(item).text if cl and cl.item(item) else item  # type: ignore[union-attr]
        if inc.tick(checklist, item):
            self.app.record(ev.ItemUnticked(checklist, item, text))
        else:
            self.app.record(ev.ItemTicked(checklist, item, text))

    def reopen(self) -> None:
        from warroom.ui.screens.modals import NoteModal

        inc = self.need_incident()
        if inc is None or inc.is_open:
            return

        def done(reason: str | None) -> None:
            if reason and self.app.record(ev.Reopened(reason)):
                self.app.start_sources()
                self.app.say(f"{inc.id} reopened.", severity="warning")

        self.app.push_screen(NoteModal("Why reopen the incident?"), done)

    def close(self) -> None:
        inc = self.need_incident()
        if inc is None or inc.status == "closed":
            return
        if self.app.record(ev.Closed("post-incident review done")):
            self.app.say(f"{inc.id} closed.")
