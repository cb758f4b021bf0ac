"""The demo's send-sms function log (warroom.demo.function_log): the function's own rows as log
lines, bounded per tick and per line, a private file started afresh past its size."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

from warroom.demo import function_log
from warroom.demo.function_log import FunctionLog, lines_for

T = datetime(2026, 12, 1, 3, 36, 17, 816000, tzinfo=UTC)


def error(at: datetime, kind: str, message: str, source: str = "send-sms") -> tuple:
    return (at, kind, message, source, "cmp_1", None, "{}")


def sms(at: datetime, status: str, code: str | None = None, message: str | None = None) -> tuple:
    return (at, "cmp_1", "+15550001", status, code, message, "SM1")


def test_the_functions_own_rows_become_lines_in_time_order() -> None:
    lines = lines_for(
        [
            error(T + timedelta(milliseconds=300), "TwilioTimeout", "POST /Messages.json timed out"),
            error(T, "AuthApiError", "Invalid Refresh Token", source="auth"),  # not the function's
            error(T + timedelta(milliseconds=100), "PostgresError", "sorry, too many clients already"),
        ],
        [
            sms(T + timedelta(milliseconds=200), "failed", "30008", "30008 Unknown error"),
            sms(T + timedelta(milliseconds=400), "delivered"),
            sms(T + timedelta(milliseconds=50), "failed", "21211"),
        ],
    )
    assert lines == [
        "03:36:17.866Z WARN  delivery failed: error 21211 campaign=cmp_1",
        "03:36:17.916Z ERROR PostgresError: sorry, too many clients already campaign=cmp_1",
        "03:36:18.016Z WARN  delivery failed: 30008 Unknown error campaign=cmp_1",
        "03:36:18.116Z ERROR TwilioTimeout: POST /Messages.json timed out campaign=cmp_1",
        "03:36:18.216Z INFO  batch done: 1 sent, 2 failed",
    ]
    assert lines_for([error(T, "AuthApiError", "x", source="auth")], []) == []


def test_a_tick_and_a_line_are_bounded() -> None:
    many = [error(T + timedelta(microseconds=i), "TwilioTimeout", "x" * 1000) for i in range(500)]
    lines = lines_for(many, [])
    assert len(lines) == function_log.BATCH_LINES_MAX + 1
    assert lines[-1].endswith(f"... {500 - function_log.BATCH_LINES_MAX} more lines this second")
    assert max(len(line) for line in lines) == function_log.LINE_MAX


def test_the_file_is_private_and_started_afresh_past_its_size(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(function_log, "ROTATE_AT", 2000)
    path = tmp_path / function_log.FILE
    log = FunctionLog(path)
    for i in range(40):
        log.write([error(T + timedelta(seconds=i), "TwilioTimeout", f"send {i} timed out")], [])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    older = path.with_name(path.name + ".1")
    assert older.exists() and path.stat().st_size <= 2000 and older.stat().st_size <= 2000
    assert path.read_text().splitlines()[-1].endswith("send 39 timed out campaign=cmp_1")


def test_a_link_planted_for_the_file_is_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("")
    (tmp_path / function_log.FILE).symlink_to(target)
    FunctionLog(tmp_path / function_log.FILE).write([error(T, "TwilioTimeout", "x")], [])
    assert target.read_text() == ""
