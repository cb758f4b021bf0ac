"""The header line: what it keeps when the line is short, and how it names upstream trouble."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from conftest import ManualClock
from panedata import static_app, statuses, unreadable
from uihelpers import shown
from warroom.live import Upstream
from warroom.sources.statuspage import PageStatus


def unread(page: PageStatus) -> PageStatus:
    return PageStatus(page.name, page.url, page.fetched_at, "unknown", reason="no network")


async def test_an_unreadable_page_is_not_an_upstream_alarm(tmp_path: Path, clock: ManualClock) -> None:
    app = static_app(tmp_path, clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        good = statuses(clock.now)
        app.live.pages = {name: unread(page) for name, page in good.items()}
        app.feed_all()
        header = (await shown(pilot, app)).splitlines()[0]
        assert "upstream unread: Supabase, Twilio" in header
        assert "▲" not in header and "■" not in header and "UPSTREAM" not in header
        # a page read once keeps what it said last: an outage stays an alarm while it is unreadable
        app.live.pages = {"Twilio": unreadable(clock.now, good["Twilio"])}
        app.feed_all()
        assert "UPSTREAM ■ Twilio" in (await shown(pilot, app)).splitlines()[0]


async def test_the_upstream_alarm_stays_and_the_demo_badge_goes_at_80_columns(
    tmp_path: Path, clock: ManualClock
) -> None:
    app = static_app(tmp_path, clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        app.demo = SimpleNamespace(standin=True)
        app.status_note = "local stand-in (demo), not the real pages"
        app.live.pages = statuses(clock.now)
        app.feed_all()
        wide = (await shown(pilot, app)).splitlines()[0]
        assert "UPSTREAM ■ Twilio (local stand-in)" in wide  # the stand-in said beside its alarm
        await pilot.resize_terminal(200, 48)
        await pilot.pause()
        roomy = (await shown(pilot, app)).splitlines()[0]
        assert "UPSTREAM ■ Twilio (local stand-in)" in roomy and " DEMO " in roomy
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        narrow = (await shown(pilot, app)).splitlines()[0]
        assert "■ Twilio" in narrow, narrow
        assert "DEPLOY FREEZE" in narrow and "DEMO" not in narrow


def test_upstream_trouble_short_of_an_outage_is_a_warning() -> None:
    from warroom.ui.header import upstream_piece

    warning = upstream_piece(Upstream("Twilio", alarm=False))
    assert "".join(t for t, _ in warning.parts) == " UPSTREAM ▲ Twilio "
    assert upstream_piece(Upstream("Twilio", alarm=True)).priority < warning.priority
