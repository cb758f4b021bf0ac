"""The five message templates: the playbook's words, filled from a scripted incident; placeholders
for unfilled fields with their spans; a team's folder; broken templates, typos and the sandbox."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from test_templates_incident import FACTS, T0, script_incident
from warroom.comms.context import (
    CONTEXT_KEYS,
    LiveFacts,
    Placeholder,
    Stamp,
    action_lists,
    blank_context,
    build_context,
)
from warroom.comms.templates import BUILTINS, TemplateSet
from warroom.comms.updates import undo_event, update_event
from warroom.incident import events as ev
from warroom.incident.journal import Journal
from warroom.resources import shipped_dir
from warroom.settings import Settings

# The playbook's "Communication Templates", word for word (\x20: the playbook's trailing spaces).
PLAYBOOK = {
    "internal_declaration": """\
🚨 P0 INCIDENT DECLARED 🚨

Incident: [BRIEF_DESCRIPTION]
Severity: P0 - Critical
Impact: [USER_IMPACT]
Start Time: [TIMESTAMP]
Incident Lead: @[NAME]

Current Status: Investigating
Next Update: [TIME] (15 minutes)

Incident Channel: #incident-YYYY-MM-DD-HH-MM

DO NOT DEPLOY anything until all-clear given.""",
    "internal_update": """\
📊 INCIDENT UPDATE

Incident: [DESCRIPTION]
Time Elapsed: [DURATION]

Progress:
✅ [COMPLETED_ACTIONS]
🔄 [IN_PROGRESS_ACTIONS]
⏳ [PLANNED_ACTIONS]

Current Theory: [ROOT_CAUSE_THEORY]
ETA to Resolution: [ESTIMATE]

Next Update: [TIME]""",
    "internal_resolution": """\
✅ INCIDENT RESOLVED

Incident: [DESCRIPTION]
Duration: [TOTAL_TIME]
Resolution: [WHAT_WAS_DONE]

Impact:
- Users Affected: [COUNT]
- Services Affected: [LIST]
- Data Loss: [NONE/DETAILS]

Post-Incident Review: [DATE/TIME]
All-clear: Deployments may resume

Thank you to everyone who helped resolve this! 🙏""",
    "customer_notification": """\
Subject: Service Disruption - [FEATURE] Temporarily Unavailable

We're currently experiencing an issue affecting [FEATURE].\x20

What's affected: [DESCRIPTION]
Current status: Our team is investigating
Updates: We'll provide updates every 30 minutes

We sincerely apologize for the inconvenience. You can check\x20
our status page for real-time updates: [STATUS_PAGE_LINK]

- The ACE Engage Team""",
    "customer_resolution": """\
Subject: Service Restored - [FEATURE] Back to Normal

The issue affecting [FEATURE] has been resolved.

Issue duration: [DURATION]
Affected services: [LIST]
Resolution: [BRIEF_DESCRIPTION]

Everything is now operating normally. If you continue to\x20
experience issues, please contact support.

Thank you for your patience.

- The ACE Engage Team""",
}

# The same five, filled from the scripted incident at the moment each is copied. The script fills
# no customer field: the customer messages keep those placeholders (never the internal words).
SCRIPTED = {
    "internal_declaration": """\
🚨 P0 INCIDENT DECLARED 🚨

Incident: Checkout API returning 500s
Severity: P0 - Critical
Impact: Customers cannot complete checkout
Start Time: 2026-11-26 15:00 CET (14:00 UTC)
Incident Lead: @alice

Current Status: Investigating
Next Update: 15:20 CET (14:20 UTC) (15 minutes)

Incident Channel: #incident-P1-checkout-api-returning-500s

DO NOT DEPLOY anything until all-clear given.""",
    "internal_update": """\
📊 INCIDENT UPDATE

Incident: Checkout API returning 500s
Time Elapsed: 10m 00s

Progress:
✅ Check recent code deployments; Create incident channel; Notify engineering team in Slack
🔄 Check recent database migrations; Check environment variable changes; Check external service \
status (Twilio, etc.); Check rate limits; Check disk space / database size; (+1 more)
⏳ Error rate returned to normal; Key features tested and working; Performance metrics within \
acceptable range; No new errors appearing; User feedback positive; (+5 more)

Latest:
- Pool at 100/100 since the 14:52 deploy

Live:
- Error rate: 38% of requests
- Top errors: TimeoutError: connection pool exhausted (812); HTTPError: POST /checkout returned 500 (377)
- Suspected deploy: a1b2c3d Deploy checkout v2 (errors rose 8 min later)

Current Theory: Deploy a1b2c3d exhausted the DB connection pool
ETA to Resolution: 30 minutes

Next Update: 15:25 CET (14:25 UTC)""",
    "customer_notification": """\
Subject: Service Disruption - Checkout Temporarily Unavailable

We're currently experiencing an issue affecting Checkout.\x20

What's affected: [DESCRIPTION]
Current status: Our team is investigating
Updates: We'll provide updates every 30 minutes

We sincerely apologize for the inconvenience. You can check\x20
our status page for real-time updates: https://status.example.com

- The ACE Engage Team""",
    "internal_resolution": """\
✅ INCIDENT RESOLVED

Incident: Checkout API returning 500s
Duration: 40m 00s
Resolution: Reverted deploy a1b2c3d and restarted the API

Impact:
- Users Affected: about 4,000 shoppers
- Services Affected: Checkout API, Supabase Database (degraded performance)
- Data Loss: None

Post-Incident Review: 2026-11-28 15:40 CET (14:40 UTC)
All-clear: Deployments may resume

Thank you to everyone who helped resolve this! 🙏""",
    "customer_resolution": """\
Subject: Service Restored - Checkout Back to Normal

The issue affecting Checkout has been resolved.

Issue duration: 40m 00s
Affected services: Checkout
Resolution: [BRIEF_DESCRIPTION]

Everything is now operating normally. If you continue to\x20
experience issues, please contact support.

Thank you for your patience.

- The ACE Engage Team""",
}

SCRIPTED_UNFILLED = {
    "customer_notification": ("[DESCRIPTION]",),
    "customer_resolution": ("[BRIEF_DESCRIPTION]",),
}


def settings_for(state_dir: Path, team: Path | None = None) -> Settings:
    return Settings(state_dir=state_dir, timezone_name="Europe/Berlin", user="alice", templates_dir=team)


def fresh_incident(state_dir: Path, clock: object, severity: str = "P0", **kw: str):  # type: ignore[no-untyped-def]
    settings = settings_for(state_dir)
    clock.set(T0)  # type: ignore[attr-defined]
    with Journal(settings.journal_path, actor="alice", clock=clock) as j:  # type: ignore[arg-type]
        iid = j.declare(severity, kw.pop("title", "Checkout down"), **kw).incident_id
        return settings, j.load(iid)


# -- the playbook's words ----------------------------------------------------------------------------


def test_the_five_templates_are_the_playbooks_words(state_dir: Path) -> None:
    ts = TemplateSet()
    ctx = blank_context()
    assert [i.name for i in ts.messages()] == [*PLAYBOOK, "customer_update"]  # the playbook has none
    for name, expected in PLAYBOOK.items():
        result = ts.render(name, ctx)
        assert result.error is None
        assert result.text == expected, name


def test_the_playbook_copy_beside_the_project_still_matches() -> None:
    """If the team edits its playbook, the templates must follow; the seed copy is the spec."""
    # The copy kept with the tests (test_playbook checks it against the seed when that is present).
    playbook = Path(__file__).resolve().parent / "data" / "incident-response-playbook.md"
    section = playbook.read_text(encoding="utf-8").split("## Communication Templates")[1]
    blocks = re.findall(r"```\n(.*?)\n```", section.split("## Incident Escalation")[0], re.DOTALL)
    assert blocks == list(PLAYBOOK.values())


def test_keys_titles_audiences_and_what_counts_as_an_update() -> None:
    ts = TemplateSet()
    got = [(i.key, i.name, i.title, i.audience, i.counts_as_update, i.origin) for i in ts.messages()]
    assert got == [
        ("1", "internal_declaration", "Internal - Incident Declaration", "internal", True, "built-in"),
        ("2", "internal_update", "Internal - Status Update", "internal", True, "built-in"),
        ("3", "internal_resolution", "Internal - Resolution", "internal", True, "built-in"),
        ("4", "customer_notification", "Customer - P0 Notification", "customer", True, "built-in"),
        ("5", "customer_resolution", "Customer - Resolution Notification", "customer", True, "built-in"),
        ("6", "customer_update", "Customer - Status Update", "customer", True, "built-in"),
    ]
    assert [i.name for i in ts.messages() if i.resolution] == ["internal_resolution", "customer_resolution"]
    assert ts.by_key("2").name == "internal_update"  # type: ignore[union-attr]
    report = ts.get("incident_report")
    assert report is not None and report.kind == "report" and report.key is None
    assert ts.problems == []
    assert shipped_dir("templates") == ts.builtin_dir
    assert {b.name for b in BUILTINS} == {p.name.split(".")[0] for p in ts.builtin_dir.glob("*.j2")}


# -- the scripted incident ----------------------------------------------------------------------------


def test_every_template_renders_the_scripted_incident_exactly(state_dir: Path, clock: object) -> None:
    s = script_incident(state_dir, clock)
    assert set(s.rendered) == set(SCRIPTED)
    for name, expected in SCRIPTED.items():
        result = s.rendered[name]
        assert result.text == expected, name
        assert result.unfilled == SCRIPTED_UNFILLED.get(name, ()), name


def test_a_copied_update_records_its_audience_and_the_undo_takes_it_back(
    state_dir: Path, clock: object
) -> None:
    s = script_incident(state_dir, clock)
    ts = s.templates
    for info in ts.messages():
        body = update_event(info, "text")
        assert body == ev.UpdateSent(audience=info.audience, text="text", template=info.name)  # type: ignore[arg-type]
    assert update_event(ts.get("incident_report"), "x") is None  # type: ignore[arg-type]

    internal = s.update_events[0]
    undo = undo_event(internal)
    assert undo == ev.UpdateUndone(event_id=internal.event_id, audience="internal")
    s.journal.append(s.incident_id, undo)
    assert [u.audience for u in s.incident().sent_updates()] == ["customer"]
    with pytest.raises(ValueError, match="not an update sent"):
        undo_event(s.journal.events(s.incident_id)[0])


def test_copying_the_status_update_restarts_the_internal_countdown(state_dir: Path, clock: object) -> None:
    settings, inc = fresh_incident(state_dir, clock)
    ts = TemplateSet()
    with Journal(settings.journal_path, actor="alice", clock=clock) as j:  # type: ignore[arg-type]
        clock.set(T0 + timedelta(minutes=17))  # type: ignore[attr-defined]
        inc = j.load(inc.id)
        assert inc.next_update_due("internal") == T0 + timedelta(minutes=15)  # overdue
        ctx = build_context(inc, settings, None, clock())  # type: ignore[operator]
        result = ts.render("internal_update", ctx)
        assert result.text is not None and result.text.endswith("Next Update: 15:32 CET (14:32 UTC)")
        j.append(inc.id, update_event(ts.get("internal_update"), result.text))  # type: ignore[arg-type]
        # The countdown now says what the message promised.
        assert j.load(inc.id).next_update_due("internal") == T0 + timedelta(minutes=32)


# -- placeholders -----------------------------------------------------------------------------------------


def test_unfilled_fields_render_as_the_playbooks_placeholders_with_spans(
    state_dir: Path, clock: object
) -> None:
    settings, inc = fresh_incident(state_dir, clock, "P0", title="Checkout down")
    ctx = build_context(inc, settings, None, T0 + timedelta(minutes=3))
    ts = TemplateSet()

    update = ts.render("internal_update", ctx)
    assert update.text == (
        "📊 INCIDENT UPDATE\n\nIncident: Checkout down\nTime Elapsed: 3m 00s\n\nProgress:\n"
        "✅ [COMPLETED_ACTIONS]\n"
        "🔄 Page on-call engineer immediately; Create incident channel; Declare P0 incident in channel; "
        "Check Supabase status page; Review recent deployments; (+3 more)\n"
        "⏳ Check recent code deployments; Check recent database migrations; Check environment variable "
        "changes; Check external service status (Twilio, etc.); Check rate limits; (+2 more)\n\n"
        "Current Theory: [ROOT_CAUSE_THEORY]\nETA to Resolution: [ESTIMATE]\n\n"
        "Next Update: 15:18 CET (14:18 UTC)"
    )
    assert update.unfilled == ("[COMPLETED_ACTIONS]", "[ROOT_CAUSE_THEORY]", "[ESTIMATE]")
    assert update.unfilled_fields == ("completed_actions", "theory", "eta")
    for span in update.spans:
        assert update.text[span.start : span.end] == span.placeholder

    customer = ts.render("customer_notification", ctx)
    assert customer.unfilled == ("[FEATURE]", "[DESCRIPTION]", "[STATUS_PAGE_LINK]")
    assert customer.unfilled_fields == ("feature", "customer_impact", "status_page_link")
    assert [customer.text[s.start : s.end] for s in customer.spans] == [  # type: ignore[index]
        "[FEATURE]",
        "[FEATURE]",
        "[DESCRIPTION]",
        "[STATUS_PAGE_LINK]",
    ]
    declaration = ts.render("internal_declaration", ctx)
    assert declaration.unfilled == ("[USER_IMPACT]", "[NAME]")
    assert declaration.unfilled_fields == ("impact", "lead")
    assert "Incident Lead: @[NAME]" in declaration.text  # type: ignore[operator]
    resolution = ts.render("internal_resolution", ctx)
    assert resolution.unfilled == ("[WHAT_WAS_DONE]", "[COUNT]", "[LIST]", "[NONE/DETAILS]", "[DATE/TIME]")
    assert resolution.unfilled_fields == (
        "resolution",
        "users_affected",
        "services_affected",
        "data_loss",
        "review_at",
    )
    # What the `e` form can offer for a template: the editable fields it reads.
    assert ts.variables("internal_update") & ev.FIELDS.keys() == {"title", "theory", "eta", "planned_actions"}
    assert ts.variables("customer_resolution") & ev.FIELDS.keys() == {
        "feature",
        "customer_affected",
        "customer_resolution",
    }


def test_the_context_has_every_documented_key_and_nothing_leaks_markers(
    state_dir: Path, clock: object
) -> None:
    s = script_incident(state_dir, clock)
    ctx = build_context(s.incident(), s.settings, FACTS, s.clock())  # type: ignore[operator]
    assert set(ctx) == CONTEXT_KEYS
    assert set(blank_context()) == CONTEXT_KEYS
    assert ctx["severity_label"] == "P0 - Critical"
    assert ctx["status"] == "Resolved"
    assert str(ctx["start"]) == "2026-11-26 15:00 CET (14:00 UTC)"
    assert ctx["start"].iso == "2026-11-26T14:00:00Z"
    assert ctx["end"].time == "15:40 CET (14:40 UTC)"
    assert ctx["next_internal_update"].missing  # resolved: nothing is owed any more
    assert ctx["errors_summary"] == (
        "TimeoutError: connection pool exhausted (812); HTTPError: POST /checkout returned 500 (377)"
    )
    assert ctx["timezone"] == "Europe/Berlin"
    assert ctx["root_cause"] == "[ROOT_CAUSE]" and isinstance(ctx["root_cause"], Placeholder)
    for value in ctx.values():
        assert "\ue000" not in str(value)


def test_untrusted_facts_are_cleaned(state_dir: Path, clock: object) -> None:
    settings, inc = fresh_incident(state_dir, clock)
    facts = LiveFacts(
        db_health="ok\x1b]52;c;ZXZpbA==\x07 \x1b[31mred\x1b[0m",
        degraded_components=["Twilio\u202e: SMS", "\ue000sneaky\ue001"],
        status_page_link="https://status.example.com\r\nBcc: x",
    )
    ctx = build_context(inc, settings, facts, T0)
    assert ctx["db_health"] == "ok red"
    assert ctx["degraded_components"] == ["Twilio: SMS", "\ufffdsneaky\ufffd"]
    assert ctx["status_page_link"] == "https://status.example.com\nBcc: x"
    result = TemplateSet().render("internal_resolution", ctx)
    assert "\ue000" not in result.text and "\x1b" not in result.text  # type: ignore[operator]


def test_action_lists_follow_the_checklists_and_the_phase(state_dir: Path, clock: object) -> None:
    settings, inc = fresh_incident(state_dir, clock)
    with Journal(settings.journal_path, actor="alice", clock=clock) as j:  # type: ignore[arg-type]
        j.append(inc.id, ev.ItemTicked("investigation", "check-rate-limits", "Check rate limits"))
        j.append(inc.id, ev.PhaseChanged("mitigation", "triage"))
        inc = j.load(inc.id)
    lists = action_lists(inc)
    assert lists.completed == ["Check rate limits"]
    assert lists.in_progress == ["Mitigation"]  # no checklist belongs to Mitigation: the phase itself
    assert lists.planned[:2] == ["Error rate returned to normal", "Key features tested and working"]
    assert "Page on-call engineer immediately" not in lists.planned  # a phase already left


def test_times_without_a_zone_setting_use_the_machine_zone_and_utc_is_not_repeated() -> None:
    at = datetime(2026, 11, 26, 23, 30, tzinfo=UTC)
    from zoneinfo import ZoneInfo

    assert str(Stamp.of(at, ZoneInfo("UTC"))) == "2026-11-26 23:30 UTC"
    assert str(Stamp.of(at, ZoneInfo("Europe/Berlin"))) == "2026-11-27 00:30 CET (2026-11-26 23:30 UTC)"
    assert Stamp.of(at, ZoneInfo("America/New_York")).time == "18:30 EST (23:30 UTC)"
    expected = at.astimezone().strftime("%H:%M %Z")
    assert Stamp.of(at, None).local_time == expected


def test_severities_without_a_cadence_say_so(state_dir: Path, clock: object) -> None:
    settings, inc = fresh_incident(state_dir, clock, "P2", title="Slow reports")
    ctx = build_context(inc, settings, None, T0)
    ts = TemplateSet()
    declaration = ts.render("internal_declaration", ctx)
    assert declaration.text is not None
    assert "Next Update: [TIME]\n" in declaration.text  # P2 has no internal cadence
    assert "DO NOT DEPLOY" not in declaration.text  # no freeze below P0
    assert "#incident-P2-slow-reports" in declaration.text
    assert ts.render("customer_notification", ctx).unfilled[-2:] == ("[INTERVAL]", "[STATUS_PAGE_LINK]")
    assert "All-clear" not in ts.render("internal_resolution", ctx).text  # type: ignore[operator]


# -- a team's folder ---------------------------------------------------------------------------------------


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_team_overrides_a_template_and_adds_its_own(tmp_path: Path, state_dir: Path, clock: object) -> None:
    team = tmp_path / "team"
    write(team, "internal_update.j2", "UPDATE {{ id }}: {{ theory }}")
    write(
        team,
        "exec_summary.txt.j2",
        "{#- warroom\ntitle: Executive summary\naudience: internal\ncounts_as_update: no\n-#}\n"
        "{{ severity }} {{ title }} ({{ elapsed }})",
    )
    write(team, "zz_notes.j2", "Notes for {{ id }}")
    write(team, "README.md", "not a template")
    write(team, ".hidden.j2", "{{ broken")
    settings, inc = fresh_incident(state_dir, clock)
    ts = TemplateSet(team)
    infos = ts.messages()
    assert [(i.key, i.name, i.title, i.origin) for i in infos] == [
        ("1", "internal_declaration", "Internal - Incident Declaration", "built-in"),
        ("2", "internal_update", "Internal - Status Update", "team"),
        ("3", "internal_resolution", "Internal - Resolution", "built-in"),
        ("4", "customer_notification", "Customer - P0 Notification", "built-in"),
        ("5", "customer_resolution", "Customer - Resolution Notification", "built-in"),
        ("6", "customer_update", "Customer - Status Update", "built-in"),
        (None, "exec_summary", "Executive summary", "team"),
        (None, "zz_notes", "Zz notes", "team"),
    ]
    assert infos[1].counts_as_update and infos[1].audience == "internal"  # an override keeps the meaning
    assert not infos[6].counts_as_update and infos[6].audience == "internal"
    ctx = build_context(inc, settings, None, T0 + timedelta(minutes=5))
    assert ts.render("internal_update", ctx).text == "UPDATE INC-2026-11-26-001: [ROOT_CAUSE_THEORY]"
    assert ts.render("exec_summary", ctx).text == "P0 Checkout down (5m 00s)"
    assert ts.render("zz_notes", ctx).text == "Notes for INC-2026-11-26-001"

    # Edited while the console runs: the next render uses the new text; a new file appears.
    path = team / "internal_update.j2"
    path.write_text("CHANGED {{ id }}", encoding="utf-8")
    os.utime(path, ns=(10**18, 10**18))
    write(team, "aa_first.j2", "new")
    assert ts.render("internal_update", ctx).text == "CHANGED INC-2026-11-26-001"
    assert [i.name for i in ts.messages()][6] == "aa_first"


def test_a_broken_team_template_names_file_and_line_and_the_others_keep_working(
    tmp_path: Path, state_dir: Path, clock: object
) -> None:
    team = tmp_path / "team"
    broken = write(team, "internal_update.txt.j2", "📊 INCIDENT UPDATE\n\n{% if theory %}\n{{ theory }\n")
    write(team, "good_one.j2", "fine {{ id }}")
    settings, inc = fresh_incident(state_dir, clock)
    ts = TemplateSet(team)
    ctx = build_context(inc, settings, None, T0)
    results = {r.template.name: r for r in ts.render_all(ctx)}
    bad = results.pop("internal_update")
    assert bad.text is None
    assert bad.error == f"{broken} line 4: unexpected '}}'"
    assert ts.variables("internal_update") == frozenset()
    assert all(r.ok for r in results.values()), {n: r.error for n, r in results.items()}
    assert results["good_one"].text == "fine INC-2026-11-26-001"


def test_a_typo_names_the_template_the_line_and_the_variable(
    tmp_path: Path, state_dir: Path, clock: object
) -> None:
    team = tmp_path / "team"
    typo = write(
        team, "typo.j2", "Incident: {{ title }}\n{% if resolved %}\n\nTheory: {{ theroy }}\n{% endif %}"
    )
    attr = write(team, "attr.j2", "one\ntwo\nNext: {{ next_internal_update.tmie }}")
    item = write(team, "item.j2", "{{ top_errors[0] }}")
    settings, inc = fresh_incident(state_dir, clock)
    ts = TemplateSet(team)
    ctx = build_context(inc, settings, None, T0)
    # Found before rendering, although the branch is not taken while the incident is open.
    assert ts.render("typo", ctx).error == f"{typo} line 4: unknown variable 'theroy'"
    assert ts.render("attr", ctx).error == f"{attr} line 3: unknown attribute 'tmie' of Stamp"
    assert ts.render("item", ctx).error == f"{item} line 1: no item 0 in list (it has 0 items)"
    assert ts.render("nope", ctx).error.startswith("no template named 'nope' (known: internal_declaration")  # type: ignore[union-attr]


def test_front_matter_problems_and_unreadable_files_are_one_line_errors(
    tmp_path: Path, state_dir: Path, clock: object
) -> None:
    team = tmp_path / "team"
    bad_key = write(team, "a.j2", "{#- warroom\ntitle: A\ncolour: red\n-#}\ntext")
    bad_aud = write(team, "b.j2", "{# warroom\naudience: everyone\n#}\ntext")
    no_aud = write(team, "c.j2", "{# warroom\ncounts_as_update: yes\naudience: none\n#}\ntext")
    latin1 = team / "d.j2"
    latin1.write_bytes("Straße {{ id }}".encode("latin-1"))
    plain = write(team, "e.j2", "{# just a comment #}{{ id }}")
    settings, inc = fresh_incident(state_dir, clock)
    ts = TemplateSet(team)
    ctx = build_context(inc, settings, None, T0)
    errors = {r.template.name: r.error for r in ts.render_all(ctx) if r.template.origin == "team"}
    assert errors == {
        "a": f"{bad_key} line 3: front matter: unknown key 'colour' (known: title, audience, counts_as_update)",
        "b": f"{bad_aud} line 2: front matter: audience must be internal, customer or none",
        "c": f"{no_aud}: front matter: counts_as_update needs an audience (internal or customer)",
        "d": f"{latin1}: is not UTF-8 text (byte 4)",
        "e": None,
    }
    assert ts.render("e", ctx).text == "INC-2026-11-26-001" and plain.exists()


def test_a_missing_team_folder_is_reported_and_the_built_ins_still_work(
    tmp_path: Path, state_dir: Path, clock: object
) -> None:
    settings, inc = fresh_incident(state_dir, clock)
    ts = TemplateSet(tmp_path / "gone")
    assert ts.problems == [f"templates folder {tmp_path / 'gone'}: not found"]
    assert all(r.ok for r in ts.render_all(build_context(inc, settings, None, T0)))


# -- the sandbox --------------------------------------------------------------------------------------------

ESCAPES = [
    (
        "{{ ''.__class__.__mro__ }}",
        "blocked by the sandbox: access to attribute '__class__' of 'str' object is unsafe",
    ),
    (
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "blocked by the sandbox: access to attribute '__class__'",
    ),
    ("{{ start.__class__.__init__.__globals__ }}", "blocked by the sandbox: access to attribute '__class__'"),
    ("{{ top_errors.__class__.__base__ }}", "blocked by the sandbox: access to attribute '__class__'"),
    ("{{ lipsum.__globals__['os'] }}", "unknown variable 'lipsum'"),
    ("{{ cycler.__init__.__globals__.os }}", "unknown variable 'cycler'"),
    ("{{ range.__globals__ }}", "blocked by the sandbox: access to attribute '__globals__'"),
    ("{{ self.__init__.__globals__ }}", "blocked by the sandbox: access to attribute '__init__'"),
    ("{{ namespace.__init__.__globals__ }}", "blocked by the sandbox: access to attribute '__init__'"),
    ("{{ ''.format.__self__ }}", "blocked by the sandbox: access to attribute '__self__'"),
    ("{% set x = title.__class__ %}{{ x }}", "blocked by the sandbox: access to attribute '__class__'"),
    ("{{ start.full.__mod__ }}", "blocked by the sandbox: access to attribute '__mod__'"),
    ("{{ '{0.__class__}'.format(title) }}", "blocked by the sandbox: access to attribute '__class__'"),
    ("{% include '../../../../etc/passwd' %}", "includes '../../../../etc/passwd', which does not exist"),
    ("{% include '/etc/passwd' %}", "includes '/etc/passwd', which does not exist"),
]


@pytest.mark.parametrize(("source", "expected"), ESCAPES)
def test_the_sandbox_blocks_escapes_with_a_clean_one_line_error(
    tmp_path: Path, state_dir: Path, clock: object, source: str, expected: str
) -> None:
    team = tmp_path / "team"
    path = write(team, "evil.j2", f"{source}\n")
    settings, inc = fresh_incident(state_dir, clock)
    result = TemplateSet(team).render("evil", build_context(inc, settings, None, T0))
    assert result.text is None
    assert result.error is not None
    assert result.error.startswith(f"{path} line 1: {expected}"), result.error
    assert "\n" not in result.error and "<class" not in result.error
