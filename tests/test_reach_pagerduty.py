"""PagerDuty's Events API v2 against a loopback server speaking its shapes: 202 accepted with the
dedup key, 400 "invalid event" with its errors, 429 with Retry-After, 5xx, timeouts, a server that
never answers, nothing listening; the probe of `warroom check` sends no event."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from reachserver import HANG, Loopback, Reply, Request, closed_port, serve
from warroom.reach import pagerduty
from warroom.reach.http import MAX_ANSWER, make_client
from warroom.settings.integrations import PagerDutySettings
from warroom.text import clean, register_secret

KEY = "R0UT1NGKEYabcdefghij0123456789AB"
PATH = "/v2/enqueue"
INVALID = {
    "status": "invalid event",
    "message": "Event object is invalid",
    "errors": ["Length of 'routing_key' is incorrect (should be 32 characters)"],
}


@pytest.fixture
async def loopback() -> AsyncIterator[Loopback]:
    async for srv in serve():
        yield srv


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with make_client() as c:
        yield c


def settings(srv: Loopback | None = None, timeout: float = 2.0, url: str = "") -> PagerDutySettings:
    return PagerDutySettings(
        routing_key=KEY,
        events_url=url or srv.url(PATH),
        timeout=timedelta(seconds=timeout),  # type: ignore[union-attr]
    )


def accepted(request: Request) -> Reply:
    body = request.json()
    assert isinstance(body, dict)
    return Reply.json(
        202, {"status": "success", "message": "Event processed", "dedup_key": body["dedup_key"]}
    )


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def trigger(severity: str = "P0") -> dict:
    return pagerduty.trigger_event(
        KEY,
        incident_id="INC-2026-11-30-001",
        severity=severity,
        title="SMS sending failing",
        link="https://status.example.com/incidents/1",
    )


async def test_a_trigger_is_accepted_with_its_dedup_key(
    loopback: Loopback, client: httpx.AsyncClient
) -> None:
    loopback.routes[PATH] = accepted
    result = await pagerduty.send(settings(loopback), trigger(), client=client)
    assert result == pagerduty.PageResult("trigger", "accepted", "", "warroom-INC-2026-11-30-001", 1)
    (request,) = loopback.hits(PATH)
    assert request.method == "POST" and request.headers["content-type"] == "application/json"
    assert request.json() == {
        "routing_key": KEY,
        "event_action": "trigger",
        "dedup_key": "warroom-INC-2026-11-30-001",
        "payload": {
            "summary": "INC-2026-11-30-001 P0: SMS sending failing",
            "source": "warroom",
            "severity": "critical",
            "component": "warroom",
            "custom_details": {
                "incident": "INC-2026-11-30-001",
                "severity": "P0",
                "title": "SMS sending failing",
            },
        },
        "links": [
            {"href": "https://status.example.com/incidents/1", "text": "INC-2026-11-30-001 status page"}
        ],
    }


@pytest.mark.parametrize(
    ("severity", "word"), [("P0", "critical"), ("P1", "error"), ("P2", "warning"), ("P3", "info")]
)
def test_severity_in_pagerduty_words(severity: str, word: str) -> None:
    assert trigger(severity)["payload"]["severity"] == word


async def test_resolve_sends_the_same_dedup_key(loopback: Loopback, client: httpx.AsyncClient) -> None:
    loopback.routes[PATH] = accepted
    result = await pagerduty.send(
        settings(loopback), pagerduty.resolve_event(KEY, "INC-2026-11-30-001"), client=client
    )
    assert result.accepted and result.action == "resolve"
    assert loopback.hits(PATH)[0].json() == {
        "routing_key": KEY,
        "event_action": "resolve",
        "dedup_key": "warroom-INC-2026-11-30-001",
    }


async def test_an_invalid_event_is_rejected_with_pagerdutys_reason_and_not_retried(
    loopback: Loopback, client: httpx.AsyncClient
) -> None:
    loopback.routes[PATH] = Reply.json(400, INVALID)
    sleeps = Sleeps()
    result = await pagerduty.send(settings(loopback), trigger(), client=client, sleep=sleeps)
    assert result.outcome == "rejected"
    assert result.reason == (
        "HTTP 400: Event object is invalid; Length of 'routing_key' is incorrect (should be 32 characters)"
    )
    assert len(loopback.hits(PATH)) == 1 and sleeps.waits == []


async def test_rate_limited_then_accepted_honours_retry_after(
    loopback: Loopback, client: httpx.AsyncClient
) -> None:
    answers = iter([Reply.text(429, "", **{"Retry-After": "2"}), None])

    def route(request: Request) -> Reply:
        return next(answers) or accepted(request)

    loopback.routes[PATH] = route
    sleeps = Sleeps()
    result = await pagerduty.send(settings(loopback), trigger(), client=client, sleep=sleeps)
    assert result.accepted and result.attempts == 2
    assert sleeps.waits == [2.0]


async def test_rate_limited_every_time_gives_up_after_the_bounded_attempts(
    loopback: Loopback, client: httpx.AsyncClient
) -> None:
    loopback.routes[PATH] = Reply.text(429, "", **{"Retry-After": "1"})
    sleeps = Sleeps()
    result = await pagerduty.send(settings(loopback), trigger(), client=client, sleep=sleeps)
    assert result.outcome == "rate-limited"
    assert result.reason == f"HTTP 429: too many events after {pagerduty.ATTEMPTS} attempts"
    assert len(loopback.hits(PATH)) == pagerduty.ATTEMPTS
    assert sleeps.waits == [1.0] * (pagerduty.ATTEMPTS - 1)


async def test_a_retry_after_beyond_the_bound_is_not_waited_for(
    loopback: Loopback, client: httpx.AsyncClient
) -> None:
    loopback.routes[PATH] = Reply.text(429, "", **{"Retry-After": "3600"})
    sleeps = Sleeps()
    result = await pagerduty.send(settings(loopback), trigger(), client=client, sleep=sleeps)
    assert result.outcome == "rate-limited" and result.attempts == 1 and sleeps.waits == []


async def test_server_errors_are_retried_with_backoff(loopback: Loopback, client: httpx.AsyncClient) -> None:
    loopback.routes[PATH] = Reply.text(503, "<html><title>Service Unavailable</title></html>")
    sleeps = Sleeps()
    result = await pagerduty.send(settings(loopback), trigger(), client=client, sleep=sleeps)
    assert result.outcome == "unreachable"
    assert result.reason.startswith("HTTP 503: Service Unavailable")
    assert result.reason.endswith(f"after {pagerduty.ATTEMPTS} attempts")
    assert sleeps.waits == [1.0, 2.0]


async def test_a_server_that_never_answers_times_out(loopback: Loopback, client: httpx.AsyncClient) -> None:
    loopback.routes[PATH] = HANG
    result = await pagerduty.send(settings(loopback, timeout=0.3), trigger(), client=client, sleep=Sleeps())
    assert result.outcome == "unreachable"
    assert result.reason == f"no answer within 0.3 s after {pagerduty.ATTEMPTS} attempts"


async def test_nothing_listening_is_unreachable(client: httpx.AsyncClient) -> None:
    url = f"http://127.0.0.1:{closed_port()}{PATH}"
    result = await pagerduty.send(settings(url=url), trigger(), client=client, sleep=Sleeps())
    assert result.outcome == "unreachable" and result.reason.startswith("unreachable (")


async def test_a_huge_answer_is_read_only_up_to_the_bound(
    loopback: Loopback, client: httpx.AsyncClient
) -> None:
    loopback.routes[PATH] = Reply(400, b"x" * (8 * MAX_ANSWER), "text/plain")
    result = await pagerduty.send(settings(loopback), trigger(), client=client)
    assert result.outcome == "rejected" and len(result.reason) < 300


async def test_the_routing_key_never_shows_in_a_reason(loopback: Loopback, client: httpx.AsyncClient) -> None:
    register_secret(KEY)  # as the configuration does
    loopback.routes[PATH] = Reply.json(400, {**INVALID, "errors": [f"unknown routing key {KEY}"]})
    result = await pagerduty.send(settings(loopback), trigger(), client=client)
    assert KEY not in result.reason and "unknown routing key ***" in result.reason
    assert clean(result.reason) == result.reason


def test_a_routing_key_has_a_shape() -> None:
    assert pagerduty.key_problem(KEY) is None
    assert (
        pagerduty.key_problem("short") == "the routing key is not 32 letters and digits (it has 5 characters)"
    )


async def test_the_probe_sends_no_event(loopback: Loopback, client: httpx.AsyncClient) -> None:
    loopback.routes[PATH] = Reply.json(404, {"status": "not found"})
    ok, line = await pagerduty.probe(settings(loopback), client=client)
    assert ok and line.startswith("pagerduty ok: routing key set")
    assert [r.method for r in loopback.requests] == ["GET"]
    bad = PagerDutySettings(routing_key="nope", events_url=loopback.url(PATH))
    assert await pagerduty.probe(bad, client=client) == (
        False,
        "pagerduty: the routing key is not 32 letters and digits (it has 4 characters)",
    )
    gone = settings(url=f"http://127.0.0.1:{closed_port()}{PATH}")
    ok, line = await pagerduty.probe(gone, client=client)
    assert not ok and "unreachable" in line
