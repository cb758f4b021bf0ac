"""The clipboard: the OSC 52 sequence, the system clipboard (working, failing, missing, slow, and
pyperclip's real behaviour here), the outbox file that is always written, and a real tmux."""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import stat
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pyperclip
import pytest

from warroom.comms.clipboard import (
    OSC52_MAX_BYTES,
    Clipboard,
    SystemClipboardError,
    osc52_sequence,
    pyperclip_copy,
    write_outbox,
)

INC = "INC-2026-11-26-001"
WHEN = datetime(2026, 11, 26, 14, 10, 5, tzinfo=UTC)
TEXT = "📊 INCIDENT UPDATE\n\nIncident: Checkout – down\nNext Update: 15:25 CET (14:25 UTC)"


def fixed_clock() -> datetime:
    return WHEN


def fake_clipboard(store: list[str]):  # type: ignore[no-untyped-def]
    def copy(text: str) -> str:
        store.append(text)
        return "fakeclip"

    return copy


# -- OSC 52 ------------------------------------------------------------------------------------------


def test_the_osc52_sequence_carries_the_utf8_text_in_base64() -> None:
    seq = osc52_sequence(TEXT)
    assert seq is not None
    assert seq.startswith("\x1b]52;c;") and seq.endswith("\x07")
    payload = seq[len("\x1b]52;c;") : -1]
    assert base64.b64decode(payload, validate=True) == TEXT.encode("utf-8")
    assert seq == "\x1b]52;c;" + base64.b64encode(TEXT.encode("utf-8")).decode("ascii") + "\x07"
    assert osc52_sequence("") == "\x1b]52;c;\x07"


def test_the_osc52_limit_is_a_100000_byte_sequence() -> None:
    assert OSC52_MAX_BYTES == 74_994
    longest = osc52_sequence("x" * OSC52_MAX_BYTES)
    assert longest is not None and len(longest.encode()) == 100_000
    assert osc52_sequence("x" * (OSC52_MAX_BYTES + 1)) is None
    # The limit counts UTF-8 bytes, not characters: "é" is two bytes.
    assert osc52_sequence("é" * (OSC52_MAX_BYTES // 2)) is not None
    assert osc52_sequence("é" * (OSC52_MAX_BYTES // 2) + "xx") is None


async def test_textuals_copy_to_clipboard_writes_exactly_this_sequence() -> None:
    """The UI may pass App.copy_to_clipboard as terminal_copy: it must send the same bytes."""
    from textual.app import App

    app = App()
    async with app.run_test():
        written: list[str] = []
        app._driver.write = written.append  # type: ignore[method-assign,union-attr]
        app.copy_to_clipboard(TEXT)
    assert written == [osc52_sequence(TEXT)]
    assert app.clipboard == TEXT


# -- copying -------------------------------------------------------------------------------------------


async def test_a_copy_goes_to_the_terminal_the_system_clipboard_and_the_outbox(tmp_path: Path) -> None:
    written: list[str] = []
    store: list[str] = []
    cb = Clipboard(
        tmp_path / "outbox",
        terminal_write=written.append,
        system_copy=fake_clipboard(store),
        clock=fixed_clock,
    )
    result = await cb.copy(TEXT, incident_id=INC, name="internal_update")
    path = tmp_path / "outbox" / INC / "20261126T141005Z-internal_update.txt"
    assert written == [osc52_sequence(TEXT)]
    assert store == [TEXT]
    assert result.path == path
    assert path.read_bytes() == TEXT.encode("utf-8")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert result.message == (
        f"sent to terminal clipboard (OSC 52); copied to system clipboard (fakeclip); saved to {path}"
    )
    assert (result.terminal, result.system, result.copied, result.saved, result.severity) == (
        "ok",
        "ok",
        True,
        True,
        "information",
    )
    assert [p.name for p in (tmp_path / "outbox" / INC).iterdir()] == [path.name]  # no temporary file left

    again = await cb.copy("second", incident_id=INC, name="internal_update")
    assert again.path == path.with_name("20261126T141005Z-internal_update-2.txt")
    assert path.read_text(encoding="utf-8") == TEXT  # the first copy is kept


async def test_terminal_copy_gets_the_text(tmp_path: Path) -> None:
    got: list[str] = []
    cb = Clipboard(tmp_path, terminal_copy=got.append, system_copy=None, clock=fixed_clock)
    result = await cb.copy(TEXT, incident_id=INC, name="x")
    assert got == [TEXT]
    assert result.message.startswith(
        "sent to terminal clipboard (OSC 52); system clipboard not used; saved to "
    )
    with pytest.raises(ValueError, match="not both"):
        Clipboard(tmp_path, terminal_copy=got.append, terminal_write=got.append)


async def test_a_failing_system_clipboard_is_reported_and_the_file_still_written(tmp_path: Path) -> None:
    def no_mechanism(text: str) -> str:
        raise pyperclip.PyperclipException("no clipboard here")

    def crashes(text: str) -> str:
        raise OSError("xclip crashed")

    def refuses(text: str) -> str:
        raise SystemClipboardError("xclip did not keep the text")

    outcomes = []
    for backend in (no_mechanism, crashes, refuses):
        cb = Clipboard(tmp_path / "outbox", system_copy=backend, clock=fixed_clock)
        result = await cb.copy(TEXT, incident_id=INC, name="internal_update")
        assert result.path is not None and result.path.read_text(encoding="utf-8") == TEXT
        outcomes.append((result.system, result.system_detail, result.severity))
        assert result.message.startswith("terminal clipboard (OSC 52) not sent: no terminal; ")
    assert outcomes == [
        ("unavailable", "system clipboard unavailable (no clipboard here)", "warning"),
        ("failed", "system clipboard failed (xclip crashed)", "warning"),
        ("unavailable", "system clipboard unavailable (xclip did not keep the text)", "warning"),
    ]


async def test_pyperclip_on_this_headless_machine(tmp_path: Path) -> None:
    """The real library, no injected backend: here there is no display and no clipboard tool."""
    if any(shutil.which(t) for t in ("xclip", "xsel", "wl-copy")) or sys.platform != "linux":
        pytest.skip("this machine has a system clipboard tool")
    with pytest.raises(pyperclip.PyperclipException):
        pyperclip.copy("x")  # what pyperclip itself does here
    written: list[str] = []
    result = await Clipboard(tmp_path, terminal_write=written.append, clock=fixed_clock).copy(
        TEXT, incident_id=INC, name="internal_update"
    )
    path = tmp_path / INC / "20261126T141005Z-internal_update.txt"
    assert result.message == (
        "sent to terminal clipboard (OSC 52); system clipboard unavailable (no xclip/xsel/wl-copy); "
        f"saved to {path}"
    )
    assert path.read_text(encoding="utf-8") == TEXT


def fake_xclip(folder: Path, *, keeps: bool) -> Path:
    """An ``xclip`` program: stores stdin in $FAKE_CLIP (or forgets it, like a dead X display)."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "xclip"
    store = 'cat > "$FAKE_CLIP"' if keeps else "cat > /dev/null"
    script.write_text(
        textwrap.dedent(
            f"""\
            #!/bin/sh
            for a in "$@"; do
              if [ "$a" = "-o" ]; then cat "$FAKE_CLIP" 2>/dev/null; exit 0; fi
            done
            {store}
            """
        )
    )
    script.chmod(0o755)
    return folder


@pytest.mark.parametrize("keeps", [True, False])
def test_the_default_backend_drives_a_real_xclip_and_checks_it_kept_the_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keeps: bool
) -> None:
    bin_dir = fake_xclip(tmp_path / "bin", keeps=keeps)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("FAKE_CLIP", str(tmp_path / "clip"))
    if keeps:
        assert pyperclip_copy(TEXT) == "xclip"
        assert (tmp_path / "clip").read_text(encoding="utf-8") == TEXT
    else:
        with pytest.raises(SystemClipboardError, match=r"^xclip did not keep the text$"):
            pyperclip_copy(TEXT)


# -- never blocking ----------------------------------------------------------------------------------------


async def test_a_slow_system_clipboard_never_blocks_the_event_loop(tmp_path: Path) -> None:
    release = threading.Event()
    released_in_time: list[bool] = []
    ticks = 0

    def slow_copy(text: str) -> str:
        # Blocks its thread until the event loop has ticked 20 times. Were the copy blocking the
        # loop, the ticker could never run and this would wait out the guard instead.
        released_in_time.append(release.wait(timeout=20))
        return "slowclip"

    async def ticker() -> None:
        nonlocal ticks
        while not release.is_set():
            await asyncio.sleep(0.001)
            ticks += 1
            if ticks == 20:
                release.set()

    cb = Clipboard(tmp_path, system_copy=slow_copy, system_timeout=60, clock=fixed_clock)
    result, _ = await asyncio.gather(cb.copy(TEXT, incident_id=INC, name="x"), ticker())
    assert released_in_time == [True]
    assert ticks == 20
    assert result.system_detail == "copied to system clipboard (slowclip)"


async def test_a_hung_system_clipboard_times_out_and_later_copies_still_work(tmp_path: Path) -> None:
    release = threading.Event()
    calls: list[str] = []

    def hung(text: str) -> str:
        calls.append(text)
        release.wait(timeout=20)
        return "hungclip"

    cb = Clipboard(tmp_path, system_copy=hung, system_timeout=0.05, clock=fixed_clock)
    first = await cb.copy("one", incident_id=INC, name="x")
    assert first.system == "timeout"
    assert first.system_detail == "system clipboard did not answer within 0.05 s"
    assert first.path is not None and first.path.read_text() == "one"

    second = await cb.copy("two", incident_id=INC, name="x")  # the first is still stuck
    assert second.system == "busy"
    assert second.system_detail == "system clipboard busy (the previous copy has not returned)"
    assert calls == ["one"]  # no second thread piled up
    assert second.path is not None and second.path.read_text() == "two"

    release.set()
    cb.system_timeout = 20
    third = await cb.copy("three", incident_id=INC, name="x")
    assert third.system == "ok" and calls == ["one", "three"]


# -- limits and failures -----------------------------------------------------------------------------------------


async def test_a_text_too_long_for_osc52_still_reaches_the_system_clipboard_and_the_file(
    tmp_path: Path,
) -> None:
    big = "x" * 80_000
    written: list[str] = []
    store: list[str] = []
    cb = Clipboard(
        tmp_path, terminal_write=written.append, system_copy=fake_clipboard(store), clock=fixed_clock
    )
    result = await cb.copy(big, incident_id=INC, name="incident_report")
    assert written == []
    assert store == [big]
    assert result.terminal == "too_long"
    assert result.message == (
        "too long for the terminal clipboard (OSC 52): 80,000 bytes, the limit is 74,994; "
        f"copied to system clipboard (fakeclip); saved to {tmp_path / INC / '20261126T141005Z-incident_report.txt'}"
    )


async def test_the_file_is_written_even_when_everything_else_fails(tmp_path: Path) -> None:
    def broken_terminal(seq: str) -> None:
        raise BrokenPipeError(32, "Broken pipe")

    def no_clipboard(text: str) -> str:
        raise SystemClipboardError("no xclip/xsel/wl-copy")

    cb = Clipboard(tmp_path, terminal_write=broken_terminal, system_copy=no_clipboard, clock=fixed_clock)
    result = await cb.copy(TEXT, incident_id=INC, name="internal_update")
    assert result.message == (
        "terminal clipboard (OSC 52) failed: [Errno 32] Broken pipe; "
        "system clipboard unavailable (no xclip/xsel/wl-copy); "
        f"saved to {tmp_path / INC / '20261126T141005Z-internal_update.txt'}"
    )
    assert result.severity == "warning" and not result.copied and result.saved


async def test_an_unwritable_outbox_is_reported(tmp_path: Path) -> None:
    blocker = tmp_path / "outbox"
    blocker.write_text("a file where the outbox folder should be")
    cb = Clipboard(blocker, system_copy=None, clock=fixed_clock)
    result = await cb.copy(TEXT, incident_id=INC, name="x")
    assert result.path is None
    assert result.file_detail == f"not saved: {blocker / INC}: Not a directory"
    assert result.severity == "error"


def test_outbox_names_cannot_leave_the_outbox(tmp_path: Path) -> None:
    path = write_outbox(tmp_path, "../../etc", "../passwd", "x", WHEN)
    assert path.parent.parent == tmp_path
    assert path.name == "20261126T141005Z-passwd.txt"


# -- a real tmux ---------------------------------------------------------------------------------------------------


def test_in_tmux_with_set_clipboard_on_the_copy_lands_in_the_paste_buffer(tmp_path: Path) -> None:
    """The console's copy path inside a real tmux pane: ``tmux show-buffer`` gets the text."""
    tmux = shutil.which("tmux")
    if tmux is None:
        pytest.skip("tmux is not installed")
    from test_templates import SCRIPTED

    text = SCRIPTED["internal_update"]
    (tmp_path / "text.txt").write_text(text, encoding="utf-8")
    script = tmp_path / "warroom_copy.py"  # not copy.py: that would shadow the stdlib module
    script.write_text(
        textwrap.dedent(
            f"""\
            import asyncio, sys
            from pathlib import Path
            from warroom.comms.clipboard import Clipboard

            def to_terminal(seq):
                sys.stdout.write(seq)
                sys.stdout.flush()

            text = Path({str(tmp_path / "text.txt")!r}).read_text(encoding="utf-8")
            cb = Clipboard(Path({str(tmp_path / "outbox")!r}), terminal_write=to_terminal, system_copy=None)
            result = asyncio.run(cb.copy(text, incident_id="INC-2026-11-26-001", name="internal_update"))
            Path({str(tmp_path / "message.txt")!r}).write_text(result.message, encoding="utf-8")
            import time; time.sleep(30)
            """
        )
    )
    conf = tmp_path / "tmux.conf"
    conf.write_text("set -s set-clipboard on\n")
    sock = f"warroom-test-{uuid.uuid4().hex[:8]}"
    base = [tmux, "-L", sock, "-f", str(conf)]
    subprocess.run(
        [*base, "new-session", "-d", "-x", "100", "-y", "30", f"{sys.executable} {script}"], check=True
    )
    try:
        buffer = ""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            got = subprocess.run([*base, "show-buffer"], capture_output=True, text=True, encoding="utf-8")
            buffer = got.stdout
            # the sequence reaches tmux before the script has saved the file and written its message
            if got.returncode == 0 and buffer == text and (tmp_path / "message.txt").exists():
                break
            time.sleep(0.05)
        assert buffer == text
        message = (tmp_path / "message.txt").read_text(encoding="utf-8")
        assert message.startswith("sent to terminal clipboard (OSC 52); system clipboard not used; saved to ")
    finally:
        subprocess.run([*base, "kill-server"], capture_output=True)
