"""Every default in warroom.playbook, checked against the text of the playbook itself.

The markdown is parsed here, so a change to either the playbook or the data is caught.
"""

from __future__ import annotations

import os
import re
import time as time_module
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from warroom.playbook import DEFAULT, Checklist, Playbook, slug

# A copy of the team's playbook kept with the tests (the spec lives outside the repository).
PLAYBOOK_MD = Path(__file__).resolve().parent / "data" / "incident-response-playbook.md"
# The spec itself, beside the checkout (../shared) when this runs in the team's workspace.
SEED_MD = Path(__file__).resolve().parents[2] / "shared" / "seed" / "incident-response-playbook.md"


@pytest.fixture(scope="module")
def md() -> str:
    return PLAYBOOK_MD.read_text(encoding="utf-8")


def test_copy_matches_the_seed_playbook() -> None:
    if not SEED_MD.is_file():
        pytest.skip("the shared seed playbook is not on this machine")
    assert PLAYBOOK_MD.read_bytes() == SEED_MD.read_bytes()


def section(md: str, heading: str) -> str:
    """The text under ``heading`` up to the next heading of the same or a higher level."""
    level = len(heading) - len(heading.lstrip("#"))
    start = md.index(heading + "\n") if heading + "\n" in md else md.index(heading)
    rest = md[start + len(heading) :]
    m = re.search(rf"^#{{1,{level}}} ", rest, re.M)
    return rest[: m.start()] if m else rest


def after_label(text: str, label: str) -> str:
    """The block that follows a ``**Label**:`` line, up to the next blank line."""
    start = text.index(f"**{label}**:")
    block = text[start:].split("\n", 1)[1]
    return block.split("\n\n", 1)[0]


def numbered(block: str) -> list[str]:
    return re.findall(r"^\s*\d+\.\s+(.+?)\s*$", block, re.M)


def bullets(block: str) -> list[str]:
    return re.findall(r"^\s*-\s+(?:\[ \]\s+)?(.+?)\s*$", block, re.M)


def field_value(text: str, label: str) -> str:
    m = re.search(rf"\*\*{re.escape(label)}\*\*:\s*(.+?)\s*$", text, re.M)
    assert m, label
    return m.group(1)


def words_to_duration(words: str) -> timedelta | None:
    """Words to a duration: Immediate -> 0, 30 minutes, 2 hours; Next business day -> None."""
    w = words.strip().lower()
    if w == "immediate":
        return timedelta(0)
    if w == "next business day":
        return None
    m = re.fullmatch(r"(\d+)\s+(minute|minutes|hour|hours)", w)
    assert m, words
    n = int(m.group(1))
    return timedelta(minutes=n) if m.group(2).startswith("minute") else timedelta(hours=n)


SEVERITY_HEADINGS = {
    "P0": "### P0 - Critical (Complete Outage)",
    "P1": "### P1 - High (Major Feature Down)",
    "P2": "### P2 - Medium (Degraded Performance)",
    "P3": "### P3 - Low (Minor Issue)",
}


# -- severities -----------------------------------------------------------------------------------


def test_severity_keys_in_order() -> None:
    assert list(DEFAULT.severities) == ["P0", "P1", "P2", "P3"]


@pytest.mark.parametrize("key", ["P0", "P1", "P2", "P3"])
def test_severity_heading_response_impact_examples(md: str, key: str) -> None:
    heading = next(h for h in re.findall(r"^### P\d - .+$", md, re.M) if h.startswith(f"### {key} "))
    m = re.fullmatch(r"### (P\d) - (\w+) \((.+)\)", heading)
    assert m
    sev = DEFAULT.severity(key)
    assert (sev.key, sev.name, sev.summary) == m.groups()
    assert heading == SEVERITY_HEADINGS[key]
    text = section(md, heading)
    assert sev.response == words_to_duration(field_value(text, "Response Time"))
    assert sev.impact == field_value(text, "Impact")
    assert list(sev.examples) == bullets(after_label(text, "Examples"))
    assert sev.label == f"{key} - {m.group(2)}"


def test_response_times_exact() -> None:
    got = {k: s.response for k, s in DEFAULT.severities.items()}
    assert got == {"P0": timedelta(0), "P1": timedelta(minutes=30), "P2": timedelta(hours=2), "P3": None}
    assert [s.response_text for s in DEFAULT.severities.values()] == [
        "Immediate",
        "30 min",
        "2 h",
        "Next business day",
    ]


@pytest.mark.parametrize("key", ["P0", "P1", "P2", "P3"])
def test_action_lists_match_the_playbook(md: str, key: str) -> None:
    """Verbatim, except that the channel item's inline pattern lives in the channel rule."""
    text = section(md, SEVERITY_HEADINGS[key])
    expected = []
    for item in numbered(after_label(text, "Actions")):
        m = re.fullmatch(r"(.+?): `(#incident-[^`]+)`", item)
        if m:
            # "Create incident channel: `#incident-...`": the console fills in the real name.
            pattern = m.group(2)
            channel = DEFAULT.severity(key).channel
            assert channel, f"{key} names a channel but has no channel rule"
            sample = DEFAULT.channel_name(key, "DESCRIPTION", datetime(2026, 11, 26, 14, 5, tzinfo=UTC))
            shape = re.sub(r"\d", "#", sample)
            if "YYYY" in pattern:
                assert shape == "#incident-####-##-##-##-##"
                assert pattern == "#incident-YYYY-MM-DD-HH-MM"
            else:
                assert pattern == f"#incident-{key}-DESCRIPTION"
                assert sample == f"#incident-{key}-description"
            item = m.group(1)
        assert "`" not in item
        expected.append(item)
    assert list(DEFAULT.severity(key).actions) == expected


def test_action_counts() -> None:
    assert [len(s.actions) for s in DEFAULT.severities.values()] == [8, 6, 4, 3]


def test_update_cadences(md: str) -> None:
    p0, p1, p2, p3 = (DEFAULT.severity(k) for k in ("P0", "P1", "P2", "P3"))
    assert (p0.internal_update, p0.customer_update) == (timedelta(minutes=15), timedelta(minutes=30))
    assert (p1.internal_update, p1.customer_update) == (timedelta(minutes=30), None)
    assert (p2.internal_update, p2.customer_update) == (None, None)
    assert (p3.internal_update, p3.customer_update) == (None, None)
    # The playbook's own words for them.
    for key, sev in (("P0", p0), ("P1", p1)):
        last = numbered(after_label(section(md, SEVERITY_HEADINGS[key]), "Actions"))[-1]
        m = re.fullmatch(r"Provide updates every (\d+) minutes", last)
        assert m and sev.internal_update == timedelta(minutes=int(m.group(1)))
    customer = section(md, "### Customer - P0 Notification")
    m = re.search(r"We'll provide updates every (\d+) minutes", customer)
    assert m and p0.customer_update == timedelta(minutes=int(m.group(1)))
    declaration = section(md, "### Internal - Incident Declaration (P0)")
    m = re.search(r"Next Update: \[TIME\] \((\d+) minutes\)", declaration)
    assert m and p0.internal_update == timedelta(minutes=int(m.group(1)))


def test_channel_rules() -> None:
    at = datetime(2026, 11, 26, 23, 53, 10, tzinfo=UTC)
    assert DEFAULT.channel_name("P0", "Database down", at) == "#incident-2026-11-26-23-53"
    assert (
        DEFAULT.channel_name("P1", "SMS delivery completely failing!", at)
        == "#incident-P1-sms-delivery-completely-failing"
    )
    assert DEFAULT.channel_name("P3", "Typo on the login page", at) == ""
    # The P0 channel is named by the UTC time, whatever the zone of the declaration time given.
    berlin = at.astimezone(ZoneInfo("Europe/Berlin"))
    assert DEFAULT.channel_name("P0", "x", berlin) == "#incident-2026-11-26-23-53"
    # Slugs are ASCII and short.
    long_title = "Zahlungsabwicklung fällt aus — überall, für alle Kunden, seit dem letzten Deploy!!"
    name = DEFAULT.channel_name("P1", long_title, at)
    assert re.fullmatch(r"#incident-P1-[a-z0-9-]+", name)
    assert len(name.removeprefix("#incident-P1-")) <= 40
    assert name.startswith("#incident-P1-zahlungsabwicklung-fallt-aus")


def test_slug() -> None:
    assert slug("Check recent code deployments") == "check-recent-code-deployments"
    assert slug("Check disk space / database size") == "check-disk-space-database-size"
    assert slug("Error rate < 1% for 30 minutes") == "error-rate-1-for-30-minutes"
    assert slug("!!!") == "item"
    assert slug("a" * 100, 10) == "a" * 10
    assert slug("ab-cd-ef", 3) == "ab"  # no dangling dash


# -- escalation -----------------------------------------------------------------------------------


def test_escalation_ladder_matches_the_playbook(md: str) -> None:
    block = section(md, "### Escalation Path")
    names = re.findall(r"^Level (\d): (.+?)\s*$", block, re.M)
    triggers = re.findall(r"^\s*↓ \((.+)\)\s*$", block, re.M)
    assert [int(n) for n, _ in names] == [1, 2, 3, 4]
    assert [(lv.level, lv.name) for lv in DEFAULT.escalation] == [(int(n), name) for n, name in names]
    # The trigger under level N leads to level N+1.
    assert [lv.trigger for lv in DEFAULT.escalation[1:]] == triggers
    assert [lv.label for lv in DEFAULT.escalation] == [
        "L1 On-call Engineer",
        "L2 Engineering Lead",
        "L3 CTO / VP Engineering",
        "L4 CEO / Executive Team",
    ]


def test_escalation_triggers_as_data() -> None:
    l1, l2, l3, l4 = DEFAULT.escalation
    assert (l1.after, l1.severities) == (timedelta(0), frozenset())
    assert (l2.after, l2.severities) == (timedelta(minutes=30), frozenset())
    assert (l3.after, l3.severities) == (timedelta(hours=1), frozenset({"P0"}))
    assert (l4.after, l4.severities) == (None, frozenset())  # data breach or major outage: a decision
    assert DEFAULT.level(3) is l3
    assert DEFAULT.level(7) is None


# -- phases -----------------------------------------------------------------------------------


def test_phases_match_the_playbook(md: str) -> None:
    headings = re.findall(r"^### Phase (\d): (.+?) \((.+)\)\s*$", md, re.M)
    assert len(headings) == 5
    assert [(p.number, p.name, p.window) for p in DEFAULT.phases] == [
        (int(n), name, window) for n, name, window in headings
    ]
    for phase, (_, _, window) in zip(DEFAULT.phases, headings, strict=True):
        m = re.fullmatch(r"(\d+)-(\d+) minutes", window)
        if m:
            assert phase.budget == timedelta(minutes=int(m.group(2)) - int(m.group(1)))
        elif (m := re.fullmatch(r"within (\d+) hours", window)) is not None:
            assert phase.budget == timedelta(hours=int(m.group(1)))
            assert DEFAULT.review_within == timedelta(hours=int(m.group(1)))
        else:
            assert phase.budget is None, window


def test_phase_keys_budgets_and_statuses() -> None:
    assert [(p.key, p.budget, p.status) for p in DEFAULT.phases] == [
        ("triage", timedelta(minutes=5), "Investigating"),
        ("investigation", timedelta(minutes=25), "Investigating"),
        ("mitigation", None, "Mitigating"),
        ("recovery", None, "Monitoring"),
        ("review", timedelta(hours=48), "Review"),
    ]
    assert DEFAULT.phase("mitigation").number == 3
    assert DEFAULT.phase_index("review") == 4
    with pytest.raises(ValueError, match="unknown phase 'nope'"):
        DEFAULT.phase("nope")
    with pytest.raises(ValueError, match="unknown phase 'nope'"):
        DEFAULT.phase_index("nope")


def test_review_within_48_hours() -> None:
    assert DEFAULT.review_within == timedelta(hours=48)


# -- checklists -------------------------------------------------------------------------------


def test_investigation_checklist(md: str) -> None:
    items = bullets(
        after_label(section(md, "### Phase 2: Investigation (5-30 minutes)"), "Investigation Checklist")
    )
    assert len(items) == 7
    assert [i.text for i in DEFAULT.investigation.items] == items


def test_verification_checklist(md: str) -> None:
    text = section(md, "### Phase 4: Recovery & Verification (ongoing)")
    items = bullets(after_label(text, "Verification Checklist"))
    assert len(items) == 6
    assert [i.text for i in DEFAULT.verification.items] == items


def test_resolution_criteria(md: str) -> None:
    text = section(md, "### Phase 4: Recovery & Verification (ongoing)")
    m = re.search(r"\*\*When to declare resolved\*\*:\n((?:- .+\n)+)", text)
    assert m
    items = bullets(m.group(1))
    assert items == [
        "Error rate < 1% for 30 minutes",
        "All critical features verified working",
        "No new related incidents",
        "Stakeholders notified of resolution",
    ]
    assert [i.text for i in DEFAULT.resolution.items] == items
    assert DEFAULT.resolution.title == "When to declare resolved"


def test_checklist_keys_and_lookup() -> None:
    inv = DEFAULT.investigation
    assert inv.items[0].key == "check-recent-code-deployments"
    assert inv.item("check-rate-limits") is not None
    assert inv.item("nope") is None
    keys = [c.key for c in DEFAULT.checklists("P1")]
    assert keys == ["actions-P1", "investigation", "verification", "resolution"]
    assert DEFAULT.checklist("actions-P0") == DEFAULT.actions("P0")
    assert [i.text for i in DEFAULT.actions("P0").items] == list(DEFAULT.severity("P0").actions)
    assert DEFAULT.checklist("actions-P9") is None
    assert DEFAULT.checklist("verification") is DEFAULT.verification
    assert DEFAULT.checklist("nope") is None
    for cl in (*DEFAULT.checklists("P0"), *DEFAULT.checklists("P3")):
        keys = [i.key for i in cl.items]
        assert len(set(keys)) == len(keys)


def test_checklist_keys_stay_unique_for_repeated_texts() -> None:
    cl = Checklist.of("x", "X", ["Check logs", "Check logs", "check LOGS!"])
    assert [i.key for i in cl.items] == ["check-logs", "check-logs-2", "check-logs-3"]


# -- freeze, lookups ---------------------------------------------------------------------------


def test_freeze_for_p0_only(md: str) -> None:
    assert DEFAULT.freeze_severities == frozenset({"P0"})
    assert "DO NOT DEPLOY anything until all-clear given." in section(
        md, "### Internal - Incident Declaration (P0)"
    )


def test_unknown_severity_message() -> None:
    with pytest.raises(ValueError) as exc:
        DEFAULT.severity("P7")
    assert str(exc.value) == "unknown severity 'P7' (expected one of P0, P1, P2, P3)"


def test_defaults_are_fresh_per_instance() -> None:
    a, b = Playbook(), Playbook()
    assert a == b == DEFAULT
    assert a.severities is not b.severities


# -- response deadline ---------------------------------------------------------------------------

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def _at(y: int, mo: int, d: int, h: int, mi: int, tz: ZoneInfo) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=tz)


@pytest.mark.parametrize(
    ("severity", "after"),
    [("P0", timedelta(0)), ("P1", timedelta(minutes=30)), ("P2", timedelta(hours=2))],
)
def test_response_deadline_by_duration(severity: str, after: timedelta) -> None:
    at = datetime(2026, 11, 27, 16, 40, tzinfo=UTC)  # a Friday afternoon: no business-day rule
    assert DEFAULT.response_deadline(severity, at, BERLIN) == at + after


@pytest.mark.parametrize(
    ("declared", "tz", "expected"),
    [
        # Friday 16:00 in Berlin -> Monday 09:00 Berlin (08:00 UTC).
        (_at(2026, 11, 27, 16, 0, BERLIN), BERLIN, datetime(2026, 11, 30, 8, 0, tzinfo=UTC)),
        # Saturday and Sunday -> Monday.
        (_at(2026, 11, 28, 10, 0, BERLIN), BERLIN, datetime(2026, 11, 30, 8, 0, tzinfo=UTC)),
        (_at(2026, 11, 29, 23, 59, BERLIN), BERLIN, datetime(2026, 11, 30, 8, 0, tzinfo=UTC)),
        # Monday 08:00 (before opening) -> Tuesday 09:00: the *next* business day.
        (_at(2026, 11, 30, 8, 0, BERLIN), BERLIN, datetime(2026, 12, 1, 8, 0, tzinfo=UTC)),
        # Thursday -> Friday.
        (_at(2026, 11, 26, 18, 0, BERLIN), BERLIN, datetime(2026, 11, 27, 8, 0, tzinfo=UTC)),
        # Friday 23:30 in New York is already Saturday in UTC: the local day decides -> Monday 09:00 EST.
        (_at(2026, 11, 27, 23, 30, NEW_YORK), NEW_YORK, datetime(2026, 11, 30, 14, 0, tzinfo=UTC)),
        # Friday 00:30 Saturday in Berlin (Friday 23:30 UTC) -> Monday.
        (datetime(2026, 11, 27, 23, 30, tzinfo=UTC), BERLIN, datetime(2026, 11, 30, 8, 0, tzinfo=UTC)),
        # Across the spring DST change (29 March 2026): Monday 09:00 CEST is 07:00 UTC.
        (_at(2026, 3, 27, 17, 0, BERLIN), BERLIN, datetime(2026, 3, 30, 7, 0, tzinfo=UTC)),
    ],
)
def test_response_deadline_next_business_day(declared: datetime, tz: ZoneInfo, expected: datetime) -> None:
    got = DEFAULT.response_deadline("P3", declared, tz)
    assert got == expected
    assert got.tzinfo == UTC
    local = got.astimezone(tz)
    assert local.weekday() < 5 and (local.hour, local.minute) == (9, 0)


def test_business_day_start_is_configurable() -> None:
    from dataclasses import replace
    from datetime import time

    pb = replace(DEFAULT, business_day_start=time(8, 30))
    got = pb.response_deadline("P3", _at(2026, 11, 27, 16, 0, BERLIN), BERLIN)
    assert got == datetime(2026, 11, 30, 7, 30, tzinfo=UTC)


@pytest.fixture
def berlin_local_zone() -> Iterator[None]:
    """The machine's local zone set to Europe/Berlin for the test (TZ + tzset), then restored."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "Europe/Berlin"
    time_module.tzset()
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = saved
        time_module.tzset()


def test_next_business_day_in_the_machine_zone_across_dst(berlin_local_zone: None) -> None:
    """Without a configured zone the local one is used, with the offset of the deadline's own day."""
    friday = datetime(2026, 3, 27, 16, 0, tzinfo=UTC)  # 17:00 CET; DST starts on Sunday the 29th
    assert DEFAULT.response_deadline("P3", friday, None) == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    autumn = datetime(2026, 10, 23, 16, 0, tzinfo=UTC)  # 18:00 CEST; DST ends on Sunday the 25th
    assert DEFAULT.response_deadline("P3", autumn, None) == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)
