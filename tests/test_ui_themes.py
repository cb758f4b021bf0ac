"""Themes: the three shipped TOML files load, a bad file gives one clear message and the default."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from conftest import ManualClock
from uihelpers import make_app, make_journal, make_settings
from warroom.ui import themes
from warroom.ui.themes import DEFAULT_THEME, load_theme_file, load_themes


def test_the_three_shipped_themes_load() -> None:
    loaded = load_themes()
    assert loaded.problems == []
    names = {t.name for t in loaded.themes}
    assert {"warroom-dark", "warroom-light", "warroom-high-contrast"} <= names
    dark = next(t for t in loaded.themes if t.name == "warroom-dark")
    assert dark.dark and dark.primary.startswith("#")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('name = "x"\nprimary = "#zzzzzz"\n', "primary: expected a colour like \"#5AA9FF\", got '#zzzzzz'"),
        ('name = "x"\n', "primary: a theme needs at least a primary colour"),
        ('primary = "#ffffff"\n', "name: expected a non-empty string"),
        ('name = "x"\nprimary = "#ffffff"\nsparkle = true\n', "unknown key 'sparkle'"),
        ('name = "x"\nprimary = "#ffffff"\ndark = "yes"\n', "dark: expected true or false, got 'yes'"),
        ("name = [\n", "is not valid TOML"),
    ],
)
def test_a_bad_theme_file_says_what_is_wrong(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError) as err:
        load_theme_file(path)
    text = str(err.value)
    assert "\n" not in text and str(path) in text and message in text


async def test_a_bad_theme_file_gives_one_notice_and_the_default(
    tmp_path: Path, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = themes.theme_dirs()
    extra = tmp_path / "themes"
    extra.mkdir()
    (extra / "broken.toml").write_text('name = "broken"\nprimary = "not-a-colour"\n', encoding="utf-8")
    monkeypatch.setattr(themes, "theme_dirs", lambda: [*shipped, extra])
    settings = replace(make_settings(tmp_path / "s"), theme="broken")
    journal = make_journal(settings, clock)
    journal.declare("P1", "x")
    app = make_app(settings, journal, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.theme == DEFAULT_THEME
        notes = [n.message for n in app._notifications]
        assert len(notes) == 1
        assert "broken.toml: primary" in notes[0] and "using warroom-dark" in notes[0]


@pytest.mark.parametrize(
    ("name", "expected"), [("light", "warroom-light"), ("high-contrast", "warroom-high-contrast")]
)
async def test_a_theme_is_chosen_by_its_short_name(
    tmp_path: Path, clock: ManualClock, name: str, expected: str
) -> None:
    settings = replace(make_settings(tmp_path), theme=name)
    journal = make_journal(settings, clock)
    journal.declare("P1", "x")
    app = make_app(settings, journal, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.theme == expected
        assert app._notifications == [] or not list(app._notifications)


def contrast(a: object, b: object) -> float:
    """The WCAG contrast ratio of two rich colours."""

    def luminance(colour: object) -> float:
        r, g, b = (c / 255 for c in colour.get_truecolor())  # type: ignore[attr-defined]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize("theme", ["dark", "light", "high-contrast"])
async def test_the_tick_reads_on_the_highlighted_row_in_every_theme(tmp_path: Path, theme: str) -> None:
    """☑ on the checklist's cursor row: green on white in high contrast could not be seen."""
    from warroom.incident import events as ev

    clock = ManualClock()
    settings = replace(make_settings(tmp_path), theme=theme)
    journal = make_journal(settings, clock)
    i = journal.declare("P0", "SMS failing", lead="alice").incident_id
    journal.append(
        i, ev.ItemTicked("actions-P0", "page-on-call-engineer-immediately", "Page on-call engineer")
    )
    app = make_app(settings, journal, clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.pause()
        strips = app.screen._compositor.render_strips()
        row = next(s for s in strips if "Page on-call engineer immediately" in "".join(g.text for g in s))
        mark = next(g for g in row if "☑" in g.text)
        text = next(g for g in row if "Page on-call" in g.text)
        for seg in (mark, text):
            assert seg.style is not None and seg.style.color and seg.style.bgcolor
            assert contrast(seg.style.color, seg.style.bgcolor) >= 3.0, (theme, seg)
