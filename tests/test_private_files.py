"""What warroom writes is its user's alone (folders 0700, files 0600), and `report -o` writes
only where it was told: never through a planted link, never replacing a device or a pipe."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from test_cli import env, one_line_error, run  # noqa: F401 - a fixture
from warroom.comms.clipboard import write_outbox
from warroom.comms.report import write_report
from warroom.files import private_dir, write_private

pytestmark = pytest.mark.skipif(os.geteuid() != 0 and os.name != "posix", reason="POSIX modes")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def declared(env: dict[str, str]) -> str:  # noqa: F811
    p = run(env, "declare", "-s", "P1", "-t", "Customer data in logs")
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def test_a_new_state_dir_and_journal_are_private(env: dict[str, str]) -> None:  # noqa: F811
    declared(env)
    state = Path(env["WARROOM_STATE_DIR"])
    assert mode(state) == 0o700
    for name in ("journal.sqlite3", "journal.sqlite3-wal"):
        if (state / name).exists():
            assert mode(state / name) == 0o600, name


def test_an_open_state_dir_is_tightened_and_said_so(env: dict[str, str]) -> None:  # noqa: F811
    declared(env)
    state = Path(env["WARROOM_STATE_DIR"])
    state.chmod(0o755)
    (state / "journal.sqlite3").chmod(0o644)
    p = run(env, "list")
    assert p.returncode == 0
    assert mode(state) == 0o700 and mode(state / "journal.sqlite3") == 0o600
    assert f"warroom: {state} was open to other users (755); it is now 700" in p.stderr
    assert "journal.sqlite3 was readable by other users (644); it is now 600" in p.stderr
    assert run(env, "list").stderr == ""  # said once


def test_reports_and_outbox_are_private(tmp_path: Path) -> None:
    reports = tmp_path / "state" / "reports"
    private_dir(reports)
    write_report(reports / "INC-2026-11-30-001.md", "# report\n")
    assert mode(tmp_path / "state") == 0o700 and mode(reports) == 0o700
    assert mode(reports / "INC-2026-11-30-001.md") == 0o600
    from datetime import UTC, datetime

    out = write_outbox(tmp_path / "outbox", "INC-2026-11-30-001", "update", "text", datetime.now(UTC))
    assert mode(tmp_path / "outbox") == 0o700 and mode(out.parent) == 0o700 and mode(out) == 0o600


def test_report_to_dev_null_leaves_the_device_alone(env: dict[str, str]) -> None:  # noqa: F811
    if not Path("/dev/null").is_char_device():
        pytest.skip("no /dev/null")
    declared(env)
    p = run(env, "report", "-o", "/dev/null")
    assert p.returncode == 0, p.stderr
    assert Path("/dev/null").is_char_device()


def test_report_into_a_fifo_is_read_from_it(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    incident = declared(env)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    p = run(env, "report", incident, "-o", str(fifo))
    reader.join(10)
    assert p.returncode == 0, p.stderr
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert got and got[0].startswith(b"# Incident Report: Customer data in logs")


def test_report_through_a_link_to_stdout(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    declared(env)
    link = tmp_path / "out"
    link.symlink_to("/dev/stdout")
    p = run(env, "report", "-o", str(link))
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("# Incident Report: Customer data in logs")
    assert link.is_symlink()


def test_report_refuses_a_planted_link_to_a_file(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    declared(env)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    planted = tmp_path / "report.md"
    planted.symlink_to(victim)
    message = one_line_error(run(env, "report", "-o", str(planted)), 1)
    assert "symbolic link" in message and str(planted) in message
    assert victim.read_text() == "precious\n" and planted.is_symlink()


def test_the_temporary_file_cannot_be_predicted(tmp_path: Path) -> None:
    """The old temporary name was .<name>.<pid>.tmp: a link planted there took the report."""
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    target = tmp_path / "report.md"
    (tmp_path / f".report.md.{os.getpid()}.tmp").symlink_to(victim)
    write_report(target, "# report\n")
    assert victim.read_text() == "precious\n"
    assert target.read_text() == "# report\n" and mode(target) == 0o600


def test_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OSError, match="is a folder"):
        write_private(tmp_path, b"x")
