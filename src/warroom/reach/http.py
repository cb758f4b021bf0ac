"""One HTTP exchange with another system, bounded: a deadline on the whole exchange, at most
:data:`MAX_ANSWER` bytes of the answer read, and every failure a one-line reason (never raised).

The client is httpx, as for the status pages (:func:`make_client` identifies warroom).
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from typing import Any

import httpx

from warroom import __version__
from warroom.text import clean

MAX_ANSWER = 64 * 1024  # an API's answer to one request is a few hundred bytes
REASON_MAX = 200
_ERRNO = re.compile(r"\[Errno -?\d+\]\s*")
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Answer:
    """What the other side said: its status, its body (bounded, raw), ``Retry-After`` in seconds."""

    status: int
    body: bytes
    retry_after: float | None = None

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body.decode("utf-8"))
        except (ValueError, RecursionError):
            return None

    def text(self, max_len: int = REASON_MAX) -> str:
        """The body as one line of clean text; an HTML page (a proxy's, a load balancer's) by its
        title, else by the status's phrase."""
        if self.body.lstrip()[:1] == b"<":
            m = _TITLE.search(self.body)
            return clean(m.group(1), max_len=max_len) if m else httpx.codes.get_reason_phrase(self.status)
        return clean(self.body, max_len=max_len)


@dataclass(frozen=True)
class Unreachable:
    """No answer: why, in one line (timeout, refused, a name that does not resolve, ...)."""

    reason: str


def make_client() -> httpx.AsyncClient:
    """A client for the integrations: no redirects followed (an API answers where it is asked)."""
    headers = {
        "User-Agent": f"warroom/{__version__} (incident console)",
        "Accept": "application/json",
        "Accept-Encoding": "identity",  # the answer is read raw and bounded: nothing to inflate
    }
    return httpx.AsyncClient(follow_redirects=False, headers=headers)


def retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds (its delta-seconds form; an HTTP date is not waited for)."""
    try:
        seconds = float((value or "").strip())
    except ValueError:
        return None
    return seconds if 0 <= seconds < 86400 else None


def _detail(exc: BaseException) -> str:
    text = _ERRNO.sub("", clean(exc, max_len=120)).strip()
    return text or type(exc).__name__


async def exchange(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    timeout: float,  # noqa: ASYNC109 - the whole exchange, via asyncio.timeout
    json_body: Any = None,
    auth: tuple[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Answer | Unreachable:
    """One request; never raises (except ``CancelledError``). ``timeout`` bounds the whole
    exchange (connect, headers and body); at most :data:`MAX_ANSWER` bytes of the body are read."""
    try:
        async with asyncio.timeout(timeout):
            async with client.stream(
                method,
                url,
                json=json_body,
                auth=auth,
                headers=headers,
                timeout=timeout,
                follow_redirects=False,
            ) as resp:
                body = bytearray()
                async for chunk in resp.aiter_raw():
                    body += chunk[: MAX_ANSWER - len(body)]
                    if len(body) >= MAX_ANSWER:
                        break
                return Answer(resp.status_code, bytes(body), retry_after(resp.headers.get("retry-after")))
    except asyncio.CancelledError:
        raise
    except (TimeoutError, httpx.TimeoutException):
        return Unreachable(f"no answer within {timeout:g} s")
    except httpx.ConnectError as exc:
        return Unreachable(f"unreachable ({_detail(exc)})")
    except httpx.RemoteProtocolError as exc:
        return Unreachable(f"bad HTTP answer ({_detail(exc)})")
    except httpx.HTTPError as exc:
        return Unreachable(f"request failed ({_detail(exc)})")
    except OSError as exc:
        return Unreachable(f"unreachable ({_detail(exc)})")
    except Exception as exc:  # never let another system crash the console
        return Unreachable(f"unexpected error ({type(exc).__name__}: {_detail(exc)})")
