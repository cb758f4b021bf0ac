"""The shared database's schema: created by ``warroom shared init`` (idempotent, versioned).

Tables (all prefixed ``warroom_``, so a team may put them in a database it uses for other things):

- ``warroom_schema``: one row, the schema version (a newer one is refused, an older one upgraded);
- ``warroom_incidents``: the incident ids handed out to the team (numbered per UTC day inside one
  transaction under an advisory lock: no two consoles get the same id), with the event id of the
  incident's declaration once pushed (a console that declared offline with an id the team has
  given to another incident finds out here);
- ``warroom_events``: every console's events, ``event_id`` unique (a replay inserts nothing
  twice), ``gseq`` the order they reached the database in (per incident, pushes hold a lock, so a
  reader that has seen ``gseq`` n has seen every event of that incident below it);
- ``warroom_presence``: who has the incident open, and when their console last said so.

Every insert into ``warroom_events`` notifies :data:`CHANNEL` with the incident id.
"""

from __future__ import annotations

from typing import Any

from warroom.text import clean, counted

SCHEMA_VERSION = 1
CHANNEL = "warroom_events"
INIT_LOCK = 0x57524F4D01  # the advisory lock `warroom shared init` holds while it creates tables
INIT_COMMAND = "warroom shared init"

_DDL = """
CREATE TABLE IF NOT EXISTS warroom_schema (
    version      integer NOT NULL,
    installed_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS warroom_incidents (
    id          text PRIMARY KEY,
    day         text NOT NULL,
    number      integer NOT NULL,
    claimed_by  text NOT NULL,
    claimed_at  timestamptz NOT NULL DEFAULT now(),
    declaration text UNIQUE,
    UNIQUE (day, number)
);
CREATE TABLE IF NOT EXISTS warroom_events (
    gseq        bigserial PRIMARY KEY,
    event_id    text NOT NULL UNIQUE,
    incident_id text NOT NULL REFERENCES warroom_incidents (id),
    at          text NOT NULL,
    actor       text NOT NULL,
    kind        text NOT NULL,
    data        text NOT NULL,
    pushed_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS warroom_events_by_incident ON warroom_events (incident_id, gseq);
CREATE TABLE IF NOT EXISTS warroom_presence (
    incident_id text NOT NULL,
    console     text NOT NULL,
    who         text NOT NULL,
    seen        timestamptz NOT NULL,
    PRIMARY KEY (incident_id, console)
);
CREATE OR REPLACE FUNCTION warroom_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('warroom_events', NEW.incident_id);
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS warroom_events_notify ON warroom_events;
CREATE TRIGGER warroom_events_notify AFTER INSERT ON warroom_events
    FOR EACH ROW EXECUTE FUNCTION warroom_notify();
"""


class SharedError(Exception):
    """The shared database cannot be used; the message is one line, its password masked."""


def why(exc: BaseException) -> str:
    """One line saying what went wrong talking to the shared database (secrets masked)."""
    if isinstance(exc, SharedError):
        return str(exc)
    if isinstance(exc, TimeoutError):
        return "the shared database did not answer in time"
    if isinstance(exc, OSError) and exc.strerror:
        return f"the shared database cannot be reached ({clean(exc.strerror, max_len=200)})"
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"the shared database: {clean(text, max_len=300)}"


async def connect(dsn: str, wait: float) -> Any:
    """A connection to the shared database (asyncpg, imported here: only its users load it)."""
    import asyncpg

    return await asyncpg.connect(
        dsn,
        timeout=wait,
        command_timeout=max(wait, 5.0),
        server_settings={"application_name": "warroom-shared"},
    )


async def version(conn: Any) -> int:
    """The schema version of the shared database (0: none)."""
    exists = await conn.fetchval("SELECT to_regclass('warroom_schema') IS NOT NULL")
    if not exists:
        return 0
    found = await conn.fetchval("SELECT max(version) FROM warroom_schema")
    return int(found or 0)


async def init(conn: Any) -> tuple[int, bool]:
    """Create (or complete) the schema; returns (version, whether anything was created). Safe to
    run again, and from two machines at once (an advisory lock orders them)."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", INIT_LOCK)
        before = await version(conn)
        if before > SCHEMA_VERSION:
            raise SharedError(
                f"the shared database has warroom schema {before}; this warroom knows up to "
                f"{SCHEMA_VERSION}: upgrade warroom"
            )
        if before == SCHEMA_VERSION:
            return before, False
        await conn.execute(_DDL)
        await conn.execute("INSERT INTO warroom_schema (version) VALUES ($1)", SCHEMA_VERSION)
    return SCHEMA_VERSION, True


async def check(conn: Any) -> None:
    """Refuse a shared database without warroom's schema (or with a newer one), in one line."""
    found = await version(conn)
    if found == 0:
        raise SharedError(f"the shared database has no warroom schema yet: run `{INIT_COMMAND}`")
    if found > SCHEMA_VERSION:
        raise SharedError(
            f"the shared database has warroom schema {found}; this warroom knows up to "
            f"{SCHEMA_VERSION}: upgrade warroom"
        )
    if found < SCHEMA_VERSION:
        raise SharedError(f"the shared database has an older warroom schema: run `{INIT_COMMAND}`")


async def probe(dsn: str, wait: float) -> tuple[bool, str]:
    """For ``warroom check``: whether the shared database can be used, and one line saying so."""
    try:
        conn = await connect(dsn, wait)
    except Exception as exc:
        return False, f"shared: {why(exc)}"
    try:
        await check(conn)
        count = await conn.fetchval("SELECT count(*) FROM warroom_incidents")
        return True, f"shared: ok (warroom schema {SCHEMA_VERSION}, {counted(count, 'incident')} shared)"
    except Exception as exc:
        return False, f"shared: {why(exc)}"
    finally:
        await conn.close()
