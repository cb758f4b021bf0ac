"""Shared fixtures: a real embedded PostgreSQL per test session, a fresh database per test,
a manual clock, and a temporary state dir."""

from __future__ import annotations

import asyncio
import atexit
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

# Tests never read the user's real configuration or state, nor write to them (the trust store,
# user themes and config live under XDG_CONFIG_HOME).
_ISOLATED = Path(tempfile.mkdtemp(prefix="warroom-tests-"))
atexit.register(shutil.rmtree, _ISOLATED, ignore_errors=True)
os.environ["XDG_CONFIG_HOME"] = str(_ISOLATED / "config")
os.environ["XDG_DATA_HOME"] = str(_ISOLATED / "data")
os.environ.pop("WARROOM_DSN", None)
os.environ.pop("DATABASE_URL", None)
os.environ.pop("WARROOM_CONFIG", None)
os.environ.pop("WARROOM_STATE_DIR", None)
for _var in (
    "WARROOM_PAGERDUTY_ROUTING_KEY",
    "WARROOM_SLACK_WEBHOOK_URL",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "WARROOM_ACTION_DSN",
):
    os.environ.pop(_var, None)  # the integrations: configured only where a test says so


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 26, 14, 0, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now

    def set(self, when: datetime) -> None:
        self.now = when


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    d = tmp_path / "state"
    d.mkdir(mode=0o700)  # as warroom makes it (an open one is tightened, and said so)
    return d


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """One embedded PostgreSQL for the whole session (per xdist worker)."""
    from warroom.demo.embedded import EmbeddedPostgres

    root = tmp_path_factory.mktemp("pg")
    server = EmbeddedPostgres(root)
    server.start()
    try:
        yield server
    finally:
        server.release()
        server.remove()  # as root the cluster lives under /var/lib/warroom-demo: do not leave it


@pytest.fixture
async def pg_dsn(pg_server: object) -> AsyncIterator[str]:
    """A fresh, empty database on the session server; dropped after the test."""
    import asyncpg

    admin_dsn = pg_server.dsn()  # type: ignore[attr-defined]
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield pg_server.dsn(name)  # type: ignore[attr-defined]
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def run(coro):  # type: ignore[no-untyped-def]
    """Run a coroutine from synchronous test code."""
    return asyncio.run(coro)
