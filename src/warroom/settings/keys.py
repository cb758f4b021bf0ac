"""How a ``warroom.toml`` key is declared (its kind, bounds, environment variable, secrecy and
``warroom check`` line), the checks of one value, and the bounds every setting shares.

:mod:`warroom.settings` declares the settings with these; :mod:`warroom.config` reads a file
through them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import Field, dataclass, fields, replace
from datetime import timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from warroom.durations import describe_duration

TEXT_MAX = 500  # characters of one configuration string (names, checklist items, titles)
LONG_TEXT_MAX = 4096  # a DSN, a path, a URL, a pattern
LIST_MAX = 200  # items of one list (a checklist, migration globs)

# The queries a team can replace with its own .sql file under [database.queries].
QUERY_NAMES = (
    "error_tally",
    "error_tally_ids",
    "error_tally_since",
    "db_health",
    "db_size",
    "sms_failures",
    "error_rate",
)

DEFAULT_MIGRATION_GLOBS = (
    "supabase/migrations/**",
    "migrations/**",
    "**/migrations/**",
    "scripts/sql/**",
)

# -- how a key is declared ------------------------------------------------------------------------

# A refused value: what was expected, and the value the message shows.
Refusal = tuple[str, object]
Check = Callable[[Any], Refusal | None]
# The lines `warroom check` prints for a key, from the object that holds it.
Show = Callable[[Any], list[str]]


@dataclass(frozen=True)
class Text:
    max_len: int = TEXT_MAX
    allow_empty: bool = True
    check: Check | None = None


@dataclass(frozen=True)
class Flag:
    pass


@dataclass(frozen=True)
class Whole:
    lo: int = 0
    hi: int = 10**9


@dataclass(frozen=True)
class Number:
    lo: float
    hi: float


@dataclass(frozen=True)
class Duration:
    lo: timedelta = timedelta(0)
    hi: timedelta = timedelta(days=30)
    allow_none: bool = False  # "none", "off" or false: no duration


@dataclass(frozen=True)
class PathTo:
    must_exist: Literal["", "file", "dir"] = ""


@dataclass(frozen=True)
class TextList:
    allow_empty_list: bool = True
    check: Check | None = None


@dataclass(frozen=True)
class Special:
    """A sub-table, an array of tables or a value of its own syntax: read by its own function in
    :mod:`warroom.config` (found by the key's name)."""


Kind = Text | Flag | Whole | Number | Duration | PathTo | TextList | Special


@dataclass(frozen=True)
class Key:
    """One key of a ``warroom.toml`` table."""

    name: str  # in the file
    kind: Kind
    attr: str = ""  # the field it fills, when its name differs
    table: str = ""  # a key of Settings itself: the table it is in ("incident", "ui", ...)
    required: str = ""  # a key that must be given: what the message says is expected when it is not
    env: str = ""  # the environment variable that gives it (over the file)
    secret: bool = False  # masked wherever text is shown, journaled or logged (see secrets_of)

    @property
    def field_name(self) -> str:
        return self.attr or self.name


_KEY = "warroom.key"
_SHOW = "warroom.show"
_SECTION = "warroom.section"


def key(
    kind: Kind | None = None,
    *,
    name: str = "",
    table: str = "",
    required: str = "",
    show: str | Show | None = None,
    env: str = "",
    secret: bool = False,
) -> dict[str, Any]:
    """The metadata of a field that is a ``warroom.toml`` key (``name``: when it differs from the
    field's; ``kind``: :class:`Special` when not given). ``show``: a label (the value plainly on a
    ``label = value`` line) or a function giving the field's lines in ``warroom check``. ``env``:
    the environment variable that gives the key over the file; ``secret``: its value is masked
    everywhere (:func:`secrets_of`)."""
    declared = Key(name, kind or Special(), table=table, required=required, env=env, secret=secret)
    return {_KEY: declared, _SHOW: show}


def shown_as(show: Show) -> dict[str, Any]:
    """The metadata of a field ``warroom check`` shows that is not a key of its table."""
    return {_SHOW: show}


def section(name: str) -> dict[str, Any]:
    """The metadata of a field of :class:`Settings` that is a table of its own."""
    return {_SECTION: name}


def keys_of(cls: type) -> tuple[Key, ...]:
    """The keys of one table, in the order they are read (a dataclass of this module)."""
    return tuple(_key(f) for f in fields(cls) if _KEY in f.metadata)


def _key(f: Field[Any]) -> Key:
    declared: Key = f.metadata[_KEY]
    return replace(declared, name=declared.name or f.name, attr=f.name)


def line(label: str, value: object) -> str:
    """One line of ``warroom check``."""
    return f"{label:<19} = {value}"


def shown(obj: Any) -> list[str]:
    """The ``warroom check`` lines of an object's keys, in their order."""
    out: list[str] = []
    for f in fields(obj):
        show = f.metadata.get(_SHOW)
        if isinstance(show, str):
            out.append(line(show, _plain(getattr(obj, f.name))))
        elif show is not None:
            out += show(obj)
    return out


def _plain(value: object) -> str:
    if isinstance(value, timedelta):
        return describe_duration(value)
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


# -- checks of one value (a refused value: what was expected, the value shown) ------------------

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?")
_URL = re.compile(r"https?://[A-Za-z0-9._~%!$&'()*+,;=:@\[\]-]+(/[!-~]*)?")
STATUS_URL_EXPECTED = 'the page\'s base URL, like "https://status.example.com"'


def sql_identifier(value: str) -> Refusal | None:
    """A column or table name, or nothing."""
    if value and not _IDENT.fullmatch(value):
        return "an SQL identifier (letters, digits, _; schema.table allowed)", value
    return None


def required_identifier(value: str) -> Refusal | None:
    return sql_identifier(value) or (None if value else ("an SQL identifier", value))


def time_zone(value: str) -> Refusal | None:
    if value:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # tzdata: a folder name raises OSError
            return 'an IANA time zone like "Europe/Berlin"', value
    return None


def regular_expression(value: str) -> Refusal | None:
    try:
        re.compile(value)
    except re.error as exc:
        return f"a regular expression ({exc})", value
    except (OverflowError, RecursionError):  # a{99999999999}; a thousand nested groups
        return "a regular expression (this one is too large)", value
    return None


def status_page_url(value: str) -> Refusal | None:
    return None if _URL.fullmatch(value) else (STATUS_URL_EXPECTED, value)


_NON_EMPTY = "a non-empty string"
_MS = timedelta(milliseconds=1)
_SEC = timedelta(seconds=1)
_MIN = timedelta(minutes=1)
_TIMEOUT = Duration(lo=100 * _MS, hi=60 * _MIN)
