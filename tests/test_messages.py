"""The messages as an incident lead pastes them: customer words never carry internal facts, the
customer status update follows the phase, the internal update tells the news, every placeholder
can be filled inside the tool, and the context is one typed object."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from conftest import ManualClock
from warroom.comms.context import (
    CONTEXT_KEYS,
    CommitLine,
    LiveFacts,
    MessageContext,
    blank_context,
    build_context,
    fill_hint,
)
from warroom.comms.templates import TemplateSet
from warroom.incident import events as ev
from warroom.incident.journal import Journal
from warroom.incident.state import Incident
from warroom.settings import Settings

# What only the team knows: a commit, an internal service, a vendor's own component, the internal
# impact and resolution. None of it may reach a customer.
INTERNAL = {
    "impact": "sms-sender workers exhausted the Twilio pool; 40% of campaign sends fail",
    "services_affected": "sms-sender, campaign-scheduler",
    "resolution": "Reverted deploy 4702c25 and restarted sms-sender",
    "theory": "Deploy 4702c25 lowered the Twilio connection pool",
    "root_cause": "pool size 5 in 4702c25",
}
FACTS = LiveFacts(
    suspected_deploy="4702c25 Deploy sms-sender v2 (errors rose 12 min later)",
    degraded_components=["Twilio: SMS Carrier Delivery - United States › T-Mobile (degraded performance)"],
    error_rate="3.2% (below 1% for 0m 00s, needs 30m 00s)",
    errors_per_minute="increasing +37% (535/min, was 389/min)",
    commits=[CommitLine("4702c25", "Deploy sms-sender v2", deploy=True)],
)
LEAKS = ("4702c25", "sms-sender", "campaign-scheduler", "Twilio", "T-Mobile", "40%", "pool")
CUSTOMER = {
    "feature": "SMS campaigns",
    "customer_impact": "Some text messages are delayed or not delivered",
    "customer_resolution": "Text messages are delivered normally again",
}
CUSTOMER_NAMES = ("customer_notification", "customer_update", "customer_resolution")


class Story:
    """A P0 declared at 14:00 UTC, its fields filled, moved through the phases."""

    def __init__(self, state_dir: Path, clock: ManualClock, **settings: str) -> None:
        self.settings = Settings(state_dir=state_dir, timezone_name="UTC", user="alice", **settings)  # type: ignore[arg-type]
        self.clock = clock
        self.journal = Journal(self.settings.journal_path, actor="alice", clock=clock)
        self.id = self.journal.declare("P0", "SMS campaigns failing", impact="", lead="alice").incident_id
        self.templates = TemplateSet()

    def add(self, body: ev.Body, minutes: float = 1) -> None:
        self.clock.advance(minutes=minutes)
        self.journal.append(self.id, body)

    def fill(self, fields: dict[str, str]) -> None:
        for name, value in fields.items():
            self.add(ev.FieldEdited(name, value), minutes=0)

    def incident(self) -> Incident:
        return self.journal.load(self.id)

    def text(self, name: str, facts: LiveFacts | None = FACTS) -> str:
        result = self.templates.render(
            name, build_context(self.incident(), self.settings, facts, self.clock())
        )
        assert result.ok and result.text is not None, result.error
        return result.text


@pytest.fixture
def story(state_dir: Path, clock: ManualClock):  # type: ignore[no-untyped-def]
    s = Story(state_dir, clock)
    s.fill(INTERNAL)
    yield s
    s.journal.close()


def test_customer_messages_never_carry_internal_facts(story: Story) -> None:
    """With only internal fields filled, a customer message keeps its plain placeholders."""
    for name in CUSTOMER_NAMES:
        text = story.text(name)
        assert not [w for w in LEAKS if w in text], (name, text)
    story.add(ev.Resolved("rolled back"))
    text = story.text("customer_resolution")
    assert "Affected services: [LIST]" in text and "Resolution: [BRIEF_DESCRIPTION]" in text
    assert not [w for w in LEAKS if w in text]


def test_the_customer_status_update_follows_the_phase_word_for_word(story: Story) -> None:
    story.fill({**CUSTOMER, "status_page_link": "https://status.example.com"})
    body = (
        "\n\nWhat's affected: Some text messages are delayed or not delivered\n"
        "Current status: {status}\n"
        "Next update: by {next}\n\n"
        "We sincerely apologize for the inconvenience. You can check \n"
        "our status page for real-time updates: https://status.example.com\n\n"
        "- The ACE Engage Team"
    )
    texts = {}
    for phase, minutes in (("investigation", 4), ("mitigation", 10), ("recovery", 15)):
        story.add(ev.PhaseChanged(phase, story.incident().phase), minutes=minutes)
        texts[phase] = story.text("customer_update")
    assert texts["investigation"] == (
        "Subject: Service Update - SMS campaigns\n\n"
        "We're continuing to investigate the issue affecting SMS campaigns."
        + body.format(status="Investigating", next="14:34 UTC")
    )
    assert texts["mitigation"] == (
        "Subject: Service Update - SMS campaigns\n\n"
        "We've identified the cause of the issue affecting SMS campaigns and are working on a fix."
        + body.format(status="Identified", next="14:44 UTC")
    )
    assert texts["recovery"] == (
        "Subject: Service Update - SMS campaigns\n\n"
        "A fix for the issue affecting SMS campaigns has been applied, and we're monitoring the results."
        + body.format(status="Monitoring", next="14:59 UTC")
    )
    for text in texts.values():
        assert not [w for w in LEAKS if w in text]


def test_the_customer_notification_and_resolution_use_the_customer_fields(story: Story) -> None:
    story.fill(CUSTOMER)
    assert story.text("customer_notification") == (
        "Subject: Service Disruption - SMS campaigns Temporarily Unavailable\n\n"
        "We're currently experiencing an issue affecting SMS campaigns. \n\n"
        "What's affected: Some text messages are delayed or not delivered\n"
        "Current status: Our team is investigating\n"
        "Updates: We'll provide updates every 30 minutes\n\n"
        "We sincerely apologize for the inconvenience. You can check \n"
        "our status page for real-time updates: [STATUS_PAGE_LINK]\n\n"
        "- The ACE Engage Team"
    )
    story.add(ev.Resolved("rolled back"), minutes=40)
    assert story.text("customer_resolution") == (
        "Subject: Service Restored - SMS campaigns Back to Normal\n\n"
        "The issue affecting SMS campaigns has been resolved.\n\n"
        "Issue duration: 40m 00s\n"
        "Affected services: SMS campaigns\n"  # what customers know it by, not the services
        "Resolution: Text messages are delivered normally again\n\n"
        "Everything is now operating normally. If you continue to \n"
        "experience issues, please contact support.\n\n"
        "Thank you for your patience.\n\n"
        "- The ACE Engage Team"
    )
    assert "Resolution: Reverted deploy 4702c25" in story.text(
        "internal_resolution"
    )  # internal keeps its own


def test_the_status_page_link_comes_from_the_config_unless_the_field_says_otherwise(
    state_dir: Path, clock: ManualClock
) -> None:
    s = Story(state_dir, clock, status_page_link="https://status.acme.test")
    assert "real-time updates: https://status.acme.test" in s.text("customer_notification", None)
    s.fill({"status_page_link": "https://status.acme.test/incidents/42"})
    assert "real-time updates: https://status.acme.test/incidents/42" in s.text("customer_notification", None)
    s.journal.close()


def test_the_internal_update_tells_the_news(story: Story) -> None:
    story.add(
        ev.ItemTicked("actions-P0", "page-on-call-engineer-immediately", "Page on-call engineer immediately")
    )
    story.add(ev.NoteAdded("Twilio 30003 errors since 13:52"))
    story.add(ev.ItemTicked("actions-P0", "create-incident-channel", "Create incident channel"))
    story.add(ev.NoteAdded("Rolled back 4702c25 at 14:05"))
    story.fill({"planned_actions": "Raise the Twilio pool back to 20", "eta": "20 minutes"})
    story.add(ev.PhaseChanged("investigation", "triage"), minutes=2)
    assert story.text("internal_update") == (
        "📊 INCIDENT UPDATE\n\n"
        "Incident: SMS campaigns failing\n"
        "Time Elapsed: 6m 00s\n\n"
        "Progress:\n"
        "✅ Create incident channel; Page on-call engineer immediately\n"  # newest first
        "🔄 Check recent code deployments; Check recent database migrations; Check environment "
        "variable changes; Check external service status (Twilio, etc.); Check rate limits; (+2 more)\n"
        "⏳ Raise the Twilio pool back to 20; Error rate returned to normal; Key features tested and "
        "working; Performance metrics within acceptable range; No new errors appearing; (+6 more)\n\n"
        "Latest:\n"
        "- Rolled back 4702c25 at 14:05\n"
        "- Twilio 30003 errors since 13:52\n\n"
        "Live:\n"
        "- Error rate: 3.2% (below 1% for 0m 00s, needs 30m 00s)\n"
        "- Errors per minute: increasing +37% (535/min, was 389/min)\n"
        "- Suspected deploy: 4702c25 Deploy sms-sender v2 (errors rose 12 min later)\n\n"
        "Current Theory: Deploy 4702c25 lowered the Twilio connection pool\n"
        "ETA to Resolution: 20 minutes\n\n"
        "Next Update: 14:21 UTC"
    )


def test_every_placeholder_of_every_message_says_where_it_is_filled() -> None:
    """Rendered blank, each message's placeholders each name a field of `e`, a config key or the
    live source that fills them; every field the messages use is in the `e` form."""
    from warroom.ui.screens.modals import EDITABLE

    ts = TemplateSet()
    for info in ts.messages():
        result = ts.render(info, blank_context())
        assert result.ok, result.error
        for span in result.spans:
            assert span.field, (info.name, span)
            assert fill_hint(span.field), (info.name, span.field)
        editable = ts.variables(info) & ev.FIELDS.keys()
        assert editable <= set(EDITABLE), info.name
    assert set(EDITABLE) == set(ev.FIELDS)
    assert fill_hint("status_page_link") == (
        "e: Status page link or [incident] status_page_link, or a publish to the status page (S)"
    )
    assert fill_hint("theory") == "e: Current theory"
    assert fill_hint("error_rate") == "the database source: error rate"


def test_the_context_is_one_typed_object_read_both_ways(story: Story, tmp_path: Path) -> None:
    ctx = build_context(story.incident(), story.settings, FACTS, story.clock())
    assert isinstance(ctx, MessageContext)
    assert ctx.theory == ctx["theory"] == INTERNAL["theory"]
    assert set(ctx) == CONTEXT_KEYS and len(ctx) == len(CONTEXT_KEYS)
    ctx["rows"] = ["a", "b"]  # what the report adds is kept beside the fields
    ctx.update(theory="changed")
    assert ctx.theory == "changed" and ctx["rows"] == ["a", "b"] and "rows" in set(ctx)
    with pytest.raises(KeyError):
        del ctx["theory"]
    team = tmp_path / "team"
    team.mkdir()
    (team / "both.txt.j2").write_text(
        "{{ theory }} {{ rows | join(',') }} {{ start.time }}", encoding="utf-8"
    )
    result = TemplateSet(team).render("both", ctx)
    assert result.text == "changed a,b 14:00 UTC"
    assert replace(blank_context(), theory="x").theory == "x"


def test_the_blank_context_follows_the_severity() -> None:
    p2 = blank_context(severity="P2")
    assert (p2.severity, p2.severity_label, p2.deploy_freeze) == ("P2", "P2 - Medium", False)
    assert str(p2.internal_cadence) == "[INTERVAL]"
    assert blank_context().customer_cadence == "30 minutes"
