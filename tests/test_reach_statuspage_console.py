"""The console publishing to the team's status page: S on the templates pane (or the palette)
publishes the focused customer message; the first creates the incident on the page, the next
update it with the phase's status; the page's incident id and link are journaled, the link fills
[STATUS_PAGE_LINK] (a link set by hand wins); a publish the page accepts is the customer update
sent; a resolution asks first while the incident is open; refusals and a server that never
answers leave the text copied and the console responsive; the API key never shows."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from conftest import ManualClock
from reachserver import HANG, Loopback, Reply, serve
from test_reach_statuspage import INCIDENTS, KEY, ONE, PAGE, REMOTE, SHORTLINK, incident
from uihelpers import make_app, make_journal, make_settings, settle, shown
from warroom.incident import events as ev
from warroom.settings import secrets_of
from warroom.settings.integrations import StatuspageSettings
from warroom.text import register_secret
from warroom.ui.panes.templates import TemplateList, TemplatesPane
from warroom.ui.screens.modals import ChoiceModal

SIZE = (160, 48)


@pytest.fixture
async def loopback() -> AsyncIterator[Loopback]:
    async for srv in serve():
        yield srv


@pytest.fixture
def world(tmp_path: Path, clock: ManualClock, loopback: Loopback):  # type: ignore[no-untyped-def]
    sp = StatuspageSettings(PAGE, KEY, loopback.url("/v1"), timedelta(seconds=2))
    settings = make_settings(tmp_path, statuspage=sp)
    for secret in secrets_of(settings):
        register_secret(secret)
    journal = make_journal(settings, clock)
    incident_id = journal.declare(
        "P0", "SMS sending failing", impact="All customers", lead="alice"
    ).incident_id
    journal.append(incident_id, ev.FieldEdited("feature", "SMS notifications"))
    journal.append(incident_id, ev.FieldEdited("customer_impact", "Text messages are not delivered"))
    yield settings, journal, clock, incident_id
    journal.close()


def reached(journal, incident_id: str) -> list[ev.Reached]:  # type: ignore[no-untyped-def]
    return [e.body for e in journal.events(incident_id) if isinstance(e.body, ev.Reached)]


async def publish(app, pilot, key: str) -> None:  # type: ignore[no-untyped-def]
    app.reach.publish_template(app.comms.templates.by_key(key))
    await settle(pilot, app, "statuspage")
    await settle(pilot, app, "clipboard")


def notes(app) -> list[str]:  # type: ignore[no-untyped-def]
    return [n.message for n in app._notifications]


async def test_s_publishes_creates_then_updates_one_incident_following_the_phase(
    world,  # type: ignore[no-untyped-def]
    loopback: Loopback,
) -> None:
    settings, journal, clock, incident_id = world
    loopback.routes[INCIDENTS] = incident
    loopback.routes[ONE] = lambda r: incident(r, 200)
    app = make_app(settings, journal, clock, system_copy=lambda text: "xclip")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.screen.query_one(TemplateList).focus()
        for _ in range(3):
            await pilot.press("right")  # 4 Customer - P0 Notification
        pane = app.screen.query_one(TemplatesPane)
        selected = pane.selected()
        assert selected is not None and selected.name == "customer_notification"
        clock.advance(minutes=4)
        await pilot.press("S")
        await settle(pilot, app, "statuspage")
        await settle(pilot, app, "clipboard")
        inc = app.incident
        assert inc is not None
        last = inc.last_update("customer")
        assert last is not None and last.template == "customer_notification"
        assert any(
            f"Status page incident created {SHORTLINK} (investigating)" in m
            and "recorded as the customer update sent" in m
            and "its link fills [STATUS_PAGE_LINK] from now on (4 copies it again)" in m
            for m in notes(app)
        ), notes(app)
        assert "Statuspage create accepted" in await shown(pilot, app)  # on the timeline
        assert reached(journal, incident_id)[0].describe() == (
            f"Statuspage create accepted (incident {REMOTE} · {SHORTLINK})"
        )
        assert inc.remotes["Statuspage"] == (REMOTE, SHORTLINK)

        # The phase moves on: the status update says so, on the same incident.
        app.record(ev.PhaseChanged("mitigation", inc.phase))
        await publish(app, pilot, "6")
        app.record(ev.PhaseChanged("recovery", "mitigation"))
        await publish(app, pilot, "6")
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert not inc.is_open
        await publish(app, pilot, "5")  # resolved: asks nothing

    (create,) = loopback.hits(INCIDENTS)
    sent = create.json()["incident"]  # type: ignore[index]
    assert sent["name"] == "Service Disruption - SMS notifications Temporarily Unavailable"
    assert sent["status"] == "investigating" and sent["impact_override"] == "critical"
    assert sent["body"].startswith("We're currently experiencing an issue affecting SMS notifications.")
    # On the page itself, the link nobody could know yet reads "this page"; the copy keeps the placeholder.
    assert "real-time updates: this page" in sent["body"] and "[STATUS_PAGE_LINK]" not in sent["body"]
    assert not sent["body"].startswith("Subject:")
    updates = [r.json()["incident"] for r in loopback.hits(ONE)]  # type: ignore[index]
    assert [(u["status"], r.method) for u, r in zip(updates, loopback.hits(ONE), strict=True)] == [
        ("identified", "PATCH"),
        ("monitoring", "PATCH"),
        ("resolved", "PATCH"),
    ]
    assert "We've identified the cause" in updates[0]["body"]
    assert f"real-time updates: {SHORTLINK}" in updates[0]["body"]  # the journaled link fills it
    assert "has been resolved" in updates[2]["body"] and "name" not in updates[2]
    bodies = reached(journal, incident_id)
    assert [(b.system, b.action, b.outcome, b.remote, b.link) for b in bodies] == [
        ("Statuspage", "create", "accepted", REMOTE, SHORTLINK),
        *[("Statuspage", "update", "accepted", REMOTE, SHORTLINK)] * 3,
    ]
    copies = [e for e in journal.events(incident_id) if isinstance(e.body, ev.MessageCopied)]
    assert [b.ref for b in bodies] == [c.event_id for c in copies]
    sent_updates = [e.body for e in journal.events(incident_id) if isinstance(e.body, ev.UpdateSent)]
    assert [u.template for u in sent_updates] == [
        "customer_notification",
        "customer_update",
        "customer_update",
        "customer_resolution",
    ]
    every_request = b"".join(r.body for r in loopback.requests)
    assert KEY.encode() not in every_request  # only in the Authorization header
    assert all(r.headers["authorization"] == f"OAuth {KEY}" for r in loopback.requests)
    assert KEY not in journal.path.read_bytes().decode("utf-8", "replace")


async def test_an_incident_deleted_on_the_page_is_created_anew(world, loopback: Loopback) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock, incident_id = world
    journal.append(
        incident_id,
        ev.Reached("Statuspage", "create", "accepted", "", "", "gone0000", "https://stspg.io/old"),
    )
    loopback.routes[f"{INCIDENTS}/gone0000"] = Reply.json(404, {"error": "Incident not found"})
    loopback.routes[INCIDENTS] = incident
    app = make_app(settings, journal, clock, system_copy=lambda text: "xclip")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await publish(app, pilot, "6")
        inc = app.incident
        assert inc is not None and inc.remotes["Statuspage"] == (REMOTE, SHORTLINK)
        assert inc.last_update("customer") is not None
        assert any(
            f"Status page incident created anew (the page no longer had the last one) {SHORTLINK}" in m
            for m in notes(app)
        ), notes(app)
    assert [(r.method, r.path) for r in loopback.requests] == [
        ("PATCH", f"{INCIDENTS}/gone0000"),
        ("POST", INCIDENTS),
    ]
    assert [(b.action, b.outcome, b.remote) for b in reached(journal, incident_id)[1:]] == [
        ("update", "rejected", "gone0000"),
        ("create", "accepted", REMOTE),
    ]


async def test_a_link_set_by_hand_wins_over_the_journaled_one(world, loopback: Loopback) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock, incident_id = world
    journal.append(incident_id, ev.Reached("Statuspage", "create", "accepted", "", "", REMOTE, SHORTLINK))
    settings = replace(settings, status_page_link="https://status.example.com")
    app = make_app(settings, journal, clock, system_copy=lambda text: "xclip")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.comms.context()["status_page_link"] == SHORTLINK  # over [incident] status_page_link
        app.record(ev.FieldEdited("status_page_link", "https://status.example.com/incidents/42"))
        assert app.comms.context()["status_page_link"] == "https://status.example.com/incidents/42"


async def test_publishing_a_resolution_while_open_asks_first_and_never_counts(
    world,  # type: ignore[no-untyped-def]
    loopback: Loopback,
) -> None:
    settings, journal, clock, incident_id = world
    loopback.routes[INCIDENTS] = incident
    app = make_app(settings, journal, clock, system_copy=lambda text: "xclip")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.reach.publish_template(app.comms.templates.by_key("5"))
        await pilot.pause()
        assert isinstance(app.screen, ChoiceModal)
        assert "The incident is still open — publish the resolution anyway?" in await shown(pilot, app)
        await pilot.press("escape")  # cancelled: nothing published, nothing copied
        await pilot.pause()
        assert loopback.requests == []
        app.reach.publish_template(app.comms.templates.by_key("5"))
        await pilot.pause()
        app.screen.finish("yes")  # type: ignore[attr-defined]
        await settle(pilot, app, "statuspage")
        await settle(pilot, app, "clipboard")
        inc = app.incident
        assert inc is not None and inc.last_update("customer") is None  # published, never an update
    (request,) = loopback.hits(INCIDENTS)
    assert request.json()["incident"]["status"] == "resolved"  # type: ignore[index]
    events = journal.events(incident_id)
    assert not [e for e in events if isinstance(e.body, ev.UpdateSent)]


async def test_only_customer_messages_go_to_the_status_page(world, loopback: Loopback) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock, _ = world
    app = make_app(settings, journal, clock, system_copy=lambda text: "xclip")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.screen.query_one(TemplateList).focus()
        await pilot.press("S")  # 1 Internal - Incident Declaration
        await pilot.pause()
        assert any(
            "is not a customer message: only those (4, 5, 6) go to the status page" in m for m in notes(app)
        )
    assert loopback.requests == []


async def test_without_configuration_s_says_how(tmp_path: Path, clock: ManualClock) -> None:
    settings = make_settings(tmp_path)
    journal = make_journal(settings, clock)
    journal.declare("P0", "x")
    app = make_app(settings, journal, clock, system_copy=lambda text: "xclip")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await publish(app, pilot, "4")
        assert any(
            "The status page is not configured: set [statuspage] page_id and api_key" in m for m in notes(app)
        )
    journal.close()


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        (
            Reply.json(401, {"error": "Could not authenticate"}),
            "HTTP 401: Could not authenticate (the API key was refused)",
        ),
        (
            Reply.json(404, {"error": "Page not found"}),
            "HTTP 404: Page not found (no such page (or incident) for this key)",
        ),
        (
            Reply.json(422, {"error": ["Name can't be blank"]}),
            "HTTP 422: Name can't be blank (the incident was not accepted)",
        ),
        (
            Reply.json(429, {"error": "Rate limit exceeded"}, **{"Retry-After": "60"}),
            "HTTP 429: too many requests, try again in 60 s",
        ),
        (Reply.json(503, {"error": "Service Unavailable"}), "HTTP 503: Service Unavailable"),
        (HANG, "no answer within 0.5 s"),
        (
            Reply.json(401, {"error": f"Invalid OAuth {KEY}"}),
            "HTTP 401: Invalid OAuth *** (the API key was refused)",
        ),
    ],
)
async def test_a_publish_the_page_refuses_says_why_and_the_text_stays_copied(
    world,  # type: ignore[no-untyped-def]
    loopback: Loopback,
    reply: Reply,
    why: str,
) -> None:
    settings, journal, clock, incident_id = world
    # a short timeout only for the server that never answers: under load a refusal can take longer
    wait = timedelta(seconds=0.5 if reply is HANG else 10)
    settings = replace(settings, statuspage=replace(settings.statuspage, timeout=wait))
    loopback.routes[INCIDENTS] = reply
    app = make_app(settings, journal, clock, system_copy=lambda text: "xclip")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await publish(app, pilot, "4")
        inc = app.incident
        assert inc is not None and inc.last_update("customer") is None  # not sent
        assert inc.remotes == {}  # no incident on the page: the next publish creates it
        assert any(
            f"The status page did not take Customer - P0 Notification: {why}. "
            "The text is on the clipboard and in the outbox." in m
            for m in notes(app)
        ), notes(app)
        assert "Statuspage create" in await shown(pilot, app)  # on the timeline (the reason wraps)
        outbox = list((settings.outbox_dir / incident_id).glob("*.txt"))
        assert len(outbox) == 1 and outbox[0].read_text(encoding="utf-8") == app.clipboard
        assert app.clipboard.startswith("Subject: Service Disruption - SMS notifications")
        assert KEY not in await shown(pilot, app)
    body = reached(journal, incident_id)[-1]
    assert (body.action, body.reason, body.remote, body.link) == ("create", why, "", "")
    assert KEY not in journal.path.read_bytes().decode("utf-8", "replace")


async def test_the_console_stays_responsive_while_the_status_page_never_answers(
    world,  # type: ignore[no-untyped-def]
    loopback: Loopback,
) -> None:
    settings, journal, clock, incident_id = world
    loopback.routes[INCIDENTS] = HANG
    settings = replace(settings, statuspage=replace(settings.statuspage, timeout=timedelta(seconds=30)))
    app = make_app(settings, journal, clock, system_copy=lambda text: "xclip")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.reach.publish_template(app.comms.templates.by_key("4"))
        await pilot.pause()
        assert [w for w in app.workers if w.group == "statuspage" and w.is_running]
        started = time.monotonic()
        await pilot.press("n")
        await pilot.pause()
        await pilot.press(*"still waiting on the status page", "enter")
        await pilot.pause()
        assert time.monotonic() - started < 5
        assert [e.body for e in journal.events(incident_id) if isinstance(e.body, ev.NoteAdded)] == [
            ev.NoteAdded("still waiting on the status page")
        ]
        await settle(pilot, app, "clipboard")
        assert app.clipboard.startswith("Subject: Service Disruption")  # copied before the publish
        app.reach.publish_template(app.comms.templates.by_key("6"))  # a second one: said, not sent
        await pilot.pause()
        assert any("already on its way" in m for m in notes(app))
    assert len(loopback.hits(INCIDENTS)) == 1
    assert reached(journal, incident_id) == []  # quit before any answer: nothing made up


async def test_the_palette_offers_each_customer_message(world, loopback: Loopback) -> None:  # type: ignore[no-untyped-def]
    settings, journal, clock, _ = world
    app = make_app(settings, journal, clock, system_copy=lambda text: "xclip")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert [t for t in titles if t.startswith("Publish to the status page")] == [
            "Publish to the status page: Customer - P0 Notification",
            "Publish to the status page: Customer - Resolution Notification",
            "Publish to the status page: Customer - Status Update",
        ]
