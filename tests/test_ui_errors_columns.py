"""The errors pane's numbers: the count at the declaration is a count (never a negative
difference), and every number carries thousands separators."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from textual.widgets import DataTable

from conftest import ManualClock
from panedata import static_app
from test_tallies import HOUR, T0, M, S, groups_from_rows, load
from test_ui_panes import PaneScreen
from uihelpers import shown
from warroom.sources.dbpoll import ConnectionState
from warroom.sources.tallies import Tallies
from warroom.ui.panes.database import DbView, ErrorsPane


def falling_errors() -> object:
    """3,000 "Old" errors in the hour before the declaration, 1,200 since; 1,500 new ones."""
    declared = T0 - 10 * M
    t = Tallies(HOUR, limit=10)
    before = [("Old", "x", T0 - 65 * M + i * S / 10) for i in range(3000)]
    after = [("Old", "x", T0 - 5 * M + i * S / 10) for i in range(1200)]
    new = [("New", "y", T0 - 4 * M + i * S / 10) for i in range(1500)]
    rows = before + after + new
    load(t, rows, T0)
    t.set_baseline(declared, groups_from_rows(rows, after=declared - HOUR, upto=declared))
    return t.snapshot(T0)


async def test_errors_pane_shows_the_count_at_declaration_not_a_negative_difference(
    tmp_path: Path,
) -> None:
    clock = ManualClock(datetime(2026, 11, 26, 14, 0, tzinfo=UTC))
    app = static_app(tmp_path, clock)
    async with app.run_test(size=(200, 40)) as pilot:
        await pilot.pause()
        await app.push_screen(PaneScreen(ErrorsPane))
        await pilot.pause()
        pane = app.screen.query_one(ErrorsPane)
        snap = falling_errors()
        pane.view = DbView(ConnectionState("connected", since=T0), snap, False, T0)
        text = await shown(pilot, app)
        table = pane.query_one("#errors-table", DataTable)
        assert "At declaration" in text and "Δdecl" not in text
        cells = {str(table.get_cell(r.key, "type")): table.get_row(r.key) for r in table.ordered_rows}
        old, new = cells["Old"], cells["New"]
        assert (str(old[0]), str(old[2])) == ("1,200", "3,000")  # fewer now than then: no "-1,800"
        assert (str(new[0]), str(new[2])) == ("1,500", "0")
        assert "-1,800" not in text and "1,200" in text and "3,000" in text


async def test_database_pane_numbers_have_thousands_separators(tmp_path: Path) -> None:
    from warroom.sources.dbpoll import HealthSnapshot
    from warroom.ui.panes.database import HealthPane

    clock = ManualClock(T0)
    app = static_app(tmp_path, clock)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause()
        await app.push_screen(PaneScreen(HealthPane))
        await pilot.pause()
        pane = app.screen.query_one(HealthPane)
        health = HealthSnapshot(T0, 10_000, 4_321, 2_345, 1_200, 1_500, 1_050, 0, None, (), None)
        pane.view = DbView(ConnectionState("connected", since=T0), health, False, T0)
        text = await shown(pilot, app)
        assert "4,321/10,000" in text
        for shown_number in ("active 2,345", "lock wait 1,200", "idle 1,500", "idle in tx 1,050"):
            assert shown_number in text, shown_number
