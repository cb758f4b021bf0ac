"""The Twilio account, read only: its status and balance, as the playbook's SMS runbook asks
("check Twilio account status, verify credentials, check account balance").

:func:`read_account` reads ``/2010-04-01/Accounts/{sid}.json`` and ``.../Balance.json`` and
returns a :class:`TwilioAccount` (it never raises): the status (active, suspended, closed), the
balance and currency, or why they could not be read (rejected credentials: Twilio's code 20003,
unreachable...). :attr:`TwilioAccount.alarm` says what is wrong: a suspended or closed account,
rejected credentials, a balance under ``[twilio] low_balance``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from warroom.durations import utc_now
from warroom.reach.http import Answer, Unreachable, exchange
from warroom.settings.integrations import TwilioSettings
from warroom.text import clean

SYSTEM = "Twilio"
API_VERSION = "2010-04-01"


@dataclass(frozen=True)
class TwilioAccount:
    """One reading of the account. ``status`` is Twilio's word, or "" when it could not be read
    (``problem`` says why); ``balance`` is None when it could not be read."""

    at: datetime
    status: str = ""
    balance: float | None = None
    currency: str = ""
    problem: str = ""
    credentials_rejected: bool = False
    low_balance: float = 0.0

    @property
    def alarm(self) -> list[str]:
        """What is wrong, in words (empty: nothing)."""
        out = []
        if self.credentials_rejected:
            out.append("credentials rejected")
        if self.status and self.status != "active":
            out.append(f"account {self.status}")
        if self.balance is not None and self.balance < self.low_balance:
            out.append(f"balance under {self.low_balance:g} {self.currency}".rstrip())
        return out


def _urls(settings: TwilioSettings) -> tuple[str, str]:
    base = f"{settings.api_url.rstrip('/')}/{API_VERSION}/Accounts/{settings.account_sid}"
    return f"{base}.json", f"{base}/Balance.json"


def _failure(answer: Answer | Unreachable) -> tuple[str, bool]:
    """(why, credentials rejected) for an answer that is not the account."""
    if isinstance(answer, Unreachable):
        return answer.reason, False
    data = answer.json()
    code = data.get("code") if isinstance(data, dict) else None
    message = data.get("message") if isinstance(data, dict) else None
    said = clean(f"{code}: {message}" if code and message else (message or ""), max_len=120)
    rejected = answer.status == 401 or code == 20003
    what = "credentials rejected" if rejected else f"HTTP {answer.status}"
    if answer.status == 429:  # read again at the next poll; say how long Twilio asked to wait
        wait = f", Twilio asks to wait {answer.retry_after:.0f} s" if answer.retry_after else ""
        what = f"HTTP 429: too many requests{wait}"
    return what + (f" ({said})" if said else ""), rejected


def _object(answer: Answer | Unreachable) -> dict[str, Any] | None:
    if isinstance(answer, Answer) and answer.status == 200:
        data = answer.json()
        if isinstance(data, dict):
            return data
    return None


async def read_account(
    settings: TwilioSettings, *, client: httpx.AsyncClient, clock: Callable[[], datetime] = utc_now
) -> TwilioAccount:
    """Read the account's status and balance (two GETs, side by side). Never raises."""
    timeout = settings.timeout.total_seconds()
    auth = (settings.account_sid, settings.auth_token)
    account_url, balance_url = _urls(settings)
    answers = await asyncio.gather(
        exchange(client, "GET", account_url, timeout=timeout, auth=auth),
        exchange(client, "GET", balance_url, timeout=timeout, auth=auth),
    )
    account, balance = (_object(a) for a in answers)
    problems: list[str] = []
    rejected = False
    status = ""
    if account is not None and isinstance(account.get("status"), str):
        status = clean(account["status"], max_len=40).lower()
    else:
        why, rejected = _failure(answers[0]) if account is None else ("no status in the answer", False)
        problems.append(f"account: {why}")
    amount: float | None = None
    currency = ""
    if balance is not None:
        try:
            amount = float(balance.get("balance"))  # type: ignore[arg-type]
            currency = clean(balance.get("currency") or "", max_len=8)
        except (TypeError, ValueError):
            problems.append("balance: not a number in the answer")
    elif not rejected:
        why, rejected = _failure(answers[1])
        problems.append(f"balance: {why}")
    return TwilioAccount(
        clock(), status, amount, currency, "; ".join(problems), rejected, settings.low_balance
    )


def describe(reading: TwilioAccount) -> str:
    """One line: ``Twilio account active · balance 12.34 USD`` (and what is wrong)."""
    parts = [f"account {reading.status}" if reading.status else ""]
    if reading.balance is not None:
        parts.append(f"balance {reading.balance:,.2f} {reading.currency}".rstrip())
    line = " · ".join(p for p in parts if p)
    if reading.problem:
        line = f"{line} · {reading.problem}" if line else reading.problem
    return f"Twilio {line}"


async def probe(settings: TwilioSettings, *, client: httpx.AsyncClient) -> tuple[bool, str]:
    """``warroom check``: GET the account (read only). (ok, one line)."""
    reading = await read_account(settings, client=client)
    ok = not reading.problem and not reading.alarm
    wrong = f" ({', '.join(reading.alarm)})" if reading.alarm and not reading.problem else ""
    return ok, ("twilio ok: " if ok else "twilio: ") + describe(reading).removeprefix("Twilio ") + wrong
