"""Reaching other systems from the console: paging on-call (PagerDuty), posting to the incident's
channel (Slack), publishing the customer messages to the team's status page (Statuspage), the SMS
provider's account (Twilio). No Textual.

Each integration is optional and may fail: every call returns its result as data (accepted, or
why not, in one line) and never raises into the UI. Secrets (routing key, webhook URL, API key,
auth token) are registered with :mod:`warroom.text` by the configuration and masked in every reason.
"""
