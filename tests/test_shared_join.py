"""`warroom join ID`: a shared incident opened on another machine from nothing but the shared
DSN; `warroom declare` with a shared database hands out ids unique across the team."""

from __future__ import annotations

from pathlib import Path

import pytest

from test_shared_schema import cli_env, password_of, warroom_cli
from warroom.incident.journal import Journal

pytestmark = pytest.mark.pg


async def test_declare_then_join_from_another_machine(pg_dsn: str, tmp_path: Path) -> None:
    ana = cli_env(tmp_path / "ana", pg_dsn)
    bob = cli_env(tmp_path / "bob", pg_dsn)
    assert warroom_cli(ana, "shared", "init").returncode == 0
    first = warroom_cli(ana, "--user", "ana", "declare", "-s", "P0", "-t", "Database completely down")
    assert first.returncode == 0 and first.stderr == "", first.stderr
    incident_id = first.stdout.strip()
    # Bob declares another incident the same day: the team's next number, not his journal's 001.
    other = warroom_cli(bob, "--user", "bob", "declare", "-s", "P2", "-t", "Slow exports")
    assert other.returncode == 0, other.stderr
    assert other.stdout.strip() != incident_id
    assert int(other.stdout.strip()[-3:]) == int(incident_id[-3:]) + 1

    joined = warroom_cli(bob, "--user", "bob", "join", incident_id, "--no-console")
    assert joined.returncode == 0, joined.stderr
    assert f"{incident_id}: 1 event pulled from the shared database" in joined.stderr
    assert password_of(pg_dsn) not in joined.stdout + joined.stderr
    with Journal(Path(bob["WARROOM_STATE_DIR"]) / "journal.sqlite3") as j:
        inc = j.load(incident_id)
    assert (inc.title, inc.severity, inc.declared_by) == ("Database completely down", "P0", "ana")
    listed = warroom_cli(bob, "list")
    assert incident_id in listed.stdout and "Database completely down" in listed.stdout


async def test_join_refuses_what_it_cannot_open_in_one_line(pg_dsn: str, tmp_path: Path) -> None:
    env = cli_env(tmp_path, pg_dsn)
    p = warroom_cli(env, "join", "INC-2026-11-26-001", "--no-console")
    assert p.returncode == 1 and p.stderr.count("\n") == 1
    assert "no warroom schema yet: run `warroom shared init`" in p.stderr
    assert warroom_cli(env, "shared", "init").returncode == 0
    p = warroom_cli(env, "join", "INC-2026-11-26-001", "--no-console")
    assert p.returncode == 1
    assert p.stderr.strip() == "warroom: join: the shared database has no incident INC-2026-11-26-001"
    p = warroom_cli(env, "join", "nonsense\x1b[2J", "--no-console")
    assert p.returncode == 2 and "\x1b" not in p.stderr and "is not an incident id" in p.stderr
    p = warroom_cli(cli_env(tmp_path / "none", None), "join", "INC-2026-11-26-001")
    assert p.returncode == 2 and "no shared database" in p.stderr


async def test_check_probes_the_shared_database(pg_dsn: str, tmp_path: Path) -> None:
    env = cli_env(tmp_path, pg_dsn)
    p = warroom_cli(env, "check")
    assert "shared: the shared database has no warroom schema yet: run `warroom shared init`" in p.stdout
    assert p.returncode == 1
    assert warroom_cli(env, "shared", "init").returncode == 0
    assert warroom_cli(env, "declare", "-s", "P2", "-t", "x").returncode == 0
    p = warroom_cli(env, "check")
    assert "shared: ok (warroom schema 1, 1 incident shared)" in p.stdout
    assert password_of(pg_dsn) not in p.stdout + p.stderr
