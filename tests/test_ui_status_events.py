"""A status page read by the running console: one journal event per reading, however many
components changed, written off the UI loop, and credited to the page."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path

from conftest import ManualClock
from test_statuspage import Server, component, json_body, server, summary  # noqa: F401 - a fixture
from uihelpers import make_app, make_journal, make_settings
from warroom.incident import events as ev


def big_outage(n: int) -> dict:
    return summary(
        "major",
        "Partial System Outage",
        [component(f"c{i}", f"Carrier {i}", "degraded_performance") for i in range(n)],
    )


async def test_a_big_outage_is_one_event_and_the_loop_keeps_going(
    server: Server,  # noqa: F811
    tmp_path: Path,
    clock: ManualClock,
) -> None:
    server.routes["twilio"] = json_body(big_outage(400))
    settings = make_settings(tmp_path)
    settings = replace(settings, status=replace(settings.status, pages=(server.page("twilio", "Twilio"),)))
    journal = make_journal(settings, clock)
    journal.declare("P0", "SMS failing", playbook=settings.playbook)
    app = make_app(settings, journal, clock)
    lags: list[float] = []

    async def watch_the_loop() -> None:
        while True:
            t = time.perf_counter()
            await asyncio.sleep(0.01)
            lags.append(time.perf_counter() - t - 0.01)

    async with app.run_test(size=(160, 48)) as pilot:
        watcher = asyncio.create_task(watch_the_loop())
        inc = app.incident
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(
            isinstance(e.body, ev.Observed)
            for e in app.incident.events  # type: ignore[union-attr]
        ):
            await pilot.pause(0.05)
        await pilot.pause(0.3)
        watcher.cancel()
        assert inc is not None
        observed = [e for e in app.incident.events if isinstance(e.body, ev.Observed)]  # type: ignore[union-attr]
    assert len(observed) == 1, [e.body for e in observed]
    body = observed[0].body
    assert isinstance(body, ev.Observed)
    assert observed[0].actor == "status page Twilio"
    # the indicator, the 200 worst components kept, and a line saying 200 more were not listed
    assert body.text == "Twilio: major (Partial System Outage) (and 201 more)"
    assert len(body.lines) == 50 and body.lines[-1].startswith("Twilio: … and ")
    # 401 events written on the loop, one fsync each, froze it ~7 s; one event off the loop does
    # not (the bound leaves room for a loaded machine).
    assert max(lags) < 1.0, f"the UI loop stalled {max(lags):.2f} s"


async def test_a_restart_does_not_write_the_same_reading_again(
    server: Server,  # noqa: F811
    tmp_path: Path,
    clock: ManualClock,
) -> None:
    server.routes["twilio"] = json_body(big_outage(3))
    settings = make_settings(tmp_path)
    settings = replace(settings, status=replace(settings.status, pages=(server.page("twilio", "Twilio"),)))
    journal = make_journal(settings, clock)
    journal.declare("P0", "SMS failing", playbook=settings.playbook)
    for _ in range(2):  # the console, then the console again on the same journal
        app = make_app(settings, journal, clock)
        async with app.run_test(size=(160, 48)) as pilot:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and server.hits.get("twilio", 0) == 0:
                await pilot.pause(0.05)
            await pilot.pause(0.5)
        server.hits.clear()
    incident = journal.load(journal.incident_ids()[0])
    observed = [e.body for e in incident.events if isinstance(e.body, ev.Observed)]
    assert len(observed) == 1
