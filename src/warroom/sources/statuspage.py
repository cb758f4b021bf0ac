"""Is it the platform? Upstream status pages (Atlassian Statuspage v2 ``summary.json``), with httpx.

:func:`fetch` reads one page and always returns a :class:`PageStatus` (it raises nothing but
``CancelledError``): the indicator (``none``/``minor``/``major``/``critical``), the components that
are not operational, the unresolved incidents with their latest update, and, when the page cannot
be read, ``indicator == "unknown"`` with the reason in one line (unreachable, timeout, HTTP 500,
not JSON, malformed JSON, unexpected shape).

:class:`StatusPoller` holds the pages of the configuration and polls each **at most once a
minute** (or ``[status] poll_interval`` if longer), whatever the UI asks; an unreadable answer
keeps the last good one in ``last_good`` so the pane can show it as stale. :func:`changes` turns
two successive answers into one line per change (component degraded or recovered, indicator,
incident opened or closed, page readable or not) for the incident timeline.

Everything a page says is untrusted: names, descriptions and update bodies pass through
:func:`warroom.text.clean` and are bounded. So is its size, and what it costs to read:

- the answer is read raw and decoded here (only ``gzip`` and ``deflate`` are asked for), a step of
  at most :data:`DECODE_STEP` bytes at a time, so neither the compressed bytes read nor the decoded
  body ever exceed :data:`MAX_BODY` (a deflate bomb stops at the bound, not after 178 MB);
- decoding, ``json.loads`` and :func:`parse_summary` run in a worker thread, never on the event
  loop (the UI's); the JSON decoder calls back into Python for every object and number so the
  thread hands the GIL back to the loop while it works, and an answer of more than
  :data:`MAX_ARRAYS` arrays (which it cannot interrupt) is refused;
- :func:`parse_summary` looks at no more than :data:`MAX_SCAN` entries of a list and keeps at most
  :data:`MAX_COMPONENTS` components (the worst first) and :data:`MAX_INCIDENTS` incidents and
  maintenances (in page order), saying in ``*_omitted`` how many it left out; :func:`changes`
  returns at most :data:`MAX_CHANGES` lines a reading.
"""

from __future__ import annotations

import asyncio
import codecs
import heapq
import json
import re
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import httpx

from warroom import __version__
from warroom.durations import utc
from warroom.settings import StatusPage, StatusSettings
from warroom.text import clean

Indicator = Literal["none", "minor", "major", "critical", "unknown"]
INDICATORS: tuple[str, ...] = ("none", "minor", "major", "critical")
ALARM_INDICATORS: frozenset[str] = frozenset({"major", "critical"})

# The playbook's rule is one poll a minute per page; configuration can only make it slower.
MIN_INTERVAL = timedelta(minutes=1)
DEFAULT_TIMEOUT = 5.0
# A big page (Twilio lists hundreds of carrier components) is well under this. It bounds both the
# bytes read from the network (compressed or not) and the decoded body.
MAX_BODY = 8 * 1024 * 1024
# The only content codings asked for (and decoded here, a bounded step at a time).
ACCEPT_ENCODING = "gzip, deflate"
DECODE_STEP = 256 * 1024  # the most one decompression step may produce
DECODE_BATCH = 256 * 1024  # raw bytes gathered before a worker thread decodes them
# json.loads holds the GIL for as long as it builds arrays (no hook is called for them; 200,000
# hold the loop ~50 ms, 2.8 million fit in MAX_BODY and held it ~700 ms): an answer with more than
# this many '[' (a real page has a few hundred; brackets in text count too) is refused.
MAX_ARRAYS = 200_000
MAX_SCAN = 200_000  # entries of one list (components, incidents) looked at
MAX_UPDATES_SCAN = 500  # updates of one incident looked at for the latest (real ones have a few)
MAX_COMPONENTS = 200  # components kept of one reading (the worst first); the pane shows a handful
MAX_INCIDENTS = 50  # unresolved incidents kept (in page order), and as many maintenances
MAX_CHANGES = 50  # timeline lines of one reading, the last one saying how many more there were
UPDATE_MAX = 300  # characters kept of an incident update
NAME_MAX = 120
ID_MAX = 60
REASON_MAX = 160

OPERATIONAL = "operational"
COMPONENT_STATUS_WORDS = {
    "operational": "operational",
    "degraded_performance": "degraded performance",
    "partial_outage": "partial outage",
    "major_outage": "major outage",
    "under_maintenance": "under maintenance",
}
# Which components are kept first when a page lists more than MAX_COMPONENTS not operational: the
# worst. A word the page invents ranks after degraded performance, maintenance last.
SEVERITY_RANK = {"major_outage": 0, "partial_outage": 1, "degraded_performance": 2, "under_maintenance": 4}
OTHER_RANK = 3


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Component:
    """A component that is not operational. ``group`` names its container, if any."""

    id: str
    name: str
    status: str  # the page's word: degraded_performance, partial_outage, major_outage, ...
    group: str = ""

    @property
    def label(self) -> str:
        return f"{self.group} › {self.name}" if self.group else self.name

    @property
    def status_text(self) -> str:
        return COMPONENT_STATUS_WORDS.get(self.status, self.status.replace("_", " "))


@dataclass(frozen=True)
class IncidentUpdate:
    status: str
    body: str  # cleaned, at most UPDATE_MAX characters
    at: datetime | None


@dataclass(frozen=True)
class PageIncident:
    """An unresolved incident (or an in-progress maintenance) and its latest update."""

    id: str
    name: str
    status: str  # investigating, identified, monitoring... (in_progress, verifying: maintenance)
    impact: str  # none, minor, major, critical (maintenance)
    latest: IncidentUpdate | None
    started_at: datetime | None
    shortlink: str = ""


@dataclass(frozen=True)
class PageStatus:
    """One reading of one status page. ``indicator == "unknown"`` when it could not be read."""

    name: str
    url: str  # the page's base URL (as configured)
    fetched_at: datetime
    indicator: Indicator
    description: str = ""  # the page's own words: "Partial System Outage"
    components: tuple[Component, ...] = ()  # the ones not operational
    incidents: tuple[PageIncident, ...] = ()  # unresolved
    maintenances: tuple[PageIncident, ...] = ()  # in progress or verifying
    reason: str = ""  # why the indicator is unknown (one line); "" otherwise
    readable: bool = False  # the page answered with a summary (even one with an odd indicator)
    page_updated_at: datetime | None = None
    # On an unreadable answer, the poller keeps the last readable one here (shown as stale).
    last_good: PageStatus | None = field(default=None, compare=False, repr=False)
    # What the bounds left out: components not operational past MAX_COMPONENTS (plus list entries
    # past MAX_SCAN, not looked at), unresolved incidents and maintenances past MAX_INCIDENTS.
    components_omitted: int = 0
    incidents_omitted: int = 0
    maintenances_omitted: int = 0

    @property
    def known(self) -> bool:
        """True when the page answered with an indicator we understand."""
        return self.indicator != "unknown"

    @property
    def alarm(self) -> bool:
        """True for ``major`` and ``critical``: both mean the upstream itself is badly broken.

        Statuspage computes the indicator from component states and incident impact, and page
        owners override it by hand; users report pages staying at ``major`` through outages they
        would call ``critical`` (reference/incident-tools-survey.md §4). The two cannot be told
        apart reliably, and for the playbook's question ("is it the platform?") they lead to the
        same action, so both raise the alarm. ``minor`` is shown but does not alarm.
        """
        return self.indicator in ALARM_INDICATORS

    @property
    def omitted(self) -> int:
        """How many components, incidents and maintenances the bounds left out of this reading."""
        return self.components_omitted + self.incidents_omitted + self.maintenances_omitted

    @property
    def summary(self) -> str:
        """One line: ``major: Partial System Outage`` or ``unknown: timeout after 5 s``."""
        if not self.known:
            return f"unknown: {self.reason}" if self.reason else "unknown"
        return f"{self.indicator}: {self.description}" if self.description else self.indicator


@dataclass(frozen=True)
class PageUpdate:
    """What one poll of one page brought: the new status and the lines for the timeline."""

    page: StatusPage
    previous: PageStatus | None
    status: PageStatus

    @property
    def changes(self) -> list[str]:
        return changes(self.previous, self.status)


# -- parsing ----------------------------------------------------------------------------------------


class _Shape(Exception):
    """The JSON is not a Statuspage summary; the message says what was wrong."""


def _ts(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value or len(value) > 64:
        return None
    try:
        return utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None


def _text(value: Any, max_len: int = NAME_MAX) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return ""
    return clean(value, max_len=max_len)


def _word(value: Any) -> str:
    """An enumeration value (status, impact): lower-case, no spaces, bounded."""
    text = _text(value, 40).lower()
    return re.sub(r"\s+", "_", text)


def _quick_word(value: Any) -> str:
    """The word :func:`_word` gives for a usual value (``"major_outage"``), without cleaning: to
    sort and filter every entry of a list cheaply. Kept entries get their :func:`_word`."""
    if value is None or isinstance(value, (dict, list)):
        return ""
    text = value if isinstance(value, str) else str(value)
    return "_".join(text[:64].lower().split())


def _ident(value: Any) -> str:
    """What an entry is matched by (its ``id``, a ``group_id``), as the page wrote it: only the
    entries kept are cleaned (:func:`_text`)."""
    if value is None or isinstance(value, (dict, list)):
        return ""
    text = value if isinstance(value, str) else str(value)
    return text[: ID_MAX * 4]


def _list(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise _Shape(f"'{key}' is not a list")
    return value


def _is_group(item: dict[str, Any]) -> bool:
    return item.get("group") is True or isinstance(item.get("components"), list)


def _not_operational(status: str) -> bool:
    return bool(status) and status != OPERATIONAL


def _components(items: list[Any]) -> tuple[tuple[Component, ...], int]:
    """The components not operational (at most MAX_COMPONENTS, the worst first, shown in page
    order) and how many were left out (past the bound, or past MAX_SCAN entries: not looked at)."""
    not_scanned = max(0, len(items) - MAX_SCAN)
    by_id: dict[str, dict[str, Any]] = {}
    for item in items[:MAX_SCAN]:
        if isinstance(item, dict):
            by_id[_ident(item.get("id")) or _ident(item.get("name"))] = item
    group_ids = {cid for cid, item in by_id.items() if _is_group(item)}
    # A group container's status summarises its children: list the degraded children under the
    # group's name, and the group itself only when none of its children is listed (hidden ones).
    # Entries are (rank, position, id, item, group id); nothing is cleaned before it is kept.
    found: list[tuple[int, int, str, dict[str, Any], str]] = []
    groups_with_listed_child: set[str] = set()
    for cid, item in by_id.items():
        if cid in group_ids:
            continue
        status = _quick_word(item.get("status"))
        if not _not_operational(status):
            continue
        gid = _ident(item.get("group_id"))
        if gid not in group_ids:
            gid = ""
        if gid:
            groups_with_listed_child.add(gid)
        found.append((SEVERITY_RANK.get(status, OTHER_RANK), len(found), cid, item, gid))
    for cid, item in by_id.items():
        if cid not in group_ids or cid in groups_with_listed_child:
            continue
        status = _quick_word(item.get("status"))
        if _not_operational(status):
            found.append((SEVERITY_RANK.get(status, OTHER_RANK), len(found), cid, item, ""))
    kept = found
    if len(found) > MAX_COMPONENTS:
        kept = heapq.nsmallest(MAX_COMPONENTS, found, key=lambda f: f[:2])
        kept.sort(key=lambda f: f[1])  # page order: children first, then the groups standing alone
    out = []
    for _, _, cid, item, gid in kept:
        status = _word(item.get("status"))
        if _not_operational(status):  # (a word that only reads "operational" once cleaned is)
            cid_text = _text(cid, NAME_MAX)
            group = _text(by_id[gid].get("name")) if gid else ""
            out.append(Component(cid_text, _text(item.get("name")) or cid_text, status, group))
    return tuple(out), len(found) - len(kept) + not_scanned


def _latest_update(updates: list[Any]) -> IncidentUpdate | None:
    best: tuple[datetime, int, dict[str, Any]] | None = None
    floor = datetime.min.replace(tzinfo=UTC)
    for i, upd in enumerate(updates[:MAX_UPDATES_SCAN]):
        if not isinstance(upd, dict):
            continue
        at = _ts(upd.get("display_at")) or _ts(upd.get("created_at")) or _ts(upd.get("updated_at"))
        # Newest first on real pages; on equal or missing times, the earlier entry wins.
        key = (at or floor, -i, upd)
        if best is None or key[:2] > best[:2]:
            best = key
    if best is None:
        return None
    upd = best[2]
    return IncidentUpdate(
        _word(upd.get("status")),
        clean(upd.get("body"), max_len=UPDATE_MAX),
        _ts(upd.get("display_at")) or _ts(upd.get("created_at")) or _ts(upd.get("updated_at")),
    )


def _incident(item: dict[str, Any], status: str) -> PageIncident:
    updates = item.get("incident_updates")
    return PageIncident(
        id=_text(item.get("id"), ID_MAX) or _text(item.get("name")),
        name=_text(item.get("name"), 200) or "(untitled)",
        status=status,
        impact=_word(item.get("impact")),
        latest=_latest_update(updates if isinstance(updates, list) else []),
        started_at=_ts(item.get("started_at")) or _ts(item.get("created_at")),
        shortlink=_text(item.get("shortlink"), 200),
    )


def _incidents(items: list[Any], keep: Callable[[str], bool]) -> tuple[tuple[PageIncident, ...], int]:
    """The incidents ``keep`` accepts, in page order (at most MAX_INCIDENTS), and how many more
    there were (past the bound, or past MAX_SCAN entries: not looked at)."""
    out: list[PageIncident] = []
    omitted = max(0, len(items) - MAX_SCAN)
    for item in items[:MAX_SCAN]:
        if not isinstance(item, dict) or not keep(_quick_word(item.get("status"))):
            continue
        if len(out) >= MAX_INCIDENTS:
            omitted += 1
            continue
        status = _word(item.get("status"))
        if keep(status):  # (a word that only reads "resolved" once cleaned is)
            out.append(_incident(item, status))
    return tuple(out), omitted


def _unresolved(status: str) -> bool:
    return status not in ("resolved", "postmortem", "completed")


def _under_way(status: str) -> bool:
    return status in ("in_progress", "verifying")


def parse_summary(data: Any, page: StatusPage, fetched_at: datetime) -> PageStatus:
    """A ``summary.json`` document as a :class:`PageStatus` (unknown, with the reason, when the
    document does not have the shape of one).

    Bounded whatever the document holds: at most :data:`MAX_SCAN` entries of each list are looked
    at and at most :data:`MAX_COMPONENTS` components are kept, the worst first (major outage,
    partial outage, degraded performance, any other word, under maintenance; page order among
    equals), listed in page order; at most :data:`MAX_INCIDENTS` unresolved incidents and as many
    maintenances, in page order (newest first on real pages). The ``*_omitted`` fields count what
    was left out. Only what is kept is cleaned.
    """
    try:
        if not isinstance(data, dict):
            raise _Shape(f"expected a JSON object, got {type(data).__name__}")
        status = data.get("status")
        if not isinstance(status, dict):
            raise _Shape("no 'status' object")
        raw_indicator = status.get("indicator")
        if not isinstance(raw_indicator, str):
            raise _Shape("no 'status.indicator'")
        indicator = _word(raw_indicator)
        components, components_omitted = _components(_list(data, "components"))
        incidents, incidents_omitted = _incidents(_list(data, "incidents"), _unresolved)
        maintenances, maintenances_omitted = _incidents(_list(data, "scheduled_maintenances"), _under_way)
    except _Shape as exc:
        return _unknown(page, fetched_at, f"unexpected shape: {exc}")
    page_info = data.get("page")
    updated = _ts(page_info.get("updated_at")) if isinstance(page_info, dict) else None
    reason = ""
    if indicator not in INDICATORS:
        reason = f"unrecognised indicator {clean(raw_indicator, max_len=30)!r}"
    return PageStatus(
        name=_page_name(page),
        url=page.url,
        fetched_at=fetched_at,
        indicator=indicator if indicator in INDICATORS else "unknown",  # type: ignore[arg-type]
        description=_text(status.get("description"), 200),
        components=components,
        incidents=incidents,
        maintenances=maintenances,
        reason=clean(reason, max_len=REASON_MAX),
        readable=True,
        page_updated_at=updated,
        components_omitted=components_omitted,
        incidents_omitted=incidents_omitted,
        maintenances_omitted=maintenances_omitted,
    )


def _page_name(page: StatusPage) -> str:
    """The configured name, as text (a found warroom.toml is untrusted too)."""
    return clean(page.name, max_len=NAME_MAX)


def _unknown(page: StatusPage, at: datetime, reason: str) -> PageStatus:
    return PageStatus(_page_name(page), page.url, at, "unknown", reason=clean(reason, max_len=REASON_MAX))


_ERRNO = re.compile(r"\[Errno -?\d+\]\s*")
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)


def _not_json_reason(body: bytes, content_type: str) -> str:
    kind = content_type.split(";")[0].strip().lower() or "no content type"
    m = _TITLE.search(body[:65536])
    if m:
        title = clean(m.group(1), max_len=60)
        if title:
            return f"not JSON ({kind} page titled {title!r})"
    return f"not JSON ({kind})"


def _json_error_reason(exc: json.JSONDecodeError, text: str) -> str:
    if exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string"):
        return f"malformed JSON (cut short after {len(text)} characters)"
    what = exc.msg.removesuffix(" at")  # "Invalid control character at": the place follows
    return f"malformed JSON ({what} at line {exc.lineno} column {exc.colno})"


def _http_reason(status_code: int) -> str:
    phrase = httpx.codes.get_reason_phrase(status_code)
    return f"HTTP {status_code}" + (f" {phrase}" if phrase else "")


def _exc_detail(exc: BaseException) -> str:
    text = clean(exc, max_len=100)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# -- reading the answer (in a worker thread) -------------------------------------------------------------


class _Refused(Exception):
    """The answer cannot be read; the message is the reason, one line."""


def _too_large(limit: int) -> _Refused:
    return _Refused(f"answer too large (over {limit // 1024} KiB)")


def _is_zlib_header(head: bytes) -> bool:
    """RFC 1950: deflate with a 32 KiB window at most, and a header checksum. HTTP's ``deflate``
    is this zlib format; some servers send raw deflate instead, which is read too."""
    return head[0] & 0x0F == 8 and head[0] >> 4 <= 7 and int.from_bytes(head[:2], "big") % 31 == 0


class _Body:
    """The body of an answer, decoded as its raw bytes arrive, never more than ``limit`` bytes.

    ``gzip`` and ``deflate`` are decoded with :mod:`zlib`, at most :data:`DECODE_STEP` bytes per
    step, so a decompression bomb costs ``limit`` bytes and stops there; any other content coding
    (one that was not asked for) is refused. :meth:`feed` and :meth:`finish` raise :class:`_Refused`.
    """

    def __init__(self, content_encoding: str, limit: int) -> None:
        codings = [c.strip().lower() for c in content_encoding.split(",")]
        codings = [c for c in codings if c and c != "identity"]
        if len(codings) > 1 or (codings and codings[0] not in ("gzip", "x-gzip", "deflate")):
            named = clean(content_encoding, max_len=40)
            raise _Refused(f"answer in an encoding not asked for ({named}; asked for {ACCEPT_ENCODING})")
        self.coding = codings[0].removeprefix("x-") if codings else ""
        self.limit = limit
        self.data = bytearray()
        self._zlib: Any = None  # zlib's decompress object (its type is not importable)
        self._head = b""  # deflate: the first bytes, until zlib and raw deflate can be told apart

    def _append(self, out: bytes) -> None:
        if len(self.data) + len(out) > self.limit:
            raise _too_large(self.limit)
        self.data += out

    def _decoder(self, raw: bytes) -> bytes:
        """Create the decompressor once its kind is known; the bytes to give it (b"": wait)."""
        if self.coding == "gzip":
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS | 16)
            return raw
        self._head += raw
        if len(self._head) < 2:
            return b""
        raw, self._head = self._head, b""
        self._zlib = zlib.decompressobj(zlib.MAX_WBITS if _is_zlib_header(raw) else -zlib.MAX_WBITS)
        return raw

    def feed(self, raw: bytes) -> None:
        if not self.coding:
            self._append(raw)
            return
        if self._zlib is None:
            raw = self._decoder(raw)
        try:
            while raw and not self._zlib.eof:  # bytes after the end of the stream are ignored
                self._append(self._zlib.decompress(raw, DECODE_STEP))
                raw = self._zlib.unconsumed_tail
        except zlib.error as exc:
            raise _Refused(f"malformed {self.coding} answer ({_zlib_detail(exc)})") from None

    def finish(self) -> bytes:
        """The whole decoded body; refused when a compressed one was cut short."""
        if self.coding and (self._zlib is not None or self._head):
            if self._zlib is None:
                raise _Refused(f"malformed {self.coding} answer (cut short)")
            try:
                while not self._zlib.eof:  # what zlib holds back is a few hundred bytes at most
                    out = self._zlib.flush()
                    if not out:
                        raise _Refused(f"malformed {self.coding} answer (cut short)")
                    self._append(out)
            except zlib.error as exc:
                raise _Refused(f"malformed {self.coding} answer ({_zlib_detail(exc)})") from None
        data = bytes(self.data)
        self.data.clear()
        return data


def _zlib_detail(exc: zlib.error) -> str:
    text = clean(exc, max_len=80)
    return text.split(": ", 1)[-1] if ": " in text else text


def _same(value: dict[str, Any]) -> dict[str, Any]:
    return value


def _int(text: str) -> int:
    return int(text)


def _float(text: str) -> float:
    return float(text)


def _loads(text: str) -> Any:
    """``json.loads`` that lets the event loop run meanwhile: the C decoder holds the GIL, but it
    calls these Python hooks for every object and number, which hands the GIL over when due."""
    return json.loads(text, object_hook=_same, parse_int=_int, parse_float=_float)


def _read_answer(body: _Body, rest: bytes, content_type: str, page: StatusPage, at: datetime) -> PageStatus:
    """Decode the end of the body, parse the JSON and the summary (in a worker thread)."""
    try:
        body.feed(rest)
        raw = body.finish().removeprefix(codecs.BOM_UTF8)
    except _Refused as exc:
        return _unknown(page, at, str(exc))
    if not raw.strip():
        return _unknown(page, at, "empty answer")
    if raw.lstrip()[:1] not in (b"{", b"["):
        return _unknown(page, at, _not_json_reason(raw, content_type))
    if raw.count(b"[") > MAX_ARRAYS:
        return _unknown(page, at, f"answer too large (over {MAX_ARRAYS} JSON arrays)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return _unknown(page, at, "malformed JSON (not UTF-8)")
    del raw
    try:
        data = _loads(text)
    except json.JSONDecodeError as exc:
        return _unknown(page, at, _json_error_reason(exc, text))
    except RecursionError:
        return _unknown(page, at, "malformed JSON (nested too deeply)")
    except ValueError as exc:  # a number of more than 4300 digits
        return _unknown(page, at, f"malformed JSON ({clean(exc, max_len=80)})")
    return parse_summary(data, page, at)


# -- fetching ---------------------------------------------------------------------------------------


def make_client(**kwargs: Any) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` suited to status pages: follows redirects, identifies warroom."""
    headers = {
        "User-Agent": f"warroom/{__version__} (incident console)",
        "Accept": "application/json",
        "Accept-Encoding": ACCEPT_ENCODING,
    }
    headers.update(kwargs.pop("headers", {}))
    return httpx.AsyncClient(follow_redirects=True, headers=headers, **kwargs)


async def _read_raw(resp: httpx.Response, body: _Body, limit: int) -> bytes:
    """Read the raw (still compressed) body, at most ``limit`` bytes, handing it to ``body`` to
    decode in a worker thread every :data:`DECODE_BATCH` bytes; the bytes not yet handed over."""
    total = 0
    pending = bytearray()
    async for chunk in resp.aiter_raw():
        total += len(chunk)
        if total > limit:
            raise _too_large(limit)
        pending += chunk
        if len(pending) >= DECODE_BATCH:
            await asyncio.to_thread(body.feed, bytes(pending))
            pending.clear()
    return bytes(pending)


async def fetch(
    page: StatusPage,
    *,
    timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - the whole exchange, via asyncio.timeout
    client: httpx.AsyncClient,
    clock: Callable[[], datetime] = utc_now,
) -> PageStatus:
    """Read ``page``'s ``/api/v2/summary.json``. Never raises (except ``CancelledError``).

    ``timeout`` bounds the whole exchange (connect, headers and body), not only each read. The
    body is read raw and bounded (:class:`_Body`); decoding it, the JSON and the summary are
    worked out in a worker thread, off the event loop.
    """
    url = page.summary_url
    limit = MAX_BODY
    try:
        try:
            async with asyncio.timeout(timeout):
                async with client.stream(
                    "GET",
                    url,
                    timeout=timeout,
                    follow_redirects=True,
                    headers={"Accept": "application/json", "Accept-Encoding": ACCEPT_ENCODING},
                ) as resp:
                    status_code = resp.status_code
                    if status_code != 200:
                        return _unknown(page, clock(), _http_reason(status_code))
                    content_type = resp.headers.get("content-type", "")
                    body = _Body(resp.headers.get("content-encoding", ""), limit)
                    rest = await _read_raw(resp, body, limit)
        except _Refused as exc:
            return _unknown(page, clock(), str(exc))
        except TimeoutError:
            return _unknown(page, clock(), f"timeout after {timeout:g} s")
        except httpx.TimeoutException:
            return _unknown(page, clock(), f"timeout after {timeout:g} s")
        except httpx.ConnectError as exc:
            detail = _ERRNO.sub("", clean(exc, max_len=100)).strip()
            return _unknown(page, clock(), f"unreachable ({detail or 'connection failed'})")
        except httpx.RemoteProtocolError as exc:
            detail = clean(exc, max_len=100)
            if "peer closed" in detail.lower() or "incomplete" in detail.lower():
                return _unknown(page, clock(), "connection closed before the answer was complete")
            return _unknown(page, clock(), f"bad HTTP answer ({detail})")
        except httpx.TooManyRedirects:
            return _unknown(page, clock(), "too many redirects")
        except httpx.HTTPError as exc:
            return _unknown(page, clock(), f"request failed ({_exc_detail(exc)})")
        except OSError as exc:
            return _unknown(page, clock(), f"unreachable ({_exc_detail(exc)})")
        return await asyncio.to_thread(_read_answer, body, rest, content_type, page, clock())
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # never let a status page crash the console
        return _unknown(page, clock(), f"unexpected error ({_exc_detail(exc)})")


class StatusPoller:
    """The configured pages, each polled at most once per ``interval`` (never under a minute).

    Call :meth:`poll_due` whenever convenient (a timer every few seconds is fine): it fetches, in
    parallel, only the pages whose minute is up and returns their :class:`PageUpdate`; pages not
    due, or already being fetched, are skipped. :meth:`poll` asks for one page and returns None
    when the rule says not yet (:meth:`next_due` says when). The clock is injectable.
    """

    def __init__(
        self,
        settings: StatusSettings,
        *,
        client: httpx.AsyncClient,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.pages: tuple[StatusPage, ...] = tuple(settings.pages)
        self.interval: timedelta = max(MIN_INTERVAL, settings.poll_interval)
        self.timeout: float = settings.timeout.total_seconds()
        self.client = client
        self.clock = clock
        self._attempted: dict[tuple[str, str], datetime] = {}
        self._latest: dict[tuple[str, str], PageStatus] = {}
        self._in_flight: set[tuple[str, str]] = set()

    @staticmethod
    def _key(page: StatusPage) -> tuple[str, str]:
        return (page.name, page.summary_url)

    def latest(self, page: StatusPage) -> PageStatus | None:
        """The last answer for ``page`` (unknown ones carry ``last_good``), or None before any."""
        return self._latest.get(self._key(page))

    def statuses(self) -> list[PageStatus | None]:
        return [self.latest(p) for p in self.pages]

    def next_due(self, page: StatusPage) -> datetime:
        """When ``page`` may be polled next (the past or now when it is due)."""
        last = self._attempted.get(self._key(page))
        return self.clock() if last is None else last + self.interval

    def is_due(self, page: StatusPage) -> bool:
        key = self._key(page)
        if key in self._in_flight:
            return False
        last = self._attempted.get(key)
        return last is None or self.clock() >= last + self.interval

    async def poll(self, page: StatusPage) -> PageUpdate | None:
        """Fetch ``page`` if its minute is up; None when it is not (or a fetch is under way)."""
        if not self.is_due(page):
            return None
        key = self._key(page)
        self._attempted[key] = self.clock()
        self._in_flight.add(key)
        try:
            status = await fetch(page, timeout=self.timeout, client=self.client, clock=self.clock)
        finally:
            self._in_flight.discard(key)
        previous = self._latest.get(key)
        if not status.readable:
            good = _baseline(previous)
            if good is not None:
                status = replace(status, last_good=good)
        self._latest[key] = status
        return PageUpdate(page, previous, status)

    async def poll_due(self) -> list[PageUpdate]:
        """Fetch every due page concurrently; the updates in configuration order."""
        due = [p for p in self.pages if self.is_due(p)]
        if not due:
            return []
        results = await asyncio.gather(*(self.poll(p) for p in due))
        return [r for r in results if r is not None]


# -- changes for the timeline -----------------------------------------------------------------------


def _baseline(status: PageStatus | None) -> PageStatus | None:
    """The last readable answer a reading stands for: itself, or the good one it kept."""
    if status is None:
        return None
    return status if status.readable else status.last_good


def _by_id(items: Iterable[Component]) -> dict[str, Component]:
    return {c.id: c for c in items}


def changes(previous: PageStatus | None, current: PageStatus) -> list[str]:
    """One line per change between two readings of a page, for the incident timeline.

    - a component that degraded, changed state or recovered;
    - the page indicator going up or down;
    - an incident appearing, changing status or leaving the list (resolved);
    - the page becoming unreadable (once, with the reason) and readable again;
    - how many components or incidents the reading left out (too many to keep), when that changes.

    ``previous`` None means the first reading: only what is wrong is reported (nothing at all for
    a healthy page or one that cannot be read). Unreadable after unreadable says nothing. Changes
    are measured against the last readable answer (``last_good``, kept by :class:`StatusPoller`),
    so a page flapping between a timeout and the same outage does not repeat the outage. When the
    reading left components (incidents) out, one missing from it may be among those: it is not
    called recovered (resolved). At most :data:`MAX_CHANGES` lines, the last one then saying how
    many more there were.
    """
    name = current.name
    if not current.readable:
        if previous is not None and previous.readable:
            return [f"{name}: status page unreadable ({current.reason or 'no reason given'})"]
        return []

    lines: list[str] = []
    base = _baseline(previous)
    if previous is not None and not previous.readable and base is not None:
        lines.append(f"{name}: status page readable again")

    desc = f" ({current.description})" if current.description else ""
    if base is None:
        if current.indicator != "none":
            lines.append(f"{name}: {current.indicator}{desc}")
    elif base.indicator != current.indicator:
        lines.append(f"{name}: {base.indicator} → {current.indicator}{desc}")
    lines += _component_changes(name, base, current)
    lines += _incident_changes(name, base, current)
    return _capped(name, lines)


def _left_out(name: str, what: str, before: int, now: int) -> list[str]:
    if now and now != before:
        return [f"{name}: {now} more {what} not listed (too many to keep)"]
    return []


def _component_changes(name: str, base: PageStatus | None, current: PageStatus) -> list[str]:
    lines: list[str] = []
    old = _by_id(base.components) if base is not None else {}
    new = _by_id(current.components)
    for cid, comp in new.items():
        was = old.get(cid)
        if was is None:
            lines.append(f"{name}: {comp.label} {comp.status_text}")
        elif was.status != comp.status:
            lines.append(f"{name}: {comp.label} {was.status_text} → {comp.status_text}")
    if not current.components_omitted:
        for cid, comp in old.items():
            if cid not in new:
                lines.append(f"{name}: {comp.label} recovered (operational)")
    before = base.components_omitted if base is not None else 0
    return lines + _left_out(name, "components", before, current.components_omitted)


def _incident_changes(name: str, base: PageStatus | None, current: PageStatus) -> list[str]:
    lines: list[str] = []
    old_inc = {i.id: i for i in base.incidents} if base is not None else {}
    new_inc = {i.id: i for i in current.incidents}
    for iid, inc in new_inc.items():
        was_inc = old_inc.get(iid)
        if was_inc is None:
            impact = f", impact {inc.impact}" if inc.impact and inc.impact != "none" else ""
            lines.append(f"{name}: incident {inc.name!r} ({inc.status}{impact})")
        elif was_inc.status != inc.status:
            lines.append(f"{name}: incident {inc.name!r} {was_inc.status} → {inc.status}")
    if not current.incidents_omitted:
        for iid, inc in old_inc.items():
            if iid not in new_inc:
                lines.append(f"{name}: incident {inc.name!r} no longer listed (resolved)")
    before = base.incidents_omitted if base is not None else 0
    return lines + _left_out(name, "incidents", before, current.incidents_omitted)


def _capped(name: str, lines: list[str]) -> list[str]:
    """At most MAX_CHANGES lines: past that, the first ones and a count of the rest."""
    if len(lines) <= MAX_CHANGES:
        return lines
    shown = max(0, MAX_CHANGES - 1)
    more = len(lines) - shown
    return [*lines[:shown], f"{name}: … and {more} more change{'s' if more != 1 else ''}"]


def describe_pages(statuses: Sequence[PageStatus | None]) -> str:
    """One line over all pages for templates: ``Supabase: major (Partial System Outage); Twilio: none``."""
    parts = []
    for st in statuses:
        if st is None:
            continue
        parts.append(f"{st.name}: {st.summary}")
    return "; ".join(parts)
