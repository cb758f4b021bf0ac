"""Reading git's output as it streams: fields cut to a bound as they arrive, never held whole.

git runs with ``-z``: NUL-separated fields, a record starting at each field equal to a marker made
fresh for every command (:func:`marker`), so no subject or path can fake one. :class:`Fields` hands
the fields to a consumer (:class:`Rows`, or the reader of changed paths), each cut to
:data:`FIELD_MAX` bytes as it arrives: a 30 MB subject costs one pass over the pipe, never 30 MB of
memory. :func:`pump` reads git's stdout and stderr together, a chunk at a time, so git never blocks
on a full pipe, and stops at a deadline.
"""

from __future__ import annotations

import os
import selectors
import subprocess
import time
import uuid
from collections.abc import Callable
from typing import Protocol

# What is kept of any one field git prints (a subject, a name, a path, the parents, the tags): the
# rest is read from the pipe and dropped, never held (a commit message can be 30 MB).
FIELD_MAX = 4096
# git's error output kept (a broken repository can make git warn at length).
STDERR_MAX = 64 * 1024
CHUNK = 64 * 1024


def marker(prefix: str) -> bytes:
    """A record marker no field of git's output can equal (made fresh for every command)."""
    return prefix.encode() + uuid.uuid4().hex.encode()


class Consumer(Protocol):
    def start(self) -> None: ...

    def field(self, data: bytes) -> None: ...


class Fields:
    """git's ``-z`` output, fed to a consumer as it streams: NUL-separated fields, a record
    starting at each field equal to the marker. Each field is cut to :data:`FIELD_MAX` bytes as it
    arrives and the rest dropped."""

    def __init__(self, marker: bytes, consumer: Consumer) -> None:
        self.marker = marker
        self.consumer = consumer
        self.partial = bytearray()
        self.in_record = False

    def feed(self, chunk: bytes) -> None:
        *done, rest = chunk.split(b"\0")
        for piece in done:
            self._take(piece)
            self._end_field()
        self._take(rest)

    def close(self) -> None:
        if self.in_record:
            self._end_field()

    def _take(self, piece: bytes) -> None:
        room = FIELD_MAX - len(self.partial)
        if room > 0 and piece:
            self.partial += piece[:room]

    def _end_field(self) -> None:
        data = bytes(self.partial)
        self.partial.clear()
        if data == self.marker:
            self.in_record = True
            self.consumer.start()
        elif self.in_record:
            self.consumer.field(data)


class Rows:
    """Records of ``n`` fields each; later fields (git's record separator) are ignored."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.rows: list[list[bytes]] = []

    def start(self) -> None:
        self.rows.append([])

    def field(self, data: bytes) -> None:
        row = self.rows[-1]
        if len(row) < self.n:
            row.append(data)

    def complete(self) -> list[list[bytes]]:
        return [row for row in self.rows if len(row) == self.n]


class Bytes:
    """Output kept up to ``limit`` bytes (the rest is read and dropped)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.data = bytearray()

    def feed(self, chunk: bytes) -> None:
        room = self.limit - len(self.data)
        if room > 0:
            self.data += chunk[:room]


def pump(proc: subprocess.Popen[bytes], sink: Callable[[bytes], None], deadline: float) -> tuple[bytes, bool]:
    """Feed git's stdout to ``sink`` chunk by chunk and keep its stderr (up to STDERR_MAX bytes),
    both read as they come so git never blocks on a full pipe; True when the deadline came first."""
    err = bytearray()
    assert proc.stdout is not None and proc.stderr is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ, sink)
        sel.register(proc.stderr, selectors.EVENT_READ, None)
        while sel.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                return bytes(err), True
            for key, _events in sel.select(left):
                chunk = os.read(key.fd, CHUNK)
                if not chunk:
                    sel.unregister(key.fileobj)
                elif key.data is not None:
                    key.data(chunk)
                elif len(err) < STDERR_MAX:
                    err += chunk[: STDERR_MAX - len(err)]
    return bytes(err), False
