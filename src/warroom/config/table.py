"""Reading ``warroom.toml``: the file (:func:`read_toml`) and one table of it (:class:`Table`):
typed reads of its keys, each refused in one line naming the file, the table, the key and what was
expected (:class:`ConfigError`), and its unknown keys.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any

from warroom.durations import DurationError, describe_duration, parse_duration
from warroom.settings.keys import (
    LIST_MAX,
    LONG_TEXT_MAX,
    TEXT_MAX,
    Duration,
    Flag,
    Key,
    Number,
    PathTo,
    Special,
    Text,
    TextList,
    Whole,
)
from warroom.text import clean, unsafe_character


class ConfigError(Exception):
    """A configuration problem; ``str(error)`` is one line for the user (cleaned and bounded: it
    quotes keys, values and paths from a file that may be anybody's)."""

    def __init__(self, message: str) -> None:
        super().__init__(clean(message, max_len=CONFIG_ERROR_MAX))


CONFIG_ERROR_MAX = 1000


def _key(key: str) -> str:
    """A TOML key as a message names it: as written when it is a plain name, else quoted and cut."""
    return key if re.fullmatch(r"[A-Za-z0-9_.-]{1,60}", key) else show_value(key)


# -- reading a TOML file ----------------------------------------------------------------------


# The readers of the keys of kind Special (a table of their own: the playbook's severities, the
# command panes' command...), by the key's name: warroom.config registers them.
SPECIAL: dict[str, Callable[[Table, Any], Any]] = {}


class Table:
    """One TOML table: typed reads of its keys that raise one-line errors, and its unknown keys."""

    def __init__(
        self, file: str, where: str, data: Mapping[str, Any], base: Path | None, name: str = ""
    ) -> None:
        self.file = file
        self.where = where  # how messages name this table: "", "[database]", "[[status_pages]] #2"
        self.data = data
        self.base = base
        # The dotted TOML name ("playbook.severities"); "" for the top level.
        if not name and where.startswith("[") and not where.startswith("[["):
            name = where[1:-1]
        self.name = name
        self.used: set[str] = set()
        self._known: tuple[str, ...] = ()

    def error(self, key: str, expected: str, value: Any = None, *, show: bool = True) -> ConfigError:
        got = f", got {show_value(value)}" if show else ""
        loc = f"{self.where} {_key(key)}" if self.where else _key(key)
        return ConfigError(f"{self.file}: {loc}: expected {expected}{got}")

    def has(self, key: str) -> bool:
        return key in self.data

    def raw(self, key: str) -> Any:
        self.used.add(key)
        return self.data[key]

    def read(self, key: Key, default: Any) -> Any:
        """The value of a declared key: checked against its kind, or its default when not given."""
        kind = key.kind
        if isinstance(kind, Special):
            return SPECIAL[key.name](self, default)
        if key.name not in self.data:
            if key.required:
                raise self.error(key.name, key.required, show=False)
            return default
        value = self._typed(key.name, kind)
        check = kind.check if isinstance(kind, Text | TextList) else None
        refusal = check(value) if check is not None else None
        if refusal is not None:
            raise self.error(key.name, *refusal)
        return value

    def _typed(self, key: str, kind: Any) -> Any:
        match kind:
            case Text():
                return self.text(key, allow_empty=kind.allow_empty, max_len=kind.max_len)
            case Flag():
                return self.flag(key)
            case Whole():
                return self.whole(key, kind.lo, kind.hi)
            case Number():
                return self.number(key, kind.lo, kind.hi)
            case Duration():
                return self.duration(key, lo=kind.lo, hi=kind.hi, allow_none=kind.allow_none)
            case PathTo():
                return self.path(key, must_exist=kind.must_exist)
            case TextList():
                return self.text_list(key, allow_empty_list=kind.allow_empty_list)
        raise TypeError(kind)

    def text(self, key: str, *, allow_empty: bool = True, max_len: int = TEXT_MAX) -> str:
        v = self.raw(key)
        if not isinstance(v, str) or (not allow_empty and not v.strip()):
            raise self.error(key, "a non-empty string" if not allow_empty else "a string", v)
        return self._safe(key, v, max_len)

    def _safe(self, key: str, v: str, max_len: int) -> str:
        """Configuration text reaches the screen, the journal and `warroom check`: a found file
        is untrusted, so control characters and bidi overrides are refused, lengths bounded."""
        bad = unsafe_character(v)
        if bad:
            raise self.error(key, f"text without control characters (found {bad})", show=False)
        if len(v) > max_len:
            raise self.error(key, f"at most {max_len} characters (got {len(v)})", show=False)
        return v

    def flag(self, key: str) -> bool:
        v = self.raw(key)
        if not isinstance(v, bool):
            raise self.error(key, "true or false", v)
        return v

    def whole(self, key: str, lo: int, hi: int) -> int:
        v = self.raw(key)
        if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
            raise self.error(key, f"a whole number from {lo} to {hi}", v)
        return v

    def number(self, key: str, lo: float, hi: float) -> float:
        v = self.raw(key)
        if not isinstance(v, int | float) or isinstance(v, bool) or not lo <= v <= hi:
            raise self.error(key, f"a number from {lo:g} to {hi:g}", v)
        return float(v)

    def duration(self, key: str, *, lo: timedelta, hi: timedelta, allow_none: bool) -> timedelta | None:
        v = self.raw(key)
        if allow_none and (v is False or (isinstance(v, str) and v.strip().lower() in {"none", "off"})):
            return None
        expected = "a duration like '15m' or '1h30m'" + (' (or "none")' if allow_none else "")
        try:
            td = parse_duration(v)
        except DurationError:
            raise self.error(key, expected, v) from None
        if td < lo:
            raise self.error(key, f"a duration of at least {describe_duration(lo)}", v)
        if td > hi:
            raise self.error(key, f"a duration of at most {describe_duration(hi)}", v)
        return td

    def path(self, key: str, *, must_exist: str) -> Path:
        v = self.raw(key)
        if not isinstance(v, str) or not v.strip():
            raise self.error(key, "a path", v)
        p = Path(os.path.expandvars(self._safe(key, v, LONG_TEXT_MAX))).expanduser()
        if not p.is_absolute() and self.base is not None:
            p = self.base / p
        if not must_exist:
            return p
        try:
            found = p.is_file() if must_exist == "file" else p.is_dir()
        except OSError as exc:  # a name too long for the file system, a loop of links
            raise self.error(key, f"a usable path ({exc.strerror or exc})", show=False) from None
        if not found:
            what = "file" if must_exist == "file" else "folder"
            raise self.error(key, f"an existing {what} ({p} not found)", show=False)
        return p

    def text_list(self, key: str, *, allow_empty_list: bool) -> tuple[str, ...]:
        v = self.raw(key)
        if not isinstance(v, list) or not all(isinstance(x, str) and x.strip() for x in v):
            raise self.error(key, "a list of non-empty strings", v)
        if not v and not allow_empty_list:
            raise self.error(key, "a list with at least one item", v)
        if len(v) > LIST_MAX:
            raise self.error(key, f"at most {LIST_MAX} items (got {len(v)})", show=False)
        return tuple(self._safe(key, x, TEXT_MAX) for x in v)

    def table(self, key: str) -> Table:
        v = self.data.get(key, {})
        if key in self.data:
            self.used.add(key)
        if not isinstance(v, dict):
            raise self.error(key, "a table", v)
        name = f"{self.name}.{key}" if self.name else key
        # Inside one element of an array of tables, say which element: "[[status_pages]] #2 auth".
        where = f"{self.where} {key}" if self.where.startswith("[[") else f"[{name}]"
        return Table(self.file, where, v, self.base, name)

    def tables(self, key: str) -> list[Table]:
        if key not in self.data:
            return []
        v = self.raw(key)
        name = f"{self.name}.{key}" if self.name else key
        if not isinstance(v, list) or not all(isinstance(x, dict) for x in v):
            raise self.error(key, f"an array of tables ([[{name}]])", v)
        return [Table(self.file, f"[[{name}]] #{i + 1}", x, self.base, name) for i, x in enumerate(v)]

    def known(self, *keys: str) -> Table:
        self._known = keys
        return self

    def done(self) -> None:
        unknown = [k for k in self.data if k not in self.used]
        if unknown:
            known = sorted(self.used | set(self._known))
            hint = f" (known keys: {', '.join(known)})" if known else ""
            loc = f"{self.where} " if self.where else ""
            raise ConfigError(f"{self.file}: {loc}unknown key {show_value(unknown[0])}{hint}")


def show_value(value: Any) -> str:
    """A TOML value as the message shows it: short, one line."""
    if isinstance(value, str):
        text = repr(value)
        return text if len(text) <= 80 else text[:76] + "...'"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list" if value else "an empty list"
    if isinstance(value, date | time):  # TOML dates and times (datetime is a date)
        return value.isoformat()
    return repr(value)


def read_toml(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, expected a TOML file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: is not UTF-8 text (byte {exc.start})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: is not valid TOML ({exc})") from None
    except (ValueError, RecursionError) as exc:  # a number of 5,000 digits; nesting 100,000 deep
        why = "nested too deeply" if isinstance(exc, RecursionError) else "a number too long to read"
        raise ConfigError(f"{path}: is not valid TOML ({why})") from None


def read_keys(t: Table, keys: Sequence[Key], defaults: object) -> dict[str, Any]:
    """Every declared key of a table, by field name: the file's value, else the default (an
    attribute of ``defaults``, or an item when it is a mapping). The table's known keys are these."""
    values = {}
    for key in keys:
        name = key.field_name
        default = defaults.get(name) if isinstance(defaults, Mapping) else getattr(defaults, name)
        values[name] = t.read(key, default)
    t.known(*(key.name for key in keys))
    return values


def whole_table(t: Table, keys: Sequence[Key], defaults: object) -> dict[str, Any]:
    """A table holding only declared keys: read them, then refuse any other."""
    values = read_keys(t, keys, defaults)
    t.done()
    return values
