"""The demo's send-sms function log: what ``supabase functions logs send-sms --tail`` would print.

The demo has no Supabase project, so its ``send-sms`` edge function is the story's rows: each tick
the writer hands this log the rows it inserted, and the function's own (errors whose source is
``send-sms``, SMS that failed, and one line per batch it sent) are appended to a file in the demo
folder. The console follows that file in a command pane running ``tail -F`` (a real command, as a
team's ``[[command_panes]]`` would run the Supabase CLI), so the demo shows the playbook's
"check function logs" step live; the pane's name says it is the demo's.

The file is its owner's only (0600), each line is cut to :data:`LINE_MAX` characters, and it is
started afresh (renamed to ``.1``, which ``tail -F`` follows) past :data:`ROTATE_AT` bytes.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from warroom.demo.seed import ErrorRow, SmsRow

FUNCTION = "send-sms"
FILE = "send-sms.log"  # in the demo folder
LINE_MAX = 300
ROTATE_AT = 1024 * 1024  # bytes; the demo runs for hours
BATCH_LINES_MAX = 40  # lines of one tick at the most (a spike's second); the rest are counted


def _stamp(at: datetime) -> str:
    """The time of day in UTC to the millisecond: a pane is narrow, the day is today's."""
    return at.strftime("%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def lines_for(errors: Sequence[ErrorRow], sms: Sequence[SmsRow]) -> list[str]:
    """The send-sms function's log lines for one tick's rows, oldest first."""
    out: list[tuple[datetime, str]] = []
    for at, error_type, message, source, campaign, _user, _context in errors:
        if source == FUNCTION:
            where = f" campaign={campaign}" if campaign else ""
            out.append((at, f"ERROR {error_type}: {message}{where}"))
    failed = [r for r in sms if r[3] == "failed"]
    for at, campaign, _phone, _status, code, message, _sid in failed:
        why = message or (f"error {code}" if code else "no reason given")
        out.append((at, f"WARN  delivery failed: {why} campaign={campaign}"))
    if sms:
        last = max(r[0] for r in sms)
        out.append((last, f"INFO  batch done: {len(sms) - len(failed)} sent, {len(failed)} failed"))
    out.sort(key=lambda x: x[0])
    lines = [f"{_stamp(at)} {text}"[:LINE_MAX] for at, text in out]
    if len(lines) > BATCH_LINES_MAX:
        dropped = len(lines) - BATCH_LINES_MAX
        lines = [
            *lines[:BATCH_LINES_MAX],
            f"{_stamp(out[-1][0])} INFO  ... {dropped} more lines this second",
        ]
    return lines


class FunctionLog:
    """The file the demo's send-sms function logs to (appended; rotated past :data:`ROTATE_AT`)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def write(self, errors: Sequence[ErrorRow], sms: Sequence[SmsRow]) -> None:
        """Append one tick's lines. A file that cannot be written is skipped (the demo goes on)."""
        lines = lines_for(errors, sms)
        if not lines:
            return
        data = ("\n".join(lines) + "\n").encode("utf-8", "replace")
        with contextlib.suppress(OSError):
            if self.path.exists() and self.path.stat().st_size + len(data) > ROTATE_AT:
                self.path.replace(self.path.with_name(self.path.name + ".1"))
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
            try:
                os.write(fd, data)
            finally:
                os.close(fd)
