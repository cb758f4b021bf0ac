"""Paging on-call through PagerDuty's Events API v2: ``trigger`` when the responder pages,
``resolve`` (same dedup key) when the incident is resolved.

:func:`send` returns a :class:`PageResult` and never raises: accepted (202, PagerDuty's dedup key),
rejected (PagerDuty's reason: ``Event object is invalid``, its errors), rate-limited (429 after
the retries) or unreachable (timeout, refused, 5xx after the retries). A 429, a 5xx or no answer is
retried with backoff, honouring ``Retry-After``, at most :data:`ATTEMPTS` times and never waiting
more than :data:`MAX_WAIT` in all. :func:`probe` checks the configuration without sending an event.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from warroom.reach.http import Answer, Unreachable, exchange
from warroom.settings.integrations import PagerDutySettings
from warroom.text import clean

SYSTEM = "PagerDuty"
Action = Literal["trigger", "resolve"]
Outcome = Literal["accepted", "rejected", "rate-limited", "unreachable"]

# The playbook's severities in PagerDuty's words (the payload's severity is one of four).
SEVERITY = {"P0": "critical", "P1": "error", "P2": "warning", "P3": "info"}
SUMMARY_MAX = 1024  # PagerDuty truncates a longer summary
ATTEMPTS = 3
FIRST_BACKOFF = 1.0  # seconds, doubled after each retry (when the answer gives no Retry-After)
MAX_WAIT = 30.0  # seconds waited between attempts in all, at most
# An integration's routing key (integration key): 32 letters and digits.
ROUTING_KEY = re.compile(r"[A-Za-z0-9]{32}")

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class PageResult:
    """What PagerDuty made of one event."""

    action: Action
    outcome: Outcome
    reason: str = ""
    dedup_key: str = ""
    attempts: int = 1

    @property
    def accepted(self) -> bool:
        return self.outcome == "accepted"


def dedup_key(incident_id: str) -> str:
    """One PagerDuty alert per incident: a trigger sent twice is the same alert, and the
    resolution resolves it."""
    return f"warroom-{incident_id}"


def trigger_event(
    routing_key: str, *, incident_id: str, severity: str, title: str, link: str = "", source: str = "warroom"
) -> dict[str, Any]:
    """The ``trigger`` event for an incident (Events API v2's shape)."""
    summary = clean(f"{incident_id} {severity}: {title}", max_len=SUMMARY_MAX)
    event: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": dedup_key(incident_id),
        "payload": {
            "summary": summary,
            "source": source,
            "severity": SEVERITY.get(severity, "critical"),
            "component": "warroom",
            "custom_details": {"incident": incident_id, "severity": severity, "title": title},
        },
    }
    if link:
        event["links"] = [{"href": link, "text": f"{incident_id} status page"}]
    return event


def resolve_event(routing_key: str, incident_id: str) -> dict[str, Any]:
    return {"routing_key": routing_key, "event_action": "resolve", "dedup_key": dedup_key(incident_id)}


def _rejection(answer: Answer) -> str:
    """PagerDuty's reason: its ``message`` and ``errors``, else the body, in one line."""
    data = answer.json()
    if isinstance(data, dict):
        message = data.get("message") if isinstance(data.get("message"), str) else ""
        errors = data.get("errors") if isinstance(data.get("errors"), list) else []
        words = [str(message)] + [str(e) for e in errors[:3] if isinstance(e, str)]
        text = clean("; ".join(w for w in words if w), max_len=300)
        if text:
            return f"HTTP {answer.status}: {text}"
    body = answer.text()
    return f"HTTP {answer.status}" + (f": {body}" if body else "")


def _accepted(answer: Answer, action: Action, fallback_key: str, attempts: int) -> PageResult:
    data = answer.json()
    key = data.get("dedup_key") if isinstance(data, dict) else None
    return PageResult(
        action, "accepted", "", clean(key, max_len=255) if isinstance(key, str) else fallback_key, attempts
    )


async def send(
    settings: PagerDutySettings,
    event: dict[str, Any],
    *,
    client: httpx.AsyncClient,
    sleep: Sleep = asyncio.sleep,
) -> PageResult:
    """Send one event; retries a 429, a 5xx or no answer (see the module docstring)."""
    action: Action = event["event_action"]
    key = str(event.get("dedup_key", ""))
    timeout = settings.timeout.total_seconds()
    waited = 0.0
    backoff = FIRST_BACKOFF
    last: PageResult | None = None
    for attempt in range(1, ATTEMPTS + 1):
        answer = await exchange(client, "POST", settings.events_url, timeout=timeout, json_body=event)
        wait: float | None = backoff
        if isinstance(answer, Unreachable):
            last = PageResult(action, "unreachable", answer.reason, key, attempt)
        elif answer.status in (200, 201, 202):
            return _accepted(answer, action, key, attempt)
        elif answer.status == 429:
            last = PageResult(action, "rate-limited", "HTTP 429: too many events", key, attempt)
            wait = answer.retry_after if answer.retry_after is not None else backoff
        elif answer.status >= 500:
            last = PageResult(action, "unreachable", _rejection(answer), key, attempt)
            wait = answer.retry_after if answer.retry_after is not None else backoff
        else:  # 400 invalid event, 401/403/404: sending it again changes nothing
            return PageResult(action, "rejected", _rejection(answer), key, attempt)
        if attempt == ATTEMPTS or waited + wait > MAX_WAIT:
            break
        await sleep(wait)
        waited += wait
        backoff *= 2
    assert last is not None
    tries = f" after {last.attempts} attempts" if last.attempts > 1 else ""
    return PageResult(action, last.outcome, last.reason + tries, key, last.attempts)


def key_problem(routing_key: str) -> str | None:
    """Why a routing key cannot be one, or None (its shape only: PagerDuty alone knows it)."""
    if not ROUTING_KEY.fullmatch(routing_key):
        return f"the routing key is not 32 letters and digits (it has {len(routing_key)} characters)"
    return None


async def probe(settings: PagerDutySettings, *, client: httpx.AsyncClient) -> tuple[bool, str]:
    """``warroom check``: the key's shape, and that the events URL answers (a GET: no event is
    sent, nobody is paged). (ok, one line)."""
    problem = key_problem(settings.routing_key)
    if problem:
        return False, f"pagerduty: {problem}"
    answer = await exchange(client, "GET", settings.events_url, timeout=settings.timeout.total_seconds())
    if isinstance(answer, Unreachable):
        return False, f"pagerduty: {settings.events_url}: {answer.reason}"
    return True, f"pagerduty ok: routing key set, {settings.events_url} answers (nothing sent)"
