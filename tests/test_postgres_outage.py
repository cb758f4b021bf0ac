"""Outages: the server stops and comes back while the poll loop runs; a server that accepts TCP
connections and never answers; a backend that stops answering mid-session. Nothing crashes,
nothing hangs, the polls say what is going on, and the data flows again."""

from __future__ import annotations

import asyncio
import os
import re
import signal
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from warroom.settings import DatabaseSettings, Settings
from warroom.sources.dbpoll import DbPoll, HealthSnapshot
from warroom.sources.postgres import PostgresSource, schema_sql
from warroom.sources.tallies import TallySnapshot

pytestmark = [pytest.mark.pg, pytest.mark.slow]

PASSWORD = "Outage-pw-7f3a"  # a password for the silent server (the embedded one has its own)
STATUS = re.compile(r"^unreachable since \d\d:\d\d:\d\d - retrying in \d+ s \(attempt (\d+)\): .+$")


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A server of our own, so stopping it does not disturb the other tests."""
    from warroom.demo.embedded import EmbeddedPostgres

    server = EmbeddedPostgres(tmp_path_factory.mktemp("outage") / "pg")
    server.start()
    try:
        yield server
    finally:
        server.release()


def fast_settings(dsn: str, tmp_path: Path) -> Settings:
    return Settings(
        state_dir=tmp_path,
        database=DatabaseSettings(
            dsn=dsn,
            poll_interval=timedelta(milliseconds=200),
            statement_timeout=timedelta(milliseconds=400),
            connect_timeout=timedelta(milliseconds=500),
        ),
    )


class Recorder:
    """Collects emitted polls; lets the test wait for one that matches."""

    def __init__(self) -> None:
        self.polls: list[tuple[datetime, DbPoll]] = []
        self._new = asyncio.Event()

    def __call__(self, poll: DbPoll) -> None:
        self.polls.append((datetime.now(UTC), poll))
        self._new.set()

    async def wait_for(self, cond, after: int = 0, within: float = 20) -> tuple[int, DbPoll]:  # type: ignore[no-untyped-def]
        async def scan() -> tuple[int, DbPoll]:
            i = after
            while True:
                while i < len(self.polls):
                    if cond(self.polls[i][1]):
                        return i, self.polls[i][1]
                    i += 1
                self._new.clear()
                await self._new.wait()

        return await asyncio.wait_for(scan(), within)


async def test_the_server_stops_and_comes_back(own_server, tmp_path):
    admin = await asyncpg.connect(own_server.dsn())
    await admin.execute("DROP DATABASE IF EXISTS outage WITH (FORCE)")
    await admin.execute("CREATE DATABASE outage")
    await admin.close()
    setup = await asyncpg.connect(own_server.dsn("outage"))
    await setup.execute(schema_sql())
    await setup.execute("INSERT INTO error_logs (error_type, error_message) VALUES ('E', 'before')")
    await setup.close()

    dsn = own_server.dsn("outage")  # it carries the server's own random password
    secret = own_server.password  # type: ignore[attr-defined]
    cap = 1.0
    source = PostgresSource(fast_settings(dsn, tmp_path), declared_at=None, backoff_base=0.2, backoff_cap=cap)
    rec = Recorder()
    stop = asyncio.Event()
    task = asyncio.create_task(source.run(rec, stop))
    try:
        _, first = await rec.wait_for(lambda p: p.connected and isinstance(p.errors, TallySnapshot))
        port = own_server.port

        await asyncio.to_thread(own_server.pause)
        after_pause = len(rec.polls)
        # The first poll after the stop says unreachable (one cycle may have been under way).
        i, down = await rec.wait_for(lambda p: not p.connected, after=after_pause)
        assert i - after_pause <= 1, "unreachable within two poll intervals"
        st = down.connection
        assert st.status == "unreachable" and st.attempt >= 1 and st.retry_at is not None
        assert st.since is not None and st.since >= first.fetched_at
        assert st.last_error and secret not in st.last_error
        assert STATUS.match(down.status_line()), down.status_line()
        assert secret not in down.status_line() and secret not in st.dsn
        # The last good data stays, older than the poll: the pane dims it.
        assert isinstance(down.errors, TallySnapshot) and isinstance(down.health, HealthSnapshot)
        assert down.is_stale(down.errors) and down.errors.fetched_at <= st.since

        # Attempts go on, one more each time, never more than the cap apart.
        await rec.wait_for(lambda p: p.connection.attempt >= 4, after=i)
        failed = [p for _, p in rec.polls[i:] if not p.connected]
        attempts = [p.connection.attempt for p in failed]
        assert attempts == list(range(attempts[0], attempts[0] + len(attempts))) and attempts[-1] >= 4
        assert all(p.connection.since == st.since for p in failed), "unreachable since the first failure"
        assert all(p.retry_in is not None and p.retry_in <= cap for p in failed)
        assert not task.done()

        await asyncio.to_thread(own_server.resume)
        assert own_server.port == port, "the server came back on its port"
        resumed = len(rec.polls)
        last_retry = rec.polls[-1][1].connection.retry_at
        # Back: health first (the cheap queries), the tallies' full read after it.
        j, back = await rec.wait_for(lambda p: p.connected, after=resumed)
        assert isinstance(back.health, HealthSnapshot) and not back.is_stale(back.health)
        _, up = await rec.wait_for(
            lambda p: p.connected and isinstance(p.errors, TallySnapshot) and not p.is_stale(p.errors),
            after=j,
        )
        assert last_retry is not None and up.fetched_at <= last_retry + timedelta(seconds=cap + 5)
        assert isinstance(up.errors, TallySnapshot)
        assert up.errors.full_read, "a reconnect re-reads the window"
        assert up.errors.fetched_at > down.fetched_at and not up.is_stale(up.errors)
        assert up.connection.attempt == 0 and up.connection.last_error == ""
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=15)
        if not own_server.running:
            own_server.resume()


async def test_a_backend_that_stops_answering_mid_session(own_server, tmp_path):
    dsn = own_server.dsn()
    source = PostgresSource(fast_settings(dsn, tmp_path), declared_at=None, backoff_cap=1.0)
    p = await source.poll_once()
    assert p.connected
    pid = source._session.conn.get_server_pid()  # type: ignore[union-attr]
    os.kill(pid, signal.SIGSTOP)  # the backend freezes: the socket stays open, nothing answers
    try:
        p = await asyncio.wait_for(source.poll_once(), timeout=15)
        assert p.connection.status == "unreachable"
        assert p.connection.last_error == "no answer within the timeout"
        assert source._session is None, "the stuck connection was dropped"
        p = await asyncio.wait_for(source.poll_once(), timeout=15)
        assert p.connected, "a new connection works"
    finally:
        os.kill(pid, signal.SIGCONT)
        await source.close()


async def test_a_server_that_accepts_and_never_answers(tmp_path):
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)  # accept, read nothing, answer nothing

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    dsn = f"postgresql://watcher:{PASSWORD}@127.0.0.1:{port}/app"
    source = PostgresSource(fast_settings(dsn, tmp_path), declared_at=None, backoff_cap=1.0)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticking = asyncio.create_task(ticker())
    try:
        p = await asyncio.wait_for(source.poll_once(), timeout=10)
        assert held, "the connection was accepted"
        assert ticks >= 3, "the event loop kept running while the connection hung"
        st = p.connection
        assert st.status == "unreachable" and st.attempt == 2 and st.retry_at is not None
        assert st.last_error == "no answer within the timeout"
        assert STATUS.match(p.status_line())
        assert PASSWORD not in p.status_line()

        # The loop: keeps trying, stays stoppable.
        rec = Recorder()
        stop = asyncio.Event()
        task = asyncio.create_task(source.run(rec, stop))
        await rec.wait_for(lambda p: p.connection.attempt >= 3)
        stop.set()
        await asyncio.wait_for(task, timeout=10)
        assert all(not p.connected for _, p in rec.polls)
    finally:
        ticking.cancel()
        server.close()
        for w in held:
            w.close()
        await server.wait_closed()


async def test_nothing_listening(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    source = PostgresSource(
        fast_settings(f"postgresql://u@127.0.0.1:{port}/x", tmp_path), declared_at=None, backoff_cap=1.0
    )
    p = await asyncio.wait_for(source.poll_once(), timeout=10)
    assert p.connection.status == "unreachable"
    assert p.connection.last_error == "connection refused"
