"""The console reaching other systems: paging on-call through PagerDuty (``!``), posting a message
to Slack (``o`` on the templates pane), publishing a customer message to the team's status page
(``S`` on the templates pane, or the command palette), and the Twilio account's status and balance
polled for the SMS pane. The calls are :mod:`warroom.reach`'s (no Textual there); each runs in a worker
(``exit_on_error=False``, a named group) and its result is journaled as a ``Reached`` event. None
of them is a dependency: unconfigured, down or refusing, the console works as before.

:class:`Reach` belongs to the app (``app.reach``).
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.content import Content

from warroom.comms.context import STATUSPAGE
from warroom.incident import events as ev

if TYPE_CHECKING:
    from warroom.comms.templates import RenderResult, TemplateInfo
    from warroom.incident.state import Incident
    from warroom.reach.pagerduty import PageResult
    from warroom.reach.twilio import TwilioAccount
    from warroom.ui.app import WarroomApp

PAGE_ITEM = "page on-call"  # the playbook's "Page on-call engineer immediately"
# What an unfilled [STATUS_PAGE_LINK] reads as in a message published on the status page itself
# (the incident's link is known only once the page has created it).
THIS_PAGE = "this page"


def page_status(info: TemplateInfo, incident: Incident) -> str:
    """The status page incident's status for a publish of ``info``: the phase in customers' words
    (investigating, identified, monitoring), resolved for a resolution message or a resolved
    incident."""
    from warroom.comms.context import CUSTOMER_STATUS

    if info.resolution or not incident.is_open:
        return "resolved"
    return CUSTOMER_STATUS.get(incident.phase, "investigating")


def published_text(rendered: RenderResult) -> str:
    """The text published on the status page: the message, an unfilled status page link reading
    :data:`THIS_PAGE` (the page is where the customer reads it)."""
    text = rendered.text or ""
    for span in sorted(rendered.spans, key=lambda sp: sp.start, reverse=True):
        if span.field == "status_page_link":
            text = text[: span.start] + THIS_PAGE + text[span.end :]
    return text


def page_item(app: WarroomApp, incident: Incident) -> tuple[str, str, str] | None:
    """(checklist, item, text) of the severity's "Page on-call engineer immediately", if it has one."""
    checklist = app.settings.playbook.actions(incident.severity)
    for item in checklist.items:
        if PAGE_ITEM in item.text.lower():
            return checklist.key, item.key, item.text
    return None


def paged(incident: Incident) -> bool:
    """PagerDuty accepted a trigger for the incident and no resolve since."""
    state = False
    for event in incident.events:
        body = event.body
        if isinstance(body, ev.Reached) and body.system == "PagerDuty" and body.accepted:
            state = body.action == "trigger"
    return state


def twilio_line(reading: TwilioAccount) -> Content:
    """The SMS pane's Twilio line: red for what is wrong (suspended, credentials rejected, low
    balance), amber when it could not be read, muted when all is well."""
    from warroom.reach.twilio import describe

    line = describe(reading)
    alarm = reading.alarm
    if alarm:
        return Content.assemble(("✖ " + line, "bold $text-error"), (f"  ({', '.join(alarm)})", "$text-error"))
    if reading.problem:
        return Content.styled("⚠ " + line, "$text-warning")
    return Content.styled(line, "$text-muted")


class Reach:
    """See the module docstring."""

    def __init__(self, app: WarroomApp) -> None:
        self.app = app
        self._paging = False
        self._publishing = False
        self.twilio: TwilioAccount | None = None  # the last reading, for the SMS pane
        self._twilio_started = False

    def _journal(self, incident_id: str, body: ev.Body) -> ev.Event | None:
        """Journal ``body`` on the incident it is about (another may be open by now)."""
        app = self.app
        if app.incident is not None and app.incident.id == incident_id:
            return app.record(body)
        from warroom.incident.journal import JournalError

        try:
            return app.journal.append(incident_id, body)
        except JournalError as exc:
            app.say(str(exc), severity="error")
            return None

    # -- PagerDuty -------------------------------------------------------------------------------
    def page_on_call(self) -> None:
        """Trigger a PagerDuty incident for the open incident (dedup key per incident)."""
        from warroom.reach.pagerduty import trigger_event

        app = self.app
        inc = app.actions.need_open()
        if inc is None:
            return
        settings = app.settings.pagerduty
        if not settings.configured:
            app.say(
                "PagerDuty is not configured: set [pagerduty] routing_key or WARROOM_PAGERDUTY_ROUTING_KEY.",
                severity="warning",
            )
            return
        if self._paging:
            app.say("A page is already on its way to PagerDuty.", severity="warning")
            return
        event = trigger_event(
            settings.routing_key,
            incident_id=inc.id,
            severity=inc.severity,
            title=inc.title,
            link=inc.fields.get("status_page_link", "") or inc.remotes.get(STATUSPAGE, ("", ""))[1],
        )
        self._paging = True
        app.say("Paging on-call through PagerDuty…")
        app.run_worker(
            self._send(event, inc.id), group="pagerduty", exit_on_error=False, description="page on-call"
        )

    def resolved(self, incident: Incident) -> None:
        """The incident was resolved: resolve PagerDuty's alert too, if it was paged."""
        from warroom.reach.pagerduty import resolve_event

        settings = self.app.settings.pagerduty
        if settings.configured and paged(incident):
            event = resolve_event(settings.routing_key, incident.id)
            self.app.run_worker(
                self._send(event, incident.id),
                group="pagerduty",
                exit_on_error=False,
                description="resolve page",
            )

    async def _send(self, event: dict[str, Any], incident_id: str) -> None:
        from warroom.reach import pagerduty
        from warroom.reach.http import make_client

        try:
            async with make_client() as client:
                result = await pagerduty.send(self.app.settings.pagerduty, event, client=client)
        finally:
            if event["event_action"] == "trigger":
                self._paging = False
        self._journal(
            incident_id,
            ev.Reached(pagerduty.SYSTEM, result.action, result.outcome, result.reason, result.dedup_key),
        )
        self._tell(result, incident_id)

    def _tell(self, result: PageResult, incident_id: str) -> None:
        app = self.app
        what = "page" if result.action == "trigger" else "resolution"
        if not result.accepted:
            app.say(
                f"PagerDuty: the {what} was {result.outcome} ({result.reason}); page on-call another way.",
                severity="error",
                timeout=20,
            )
            return
        if result.action == "resolve":
            app.say("PagerDuty: the alert is resolved.")
            return
        inc = app.incident
        item = page_item(app, inc) if inc is not None and inc.id == incident_id else None
        if inc is None or item is None or inc.tick(item[0], item[1]):
            app.say(f"PagerDuty accepted the page (dedup key {result.dedup_key}).")
            return
        from warroom.ui.screens.modals import ChoiceModal

        def done(answer: str | None) -> None:
            if answer == "yes" and not inc.tick(item[0], item[1]):
                app.record(ev.ItemTicked(*item))

        question = f"PagerDuty accepted the page. Tick “{item[2]}”?"
        app.push_screen(ChoiceModal(question, [("yes", "Yes: tick it"), ("no", "No, not yet")]), done)

    # -- Slack -------------------------------------------------------------------------------------
    def post_template(self, info: TemplateInfo) -> None:
        """Render, copy (clipboard and outbox, as ``y`` does) and post to Slack; a post Slack
        accepts is the update sent."""
        app = self.app
        if app.actions.need_incident() is None:
            return
        if not app.settings.slack.configured:
            app.say(
                "Slack is not configured: set [slack] webhook_url or WARROOM_SLACK_WEBHOOK_URL (y copies).",
                severity="warning",
            )
            return
        app.comms.unless_premature(
            info,
            "Post",
            lambda: app.run_worker(
                self._post(info), group="slack", exit_on_error=False, description=f"post {info.name}"
            ),
        )

    async def _post(self, info: TemplateInfo) -> None:
        from warroom.comms.updates import copied_event
        from warroom.reach import slack
        from warroom.reach.http import make_client

        app = self.app
        rendered = await app.comms.render_for_incident(info)
        inc = app.incident
        if rendered is None or inc is None or rendered.text is None:
            return
        text = rendered.text
        copied = app.record(copied_event(info, text))
        app.comms.copy_text(text, what=info.title, name=info.name)
        async with make_client() as client:
            result = await slack.post(app.settings.slack, text, client=client)
        ref = copied.event_id if copied is not None else ""
        self._journal(inc.id, ev.Reached(slack.SYSTEM, "post", result.outcome, result.reason, ref))
        if not result.accepted:
            app.say(
                f"Slack did not take {info.title}: {result.reason}. "
                "The text is on the clipboard and in the outbox.",
                severity="error",
                timeout=20,
            )
            return
        note = self._sent(info, text, ref, inc)
        app.say(f"Posted to Slack: {info.title}{note}.")

    # -- Statuspage --------------------------------------------------------------------------------
    def publish_template(self, info: TemplateInfo) -> None:
        """Render, copy (clipboard and outbox, as ``y`` does) and publish a customer message to the
        status page: the first publish creates the incident there, the next ones update it. A
        publish the page accepts is the customer update sent."""
        app = self.app
        if app.actions.need_incident() is None:
            return
        if not app.settings.statuspage.configured:
            app.say(
                "The status page is not configured: set [statuspage] page_id and api_key "
                "(or WARROOM_STATUSPAGE_API_KEY); y copies.",
                severity="warning",
            )
            return
        if info.audience != "customer":
            app.say(
                f"{info.title} is not a customer message: only those (4, 5, 6) go to the status page.",
                severity="warning",
            )
            return
        if self._publishing:
            app.say("A publish to the status page is already on its way.", severity="warning")
            return
        app.comms.unless_premature(info, "Publish", lambda: self._start_publish(info))

    def _start_publish(self, info: TemplateInfo) -> None:
        if self._publishing:  # a second one asked while the question was open
            self.app.say("A publish to the status page is already on its way.", severity="warning")
            return
        self._publishing = True  # one at a time: two creates would be two incidents on the page
        self.app.run_worker(
            self._publish(info), group="statuspage", exit_on_error=False, description=f"publish {info.name}"
        )

    async def _publish(self, info: TemplateInfo) -> None:
        try:
            await self._publish_now(info)
        finally:
            self._publishing = False

    async def _publish_now(self, info: TemplateInfo) -> None:
        from warroom.comms.updates import copied_event
        from warroom.reach import statuspage
        from warroom.reach.http import make_client

        app = self.app
        rendered = await app.comms.render(info)
        inc = app.incident
        if inc is None:
            return
        if not rendered.ok or rendered.text is None:
            app.say(rendered.error or f"{info.title} cannot be rendered", severity="error", timeout=12)
            return
        text = rendered.text
        copied = app.record(copied_event(info, text))
        app.comms.copy_text(text, what=info.title, name=info.name)
        name, body = statuspage.split_message(published_text(rendered))
        status = page_status(info, inc)
        remote = inc.remotes.get(statuspage.SYSTEM, ("", ""))[0]
        ref = copied.event_id if copied is not None else ""

        def reached(result: statuspage.PublishResult) -> ev.Reached:
            return ev.Reached(
                statuspage.SYSTEM,
                result.action,
                result.outcome,
                result.reason,
                ref,
                result.incident_id,
                result.link,
            )

        async with make_client() as client:
            publish = partial(
                statuspage.publish,
                app.settings.statuspage,
                name=name or f"{info.title} ({inc.id})",
                status=status,
                body=body or name,
                severity=inc.severity,
                client=client,
            )
            result = await publish(incident_id=remote)
            replaced = result.gone
            if replaced:  # deleted on the page by hand: this publish opens a new one
                self._journal(inc.id, reached(result))
                result = await publish(incident_id="")
        self._journal(inc.id, reached(result))
        if not result.accepted:
            app.say(
                f"The status page did not take {info.title}: {result.reason}. "
                "The text is on the clipboard and in the outbox.",
                severity="error",
                timeout=20,
            )
            return
        note = self._sent(info, text, ref, inc)
        what = "created" if result.action == "create" else "updated"
        if replaced:
            what += " anew (the page no longer had the last one)"
        link = f" {result.link}" if result.link else ""
        fills = ""
        if result.link and "status_page_link" in rendered.unfilled_fields:
            fills = f"; its link fills [STATUS_PAGE_LINK] from now on ({info.key or 'y'} copies it again)"
        app.say(f"Status page incident {what}{link} ({result.status or status}): {info.title}{note}{fills}.")

    def _sent(self, info: TemplateInfo, text: str, ref: str, inc: Incident) -> str:
        """A post or publish the other side accepted is the update sent (never a resolution
        message while the incident is open): journal it; what the notice adds about it."""
        from warroom.comms.updates import update_event

        app = self.app
        sent = update_event(info, text, copy=ref)
        premature = info.resolution and inc.is_open  # sent anyway: never counted as an update
        if sent is None or premature or app.incident is not inc or app.record(sent) is None:
            return ""
        due = inc.next_update_due(sent.audience) if inc.is_open else None
        return f"; recorded as the {sent.audience} update sent" + (f", next due {app.at(due)}" if due else "")

    # -- Twilio ------------------------------------------------------------------------------------
    def start_polls(self) -> None:
        """Poll the Twilio account (once; it outlives an incident switch). Never overlapping: one
        loop reads, then sleeps."""
        if self.app.settings.twilio.configured and not self._twilio_started:
            self._twilio_started = True
            self.app.run_worker(self._poll_twilio(), group="twilio", name="twilio-poll", exit_on_error=False)

    async def _poll_twilio(self) -> None:
        from warroom.reach import twilio
        from warroom.reach.http import make_client
        from warroom.ui.panes.database import SmsPane

        app = self.app
        settings = app.settings.twilio
        async with make_client() as client:
            while True:
                self.twilio = await twilio.read_account(settings, client=client, clock=app.clock)
                for view in list(app.views):
                    if isinstance(view, SmsPane):
                        view.twilio = self.twilio
                await asyncio.sleep(settings.poll_interval.total_seconds())
