"""The demo's story and the rows it makes: unit tests, then the seeded database (real PostgreSQL)."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from warroom.demo import seed
from warroom.demo.seed import HISTORY, Story, Traffic

ORIGIN = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")
SPIKE_TYPES = {"TwilioTimeout", "PostgresError", "FunctionsHttpError", "EdgeRuntimeError"}


def story(**kw: object) -> Story:
    return replace(Story.new(ORIGIN, seed=1234), **kw)  # type: ignore[arg-type]


def per_minute_sms(rows: list[tuple]) -> dict[datetime, tuple[int, int]]:
    out: dict[datetime, list[int]] = defaultdict(lambda: [0, 0])
    for r in rows:
        m = r[0].replace(second=0, microsecond=0)
        out[m][1] += 1
        out[m][0] += r[3] == "failed"
    return {k: (v[0], v[1]) for k, v in out.items()}


def test_story_moments() -> None:
    s = Story.new(ORIGIN, seed=1)
    assert s.origin == ORIGIN
    assert s.deploy_at == ORIGIN - timedelta(minutes=30)
    assert s.spike_at == s.deploy_at + timedelta(minutes=12)
    assert s.level(s.spike_at - timedelta(seconds=1)) == 0
    start = s.level(s.spike_at + timedelta(seconds=30))
    at_origin = s.level(ORIGIN)
    later = s.level(ORIGIN + timedelta(minutes=25))
    assert 0.25 < start < at_origin < later, "the spike grows over minutes"
    assert later < 1.6
    m = replace(s, mitigated_at=ORIGIN)
    assert m.level(ORIGIN - timedelta(minutes=1)) == s.level(ORIGIN - timedelta(minutes=1))
    assert m.level(ORIGIN + timedelta(minutes=2)) < 0.01 * s.level(ORIGIN + timedelta(minutes=2))


def test_rows_are_deterministic_and_well_formed() -> None:
    s = story()
    a = Traffic.for_story(s, salt="x").rows(ORIGIN - timedelta(minutes=5), ORIGIN)
    b = Traffic.for_story(s, salt="x").rows(ORIGIN - timedelta(minutes=5), ORIGIN)
    assert a == b
    errors, sms = a
    start = ORIGIN - timedelta(minutes=5)
    assert all(start < r[0] <= ORIGIN for r in errors + sms)  # type: ignore[operator]
    for _at, campaign, phone, status, code, message, provider in sms:
        assert E164.match(phone), phone
        assert (phone.startswith("+1") and phone[5:10] == "55501") or phone.startswith("+447700900")
        assert status in {"queued", "sent", "delivered", "failed"}
        assert campaign in {c[0] for c in seed.CAMPAIGNS if c[2] == "active"}
        if status == "failed":
            assert message and (code is None or message.startswith(code))
        else:
            assert code is None and message is None and provider and provider.startswith("SM")
    assert {r[1] for r in errors} & SPIKE_TYPES, "inside the spike"


def test_baseline_minutes_stay_under_one_percent() -> None:
    s = story()
    _errors, sms = Traffic.for_story(s, salt="base").rows(s.spike_at - timedelta(minutes=40), s.spike_at)
    minutes = per_minute_sms(sms)
    assert len(minutes) >= 39
    assert all(failed / total < 0.01 for failed, total in minutes.values()), minutes
    assert sum(f for f, _ in minutes.values()) > 10, "but some numbers do fail"
    rate = sum(f for f, _ in minutes.values()) / sum(t for _, t in minutes.values())
    assert 0.001 < rate < 0.006


def test_spike_then_mitigation() -> None:
    s = story(mitigated_at=ORIGIN)
    traffic = Traffic.for_story(s, salt="m")
    errors, sms = traffic.rows(ORIGIN - timedelta(minutes=5), ORIGIN + timedelta(minutes=6))
    before = [r for r in sms if r[0] <= ORIGIN]
    after = [r for r in sms if r[0] > ORIGIN + timedelta(minutes=2)]
    fail = lambda rows: sum(r[3] == "failed" for r in rows) / len(rows)  # noqa: E731
    assert fail(before) > 0.15, "well above 1% during the spike"
    assert fail(after) < 0.01, "under 1% a couple of minutes after mitigation"
    for failed, total in per_minute_sms(after).values():
        assert failed / total < 0.01
    err_before = sum(1 for r in errors if ORIGIN - timedelta(minutes=2) < r[0] <= ORIGIN)
    err_after = sum(1 for r in errors if r[0] > ORIGIN + timedelta(minutes=4))
    assert err_before > 15 * max(1, err_after / 2), (err_before, err_after)
    assert not {r[1] for r in errors if r[0] > ORIGIN + timedelta(minutes=4)} & {"TwilioTimeout"}


def test_spike_mix_shifts_towards_connection_errors() -> None:
    s = story()
    early, _ = Traffic.for_story(s, salt="e").rows(s.spike_at, s.spike_at + timedelta(minutes=4))
    late, _ = Traffic.for_story(s, salt="l").rows(
        s.spike_at + timedelta(minutes=30), s.spike_at + timedelta(minutes=34)
    )
    share = lambda rows: sum("connection slots" in r[2] for r in rows) / len(rows)  # noqa: E731
    assert share(late) > 2 * share(early)
    top_early = Counter(r[1] for r in early).most_common(1)[0][0]
    assert top_early == "TwilioTimeout"


def test_failures_repeat_for_bad_numbers_and_retries() -> None:
    s = story()
    _e, sms = Traffic.for_story(s, salt="h").rows(ORIGIN - HISTORY, ORIGIN)
    failed = Counter((r[2], r[5]) for r in sms if r[3] == "failed")
    landlines = [k for k in failed if k[1] == "30006 Landline or unreachable carrier"]
    assert landlines and max(failed[k] for k in landlines) >= 3
    codes = {r[4] for r in sms if r[3] == "failed"}
    assert {"20429", "30001", "30003", "30005", "30006", "21211", "21610"} <= codes
    assert None in codes  # the timeouts have no Twilio code
    assert max(failed.values()) >= 3


# -- the database ------------------------------------------------------------------------------------


@pytest.mark.pg
async def test_seed_fills_the_playbooks_schema(pg_dsn: str) -> None:
    now = datetime.now(UTC)
    s = Story.new(now)
    conn = await asyncpg.connect(pg_dsn)
    try:
        n_errors, n_sms = await seed.seed(conn, s, now)
        assert 3000 < n_errors < 20000 and 15000 < n_sms < 30000
        assert await conn.fetchval("SELECT count(*) FROM error_logs") == n_errors
        assert await conn.fetchval("SELECT count(*) FROM sms_delivery_log") == n_sms
        assert await conn.fetchval("SELECT count(*) FROM campaigns") == len(seed.CAMPAIGNS)
        stored = await seed.read_story(conn)
        assert stored is not None and stored.seed == s.seed
        assert abs(stored.spike_at - s.spike_at) < timedelta(milliseconds=1)
        # The playbook's tally: the top rows are the spike's, and some of them are new.
        top = await conn.fetch(
            "SELECT error_type, error_message, COUNT(*) AS count FROM error_logs "
            "WHERE occurred_at > NOW() - INTERVAL '1 hour' GROUP BY error_type, error_message "
            "ORDER BY count DESC LIMIT 10"
        )
        assert len(top) == 10 and top[0]["error_type"] in SPIKE_TYPES | {"TwilioRestException"}
        first_seen = await conn.fetchval(
            "SELECT min(occurred_at) FROM error_logs WHERE error_type = 'TwilioTimeout'"
        )
        assert abs(first_seen - s.spike_at) < timedelta(seconds=30)
        # Errors per minute: quiet for 40 minutes, then a jump at the spike.
        per_minute = dict(
            await conn.fetch(
                "SELECT date_trunc('minute', occurred_at) AS m, count(*) FROM error_logs GROUP BY 1"
            )
        )
        spike_minute = s.spike_at.replace(second=0, microsecond=0)
        quiet = [c for m, c in per_minute.items() if m < spike_minute - timedelta(minutes=1)]
        loud = [
            c
            for m, c in per_minute.items()
            if spike_minute + timedelta(minutes=1) <= m < now.replace(second=0, microsecond=0)
        ]
        assert max(quiet) < 45 and min(loud) > 3 * (sum(quiet) / len(quiet))
        # The SMS failure rate, per minute, as the default error-rate query reads it.
        rates = await conn.fetch(
            "SELECT date_trunc('minute', created_at) AS m, "
            "count(*) FILTER (WHERE delivery_status = 'failed')::float / count(*) AS rate "
            "FROM sms_delivery_log GROUP BY 1 ORDER BY 1"
        )
        assert all(r["rate"] < 0.01 for r in rates if r["m"] < spike_minute)
        assert all(r["rate"] > 0.03 for r in rates if spike_minute < r["m"] < now - timedelta(minutes=1))
        # Indexes from schema.sql are there (the tally needs occurred_at's).
        indexes = {
            r[0] for r in await conn.fetch("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")
        }
        assert "error_logs_occurred_at_idx" in indexes
    finally:
        await conn.close()


@pytest.mark.pg
async def test_backfill_and_story_updates(pg_dsn: str) -> None:
    now = datetime.now(UTC)
    s = Story.new(now - timedelta(minutes=20))
    conn = await asyncpg.connect(pg_dsn)
    try:
        await seed.seed(conn, s, now - timedelta(minutes=20))
        newest = await seed.newest_row(conn)
        assert newest is not None and newest <= now - timedelta(minutes=20)
        _n_errors, n_sms = await seed.backfill(conn, s, newest, now)
        assert n_sms > 20 * 60 * 4
        newest2 = await seed.newest_row(conn)
        assert newest2 is not None and now - newest2 < timedelta(seconds=5)
        assert await seed.backfill(conn, s, newest2, newest2) == (0, 0)
        await seed.update_story(conn, mitigated_at=now, incident_id="INC-2026-11-26-001")
        stored = await seed.read_story(conn)
        assert (
            stored is not None and stored.mitigated_at == now and stored.incident_id == "INC-2026-11-26-001"
        )
        await conn.execute("UPDATE warroom_demo.story SET schema = 'other'")
        assert await seed.read_story(conn) is None, "a database made with other schema files"
        await conn.execute(
            "UPDATE warroom_demo.story SET schema = $1, version = 999", seed.schema_fingerprint()
        )
        assert await seed.read_story(conn) is None, "a story from another version is not continued"
        await conn.execute("ALTER TABLE warroom_demo.story DROP COLUMN incident_id")
        assert await seed.read_story(conn) is None
    finally:
        await conn.close()


@pytest.mark.pg
async def test_read_story_without_demo_schema(pg_dsn: str) -> None:
    conn = await asyncpg.connect(pg_dsn)
    try:
        assert await seed.read_story(conn) is None
    finally:
        await conn.close()
