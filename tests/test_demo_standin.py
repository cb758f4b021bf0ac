"""The status pages stand-in: real HTTP on 127.0.0.1, Statuspage v2 shapes, a story over time."""

from __future__ import annotations

import socket
import threading
import tomllib
from datetime import UTC, datetime, timedelta
from importlib import resources

import httpx
import pytest

from conftest import ManualClock
from warroom.demo.standin import THREAD_NAME, TWILIO_RESOLVES_AFTER, StatusStandIn

INDICATORS = {"none", "minor", "major", "critical"}
COMPONENT_STATES = {
    "operational",
    "degraded_performance",
    "partial_outage",
    "major_outage",
    "under_maintenance",
}
INCIDENT_STATES = {"investigating", "identified", "monitoring", "resolved", "postmortem"}
MAINTENANCE_STATES = {"scheduled", "in_progress", "verifying", "completed"}


@pytest.fixture
def standin(clock: ManualClock):
    server = StatusStandIn(clock).start()
    try:
        yield server
    finally:
        server.close()


def _ts(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert parsed.tzinfo is not None, text
    return parsed


def check_summary(doc: dict) -> None:
    """Every field the console reads, with Statuspage's types and enumerations."""
    assert set(doc) == {"page", "status", "components", "incidents", "scheduled_maintenances"}
    page = doc["page"]
    assert {"id", "name", "url", "time_zone", "updated_at"} <= set(page)
    _ts(page["updated_at"])
    assert doc["status"]["indicator"] in INDICATORS
    assert doc["status"]["description"]
    ids = {c["id"] for c in doc["components"]}
    assert len(ids) == len(doc["components"])
    for c in doc["components"]:
        assert c["status"] in COMPONENT_STATES
        assert c["page_id"] == page["id"]
        assert len(c["id"]) == 12 and c["id"].isalnum()
        _ts(c["updated_at"])
        if c["group"]:
            assert c["components"] and set(c["components"]) <= ids
        elif c["group_id"] is not None:
            assert c["group_id"] in ids
    for inc in doc["incidents"]:
        assert inc["status"] in INCIDENT_STATES - {"resolved", "postmortem"}  # summary: unresolved only
        assert inc["impact"] in INDICATORS
        assert inc["incident_updates"], "an incident has at least one update"
        times = [_ts(u["created_at"]) for u in inc["incident_updates"]]
        assert times == sorted(times, reverse=True), "updates are newest first"
        for u in inc["incident_updates"]:
            assert u["status"] in INCIDENT_STATES and u["body"] and u["incident_id"] == inc["id"]
    for m in doc["scheduled_maintenances"]:
        assert m["status"] in MAINTENANCE_STATES - {"completed"}
        assert m["impact"] == "maintenance"
        assert _ts(m["scheduled_until"]) > _ts(m["scheduled_for"])


def test_serves_both_pages_with_statuspage_shapes(standin: StatusStandIn) -> None:
    pages = standin.pages()
    assert [p.name for p in pages] == ["Supabase", "Twilio"]
    assert all(p.url.startswith("http://127.0.0.1:") for p in pages)
    docs = {}
    for page in pages:
        r = httpx.get(page.summary_url, timeout=5)
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("application/json")
        check_summary(r.json())
        docs[page.name] = r.json()
    supa, twilio = docs["Supabase"], docs["Twilio"]
    assert supa["status"]["indicator"] == "none" and not supa["incidents"]
    assert supa["scheduled_maintenances"], "an upcoming maintenance is listed"
    assert twilio["page"]["id"] == "gpkpyklzq55q"
    assert twilio["status"]["indicator"] == "minor"
    [incident] = twilio["incidents"]
    degraded = [c for c in twilio["components"] if c["status"] != "operational" and not c["group"]]
    assert [c["name"] for c in degraded] == ["T-Mobile"]
    assert [c["id"] for c in incident["components"]] == [degraded[0]["id"]]
    group = next(c for c in twilio["components"] if c["id"] == degraded[0]["group_id"])
    assert group["status"] == "degraded_performance", "a group shows its worst child"


def test_other_endpoints_and_errors(standin: StatusStandIn) -> None:
    base = standin.pages()[1].url
    status = httpx.get(f"{base}/api/v2/status.json").json()
    assert set(status) == {"page", "status"} and status["status"]["indicator"] == "minor"
    assert httpx.get(f"{base}/api/v2/components.json").json()["components"]
    assert len(httpx.get(f"{base}/api/v2/incidents/unresolved.json").json()["incidents"]) == 1
    assert httpx.head(f"{base}/api/v2/summary.json").status_code == 200
    for path in ("/", "/github/api/v2/summary.json", "/twilio/api/v2/nothing.json", "/twilio/summary.json"):
        r = httpx.get(standin.base_url + path)
        assert r.status_code == 404, path
        assert r.json() == {"error": "Not found"}


def test_twilio_incident_resolves_a_few_minutes_in(standin: StatusStandIn, clock: ManualClock) -> None:
    url = standin.pages()[1].summary_url
    before = httpx.get(url).json()
    clock.advance(seconds=TWILIO_RESOLVES_AFTER.total_seconds() + 1)
    after = httpx.get(url).json()
    check_summary(after)
    assert before["status"]["indicator"] == "minor"
    assert after["status"]["indicator"] == "none"
    assert after["status"]["description"] == "All Systems Operational"
    assert after["incidents"] == []
    assert all(c["status"] == "operational" for c in after["components"])
    tmobile = next(c for c in after["components"] if c["name"] == "T-Mobile")
    assert _ts(tmobile["updated_at"]) >= clock.now - timedelta(seconds=2)
    history = httpx.get(url.replace("summary.json", "incidents.json")).json()["incidents"]
    assert [i["status"] for i in history] == ["resolved"]
    assert history[0]["incident_updates"][0]["status"] == "resolved"


def test_timestamps_follow_the_clock_and_the_page_zone(clock: ManualClock) -> None:
    clock.set(datetime(2026, 7, 1, 12, 0, tzinfo=UTC))
    server = StatusStandIn(clock).start()
    try:
        doc = server.document("/twilio/api/v2/summary.json")
        assert doc is not None
        assert doc["page"]["time_zone"] == "America/Los_Angeles"
        assert doc["page"]["updated_at"].endswith("-07:00")  # PDT in July
        supa = server.document("/supabase/api/v2/summary.json")
        assert supa is not None and supa["page"]["updated_at"].endswith("Z")
    finally:
        server.close()


def test_console_parser_reads_the_standin(standin: StatusStandIn) -> None:
    """The status pane's own parser understands what the stand-in serves."""
    statuspage = pytest.importorskip("warroom.sources.statuspage")
    for page in standin.pages():
        status = statuspage.parse_summary(httpx.get(page.summary_url).json(), page, datetime.now(UTC))
        assert status.known and status.readable, status.reason
        if page.name == "Twilio":
            assert status.indicator == "minor"
            assert [c.name for c in status.components][-1].endswith("T-Mobile")
            assert len(status.incidents) == 1
        else:
            assert status.indicator == "none" and not status.incidents


def test_close_stops_serving_and_leaves_no_thread(clock: ManualClock) -> None:
    server = StatusStandIn(clock).start()
    port = server.port
    assert httpx.get(server.pages()[0].summary_url).status_code == 200
    assert server.running
    server.close()
    server.close()  # idempotent
    assert not server.running
    assert not [t for t in threading.enumerate() if t.name == THREAD_NAME]
    with socket.socket() as s, pytest.raises(OSError):
        s.settimeout(1)
        s.connect(("127.0.0.1", port))


def test_the_pages_words_are_data(standin: StatusStandIn) -> None:
    """Components, maintenance and incident come from status_pages.toml, in page order."""
    words = tomllib.loads(resources.files("warroom.demo").joinpath("status_pages.toml").read_text("utf-8"))
    for slug in ("supabase", "twilio"):
        doc = standin.document(f"/{slug}/api/v2/summary.json")
        assert doc is not None
        layout = [name for c in words[slug]["components"] for name in (c["name"], *c.get("children", []))]
        assert [c["name"] for c in doc["components"]] == layout
        assert doc["page"]["name"] == words[slug]["name"]
    supabase = standin.document("/supabase/api/v2/summary.json")
    assert supabase is not None
    assert [m["name"] for m in supabase["scheduled_maintenances"]] == [
        words["supabase"]["maintenance"]["name"]
    ]
    twilio = standin.document("/twilio/api/v2/summary.json")
    assert twilio is not None
    assert [i["name"] for i in twilio["incidents"]] == [words["twilio"]["incident"]["name"]]
    assert timedelta(minutes=4) == TWILIO_RESOLVES_AFTER
