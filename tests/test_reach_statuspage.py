"""Statuspage's REST API v1 against a loopback server speaking its shapes: the create (POST, 201,
the incident with its id and shortlink), the update (PATCH, 200), the refusals with Statuspage's
error body ``{"error": ...}`` (401 key refused, 404 no such page, 422 invalid, a list of errors),
420/429 with Retry-After, 5xx, an HTML page from a proxy, a server that never answers, nothing
listening; the probe only reads the page; the API key never shows."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from reachserver import HANG, Loopback, Reply, Request, closed_port, serve
from warroom.reach import statuspage
from warroom.reach.http import make_client
from warroom.settings import Settings, secrets_of
from warroom.settings.integrations import StatuspageSettings
from warroom.text import clean, register_secret

PAGE = "kctbh9vrtdwd"
KEY = "0123abcd-4567-89ef-0123-456789abcdef"
INCIDENTS = f"/v1/pages/{PAGE}/incidents"
REMOTE = "ljwdk6qml8z8"
ONE = f"{INCIDENTS}/{REMOTE}"
SHORTLINK = "https://stspg.io/33vh8r7z43kh"


@pytest.fixture
async def loopback() -> AsyncIterator[Loopback]:
    async for srv in serve():
        yield srv


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with make_client() as c:
        yield c


def settings(srv: Loopback | str, timeout: float = 2.0, key: str = KEY) -> StatuspageSettings:
    url = srv.url("/v1") if isinstance(srv, Loopback) else srv
    return StatuspageSettings(page_id=PAGE, api_key=key, api_url=url, timeout=timedelta(seconds=timeout))


def incident(request: Request, status_code: int = 201) -> Reply:
    """Statuspage's answer to a create or an update: the incident, as its API gives it."""
    sent = request.json()
    assert isinstance(sent, dict)
    new = sent["incident"]
    at = "2026-11-26T14:39:09.548Z"
    update = {
        "id": "k0x2s8g2plxb",
        "incident_id": REMOTE,
        "status": new["status"],
        "body": new.get("body", ""),
        "created_at": at,
        "updated_at": at,
        "display_at": at,
        "affected_components": [],
        "deliver_notifications": True,
        "custom_tweet": None,
        "tweet_id": None,
        "twitter_updated_at": None,
        "wants_twitter_update": False,
    }
    return Reply.json(
        status_code,
        {
            "id": REMOTE,
            "components": [],
            "created_at": at,
            "impact": new.get("impact_override", "none"),
            "impact_override": new.get("impact_override"),
            "incident_updates": [update],
            "metadata": {},
            "monitoring_at": None,
            "name": new.get("name", "Service Disruption - SMS notifications Temporarily Unavailable"),
            "page_id": PAGE,
            "postmortem_body": None,
            "postmortem_ignored": False,
            "resolved_at": None,
            "scheduled_for": None,
            "scheduled_until": None,
            "shortlink": SHORTLINK,
            "started_at": at,
            "status": new["status"],
            "updated_at": at,
        },
    )


async def test_the_first_publish_creates_the_incident(loopback: Loopback, client: httpx.AsyncClient) -> None:
    loopback.routes[INCIDENTS] = incident
    result = await statuspage.publish(
        settings(loopback),
        name="Service Disruption - SMS Temporarily Unavailable",
        status="investigating",
        body="We're currently experiencing an issue affecting SMS.",
        severity="P0",
        client=client,
    )
    assert result == statuspage.PublishResult("create", "accepted", "", REMOTE, SHORTLINK, "investigating")
    (request,) = loopback.hits(INCIDENTS)
    assert request.method == "POST"
    assert request.headers["authorization"] == f"OAuth {KEY}"
    assert request.headers["content-type"] == "application/json"
    assert request.json() == {
        "incident": {
            "name": "Service Disruption - SMS Temporarily Unavailable",
            "status": "investigating",
            "body": "We're currently experiencing an issue affecting SMS.",
            "deliver_notifications": True,
            "impact_override": "critical",
        }
    }


@pytest.mark.parametrize("status", ["identified", "monitoring", "resolved"])
async def test_a_later_publish_updates_the_same_incident(
    loopback: Loopback, client: httpx.AsyncClient, status: str
) -> None:
    loopback.routes[ONE] = lambda r: incident(r, 200)
    result = await statuspage.publish(
        settings(loopback),
        name="ignored",
        status=status,
        body="A fix is in.",
        incident_id=REMOTE,
        client=client,
    )
    assert result == statuspage.PublishResult("update", "accepted", "", REMOTE, SHORTLINK, status)
    (request,) = loopback.hits(ONE)
    assert request.method == "PATCH"
    assert request.json() == {
        "incident": {"status": status, "body": "A fix is in.", "deliver_notifications": True}
    }
    assert loopback.hits(INCIDENTS) == []  # never a second incident


async def test_a_status_that_is_not_statuspages_is_a_bug(client: httpx.AsyncClient) -> None:
    s = settings(f"http://127.0.0.1:{closed_port()}/v1")
    with pytest.raises(ValueError, match="not a Statuspage incident status"):
        await statuspage.publish(s, name="x", status="mitigation", body="x", client=client)


@pytest.mark.parametrize(
    ("reply", "outcome", "reason"),
    [
        (
            Reply.json(401, {"error": "Could not authenticate"}),
            "rejected",
            "HTTP 401: Could not authenticate (the API key was refused)",
        ),
        (
            Reply.json(403, {"error": "You are not authorized to access this resource."}),
            "rejected",
            "HTTP 403: You are not authorized to access this resource. (the API key may not write to this page)",
        ),
        (
            Reply.json(404, {"error": "Page not found"}),
            "rejected",
            "HTTP 404: Page not found (no such page (or incident) for this key)",
        ),
        (
            Reply.json(422, {"error": ["Name can't be blank", "Status is not included in the list"]}),
            "rejected",
            "HTTP 422: Name can't be blank; Status is not included in the list (the incident was not accepted)",
        ),
        (Reply.json(400, {"error": "incident is missing"}), "rejected", "HTTP 400: incident is missing"),
        (
            Reply.json(500, {"error": "Internal Server Error"}),
            "unreachable",
            "HTTP 500: Internal Server Error",
        ),
        (
            Reply.text(502, "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"),
            "unreachable",
            "HTTP 502: 502 Bad Gateway",
        ),
        (Reply(503, b""), "unreachable", "HTTP 503"),
        (
            Reply.json(429, {"error": "Rate limit exceeded"}, **{"Retry-After": "60"}),
            "rate-limited",
            "HTTP 429: too many requests, try again in 60 s",
        ),
        (Reply.json(420, {"error": "Enhance your calm"}), "rate-limited", "HTTP 420: too many requests"),
    ],
)
async def test_statuspages_refusals_say_why(
    loopback: Loopback, client: httpx.AsyncClient, reply: Reply, outcome: str, reason: str
) -> None:
    loopback.routes[INCIDENTS] = reply
    result = await statuspage.publish(
        settings(loopback), name="n", status="investigating", body="b", client=client
    )
    assert (result.action, result.outcome, result.reason) == ("create", outcome, reason)
    assert (result.incident_id, result.link) == ("", "")
    assert len(loopback.hits(INCIDENTS)) == 1  # never sent twice: two creates are two incidents
    assert not result.gone  # a create: nothing was gone


async def test_an_update_refused_keeps_the_incident_it_was_about(
    loopback: Loopback, client: httpx.AsyncClient
) -> None:
    loopback.routes[ONE] = Reply.json(404, {"error": "Incident not found"})
    result = await statuspage.publish(
        settings(loopback), name="n", status="monitoring", body="b", incident_id=REMOTE, client=client
    )
    assert (result.action, result.outcome, result.incident_id, result.gone) == (
        "update",
        "rejected",
        REMOTE,
        True,
    )


async def test_a_server_that_never_answers_times_out(loopback: Loopback, client: httpx.AsyncClient) -> None:
    loopback.routes[INCIDENTS] = HANG
    result = await statuspage.publish(
        settings(loopback, timeout=0.3), name="n", status="investigating", body="b", client=client
    )
    assert result == statuspage.PublishResult("create", "unreachable", "no answer within 0.3 s")


async def test_nothing_listening(client: httpx.AsyncClient) -> None:
    s = settings(f"http://127.0.0.1:{closed_port()}/v1")
    result = await statuspage.publish(s, name="n", status="investigating", body="b", client=client)
    assert result.outcome == "unreachable" and result.reason.startswith("unreachable (")


@pytest.mark.parametrize(
    ("answer", "link", "remote"),
    [
        ({"id": REMOTE, "status": "investigating"}, "", REMOTE),  # no shortlink: no link
        ({"id": REMOTE, "shortlink": "javascript:alert(1)"}, "", REMOTE),  # not a link
        ({"id": REMOTE, "shortlink": "https://stspg.io/x\x1b[31mred"}, "https://stspg.io/xred", REMOTE),
        ({"id": "../../pages", "shortlink": SHORTLINK}, SHORTLINK, ""),  # not an id to put in a URL
        (["not", "an", "object"], "", ""),
    ],
)
async def test_an_odd_answer_is_read_with_care(
    loopback: Loopback, client: httpx.AsyncClient, answer: object, link: str, remote: str
) -> None:
    loopback.routes[INCIDENTS] = Reply.json(201, answer)
    result = await statuspage.publish(
        settings(loopback), name="n", status="investigating", body="b", client=client
    )
    assert (result.outcome, result.link, result.incident_id) == ("accepted", link, remote)
    assert result.reason == (
        "" if remote else "the answer holds no incident id: the next publish creates another"
    )


async def test_the_api_key_never_shows(loopback: Loopback, client: httpx.AsyncClient) -> None:
    for secret in secrets_of(Settings(state_dir=Path("/nonexistent"), statuspage=settings(loopback))):
        register_secret(secret)
    loopback.routes[INCIDENTS] = Reply.json(401, {"error": f"Invalid key {KEY}; send 'OAuth {KEY}'"})
    result = await statuspage.publish(
        settings(loopback), name="n", status="investigating", body="b", client=client
    )
    assert KEY not in result.reason and result.reason.count("***") == 2
    assert clean(result.reason) == result.reason


def test_a_message_is_split_into_the_incidents_name_and_body() -> None:
    text = "Subject: Service Disruption - SMS Temporarily Unavailable\n\nWe're currently...\n\n- The Team\n"
    assert statuspage.split_message(text) == (
        "Service Disruption - SMS Temporarily Unavailable",
        "We're currently...\n\n- The Team",
    )
    assert statuspage.split_message("SMS is down\nmore") == ("SMS is down", "more")
    name, _ = statuspage.split_message("Subject: " + "x" * 400)
    assert len(name) == statuspage.NAME_MAX


async def test_the_probe_only_reads_the_page(loopback: Loopback, client: httpx.AsyncClient) -> None:
    page = {"id": PAGE, "name": "ACE Engage", "subdomain": "ace", "url": "https://ace.example.com"}
    loopback.routes[f"/v1/pages/{PAGE}"] = Reply.json(200, page)
    ok, line = await statuspage.probe(settings(loopback), client=client)
    assert (
        ok
        and line == f"statuspage ok: page {PAGE} (ACE Engage) answers, API key accepted (nothing published)"
    )
    (request,) = loopback.requests
    assert (request.method, request.headers["authorization"]) == ("GET", f"OAuth {KEY}")

    loopback.routes[f"/v1/pages/{PAGE}"] = Reply.json(401, {"error": "Could not authenticate"})
    assert await statuspage.probe(settings(loopback), client=client) == (
        False,
        f"statuspage: page {PAGE}: HTTP 401: Could not authenticate (the API key was refused)",
    )
    loopback.routes[f"/v1/pages/{PAGE}"] = HANG
    ok, line = await statuspage.probe(settings(loopback, timeout=0.3), client=client)
    assert not ok and line.endswith(": no answer within 0.3 s")
    assert {r.method for r in loopback.requests} == {"GET"}


def test_the_request_bodies_are_json_statuspage_reads() -> None:
    body = statuspage.incident_request(
        name="n" * 300, status="investigating", body="b" * 30_000, severity="P2"
    )
    assert len(body["incident"]["name"]) == 255 and len(body["incident"]["body"]) == 25_000
    assert body["incident"]["impact_override"] == "minor"
    assert json.loads(json.dumps(body)) == body


async def test_the_api_key_is_in_no_log_record(
    loopback: Loopback, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    """httpx and httpcore log every request at DEBUG: the key (in a header only) is in none."""
    loopback.routes[INCIDENTS] = incident
    loopback.routes[ONE] = Reply.json(401, {"error": "Could not authenticate"})
    with caplog.at_level("DEBUG"):
        await statuspage.publish(
            settings(loopback), name="n", status="investigating", body="b", client=client
        )
        await statuspage.publish(
            settings(loopback), name="n", status="resolved", body="b", incident_id=REMOTE, client=client
        )
        await statuspage.probe(settings(loopback), client=client)
    assert any("POST" in r.getMessage() or "request" in r.getMessage().lower() for r in caplog.records)
    assert KEY not in caplog.text
