"""The facts of one commit as git prints them, parsed and cleaned once, and kept by sha.

A commit never changes, so what it says about itself (:class:`Meta`: parents, date, author,
subject) and what it changed (:class:`Changes`: its paths, the migrations and edge functions among
them) are parsed once and kept in small least-recently-used maps keyed by the repository's object
store (:data:`metas`, :data:`changes`). Every field is decoded the way git wrote it (UTF-8, else
the encoding the commit declares) and cleaned (:func:`warroom.text.clean`) before it is kept.

A commit's changes are gathered path by path as git lists them (:class:`Touched`): every path
counts for the marks, only the first :data:`PATHS_MAX` are kept (a vendoring commit can touch
100k files). A *migration* is a path matching one of the configured globs (:func:`glob_to_regex`);
a folder touched under ``supabase/functions/`` whose name is a function name may be a function:
the commit's tree says (it holds one of :data:`FUNCTION_ENTRYPOINTS`).
"""

from __future__ import annotations

import codecs
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Generic, TypeVar

from warroom.sources.git.output import FIELD_MAX
from warroom.text import clean, first_line

# Subjects are cut to this length (a commit "subject" can be a whole paragraph).
SUBJECT_MAX = 200
# Paths kept per commit (the marks are computed over all of them).
PATHS_MAX = 200
# Folders under supabase/functions/ looked at per commit (beyond that, the commit counts as
# touching shared code: the rollback redeploys every function).
FOLDERS_MAX = 32
# What makes a folder under supabase/functions/ a function: one of these files in it.
FUNCTION_ENTRYPOINTS = ("index.ts", "index.js", "index.tsx", "index.jsx", "index.mjs")
FUNCTIONS_PREFIX = "supabase/functions/"
# Supabase function names: a letter, then letters, digits, '-' and '_'.
FUNCTION_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
# Commits known by sha: a poll parses only the commits it has not seen before. The report's
# commits_between asks for up to 500 at once.
META_CACHE_SIZE = 1024
CHANGES_CACHE_SIZE = 512

# One commit per record, fields separated by NUL: full sha, parents, committer time, declared
# encoding, author name, author email, subject (the fields a commit's author chooses come last).
META_FORMAT = "%x00".join(("%H", "%P", "%ct", "%e", "%an", "%ae", "%s"))
META_FIELDS = 7
SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


@dataclass(frozen=True)
class Head:
    """One commit as the walk lists it every poll: only what can change for a given sha."""

    sha: str
    short: str  # git lengthens abbreviations as the repository grows
    decorations: str  # "tag: v1.2, tag: deploy-7"; empty unless deploy_tags


@dataclass(frozen=True)
class Meta:
    """What a commit says about itself, parsed and cleaned once (a commit never changes)."""

    parents: tuple[str, ...]
    ctime: int
    author: str
    email: str
    subject: str


@dataclass(frozen=True)
class Changes:
    """What one commit changed, as the marks need it (bounded)."""

    known: bool
    paths: tuple[str, ...] = ()
    total: int = 0
    migration_paths: tuple[str, ...] = ()
    functions: tuple[str, ...] = ()
    shared_functions: bool = False


UNKNOWN_CHANGES = Changes(known=False)


# -- globs ------------------------------------------------------------------------------------------


def glob_to_regex(pattern: str) -> str:
    """A path glob as a regular expression: ``**`` spans folders, ``*``/``?`` stay in one folder.

    ``migrations/**`` matches everything under ``migrations/``; ``**/migrations/**`` matches a
    ``migrations`` folder at any depth; ``[abc]`` is a character class.
    """
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if pattern.startswith("**", i):
            j = i + 2
            at_start = i == 0 or pattern[i - 1] == "/"
            if at_start and pattern.startswith("/", j):  # "**/": zero or more folders
                out.append("(?:.*/)?")
                i = j + 1
                continue
            out.append(".*")
            i = j
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            k = i + 1
            if pattern.startswith("!", k):
                k += 1
            if pattern.startswith("]", k):
                k += 1
            j = pattern.find("]", k)
            if j == -1:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : j]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = j
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


@lru_cache(maxsize=32)
def glob_matcher(globs: tuple[str, ...]) -> Callable[[str], bool]:
    """Whether a path matches any of ``globs`` (leading ``/`` and spaces ignored)."""
    if not globs:
        return lambda _path: False
    rx = re.compile("|".join(f"(?:{glob_to_regex(g.strip().lstrip('/'))})" for g in globs), re.DOTALL)
    return lambda path: rx.fullmatch(path) is not None


# -- decoding ---------------------------------------------------------------------------------------

_UTF8 = codecs.getincrementaldecoder("utf-8")
_LAST_TIMESTAMP = int(datetime(9000, 1, 1, tzinfo=UTC).timestamp())


def decode(raw: bytes, declared: str) -> str:
    """Text of a commit field: UTF-8, else the encoding the commit header declares, else UTF-8
    with replacement characters (git prints such messages byte for byte). A field cut to
    :data:`FIELD_MAX` bytes may end inside a character: that partial character is left out."""
    try:
        return _UTF8(errors="strict").decode(raw, final=len(raw) < FIELD_MAX)
    except UnicodeDecodeError:
        pass
    if declared:
        try:
            codec = codecs.lookup(declared)
        except LookupError:
            codec = None
        if codec is not None:
            try:
                return raw.decode(codec.name)
            except (UnicodeDecodeError, ValueError):
                pass
    return raw.decode("utf-8", errors="replace")


def path_text(path: str) -> str:
    return clean(path, max_len=300)


def when(ctime: int) -> datetime:
    """A committer timestamp as an aware UTC datetime; an absurd one (a hand-made commit dated in
    the year 50,000) is clamped so that no date arithmetic or time zone conversion can overflow."""
    return datetime.fromtimestamp(min(max(ctime, 0), _LAST_TIMESTAMP), tz=UTC)


def parse_meta(row: list[bytes]) -> tuple[str, Meta]:
    """A record of :data:`META_FORMAT` as (sha, its facts), cleaned."""
    sha_b, parents_b, ctime_b, enc_b, author, email, subject = row
    sha = sha_b.decode("ascii", "replace")
    # The field may have been cut inside a sha (an octopus merge with hundreds of parents).
    parents = tuple(p for p in parents_b.decode("ascii", "replace").split() if len(p) == len(sha))
    try:
        ctime = int(ctime_b)
    except ValueError:
        ctime = 0
    declared = enc_b.decode("ascii", "replace").strip()[:64]
    return sha, Meta(
        parents=parents,
        ctime=ctime,
        author=clean(decode(author, declared), max_len=80),
        email=clean(decode(email, declared), max_len=120),
        subject=first_line(decode(subject, declared), max_len=SUBJECT_MAX),
    )


# -- changed paths ----------------------------------------------------------------------------------


class Touched:
    """What one commit changed, gathered path by path as git lists them: every path counts for
    the marks, only the first :data:`PATHS_MAX` are cleaned and kept (a vendoring commit can touch
    100k files), and the folders touched under ``supabase/functions/``."""

    def __init__(self, globs: tuple[str, ...]) -> None:
        self.is_migration_path = glob_matcher(globs)
        self.total = 0
        self.paths: list[str] = []
        self.migrations: list[str] = []
        self.folders: dict[str, None] = {}  # in the order git lists them
        self.too_many_folders = False

    def add(self, raw: bytes) -> None:
        self.total += 1
        path = raw.decode("utf-8", errors="replace")
        if len(self.paths) < PATHS_MAX:
            self.paths.append(path_text(path))
        if len(self.migrations) < PATHS_MAX and self.is_migration_path(path):
            self.migrations.append(path_text(path))
        if path.startswith(FUNCTIONS_PREFIX):
            name, sep, _rest = path[len(FUNCTIONS_PREFIX) :].partition("/")
            if not sep or not name or name in self.folders:
                return  # a file directly in supabase/functions/ (import_map.json...) is neither
            if len(self.folders) < FOLDERS_MAX:
                self.folders[name] = None
            else:
                self.too_many_folders = True

    def candidates(self) -> list[str]:
        """Folders that may be functions (their name is one): the commit's tree says."""
        return [name for name in self.folders if FUNCTION_NAME.fullmatch(name)]

    def finish(self, functions: set[str]) -> Changes:
        """The changes, given which of the touched folders hold an entrypoint at the commit."""
        names = tuple(name for name in self.folders if name in functions)
        return Changes(
            known=True,
            paths=tuple(self.paths),
            total=self.total,
            migration_paths=tuple(self.migrations),
            functions=names,
            shared_functions=self.too_many_folders or len(names) < len(self.folders),
        )


class PathsByCommit:
    """``git log -z --name-only --format=<marker>%H`` output as {sha: what it touched}."""

    def __init__(self, globs: tuple[str, ...]) -> None:
        self.globs = globs
        self.found: dict[str, Touched] = {}
        self.current: Touched | None = None
        self.first_path = False

    def start(self) -> None:
        self.current = None

    def field(self, data: bytes) -> None:
        if self.current is None:
            self.current = self.found[data.decode("ascii", "replace")] = Touched(self.globs)
            self.first_path = True
            return
        if self.first_path:  # after the sha's NUL: "\n", then NUL-terminated paths
            data = data.removeprefix(b"\n")
            self.first_path = False
        if data:
            self.current.add(data)


# -- what is known by sha ---------------------------------------------------------------------------

_K = TypeVar("_K")
_V = TypeVar("_V")


class LRU(Generic[_K, _V]):
    """A small thread-safe least-recently-used map (the UI polls from thread workers)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.data: OrderedDict[_K, _V] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: _K) -> _V | None:
        with self.lock:
            got = self.data.get(key)
            if got is not None:
                self.data.move_to_end(key)
            return got

    def put(self, key: _K, value: _V) -> None:
        with self.lock:
            self.data[key] = value
            self.data.move_to_end(key)
            while len(self.data) > self.size:
                self.data.popitem(last=False)

    def forget(self, keep: Callable[[_K], bool]) -> None:
        with self.lock:
            for key in [k for k in self.data if not keep(k)]:
                del self.data[key]


# Keyed by (object store, sha) and (object store, sha, migration globs).
metas: LRU[tuple[str, str], Meta] = LRU(META_CACHE_SIZE)
changes: LRU[tuple[str, str, tuple[str, ...]], Changes] = LRU(CHANGES_CACHE_SIZE)


def forget(store: str) -> None:
    """Drop everything known about the repository whose object store is ``store`` (the next
    poll of it is a first poll: for benchmarks and tests)."""
    metas.forget(lambda key: key[0] != store)
    changes.forget(lambda key: key[0] != store)
