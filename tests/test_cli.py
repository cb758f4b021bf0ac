"""The ``warroom`` command: run for real (``python -m warroom``) and through Click's runner."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

import warroom
from conftest import ManualClock
from warroom.cli import main
from warroom.incident import events as ev
from warroom.incident.journal import Journal

ID = re.compile(r"INC-\d{4}-\d{2}-\d{2}-\d{3}")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A clean environment: no user config, state in tmp, a fixed zone."""
    e = {k: v for k, v in os.environ.items() if not k.startswith("WARROOM_") and k != "DATABASE_URL"}
    e.update(
        XDG_CONFIG_HOME=str(tmp_path / "xdg-config"),
        XDG_DATA_HOME=str(tmp_path / "xdg-data"),
        WARROOM_STATE_DIR=str(tmp_path / "state"),
        TZ="UTC",
        PYTHONPATH=str(Path(warroom.__file__).resolve().parents[1]),
        COLUMNS="100",
    )
    (tmp_path / "cwd").mkdir()
    return e


def run(
    env: dict[str, str], *args: str, cwd: Path | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m warroom ARGS`` as a real process."""
    return subprocess.run(
        [sys.executable, "-m", "warroom", *args],
        env=env,
        cwd=cwd or Path(env["WARROOM_STATE_DIR"]).parent / "cwd",
        capture_output=True,
        text=True,
        timeout=60,
        input=stdin,
    )


def one_line_error(p: subprocess.CompletedProcess[str], status: int = 2) -> str:
    assert p.returncode == status, (p.returncode, p.stdout, p.stderr)
    assert "Traceback" not in p.stderr
    assert p.stdout == ""
    lines = p.stderr.splitlines()
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("warroom: ")
    return lines[0].removeprefix("warroom: ")


# -- declare -----------------------------------------------------------------------------------


def test_declare_prints_the_id_alone(env: dict[str, str], tmp_path: Path) -> None:
    p = run(
        env, "declare", "--severity", "P0", "--title", "Database completely down", "--impact", "all users"
    )
    assert p.returncode == 0, p.stderr
    assert ID.fullmatch(p.stdout.removesuffix("\n"))
    assert p.stdout.count("\n") == 1
    assert p.stderr == ""
    incident_id = p.stdout.strip()
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert incident_id in (
        f"INC-{today}-001",
        f"INC-{(datetime.now(UTC) - timedelta(minutes=1)):%Y-%m-%d}-001",
    )
    # It is in the journal, as declared, by the login name (or --user).
    p2 = run(env, "declare", "-s", "p2", "-t", "Slow queries", "--lead", "ana", "--user", "bo")
    assert p2.returncode == 0 and ID.fullmatch(p2.stdout.strip())
    with Journal(tmp_path / "state" / "journal.sqlite3") as j:
        first, second = j.incidents()
    assert (first.id, first.severity, first.title, first.impact) == (
        incident_id,
        "P0",
        "Database completely down",
        "all users",
    )
    assert first.channel.startswith("#incident-") and first.deploy_freeze
    assert (second.severity, second.lead, second.declared_by) == ("P2", "ana", "bo")
    assert int(second.id[-3:]) == int(first.id[-3:]) + 1 or second.id[:-4] != first.id[:-4]


def test_declare_cleans_the_title(env: dict[str, str], tmp_path: Path) -> None:
    p = run(env, "declare", "-s", "P1", "-t", "SMS \x1b[31mdown\x1b[0m\u202e now\x07")
    assert p.returncode == 0, p.stderr
    with Journal(tmp_path / "state" / "journal.sqlite3") as j:
        (inc,) = j.incidents()
    assert inc.title == "SMS down now"


def test_declare_with_flags_before_the_command(env: dict[str, str], tmp_path: Path) -> None:
    other = tmp_path / "other-state"
    p = run(env, "--state-dir", str(other), "declare", "-s", "P3", "-t", "Typo")
    assert p.returncode == 0, p.stderr
    assert (other / "journal.sqlite3").is_file()
    assert not (tmp_path / "state").exists()


# -- list --------------------------------------------------------------------------------------


def _journal_with_history(path: Path) -> list[str]:
    clock = ManualClock(datetime(2025, 11, 26, 14, 0, tzinfo=UTC))
    with Journal(path, actor="ana", clock=clock) as j:
        a = j.declare("P0", "Database completely down").incident_id
        clock.advance(minutes=83, seconds=20)
        j.append(a, ev.Resolved())
        clock.set(datetime(2025, 11, 27, 8, 30, tzinfo=UTC))
        b = j.declare("P2", "Slow queries").incident_id
        clock.advance(minutes=4, seconds=5)
        j.append(b, ev.Closed(reason="duplicate"))
        clock.set(datetime(2025, 11, 27, 9, 0, tzinfo=UTC))
        c = j.declare("P1", "SMS \x1b]0;pwned\x07\u202edelivery failing").incident_id  # not cleaned
    return [a, b, c]


LIST_ROW = re.compile(
    r"(?P<id>INC-\S+)  +(?P<sev>P\d)  +(?P<status>\S+)  +(?P<started>\d{4}-\d\d-\d\d \d\d:\d\d \S+)"
    r"  +(?P<duration>\d+[dhms](?: \d\d[hms])?)  (?P<title>.*)"
)


def list_rows(stdout: str) -> list[dict[str, str]]:
    lines = stdout.splitlines()
    assert lines[0].split() == ["ID", "SEV", "STATUS", "STARTED", "DURATION", "TITLE"]
    rows = []
    for line in lines[1:]:
        m = LIST_ROW.fullmatch(line)
        assert m, line
        rows.append(m.groupdict())
    # The columns line up: starts under STARTED, durations right-aligned under DURATION.
    assert {line.index(r["started"]) for line, r in zip(lines[1:], rows, strict=True)} == {
        lines[0].index("STARTED")
    }
    duration_end = lines[0].index("DURATION") + len("DURATION")
    ends = {
        line.index(r["duration"] + "  " + r["title"]) + len(r["duration"])
        for line, r in zip(lines[1:], rows, strict=True)
    }
    assert len(ends) == 1 and ends.pop() >= duration_end
    return rows


def test_list_columns_in_local_time_with_zone(env: dict[str, str], tmp_path: Path) -> None:
    a, b, c = _journal_with_history(tmp_path / "state" / "journal.sqlite3")
    p = run({**env, "TZ": "America/New_York"}, "list")
    assert p.returncode == 0, p.stderr
    rows = list_rows(p.stdout)
    # Newest first; start in the local zone (EST); durations frozen at resolution or closing.
    assert [(r["id"], r["sev"], r["status"], r["started"]) for r in rows] == [
        (c, "P1", "Investigating", "2025-11-27 04:00 EST"),
        (b, "P2", "Closed", "2025-11-27 03:30 EST"),
        (a, "P0", "Resolved", "2025-11-26 09:00 EST"),
    ]
    assert [r["duration"] for r in rows[1:]] == ["4m 05s", "1h 23m"]  # one format everywhere
    days = int(rows[0]["duration"].split("d")[0])
    assert days >= 300  # still open since November 2025
    # Titles are cleaned on the way out, even if the journal holds escape sequences.
    assert [r["title"] for r in rows] == ["SMS delivery failing", "Slow queries", "Database completely down"]
    assert "\x1b" not in p.stdout and "\u202e" not in p.stdout


def test_list_uses_the_configured_zone_and_open_filter(env: dict[str, str], tmp_path: Path) -> None:
    *_, c = _journal_with_history(tmp_path / "state" / "journal.sqlite3")
    conf = tmp_path / "conf.toml"
    conf.write_text('[incident]\ntimezone = "Europe/Berlin"\n')
    p = run(env, "list", "--open", "--config", str(conf))
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert len(lines) == 2
    assert lines[1].startswith(f"{c}  P1   Investigating  2025-11-27 10:00 CET  ")


def test_list_when_empty(env: dict[str, str], tmp_path: Path) -> None:
    p = run(env, "list")
    assert (p.returncode, p.stderr) == (0, "")
    assert p.stdout == f"no incidents in {tmp_path / 'state' / 'journal.sqlite3'}\n"
    p = run(env, "list", "--open")
    assert p.stdout == f"no incidents open in {tmp_path / 'state' / 'journal.sqlite3'}\n"


# -- version and help ----------------------------------------------------------------------------


def test_version(env: dict[str, str]) -> None:
    p = run(env, "--version")
    assert (p.returncode, p.stdout, p.stderr) == (0, f"warroom {warroom.__version__}\n", "")


def test_help_on_every_command(env: dict[str, str]) -> None:
    runner = CliRunner()
    for args in (["--help"], ["-h"]):
        result = runner.invoke(main, args, env=env, prog_name="warroom")
        assert result.exit_code == 0
        assert result.output.startswith("Usage: warroom [OPTIONS] [COMMAND] [ARGS]...")
    names = sorted(main.commands)
    assert {"declare", "list", "check", "trust", "journal"} <= set(names)
    top = runner.invoke(main, ["--help"], env=env, prog_name="warroom").output
    for name in names:
        assert re.search(rf"^  {name}\s", top, re.M), f"{name} missing from the top-level help"
        command = main.commands[name]
        # a group's commands (warroom journal recover) take the options, not the group itself
        leaves = [[name, sub] for sub in command.commands] if hasattr(command, "commands") else [[name]]
        for path in leaves:
            result = runner.invoke(main, [*path, "--help"], env=env, prog_name="warroom")
            assert result.exit_code == 0, (path, result.output)
            assert result.output.startswith(f"Usage: warroom {' '.join(path)} "), path
            assert "--config" in result.output and "--state-dir" in result.output


def test_help_as_a_real_process(env: dict[str, str]) -> None:
    p = run(env, "declare", "--help")
    assert p.returncode == 0 and p.stderr == ""
    assert "--severity" in p.stdout and "--title" in p.stdout


# -- bad arguments --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["declare", "-s", "P9", "-t", "x"],
            "declare: Invalid value for '--severity' / '-s': 'P9' is not one of P0, P1, P2, P3",
        ),
        (["declare", "-t", "x"], "declare: Missing option '--severity' / '-s'."),
        (["declare", "-s", "P1"], "declare: Missing option '--title' / '-t'."),
        (["declare", "-s", "P1", "-t", "  \x1b[0m "], "declare: --title must not be empty"),
        (["declare", "-s"], "Option '-s' requires an argument."),
        (["frobnicate"], "No such command 'frobnicate'."),
        (["--bogus"], "No such option '--bogus'. Did you mean '--user'?"),
        (["list", "extra"], "list: Got unexpected extra argument (extra)"),
        (["list", "--colour"], "list: No such option '--colour'."),
    ],
)
def test_bad_arguments_one_line_exit_2(env: dict[str, str], args: list[str], message: str) -> None:
    assert one_line_error(run(env, *args)) == message


def test_bad_paths_in_flags(env: dict[str, str], tmp_path: Path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    assert one_line_error(run(env, "--state-dir", str(a_file), "list")) == (
        f"Invalid value for '--state-dir': Directory '{a_file}' is a file."
    )
    assert one_line_error(run(env, "list", "--config", str(tmp_path))) == (
        f"list: Invalid value for '--config': File '{tmp_path}' is a directory."
    )


def test_bad_config_one_line_exit_2(env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[database]\npoll_interval = "whenever"\n')
    expected = f"{bad}: [database] poll_interval: expected a duration like '15m' or '1h30m', got 'whenever'"
    assert one_line_error(run(env, "--config", str(bad), "list")) == expected
    assert one_line_error(run(env, "list", "--config", str(bad))) == expected
    assert one_line_error(run(env, "declare", "-s", "P0", "-t", "x", "--config", str(bad))) == expected
    bad.write_text("[database\n")
    assert one_line_error(run(env, "--config", str(bad), "check")).startswith(f"{bad}: is not valid TOML (")
    missing = tmp_path / "missing.toml"
    assert one_line_error(run(env, "--config", str(missing), "list")) == f"{missing}: no such file"


def test_bad_config_found_in_cwd(env: dict[str, str], tmp_path: Path) -> None:
    cwd = tmp_path / "cwd"
    (cwd / "warroom.toml").write_text("colour = 1\n")
    message = one_line_error(run(env, "list", cwd=cwd))
    assert message.startswith(f"{cwd / 'warroom.toml'}: unknown key 'colour' (known keys: ")


def test_unusable_journal_one_line_exit_1(env: dict[str, str], tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "journal.sqlite3").write_bytes(b"\x00garbage" * 64)
    expected = f"journal {state / 'journal.sqlite3'}: is not a warroom journal (not an SQLite file); it was left untouched"
    assert one_line_error(run(env, "list"), 1) == expected
    assert one_line_error(run(env, "declare", "-s", "P0", "-t", "x"), 1) == expected
    assert (state / "journal.sqlite3").read_bytes() == b"\x00garbage" * 64


# -- check -------------------------------------------------------------------------------------


PASSWORD = "Pw-9d1e77b2-check"


@pytest.mark.parametrize(
    ("how", "dsn"),
    [
        ("env", f"postgresql://watcher:{PASSWORD}@db.internal:5432/app"),
        ("database_url", f"postgres://watcher:{PASSWORD}@db.internal/app?sslmode=require"),
        ("flag", f"host=db.internal user=watcher password='{PASSWORD} x' dbname=app"),
        ("toml", f"postgresql://db.internal/app?user=watcher&password={PASSWORD}"),
        ("encoded", "postgresql://watcher:" + PASSWORD.replace("-", "%2D") + "@db.internal/app"),
    ],
)
def test_check_masks_the_password(env: dict[str, str], tmp_path: Path, how: str, dsn: str) -> None:
    args = ["check"]
    e = dict(env)
    if how in ("env", "encoded"):
        e["WARROOM_DSN"] = dsn
    elif how == "database_url":
        e["DATABASE_URL"] = dsn
    elif how == "flag":
        args += ["--dsn", dsn]
    else:
        conf = tmp_path / "warroom.toml"
        conf.write_text(f'[database]\ndsn = "{dsn}"\n')
        args += ["--config", str(conf)]
    p = run(e, *args)
    assert p.returncode == 1, p.stderr  # db.internal cannot be reached from here
    out = p.stdout + p.stderr
    assert PASSWORD not in out
    assert PASSWORD.replace("-", "%2D") not in out
    dsn_line = next(
        line for line in p.stdout.splitlines() if line.startswith("dsn ")
    )  # [database]; [shared] follows
    assert "***" in dsn_line and "db.internal" in dsn_line
    assert "database: unreachable: " in p.stdout
    assert p.stdout.rstrip().endswith("journal ok: 0 incidents, writable")
    if how == "flag":  # visible in ps while it runs: said, in one line
        assert p.stderr.startswith("warroom: the password given with --dsn is visible to every user")
    else:
        assert p.stderr == ""


def test_check_prints_the_effective_configuration(env: dict[str, str], tmp_path: Path) -> None:
    conf = tmp_path / "team.toml"
    conf.write_text('[incident]\nuser = "ana"\n[playbook.severities.P1]\ninternal_update = "20m"\n')
    p = run(env, "--config", str(conf), "check")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert f"config file         = {conf}   (--config)" in lines
    assert f"state dir           = {tmp_path / 'state'}" in lines
    assert "user                = ana" in lines
    assert "dsn                 = (not configured)" in lines
    assert any(line.startswith("P1 High     = response 30 min, internal update 20 min") for line in lines)
    assert (
        "escalation L3       = CTO / VP Engineering (if P0 or unresolved in 1 hour; by time only for P0, P1)"
        in lines
    )
    assert "phase 1             = Detection & Triage (0-5 minutes; 5 min)" in lines


# -- in-process, for the paths a subprocess cannot reach cheaply ----------------------------------


def test_runner_declare_and_list(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path / "cwd")
    runner = CliRunner()
    result = runner.invoke(main, ["declare", "-s", "P1", "-t", "Auth broken"], env=env)
    assert result.exit_code == 0, result.output
    assert ID.fullmatch(result.stdout.strip())
    result = runner.invoke(main, ["list"], env=env)
    assert result.exit_code == 0
    assert "Auth broken" in result.stdout
