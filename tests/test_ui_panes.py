"""The commits, status-page and decision-tree panes: behaviour (Pilot) and look (snapshots) in
each of their states, on fixed data (the sources themselves are tested against real git, HTTP
and PostgreSQL elsewhere)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer

from conftest import ManualClock
from panedata import (
    commit,
    commits,
    deploy_correlation,
    git_problem,
    git_snapshot,
    spike_series,
    static_app,
    statuses,
    unreadable,
)
from uihelpers import settle, shown
from warroom.incident import events as ev
from warroom.live import Suspect
from warroom.runbooks import ALL_USERS
from warroom.sources.correlation import correlate
from warroom.ui.panes.checklist import ChecklistList, ChecklistPane
from warroom.ui.panes.commits import CommitsPane
from warroom.ui.panes.decision import DecisionList, DecisionPane
from warroom.ui.panes.upstream import StatusPane
from warroom.ui.screens.modals import ChoiceModal

SIZE = (200, 60)


class PaneScreen(Screen[None]):
    """One pane alone on the screen, for snapshots that show just it."""

    def __init__(self, pane_cls: type) -> None:
        super().__init__()
        self.pane_cls = pane_cls

    def compose(self) -> ComposeResult:
        yield self.pane_cls(id="only")
        yield Footer()


def with_state(app, *, git=None, corr=None, pages=None):  # type: ignore[no-untyped-def]
    if git is not None:
        app.live.git = git
    if corr is not None:
        app.live.correlation = corr
    if pages is not None:
        app.live.pages = pages
    app.feed_all()


# -- commits ---------------------------------------------------------------------------------------


async def test_commits_pane_marks_and_correlation(tmp_path: Path, clock: ManualClock) -> None:
    app = static_app(tmp_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        with_state(app, git=git_snapshot(clock.now), corr=deploy_correlation(clock.now))
        text = await shown(pilot, app)
        assert "⚠ errors rose 13 min after deploy 86a46ab" in text
        assert "⛔ 1 commit landed during" in text
        for needle in ("f00dfee", "FREEZE BREACH", "86a46ab", "deploy", "cf9717f", "migration"):
            assert needle in text, needle


async def test_commits_y_copies_git_revert_and_shift_y_the_function_rollback(
    tmp_path: Path, clock: ManualClock
) -> None:
    app = static_app(tmp_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        with_state(app, git=git_snapshot(clock.now))
        app.screen.query_one("#commits-table").focus()
        await pilot.press("down")  # 86a46ab, the deploy touching send-sms
        await pilot.press("y")
        await settle(pilot, app)
        assert app.clipboard == "git revert " + "86a46ab" * 5
        await pilot.press("Y")
        await settle(pilot, app)
        assert app.clipboard == "git checkout " + "cf9717f" * 5 + "\nsupabase functions deploy send-sms"
        await pilot.press("down", "Y")  # cf9717f touched no function
        await settle(pilot, app)
        assert any("touched no edge function" in n.message for n in app._notifications)


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("not_repository", "/srv/nothing is not a git repository"),
        ("empty", "the repository has no commits yet"),
    ],
)
async def test_commits_pane_problems(tmp_path: Path, clock: ManualClock, kind: str, message: str) -> None:
    app = static_app(tmp_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        with_state(app, git=git_problem(kind, message))
        assert message in await shown(pilot, app)


def with_suspect(app, now, **git_changes):  # type: ignore[no-untyped-def]
    """The deploy 86a46ab suspected (the live state keeps it), its commits read."""
    corr = deploy_correlation(now)
    app.live.suspect = Suspect.of(corr)
    with_state(app, git=git_snapshot(now, **git_changes), corr=corr)


def row_of(text: str, short_sha: str) -> str:
    return next(line for line in text.splitlines() if f"  {short_sha}  " in line)  # a row, not a sentence


async def test_commits_cursor_starts_on_the_suspect_and_y_reverts_it(
    tmp_path: Path, clock: ManualClock
) -> None:
    app = static_app(tmp_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        with_suspect(app, clock.now)
        pane = app.screen.query_one(CommitsPane)
        pane.query_one("#commits-table").focus()
        await pilot.pause()
        assert pane.border_subtitle.startswith("y git revert 86a46ab (suspect)")
        assert "suspect" in row_of(await shown(pilot, app), "86a46ab")
        await pilot.press("y")
        await settle(pilot, app)
        assert app.clipboard == "git revert " + "86a46ab" * 5
        await pilot.press("up")  # the responder moves: the hint follows, the cursor stays theirs
        await pilot.pause()
        assert pane.border_subtitle.startswith("y git revert f00dfee ·")
        app.feed_all()
        await pilot.pause()
        assert pane.focused_commit().short_sha == "f00dfee"  # type: ignore[union-attr]


async def test_commits_f_marks_the_fix_which_is_no_freeze_breach(tmp_path: Path, clock: ManualClock) -> None:
    app = static_app(tmp_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        with_suspect(app, clock.now)
        app.screen.query_one("#commits-table").focus()
        text = await shown(pilot, app)
        assert "FREEZE BREACH" in row_of(text, "f00dfee") and "⛔ 1 commit" in text
        await pilot.press("up", "f")
        text = await shown(pilot, app)
        row = row_of(text, "f00dfee")
        assert "fix" in row.split() and "FREEZE" not in row and "⛔" not in text
        assert app.screen.query_one(CommitsPane).border_subtitle.startswith("y git revert f00dfee (fix)")
        notes = [n.message for n in app._notifications]
        assert "f00dfee marked as the fix (no freeze breach)." in notes
        await pilot.press("f")  # a wrong row: the mark is taken back, the breach is back
        text = await shown(pilot, app)
        assert "FREEZE BREACH" in row_of(text, "f00dfee") and "⛔ 1 commit" in text
        notes = [n.message for n in app._notifications]
        assert notes[-1] == "f00dfee is no longer marked as the fix (f marks it again)."
    marked = [e.body for e in app.journal.events(app.incident.id) if isinstance(e.body, ev.CommitMarked)]  # type: ignore[union-attr]
    assert marked == [
        ev.CommitMarked("f00dfee" * 5, "fix", "fix typo in campaign list"),
        ev.CommitMarked("f00dfee" * 5, "", "fix typo in campaign list"),
    ]
    assert marked[1].describe() == "Commit f00dfee no longer marked as the fix"


async def test_commits_a_revert_of_the_suspect_is_marked_revert(tmp_path: Path, clock: ManualClock) -> None:
    app = static_app(tmp_path, clock)
    now = clock.now
    revert = replace(
        commit(now, "5eed5ee", 1, 'Revert "deploy: production 2026.11.26-1 (send-sms batching)"'),
        freeze_breach=True,
    )
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        with_suspect(app, now, commits=(revert, *commits(now)))
        row = row_of(await shown(pilot, app), "5eed5ee")
        assert "revert" in row.split() and "FREEZE" not in row


@pytest.mark.parametrize("size", [(160, 48), (120, 30), (80, 24)])
async def test_commits_subject_and_marks_show_at_every_width(
    tmp_path: Path, clock: ManualClock, size: tuple[int, int]
) -> None:
    app = static_app(tmp_path, clock)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        if size[0] < 160:
            app.screen.query_one("#tabs").active = "tab-changes"
        with_suspect(app, clock.now)
        text = await shown(pilot, app)
        for sha, marks, subject in (
            ("f00dfee", "FREEZE BREACH", "fix typo in"),
            ("86a46ab", "deploy functions suspect", "deploy:"),
        ):
            row = row_of(text, sha)  # rows show, even at 80x24
            assert marks in row and subject in row.split(marks, 1)[1], (sha, row)


# -- status pages ------------------------------------------------------------------------------------


async def test_status_pane_shows_indicators_components_incidents(tmp_path: Path, clock: ManualClock) -> None:
    app = static_app(tmp_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.screen.query_one("#right-tabs").active = "tab-status"
        assert "not read yet" in await shown(pilot, app)
        with_state(app, pages=statuses(clock.now))
        text = await shown(pilot, app)
        assert "● Supabase  All Systems Operational" in text
        assert "■ Twilio  Partial System Outage" in text
        assert "1 ALARM" in text
        assert "UPSTREAM ■ Twilio" in text.splitlines()[0]  # and the header says so from any tab
        assert "T-Mobile: partial outage" in text
        assert "Delayed SMS delivery to T-Mobile US" in text


async def test_status_pane_unknown_keeps_the_last_readable_answer(tmp_path: Path, clock: ManualClock) -> None:
    app = static_app(tmp_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.screen.query_one("#right-tabs").active = "tab-status"
        good = statuses(clock.now)
        with_state(app, pages={"Supabase": good["Supabase"], "Twilio": unreadable(clock.now, good["Twilio"])})
        text = await shown(pilot, app)
        assert "? Twilio  unknown: timeout after 5 s" in text
        assert "last readable 25 s ago" in text
        assert "T-Mobile: partial outage" in text  # what the page said last, shown as such


# -- decision tree -------------------------------------------------------------------------------------


async def test_decision_tree_without_data(tmp_path: Path, clock: ManualClock) -> None:
    app = static_app(tmp_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.screen.query_one("#right-tabs").active = "tab-decision"
        text = await shown(pilot, app)
        assert "1. Is it a recent deployment? ?" in text
        assert "2. Is it affecting all users? not answered" in text
        assert "(a answers)" in text
        assert "3. Is error rate increasing? ?" in text


async def test_decision_tree_answered_from_evidence(tmp_path: Path, clock: ManualClock) -> None:
    app = static_app(tmp_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.screen.query_one("#right-tabs").active = "tab-decision"
        with_state(app, git=git_snapshot(clock.now), corr=deploy_correlation(clock.now))
        answers = app.live.decision(app.incident).answers
        assert answers[0].answer == "yes" and "Rollback deployment" in answers[0].action
        text = await shown(pilot, app)
        assert "1. Is it a recent deployment? YES → Rollback deployment" in text
        # the rollback command is ready to copy
        lst = app.screen.query_one(DecisionList)
        lst.focus()
        lst.highlighted = next(
            i for i in range(lst.option_count) if lst.get_option_at_index(i).id == "q:recent_deployment:c0"
        )
        await pilot.press("y")
        await settle(pilot, app)
        assert app.clipboard == "git revert " + "86a46ab" * 5 + "\ngit push\n# Trigger redeployment"
        # the responder answers "affecting all users?"
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceModal)
        await pilot.press("enter")  # yes
        text = await shown(pilot, app)
        assert "2. Is it affecting all users? YES → Check platform status" in text
    assert app.incident is not None and app.incident.answers[ALL_USERS.text][0] == "yes"
    assert any(isinstance(e.body, ev.Answered) for e in app.journal.events(app.incident.id))


async def test_decision_tree_no_deploy_before_the_spike(tmp_path: Path, clock: ManualClock) -> None:
    app = static_app(tmp_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.screen.query_one("#right-tabs").active = "tab-decision"
        corr = correlate(spike_series(clock.now), (), clock.now)
        with_state(app, git=git_snapshot(clock.now, commits=()), corr=corr)
        text = await shown(pilot, app)
        assert "1. Is it a recent deployment? NO → Continue investigating" in text
        assert "no deploy or migration in the 2 h before" in text


# -- snapshots of each state -----------------------------------------------------------------------------


def pane_snapshot(snap_compare, tmp_path: Path, pane, state, size=(110, 26)) -> bool:  # type: ignore[no-untyped-def]
    clock = ManualClock()
    app = static_app(tmp_path, clock)

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.pause()
        await app.push_screen(PaneScreen(pane))
        state(app, clock.now)
        app.feed_all()
        await pilot.pause()

    return snap_compare(app, terminal_size=size, run_before=run_before)


def test_snapshot_commits_with_deploy_suspected(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    def state(app, now):  # type: ignore[no-untyped-def]
        app.live.git = git_snapshot(now)
        app.live.correlation = deploy_correlation(now)

    assert pane_snapshot(snap_compare, tmp_path, CommitsPane, state)


def test_snapshot_commits_reading(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert pane_snapshot(snap_compare, tmp_path, CommitsPane, lambda app, now: None)


def test_snapshot_commits_not_a_repository(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    def state(app, now):  # type: ignore[no-untyped-def]
        app.live.git = git_problem("not_repository", "/srv/ace-engage is not a git repository")

    assert pane_snapshot(snap_compare, tmp_path, CommitsPane, state)


def test_snapshot_commits_empty_repository(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    def state(app, now):  # type: ignore[no-untyped-def]
        app.live.git = git_problem("empty", "the repository has no commits yet")

    assert pane_snapshot(snap_compare, tmp_path, CommitsPane, state)


def test_snapshot_status_pages_outage(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    def state(app, now):  # type: ignore[no-untyped-def]
        app.live.pages = statuses(now)

    assert pane_snapshot(snap_compare, tmp_path, StatusPane, state)


def test_snapshot_status_pages_unknown(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    def state(app, now):  # type: ignore[no-untyped-def]
        good = statuses(now)
        app.live.pages = {"Supabase": good["Supabase"], "Twilio": unreadable(now, good["Twilio"])}

    assert pane_snapshot(snap_compare, tmp_path, StatusPane, state)


def test_snapshot_status_pages_not_read_yet(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert pane_snapshot(snap_compare, tmp_path, StatusPane, lambda app, now: None)


def test_snapshot_decision_without_data(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert pane_snapshot(snap_compare, tmp_path, DecisionPane, lambda app, now: None, size=(110, 40))


def test_snapshot_decision_deploy_suspected(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    def state(app, now):  # type: ignore[no-untyped-def]
        app.live.git = git_snapshot(now)
        app.live.correlation = deploy_correlation(now)
        app.record(ev.Answered(ALL_USERS.text, "no"))

    assert pane_snapshot(snap_compare, tmp_path, DecisionPane, state, size=(110, 40))


async def test_status_pane_uses_the_whole_tab_and_says_what_it_left_out(
    tmp_path: Path, clock: ManualClock
) -> None:
    """A page with 30 degraded components: the Upstream tab shows as many as fit (it was cut at
    8 rows), and a reading that kept only some of them says how many more there are."""
    from dataclasses import replace

    from warroom.sources.statuspage import Component

    app = static_app(tmp_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.screen.query_one("#right-tabs").active = "tab-status"
        pages = statuses(clock.now)
        many = tuple(Component(f"c{i}", f"Carrier {i:02d}", "degraded_performance") for i in range(30))
        pages["Twilio"] = replace(pages["Twilio"], components=many)
        with_state(app, pages=pages)
        text = await shown(pilot, app)
        assert sum(1 for line in text.splitlines() if "› Carrier" in line) >= 20
        pages["Twilio"] = replace(pages["Twilio"], components=many[:5], components_omitted=170)
        with_state(app, pages=pages)
        assert "… and 170 more not listed" in await shown(pilot, app)


def console_with_commits(snap_compare, tmp_path: Path, size: tuple[int, int]) -> bool:  # type: ignore[no-untyped-def]
    """The whole console with the suspect deploy, a commit marked as the fix and one landed during
    the freeze: the subject and the marks at this width."""
    clock = ManualClock()
    app = static_app(tmp_path, clock)

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.pause()
        if size[0] < 160:
            app.screen.query_one("#tabs").active = "tab-changes"
        now = clock.now
        fix = commit(
            now, "0ff1ce0", 1, "send-sms: cap the batch at 50 (hotfix)", breach=True, parent="f00dfee"
        )
        with_suspect(app, now, commits=(fix, *commits(now)))
        app.record(ev.CommitMarked(fix.sha, "fix", fix.subject))
        app.screen.query_one("#commits-table").focus()
        await pilot.pause()

    return snap_compare(app, terminal_size=size, run_before=run_before)


def test_snapshot_console_commits_160x48(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert console_with_commits(snap_compare, tmp_path, (160, 48))


def test_snapshot_console_commits_80x24(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert console_with_commits(snap_compare, tmp_path, (80, 24))


def console_with_ticks(snap_compare, tmp_path: Path, size: tuple[int, int]) -> bool:  # type: ignore[no-untyped-def]
    """The checklists with two ticks (their times in one column), one of them on an item that
    wraps (under its text), the cursor moved on to the next unticked item."""
    clock = ManualClock()
    app = static_app(tmp_path, clock)

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.pause()
        clock.advance(minutes=2)
        app.record(ev.ItemTicked("actions-P0", "create-incident-channel", "Create incident channel"))
        clock.advance(minutes=5)
        pane = app.screen.query_one(ChecklistPane)
        ol = pane.query_one(ChecklistList)
        ids = [ol.get_option_at_index(i).id for i in range(ol.option_count)]
        ol.highlighted = ids.index("investigation\x1fcheck-external-service-status-twilio-etc")
        ol.focus()
        await pilot.press("space")
        await pilot.pause()

    return snap_compare(app, terminal_size=size, run_before=run_before)


def test_snapshot_console_checklist_160x48(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert console_with_ticks(snap_compare, tmp_path, (160, 48))


def test_snapshot_console_checklist_80x24(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert console_with_ticks(snap_compare, tmp_path, (80, 24))
