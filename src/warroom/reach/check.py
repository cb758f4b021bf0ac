"""``warroom check`` for the integrations: one line each for every one configured, without side
effects (no event sent to PagerDuty, nothing posted to Slack or published to the status page;
Twilio's account and the status page are only read)."""

from __future__ import annotations

import asyncio

from warroom.settings import Settings


async def _probe_all(settings: Settings) -> list[tuple[bool, str]]:
    from warroom.reach import pagerduty, slack, statuspage, twilio
    from warroom.reach.http import make_client

    lines: list[tuple[bool, str]] = []
    async with make_client() as client:
        if settings.pagerduty.configured:
            lines.append(await pagerduty.probe(settings.pagerduty, client=client))
        if settings.slack.configured:
            lines.append(slack.probe(settings.slack))
        if settings.statuspage.configured:
            lines.append(await statuspage.probe(settings.statuspage, client=client))
        elif settings.statuspage.page_id or settings.statuspage.api_key:
            lines.append((False, "statuspage: both page_id and api_key are needed"))
        if settings.twilio.configured:
            lines.append(await twilio.probe(settings.twilio, client=client))
        elif settings.twilio.account_sid or settings.twilio.auth_token:
            lines.append((False, "twilio: both account_sid and auth_token are needed"))
    return lines


def probe_integrations(settings: Settings) -> list[tuple[bool, str]]:
    """(ok, line) for each configured integration; nothing when none is."""
    configured = (settings.pagerduty, settings.slack, settings.statuspage, settings.twilio)
    halves = settings.twilio.account_sid + settings.twilio.auth_token
    halves += settings.statuspage.page_id + settings.statuspage.api_key
    if not any(s.configured for s in configured) and not halves:
        return []
    return asyncio.run(_probe_all(settings))
