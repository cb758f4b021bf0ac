"""``Incident = fold(events)``: realistic sequences with an explicit clock."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from warroom.incident import events as ev
from warroom.incident.state import FoldError, Incident, fold
from warroom.playbook import DEFAULT

T0 = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
INC = "INC-2026-11-26-001"


def m(minutes: float) -> datetime:
    """T0 + ``minutes``."""
    return T0 + timedelta(minutes=minutes)


class Story:
    """Builds an incident's events at explicit minutes after T0."""

    def __init__(self, severity: str = "P1", title: str = "SMS delivery failing", at: float = 0) -> None:
        self.events: list[ev.Event] = []
        self.add(at, ev.Declared(severity=severity, title=title, impact="all SMS", lead="ana"))

    def add(self, minutes: float, body: ev.Body, actor: str = "ana", incident: str = INC) -> ev.Event:
        event = ev.Event(len(self.events) + 1, uuid.uuid4().hex, incident, m(minutes), actor, body)
        self.events.append(event)
        return event

    def severity(self, minutes: float, sev: str, reason: str = "") -> None:
        previous = self.fold().severity
        self.add(minutes, ev.SeverityChanged(severity=sev, previous=previous, reason=reason))

    def phase(self, minutes: float, phase: str) -> None:
        self.add(minutes, ev.PhaseChanged(phase=phase, previous=self.fold().phase))

    def update(self, minutes: float, audience: str = "internal") -> ev.Event:
        return self.add(minutes, ev.UpdateSent(audience=audience, text=f"update at {minutes}"))

    def fold(self) -> Incident:
        return fold(self.events)


# -- declaration -------------------------------------------------------------------------------


def test_declared_state() -> None:
    inc = Story("P1").fold()
    assert inc.id == INC
    assert inc.severity == "P1"
    assert (inc.title, inc.impact, inc.lead) == ("SMS delivery failing", "all SMS", "ana")
    assert inc.status == "open" and inc.is_open
    assert inc.phase == "triage"
    assert inc.status_text == "Investigating"
    assert inc.declared_at == T0 and inc.declared_by == "ana"
    assert inc.elapsed(m(12.5)) == timedelta(minutes=12.5)
    assert inc.responded_at is None
    assert inc.last_seq == 1
    assert inc.deploy_freeze is False
    assert inc.freeze_intervals() == []


def test_fold_refuses_bad_sequences() -> None:
    with pytest.raises(FoldError, match="no events to fold"):
        fold([])
    note = ev.Event(1, "e1", INC, T0, "ana", ev.NoteAdded(text="x"))
    with pytest.raises(FoldError, match="the first event is 'note_added', not a declaration"):
        fold([note])
    s = Story()
    s.add(1, ev.NoteAdded(text="x"), incident="INC-2026-11-26-002")
    with pytest.raises(FoldError, match="belongs to INC-2026-11-26-002, not INC-2026-11-26-001"):
        s.fold()
    s = Story()
    s.add(1, ev.Declared(severity="P0", title="again"))
    with pytest.raises(FoldError, match="declared twice"):
        s.fold()
    with pytest.raises(ValueError, match="unknown severity 'P9'"):
        Story("P9").fold()


# -- escalation --------------------------------------------------------------------------------


def test_p1_escalates_to_l2_at_30_min_and_l3_at_1_h() -> None:
    inc = Story("P1").fold()
    assert inc.escalation_level(m(0)).level == 1
    nxt = inc.next_escalation(m(10))
    assert nxt is not None and (nxt.level.level, nxt.due) == (2, m(30))
    assert inc.escalation_level(m(29.99)).level == 1
    assert inc.escalation_level(m(30)).level == 2
    nxt = inc.next_escalation(m(45))
    assert nxt is not None and (nxt.level.level, nxt.due) == (3, m(60))
    assert inc.escalation_level(m(59)).level == 2
    assert inc.escalation_level(m(60)).level == 3
    assert inc.escalation_level(m(60)).name == "CTO / VP Engineering"
    nxt = inc.next_escalation(m(61))
    assert nxt is not None and nxt.level.level == 4 and nxt.due is None  # a decision, not a timer
    assert inc.escalation_level(m(600)).level == 3  # L4 is never reached by the clock


def test_p0_reaches_l3_at_once() -> None:
    inc = Story("P0").fold()
    assert inc.escalation_level(m(0)).level == 3
    nxt = inc.next_escalation(m(0))
    assert nxt is not None and nxt.level.level == 4 and nxt.due is None
    assert inc.level_reached_at(DEFAULT.level(3)) == T0  # type: ignore[arg-type]


def test_upgrade_to_p0_reaches_l3_when_it_happens() -> None:
    s = Story("P2")
    s.severity(20, "P0", "all edge functions failing")
    inc = s.fold()
    assert inc.escalation_level(m(19)).level == 1
    assert inc.escalation_level(m(20)).level == 3
    assert inc.level_reached_at(DEFAULT.level(3)) == m(20)  # type: ignore[arg-type]


def test_recorded_escalation_counts_from_its_time() -> None:
    s = Story("P1")
    s.add(10, ev.Escalated(level=4, reason="data breach suspected"))
    inc = s.fold()
    assert inc.escalation_level(m(9)).level == 1
    assert inc.escalation_level(m(10)).level == 4
    assert inc.next_escalation(m(11)) is None
    assert inc.escalations == [(m(10), 4, "data breach suspected")]


def test_resolved_before_the_ladder_stops_it() -> None:
    s = Story("P1")
    s.add(20, ev.Resolved(summary="rolled back"))
    inc = s.fold()
    assert inc.escalation_level(m(120)).level == 1
    assert inc.next_escalation(m(25)) is None


# -- update cadence ----------------------------------------------------------------------------


def test_p0_internal_update_due_soon_then_overdue() -> None:
    inc = Story("P0").fold()
    c = inc.countdown("internal", m(5))
    assert (c.state, c.due, c.remaining, c.cadence) == (
        "ok",
        m(15),
        timedelta(minutes=10),
        timedelta(minutes=15),
    )
    c = inc.countdown("internal", m(12.99))
    assert c.state == "ok"
    c = inc.countdown("internal", m(13))  # T-2 min
    assert (c.state, c.remaining) == ("due_soon", timedelta(minutes=2))
    c = inc.countdown("internal", m(15))
    assert c.state == "overdue" and c.remaining == timedelta(0)
    c = inc.countdown("internal", m(21.5))
    assert c.state == "overdue"
    assert c.remaining == -timedelta(minutes=6.5)
    assert c.overdue_by == timedelta(minutes=6.5)
    # The customer cadence runs alongside: 30 min.
    c = inc.countdown("customer", m(21.5))
    assert (c.state, c.due, c.cadence) == ("ok", m(30), timedelta(minutes=30))
    assert c.overdue_by == timedelta(0)


def test_update_sent_restarts_the_countdown() -> None:
    s = Story("P0")
    s.update(14)
    inc = s.fold()
    assert inc.next_update_due("internal") == m(29)
    assert inc.countdown("internal", m(20)).state == "ok"
    assert inc.next_update_due("customer") == m(30)  # another audience: untouched
    assert inc.responded_at == m(14)


def test_severity_change_recomputes_cadence_from_the_last_update() -> None:
    """P1 -> P0 after an update: next due = last update + 15 min (not + 30)."""
    s = Story("P1")
    s.update(10)
    inc = s.fold()
    assert inc.next_update_due("internal") == m(40)
    s.severity(20, "P0", "all users affected")
    inc = s.fold()
    assert inc.severity == "P0"
    assert inc.next_update_due("internal") == m(25)
    c = inc.countdown("internal", m(21))
    assert (c.state, c.remaining, c.cadence) == ("ok", timedelta(minutes=4), timedelta(minutes=15))
    # P1 had no customer cadence: it starts when P0 took over.
    assert inc.next_update_due("customer") == m(50)
    # Back down to P1: the 30-min cadence from the same last update.
    s.severity(22, "P1", "only SMS after all")
    inc = s.fold()
    assert inc.next_update_due("internal") == m(40)
    assert inc.next_update_due("customer") is None
    assert inc.countdown("customer", m(23)).state == "none"
    assert [(at, sev, why) for at, sev, why in inc.severity_history] == [
        (m(0), "P1", ""),
        (m(20), "P0", "all users affected"),
        (m(22), "P1", "only SMS after all"),
    ]


def test_severity_change_can_make_an_update_overdue_at_once() -> None:
    s = Story("P1")
    s.update(5)
    s.severity(25, "P0")
    inc = s.fold()
    c = inc.countdown("internal", m(25))
    assert c.state == "overdue" and c.due == m(20) and c.overdue_by == timedelta(minutes=5)


def test_p2_to_p0_starts_the_cadence_at_the_change() -> None:
    s = Story("P2")
    inc = s.fold()
    assert inc.next_update_due("internal") is None
    assert inc.countdown("internal", m(40)).state == "none"
    s.severity(40, "P0")
    inc = s.fold()
    assert inc.next_update_due("internal") == m(55)
    assert inc.next_update_due("customer") == m(70)
    assert inc.countdown("internal", m(50)).state == "ok"


def test_p0_to_p2_to_p0_restarts_the_cadence_when_regained() -> None:
    s = Story("P0")
    s.update(10)
    s.severity(20, "P2")
    assert s.fold().next_update_due("internal") is None
    s.severity(60, "P0")
    assert s.fold().next_update_due("internal") == m(75)


def test_update_undone_restores_the_previous_deadline() -> None:
    s = Story("P0")
    first = s.update(10)
    second = s.update(20)
    assert s.fold().next_update_due("internal") == m(35)
    s.add(21, ev.UpdateUndone(event_id=second.event_id, audience="internal"))
    inc = s.fold()
    assert inc.next_update_due("internal") == m(25)
    assert [u.event_id for u in inc.sent_updates("internal")] == [first.event_id]
    assert inc.last_update("internal").event_id == first.event_id  # type: ignore[union-attr]
    assert len(inc.updates) == 2 and inc.updates[1].undone_at == m(21)
    # Undoing the only one left: counted from the declaration again.
    s.add(22, ev.UpdateUndone(event_id=first.event_id, audience="internal"))
    inc = s.fold()
    assert inc.next_update_due("internal") == m(15)
    assert inc.countdown("internal", m(22)).state == "overdue"
    # Undoing an unknown event changes nothing.
    s.add(23, ev.UpdateUndone(event_id="nope", audience="internal"))
    assert s.fold().next_update_due("internal") == m(15)


def test_resolve_stops_countdowns_and_freezes_elapsed() -> None:
    s = Story("P0")
    s.update(10)
    s.add(40, ev.Resolved(summary="rolled back"))
    inc = s.fold()
    assert inc.status == "resolved" and inc.status_text == "Resolved"
    assert inc.resolved_at == m(40)
    assert inc.elapsed(m(300)) == timedelta(minutes=40)
    assert inc.end(m(300)) == m(40)
    for audience in ("internal", "customer"):
        c = inc.countdown(audience, m(300))
        assert (c.state, c.due, c.cadence) == ("none", None, None)
    assert inc.next_escalation(m(41)) is None
    assert inc.escalation_level(m(300)).level == 3  # P0: L3 was reached, and stays in the record
    assert inc.time_to_resolve() == timedelta(minutes=40)
    assert inc.review_due() == m(40) + timedelta(hours=48)
    assert inc.deploy_freeze is False
    # A second "resolved" changes nothing.
    s.add(50, ev.Resolved())
    assert s.fold().resolved_at == m(40)


def test_reopen_restarts_the_clock_from_the_reopening() -> None:
    s = Story("P0")
    s.update(10)
    s.add(40, ev.Resolved())
    s.add(100, ev.Reopened(reason="errors are back"))
    inc = s.fold()
    assert inc.status == "open" and inc.resolved_at is None
    assert inc.resolutions == [m(40)]
    assert inc.reopenings == [m(100)]
    assert inc.elapsed(m(110)) == timedelta(minutes=110)
    # The cadence counts from the reopening, not from the update sent before the resolution.
    assert inc.next_update_due("internal") == m(115)
    assert inc.countdown("internal", m(110)).state == "ok"
    assert inc.deploy_freeze is True
    s.update(112)
    assert s.fold().next_update_due("internal") == m(127)
    s.add(130, ev.Resolved())
    inc = s.fold()
    assert inc.resolutions == [m(40), m(130)]
    assert inc.time_to_resolve() == timedelta(minutes=130)


def test_close_and_reopen() -> None:
    s = Story("P2")
    s.add(30, ev.Closed(reason="duplicate"))
    inc = s.fold()
    assert inc.status == "closed" and inc.status_text == "Closed"
    assert inc.closed_at == m(30) and inc.resolved_at == m(30)  # closing an open incident ends it
    s.add(31, ev.Reopened())
    inc = s.fold()
    assert inc.status == "open" and inc.closed_at is None and inc.resolved_at is None
    s.add(40, ev.Resolved())
    s.add(50, ev.Closed())
    inc = s.fold()
    assert (inc.status, inc.resolved_at, inc.closed_at) == ("closed", m(40), m(50))


# -- response ----------------------------------------------------------------------------------


def test_responded_at_is_the_first_human_action() -> None:
    s = Story("P1")
    s.add(1, ev.Observed(source="status", text="Twilio: major outage"))
    s.add(2, ev.EvidenceRecorded(source="errors", label="at declaration", data="{}"))
    assert s.fold().responded_at is None
    s.add(3, ev.ItemTicked(checklist="actions-P1", item="check-error-logs"))
    s.add(4, ev.NoteAdded(text="looking"))
    inc = s.fold()
    assert inc.responded_at == m(3)
    assert inc.response_deadline() == m(30)


def test_response_deadline_uses_the_declared_severity() -> None:
    from zoneinfo import ZoneInfo

    inc = Story("P3").fold()  # Thursday 14:00 UTC
    assert inc.response_deadline(ZoneInfo("Europe/Berlin")) == datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    assert Story("P0").fold().response_deadline() == T0


# -- phases ------------------------------------------------------------------------------------


def test_phase_durations_and_time_to_triage_mitigate_resolve() -> None:
    s = Story("P1")
    s.phase(4, "investigation")
    s.phase(22, "mitigation")
    s.phase(35, "recovery")
    s.add(35, ev.PhaseChanged(phase="recovery", previous="recovery"))  # same phase: no new visit
    inc = s.fold()
    assert inc.phase == "recovery" and inc.status_text == "Monitoring"
    assert inc.phase_durations(m(50)) == {
        "triage": timedelta(minutes=4),
        "investigation": timedelta(minutes=18),
        "mitigation": timedelta(minutes=13),
        "recovery": timedelta(minutes=15),
        "review": timedelta(0),
    }
    assert inc.time_to_triage() == timedelta(minutes=4)
    assert inc.time_to_mitigate() == timedelta(minutes=35)
    assert inc.time_to_resolve() is None
    s.add(65, ev.Resolved())
    inc = s.fold()
    assert inc.time_to_resolve() == timedelta(minutes=65)
    # The current phase stops counting at the resolution.
    assert inc.phase_durations(m(500))["recovery"] == timedelta(minutes=30)
    # The review, entered after the resolution, counts until the incident is closed.
    s.phase(70, "review")
    inc = s.fold()
    assert inc.phase_durations(m(100))["review"] == timedelta(minutes=30)
    s.add(130, ev.Closed())
    inc = s.fold()
    assert inc.phase_durations(m(999))["review"] == timedelta(minutes=60)
    # Recovery was left at 70, after the resolution at 65: it still counts 35..65 only.
    assert inc.phase_durations(m(999))["recovery"] == timedelta(minutes=30)
    assert inc.open_spans(m(999)) == [(m(0), m(65))]
    assert sum(inc.phase_durations(m(999)).values(), timedelta(0)) == timedelta(minutes=125)
    assert inc.status_text == "Closed"


def test_phase_time_skips_the_resolved_gap_of_a_reopened_incident() -> None:
    s = Story("P1")
    s.phase(5, "investigation")
    s.add(20, ev.Resolved())
    s.add(50, ev.Reopened())
    inc = s.fold()
    assert inc.open_spans(m(60)) == [(m(0), m(20)), (m(50), m(60))]
    assert inc.phase_durations(m(60))["investigation"] == timedelta(minutes=25)
    assert inc.phase_durations(m(60))["triage"] == timedelta(minutes=5)


def test_phases_revisited_add_up_and_skipping_counts_for_triage() -> None:
    s = Story("P1")
    s.phase(3, "mitigation")  # straight from triage to mitigation: triage ended at 3
    s.phase(10, "investigation")
    s.phase(20, "mitigation")
    inc = s.fold()
    assert inc.time_to_triage() == timedelta(minutes=3)
    assert inc.time_to_mitigate() is None
    d = inc.phase_durations(m(30))
    assert d["mitigation"] == timedelta(minutes=17)
    assert d["investigation"] == timedelta(minutes=10)
    assert [v.phase for v in inc.phase_visits] == ["triage", "mitigation", "investigation", "mitigation"]
    with pytest.raises(ValueError, match="unknown phase 'lunch'"):
        s.add(40, ev.PhaseChanged(phase="lunch", previous="mitigation"))
        s.fold()


# -- checklists, fields, notes, answers --------------------------------------------------------


def test_ticks_fields_notes_answers() -> None:
    s = Story("P1")
    s.add(1, ev.ItemTicked(checklist="investigation", item="check-rate-limits", text="Check rate limits"))
    s.add(2, ev.ItemTicked(checklist="investigation", item="check-disk-space-database-size"), actor="bo")
    s.add(3, ev.ItemUnticked(checklist="investigation", item="check-rate-limits"))
    s.add(4, ev.FieldEdited(field="theory", value="bad deploy"))
    s.add(5, ev.FieldEdited(field="title", value="SMS down for all"))
    s.add(6, ev.NoteAdded(text="rolled back a1b2c3"), actor="bo")
    s.add(7, ev.Answered(question="Is it a recent deployment?", answer="yes"))
    inc = s.fold()
    assert inc.tick("investigation", "check-rate-limits") is None
    t = inc.tick("investigation", "check-disk-space-database-size")
    assert t is not None and (t.at, t.actor) == (m(2), "bo")
    assert inc.fields["theory"] == "bad deploy"
    assert inc.title == "SMS down for all"
    assert inc.notes == [(m(6), "bo", "rolled back a1b2c3")]
    assert inc.answers == {"Is it a recent deployment?": ("yes", m(7))}
    assert len(inc.events) == 8 and inc.last_seq == 8


# -- deploy freeze -------------------------------------------------------------------------------


def test_freeze_intervals_last_until_the_all_clear() -> None:
    """ "DO NOT DEPLOY anything until all-clear given": lowering P0 to P1 keeps the freeze; the
    resolution lifts it; a reopening at P0 starts it again."""
    s = Story("P1")
    s.severity(10, "P0")
    inc = s.fold()
    assert inc.deploy_freeze is True
    assert inc.freeze_intervals() == [(m(10), None)]
    s.severity(30, "P1")
    assert s.fold().deploy_freeze is True
    s.add(90, ev.Resolved())
    inc = s.fold()
    assert inc.freeze_intervals() == [(m(10), m(90))]
    assert inc.deploy_freeze is False
    s.severity(95, "P0")  # (a resolved incident changes no severity in the console; the fold still reads)
    s.add(100, ev.Reopened("it came back"))
    inc = s.fold()
    assert inc.freeze_intervals() == [(m(10), m(90)), (m(100), None)] and inc.deploy_freeze


def test_a_tick_survives_a_severity_change() -> None:
    """An item with the same words ("Create incident channel" in P0's and P1's actions) keeps its
    tick when the severity changes, and unticking it under the new severity unticks it."""
    s = Story("P0")
    s.add(2, ev.ItemTicked("actions-P0", "create-incident-channel", "Create incident channel"))
    s.severity(5, "P1")
    inc = s.fold()
    p1 = DEFAULT.checklist("actions-P1")
    assert p1 is not None
    item = next(i for i in p1.items if i.text == "Create incident channel")
    assert inc.tick("actions-P1", item.key) is not None
    s.add(6, ev.ItemUnticked("actions-P1", item.key, "Create incident channel"))
    assert s.fold().tick("actions-P0", "create-incident-channel") is None


def test_freeze_from_declaration() -> None:
    inc = Story("P0").fold()
    assert inc.deploy_freeze is True
    assert inc.freeze_intervals() == [(T0, None)]


# -- playbook overrides reach the fold -------------------------------------------------------------


def test_fold_uses_the_given_playbook() -> None:
    sevs = dict(DEFAULT.severities)
    sevs["P2"] = replace(sevs["P2"], internal_update=timedelta(hours=1))
    pb = replace(
        DEFAULT, severities=sevs, due_soon=timedelta(minutes=10), freeze_severities=frozenset({"P2"})
    )
    inc = fold(Story("P2").events, pb)
    assert inc.next_update_due("internal") == m(60)
    assert inc.countdown("internal", m(50)).state == "due_soon"
    assert inc.deploy_freeze is True


def test_describe_lines() -> None:
    assert ev.SeverityChanged(severity="P0", previous="P1", reason="all users").describe() == (
        "Severity P1 → P0 (all users)"
    )
    assert ev.FieldEdited(field="theory", value="").describe() == "Current theory cleared"
    assert (
        ev.UpdateSent(audience="customer", text="x", template="p0").describe() == "Customer update sent (p0)"
    )
    assert ev.Escalated(level=2).describe() == "Escalated to L2"


def test_time_escalation_applies_to_p0_and_p1_only() -> None:
    """An hour-old P3 (a typo) is not escalated to the CTO; a P2 raised to P1 after 40 minutes
    reaches L2 at once (unresolved for over 30 minutes) and L3 at the hour."""
    t0 = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
    p3 = fold([_declared(t0, "P3")])
    assert p3.escalation_level(t0 + timedelta(hours=3)).level == 1
    assert p3.next_escalation(t0 + timedelta(hours=3)).due is None
    p2 = fold(
        [
            _declared(t0, "P2"),
            _event(t0 + timedelta(minutes=40), ev.SeverityChanged("P1", "P2", "spreading"), 2),
        ]
    )
    assert p2.escalation_level(t0 + timedelta(minutes=39)).level == 1
    assert p2.escalation_level(t0 + timedelta(minutes=40)).level == 2
    assert p2.next_escalation(t0 + timedelta(minutes=41)).due == t0 + timedelta(hours=1)
    assert p2.escalation_level(t0 + timedelta(hours=1)).level == 3


def test_raising_the_severity_brings_the_response_deadline_forward() -> None:
    t0 = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
    inc = fold(
        [_declared(t0, "P2"), _event(t0 + timedelta(minutes=10), ev.SeverityChanged("P0", "P2", "outage"), 2)]
    )
    assert inc.response_deadline(UTC) == t0 + timedelta(minutes=10)  # P0: immediate, from the raise
    lowered = fold(
        [
            _declared(t0, "P0"),
            _event(t0 + timedelta(minutes=10), ev.SeverityChanged("P2", "P0", "contained"), 2),
        ]
    )
    assert lowered.response_deadline(UTC) == t0  # lowering never pushes it back


def _declared(at: datetime, severity: str) -> ev.Event:
    return ev.Event(1, "e1", "INC-2026-11-26-001", at, "alice", ev.Declared(severity, "t"))


def _event(at: datetime, body: ev.Body, seq: int) -> ev.Event:
    return ev.Event(seq, f"e{seq}", "INC-2026-11-26-001", at, "alice", body)
