"""A journal opened for reading only, for the read-only browser view (``warroom serve``).

Two locks, so a write path nobody thought of still writes nothing:

- every method that writes (:meth:`ReadOnlyJournal.append`, :meth:`ReadOnlyJournal.declare`)
  raises :class:`~warroom.incident.journal.JournalError` before touching the file;
- the SQLite connection itself is opened with ``mode=ro``: SQLite refuses any statement that
  would change the file (``attempt to write a readonly database``), whoever runs it.

Opening it changes nothing either: no folder is created or tightened, the journal mode is not
switched and no schema is written. (SQLite may create the journal's empty ``-wal`` and ``-shm``
companions, 0600 like the journal, which any reader of a WAL database needs; the journal file and
its events are never changed.) A journal that does not exist yet is an error: nothing to show.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from warroom.incident import events as ev
from warroom.incident.journal import (
    _BUSY_TIMEOUT,
    Clock,
    Journal,
    JournalError,
    _identity,
    system_clock,
)
from warroom.playbook import DEFAULT, Playbook

READ_ONLY = "opened read-only (a read-only view): nothing is written"


class ReadOnlyJournal(Journal):
    """A :class:`Journal` that reads and never writes."""

    def __init__(self, path: Path, *, actor: str | None = None, clock: Clock = system_clock) -> None:
        super().__init__(path, actor=actor, clock=clock)

    def _open_once(self) -> tuple[sqlite3.Connection, tuple[int, int] | None]:
        if not self.path.is_file():
            raise self._fail("does not exist (nothing to show yet)")
        self._check_header()
        opened = _identity(self.path)
        uri = f"file:{quote(str(self.path.absolute()))}?mode=ro"
        try:
            db = sqlite3.connect(
                uri, uri=True, timeout=_BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
            )
            db.execute(f"PRAGMA busy_timeout = {int(_BUSY_TIMEOUT * 1000)}")
            db.execute("PRAGMA query_only = ON")
            self._check_existing(db)
        except JournalError:
            db.close()
            raise
        except sqlite3.Error as exc:
            raise self._fail(f"cannot be opened read-only ({exc})") from None
        return db, opened

    def writable(self) -> str | None:
        return READ_ONLY

    def declare(
        self,
        severity: str,
        title: str,
        *,
        impact: str = "",
        lead: str = "",
        playbook: Playbook = DEFAULT,
    ) -> ev.Event:
        raise self._fail(READ_ONLY)

    def append(
        self, incident_id: str, body: ev.Body, *, at: datetime | None = None, actor: str | None = None
    ) -> ev.Event:
        raise self._fail(READ_ONLY)
