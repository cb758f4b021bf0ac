"""The report of a scripted incident, compared whole: milestones first, errors per minute at
declaration, peak and resolution with the sparkline of the incident, the summary field, action
items and lessons, updates confirmed sent apart from those only copied, the condensed timeline (a
tick taken back, a field edited twice, status-page changes in a row), the fixes not called freeze
breaches. The journal is written with a fixed clock; no template renders a message here, so the
text depends on the report alone."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from warroom.cli import main
from warroom.comms.context import CommitLine, ErrorLine
from warroom.comms.evidence import AT_DECLARATION, AT_RESOLUTION, PEAK, errors_evidence, series_evidence
from warroom.comms.report import build_report
from warroom.incident import events as ev
from warroom.incident.journal import Journal
from warroom.incident.state import Incident
from warroom.settings import Settings

T0 = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
SUSPECT = "86a46ab" + "0" * 33
HOTFIX = "c0ffee1" + "0" * 33


def minutes(start: int, values: list[int]) -> list[tuple[datetime, int]]:
    return [(T0 + timedelta(minutes=start + i), n) for i, n in enumerate(values)]


ROWS = [
    ErrorLine("TwilioTimeout", "POST /Messages.json timed out", 1988),
    ErrorLine("TwilioRestException", "20429: Too Many Requests", 1446),
]

COMMITS = [
    CommitLine(
        "86a46ab",
        "deploy: production 2026.11.26-1 (send-sms batching)",
        "github-actions",
        T0 - timedelta(minutes=12),
        deploy=True,
    ),
    CommitLine(
        "f00dfee",
        'Revert "deploy: production 2026.11.26-1 (send-sms batching)"',
        "maya",
        T0 + timedelta(minutes=14),
    ),
    CommitLine(
        "c0ffee1", "hotfix: cap Twilio batches at 10", "maya", T0 + timedelta(minutes=15), deploy=True
    ),
    CommitLine("d0c5d0c", "docs: fix a typo in the runbook", "sam", T0 + timedelta(minutes=16)),
]


def script(state_dir: Path) -> tuple[Settings, Incident]:
    settings = Settings(state_dir=state_dir, timezone_name="Europe/Berlin", user="alice")
    with Journal(settings.journal_path, actor="alice", clock=lambda: T0) as j:
        iid = j.declare("P0", "SMS campaigns failing", impact="No SMS leaves", lead="@alice").incident_id

        def add(body: ev.Body, at: timedelta, actor: str = "alice") -> ev.Event:
            return j.append(iid, body, at=T0 + at, actor=actor)

        m, s = (lambda n: timedelta(minutes=n)), (lambda n: timedelta(seconds=n))
        add(
            errors_evidence(
                AT_DECLARATION,
                ROWS,
                window=timedelta(hours=1),
                total=3434,
                per_minute=12.4,
                series=minutes(-5, [10, 12, 11, 14, 15]),
            ),
            s(30),
        )
        add(
            ev.ItemTicked(
                "actions-P0", "page-on-call-engineer-immediately", "Page on-call engineer immediately"
            ),
            m(1),
        )
        add(ev.ItemTicked("actions-P0", "create-incident-channel", "Create incident channel"), m(1) + s(30))
        add(ev.ItemUnticked("actions-P0", "create-incident-channel", "Create incident channel"), m(2))
        add(ev.Observed("status", "Twilio: SMS Delivery degraded"), m(2) + s(5), "status page Twilio")
        add(ev.Observed("status", "Supabase: all systems operational"), m(2) + s(6), "status page Supabase")
        add(ev.ItemTicked("actions-P0", "create-incident-channel", "Create incident channel"), m(3), "bob")
        add(ev.PhaseChanged("investigation", "triage"), m(4))
        add(ev.FieldEdited("theory", "Twilio rate limits after the batching deploy"), m(5))
        add(ev.FieldEdited("eta", "20 minutes"), m(6))
        add(ev.FieldEdited("eta", "30 minutes"), m(6) + s(10))
        add(ev.FieldEdited("users_affected", "every customer sending campaigns"), m(6) + s(20))
        suspect = {"sha": SUSPECT, "short_sha": "86a46ab", "subject": COMMITS[0].subject}
        add(
            ev.EvidenceRecorded(
                "deploy", "suspected", json.dumps(suspect), "errors rose 12 min after deploy 86a46ab"
            ),
            m(7),
        )
        copied = add(
            ev.MessageCopied("internal", "internal_update", "INCIDENT UPDATE\nTwilio throttles us"), m(8)
        )
        add(ev.UpdateSent("internal", "", "internal_update", copy=copied.event_id), m(8) + s(30))
        add(ev.ActionItemAdded("Alert on Twilio 20429 responses", "maya", "2026-12-04"), m(9))
        add(ev.ActionItemAdded("Load-test batching before release"), m(9) + s(30), "bob")
        add(
            errors_evidence(
                PEAK,
                ROWS,
                window=timedelta(hours=1),
                total=9660,
                per_minute=410.0,
                series=minutes(0, [40, 180, 390, 520, 410, 450, 380, 300, 260, 200]),
            ),
            m(10),
        )
        add(errors_evidence(PEAK, ROWS[:1], window=timedelta(hours=1), total=9900, per_minute=388.0), m(12))
        add(series_evidence(minutes(10, [150, 90, 60, 30])), m(14))
        add(ev.PhaseChanged("mitigation", "investigation"), m(14) + s(20))
        add(ev.CommitMarked(HOTFIX, "fix", "hotfix: cap Twilio batches at 10"), m(15) + s(30))
        add(ev.PhaseChanged("recovery", "mitigation"), m(16))
        add(
            ev.FieldEdited("root_cause", "The batching deploy sent 50 messages a request; Twilio throttled"),
            m(17),
        )
        add(ev.UpdateSent("internal", "", "marked sent"), m(18), "bob")
        add(ev.MessageCopied("customer", "customer_notification", "Subject: SMS delays"), m(19))
        add(ev.LessonAdded("yes", "The suspect deploy was found in 7 minutes"), m(19) + s(30))
        add(ev.LessonAdded("no", "Nobody owned the Twilio quota"), m(19) + s(40), "bob")
        add(
            ev.FieldEdited(
                "summary", "SMS campaigns failed for 20 minutes: a deploy tripped Twilio's limits."
            ),
            m(20),
        )
        add(ev.FieldEdited("resolution", "Reverted the batching deploy; capped batches at 10"), m(20) + s(5))
        add(ev.Resolved("Reverted the batching deploy; capped batches at 10"), m(20) + s(17))
        add(
            errors_evidence(
                AT_RESOLUTION,
                [],
                window=timedelta(hours=1),
                total=12,
                per_minute=0.4,
                series=minutes(14, [20, 8, 3, 1, 0, 0, 1]),
            ),
            m(20) + s(30),
        )
        return settings, j.load(iid)


EXPECTED = """\
# Incident Report: SMS campaigns failing

**Incident ID**: INC-2026-11-26-001\x20\x20
**Severity**: P0\x20\x20
**Status**: Resolved\x20\x20
**Incident Lead**: alice\x20\x20
**Start Time**: 2026-11-26 15:00 CET (14:00 UTC)\x20\x20
**End Time**: 2026-11-26 15:20 CET (14:20 UTC)\x20\x20
**Duration**: 20m 17s\x20\x20
**Post-Incident Review Due**: 2026-11-28 15:20 CET

All times are Europe/Berlin (CET, UTC+01:00 at the start) unless marked UTC.

## Summary
SMS campaigns failed for 20 minutes: a deploy tripped Twilio's limits.

## Impact
- **Impact**: No SMS leaves
- **Users Affected**: every customer sending campaigns
- **Services Affected**: [LIST]
- **Revenue Impact**: [$ AMOUNT or NONE]
- **Data Loss**: [YES/NO - DETAILS]

## Timeline
- 15:00 CET - Detected (declared)
- 15:04 CET - Investigation started
- 15:17 CET - Root cause identified
- 15:16 CET - Mitigation applied
- 15:20 CET - Resolved

- **Time to triage**: 4m 00s
- **Time to mitigate**: 16m 00s
- **Time to resolve**: 20m 17s

## Errors per Minute
| Moment | Errors per minute (mean of the 5 minutes before) | Recorded |
|---|---:|---|
| At declaration | 12 | 15:00 CET |
| At peak | 430 | 15:07 CET |
| At resolution | 0.4 | 15:20 CET |

Errors per minute from 14:55 CET to 15:20 CET (declared 15:00 CET; one mark per minute; the highest, 520, at 15:03 CET):

`▁▁▁▁▁▁▃▆█▇▇▆▅▄▄▃▂▁▁▁▁▁▁▁▁▁`

Top errors in the 1h 00m before the highest tally recorded (15:10 CET):

| Count | Type | Message |
|---:|---|---|
| 1,988 | TwilioTimeout | POST /Messages.json timed out |
| 1,446 | TwilioRestException | 20429: Too Many Requests |

**Suspected deploy**: errors rose 12 min after deploy 86a46ab

## Root Cause
The batching deploy sent 50 messages a request; Twilio throttled

## Resolution
Reverted the batching deploy; capped batches at 10

## Action Items
- [ ] Alert on Twilio 20429 responses - Owner: maya - Due: 2026-12-04
- [ ] Load-test batching before release - Owner: [NAME] - Due: [DATE]

## Lessons Learned
**What Went Well**:
- The suspect deploy was found in 7 minutes

**What Could Be Improved**:
- Nobody owned the Twilio quota

## References
- Incident Channel: #incident-2026-11-26-14-00
- Related Tickets: [LINKS]
- Monitoring Dashboards: [LINKS]

## Full Timeline
- 15:00 CET - P0 incident declared: SMS campaigns failing (alice)
- 15:00 CET - Errors at declaration: 12 errors per minute
- 15:01 CET - ✔ Page on-call engineer immediately (alice)
- 15:02 CET - Status pages (2 changes): Twilio: SMS Delivery degraded; Supabase: all systems operational
- 15:03 CET - ✔ Create incident channel (bob)
- 15:04 CET - Phase: Detection & Triage → Investigation (alice)
- 15:05 CET - Current theory: Twilio rate limits after the batching deploy (alice)
- 15:06 CET - Edited ETA to resolution, Users affected (alice)
- 15:07 CET - Suspected deploy: errors rose 12 min after deploy 86a46ab
- 15:08 CET - Internal update sent: Internal - Status Update (alice)
- 15:09 CET - Action item: Alert on Twilio 20429 responses (owner maya) (alice)
- 15:09 CET - Action item: Load-test batching before release (bob)
- 15:10 CET - Errors peaked: 410 errors per minute
- 15:12 CET - Errors peaked: 388 errors per minute
- 15:14 CET - Phase: Investigation → Mitigation (alice)
- 15:15 CET - Commit c0ffee1 marked as the fix: hotfix: cap Twilio batches at 10 (alice)
- 15:16 CET - Phase: Mitigation → Recovery & Verification (alice)
- 15:17 CET - Root cause: The batching deploy sent 50 messages a request; Twilio throttled (alice)
- 15:18 CET - Internal update marked sent (no copied text) (bob)
- 15:19 CET - Copied, not confirmed sent: Customer - P0 Notification (alice)
- 15:19 CET - Went well: The suspect deploy was found in 7 minutes (alice)
- 15:19 CET - To improve: Nobody owned the Twilio quota (bob)
- 15:20 CET - Edited Summary (for the report), Resolution (internal) (alice)
- 15:20 CET - Incident resolved: Reverted the batching deploy; capped batches at 10 (alice)
- 15:20 CET - Errors at resolution: 0.4 errors per minute

## Phases
| Phase | Entered | Time spent | Budget |
|---|---|---|---|
| 1. Detection & Triage | 15:00 CET | 4m 00s | 5m 00s |
| 2. Investigation | 15:04 CET | 10m 20s | 25m 00s |
| 3. Mitigation | 15:14 CET | 1m 40s | — |
| 4. Recovery & Verification | 15:16 CET | 4m 17s | — |
| 5. Post-Incident Review | — | — | 2d 00h |

## Checklists

### P0 actions (2/8)
- [x] Page on-call engineer immediately (15:01 CET, alice)
- [x] Create incident channel (15:03 CET, bob)
- [ ] Declare P0 incident in channel
- [ ] Check Supabase status page
- [ ] Review recent deployments
- [ ] Notify stakeholders
- [ ] Consider immediate rollback
- [ ] Provide updates every 15 minutes

### Investigation checklist (0/7)
- [ ] Check recent code deployments
- [ ] Check recent database migrations
- [ ] Check environment variable changes
- [ ] Check external service status (Twilio, etc.)
- [ ] Check rate limits
- [ ] Check disk space / database size
- [ ] Review performance metrics

### Verification checklist (0/6)
- [ ] Error rate returned to normal
- [ ] Key features tested and working
- [ ] Performance metrics within acceptable range
- [ ] No new errors appearing
- [ ] User feedback positive
- [ ] Monitoring shows stability

### When to declare resolved (0/4)
- [ ] Error rate < 1% for 30 minutes
- [ ] All critical features verified working
- [ ] No new related incidents
- [ ] Stakeholders notified of resolution

## Updates Confirmed Sent

### 15:08 CET - Internal - Status Update (alice, on time)

```
INCIDENT UPDATE
Twilio throttles us
```

### 15:18 CET - Internal update (bob, on time; marked sent; no copied text)

## Copied, Not Confirmed Sent

### 15:19 CET - Customer - P0 Notification (alice)

```
Subject: SMS delays
```

## Commits in the Incident Window
Commits that landed from 13:00 CET (2h 00m before the declaration) to 15:20 CET (the resolution), oldest first.

- `86a46ab` 14:48 CET github-actions: deploy: production 2026.11.26-1 (send-sms batching) (deploy, suspected)
- `f00dfee` 15:14 CET maya: Revert "deploy: production 2026.11.26-1 (send-sms batching)" (the fix)
- `c0ffee1` 15:15 CET maya: hotfix: cap Twilio batches at 10 (deploy, the fix)
- `d0c5d0c` 15:16 CET sam: docs: fix a typo in the runbook (during deploy freeze)

---
Generated by warroom 0.1.0 at 2026-11-26 16:00 CET (15:00 UTC) from 33 journal events.
"""


def test_the_scripted_incident_gives_exactly_this_report(state_dir: Path) -> None:
    settings, incident = script(state_dir)
    text = build_report(incident, settings, now=T0 + timedelta(hours=1), commits=COMMITS)
    assert text == EXPECTED


def test_warroom_report_writes_the_same_report(state_dir: Path, tmp_path: Path) -> None:
    _, incident = script(state_dir)
    config = tmp_path / "warroom.toml"
    config.write_text('[incident]\ntimezone = "Europe/Berlin"\n')
    out = tmp_path / "report.md"
    result = CliRunner().invoke(
        main, ["report", incident.id, "-o", str(out), "--config", str(config), "--state-dir", str(state_dir)]
    )
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    # No repository configured: the commits section says so; everything else but the generation time
    # (the command uses the real clock) is the same.
    commits = EXPECTED.split("## Commits in the Incident Window\n")[1].split("\n---\n")[0]
    window = commits.split("\n\n")[0]
    want = EXPECTED.replace(
        commits, window + "\n\nNo git repository configured ([git] repo in warroom.toml, or --repo).\n"
    )
    assert text.rsplit("\n---\n", 1)[0] == want.rsplit("\n---\n", 1)[0]


def test_the_sparkline_marks_gaps_and_squeezes_a_long_incident() -> None:
    from warroom.comms.evidence import spark

    assert spark([0, 4, None, 8]) == ("▁▄ █", 1)
    assert spark([]) == ("", 1)
    line, per = spark(list(range(300)))  # five hours: 3 minutes a mark, the highest of each
    assert (len(line), per) == (100, 3) and line[0] == "▁" and line[-1] == "█"


def test_a_sparkline_runs_from_the_first_minute_measured_to_the_last(state_dir: Path) -> None:
    settings = Settings(state_dir=state_dir, timezone_name="Europe/Berlin")
    with Journal(settings.journal_path, actor="alice", clock=lambda: T0) as j:
        iid = j.declare("P1", "Slow search").incident_id
        j.append(iid, series_evidence(minutes(0, [5, 50])), at=T0 + timedelta(minutes=2))
        j.append(iid, series_evidence(minutes(4, [20])), at=T0 + timedelta(minutes=5))
        incident = j.load(iid)
    text = build_report(incident, settings, now=T0 + timedelta(minutes=40), commits=[])
    assert (
        "Errors per minute from 15:00 CET to 15:04 CET (declared 15:00 CET; one mark per minute, a space "
        "where nothing was measured; the highest, 50, at 15:01 CET):\n\n`▁█  ▄`\n"
    ) in text
    assert "| At peak | not recorded | — |" in text


def test_the_sparkline_shows_the_half_hour_before_the_declaration(state_dir: Path) -> None:
    settings = Settings(state_dir=state_dir, timezone_name="Europe/Berlin")
    with Journal(settings.journal_path, actor="alice", clock=lambda: T0) as j:
        iid = j.declare("P1", "Slow search").incident_id
        before = errors_evidence(
            AT_DECLARATION,
            [],
            window=timedelta(hours=1),
            per_minute=3,
            series=minutes(-35, [1] * 33 + [9, 9]),
        )
        j.append(iid, before, at=T0 + timedelta(seconds=20))
        incident = j.load(iid)
    text = build_report(incident, settings, now=T0 + timedelta(minutes=3), commits=[])
    assert (
        "Errors per minute from 14:30 CET to 14:59 CET (declared 15:00 CET; one mark per minute; the highest, "
        "9, at 14:58 CET):\n\n`" + "▁" * 28 + "██`\n"
    ) in text
