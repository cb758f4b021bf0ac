"""``warroom serve`` for real: the server process, its guard (loopback, token, origin), and the
read-only console driven in a real browser (Debian's chromium through Playwright)."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import warroom
from warroom.incident import events as ev
from warroom.incident.journal import Journal

CHROMIUM = Path("/usr/bin/chromium")
TITLE = "Checkout latency spike"
URL = re.compile(r"read-only at (http://\S+)")


def digest(path: Path) -> str:
    """The journal's bytes, its write-ahead log included."""
    h = hashlib.sha256()
    for part in (path, path.with_name(path.name + "-wal")):
        if part.exists():
            h.update(part.read_bytes())
    return h.hexdigest()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A clean environment: no user config, state in tmp, a fixed zone."""
    e = {k: v for k, v in os.environ.items() if not k.startswith("WARROOM_") and k != "DATABASE_URL"}
    e.update(
        XDG_CONFIG_HOME=str(tmp_path / "xdg-config"),
        XDG_DATA_HOME=str(tmp_path / "xdg-data"),
        WARROOM_STATE_DIR=str(tmp_path / "state"),
        TZ="UTC",
        PYTHONPATH=str(Path(warroom.__file__).resolve().parents[1]),
    )
    (tmp_path / "cwd").mkdir()
    return e


@pytest.fixture
def incident(env: dict[str, str]) -> tuple[Path, str]:
    """A journal with one open P1 incident: (journal path, incident id)."""
    path = Path(env["WARROOM_STATE_DIR"]) / "journal.sqlite3"
    with Journal(path, actor="alice") as journal:
        incident_id = journal.declare("P1", TITLE, impact="Checkout is slow", lead="alice").incident_id
        journal.append(incident_id, ev.NoteAdded("p95 at 4 s since 10:02"))
    return path, incident_id


class Served:
    def __init__(self, process: subprocess.Popen[str], url: str) -> None:
        self.process = process
        self.url = url


def start(env: dict[str, str], *args: str) -> Iterator[Served]:
    process = subprocess.Popen(
        [sys.executable, "-m", "warroom", "serve", "--port", "0", *args],
        env=env,
        cwd=Path(env["WARROOM_STATE_DIR"]).parent / "cwd",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # the URL, printed once, before it serves
        found = URL.search(line)
        if found is None:
            process.kill()
            _, err = process.communicate(timeout=30)
            pytest.fail(f"warroom serve printed no URL: {line!r} {err!r}")
        yield Served(process, found.group(1))
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@pytest.fixture
def served(env: dict[str, str], incident: tuple[Path, str]) -> Iterator[Served]:
    yield from start(env)


@pytest.fixture
def served_elsewhere(env: dict[str, str], incident: tuple[Path, str]) -> Iterator[Served]:
    yield from start(env, "--host", "0.0.0.0")


# -- the guard, over plain HTTP ----------------------------------------------------------------------


def test_bound_to_loopback_without_token_and_refusing_other_hosts(served: Served) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", served.url)
    page = httpx.get(served.url, timeout=30)
    assert page.status_code == 200
    assert "/ws" in page.text
    # a page of another site reaching this port through its own name (DNS rebinding)
    assert httpx.get(served.url, headers={"Host": "attacker.example"}, timeout=30).status_code == 403
    # a websocket opened by a page of another origin
    ws = httpx.get(
        served.url + "ws",
        headers={"Origin": "http://attacker.example", "Connection": "Upgrade", "Upgrade": "websocket"},
        timeout=30,
    )
    assert ws.status_code == 403


def test_bound_elsewhere_needs_the_token(served_elsewhere: Served) -> None:
    found = re.fullmatch(r"http://[^/]+:(\d+)/\?token=([A-Za-z0-9_-]{32})", served_elsewhere.url)
    assert found, served_elsewhere.url
    port, token = found.groups()
    base = f"http://127.0.0.1:{port}/"
    for path in ("", "ws", "static/js/textual.js", "?token=wrong", f"?token={token[:-1]}"):
        assert httpx.get(base + path, timeout=30).status_code == 403, path
    with httpx.Client(timeout=30) as client:
        assert client.get(f"{base}?token={token}").status_code == 200
        # the page's own requests carry the token in the cookie it set
        assert client.get(base + "static/js/textual.js").status_code == 200
    assert served_elsewhere.process.poll() is None


def test_the_session_command_line_holds_no_secret(env: dict[str, str], incident: tuple[Path, str]) -> None:
    from warroom.ui.serve import SESSION_FLAG, session_command

    command = session_command(["--incident", incident[1], "--state-dir", env["WARROOM_STATE_DIR"]])
    assert f"-m warroom serve {SESSION_FLAG} --incident {incident[1]}" in command
    assert "token" not in command and "dsn" not in command


def test_serve_without_an_open_incident_says_so(env: dict[str, str]) -> None:
    Journal(Path(env["WARROOM_STATE_DIR"]) / "journal.sqlite3").close()
    p = subprocess.run(
        [sys.executable, "-m", "warroom", "serve", "--port", "0"],
        env=env,
        cwd=Path(env["WARROOM_STATE_DIR"]).parent / "cwd",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert p.returncode == 1
    assert p.stderr.strip().startswith("warroom: serve: no incident is open in ")
    assert len(p.stderr.strip().splitlines()) == 1


# -- in a real browser ------------------------------------------------------------------------------

# The page keeps its xterm.js terminal to itself: this catches the object that holds it when it is
# built, so the test reads the very cells the page paints.
CATCH_TERMINAL = """
Object.defineProperty(Object.prototype, "webglAddon", {
  configurable: true,
  set(value) {
    Object.defineProperty(this, "webglAddon", {value, writable: true, configurable: true});
    window.__warroomTerminal = this;
  },
});
"""

SCREEN_TEXT = """() => {
  const holder = window.__warroomTerminal;
  if (!holder || !holder.terminal) return "";
  const t = holder.terminal, b = t.buffer.active, rows = [];
  for (let i = 0; i < t.rows; i++) {
    const line = b.getLine(b.viewportY + i);
    rows.push(line ? line.translateToString(true) : "");
  }
  return rows.join("\\n");
}"""

BORDERS = re.compile(r"[▌▐▍▎▏█│┃▊▋]")


def flowing(screen: str, width: int = 60) -> str:
    """The rightmost ``width`` columns of every row, borders out, as one line: a notice (a toast
    at the right edge, wrapped over a few rows) reads as one sentence."""
    cols = max((len(r) for r in screen.splitlines()), default=0)
    parts = [r.ljust(cols)[cols - width :] for r in screen.splitlines()]
    return " ".join(" ".join(BORDERS.sub(" ", p).split()) for p in parts)


def browser():  # type: ignore[no-untyped-def]
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser test needs Debian's chromium "
            "(apt-get install -y chromium; .ci/run installs it)"
        )
    from playwright.sync_api import sync_playwright

    return sync_playwright(), {
        "executable_path": str(CHROMIUM),
        "headless": True,
        "args": ["--no-sandbox", "--disable-dev-shm-usage"],
    }


def wait_for(page, predicate, what: str, timeout: float = 60.0) -> str:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = page.evaluate(SCREEN_TEXT)
        if predicate(screen):
            return screen
        page.wait_for_timeout(200)
    pytest.fail(f"{what} not shown within {timeout:.0f} s; the page shows:\n{screen}")


# Keys that write in the console, what the refusal says, and what a focused pane needs (None: any).
REFUSED = [
    ("Space", "ticking a checklist item"),
    ("x", "ticking a checklist item"),
    ("n", "adding a note"),
    ("u", "marking an update sent"),
    ("1", "copying a message"),
    ("r", "resolving the incident"),
    ("s", "changing the severity"),
    ("p", "changing the phase"),
    ("e", "editing the incident"),
    ("y", "copying"),
    ("w", "writing the report"),
    ("!", "paging on-call"),
]


def test_the_browser_shows_the_incident_live_and_refuses_every_write(
    served_elsewhere: Served, incident: tuple[Path, str]
) -> None:
    journal_path, incident_id = incident
    found = re.search(r":(\d+)/\?token=(\S+)$", served_elsewhere.url)
    assert found
    url = f"http://127.0.0.1:{found.group(1)}/?token={found.group(2)}"
    playwright, launch = browser()
    with playwright as pw:
        chromium = pw.chromium.launch(**launch)
        try:
            page = chromium.new_page(viewport={"width": 1800, "height": 1000})
            page.route(re.compile(r"^https?://(?!127\.0\.0\.1)"), lambda route: route.abort())  # no internet
            page.add_init_script(CATCH_TERMINAL)
            page.goto(url)
            screen = wait_for(page, lambda s: TITLE in s and "Note: p95 at 4 s" in s, "the incident")
            header = next(line for line in screen.splitlines() if TITLE in line)
            assert incident_id in header and "read-only view" in header
            before = digest(journal_path)
            page.focus(".xterm-helper-textarea")
            for key, what in REFUSED:
                notice = f"read-only view: {what} is not available"
                if key == "!":
                    page.keyboard.type("!")
                else:
                    page.keyboard.press(key)
                wait_for(page, lambda s, n=notice: n in flowing(s), f"{key}: {notice!r}", timeout=30)
            page.wait_for_timeout(500)
            assert "Add a note" not in page.evaluate(SCREEN_TEXT)  # no dialog opened
            assert digest(journal_path) == before
            with Journal(journal_path, actor="bob") as writer:
                assert [e.kind for e in writer.events(incident_id)] == ["declared", "note_added"]
                # another console writes: the view follows
                writer.append(incident_id, ev.NoteAdded("rolled back 4702c25"))
            wait_for(page, lambda s: "Note: rolled back 4702c25" in s, "a note another console wrote", 30)
        finally:
            chromium.close()
    assert served_elsewhere.process.poll() is None
