"""A journal's rows read from its pages without SQLite (for ``warroom journal recover``).

SQLite stops at the first page it cannot read; a damaged journal still has good pages below
a damaged one. :func:`scan` reads every page of the file as SQLite's file format lays it out
(b-tree pages, cells, overflow chains, records) and files each readable row by its shape: an
event, a row of ``incidents``, an entry of the ``events_by_incident`` index (which incident a lost
event belonged to), and the tables an earlier recovery added. A page or a cell that cannot be
read is skipped, never guessed.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field

from warroom.incident.journal import Text, incident_id_ok

Value = int | float | bytes | None  # bytes: a BLOB; Text (a bytes): a TEXT, as stored
Row = tuple[Value, ...]
_DEFAULT_PAGE = 4096


class PageError(Exception):
    """Something on a page does not read as SQLite lays it out."""


def _varint(buf: bytes, i: int, end: int) -> tuple[int, int]:
    value = 0
    for k in range(9):
        if i + k >= end:
            raise PageError("varint runs off the end")
        b = buf[i + k]
        if k == 8:
            return (value << 8) | b, i + 9
        value = (value << 7) | (b & 0x7F)
        if b < 0x80:
            return value, i + k + 1
    raise AssertionError("unreachable")  # pragma: no cover


_INT_SIZES = {1: 1, 2: 2, 3: 3, 4: 4, 5: 6, 6: 8}


def _record(payload: bytes) -> list[Value]:
    """The values of one record (SQLite's record format), TEXT as :class:`Text`."""
    size, i = _varint(payload, 0, len(payload))
    if size < 1 or size > len(payload):
        raise PageError("record header size")
    types = []
    while i < size:
        t, i = _varint(payload, i, size)
        types.append(t)
    pos = size
    out: list[Value] = []
    for t in types:
        if t == 0:
            out.append(None)
            continue
        if t in (8, 9):
            out.append(t - 8)
            continue
        if t in (10, 11):
            raise PageError("reserved serial type")
        n = _INT_SIZES.get(t, 8 if t == 7 else (t - 12) // 2)
        chunk = payload[pos : pos + n]
        if len(chunk) != n:
            raise PageError("record body too short")
        pos += n
        if t <= 6:
            out.append(int.from_bytes(chunk, "big", signed=True))
        elif t == 7:
            out.append(struct.unpack(">d", chunk)[0])
        elif t % 2 == 0:
            out.append(bytes(chunk))
        else:
            out.append(Text(chunk))
    if pos != len(payload):
        raise PageError("record body size")
    return out


@dataclass
class Salvage:
    """Every row found on a readable page, by what it looks like (copies of a row included)."""

    events: dict[int, list[Row]] = field(default_factory=dict)  # seq -> (seq, event_id, ..., data)
    damaged_events: set[Row] = field(default_factory=set)  # (seq, ..., data, reason)
    incidents: set[Row] = field(default_factory=set)  # (id, day, number)
    damaged_incidents: set[Row] = field(default_factory=set)  # (id, day, number, reason)
    last_seq: int = 0  # the highest sequence number sqlite_sequence or the index knew
    index: dict[int, str] = field(default_factory=dict)  # seq -> incident id (events_by_incident)


class _Pages:
    """The pages of one SQLite file, read without SQLite (which stops at the first bad page)."""

    def __init__(self, data: bytes, size: int) -> None:
        self.data = data
        self.size = size
        self.usable = size  # warroom never reserves bytes at the end of a page (header byte 20)
        self.count = len(data) // size  # a cut-off last page is not read

    def page(self, number: int) -> bytes:
        if not 1 <= number <= self.count:
            raise PageError("page out of range")
        return self.data[(number - 1) * self.size : number * self.size]

    def _overflow(self, first: int, need: int) -> bytes:
        out = bytearray()
        seen: set[int] = set()
        number = first
        while len(out) < need:
            if number in seen:
                raise PageError("overflow loop")
            seen.add(number)
            page = self.page(number)
            out += page[4 : self.usable]
            number = int.from_bytes(page[:4], "big")
        return bytes(out[:need])

    def _payload(self, page: bytes, i: int, size: int, leaf_table: bool) -> bytes:
        """A cell's payload from offset ``i`` of ``page``, overflow pages followed."""
        u = self.usable
        most = u - 35 if leaf_table else ((u - 12) * 64 // 255) - 23
        least = ((u - 12) * 32 // 255) - 23
        if size <= most:
            local = size
        else:
            k = least + (size - least) % (u - 4)
            local = k if k <= most else least
        if i + local > u:
            raise PageError("cell runs off the page")
        head = page[i : i + local]
        if local == size:
            return head
        if i + local + 4 > u:
            raise PageError("overflow pointer runs off the page")
        first = int.from_bytes(page[i + local : i + local + 4], "big")
        return head + self._overflow(first, size - local)

    def cells(self, number: int) -> Iterator[tuple[int, int | None, bytes]]:
        """(page type, rowid or None, payload) of every readable cell of a b-tree page with
        rows (table leaves, index pages); a cell that cannot be read is skipped."""
        page = self.page(number)
        h = 100 if number == 1 else 0
        kind = page[h]
        if kind not in (0x0D, 0x0A, 0x02):
            return
        count = int.from_bytes(page[h + 3 : h + 5], "big")
        first = h + (12 if kind == 0x02 else 8)
        for n in range(count):
            at = first + 2 * n
            if at + 2 > self.usable:
                return
            cell = int.from_bytes(page[at : at + 2], "big")
            try:
                yield self._cell(page, kind, cell)
            except PageError:
                continue

    def _cell(self, page: bytes, kind: int, i: int) -> tuple[int, int | None, bytes]:
        u = self.usable
        if not 0 < i < u:
            raise PageError("cell pointer")
        if kind == 0x02:
            i += 4  # the left child's page number
        size, i = _varint(page, i, u)
        rowid = None
        if kind == 0x0D:
            rowid, i = _varint(page, i, u)
            if rowid >= 1 << 63:
                rowid -= 1 << 64
        return kind, rowid, self._payload(page, i, size, kind == 0x0D)


def _page_sizes(data: bytes) -> list[int]:
    """The page size the header gives, and the default (warroom's journals use it) in case the
    header is damaged."""
    size = int.from_bytes(data[16:18], "big") if len(data) >= 100 else 0
    size = 65536 if size == 1 else size
    valid = 512 <= size <= 65536 and not size & (size - 1)
    return [size, _DEFAULT_PAGE] if valid and size != _DEFAULT_PAGE else [_DEFAULT_PAGE]


def scan(data: bytes) -> Salvage:
    """Every row on every readable page; with a doubtful page size, the size that reads more."""
    scans = [_scan_pages(_Pages(data, size)) for size in _page_sizes(data)]
    return max(scans, key=lambda found: len(found.events) + len(found.incidents))


def _scan_pages(pages: _Pages) -> Salvage:
    found = Salvage()
    for number in range(1, pages.count + 1):
        for kind, rowid, payload in pages.cells(number):
            try:
                values = _record(payload)
            except PageError:
                continue
            if kind == 0x0D and rowid is not None:
                _table_row(found, rowid, values)
            else:
                _index_entry(found, values)
    return found


def _table_row(found: Salvage, rowid: int, values: list[Value]) -> None:
    """File one row of a table leaf by its shape (the journal's tables all differ in width)."""
    if len(values) == 7 and values[0] is None:  # events: seq is the rowid
        found.events.setdefault(rowid, []).append((rowid, *values[1:]))
    elif len(values) == 9 and values[0] is None:  # damaged_events of an earlier recovery
        found.damaged_events.add(tuple(values[1:]))
    elif len(values) == 3:
        found.incidents.add(tuple(values))
    elif len(values) == 4:
        found.damaged_incidents.add(tuple(values))
    elif len(values) == 2 and values[0] == b"events" and isinstance(values[1], int):  # sqlite_sequence
        found.last_seq = max(found.last_seq, values[1])


def _index_entry(found: Salvage, values: list[Value]) -> None:
    """events_by_incident (incident_id, seq) + rowid: which incident a lost event belonged to."""
    if len(values) != 3 or not isinstance(values[0], Text):
        return
    seq, rowid = values[1], values[2]
    if not isinstance(seq, int) or seq != rowid:
        return
    try:
        incident_id = bytes(values[0]).decode("utf-8")
    except UnicodeDecodeError:
        return
    if incident_id_ok(incident_id):
        found.index[seq] = incident_id
        found.last_seq = max(found.last_seq, seq)
