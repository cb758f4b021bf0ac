"""Copying a message: OSC 52 to the terminal, the system clipboard, and a file in the outbox.

Every :meth:`Clipboard.copy` does all three and reports truthfully what worked:

1. **OSC 52** (``ESC ] 52 ; c ; <base64 of the UTF-8 text> BEL``), written through the injected
   ``terminal_write`` (gets the whole sequence) or ``terminal_copy`` (gets the text and emits the
   sequence itself: Textual's public ``App.copy_to_clipboard`` writes exactly
   :func:`osc52_sequence`). It works over SSH and in tmux (with ``set-clipboard on``), but a
   terminal never acknowledges it, so the message says "sent", not "copied". A text longer than
   :data:`OSC52_MAX_BYTES` is not sent: the conservative limit is the 100,000-byte sequence that
   hterm (Chromium's terminal), the osc52.vim / vim-oscyank plugins and the common ``yank`` scripts
   accept: 7 bytes of ``ESC ] 52 ; c ;``, 1 byte of BEL and 99,992 bytes of base64, which encode
   74,994 bytes of UTF-8 text. (xterm, tmux and kitty accept more, some terminals much less; a
   longer sequence can be cut short or dropped silently, which is worse than not sending it.)
2. **The system clipboard** through pyperclip (xclip, xsel, wl-copy, pbcopy, Windows), in a
   daemon thread with a timeout: a hung ``xclip`` never blocks the event loop, and, unlike
   ``asyncio.to_thread`` (the loop's default executor, which ``asyncio.run`` waits for on
   shutdown), it cannot stop the console from quitting either. Every failure is caught. The text
   is read back to make sure the clipboard kept it (``xclip`` with a dead ``$DISPLAY`` reports
   nothing and keeps nothing). While one copy is still stuck, the next one does not start another
   thread; it says the system clipboard is busy.
3. **The outbox**: always, ``<state dir>/outbox/<incident id>/<UTC time>-<template>.txt``, written
   atomically (temporary file, fsync, rename), readable by the owner only.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import re
import shutil
import sys
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

from warroom.durations import utc_now
from warroom.files import fsync_dir, private_dir
from warroom.text import first_line

OSC52_PREFIX = "\x1b]52;c;"
OSC52_SUFFIX = "\x07"
OSC52_MAX_SEQUENCE = 100_000
OSC52_MAX_BYTES = (OSC52_MAX_SEQUENCE - len(OSC52_PREFIX) - len(OSC52_SUFFIX)) // 4 * 3  # 74,994

SYSTEM_TIMEOUT = 3.0  # seconds for pyperclip (xclip, ...) to answer
FILE_TIMEOUT = 10.0  # seconds for the outbox write (a hung network file system)

T = TypeVar("T")
SystemCopy = Callable[[str], str]
"""Copies the text to the system clipboard and returns the mechanism's name ("xclip"); raises
(:class:`SystemClipboardError` with a short reason, or anything else) when it cannot."""


class SystemClipboardError(Exception):
    """The system clipboard cannot take the text; ``str(error)`` is the short reason."""


def osc52_sequence(text: str, *, max_bytes: int = OSC52_MAX_BYTES) -> str | None:
    """``ESC ] 52 ; c ; <base64(UTF-8 text)> BEL``, or None when the text is too long for it."""
    data = text.encode("utf-8", errors="surrogatepass")
    if len(data) > max_bytes:
        return None
    return f"{OSC52_PREFIX}{base64.b64encode(data).decode('ascii')}{OSC52_SUFFIX}"


# -- the default system clipboard (pyperclip) ------------------------------------------------------

_MECHANISMS = {
    "copy_xclip": "xclip",
    "copy_xsel": "xsel",
    "copy_wl": "wl-copy",
    "copy_klipper": "klipper",
    "copy_osx_pbcopy": "pbcopy",
    "copy_osx_pyobjc": "macOS pasteboard",
    "copy_windows": "Windows clipboard",
    "copy_wsl": "clip.exe",
    "copy_qt": "Qt clipboard",
    "copy_dev_clipboard": "/dev/clipboard",
}


def _why_unavailable() -> str:
    if sys.platform.startswith("linux"):
        tools = [t for t in ("xclip", "xsel", "wl-copy") if shutil.which(t)]
        if not tools:
            return "no xclip/xsel/wl-copy"
        if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
            return "no display: DISPLAY and WAYLAND_DISPLAY are not set"
        return f"{'/'.join(tools)} found but not usable"
    return "no clipboard mechanism found"


def _normalise(text: str) -> str:
    return text.replace("\r\n", "\n").rstrip("\n")


def pyperclip_copy(text: str) -> str:
    """The default :data:`SystemCopy`: pyperclip's mechanism for this machine, checked by reading
    the text back. Blocking: call it in a thread."""
    import pyperclip

    try:
        copy, paste = pyperclip.determine_clipboard()
    except Exception as exc:
        raise SystemClipboardError(first_line(exc, 120) or "no clipboard mechanism found") from None
    if not copy:  # pyperclip's "no clipboard" stand-in is falsy
        raise SystemClipboardError(_why_unavailable())
    name = _MECHANISMS.get(getattr(copy, "__name__", ""), "pyperclip")
    try:
        copy(text)
    except pyperclip.PyperclipException as exc:
        raise SystemClipboardError(f"{name}: {first_line(exc, 120)}") from None
    except OSError as exc:
        raise SystemClipboardError(f"{name}: {exc.strerror or exc}") from None
    try:
        back = paste()
    except Exception:
        return name  # copied; this mechanism cannot be read back (nothing says it failed)
    if not isinstance(back, str) or _normalise(back) != _normalise(text):
        raise SystemClipboardError(f"{name} did not keep the text")
    return name


# -- results ---------------------------------------------------------------------------------------------

Outcome = Literal["ok", "too_long", "unavailable", "failed", "timeout", "busy", "skipped"]


@dataclass(frozen=True)
class CopyResult:
    text_bytes: int
    terminal: Outcome
    terminal_detail: str  # one line each
    system: Outcome
    system_detail: str
    path: Path | None  # the outbox file, when written
    file_detail: str
    message: str  # for the notification: exactly what worked

    @property
    def copied(self) -> bool:
        """True when the text reached the terminal (sent) or the system clipboard."""
        return self.terminal == "ok" or self.system == "ok"

    @property
    def saved(self) -> bool:
        return self.path is not None

    @property
    def where(self) -> str:
        """Where the text went, in a few words (``terminal + system clipboard + outbox``); the
        ``*_detail`` lines say the rest."""
        went = [
            name
            for name, ok in (
                ("terminal", self.terminal == "ok"),
                ("system clipboard", self.system == "ok"),
                ("outbox", self.saved),
            )
            if ok
        ]
        return " + ".join(went) if went else "nowhere (v shows the text to select by hand)"

    @property
    def severity(self) -> Literal["information", "warning", "error"]:
        """For ``App.notify``: information when copied and saved, error when nothing worked."""
        if self.copied and self.saved:
            return "information"
        if self.copied or self.saved:
            return "warning"
        return "error"


# -- threads -------------------------------------------------------------------------------------------------


def in_daemon_thread(fn: Callable[..., T], *args: Any, **kwargs: Any) -> asyncio.Future[T]:
    """Run ``fn(*args, **kwargs)`` in a daemon thread; the future completes on the calling loop.
    A daemon thread never holds up the process's exit (asyncio.to_thread's pool threads are joined
    when the interpreter ends): a hung xclip or template render never keeps a closing console."""
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[T] = loop.create_future()

    def settle(result: Any, exc: BaseException | None) -> None:
        if fut.done():
            return
        if exc is not None:
            fut.set_exception(exc)
        else:
            fut.set_result(result)

    def work() -> None:
        try:
            result, exc = fn(*args, **kwargs), None
        except BaseException as e:  # report everything to the caller, never to stderr
            result, exc = None, e
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
            loop.call_soon_threadsafe(settle, result, exc)

    threading.Thread(target=work, name=f"warroom-{getattr(fn, '__name__', 'copy')}", daemon=True).start()
    return fut


_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _safe_part(text: str, default: str) -> str:
    s = _SAFE.sub("-", text).strip("-.")
    return s[:80] or default


def write_outbox(outbox_dir: Path, incident_id: str, name: str, text: str, when: datetime) -> Path:
    """Write ``text`` atomically as ``outbox/<incident>/<YYYYMMDDTHHMMSSZ>-<name>.txt``; a second
    copy in the same second gets ``-2``, ``-3``... Returns the path."""
    folder = Path(outbox_dir) / _safe_part(incident_id, "incident")
    private_dir(Path(outbox_dir))
    private_dir(folder)
    stamp = when.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    base = f"{stamp}-{_safe_part(name, 'text')}"
    data = text.encode("utf-8", errors="surrogatepass")
    tmp = folder / f".{base}.{uuid.uuid4().hex[:8]}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        n = 1
        while True:
            target = folder / (f"{base}.txt" if n == 1 else f"{base}-{n}.txt")
            try:
                os.link(tmp, target)  # atomic, and never replaces an earlier copy
                break
            except FileExistsError:
                n += 1
            except OSError:  # no hard links here (some network or FAT file systems)
                while target.exists():
                    n += 1
                    target = folder / f"{base}-{n}.txt"
                tmp.replace(target)
                break
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    fsync_dir(folder)
    return target


class _Default:
    pass


_PYPERCLIP: Any = _Default()


class Clipboard:
    """Copies text three ways at once; see the module docstring.

    - ``terminal_write``: called with the OSC 52 sequence (e.g. a writer to the terminal), or
    - ``terminal_copy``: called with the text (``App.copy_to_clipboard``, which sends the same
      sequence); give at most one. Neither: OSC 52 is reported as not sent.
    - ``system_copy``: a :data:`SystemCopy`; the default uses pyperclip; None skips the system
      clipboard (a web session, say).
    """

    def __init__(
        self,
        outbox_dir: Path,
        *,
        terminal_write: Callable[[str], None] | None = None,
        terminal_copy: Callable[[str], None] | None = None,
        system_copy: SystemCopy | None = _PYPERCLIP,
        system_timeout: float = SYSTEM_TIMEOUT,
        file_timeout: float = FILE_TIMEOUT,
        clock: Callable[[], datetime] = utc_now,
        osc52_max_bytes: int = OSC52_MAX_BYTES,
    ) -> None:
        if terminal_write is not None and terminal_copy is not None:
            raise ValueError(
                "give terminal_write (gets the sequence) or terminal_copy (gets the text), not both"
            )
        self.outbox_dir = Path(outbox_dir)
        self.terminal_write = terminal_write
        self.terminal_copy = terminal_copy
        if isinstance(system_copy, _Default):
            system_copy = pyperclip_copy
        self.system_copy: SystemCopy | None = system_copy
        self.system_timeout = system_timeout
        self.file_timeout = file_timeout
        self.clock = clock
        self.osc52_max_bytes = osc52_max_bytes
        self._pending: asyncio.Future[str] | None = None

    async def copy(self, text: str, *, incident_id: str, name: str) -> CopyResult:
        """Send ``text`` to the terminal and the system clipboard and save it; never raises
        (except CancelledError), never blocks the event loop."""
        size = len(text.encode("utf-8", errors="surrogatepass"))
        terminal, terminal_detail = self._terminal(text, size)
        when = self.clock()
        (system, system_detail), (path, file_detail) = await asyncio.gather(
            self._system(text), self._save(text, incident_id, name, when)
        )
        message = "; ".join((terminal_detail, system_detail, file_detail))
        return CopyResult(size, terminal, terminal_detail, system, system_detail, path, file_detail, message)

    def _terminal(self, text: str, size: int) -> tuple[Outcome, str]:
        sequence = osc52_sequence(text, max_bytes=self.osc52_max_bytes)
        if sequence is None:
            return "too_long", (
                f"too long for the terminal clipboard (OSC 52): {size:,} bytes, "
                f"the limit is {self.osc52_max_bytes:,}"
            )
        if self.terminal_write is None and self.terminal_copy is None:
            return "unavailable", "terminal clipboard (OSC 52) not sent: no terminal"
        try:
            if self.terminal_write is not None:
                self.terminal_write(sequence)
            else:
                assert self.terminal_copy is not None
                self.terminal_copy(text)
        except Exception as exc:
            reason = first_line(exc, 120) or type(exc).__name__
            return "failed", f"terminal clipboard (OSC 52) failed: {reason}"
        return "ok", "sent to terminal clipboard (OSC 52)"

    async def _system(self, text: str) -> tuple[Outcome, str]:
        if self.system_copy is None:
            return "skipped", "system clipboard not used"
        if self._pending is not None and not self._pending.done():
            # A quick second copy waits for the first (so the last text wins); a stuck one makes
            # this one give up rather than pile up threads.
            await asyncio.wait({self._pending}, timeout=self.system_timeout)
            if not self._pending.done():
                return "busy", "system clipboard busy (the previous copy has not returned)"
        fut = in_daemon_thread(self.system_copy, text)
        self._pending = fut
        try:
            name = await asyncio.wait_for(asyncio.shield(fut), self.system_timeout)
        except TimeoutError:
            fut.add_done_callback(_consume)
            return "timeout", f"system clipboard did not answer within {self.system_timeout:g} s"
        except SystemClipboardError as exc:
            return "unavailable", f"system clipboard unavailable ({exc})"
        except Exception as exc:
            reason = first_line(exc, 120) or type(exc).__name__
            if type(exc).__name__ == "PyperclipException":
                return "unavailable", f"system clipboard unavailable ({reason})"
            return "failed", f"system clipboard failed ({reason})"
        return "ok", f"copied to system clipboard ({name or 'pyperclip'})"

    async def _save(self, text: str, incident_id: str, name: str, when: datetime) -> tuple[Path | None, str]:
        fut = in_daemon_thread(write_outbox, self.outbox_dir, incident_id, name, text, when)
        try:
            path = await asyncio.wait_for(asyncio.shield(fut), self.file_timeout)
        except TimeoutError:
            fut.add_done_callback(_consume)
            return None, (
                f"not saved: the outbox ({self.outbox_dir}) did not answer within {self.file_timeout:g} s"
            )
        except OSError as exc:
            where = exc.filename or self.outbox_dir
            return None, f"not saved: {where}: {exc.strerror or exc}"
        except Exception as exc:
            return None, f"not saved: {first_line(exc, 120) or type(exc).__name__}"
        return path, f"saved to {path}"


def _consume(fut: asyncio.Future[Any]) -> None:
    """Retrieve a late result or exception so asyncio does not log it as never retrieved."""
    if not fut.cancelled():
        fut.exception()
