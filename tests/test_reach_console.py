"""The console reaching out: `!` pages on-call through PagerDuty (journaled, the checklist tick
offered), resolving sends the resolve, `o` posts a message to Slack (a post Slack accepts is the
update sent), the SMS pane shows the Twilio account; servers that refuse or never answer leave
the console responsive."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from conftest import ManualClock
from reachserver import HANG, Loopback, Reply, Request, closed_port, serve
from uihelpers import make_app, make_journal, make_settings, settle, shown
from warroom.incident import events as ev
from warroom.settings.integrations import PagerDutySettings, SlackSettings, TwilioSettings
from warroom.ui.panes.database import SmsPane
from warroom.ui.screens.console import ConsoleScreen
from warroom.ui.screens.modals import ChoiceModal

SIZE = (160, 48)
KEY = "R0UT1NGKEYabcdefghij0123456789AB"
PD = "/v2/enqueue"
HOOK = "/services/T0001/B0001/XXXXXXXXXXXXXXXXXXXXXXXX"
SID = "AC0123456789abcdef0123456789abcdef"


@pytest.fixture
async def loopback() -> AsyncIterator[Loopback]:
    async for srv in serve():
        yield srv


def accepted(request: Request) -> Reply:
    body = request.json()
    assert isinstance(body, dict)
    return Reply.json(
        202, {"status": "success", "message": "Event processed", "dedup_key": body["dedup_key"]}
    )


@pytest.fixture
def world(tmp_path: Path, clock: ManualClock, loopback: Loopback):  # type: ignore[no-untyped-def]
    settings = make_settings(
        tmp_path,
        pagerduty=PagerDutySettings(KEY, loopback.url(PD), timedelta(seconds=2)),
        slack=SlackSettings(loopback.url(HOOK), timedelta(seconds=2)),
    )
    journal = make_journal(settings, clock)
    incident_id = journal.declare(
        "P0", "SMS sending failing", impact="All customers", lead="alice"
    ).incident_id
    yield settings, journal, clock, incident_id
    journal.close()


def reached(journal, incident_id: str) -> list[ev.Reached]:  # type: ignore[no-untyped-def]
    return [e.body for e in journal.events(incident_id) if isinstance(e.body, ev.Reached)]


async def test_bang_pages_on_call_and_offers_the_tick(world, loopback: Loopback) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock, incident_id = world
    loopback.routes[PD] = accepted
    app = make_app(settings, journal, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("exclamation_mark")
        await settle(pilot, app, "pagerduty")
        assert isinstance(app.screen, ChoiceModal)
        assert "Tick “Page on-call engineer immediately”?" in await shown(pilot, app)
        await pilot.press("enter")  # yes
        await pilot.pause()
        inc = app.incident
        assert inc is not None and inc.tick("actions-P0", "page-on-call-engineer-immediately") is not None
        assert "PagerDuty trigger accepted" in await shown(pilot, app)  # on the timeline
    (request,) = loopback.hits(PD)
    assert request.json()["payload"]["severity"] == "critical"  # type: ignore[index]
    assert reached(journal, incident_id) == [
        ev.Reached("PagerDuty", "trigger", "accepted", "", f"warroom-{incident_id}")
    ]


async def test_resolving_a_paged_incident_resolves_the_alert(world, loopback: Loopback) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock, incident_id = world
    loopback.routes[PD] = accepted
    journal.append(incident_id, ev.Reached("PagerDuty", "trigger", "accepted", "", f"warroom-{incident_id}"))
    app = make_app(settings, journal, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot, app, "pagerduty")
        assert app.incident is not None and app.incident.status == "resolved"
    (request,) = loopback.hits(PD)
    assert request.json() == {
        "routing_key": KEY,
        "event_action": "resolve",
        "dedup_key": f"warroom-{incident_id}",
    }
    assert reached(journal, incident_id)[-1] == ev.Reached(
        "PagerDuty", "resolve", "accepted", "", f"warroom-{incident_id}"
    )


async def test_resolving_an_incident_never_paged_sends_nothing(world, loopback: Loopback) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock, _ = world
    loopback.routes[PD] = accepted
    app = make_app(settings, journal, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot, app, "pagerduty")
    assert loopback.requests == []


async def test_a_rejected_page_is_journaled_with_pagerdutys_reason(world, loopback: Loopback) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock, incident_id = world
    loopback.routes[PD] = Reply.json(
        400,
        {"status": "invalid event", "message": "Event object is invalid", "errors": ["'summary' is missing"]},
    )
    app = make_app(settings, journal, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("exclamation_mark")
        await settle(pilot, app, "pagerduty")
        assert isinstance(app.screen, ConsoleScreen)  # nothing to tick
        notes = [n.message for n in app._notifications]
        assert any("the page was rejected (HTTP 400: Event object is invalid" in m for m in notes)
    (body,) = reached(journal, incident_id)
    assert (body.outcome, body.reason) == (
        "rejected",
        "HTTP 400: Event object is invalid; 'summary' is missing",
    )


async def test_without_configuration_bang_says_how(tmp_path: Path, clock: ManualClock) -> None:
    settings = make_settings(tmp_path)
    journal = make_journal(settings, clock)
    journal.declare("P0", "x")
    app = make_app(settings, journal, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("exclamation_mark")
        await pilot.pause()
        notes = [n.message for n in app._notifications]
        assert any("PagerDuty is not configured: set [pagerduty] routing_key" in m for m in notes)
    journal.close()


async def test_the_console_stays_responsive_while_pagerduty_never_answers(
    world,  # type: ignore[no-untyped-def]
    loopback: Loopback,
) -> None:
    settings, journal, clock, incident_id = world
    loopback.routes[PD] = HANG
    settings = replace(settings, pagerduty=replace(settings.pagerduty, timeout=timedelta(seconds=30)))
    app = make_app(settings, journal, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("exclamation_mark")
        await pilot.pause()
        assert [w for w in app.workers if w.group == "pagerduty" and w.is_running]
        started = time.monotonic()
        await pilot.press("n")
        await pilot.pause()
        await pilot.press(*"still waiting on PagerDuty", "enter")
        await pilot.pause()
        assert time.monotonic() - started < 5
        notes = [e.body for e in journal.events(incident_id) if isinstance(e.body, ev.NoteAdded)]
        assert notes == [ev.NoteAdded("still waiting on PagerDuty")]
        await pilot.press("exclamation_mark")  # a second page while one is on its way: said, not sent
        await pilot.pause()
        assert any("already on its way" in n.message for n in app._notifications)
    assert len(loopback.hits(PD)) == 1
    assert reached(journal, incident_id) == []  # quit before any answer: nothing made up


async def post(app, pilot, key: str) -> None:  # type: ignore[no-untyped-def]
    info = app.comms.templates.by_key(key)
    app.reach.post_template(info)
    await settle(pilot, app, "slack")
    await settle(pilot, app, "clipboard")


async def test_a_post_slack_accepts_is_the_update_sent(world, loopback: Loopback) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock, incident_id = world
    loopback.routes[HOOK] = Reply.text(200, "ok")
    app = make_app(settings, journal, clock, system_copy=lambda text: "xclip")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        clock.advance(minutes=9)
        await post(app, pilot, "2")
        inc = app.incident
        assert inc is not None
        last = inc.last_update("internal")
        assert last is not None and last.template == "internal_update"
        assert inc.next_update_due("internal") == clock.now.replace(minute=24)
        assert any(
            "Posted to Slack: " in n.message and "internal update sent" in n.message
            for n in app._notifications
        )
    (request,) = loopback.hits(HOOK)
    text = request.json()["text"]  # type: ignore[index]
    assert text.startswith("📊 INCIDENT UPDATE") and text == app.clipboard
    events = journal.events(incident_id)
    copied = next(e for e in events if isinstance(e.body, ev.MessageCopied))
    sent = [e.body for e in events if isinstance(e.body, ev.UpdateSent)]
    assert sent == [ev.UpdateSent("internal", text, "internal_update", copy=copied.event_id)]
    assert reached(journal, incident_id) == [ev.Reached("Slack", "post", "accepted", "", copied.event_id)]


async def test_posting_a_resolution_while_open_asks_first_and_never_counts(world, loopback: Loopback) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock, incident_id = world
    loopback.routes[HOOK] = Reply.text(200, "ok")
    app = make_app(settings, journal, clock, system_copy=lambda text: "xclip")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.reach.post_template(app.comms.templates.by_key("3"))
        await pilot.pause()
        assert isinstance(app.screen, ChoiceModal)
        assert "The incident is still open — post the resolution anyway?" in await shown(pilot, app)
        await pilot.press("escape")  # cancelled: nothing posted, nothing copied
        await pilot.pause()
        assert loopback.hits(HOOK) == []
        app.reach.post_template(app.comms.templates.by_key("3"))
        await pilot.pause()
        app.screen.finish("yes")  # type: ignore[attr-defined]
        await settle(pilot, app, "slack")
        await settle(pilot, app, "clipboard")
        inc = app.incident
        assert inc is not None and inc.last_update("internal") is None  # posted, never an update
    (request,) = loopback.hits(HOOK)
    assert "RESOLVED" in request.json()["text"]  # type: ignore[index]
    events = journal.events(incident_id)
    assert not [e for e in events if isinstance(e.body, ev.UpdateSent)]
    assert [e.body.template for e in events if isinstance(e.body, ev.MessageCopied)] == [
        "internal_resolution"
    ]


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        (Reply.text(410, "channel_is_archived"), "HTTP 410: channel_is_archived (the channel is archived)"),
        (Reply.text(403, "invalid_token"), "HTTP 403: invalid_token (the webhook URL is no longer valid)"),
        (HANG, "no answer within 0.5 s"),
    ],
)
async def test_a_post_slack_refuses_says_why_and_the_text_stays_copied(
    world,  # type: ignore[no-untyped-def]
    loopback: Loopback,
    reply: Reply,
    why: str,
) -> None:
    settings, journal, clock, incident_id = world
    # a short timeout only for the server that never answers: under load a refusal can take longer
    wait = timedelta(seconds=0.5 if reply is HANG else 10)
    settings = replace(settings, slack=replace(settings.slack, timeout=wait))
    loopback.routes[HOOK] = reply
    app = make_app(settings, journal, clock, system_copy=lambda text: "xclip")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await post(app, pilot, "2")
        inc = app.incident
        assert inc is not None and inc.last_update("internal") is None  # not sent
        notes = [n.message for n in app._notifications]
        assert any(f"Slack did not take Internal - Status Update: {why}." in m for m in notes), notes
        outbox = list((settings.outbox_dir / incident_id).glob("*.txt"))
        assert len(outbox) == 1 and outbox[0].read_text(encoding="utf-8") == app.clipboard
    assert reached(journal, incident_id)[-1].reason == why


def twilio_routes(srv: Loopback, status: str, balance: str) -> None:
    srv.routes[f"/2010-04-01/Accounts/{SID}.json"] = Reply.json(200, {"sid": SID, "status": status})
    srv.routes[f"/2010-04-01/Accounts/{SID}/Balance.json"] = Reply.json(
        200, {"currency": "USD", "balance": balance, "account_sid": SID}
    )


@pytest.mark.parametrize(
    ("status", "balance", "line", "red"),
    [
        ("active", "12.34", "Twilio account active · balance 12.34 USD", False),
        ("suspended", "12.34", "✖ Twilio account suspended · balance 12.34 USD  (account suspended)", True),
        ("active", "3.10", "✖ Twilio account active · balance 3.10 USD  (balance under 10 USD)", True),
    ],
)
async def test_the_sms_pane_shows_the_twilio_account(
    tmp_path: Path, clock: ManualClock, loopback: Loopback, status: str, balance: str, line: str, red: bool
) -> None:
    twilio_routes(loopback, status, balance)
    dsn = f"postgresql://warroom@127.0.0.1:{closed_port()}/none"  # the SMS pane needs a database
    settings = make_settings(tmp_path, twilio=TwilioSettings(SID, "secret-token", loopback.url()))
    settings = replace(settings, database=replace(settings.database, dsn=dsn))
    journal = make_journal(settings, clock)
    journal.declare("P1", "SMS delivery failing")
    app = make_app(settings, journal, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(50):
            await pilot.pause(0.05)
            panes = app.screen.query(SmsPane)
            if panes and app.reach.twilio is not None:
                break
        pane = app.screen.query_one(SmsPane)
        await pilot.pause()
        shown_line = pane.query_one("#sms-twilio")
        assert shown_line.display
        assert str(shown_line.content) == line  # type: ignore[attr-defined]
        styles = {str(span.style) for span in shown_line.content.spans}  # type: ignore[attr-defined]
        assert any("$text-error" in s for s in styles) is red
    journal.close()
    assert {r.method for r in loopback.requests} == {"GET"}
