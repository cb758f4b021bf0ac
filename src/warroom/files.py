"""What warroom writes is private to its user: folders 0700, files 0600, written atomically.

The journal, the outbox (every text copied) and the reports hold an incident's notes, names,
numbers and customer words; on a shared bastion host nobody else may read them.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


class WriteRefused(OSError):
    """A target warroom will not write to (a symbolic link to a file, a folder); one line."""


def private_dir(path: Path) -> str | None:
    """Make ``path`` (and any missing parents) a folder only its owner can use. An existing one
    open to others is tightened: the notice saying so is returned (None when nothing changed)."""
    path = Path(path)
    missing = []
    at = path
    while not at.exists() and at != at.parent:
        missing.append(at)
        at = at.parent
    for folder in reversed(missing):  # parents made by warroom are private too
        folder.mkdir(mode=PRIVATE_DIR, exist_ok=True)
    st = path.stat()
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o077 and st.st_uid == os.geteuid():
        path.chmod(PRIVATE_DIR)
        return f"{path} was open to other users ({mode:o}); it is now {PRIVATE_DIR:o}"
    return None


def fsync_path(path: Path) -> None:
    """Flush ``path`` (a file, or a folder: its entries) to the disk; raises OSError."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(folder: Path) -> None:
    """Flush ``folder``'s entries (a file just renamed into it), where the system allows it: some
    file systems cannot open or sync a folder, and the file itself is already on disk."""
    with contextlib.suppress(OSError):
        fsync_path(folder)


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` for its owner only (0600), atomically: a temporary file with an
    unpredictable name made beside it, synced, then renamed over it.

    ``path`` may not be a symbolic link (one planted in a shared folder would redirect the
    report anywhere); an existing non-regular file (``/dev/null``, a FIFO, a terminal) is written
    in place, never replaced by a regular file; a folder is refused.
    """
    path = Path(path)
    try:
        st = path.lstat()
    except FileNotFoundError:
        st = None
    if st is not None and stat.S_ISLNK(st.st_mode):
        try:
            target = path.stat()
        except OSError:
            target = None
        if target is None or stat.S_ISREG(target.st_mode) or stat.S_ISDIR(target.st_mode):
            real = path.resolve()
            raise WriteRefused(f"{path} is a symbolic link (to {real}): give the file's own path")
        st = target  # a link to a device or a pipe (/dev/stdout): written in place below
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise WriteRefused(f"{path} is a folder")
    if st is not None and not stat.S_ISREG(st.st_mode):
        with open(path, "wb") as fh:  # a device, a FIFO, a terminal: as `cat > path` would
            fh.write(data)
            fh.flush()
        return
    folder = path.parent
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as fh:  # mkstemp makes it 0600
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    fsync_dir(folder)
