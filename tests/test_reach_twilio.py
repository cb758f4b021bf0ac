"""Twilio's account and balance against a loopback server speaking its REST API: the account's
status (active, suspended, closed), the balance, 401 with Twilio's code 20003, 429 with
Retry-After, 5xx, timeouts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from reachserver import HANG, Loopback, Reply, Request, closed_port, serve
from warroom.reach import twilio
from warroom.reach.http import make_client
from warroom.settings.integrations import TwilioSettings

SID = "AC0123456789abcdef0123456789abcdef"
TOKEN = "0123456789abcdef0123456789abcdef"
ACCOUNT = f"/2010-04-01/Accounts/{SID}.json"
BALANCE = f"/2010-04-01/Accounts/{SID}/Balance.json"
T0 = datetime(2026, 11, 30, 22, 0, tzinfo=UTC)
AUTHENTICATE = {
    "code": 20003,
    "message": "Authenticate",
    "more_info": "https://www.twilio.com/docs/errors/20003",
    "status": 401,
}


def account(status: str = "active") -> dict:
    return {
        "sid": SID,
        "friendly_name": "Ace Engage",
        "status": status,
        "type": "Full",
        "date_created": "Thu, 02 Jan 2020 10:00:00 +0000",
        "uri": f"/2010-04-01/Accounts/{SID}.json",
    }


def balance(amount: str = "12.34") -> dict:
    return {"currency": "USD", "balance": amount, "account_sid": SID}


@pytest.fixture
async def loopback() -> AsyncIterator[Loopback]:
    async for srv in serve():
        yield srv


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with make_client() as c:
        yield c


def settings(url: str, timeout: float = 2.0, low: float = 10.0) -> TwilioSettings:
    return TwilioSettings(SID, TOKEN, url, low, timeout=timedelta(seconds=timeout))


def authenticated(data: dict):  # type: ignore[no-untyped-def]
    def route(request: Request) -> Reply:
        if request.basic_auth != (SID, TOKEN):
            return Reply.json(401, AUTHENTICATE)
        return Reply.json(200, data)

    return route


async def read(srv: Loopback, client: httpx.AsyncClient, **kw: float) -> twilio.TwilioAccount:
    return await twilio.read_account(settings(srv.url(), **kw), client=client, clock=lambda: T0)


async def test_an_active_account_with_its_balance(loopback: Loopback, client: httpx.AsyncClient) -> None:
    loopback.routes[ACCOUNT] = authenticated(account())
    loopback.routes[BALANCE] = authenticated(balance())
    reading = await read(loopback, client)
    assert reading == twilio.TwilioAccount(T0, "active", 12.34, "USD", "", False, 10.0)
    assert reading.alarm == []
    assert twilio.describe(reading) == "Twilio account active · balance 12.34 USD"
    assert {r.method for r in loopback.requests} == {"GET"}


@pytest.mark.parametrize("status", ["suspended", "closed"])
async def test_a_suspended_or_closed_account_alarms(
    loopback: Loopback, client: httpx.AsyncClient, status: str
) -> None:
    loopback.routes[ACCOUNT] = authenticated(account(status))
    loopback.routes[BALANCE] = authenticated(balance())
    reading = await read(loopback, client)
    assert reading.alarm == [f"account {status}"]


async def test_a_balance_under_the_bound_alarms(loopback: Loopback, client: httpx.AsyncClient) -> None:
    loopback.routes[ACCOUNT] = authenticated(account())
    loopback.routes[BALANCE] = authenticated(balance("4.50"))
    reading = await read(loopback, client, low=5.0)
    assert reading.alarm == ["balance under 5 USD"]
    assert (await read(loopback, client, low=4.0)).alarm == []


async def test_rejected_credentials(loopback: Loopback, client: httpx.AsyncClient) -> None:
    loopback.routes[ACCOUNT] = Reply.json(401, AUTHENTICATE)
    loopback.routes[BALANCE] = Reply.json(401, AUTHENTICATE)
    reading = await read(loopback, client)
    assert reading.credentials_rejected and reading.status == "" and reading.balance is None
    assert reading.problem == "account: credentials rejected (20003: Authenticate)"
    assert reading.alarm == ["credentials rejected"]


async def test_a_server_error_and_a_balance_still_read(loopback: Loopback, client: httpx.AsyncClient) -> None:
    loopback.routes[ACCOUNT] = Reply.json(
        503, {"code": 20500, "message": "Internal Server Error", "status": 503}
    )
    loopback.routes[BALANCE] = authenticated(balance())
    reading = await read(loopback, client)
    assert reading.problem == "account: HTTP 503 (20500: Internal Server Error)"
    assert reading.balance == 12.34 and not reading.credentials_rejected
    assert (
        twilio.describe(reading)
        == "Twilio balance 12.34 USD · account: HTTP 503 (20500: Internal Server Error)"
    )


async def test_rate_limited_says_how_long_twilio_asks_to_wait(
    loopback: Loopback, client: httpx.AsyncClient
) -> None:
    too_many = {
        "code": 20429,
        "message": "Too Many Requests",
        "more_info": "https://www.twilio.com/docs/errors/20429",
        "status": 429,
    }
    loopback.routes[ACCOUNT] = Reply.json(429, too_many, **{"Retry-After": "30"})
    loopback.routes[BALANCE] = Reply.json(429, too_many)
    reading = await read(loopback, client)
    assert reading.problem == (
        "account: HTTP 429: too many requests, Twilio asks to wait 30 s (20429: Too Many Requests); "
        "balance: HTTP 429: too many requests (20429: Too Many Requests)"
    )
    assert reading.alarm == [] and not reading.credentials_rejected and reading.balance is None


async def test_a_server_that_never_answers(loopback: Loopback, client: httpx.AsyncClient) -> None:
    loopback.routes[ACCOUNT] = HANG
    loopback.routes[BALANCE] = HANG
    reading = await read(loopback, client, timeout=0.3)
    assert reading.problem == "account: no answer within 0.3 s; balance: no answer within 0.3 s"
    assert reading.alarm == []


async def test_nothing_listening(client: httpx.AsyncClient) -> None:
    reading = await twilio.read_account(settings(f"http://127.0.0.1:{closed_port()}"), client=client)
    assert reading.problem.startswith("account: unreachable (")


async def test_a_balance_that_is_not_a_number(loopback: Loopback, client: httpx.AsyncClient) -> None:
    loopback.routes[ACCOUNT] = authenticated(account())
    loopback.routes[BALANCE] = authenticated({"currency": "USD", "balance": "lots"})
    reading = await read(loopback, client)
    assert reading.balance is None and reading.problem == "balance: not a number in the answer"


async def test_the_probe_reads_only(loopback: Loopback, client: httpx.AsyncClient) -> None:
    loopback.routes[ACCOUNT] = authenticated(account("suspended"))
    loopback.routes[BALANCE] = authenticated(balance())
    ok, line = await twilio.probe(settings(loopback.url()), client=client)
    assert (ok, line) == (False, "twilio: account suspended · balance 12.34 USD (account suspended)")
    loopback.routes[ACCOUNT] = authenticated(account())
    ok, line = await twilio.probe(settings(loopback.url()), client=client)
    assert (ok, line) == (True, "twilio ok: account active · balance 12.34 USD")
    assert {r.method for r in loopback.requests} == {"GET"}
