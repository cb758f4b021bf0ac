"""The embedded server's watchdog: a small process per owner that stops the server when its owner
dies, however it dies (``python -m warroom.demo.watchdog <data root> <owner pid>``).

The owner holds the write end of the watchdog's stdin: when the owner goes away (``kill -9``, a
crash), the pipe closes, and the watchdog drops the owner and stops the server if no live owner
remains. An owner that releases the server itself says ``keep`` or ``done`` first. As root, each
watchdog also removes, in the background, the clusters whose data root is gone.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
from pathlib import Path

from warroom.demo.embedded import DATA_ROOT_FILE, EmbeddedPostgres
from warroom.demo.postmaster import postmaster_of, read_small, stop_postmaster
from warroom.demo.server_account import SERVER_BASE


def remove_orphan_clusters(clusters: Path) -> None:
    """Remove the clusters whose data root is gone (a deleted state dir, an old test run). The
    watchdogs do it, off the path of a start."""
    try:
        entries = list(os.scandir(clusters))
    except OSError:
        return
    for entry in entries:
        folder = Path(entry.path)
        if not entry.is_dir(follow_symlinks=False):
            continue
        try:
            owner = read_small(folder / DATA_ROOT_FILE, 8192).strip()
        except OSError:
            continue  # being made right now, or not ours
        if not owner or Path(owner).exists() or postmaster_of(folder / "pgdata") is not None:
            continue
        with contextlib.suppress(OSError):
            shutil.rmtree(folder)


def main(root: str, owner: str) -> None:
    """Wait for the owner to go away (its pipe closes); then drop it and stop an orphaned server."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    if os.geteuid() == 0:
        with contextlib.suppress(Exception):
            remove_orphan_clusters(Path(SERVER_BASE).resolve() / "clusters")
    word = sys.stdin.buffer.readline().strip()
    if word in (b"keep", b"done"):
        return  # the owner released the server itself
    # EOF: the owner died without releasing (kill -9, crash).
    pg = EmbeddedPostgres(Path(root))
    if not pg.root.is_dir():
        # The data root was deleted meanwhile: stop its server, do not make the folder again.
        stop_postmaster(pg.pgdata)
        return
    pg.drop_owner(int(owner))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
