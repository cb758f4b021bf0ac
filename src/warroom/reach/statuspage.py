"""Publishing the customer messages to the team's own status page, through Atlassian Statuspage's
REST API v1: the first publish creates an incident on the page (``POST /pages/{page_id}/incidents``),
every later one updates that same incident (``PATCH /pages/{page_id}/incidents/{incident_id}``),
its status following the phase (investigating, identified, monitoring, resolved).

The request is ``{"incident": {"name", "status", "body", ...}}`` with ``Authorization: OAuth <key>``;
the answer is the incident (its ``id``, ``status`` and ``shortlink``, the public link). A refusal
is ``{"error": "..."}`` (a string, or a list of strings for a 422).

:func:`publish` returns a :class:`PublishResult` and never raises: accepted (the incident's id and
link), rejected (Statuspage's reason: a refused key, an unknown page, an invalid incident),
rate-limited (420/429, with when to try again) or unreachable (timeout, refused, 5xx). It is not
retried: a create sent twice is two incidents on the page (an update that finds its incident gone
says so: :attr:`PublishResult.gone`, and the caller creates another). :func:`probe` reads the page
(``GET /pages/{page_id}``): nothing is published.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from warroom.reach.http import Answer, Unreachable, exchange
from warroom.settings.integrations import StatuspageSettings
from warroom.text import clean

SYSTEM = "Statuspage"
Action = Literal["create", "update"]
Outcome = Literal["accepted", "rejected", "rate-limited", "unreachable"]
# A realtime incident's statuses, in order (Statuspage's words; the customer's words for the phase).
STATUSES = ("investigating", "identified", "monitoring", "resolved")
# The playbook's severities as the incident's impact on the page (none, minor, major, critical).
IMPACT = {"P0": "critical", "P1": "major", "P2": "minor", "P3": "none"}
NAME_MAX = 255  # Statuspage refuses a longer name
BODY_MAX = 25_000  # and a longer body
LINK_MAX = 300
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_LINK = re.compile(r"https?://[!-~]+")
_SUBJECT = re.compile(r"\s*subject:\s*", re.IGNORECASE)

# What a refusal means, for the responder (Statuspage's own words come first).
MEANING = {
    401: "the API key was refused",
    403: "the API key may not write to this page",
    404: "no such page (or incident) for this key",
    422: "the incident was not accepted",
}


@dataclass(frozen=True)
class PublishResult:
    """What Statuspage made of one publish: for an accepted one, the incident's id on the page,
    its public link and the status it has now."""

    action: Action
    outcome: Outcome
    reason: str = ""
    incident_id: str = ""
    link: str = ""
    status: str = ""
    # An update that found no such incident (deleted on the page, by hand): a create must follow.
    gone: bool = False

    @property
    def accepted(self) -> bool:
        return self.outcome == "accepted"


def split_message(text: str) -> tuple[str, str]:
    """(name, body) of a message: its ``Subject:`` line (else its first line) names the incident,
    the rest is the update's body."""
    first, _, rest = text.strip().partition("\n")
    name = _SUBJECT.sub("", first, count=1) if _SUBJECT.match(first) else first
    return clean(name, max_len=NAME_MAX).strip(), rest.strip()


def incident_request(*, name: str, status: str, body: str, severity: str = "") -> dict[str, Any]:
    """The body of the create (Statuspage's shape): subscribers are notified, as for any incident."""
    incident: dict[str, Any] = {
        "name": name[:NAME_MAX],
        "status": status,
        "body": body[:BODY_MAX],
        "deliver_notifications": True,
    }
    if severity in IMPACT:
        incident["impact_override"] = IMPACT[severity]
    return {"incident": incident}


def update_request(*, status: str, body: str) -> dict[str, Any]:
    """The body of an update: the new status and the update's text (the name stays)."""
    return {"incident": {"status": status, "body": body[:BODY_MAX], "deliver_notifications": True}}


def _base(settings: StatuspageSettings) -> str:
    return f"{settings.api_url.rstrip('/')}/pages/{settings.page_id}"


def _headers(settings: StatuspageSettings) -> dict[str, str]:
    return {"Authorization": f"OAuth {settings.api_key}"}


def said(answer: Answer) -> str:
    """Statuspage's reason in one line: its ``error`` (a string or a list), else ``message``,
    else the body."""
    data = answer.json()
    if isinstance(data, dict):
        error = data.get("error", data.get("message"))
        if isinstance(error, list):
            error = "; ".join(str(e) for e in error[:5] if isinstance(e, str | int | float))
        if isinstance(error, str) and error.strip():
            return clean(error, max_len=200)
    return answer.text()


def _refusal(answer: Answer) -> str:
    """``HTTP 401: Could not authenticate (the API key was refused)``."""
    words = said(answer)
    meaning = MEANING.get(answer.status, "")
    text = f"{words} ({meaning})" if words and meaning else words or meaning
    return f"HTTP {answer.status}" + (f": {text}" if text else "")


def _accepted(answer: Answer, action: Action, incident_id: str) -> PublishResult:
    data = answer.json()
    data = data if isinstance(data, dict) else {}
    got_id = data.get("id")
    link = data.get("shortlink")
    status = data.get("status")
    remote = got_id if isinstance(got_id, str) and _ID.fullmatch(got_id) else incident_id
    shortlink = clean(link, max_len=LINK_MAX) if isinstance(link, str) else ""
    if not _LINK.fullmatch(shortlink):
        shortlink = ""
    reason = "" if remote else "the answer holds no incident id: the next publish creates another"
    return PublishResult(
        action,
        "accepted",
        reason,
        remote,
        shortlink,
        status if isinstance(status, str) and status in STATUSES else "",
    )


async def publish(
    settings: StatuspageSettings,
    *,
    name: str,
    status: str,
    body: str,
    severity: str = "",
    incident_id: str = "",
    client: httpx.AsyncClient,
) -> PublishResult:
    """Create the incident (no ``incident_id`` yet) or update it; never raises, never retried."""
    if status not in STATUSES:
        raise ValueError(f"not a Statuspage incident status: {status!r}")
    timeout = settings.timeout.total_seconds()
    action: Action = "update" if incident_id else "create"
    if incident_id:
        method, url = "PATCH", f"{_base(settings)}/incidents/{incident_id}"
        payload = update_request(status=status, body=body)
    else:
        method, url = "POST", f"{_base(settings)}/incidents"
        payload = incident_request(name=name, status=status, body=body, severity=severity)
    answer = await exchange(
        client, method, url, timeout=timeout, json_body=payload, headers=_headers(settings)
    )
    if isinstance(answer, Unreachable):
        return PublishResult(action, "unreachable", answer.reason, incident_id)
    if answer.status in (200, 201):
        return _accepted(answer, action, incident_id)
    if answer.status in (420, 429):
        later = f", try again in {answer.retry_after:g} s" if answer.retry_after is not None else ""
        return PublishResult(
            action, "rate-limited", f"HTTP {answer.status}: too many requests{later}", incident_id
        )
    outcome: Outcome = "unreachable" if answer.status >= 500 else "rejected"
    gone = action == "update" and answer.status == 404
    return PublishResult(action, outcome, _refusal(answer), incident_id, gone=gone)


async def probe(settings: StatuspageSettings, *, client: httpx.AsyncClient) -> tuple[bool, str]:
    """``warroom check``: read the page (``GET /pages/{page_id}``; nothing is published).
    (ok, one line)."""
    url = _base(settings)
    answer = await exchange(
        client, "GET", url, timeout=settings.timeout.total_seconds(), headers=_headers(settings)
    )
    if isinstance(answer, Unreachable):
        return False, f"statuspage: {url}: {answer.reason}"
    if answer.status != 200:
        return False, f"statuspage: page {settings.page_id}: {_refusal(answer)}"
    data = answer.json()
    page = clean(data.get("name"), max_len=80) if isinstance(data, dict) and data.get("name") else ""
    named = f" ({page})" if page else ""
    return (
        True,
        f"statuspage ok: page {settings.page_id}{named} answers, API key accepted (nothing published)",
    )
