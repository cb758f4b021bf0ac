"""`warroom shared init`: the shared war room's schema on a real PostgreSQL (idempotent, versioned),
and the [shared] settings (the DSN's password masked everywhere)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

import warroom
from warroom.config import ConfigError, load_settings
from warroom.shared.schema import SCHEMA_VERSION

pytestmark = pytest.mark.pg


def cli_env(tmp_path: Path, shared_dsn: str | None) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("WARROOM_") and k != "DATABASE_URL"}
    e.update(
        XDG_CONFIG_HOME=str(tmp_path / "xdg-config"),
        XDG_DATA_HOME=str(tmp_path / "xdg-data"),
        WARROOM_STATE_DIR=str(tmp_path / "state"),
        TZ="UTC",
        PYTHONPATH=str(Path(warroom.__file__).resolve().parents[1]),
    )
    if shared_dsn is not None:
        e["WARROOM_SHARED_DSN"] = shared_dsn
    (tmp_path / "cwd").mkdir(parents=True, exist_ok=True)
    return e


def warroom_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "warroom", *args],
        env=env,
        cwd=Path(env["WARROOM_STATE_DIR"]).parent / "cwd",
        capture_output=True,
        text=True,
        timeout=60,
    )


def password_of(dsn: str) -> str:
    return dsn.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]


async def test_init_creates_the_schema_once(pg_dsn: str, tmp_path: Path) -> None:
    env = cli_env(tmp_path, pg_dsn)
    first = warroom_cli(env, "shared", "init")
    assert first.returncode == 0, first.stderr
    assert "shared war room ready" in first.stdout
    assert f"(schema {SCHEMA_VERSION})" in first.stdout
    again = warroom_cli(env, "shared", "init")
    assert again.returncode == 0, again.stderr
    assert "already set up" in again.stdout and "nothing changed" in again.stdout
    for p in (first, again):
        assert password_of(pg_dsn) not in p.stdout + p.stderr
        assert "***" in p.stdout
    conn = await asyncpg.connect(pg_dsn)
    try:
        assert await conn.fetch("SELECT version FROM warroom_schema") == [(SCHEMA_VERSION,)]
        tables = {
            r[0]
            for r in await conn.fetch(
                "SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'warroom_%'"
            )
        }
        assert tables == {"warroom_schema", "warroom_incidents", "warroom_events", "warroom_presence"}
    finally:
        await conn.close()


async def test_a_newer_schema_is_refused(pg_dsn: str, tmp_path: Path) -> None:
    env = cli_env(tmp_path, pg_dsn)
    assert warroom_cli(env, "shared", "init").returncode == 0
    conn = await asyncpg.connect(pg_dsn)
    try:
        await conn.execute("INSERT INTO warroom_schema (version) VALUES ($1)", SCHEMA_VERSION + 1)
    finally:
        await conn.close()
    p = warroom_cli(env, "shared", "init")
    assert p.returncode == 1
    assert p.stderr.count("\n") == 1 and "Traceback" not in p.stderr
    assert f"schema {SCHEMA_VERSION + 1}" in p.stderr and "upgrade warroom" in p.stderr


def test_init_without_a_shared_database_says_how_to_give_one(tmp_path: Path) -> None:
    p = warroom_cli(cli_env(tmp_path, None), "shared", "init")
    assert p.returncode == 2
    assert p.stderr.strip() == (
        "warroom: shared init: no shared database: set [shared] dsn in warroom.toml or WARROOM_SHARED_DSN"
    )


def test_an_unreachable_shared_database_is_one_line_and_masked(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed when the block ends: nothing listens there
    dsn = f"postgresql://team:hunter2-shared@127.0.0.1:{port}/warroom"
    p = warroom_cli(cli_env(tmp_path, dsn), "shared", "init")
    assert p.returncode == 1
    assert p.stderr.count("\n") == 1 and "Traceback" not in p.stderr
    assert "cannot be reached" in p.stderr
    assert "hunter2-shared" not in p.stderr


def test_the_shared_dsn_comes_from_the_file_or_the_environment_masked(tmp_path: Path) -> None:
    cfg = tmp_path / "team.toml"
    cfg.write_text('[shared]\ndsn = "postgresql://team:in-the-file-pw@db.internal/warroom"\n')
    s = load_settings(config=cfg, env={}, state_dir=tmp_path / "state", user="ana")
    assert s.shared.dsn.endswith("@db.internal/warroom") and s.shared.configured
    lines = "\n".join(s.describe())
    assert "in-the-file-pw" not in lines
    assert "dsn                 = postgresql://team:***@db.internal/warroom" in lines
    env = {"WARROOM_SHARED_DSN": "postgresql://team:from-env-pw@other/warroom"}
    s = load_settings(config=cfg, env=env, state_dir=tmp_path / "state", user="ana")
    assert s.shared.dsn == "postgresql://team:from-env-pw@other/warroom"
    assert "(from WARROOM_SHARED_DSN)" in "\n".join(s.describe())
    from warroom.text import clean

    assert "from-env-pw" not in clean(f"connect failed for {s.shared.dsn}")  # registered as a secret


def test_a_shared_dsn_with_an_unencoded_password_is_refused(tmp_path: Path) -> None:
    env = {"WARROOM_SHARED_DSN": "postgresql://team:a/b@db/warroom"}
    with pytest.raises(ConfigError, match=r"^WARROOM_SHARED_DSN: the DSN's password has an unencoded"):
        load_settings(config=None, env=env, state_dir=tmp_path / "state", user="ana")
