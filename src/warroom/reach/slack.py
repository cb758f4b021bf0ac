"""Posting a message to the incident's Slack channel through an incoming webhook.

:func:`post` returns a :class:`PostResult` and never raises: accepted (200 ``ok``), rejected
(Slack's reason: ``invalid_payload``, ``invalid_token``, ``no_service``, ``channel_is_archived``...),
rate-limited (429, with when to try again) or unreachable. A post is not retried: the text is still
on the clipboard and in the outbox, and a post sent twice would show twice in the channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import httpx

from warroom.reach.http import Unreachable, exchange
from warroom.settings.integrations import SlackSettings, masked_url

SYSTEM = "Slack"
Outcome = Literal["accepted", "rejected", "rate-limited", "unreachable"]
TEXT_MAX = 40_000  # Slack cuts a message's text at 40,000 characters

# What Slack's one-word answers mean, for the responder.
MEANING = {
    "invalid_payload": "the message was not accepted as a payload",
    "no_text": "the message was empty",
    "invalid_token": "the webhook URL is no longer valid",
    "action_prohibited": "the workspace does not allow this webhook",
    "no_service": "the webhook was removed or disabled",
    "no_service_id": "the webhook URL is incomplete",
    "no_team": "the workspace is gone",
    "team_disabled": "the workspace is disabled",
    "channel_not_found": "the channel was not found",
    "channel_is_archived": "the channel is archived",
    "posting_to_general_channel_denied": "only admins may post to this channel",
    "too_many_attachments": "the message has too many attachments",
}


@dataclass(frozen=True)
class PostResult:
    outcome: Outcome
    reason: str = ""

    @property
    def accepted(self) -> bool:
        return self.outcome == "accepted"


async def post(settings: SlackSettings, text: str, *, client: httpx.AsyncClient) -> PostResult:
    """Post ``text`` (plain, as the clipboard has it) to the webhook's channel."""
    timeout = settings.timeout.total_seconds()
    payload = {"text": text[:TEXT_MAX]}
    answer = await exchange(client, "POST", settings.webhook_url, timeout=timeout, json_body=payload)
    if isinstance(answer, Unreachable):
        return PostResult("unreachable", answer.reason)
    word = answer.text(max_len=80)
    if answer.status == 200:
        return PostResult("accepted")
    if answer.status == 429:
        later = f", try again in {answer.retry_after:g} s" if answer.retry_after is not None else ""
        return PostResult("rate-limited", f"HTTP 429: too many posts{later}")
    said = f"{word} ({MEANING[word]})" if word in MEANING else word
    reason = f"HTTP {answer.status}" + (f": {said}" if said else "")
    return PostResult("unreachable" if answer.status >= 500 else "rejected", reason)


def probe(settings: SlackSettings) -> tuple[bool, str]:
    """``warroom check``: the configuration only (a post would show in the channel)."""
    url = settings.webhook_url
    if not url.startswith("https://"):
        return False, f"slack: the webhook URL is not https ({masked_url(url)})"
    if url.rstrip("/").count("/") < 4:
        return False, f"slack: the webhook URL has no path ({masked_url(url)})"
    return True, f"slack ok: webhook {masked_url(url)} set (nothing posted)"
