"""The scripted incident the template and report tests share, and checks that it folds as planned.

Declared P1 at 14:00 UTC (15:00 CET, Europe/Berlin), raised to P0 at 14:04, investigated, two
updates sent from the templates exactly as the console would (render, copy, journal), mitigated,
verified and resolved at 14:40. Every message is rendered at the moment a responder would copy it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from warroom.comms.context import ErrorLine, LiveFacts, build_context
from warroom.comms.evidence import AT_DECLARATION, AT_RESOLUTION, PEAK, errors_evidence
from warroom.comms.templates import RenderResult, TemplateSet
from warroom.comms.updates import update_event
from warroom.incident import events as ev
from warroom.incident.journal import Journal
from warroom.incident.state import Incident
from warroom.settings import Settings

T0 = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)

FACTS = LiveFacts(
    top_errors=[
        ErrorLine("TimeoutError", "connection pool exhausted", 812),
        ErrorLine("HTTPError", "POST /checkout returned 500", 377),
    ],
    db_health="100/100 connections, 61 waiting, longest query 42 s",
    suspected_deploy="a1b2c3d Deploy checkout v2 (errors rose 8 min later)",
    degraded_components=["Supabase Database (degraded performance)"],
    status_page_link="https://status.example.com",
    error_rate="38% of requests",
)


@dataclass
class Scripted:
    settings: Settings
    journal: Journal
    bob: Journal
    clock: object
    incident_id: str
    templates: TemplateSet
    rendered: dict[str, RenderResult] = field(default_factory=dict)
    update_events: list[ev.Event] = field(default_factory=list)

    def incident(self) -> Incident:
        return self.journal.load(self.incident_id)

    def at(self, **delta: float) -> datetime:
        self.clock.set(T0 + timedelta(**delta))  # type: ignore[attr-defined]
        return self.clock()  # type: ignore[operator]

    def append(self, body: ev.Body, *, by_bob: bool = False, **delta: float) -> ev.Event:
        self.at(**delta)
        return (self.bob if by_bob else self.journal).append(self.incident_id, body)

    def render(self, name: str, facts: LiveFacts | None = FACTS) -> RenderResult:
        ctx = build_context(self.incident(), self.settings, facts, self.clock())  # type: ignore[operator]
        result = self.templates.render(name, ctx)
        assert result.ok, result.error
        self.rendered[name] = result
        return result

    def copy(self, name: str) -> ev.Event:
        """Render and journal an update as the console does when the key is pressed."""
        result = self.render(name)
        info = self.templates.get(name)
        assert info is not None and result.text is not None
        body = update_event(info, result.text)
        assert body is not None
        event = self.journal.append(self.incident_id, body)
        self.update_events.append(event)
        return event


def script_incident(state_dir: Path, clock: object, *, team_dir: Path | None = None) -> Scripted:
    settings = Settings(
        state_dir=state_dir, timezone_name="Europe/Berlin", user="alice", templates_dir=team_dir
    )
    clock.set(T0)  # type: ignore[attr-defined]
    journal = Journal(settings.journal_path, actor="alice", clock=clock)  # type: ignore[arg-type]
    bob = Journal(settings.journal_path, actor="bob", clock=clock)  # type: ignore[arg-type]
    declared = journal.declare(
        "P1", "Checkout API returning 500s", impact="Customers cannot complete checkout", lead="@alice"
    )
    s = Scripted(settings, journal, bob, clock, declared.incident_id, TemplateSet.from_settings(settings))
    s.append(
        errors_evidence(AT_DECLARATION, FACTS.top_errors, window=timedelta(hours=1), total=1250), seconds=30
    )
    s.append(
        ev.ItemTicked("actions-P1", "notify-engineering-team-in-slack", "Notify engineering team in Slack"),
        minutes=1,
    )
    s.append(
        ev.ItemTicked("actions-P1", "create-incident-channel", "Create incident channel"),
        by_bob=True,
        minutes=2,
    )
    s.append(ev.SeverityChanged("P0", "P1", "checkout fully down"), minutes=4)
    s.append(ev.PhaseChanged("investigation", "triage"), minutes=5)
    s.at(minutes=5, seconds=30)
    s.render("internal_declaration")
    s.append(
        ev.ItemTicked("investigation", "check-recent-code-deployments", "Check recent code deployments"),
        by_bob=True,
        minutes=6,
    )
    s.append(ev.NoteAdded("Pool at 100/100 since the 14:52 deploy"), minutes=7)
    s.append(ev.FieldEdited("theory", "Deploy a1b2c3d exhausted the DB connection pool"), minutes=8)
    s.append(ev.FieldEdited("eta", "30 minutes"), minutes=8, seconds=30)
    s.append(ev.FieldEdited("feature", "Checkout"), minutes=9)
    s.at(minutes=10)
    s.copy("internal_update")
    peak = [
        ErrorLine("TimeoutError", "connection pool exhausted", 2400),
        ErrorLine("HTTPError", "POST /checkout returned 500", 700),
    ]
    s.append(errors_evidence(PEAK, peak, window=timedelta(hours=1), total=3100), minutes=12)
    s.append(errors_evidence(PEAK, peak[:1], window=timedelta(hours=1), total=2900), minutes=13)
    s.append(
        ev.EvidenceRecorded(
            "deploy", "suspected", json.dumps({"sha": "a1b2c3d"}), "errors rose 8 min after deploy a1b2c3d"
        ),
        minutes=14,
    )
    s.append(ev.PhaseChanged("mitigation", "investigation"), minutes=15)
    s.at(minutes=16)
    s.copy("customer_notification")
    s.append(ev.PhaseChanged("recovery", "mitigation"), minutes=20)
    s.append(
        ev.ItemTicked("verification", "error-rate-returned-to-normal", "Error rate returned to normal"),
        minutes=30,
    )
    s.append(ev.FieldEdited("resolution", "Reverted deploy a1b2c3d and restarted the API"), minutes=35)
    s.append(ev.FieldEdited("users_affected", "about 4,000 shoppers"), minutes=35, seconds=10)
    s.append(ev.FieldEdited("services_affected", "Checkout API"), minutes=35, seconds=20)
    s.append(ev.FieldEdited("data_loss", "None"), minutes=36)
    s.append(
        ev.Resolved("Checkout failed for 40 minutes after deploy a1b2c3d exhausted the pool"), minutes=40
    )
    s.append(errors_evidence(AT_RESOLUTION, [], window=timedelta(hours=1), total=3), minutes=40, seconds=30)
    s.at(minutes=41)
    s.render("internal_resolution")
    s.render("customer_resolution")
    return s


def test_the_script_folds_as_planned(state_dir: Path, clock: object) -> None:
    s = script_incident(state_dir, clock)
    inc = s.incident()
    assert inc.id == "INC-2026-11-26-001"
    assert inc.severity == "P0"
    assert [sev for _, sev, _ in inc.severity_history] == ["P1", "P0"]
    assert inc.status == "resolved"
    assert inc.resolved_at == T0 + timedelta(minutes=40)
    assert [(u.audience, u.template) for u in inc.sent_updates()] == [
        ("internal", "internal_update"),
        ("customer", "customer_notification"),
    ]
    assert inc.time_to_triage() == timedelta(minutes=5)
    assert inc.time_to_mitigate() == timedelta(minutes=20)
    assert inc.time_to_resolve() == timedelta(minutes=40)
    assert inc.tick("actions-P1", "create-incident-channel").actor == "bob"  # type: ignore[union-attr]


def test_the_update_texts_in_the_journal_are_the_rendered_texts(state_dir: Path, clock: object) -> None:
    s = script_incident(state_dir, clock)
    sent = s.incident().sent_updates()
    assert sent[0].text == s.rendered["internal_update"].text
    assert sent[1].text == s.rendered["customer_notification"].text
