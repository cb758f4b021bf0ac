"""The Templates pane's tabs at 160x48: a label is shown whole or as its key, never cut."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Tab

from conftest import ManualClock
from test_ui_snapshots import p0_investigating_overdue
from uihelpers import shown
from warroom.ui.panes.templates import TemplatesPane


async def test_template_tabs_are_whole_or_keys_and_the_selected_one_whole(
    tmp_path: Path, clock: ManualClock
) -> None:
    app = p0_investigating_overdue(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        pane = app.screen.query_one(TemplatesPane)
        tab_list = pane.query_one("#template-list")
        await shown(pilot, app)
        whole = dict(pane.tab_labels)
        for _ in range(len(whole)):
            text = await shown(pilot, app)
            tab_row = next(line for line in text.splitlines() if "1 " in line and " 2" in line)
            tabs = list(tab_list.query(Tab))
            assert sum(t.region.width for t in tabs) <= tab_list.region.width
            for tab, (key, label) in zip(tabs, pane.tab_labels, strict=True):
                shown_label = tab.label.plain
                assert shown_label in (key, label)
                assert shown_label in tab_row  # on screen, not scrolled out of view
                if tab.id == tab_list.active:
                    assert shown_label == label
            tab_list.focus()
            await pilot.press("right")
            await pilot.pause()


def test_snapshot_template_tabs_160x48_third_selected(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = p0_investigating_overdue(tmp_path)

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.pause()
        app.screen.query_one("#template-list").focus()
        await pilot.press("right", "right")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(160, 48), run_before=run_before)
