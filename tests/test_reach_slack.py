"""Slack's incoming webhook against a loopback server speaking its answers: 200 "ok", 400
"invalid_payload", 403 "invalid_token", 404 "no_service", 410 "channel_is_archived", 429 with
Retry-After, 5xx, a server that never answers; the probe posts nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from reachserver import HANG, Loopback, Reply, closed_port, serve
from warroom.reach import slack
from warroom.reach.http import make_client
from warroom.settings import secrets_of
from warroom.settings.integrations import SlackSettings
from warroom.text import clean, register_secret

PATH = "/services/T0001/B0001/XXXXXXXXXXXXXXXXXXXXXXXX"


@pytest.fixture
async def loopback() -> AsyncIterator[Loopback]:
    async for srv in serve():
        yield srv


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with make_client() as c:
        yield c


def settings(url: str, timeout: float = 2.0) -> SlackSettings:
    return SlackSettings(webhook_url=url, timeout=timedelta(seconds=timeout))


async def test_a_post_slack_accepts(loopback: Loopback, client: httpx.AsyncClient) -> None:
    loopback.routes[PATH] = Reply.text(200, "ok")
    text = "🚨 P0 INCIDENT DECLARED\n\nIssue: SMS sending failing\n*not bold* <!channel>"
    result = await slack.post(settings(loopback.url(PATH)), text, client=client)
    assert result == slack.PostResult("accepted")
    (request,) = loopback.hits(PATH)
    assert request.method == "POST" and request.json() == {"text": text}


@pytest.mark.parametrize(
    ("status", "word", "outcome", "reason"),
    [
        (
            400,
            "invalid_payload",
            "rejected",
            "HTTP 400: invalid_payload (the message was not accepted as a payload)",
        ),
        (400, "no_text", "rejected", "HTTP 400: no_text (the message was empty)"),
        (403, "invalid_token", "rejected", "HTTP 403: invalid_token (the webhook URL is no longer valid)"),
        (404, "no_service", "rejected", "HTTP 404: no_service (the webhook was removed or disabled)"),
        (410, "channel_is_archived", "rejected", "HTTP 410: channel_is_archived (the channel is archived)"),
        (500, "rollup_error", "unreachable", "HTTP 500: rollup_error"),
        (403, "something_new", "rejected", "HTTP 403: something_new"),
    ],
)
async def test_slacks_refusals_say_why(
    loopback: Loopback, client: httpx.AsyncClient, status: int, word: str, outcome: str, reason: str
) -> None:
    loopback.routes[PATH] = Reply.text(status, word)
    result = await slack.post(settings(loopback.url(PATH)), "hello", client=client)
    assert (result.outcome, result.reason) == (outcome, reason)
    assert len(loopback.hits(PATH)) == 1  # never posted twice


async def test_rate_limited_says_when_to_try_again(loopback: Loopback, client: httpx.AsyncClient) -> None:
    loopback.routes[PATH] = Reply.text(429, "rate_limited", **{"Retry-After": "30"})
    result = await slack.post(settings(loopback.url(PATH)), "hello", client=client)
    assert result == slack.PostResult("rate-limited", "HTTP 429: too many posts, try again in 30 s")


async def test_a_server_that_never_answers_times_out(loopback: Loopback, client: httpx.AsyncClient) -> None:
    loopback.routes[PATH] = HANG
    result = await slack.post(settings(loopback.url(PATH), timeout=0.3), "hello", client=client)
    assert result == slack.PostResult("unreachable", "no answer within 0.3 s")


async def test_nothing_listening(client: httpx.AsyncClient) -> None:
    result = await slack.post(settings(f"http://127.0.0.1:{closed_port()}{PATH}"), "hi", client=client)
    assert result.outcome == "unreachable" and result.reason.startswith("unreachable (")


async def test_the_webhook_url_never_shows(loopback: Loopback, client: httpx.AsyncClient) -> None:
    url = loopback.url(PATH)
    for secret in secrets_of_slack(url):
        register_secret(secret)
    loopback.routes[PATH] = Reply.text(404, f"no_service {url} {PATH}")
    result = await slack.post(settings(url), "hi", client=client)
    assert url not in result.reason and PATH.lstrip("/") not in result.reason
    assert clean(result.reason) == result.reason


def secrets_of_slack(url: str) -> list[str]:
    from warroom.settings import Settings

    return secrets_of(Settings(state_dir=Path("/nonexistent"), slack=SlackSettings(url)))


def test_secrets_of_a_webhook_are_the_url_and_its_path() -> None:
    url = "https://hooks.slack.com/services/T0001/B0001/XXXXXXXXXXXXXXXXXXXXXXXX"
    token = "XXXXXXXXXXXXXXXXXXXXXXXX"
    assert secrets_of_slack(url) == [url, f"services/T0001/B0001/{token}", token]


def test_the_probe_checks_the_configuration_only() -> None:
    ok, line = slack.probe(settings("https://hooks.slack.com/services/T0001/B0001/XXXX"))
    assert ok and line == "slack ok: webhook https://hooks.slack.com/*** set (nothing posted)"
    assert slack.probe(settings("http://hooks.slack.com/services/T/B/X")) == (
        False,
        "slack: the webhook URL is not https (http://hooks.slack.com/***)",
    )
