"""Themes as TOML files: the shipped ``themes/`` folder, then ``<config dir>/themes``.

A theme file holds Textual ``Theme`` fields (``name``, ``primary``, ``background``...) and an
optional ``[variables]`` table. A file that cannot be read or validated is skipped and reported
in one line; the console then falls back to the default theme.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from textual.color import Color, ColorParseError
from textual.theme import Theme

DEFAULT_THEME = "warroom-dark"
ALIASES = {
    "dark": "warroom-dark",
    "light": "warroom-light",
    "high-contrast": "warroom-high-contrast",
    "contrast": "warroom-high-contrast",
}
_COLOURS = (
    "primary",
    "secondary",
    "warning",
    "error",
    "success",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
)
_KEYS = {"name", "dark", "luminosity_spread", "text_alpha", "variables", *_COLOURS}


@dataclass
class ThemeLoad:
    themes: list[Theme] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def theme_dirs() -> list[Path]:
    from warroom.resources import shipped_dir

    dirs = [shipped_dir("themes")]
    try:
        import platformdirs

        dirs.append(platformdirs.user_config_path("warroom", appauthor=False) / "themes")
    except Exception:  # no home directory: shipped themes only
        pass
    return [d for d in dirs if d.is_dir()]


def _colour(path: Path, key: str, value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f'{path}: {key}: expected a colour like "#5AA9FF", got {value!r}')
    try:
        Color.parse(value)
    except ColorParseError:
        raise ValueError(f'{path}: {key}: expected a colour like "#5AA9FF", got {value!r}') from None
    return value


def load_theme_file(path: Path) -> Theme:
    """One theme from a TOML file; ValueError with a one-line message when it is not usable."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"{path}: cannot be read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path}: is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: is not valid TOML ({exc})") from None
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise ValueError(f"{path}: unknown key {unknown[0]!r}")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"{path}: name: expected a non-empty string")
    if "primary" not in data:
        raise ValueError(f"{path}: primary: a theme needs at least a primary colour")
    colours = {k: _colour(path, k, data[k]) for k in _COLOURS if k in data}
    dark = data.get("dark", True)
    if not isinstance(dark, bool):
        raise ValueError(f"{path}: dark: expected true or false, got {dark!r}")
    numbers = {}
    for key in ("luminosity_spread", "text_alpha"):
        if key in data:
            v = data[key]
            if not isinstance(v, int | float) or isinstance(v, bool) or not 0 <= v <= 1:
                raise ValueError(f"{path}: {key}: expected a number from 0 to 1, got {v!r}")
            numbers[key] = float(v)
    variables = data.get("variables", {})
    if not isinstance(variables, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in variables.items()
    ):
        raise ValueError(f"{path}: variables: expected a table of strings")
    for key, value in variables.items():
        if key.endswith(("background", "foreground", "border", "border-blurred")):
            _colour(path, f"variables.{key}", value)
    return Theme(name=name.strip(), dark=dark, variables=dict(variables), **colours, **numbers)


def load_themes(dirs: list[Path] | None = None) -> ThemeLoad:
    out = ThemeLoad()
    seen: set[str] = set()
    for d in theme_dirs() if dirs is None else dirs:
        for path in sorted(d.glob("*.toml")):
            try:
                theme = load_theme_file(path)
            except ValueError as exc:
                out.problems.append(str(exc))
                continue
            if theme.name in seen:
                out.themes = [t for t in out.themes if t.name != theme.name]
            seen.add(theme.name)
            out.themes.append(theme)
    return out


def resolve_name(name: str) -> str:
    return ALIASES.get(name.strip().lower(), name.strip())
