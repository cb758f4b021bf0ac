"""Fetching a status page's ``/api/v2/summary.json`` with httpx, and decoding the answer, bounded.

:func:`fetch` reads one page and always returns a
:class:`~warroom.sources.statuspage.page.PageStatus` (it raises nothing but ``CancelledError``):
when the page cannot be read, ``indicator == "unknown"`` with the reason in one line
(unreachable, timeout, HTTP 500, not JSON, malformed JSON, unexpected shape). What it costs to read
is bounded too:

- the answer is read raw and decoded here (only ``gzip`` and ``deflate`` are asked for), a step of
  at most :data:`DECODE_STEP` bytes at a time, so neither the compressed bytes read nor the decoded
  body ever exceed :data:`MAX_BODY` (a deflate bomb stops at the bound, not after 178 MB);
- decoding, ``json.loads`` and :func:`~warroom.sources.statuspage.summary.parse_summary` run in a
  worker thread, never on the event loop (the UI's); the JSON decoder calls back into Python for
  every object and number so the thread hands the GIL back to the loop while it works, and an
  answer of more than :data:`MAX_ARRAYS` arrays (which it cannot interrupt) is refused.
"""

from __future__ import annotations

import asyncio
import codecs
import json
import re
import zlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx

from warroom import __version__
from warroom.durations import utc_now
from warroom.settings import StatusPage
from warroom.sources.statuspage.page import PageStatus
from warroom.sources.statuspage.summary import parse_summary, unknown
from warroom.text import clean

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


# -- why a page cannot be read, in one line ------------------------------------------------------

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


# -- reading the answer (in a worker thread) --------------------------------------------------------


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
        return unknown(page, at, str(exc))
    if not raw.strip():
        return unknown(page, at, "empty answer")
    if raw.lstrip()[:1] not in (b"{", b"["):
        return unknown(page, at, _not_json_reason(raw, content_type))
    if raw.count(b"[") > MAX_ARRAYS:
        return unknown(page, at, f"answer too large (over {MAX_ARRAYS} JSON arrays)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return unknown(page, at, "malformed JSON (not UTF-8)")
    del raw
    try:
        data = _loads(text)
    except json.JSONDecodeError as exc:
        return unknown(page, at, _json_error_reason(exc, text))
    except RecursionError:
        return unknown(page, at, "malformed JSON (nested too deeply)")
    except ValueError as exc:  # a number of more than 4300 digits
        return unknown(page, at, f"malformed JSON ({clean(exc, max_len=80)})")
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
                        return unknown(page, clock(), _http_reason(status_code))
                    content_type = resp.headers.get("content-type", "")
                    body = _Body(resp.headers.get("content-encoding", ""), limit)
                    rest = await _read_raw(resp, body, limit)
        except _Refused as exc:
            return unknown(page, clock(), str(exc))
        except (TimeoutError, httpx.TimeoutException):
            return unknown(page, clock(), f"timeout after {timeout:g} s")
        except httpx.ConnectError as exc:
            detail = _ERRNO.sub("", clean(exc, max_len=100)).strip()
            return unknown(page, clock(), f"unreachable ({detail or 'connection failed'})")
        except httpx.RemoteProtocolError as exc:
            detail = clean(exc, max_len=100)
            if "peer closed" in detail.lower() or "incomplete" in detail.lower():
                return unknown(page, clock(), "connection closed before the answer was complete")
            return unknown(page, clock(), f"bad HTTP answer ({detail})")
        except httpx.TooManyRedirects:
            return unknown(page, clock(), "too many redirects")
        except httpx.HTTPError as exc:
            return unknown(page, clock(), f"request failed ({_exc_detail(exc)})")
        except OSError as exc:
            return unknown(page, clock(), f"unreachable ({_exc_detail(exc)})")
        return await asyncio.to_thread(_read_answer, body, rest, content_type, page, clock())
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # never let a status page crash the console
        return unknown(page, clock(), f"unexpected error ({_exc_detail(exc)})")
