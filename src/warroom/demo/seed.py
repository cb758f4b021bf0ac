"""The demo database: the playbook's schema, the incident's story, and an hour of believable history.

The schema is the one the console's queries are written for (``warroom/sources/sql/schema.sql``),
plus ``demo_schema.sql``: one table, ``warroom_demo.story``, in its own schema, that remembers the
story's moments (deploy, spike start, mitigation, the live commits made) and the demo incident's id,
so a reused demo continues the same story.

The story (times relative to when the demo was created, ``origin``):

- ``origin - 30 min``: the deploy (``Story.deploy_at``);
- ``origin - 18 min``: the error spike begins (``Story.spike_at``, 12 minutes after the deploy) and
  grows over the following half hour: Twilio timeouts and 429s first, then the database running
  out of connection slots, edge function 504s, lock timeouts on the campaigns table;
- before it, an hour of background noise: expired refresh tokens, duplicate contacts, invalid and
  unsubscribed numbers, a few landlines that always fail (``sms_delivery_log`` failures stay well
  under 1% of sends in every minute);
- after mitigation, the spike decays with a time constant of 20 s: within two minutes errors are
  back near the baseline and the per-minute SMS failure rate is under 1% again.

:class:`Traffic` turns the story into rows (the same code seeds the history, fills a gap when a
demo is reused, and feeds the live generator), deterministically for a given random seed.
"""

from __future__ import annotations

import contextlib
import hashlib
import heapq
import json
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

from warroom.sources.postgres import schema_sql

DEMO_SCHEMA_SQL: Traversable = resources.files("warroom.demo").joinpath("demo_schema.sql")
STORY_VERSION = 1

DEPLOY_BEFORE_ORIGIN = timedelta(minutes=30)
SPIKE_AFTER_DEPLOY = timedelta(minutes=12)
HISTORY = timedelta(minutes=65)  # seeded before origin: the hour window plus a margin
MITIGATION_TAU = timedelta(seconds=20)

# Rates (per second) at spike level 1.0. Peak inserts stay in the tens of rows per second.
ERRORS_BASELINE = 0.3
ERRORS_SPIKE = 9.0
SMS_BASELINE = 5.0
SMS_SPIKE_EXTRA = 2.0
SMS_FAIL_RANDOM = 0.0006  # transient 30003/30008 on good numbers, outside the spike
SMS_FAIL_SPIKE = 0.28  # added failure probability per unit of spike level
# Outside the spike, a minute's failure share is kept under this (the resolution rule is < 1%).
BASELINE_MINUTE_CAP = 0.009

TWILIO_ACCOUNT = "AC3f9a0c2e7b5d4184a6e1c9b07d2f5e63"


class SeedError(Exception):
    """The demo database could not be created or read (one line)."""


# -- the story ------------------------------------------------------------------------------------


def _smoothstep(x: float) -> float:
    x = min(1.0, max(0.0, x))
    return x * x * (3 - 2 * x)


@dataclass(frozen=True)
class Story:
    origin: datetime
    deploy_at: datetime
    spike_at: datetime
    seed: int
    mitigated_at: datetime | None = None
    incident_id: str | None = None
    breach_at: datetime | None = None  # when the freeze-breach commit was made
    rollback_at: datetime | None = None  # when the revert + hotfix deploy commits were made
    version: int = STORY_VERSION
    schema: str = ""  # fingerprint of the schema files the database was made with

    @classmethod
    def new(cls, now: datetime, seed: int | None = None) -> Story:
        now = now.astimezone(UTC)
        deploy = now - DEPLOY_BEFORE_ORIGIN
        return cls(
            origin=now,
            deploy_at=deploy,
            spike_at=deploy + SPIKE_AFTER_DEPLOY,
            seed=random.SystemRandom().randrange(1, 2**31) if seed is None else seed,
            schema=schema_fingerprint(),
        )

    def raw_level(self, t: datetime) -> float:
        """The spike's size at ``t`` without mitigation: 0 before it, ~0.3 at once, 1.0 after 20
        minutes, growing to ~1.4 after 50 minutes, with a slow wobble."""
        m = (t - self.spike_at).total_seconds() / 60
        if m < 0:
            return 0.0
        grow = 0.3 + 0.7 * _smoothstep(m / 20) + 0.4 * _smoothstep((m - 20) / 30)
        return grow * (1 + 0.08 * math.sin(m * 0.9))

    def level(self, t: datetime, tau: timedelta = MITIGATION_TAU) -> float:
        """The spike's size at ``t``, decaying exponentially after ``mitigated_at``."""
        raw = self.raw_level(t)
        if self.mitigated_at is not None and t > self.mitigated_at:
            raw *= math.exp(-(t - self.mitigated_at) / tau)
        return raw

    def minutes_into_spike(self, t: datetime) -> float:
        return max(0.0, (t - self.spike_at).total_seconds() / 60)


# -- what the rows say ------------------------------------------------------------------------------

# (error_type, error_message, source, weight)
BASELINE_ERRORS: tuple[tuple[str, str, str, float], ...] = (
    ("AuthApiError", "Invalid Refresh Token: Refresh Token Not Found", "auth", 30),
    (
        "PostgrestError",
        'duplicate key value violates unique constraint "contacts_org_id_phone_e164_key"',
        "api/contacts/import",
        17,
    ),
    ("TwilioRestException", "21211: Invalid 'To' Phone Number", "send-sms", 12),
    ("TwilioRestException", "21610: Attempt to send to unsubscribed recipient", "send-sms", 9),
    ("TypeError", "Cannot read properties of undefined (reading 'phone_e164')", "dashboard", 8),
    ("ZodError", 'Invalid input: expected string, received null at "scheduled_at"', "api/campaigns", 6),
    (
        "WebhookSignatureError",
        "X-Twilio-Signature mismatch for /functions/v1/twilio-webhook",
        "twilio-webhook",
        5,
    ),
    ("FunctionsFetchError", "Failed to send a request to the Edge Function", "dashboard", 4),
    ("StripeCardError", "Your card was declined.", "billing", 3),
    ("AuthApiError", "Email rate limit exceeded", "auth", 2),
)

_TIMEOUT_MESSAGE = f"POST /2010-04-01/Accounts/{TWILIO_ACCOUNT}/Messages.json timed out after 10000ms"
_SLOTS = "remaining connection slots are reserved for non-replication superuser connections"


def _spike_errors(m: float) -> list[tuple[str, str, str, float]]:
    """The spike's errors and their weights ``m`` minutes into it: Twilio trouble first, then the
    database's connection slots run out as send-sms holds a connection per in-flight send."""
    late = _smoothstep(m / 25)
    return [
        ("TwilioTimeout", _TIMEOUT_MESSAGE, "send-sms", 40 - 14 * late),
        ("TwilioRestException", "20429: Too Many Requests", "send-sms", 26 - 6 * late),
        ("PostgresError", _SLOTS, "send-sms", 4 + 26 * late),
        ("PostgresError", "sorry, too many clients already", "send-sms", 9 * _smoothstep((m - 8) / 15)),
        ("FunctionsHttpError", "504 Gateway Timeout: POST /functions/v1/send-sms", "campaign-scheduler", 14),
        ("EdgeRuntimeError", "send-sms: wall clock time limit reached", "send-sms", 7),
        ("PostgrestError", "canceling statement due to lock timeout", "api/campaigns", 5 + 7 * late),
    ]


# (error_code or None, error_message, weight) for failures caused by the spike.
SPIKE_SMS_FAILURES: tuple[tuple[str | None, str, float], ...] = (
    ("20429", "20429 Too Many Requests", 34),
    ("30001", "30001 Queue overflow", 19),
    (None, "Twilio API timeout: no response after 10000ms", 20),
    ("30008", "30008 Unknown error", 15),
    ("30003", "30003 Unreachable destination handset", 6),
    ("30005", "30005 Unknown destination handset", 6),
)
# Numbers that always fail, and why.
BAD_NUMBER_FAILURES: tuple[tuple[str, str], ...] = (
    ("30006", "30006 Landline or unreachable carrier"),
    ("30006", "30006 Landline or unreachable carrier"),
    ("21211", "21211 Invalid 'To' Phone Number"),
    ("21610", "21610 Attempt to send to unsubscribed recipient"),
    ("30005", "30005 Unknown destination handset"),
    ("30006", "30006 Landline or unreachable carrier"),
)
TRANSIENT_FAILURES: tuple[tuple[str, str], ...] = (
    ("30003", "30003 Unreachable destination handset"),
    ("30008", "30008 Unknown error"),
    ("30007", "30007 Message filtered"),
)

# (id, name, status, created days ago, share of current sends)
CAMPAIGNS: tuple[tuple[str, str, str, float, float], ...] = (
    ("cmp_7f3k9q2m1x", "Black Friday early access", "active", 2.2, 0.6),
    ("cmp_2b8v4n6c0z", "Volunteer shift reminders (weekly)", "active", 41.0, 0.25),
    ("cmp_9d1h5t7w3r", "Food bank pickup reminder - Saturday", "active", 1.1, 0.15),
    ("cmp_4g6j8l0p2s", "Giving Tuesday appeal", "scheduled", 3.4, 0.0),
    ("cmp_1a3e5i7o9u", "November newsletter teaser", "completed", 9.8, 0.0),
    ("cmp_6y8u0i2o4p", "Event RSVP follow-up", "completed", 6.1, 0.0),
    ("cmp_3m5n7b9v1c", "Winter coat drive", "paused", 12.5, 0.0),
    ("cmp_8q0w2e4r6t", "Board meeting reminder", "draft", 0.7, 0.0),
)
BLACK_FRIDAY = CAMPAIGNS[0][0]

_US_AREA_CODES = (
    "212", "213", "206", "303", "305", "312", "404", "415", "503", "512", "602", "617", "646", "702",
    "713", "718", "773", "818", "919", "214", "267", "347", "470", "510", "615", "720", "808", "857",
)  # fmt: skip


def recipients(rng: random.Random, count: int = 2400) -> list[str]:
    """E.164 numbers from ranges reserved for fiction: +1 NPA 555-01XX and +44 7700 900XXX."""
    pool: set[str] = set()
    us = [f"+1{npa}55501{n:02d}" for npa in _US_AREA_CODES for n in range(100)]
    uk = [f"+447700900{n:03d}" for n in range(1000)]
    pool.update(rng.sample(us, int(count * 0.85)))
    pool.update(rng.sample(uk, count - len(pool)))
    return sorted(pool)


def _hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


ErrorRow = tuple[datetime, str, str, str, str | None, str | None, str]  # + context json
SmsRow = tuple[datetime, str, str, str, str | None, str | None, str | None]


@dataclass
class Traffic:
    """Generates the rows of the story, second by second. Not thread-safe; one per writer."""

    story: Story
    rng: random.Random
    tau: timedelta = MITIGATION_TAU
    rate_scale: float = 1.0  # rows per second relative to the story's (tests go faster)
    numbers: list[str] = field(default_factory=list)
    bad: dict[str, tuple[str, str]] = field(default_factory=dict)
    users: list[str] = field(default_factory=list)
    _retries: list[tuple[datetime, int, int, str, str]] = field(default_factory=list)
    _retry_seq: int = 0
    _minute: datetime | None = None
    _minute_sends: int = 0
    _minute_fails: int = 0

    @classmethod
    def for_story(
        cls, story: Story, *, salt: str = "", tau: timedelta = MITIGATION_TAU, rate_scale: float = 1.0
    ) -> Traffic:
        people = random.Random(story.seed)  # the same people for the whole story
        numbers = recipients(people)
        bad_numbers = people.sample(numbers, len(BAD_NUMBER_FAILURES))
        users = [f"usr_{_hex(people, 10)}" for _ in range(180)]
        rows = random.Random(f"{story.seed}:{salt}")
        return cls(
            story=story,
            rng=rows,
            tau=tau,
            rate_scale=rate_scale,
            numbers=numbers,
            bad=dict(zip(bad_numbers, BAD_NUMBER_FAILURES, strict=True)),
            users=users,
        )

    # -- choices --------------------------------------------------------------------------------
    def _campaign(self) -> str:
        r = self.rng.random()
        acc = 0.0
        for cid, _name, _status, _age, share in CAMPAIGNS:
            acc += share
            if r < acc:
                return cid
        return BLACK_FRIDAY

    def _context(self, source: str, extra: dict[str, Any] | None = None) -> str:
        ctx: dict[str, Any] = {"request_id": f"req_{_hex(self.rng, 16)}", "region": "us-east-1"}
        if source in ("send-sms", "campaign-scheduler", "twilio-webhook"):
            ctx["function"] = source
            ctx["execution_id"] = _hex(self.rng, 8) + "-" + _hex(self.rng, 4)
        if extra:
            ctx.update(extra)
        return json.dumps(ctx, separators=(",", ":"))

    def _error(self, at: datetime, level: float) -> ErrorRow:
        m = self.story.minutes_into_spike(at)
        spike_rate = ERRORS_SPIKE * level
        if level > 0 and self.rng.random() < spike_rate / (spike_rate + ERRORS_BASELINE):
            choices = _spike_errors(m)
        else:
            choices = list(BASELINE_ERRORS)
        error_type, message, source, _w = self.rng.choices(choices, weights=[c[3] for c in choices])[0]
        campaign = self._campaign() if source in ("send-sms", "campaign-scheduler", "api/campaigns") else None
        user = (
            self.rng.choice(self.users)
            if source in ("auth", "dashboard", "api/contacts/import", "billing")
            else None
        )
        extra: dict[str, Any] = {}
        if error_type == "TwilioTimeout":
            extra["timeout_ms"] = 10000
        elif error_type == "FunctionsHttpError":
            extra["status"] = 504
        return (at, error_type, message, source, campaign, user, self._context(source, extra))

    def _send(
        self, at: datetime, now: datetime, level: float, retry: tuple[int, str, str] | None
    ) -> SmsRow | None:
        minute = at.replace(second=0, microsecond=0)
        if minute != self._minute:
            self._minute, self._minute_sends, self._minute_fails = minute, 0, 0
        if retry is not None:
            attempt, number, campaign = retry
        else:
            attempt, number, campaign = 1, self.rng.choice(self.numbers), self._campaign()
        spike_p = SMS_FAIL_SPIKE * min(level, 1.3)
        failure: tuple[str | None, str] | None = None
        if number in self.bad:
            failure = self.bad[number]
        elif self.rng.random() < spike_p:
            code, message, _w = self.rng.choices(
                SPIKE_SMS_FAILURES, weights=[f[2] for f in SPIKE_SMS_FAILURES]
            )[0]
            failure = (code, message)
            if code in ("20429", "30001", None, "30008") and attempt < 3:
                delay = timedelta(seconds=self.rng.uniform(20, 90) * attempt)
                self._retry_seq += 1
                heapq.heappush(self._retries, (at + delay, self._retry_seq, attempt + 1, number, campaign))
        elif self.rng.random() < SMS_FAIL_RANDOM:
            failure = self.rng.choice(TRANSIENT_FAILURES)
        # Outside the spike the minute's failure share stays under 1% (as in normal operation).
        over_cap = self._minute_fails + 1 > BASELINE_MINUTE_CAP * (self._minute_sends + 1)
        if failure is not None and spike_p < 0.02 and over_cap:
            if number in self.bad:
                return None  # not sent to this number this time
            failure = None
        self._minute_sends += 1
        if failure is None:
            # Receipts arrive within seconds; the last minute's sends may still be queued or sent.
            age = (now - at).total_seconds()
            pending = age < 60 and self.rng.random() < 0.5 - age / 120
            status = self.rng.choice(("sent", "queued")) if pending else "delivered"
            return (at, campaign, number, status, None, None, f"SM{_hex(self.rng, 32)}")
        self._minute_fails += 1
        code, message = failure
        provider_id = None if code is None or code.startswith("2") else f"SM{_hex(self.rng, 32)}"
        return (at, campaign, number, "failed", code, message, provider_id)

    # -- the rows of an interval ----------------------------------------------------------------------
    def rows(self, start: datetime, end: datetime) -> tuple[list[ErrorRow], list[SmsRow]]:
        """Rows with times in (start, end], following the story (its ``mitigated_at`` included)."""
        errors: list[ErrorRow] = []
        sms: list[SmsRow] = []
        t = start
        while t < end:
            step_end = min(end, t + timedelta(seconds=1))
            dt = (step_end - t).total_seconds() * self.rate_scale
            level = self.story.level(t, self.tau)
            for _ in range(_poisson(self.rng, (ERRORS_BASELINE + ERRORS_SPIKE * level) * dt)):
                errors.append(self._error(t + (step_end - t) * self.rng.random() + _EPS, level))
            sends = _poisson(self.rng, (SMS_BASELINE + SMS_SPIKE_EXTRA * min(level, 1.0)) * dt)
            times = sorted(t + (step_end - t) * self.rng.random() + _EPS for _ in range(sends))
            for at in times:
                retry = None
                if self._retries and self._retries[0][0] <= at:
                    _due, _seq, attempt, number, campaign = heapq.heappop(self._retries)
                    retry = (attempt, number, campaign)
                row = self._send(at, end, level, retry)
                if row is not None:
                    sms.append(row)
            t = step_end
        # Retries due after a mitigation should not resurrect the spike forever.
        while len(self._retries) > 5000:
            heapq.heappop(self._retries)
        errors.sort(key=lambda r: r[0])
        return errors, sms

    def level(self, t: datetime) -> float:
        return self.story.level(t, self.tau)


_EPS = timedelta(microseconds=1)

ERROR_COLUMNS = ("occurred_at", "error_type", "error_message", "source", "campaign_id", "user_id", "context")
SMS_COLUMNS = (
    "created_at",
    "campaign_id",
    "phone_number",
    "delivery_status",
    "error_code",
    "error_message",
    "provider_message_id",
)


# -- the database ----------------------------------------------------------------------------------


def _read_sql(what: str, read: Callable[[], str]) -> str:
    try:
        return read()
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        raise SeedError(f"{what}{where} cannot be read ({exc.strerror or exc})") from None


def playbook_schema_sql() -> str:
    """The playbook's schema, as the console's queries know it (``warroom/sources/sql/schema.sql``)."""
    return _read_sql("the playbook's schema", schema_sql)


def demo_schema_sql() -> str:
    return _read_sql("the demo schema", lambda: DEMO_SCHEMA_SQL.read_text(encoding="utf-8"))


def schema_fingerprint() -> str:
    """A short hash of the schema files (a demo made with other ones is not continued)."""
    digest = hashlib.sha256(playbook_schema_sql().encode() + b"\0" + demo_schema_sql().encode())
    return digest.hexdigest()[:16]


async def create_schema(conn: Any) -> None:
    """The playbook's schema, then the demo's own table (``conn`` is an asyncpg connection)."""
    await conn.execute(playbook_schema_sql())
    await conn.execute(demo_schema_sql())


async def insert_rows(conn: Any, errors: Sequence[ErrorRow], sms: Sequence[SmsRow]) -> None:
    if errors:
        await conn.copy_records_to_table("error_logs", records=errors, columns=ERROR_COLUMNS)
    if sms:
        await conn.copy_records_to_table("sms_delivery_log", records=sms, columns=SMS_COLUMNS)


async def insert_campaigns(conn: Any, now: datetime) -> None:
    rows = [
        (cid, name, status, now - timedelta(days=age), now - timedelta(days=min(age, 0.5)))
        for cid, name, status, age, _share in CAMPAIGNS
    ]
    await conn.executemany(
        "INSERT INTO campaigns (id, name, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5) "
        "ON CONFLICT (id) DO NOTHING",
        rows,
    )


_STORY_FIELDS = (
    "version",
    "schema",
    "origin",
    "deploy_at",
    "spike_at",
    "seed",
    "mitigated_at",
    "incident_id",
    "breach_at",
    "rollback_at",
)


async def write_story(conn: Any, story: Story) -> None:
    cols = ", ".join(_STORY_FIELDS)
    params = ", ".join(f"${i}" for i in range(1, len(_STORY_FIELDS) + 1))
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in _STORY_FIELDS)
    await conn.execute(
        f"INSERT INTO warroom_demo.story (id, {cols}) VALUES (1, {params}) "
        f"ON CONFLICT (id) DO UPDATE SET {updates}",
        *[getattr(story, c) for c in _STORY_FIELDS],
    )


async def read_story(conn: Any) -> Story | None:
    """The stored story, or None when the database holds no (readable, current) demo."""
    exists = await conn.fetchval("SELECT to_regclass('warroom_demo.story') IS NOT NULL")
    if not exists:
        return None
    row = await conn.fetchrow("SELECT * FROM warroom_demo.story WHERE id = 1")
    if row is None or not set(_STORY_FIELDS) <= set(row.keys()):
        return None  # made by another version of the demo
    if row["version"] != STORY_VERSION or row["schema"] != schema_fingerprint():
        return None  # the schema files changed since: the tables may lack what the queries need
    return Story(**{k: row[k] for k in _STORY_FIELDS})


async def update_story(conn: Any, **values: Any) -> None:
    sets = ", ".join(f"{k} = ${i}" for i, k in enumerate(values, start=1))
    await conn.execute(f"UPDATE warroom_demo.story SET {sets} WHERE id = 1", *values.values())


async def newest_row(conn: Any) -> datetime | None:
    """When the newest error or SMS row was written."""
    return await conn.fetchval(
        "SELECT greatest((SELECT max(occurred_at) FROM error_logs), "
        "(SELECT max(created_at) FROM sms_delivery_log))"
    )


async def seed(conn: Any, story: Story, now: datetime) -> tuple[int, int]:
    """Schema, campaigns, the story row and the history up to ``now``, in one transaction.

    Returns the numbers of error and SMS rows written.
    """
    async with conn.transaction():
        await create_schema(conn)
        await insert_campaigns(conn, story.origin)
        await write_story(conn, story)
        traffic = Traffic.for_story(story, salt="history")
        errors, sms = traffic.rows(story.origin - HISTORY, now)
        await insert_rows(conn, errors, sms)
    with contextlib.suppress(Exception):
        await conn.execute("ANALYZE error_logs, sms_delivery_log, campaigns")
    return len(errors), len(sms)


async def backfill(conn: Any, story: Story, since: datetime, now: datetime) -> tuple[int, int]:
    """Rows for the time the demo was not running (at most ``HISTORY``)."""
    start = max(since, now - HISTORY)
    if now - start < timedelta(seconds=1):
        return 0, 0
    traffic = Traffic.for_story(story, salt=f"backfill:{start.isoformat()}")
    errors, sms = traffic.rows(start, now)
    async with conn.transaction():
        await insert_rows(conn, errors, sms)
    return len(errors), len(sms)
