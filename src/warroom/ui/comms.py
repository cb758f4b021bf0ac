"""The console's words: the playbook's messages rendered with live facts (off the UI loop),
copied to every clipboard there is (a copy, never an update), confirmed sent with u / U; the last
copy shown again with where it went; the post-incident report written.

:class:`Comms` belongs to the app (``app.comms``); panes call it to copy what they show.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from warroom.text import clean

if TYPE_CHECKING:
    from datetime import datetime

    from warroom.comms.clipboard import Clipboard
    from warroom.comms.context import MessageContext
    from warroom.comms.templates import RenderResult, TemplateInfo, TemplateSet
    from warroom.incident import events as ev
    from warroom.ui.app import WarroomApp

RESOLUTION_QUESTION = "The incident is still open — {verb} the resolution anyway?"
CONFIRM_KEYS = {"internal": "u", "customer": "U"}  # the key that confirms a copy sent


def _unfilled(result: RenderResult) -> list[tuple[str, str]]:
    """Each placeholder left in a rendered message once, with the context key it stands for."""
    return list(dict.fromkeys((s.placeholder, s.field) for s in result.spans))


class Comms:
    """Messages, clipboard and report for one console (see the module docstring)."""

    def __init__(self, app: WarroomApp, *, system_copy: Any = "pyperclip") -> None:
        self.app = app
        self._system_copy = system_copy
        self._templates: TemplateSet | None = None
        self._copier: Clipboard | None = None
        self._undoable: ev.Event | None = None
        self.last_copy: tuple[str, str, str] | None = None  # what, the text, where it went
        self.stop_renders = threading.Event()  # set when the console exits: renders under way stop

    # -- what there is to copy ---------------------------------------------------------------------
    @property
    def templates(self) -> TemplateSet:
        if self._templates is None:
            from warroom.comms.templates import TemplateSet

            self._templates = TemplateSet.from_settings(self.app.settings)
        return self._templates

    @property
    def copier(self) -> Clipboard:
        """Copies to every clipboard there is (not Textual's ``App.clipboard``, the last text)."""
        if self._copier is None:
            from warroom.comms.clipboard import Clipboard

            app = self.app
            extra: dict[str, Any] = (
                {} if self._system_copy == "pyperclip" else {"system_copy": self._system_copy}
            )
            self._copier = Clipboard(
                app.settings.outbox_dir, terminal_copy=app.copy_to_clipboard, clock=app.clock, **extra
            )
        return self._copier

    def context(self, now: datetime | None = None) -> MessageContext:
        """What a message is filled with, at ``now`` (default: the clock's now), built on the UI
        loop, where the incident lives."""
        from warroom.comms.context import build_context

        app = self.app
        assert app.incident is not None
        return build_context(app.incident, app.settings, app.live_facts(), now or app.clock())

    async def render(self, info: TemplateInfo, context: MessageContext | None = None) -> RenderResult:
        """Render (with ``context``, default :meth:`context`) off the UI loop (a team's template
        is bounded, but may still take its whole deadline), in a daemon thread a closing console
        never waits for."""
        from warroom.comms.clipboard import in_daemon_thread

        if context is None:
            context = self.context()
        return await in_daemon_thread(self.templates.render, info, context, cancel=self.stop_renders)

    async def render_for_incident(self, info: TemplateInfo) -> RenderResult | None:
        """Render ``info`` to send it: the result with its text, or None (and why said) when it
        cannot be rendered or the incident went away meanwhile."""
        result = await self.render(info)
        if self.app.incident is None:
            return None
        if not result.ok or result.text is None:
            self.app.say(result.error or f"{info.title} cannot be rendered", severity="error", timeout=12)
            return None
        return result

    # -- copying --------------------------------------------------------------------------------
    def copy_by_key(self, key: str) -> None:
        info = self.templates.by_key(key)
        if info is None:
            self.app.say(f"No template has key {key}.", severity="warning")
            return
        self.copy_template(info)

    def copy_template(self, info: TemplateInfo) -> None:
        """Render (off the loop) and copy; a resolution message asks first while the incident is
        open. Copied is not sent: ``u`` / ``U`` confirm it (:meth:`confirm_sent`)."""
        inc = self.app.incident
        if inc is None:
            return
        self.unless_premature(info, "Copy", lambda: self._start_copy(info))

    def unless_premature(self, info: TemplateInfo, verb: str, then: Callable[[], None]) -> None:
        """Run ``then``, but for a resolution message while the incident is open ask first: it
        announces what is not true yet (and it is never counted as an update)."""
        inc = self.app.incident
        if inc is None or not (info.resolution and inc.is_open):
            then()
            return
        from warroom.ui.screens.modals import ChoiceModal

        def answered(answer: str | None) -> None:
            if answer == "yes":
                then()

        choices = [("yes", f"{verb} it anyway (it is not counted as an update)"), ("no", "Cancel")]
        hint = "↑↓ choose · enter · esc cancels"
        self.app.push_screen(
            ChoiceModal(RESOLUTION_QUESTION.format(verb=verb.lower()), choices, hint), answered
        )

    def _start_copy(self, info: TemplateInfo) -> None:
        self.app.run_worker(
            self._copy_template(info), group="clipboard", exit_on_error=False, description=f"copy {info.name}"
        )

    async def _copy_template(self, info: TemplateInfo) -> None:
        from warroom.comms.context import fill_hint
        from warroom.comms.updates import copied_event

        app = self.app
        result = await self.render_for_incident(info)
        inc = app.incident
        if result is None or inc is None:
            return
        assert result.text is not None
        app.record(copied_event(info, result.text))
        if info.resolution and inc.is_open:
            then = "not an update while the incident is open"
        elif info.counts_as_update and info.audience is not None:
            then = f"{CONFIRM_KEYS[info.audience]} confirms it sent"
        else:
            then = ""
        left = _unfilled(result)
        hints = list(dict.fromkeys(fill_hint(key) or ph for ph, key in left))
        note = " · ".join(p for p in (then, f"to fill: {'; '.join(hints)}" if hints else "") if p)
        detail = "\n".join(f"{ph}: {fill_hint(key) or 'not known'}" for ph, key in left)
        await self._copy(result.text, what=info.title, name=info.name, note=note, detail=detail)

    def copy_text(self, text: str, *, what: str, name: str, note: str = "") -> None:
        """Copy to every clipboard there is (in a worker: never blocks) and say what worked."""
        self.app.run_worker(
            self._copy(text, what=what, name=name, note=note),
            group="clipboard",
            exit_on_error=False,
            description=f"copy {name}",
        )

    async def _copy(self, text: str, *, what: str, name: str, note: str = "", detail: str = "") -> None:
        """Copy, then one line: what was copied, where it went, what is left (``v``: the rest)."""
        app = self.app
        incident_id = app.incident.id if app.incident is not None else "no-incident"
        result = await self.copier.copy(text, incident_id=incident_id, name=name)
        where = (result.terminal_detail, result.system_detail, result.file_detail)
        self.last_copy = (what, text, "\n".join((*where, detail)).strip())
        line = " · ".join(p for p in (f"{what} copied to {result.where}", note, "v: details") if p)
        app.say(line, severity=result.severity, timeout=8)

    # -- confirming an update sent, taking it back --------------------------------------------------
    def confirm_sent(self, audience: str) -> None:
        """``u`` / ``U``: the last copied message of ``audience`` confirmed sent (restarts its
        countdown); without one, the update is marked sent as posted by other means."""
        from warroom.comms.updates import confirmation

        app = self.app
        inc = app.incident
        if inc is None:
            return
        found = confirmation(inc, audience, self.templates)
        if found.body is None:
            app.say(found.refusal, severity="warning")
            return
        event = app.record(found.body)
        if event is None:
            return
        self._undoable = event
        due = inc.next_update_due(audience) if inc.is_open else None
        nxt = f"; next due {app.at(due)}" if due else ""
        what = (
            f"{audience.capitalize()} update sent: {found.body.template} copied {app.at(found.copied.at)}"
            if found.copied is not None
            else f"{audience.capitalize()} update marked sent"
        )
        app.say(f"{what}{nxt}; ctrl+z takes it back.")

    def forget_undo(self) -> None:
        self._undoable = None

    def undo_update(self) -> None:
        from warroom.comms.updates import undo_event

        app = self.app
        inc = app.incident
        event = self._undoable
        if inc is None or event is None:
            app.say("Nothing to take back.", severity="warning")
            return
        still = any(u.event_id == event.event_id and u.undone_at is None for u in inc.updates)
        if not still:
            app.say("That update was already taken back.", severity="warning")
            self._undoable = None
            return
        body = undo_event(event)
        if app.record(body) is not None:
            self._undoable = None
            due = inc.next_update_due(body.audience)
            nxt = f"; next due {app.at(due)}" if due else ""
            app.say(f"The {body.audience} update is no longer recorded as sent{nxt}.")

    def show_last_copy(self) -> None:
        app = self.app
        if self.last_copy is None:
            app.say("Nothing was copied yet.", severity="warning")
            return
        from warroom.ui.screens.modals import TextModal

        app.push_screen(TextModal(*self.last_copy))

    # -- the report ---------------------------------------------------------------------------------
    def write_report(self) -> None:
        """The post-incident report, from a copy of the journal, written off the UI loop."""
        from warroom.incident.journal import JournalError

        app = self.app
        inc = app.incident
        if inc is None:
            return
        path = app.settings.state_dir / "reports" / f"{inc.id}.md"
        try:
            inc = app.journal.load(inc.id, app.settings.playbook)  # a copy the thread owns
        except JournalError as exc:
            app.say(str(exc), severity="error")
            return
        facts = app.live_facts()
        now = app.clock()
        settings = app.settings
        templates = self.templates

        def write() -> str:
            from warroom.comms.report import ReportError, build_report, write_report
            from warroom.files import private_dir

            try:
                text = build_report(inc, settings, now=now, facts=facts, templates=templates)
                private_dir(path.parent)
                write_report(path, text)
            except ReportError as exc:
                return f"error:{exc}"
            except OSError as exc:
                return f"error:cannot write {path} ({exc.strerror or exc})"
            except Exception as exc:  # say so rather than fail silently in the worker
                why = clean(str(exc), max_len=200)
                return f"error:the report could not be written ({type(exc).__name__}: {why})"
            return str(path)

        async def run() -> None:
            outcome = await asyncio.to_thread(write)
            if outcome.startswith("error:"):
                app.say(outcome.removeprefix("error:"), severity="error", timeout=12)
            else:
                app.say(f"Post-incident report written to {outcome}", timeout=12)

        app.run_worker(run(), group="report", exit_on_error=False, description="write report")
