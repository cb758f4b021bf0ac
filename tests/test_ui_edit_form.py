"""The edit form (``e``): a long title shows from its first letter, every field can be reached
with a line saying how many are out of view, and the save hint shows at 80x24."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input

from conftest import ManualClock
from uihelpers import make_app, make_journal, make_settings, shown
from warroom.ui.screens.modals import EDITABLE, EditFieldsModal

LONG_TITLE = "Checkout payments failing for every EU customer after the 14:02 deploy of the billing service"


def app_with_long_title(tmp_path: Path, clock: ManualClock):  # type: ignore[no-untyped-def]
    settings = make_settings(tmp_path)
    journal = make_journal(settings, clock)
    journal.declare("P0", LONG_TITLE, impact="All EU customers", lead="alice")
    return make_app(settings, journal, clock)


async def test_the_edit_form_at_80x24_keeps_the_save_hint_and_says_what_is_below(
    tmp_path: Path, clock: ManualClock
) -> None:
    app = app_with_long_title(tmp_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("e")
        text = await shown(pilot, app)
        assert isinstance(app.screen, EditFieldsModal)
        assert "ctrl+s saves" in text
        assert "Checkout payments failing" in text, text  # from its first letter, not its end
        shown_labels = [label for label in ("Title", "Impact (internal)") if label in text]
        assert shown_labels == ["Title", "Impact (internal)"]
        rows = app.screen.query(".row")
        region = app.screen.query_one("#fields").region
        hidden = [r for r in rows if not region.contains_region(r.region)]
        if hidden:  # more fields than rows: the form says so
            assert f"↓ {len(hidden)} more field" in text
        # every field is reached by tab, and each one shows when it has the focus
        for key in EDITABLE[1:]:
            await pilot.press("tab")
            await pilot.pause()
            focused = app.screen.focused
            assert isinstance(focused, Input) and focused.id == f"f-{key}"
            await pilot.pause()
            assert region.contains_region(focused.region), key
        text = await shown(pilot, app)
        assert "ctrl+s saves" in text and "↓" not in text  # at the last field nothing is below
        for _ in EDITABLE[1:]:
            await pilot.press("shift+tab")
        await pilot.press(*"EU checkout down")  # the whole value is selected: typing replaces it
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.incident is not None and app.incident.title == "EU checkout down"


async def test_the_edit_form_says_how_many_fields_are_below_when_they_do_not_fit(
    tmp_path: Path, clock: ManualClock
) -> None:
    app = app_with_long_title(tmp_path, clock)
    async with app.run_test(size=(80, 16)) as pilot:
        await pilot.pause()
        await pilot.press("e")
        text = await shown(pilot, app)
        rows = app.screen.query(".row")
        region = app.screen.query_one("#fields").region
        hidden = [r for r in rows if not region.contains_region(r.region)]
        assert hidden
        assert f"↓ {len(hidden)} more fields below" in text
        assert "ctrl+s saves" in text
        for _ in EDITABLE[1:]:
            await pilot.press("tab")
        text = await shown(pilot, app)
        assert "↓" not in text and "↑" in text and "above" in text


def test_snapshot_edit_form_80x24(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(app_with_long_title(tmp_path, ManualClock()), terminal_size=(80, 24), press=["e"])


def test_snapshot_edit_form_160x48(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(app_with_long_title(tmp_path, ManualClock()), terminal_size=(160, 48), press=["e"])
