"""A damaged journal as the user meets it: `list` and the console name the damaged incident and
the way out, the others stay usable, and `warroom journal recover` salvages the rest."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from conftest import ManualClock
from test_cli import env, run  # noqa: F401 - a fixture
from uihelpers import make_app, make_settings, shown
from warroom.incident.journal import RECOVER_COMMAND, Journal


def two_incidents(path: Path) -> tuple[str, str]:
    with Journal(path, actor="alice") as journal:
        good = journal.declare("P0", "Today's P0").incident_id
        bad = journal.declare("P2", "Yesterday's P2").incident_id
    db = sqlite3.connect(path)
    db.execute("UPDATE events SET data = '{not json' WHERE incident_id = ?", (bad,))
    db.commit()
    db.close()
    return good, bad


def test_list_names_the_damaged_incident_and_shows_the_others(env: dict[str, str]) -> None:  # noqa: F811
    good, bad = two_incidents(Path(env["WARROOM_STATE_DIR"]) / "journal.sqlite3")
    p = run(env, "list")
    assert p.returncode == 0, p.stderr
    assert good in p.stdout and bad not in p.stdout
    assert f"warroom: {bad} cannot be opened" in p.stderr
    assert RECOVER_COMMAND in p.stderr
    check = run(env, "check")
    assert check.returncode == 1
    assert f"1 cannot be opened (run `{RECOVER_COMMAND}`)" in check.stdout


def test_journal_recover_sets_the_damage_aside(env: dict[str, str]) -> None:  # noqa: F811
    good, _ = two_incidents(Path(env["WARROOM_STATE_DIR"]) / "journal.sqlite3")
    p = run(env, "journal", "recover")
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip()
    after = run(env, "list")
    assert good in after.stdout


async def test_the_console_opens_the_good_incident_and_says_why_the_other_is_missing(
    tmp_path: Path, clock: ManualClock
) -> None:
    settings = make_settings(tmp_path)
    good, bad = two_incidents(settings.journal_path)
    app = make_app(settings, Journal(settings.journal_path, actor="alice", clock=clock), clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await shown(pilot, app)
        assert app.incident is not None and app.incident.id == good
        said = " ".join(n.message for n in app._notifications)
        assert bad in said and RECOVER_COMMAND in said
