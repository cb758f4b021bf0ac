"""A warroom.toml is untrusted text and code: a found one runs only once trusted, its strings never
reach the terminal raw, and `warroom check` says truthfully what works."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from test_cli import env, one_line_error, run  # noqa: F401 - a fixture
from warroom.config import ConfigError, load_settings
from warroom.text import dsn_password, mask_dsn, register_dsn

ESC = "\\u001b]0;PWNED\\u0007"  # in TOML: the escape sequence, written as TOML escapes


@pytest.mark.parametrize(
    ("toml", "where"),
    [
        (f'[incident]\nuser = "mallory{ESC}"\n', "[incident] user"),
        (f'[playbook.phases.triage]\nname = "Triage{ESC}"\n', "[playbook.phases.triage] name"),
        (f'[playbook.checklists]\ninvestigation = ["ok", "x{ESC}"]\n', "[playbook.checklists] investigation"),
        ('[playbook.severities.P0]\nname = "Crit\\u202eical"\n', "[playbook.severities.P0] name"),
        (f'[[status_pages]]\nname = "Twilio{ESC}"\nurl = "https://status.twilio.com"\n', "name"),
        (f'[[playbook.escalation]]\nlevel = 1\nname = "On-call{ESC}"\nafter = "0m"\n', "name"),
        (f'[ui]\ntheme = "dark{ESC}"\n', "[ui] theme"),
    ],
)
def test_control_characters_in_configuration_text_are_refused(tmp_path: Path, toml: str, where: str) -> None:
    path = tmp_path / "team.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError) as info:
        load_settings(config=path, env={}, state_dir=tmp_path / "state")
    message = str(info.value)
    assert "\n" not in message and "\x1b" not in message and "\u202e" not in message
    assert where in message and "control characters" in message


@pytest.mark.parametrize(
    "channel",
    [
        "#incident-{slug:>50000000}",
        "#incident-{slug:500}",
        "#" + "x" * 200,
        "#incident-{severity}-{slug}" * 3,
    ],
)
def test_a_channel_pattern_is_bounded(tmp_path: Path, channel: str) -> None:
    path = tmp_path / "team.toml"
    path.write_text(f'[playbook.severities.P1]\nchannel = "{channel}"\n')
    with pytest.raises(ConfigError, match=r"\[playbook.severities.P1\] channel"):
        load_settings(config=path, env={}, state_dir=tmp_path / "state")


def test_a_status_page_url_is_printable_ascii(tmp_path: Path) -> None:
    path = tmp_path / "team.toml"
    path.write_text(f'[[status_pages]]\nname = "X"\nurl = "https://status.example.com/{ESC}"\n')
    with pytest.raises(ConfigError, match="control characters"):
        load_settings(config=path, env={}, state_dir=tmp_path / "state")
    path.write_text('[[status_pages]]\nname = "X"\nurl = "https://stat us.example.com"\n')
    with pytest.raises(ConfigError, match="url"):
        load_settings(config=path, env={}, state_dir=tmp_path / "state")


def test_a_relative_state_dir_in_the_environment_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="WARROOM_STATE_DIR: expected an absolute path"):
        load_settings(config=None, env={"WARROOM_STATE_DIR": "state"})
    settings = load_settings(config=None, env={}, state_dir=Path("relative-state"))
    assert settings.state_dir == Path.cwd() / "relative-state"  # a flag is relative to here


@pytest.mark.parametrize(
    "dsn",
    [
        "postgresql://u@db.internal/app?sslmode=verify-full&sslpassword=Key-pw-1234&password=Pw-5678",
        "host=db.internal user=u sslpassword='Key-pw-1234' password=Pw-5678",
    ],
)
def test_every_password_in_a_dsn_is_masked(dsn: str) -> None:
    masked = mask_dsn(dsn)
    assert "Key-pw-1234" not in masked and "Pw-5678" not in masked
    assert masked.count("***") == 2
    register_dsn(dsn)
    from warroom.text import clean

    assert "Key-pw-1234" not in clean(f"error: bad key Key-pw-1234 for {dsn}")
    assert dsn_password("postgresql://u@h/d?sslpassword=Key-pw-1234") == "Key-pw-1234"


# -- trusting a found warroom.toml -----------------------------------------------------------------


def test_a_found_configuration_runs_only_once_trusted(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    cwd = tmp_path / "cwd"
    (cwd / "sql").mkdir()
    (cwd / "sql" / "rate.sql").write_text("SELECT 0.5\n")
    (cwd / "warroom.toml").write_text('[database.queries]\nerror_rate = "sql/rate.sql"\n')
    message = one_line_error(run(env, "list"))
    assert str(cwd / "warroom.toml") in message and "not trusted yet" in message
    assert "warroom trust" in message

    trusted = run(env, "trust")
    assert trusted.returncode == 0, trusted.stderr
    assert "and the 1 file it names" in trusted.stdout
    assert run(env, "list").returncode == 0

    (cwd / "sql" / "rate.sql").write_text("SELECT 1 FROM pg_sleep(100)\n")  # a named query changes
    message = one_line_error(run(env, "list"))
    assert "changed since it was trusted" in message
    assert run(env, "trust").returncode == 0
    assert run(env, "list").returncode == 0
    # naming it explicitly is the user's choice: no trust needed
    fresh = dict(env, XDG_CONFIG_HOME=str(tmp_path / "other-config"))
    assert run(fresh, "--config", str(cwd / "warroom.toml"), "list").returncode == 0


# -- warroom check ------------------------------------------------------------------------------------


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("chattr") is None, reason="needs chattr as root")
def test_check_says_when_the_journal_cannot_be_written(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    assert run(env, "declare", "-s", "P2", "-t", "x").returncode == 0
    journal = tmp_path / "state" / "journal.sqlite3"
    if subprocess.run(["chattr", "+i", str(journal)], capture_output=True).returncode != 0:
        pytest.skip("the file system does not take chattr +i")
    try:
        p = run(env, "check")
    finally:
        subprocess.run(["chattr", "-i", str(journal)], check=True)
    assert p.returncode == 1
    assert f"journal {journal}: cannot be written (attempt to write a readonly database)" in p.stdout
    assert "journal ok" not in p.stdout
