"""The message templates: which there are, what copying each one means, and sandboxed rendering.

Built-in templates live in the shipped ``templates/`` folder (:func:`warroom.resources.shipped_dir`):

===  =========================  ==================================  ========  ==================
key  name                       title                               audience  counts as update
===  =========================  ==================================  ========  ==================
1    ``internal_declaration``   Internal - Incident Declaration     internal  yes
2    ``internal_update``        Internal - Status Update            internal  yes
3    ``internal_resolution``    Internal - Resolution               internal  once resolved
4    ``customer_notification``  Customer - P0 Notification          customer  yes
5    ``customer_resolution``    Customer - Resolution Notification  customer  once resolved
6    ``customer_update``        Customer - Status Update            customer  yes
-    ``incident_report``        Incident Report (``warroom report``)  -       no
===  =========================  ==================================  ========  ==================

Copied is not posted: what copying and confirming a message journal is :mod:`warroom.comms.updates`.
A resolution message (``resolution``: 3, 5) announces what is true only once the incident is
resolved; the customer status update (6) is the message the customer countdown asks for.

A team overrides a template, or adds its own, in ``settings.templates_dir`` (``[templates] dir``):
a file whose name matches a built-in up to its first dot (``internal_update.j2`` or
``internal_update.txt.j2``) replaces it and keeps its key and meaning; any other ``*.j2`` file is
a new message listed after the built-ins (by file name, no key). A team file may start with a
front-matter comment::

    {#- warroom
    title: Executive summary
    audience: internal
    counts_as_update: no
    -#}

Rendering uses Jinja2's :class:`~jinja2.sandbox.SandboxedEnvironment` (no ``__class__``-style
access, no unsafe callables). Every problem is one line naming the file and the line: a syntax
error, a variable the context lacks (found before rendering, even in a branch not taken), a
missing attribute, a blocked access. A broken template never affects the others.

Unfilled fields (:class:`~warroom.comms.context.Placeholder` values) are tracked through
rendering: :attr:`RenderResult.spans` gives their character offsets in the text so the preview
can highlight them. Templates may test ``{% if theory is filled %}`` and relabel a placeholder
with ``{{ impact | placeholder("[DESCRIPTION]") }}``.
"""

from __future__ import annotations

import dataclasses
import os
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from warroom.comms.context import Placeholder, Stamp, is_placeholder
from warroom.comms.sandbox import (
    SUFFIX,
    Budget,
    OverBudget,
    describe_failure,
    make_environment,
    template_frame,
)
from warroom.text import clean

if TYPE_CHECKING:
    from jinja2 import Environment, Template
    from jinja2.nodes import Template as TemplateNode

    from warroom.settings import Settings

Audience = Literal["internal", "customer"]
Kind = Literal["message", "report"]
Origin = Literal["built-in", "team"]

REPORT = "incident_report"
MAX_TEMPLATE_BYTES = 256 * 1024
# A template runs with bounds: its output, any single value it builds, and its time. A team's
# template is untrusted (a found warroom.toml can name a folder of them): it may loop for ever or
# build a gigabyte string, and must only ever cost one line of error.
MAX_MESSAGE_OUTPUT = 64 * 1024  # characters a message may render to
MAX_REPORT_OUTPUT = 2 * 1024 * 1024  # characters the report may render to
MAX_CACHED_VERSIONS = 64  # template file versions whose text and analysis are kept
MESSAGE_DEADLINE = 2.0  # seconds to parse, compile and render a message
REPORT_DEADLINE = 10.0
# Private-use characters that bracket a placeholder while rendering (clean() turns any private-use
# character coming from outside into U+FFFD, so real text never contains them).
# A marked placeholder is MARK_OPEN <context key> MARK_FIELD <placeholder text> MARK_CLOSE.
MARK_OPEN = "\ue000"
MARK_FIELD = "\ue002"
MARK_CLOSE = "\ue001"
_MARKS = MARK_OPEN + MARK_FIELD + MARK_CLOSE
_MARKED = re.compile(f"{MARK_OPEN}([^{_MARKS}]*){MARK_FIELD}([^{_MARKS}]*){MARK_CLOSE}")
_STRAY = str.maketrans(dict.fromkeys(_MARKS, None))


@dataclass(frozen=True)
class Builtin:
    name: str
    key: str | None
    title: str
    audience: Audience | None
    counts_as_update: bool
    kind: Kind = "message"
    resolution: bool = False  # announces the resolution: true only once the incident is resolved


CUSTOMER_UPDATE = "customer_update"  # the message the customer countdown asks for
BUILTINS: tuple[Builtin, ...] = (
    Builtin("internal_declaration", "1", "Internal - Incident Declaration", "internal", True),
    Builtin("internal_update", "2", "Internal - Status Update", "internal", True),
    Builtin("internal_resolution", "3", "Internal - Resolution", "internal", True, resolution=True),
    Builtin("customer_notification", "4", "Customer - P0 Notification", "customer", True),
    Builtin(
        "customer_resolution", "5", "Customer - Resolution Notification", "customer", True, resolution=True
    ),
    Builtin(CUSTOMER_UPDATE, "6", "Customer - Status Update", "customer", True),
    Builtin(REPORT, None, "Incident Report", None, False, "report"),
)
_BUILTIN_BY_NAME = {b.name: b for b in BUILTINS}


@dataclass(frozen=True)
class TemplateInfo:
    name: str  # "internal_update": the file name up to its first dot
    key: str | None  # "1".."5" for the built-in messages
    title: str
    audience: Audience | None
    counts_as_update: bool
    kind: Kind
    path: Path
    origin: Origin  # "team" when the file comes from settings.templates_dir
    error: str | None = None  # the file cannot be used (unreadable, bad front matter)
    resolution: bool = False  # announces the resolution (see the module docstring)

    @property
    def file(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class Span:
    """Where an unfilled field sits in the rendered text (``text[start:end] == placeholder``)."""

    start: int
    end: int
    placeholder: str  # "[ROOT_CAUSE_THEORY]"
    field: str  # the context key it stands for ("theory"); "" when not known


@dataclass(frozen=True)
class RenderResult:
    template: TemplateInfo
    text: str | None = None
    error: str | None = None  # one line: "<file> line <n>: <what>"
    spans: tuple[Span, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None and self.text is not None

    @property
    def unfilled(self) -> tuple[str, ...]:
        """The placeholders left in the text, each once, in order of appearance."""
        return tuple(dict.fromkeys(s.placeholder for s in self.spans))

    @property
    def unfilled_fields(self) -> tuple[str, ...]:
        """The context keys left unfilled, each once, in order (``theory``, ``eta``...); those in
        :data:`warroom.incident.events.FIELDS` are the ones the ``e`` form edits."""
        return tuple(dict.fromkeys(s.field for s in self.spans if s.field))


class TemplateError(Exception):
    """A template could not be rendered; ``str(error)`` is one line naming file and line."""


# -- marking placeholders ----------------------------------------------------------------------------


def _mark_text(text: str, field: str = "") -> Placeholder:
    if text.startswith(MARK_OPEN):
        return Placeholder(text)
    return Placeholder(
        f"{MARK_OPEN}{field.translate(_STRAY)}{MARK_FIELD}{text.translate(_STRAY)}{MARK_CLOSE}"
    )


def _field_of(value: Any) -> str:
    if isinstance(value, str) and value.startswith(MARK_OPEN):
        return value[1:].split(MARK_FIELD, 1)[0]
    return ""


def _mark(value: Any, field: str = "") -> Any:
    """The context with every placeholder bracketed by the private-use marks (and its key)."""
    if isinstance(value, Placeholder):
        return _mark_text(value, field)
    if isinstance(value, Stamp):
        return Stamp.unknown(_mark_text(value.full, field)) if value.missing else value
    if isinstance(value, str | bytes | int | float | bool) or value is None:
        return value
    if isinstance(value, list):
        return [_mark(v, field) for v in value]
    if isinstance(value, tuple):
        return tuple(_mark(v, field) for v in value)
    if isinstance(value, Mapping):
        return {k: _mark(v, field or str(k)) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            f.name: _mark(getattr(value, f.name), field)
            for f in dataclasses.fields(value)
            if isinstance(getattr(value, f.name), Placeholder | Stamp | list | tuple)
        }
        return dataclasses.replace(value, **changes) if changes else value
    return value


def _inert(text: str) -> str:
    """A piece of rendered output made inert: a team's template may write escape sequences
    (``\\x1b]52;...``) or control characters; the preview and the clipboard get plain text."""
    return clean(text.translate(_STRAY), max_len=MAX_REPORT_OUTPUT, multiline=True)


def _unmark(raw: str) -> tuple[str, tuple[Span, ...]]:
    """The rendered text without its placeholder marks (each piece cleaned), and where the
    placeholders are in it."""
    out: list[str] = []
    spans: list[Span] = []
    pos = 0
    length = 0
    for m in _MARKED.finditer(raw):
        before = _inert(raw[pos : m.start()])
        out.append(before)
        length += len(before)
        field, inner = m.group(1), _inert(m.group(2))
        spans.append(Span(length, length + len(inner), inner, field))
        out.append(inner)
        length += len(inner)
        pos = m.end()
    out.append(_inert(raw[pos:]))
    return "".join(out), tuple(spans)


def _is_unfilled(value: Any) -> bool:
    return is_placeholder(value) or (isinstance(value, str) and value.startswith(MARK_OPEN))


def _filled(value: Any) -> bool:
    from jinja2 import Undefined

    if isinstance(value, Undefined):
        return False
    if _is_unfilled(value):
        return False
    return value not in (None, "", [], ())


def _placeholder_filter(value: Any, label: str) -> Any:
    """``{{ impact | placeholder("[DESCRIPTION]") }}``: the value, or this placeholder if unfilled."""
    return _mark_text(str(label), _field_of(value)) if _is_unfilled(value) else value


def _md_cell(value: Any) -> str:
    """A value made safe for one Markdown table cell (``|`` escaped, one line)."""
    return " ".join(str(value).split()).replace("|", "\\|")


# -- front matter --------------------------------------------------------------------------------------

_FRONT = re.compile(r"\A\{#-?[ \t]*warroom[ \t]*\r?\n(?P<body>.*?)-?#\}", re.DOTALL)
_FRONT_KEYS = ("title", "audience", "counts_as_update")
_YES = {"yes", "true", "on", "1"}
_NO = {"no", "false", "off", "0"}


def _front_matter(source: str, where: str) -> tuple[dict[str, Any], str | None]:
    m = _FRONT.match(source)
    if not m:
        return {}, None
    meta: dict[str, Any] = {}
    first_line = 2
    for offset, raw in enumerate(m.group("body").splitlines()):
        line = raw.strip()
        lineno = first_line + offset
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if not sep:
            return {}, f"{where} line {lineno}: front matter: expected 'key: value', got {line!r}"
        if key not in _FRONT_KEYS:
            known = ", ".join(_FRONT_KEYS)
            return {}, f"{where} line {lineno}: front matter: unknown key {key!r} (known: {known})"
        if key == "title":
            if not value:
                return {}, f"{where} line {lineno}: front matter: title must not be empty"
            meta["title"] = clean(value, max_len=80)
        elif key == "audience":
            v = value.lower()
            if v not in ("internal", "customer", "none"):
                return {}, f"{where} line {lineno}: front matter: audience must be internal, customer or none"
            meta["audience"] = None if v == "none" else v
        else:
            v = value.lower()
            if v not in _YES | _NO:
                return {}, f"{where} line {lineno}: front matter: counts_as_update must be yes or no"
            meta["counts_as_update"] = v in _YES
    if meta.get("counts_as_update") and meta.get("audience", "unset") is None:
        return {}, f"{where}: front matter: counts_as_update needs an audience (internal or customer)"
    return meta, None


def _title_from_name(name: str) -> str:
    words = clean(re.sub(r"[_\-]+", " ", name), max_len=80)
    return (words[:1].upper() + words[1:]) if words else "Template"


def template_name(file_name: str) -> str:
    """``internal_update.txt.j2`` -> ``internal_update``."""
    return file_name.split(".", 1)[0]


# -- the set ---------------------------------------------------------------------------------------------


def _list_dir(folder: Path) -> tuple[list[Path], str | None]:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except FileNotFoundError:
        return [], f"templates folder {folder}: not found"
    except NotADirectoryError:
        return [], f"templates folder {folder}: is not a folder"
    except OSError as exc:
        return [], f"templates folder {folder}: cannot be read ({exc.strerror})"
    out = []
    for e in entries:
        if e.name.startswith(".") or not e.name.endswith(SUFFIX) or not template_name(e.name):
            continue
        try:
            if e.is_file():
                out.append(Path(e.path))
        except OSError:
            continue
    return out, None


def _signature(paths: Iterable[Path]) -> tuple[tuple[str, int, int], ...]:
    sig = []
    for p in paths:
        try:
            st = p.stat()
            sig.append((str(p), st.st_mtime_ns, st.st_size))
        except OSError:
            sig.append((str(p), -1, -1))
    return tuple(sig)


class TemplateSet:
    """The built-in templates plus a team's folder; rescanned on every listing (cheap)."""

    def __init__(self, team_dir: Path | None = None, *, builtin_dir: Path | None = None) -> None:
        if builtin_dir is None:
            from warroom.resources import shipped_dir

            builtin_dir = shipped_dir("templates")
        self.builtin_dir = Path(builtin_dir)
        self.team_dir = Path(team_dir) if team_dir is not None else None
        self._env: Environment | None = None
        self._sig: tuple[Any, ...] | None = None
        self._infos: list[TemplateInfo] = []
        self._problems: list[str] = []
        # Per file version (path, mtime, size): its text, and the names it reads with their first
        # lines plus whether it stands alone (includes, imports or extends no other template).
        self._sources: dict[tuple[str, int, int], tuple[str | None, str | None]] = {}
        self._static: dict[tuple[str, int, int], tuple[set[str], dict[str, int], bool]] = {}
        self._lock = threading.RLock()  # the UI lists templates while a thread renders one
        self.revision = 0  # changes whenever the files change (what a rendering depends on)

    @classmethod
    def from_settings(cls, settings: Settings) -> TemplateSet:
        return cls(settings.templates_dir)

    # -- listing -------------------------------------------------------------------------------------
    def _scan(self) -> None:
        with self._lock:
            self._rescan()

    def _rescan(self) -> None:
        builtin_files, builtin_problem = _list_dir(self.builtin_dir)
        team_files, team_problem = _list_dir(self.team_dir) if self.team_dir else ([], None)
        sig = (_signature(builtin_files), _signature(team_files), builtin_problem, team_problem)
        if sig == self._sig:
            return
        problems = [p for p in (builtin_problem, team_problem) if p]
        builtin_by_name: dict[str, Path] = {}
        for p in builtin_files:
            builtin_by_name.setdefault(template_name(p.name), p)
        team_by_name: dict[str, Path] = {}
        for p in team_files:
            name = template_name(p.name)
            if name in team_by_name:
                problems.append(f"{p}: ignored, {team_by_name[name].name} already defines {name!r}")
                continue
            team_by_name[name] = p

        infos: list[TemplateInfo] = []
        for b in BUILTINS:
            path = team_by_name.get(b.name) or builtin_by_name.get(b.name)
            if path is None:
                problems.append(f"built-in template {b.name}{SUFFIX} is missing from {self.builtin_dir}")
                continue
            origin: Origin = "team" if b.name in team_by_name else "built-in"
            meta, error = self._meta(path) if origin == "team" else ({}, None)
            infos.append(
                TemplateInfo(
                    name=b.name,
                    key=b.key,
                    title=meta.get("title", b.title),
                    audience=meta.get("audience", b.audience),
                    counts_as_update=meta.get("counts_as_update", b.counts_as_update),
                    kind=b.kind,
                    path=path,
                    origin=origin,
                    error=error,
                    resolution=b.resolution,
                )
            )
        for name, path in sorted(team_by_name.items(), key=lambda kv: kv[1].name):
            if name in _BUILTIN_BY_NAME:
                continue
            meta, error = self._meta(path)
            audience = meta.get("audience")
            infos.append(
                TemplateInfo(
                    name=name,
                    key=None,
                    title=meta.get("title", _title_from_name(name)),
                    audience=audience,
                    counts_as_update=bool(meta.get("counts_as_update", False)) and audience is not None,
                    kind="message",
                    path=path,
                    origin="team",
                    error=error,
                )
            )
        # File names and paths are anybody's text: what is shown of them is cleaned here, once.
        self._infos = [
            dataclasses.replace(i, error=clean(i.error, max_len=600)) if i.error else i for i in infos
        ]
        self._problems = [clean(p, max_len=600) for p in problems]
        self._sig = sig
        self.revision += 1
        self._env = None  # a new loader search path (files may have moved between folders)
        self._static.clear()
        current = set(sig[0]) | set(sig[1])  # (path, mtime, size): the files' versions now
        self._sources = {k: v for k, v in self._sources.items() if k in current}

    def _meta(self, path: Path) -> tuple[dict[str, Any], str | None]:
        source, error = self._source(path)
        if error is not None:
            return {}, error
        assert source is not None
        return _front_matter(source, str(path))

    def templates(self) -> list[TemplateInfo]:
        """Every template: the five messages (keys 1-5), the team's own, then the report."""
        self._scan()
        messages = [i for i in self._infos if i.kind == "message"]
        return messages + [i for i in self._infos if i.kind == "report"]

    def messages(self) -> list[TemplateInfo]:
        """The message templates in the order the Templates pane lists them."""
        return [i for i in self.templates() if i.kind == "message"]

    @property
    def problems(self) -> list[str]:
        """Folder-level problems (missing team folder, duplicate names), one line each."""
        self._scan()
        return list(self._problems)

    def get(self, name: str) -> TemplateInfo | None:
        return next((i for i in self.templates() if i.name == name), None)

    def by_key(self, key: str) -> TemplateInfo | None:
        return next((i for i in self.templates() if i.key == key), None)

    # -- rendering -----------------------------------------------------------------------------------
    def _environment(self) -> Environment:
        with self._lock:
            return self._make_env()

    def _make_env(self) -> Environment:
        if self._env is None:
            self._env = make_environment(
                [d for d in (self.team_dir, self.builtin_dir) if d is not None and d.is_dir()],
                filters={"placeholder": _placeholder_filter, "md_cell": _md_cell},
                tests={"filled": _filled, "placeholder": _is_unfilled},
            )
        return self._env

    def variables(self, template: str | TemplateInfo) -> frozenset[str]:
        """The context keys a template reads (empty when it cannot be read or parsed). The ``e``
        form can offer the editable ones: ``variables(t) & FIELDS.keys()``."""
        info = self.get(template) if isinstance(template, str) else template
        if info is None or info.error is not None:
            return frozenset()
        source, error = self._source(info.path)
        if source is None or error is not None:
            return frozenset()
        try:
            names, _lines, _alone = self._undeclared(self._environment(), info, source)
        except Exception:  # a syntax error: render() reports it
            return frozenset()
        return frozenset(names - set(self._environment().globals))

    def reads(self, template: TemplateInfo) -> frozenset[str] | None:
        """The context keys a rendering of ``template`` depends on, or None when that cannot be
        told (it includes, imports or extends another template, or cannot be parsed): then any
        key may matter. The preview renders again only when one of these keys changes."""
        if template.error is not None:
            return frozenset()
        source, error = self._source(template.path)
        if source is None or error is not None:
            return frozenset()  # rendering reports the file's problem, whatever the context
        try:
            names, _lines, alone = self._undeclared(self._environment(), template, source)
        except Exception:
            return None
        return frozenset(names) if alone else None

    def _source(self, path: Path) -> tuple[str | None, str | None]:
        """A template file's text (or the problem reading it), read again only when the file's
        modification time or size changed."""
        try:
            st = path.stat()
        except OSError:
            return _read(path)  # not there (any more): _read says so
        key = (str(path), st.st_mtime_ns, st.st_size)
        with self._lock:
            cached = self._sources.get(key)
        if cached is None:
            cached = _read(path)
            with self._lock:
                if len(self._sources) > 4 * MAX_CACHED_VERSIONS:
                    self._sources.clear()  # a file rewritten again and again: start over
                self._sources[key] = cached
        return cached

    def render(
        self,
        template: str | TemplateInfo,
        context: Mapping[str, Any],
        *,
        cancel: threading.Event | None = None,
    ) -> RenderResult:
        """Render one template; never raises (problems come back as ``RenderResult.error``, one
        line, cleaned: a team file's name is anybody's text). Setting ``cancel`` (from another
        thread) stops a render under way within milliseconds."""
        result = self._render_result(template, context, cancel)
        if result.error is not None:
            return dataclasses.replace(result, error=clean(result.error, max_len=600))
        return result

    def _render_result(
        self, template: str | TemplateInfo, context: Mapping[str, Any], cancel: threading.Event | None
    ) -> RenderResult:
        info = self.get(template) if isinstance(template, str) else template
        if info is None:
            known = ", ".join(i.name for i in self.templates())
            dummy = TemplateInfo(str(template), None, str(template), None, False, "message", Path(), "team")
            return RenderResult(dummy, error=f"no template named {template!r} (known: {known})")
        if info.error is not None:
            return RenderResult(info, error=info.error)
        report = info.kind == "report"
        budget = Budget(
            REPORT_DEADLINE if report else MESSAGE_DEADLINE,
            MAX_REPORT_OUTPUT if report else MAX_MESSAGE_OUTPUT,
            cancel,
        )
        try:
            with budget:
                text, spans = self._render(info, context, budget)
        except TemplateError as exc:
            return RenderResult(info, error=str(exc))
        except OverBudget as exc:
            return RenderResult(info, error=f"{info.path}: {exc}; not rendered")
        except (Exception, RecursionError) as exc:  # parse, compile, analysis: one line, never a crash
            return RenderResult(info, error=f"{info.path}: {describe_failure(exc)}")
        if info.kind == "message":
            text = text.rstrip("\r\n")
            spans = tuple(s for s in spans if s.end <= len(text))
        return RenderResult(info, text=text, spans=spans)

    def render_all(self, context: Mapping[str, Any]) -> list[RenderResult]:
        return [self.render(i, context) for i in self.messages()]

    def _render(
        self, info: TemplateInfo, context: Mapping[str, Any], budget: Budget
    ) -> tuple[str, tuple[Span, ...]]:
        from jinja2 import TemplateNotFound, TemplateSyntaxError
        from jinja2.exceptions import TemplateError as JinjaTemplateError

        where = str(info.path)
        env = self._environment()
        try:
            source, error = self._source(info.path)
            if error is not None:
                raise TemplateError(error)
            assert source is not None
            names, lines, _alone = self._undeclared(env, info, source)
            template: Template = env.get_template(info.file)
        except TemplateSyntaxError as exc:
            file = exc.filename or where
            raise TemplateError(f"{file} line {exc.lineno}: {_one_line(exc.message or str(exc))}") from None
        except TemplateNotFound as exc:
            raise TemplateError(f"{where}: includes {exc.name!r}, which does not exist") from None
        except JinjaTemplateError as exc:
            raise TemplateError(f"{where}: {_one_line(str(exc))}") from None

        missing = names - set(context) - set(env.globals)
        if missing:
            first = min(missing, key=lambda n: (lines.get(n, 0), n))
            line = lines.get(first)
            at = f" line {line}" if line else ""
            raise TemplateError(f"{where}{at}: unknown variable {first!r}")

        try:
            raw = budget.collect(template.generate(_mark(dict(context))))
        except OverBudget:
            raise
        except Exception as exc:  # a template must never take the console down
            file, line = template_frame(exc.__traceback__, where)
            at = f" line {line}" if line else ""
            raise TemplateError(f"{file}{at}: {describe_failure(exc)}") from None
        return _unmark(raw)

    def _undeclared(
        self, env: Environment, info: TemplateInfo, source: str
    ) -> tuple[set[str], dict[str, int], bool]:
        """Names the template reads but never defines, with the first line each appears on, and
        whether it stands alone (refers to no other template)."""
        from jinja2 import meta, nodes

        try:
            st = info.path.stat()
            cache_key = (str(info.path), st.st_mtime_ns, st.st_size)
        except OSError:
            cache_key = (str(info.path), -1, len(source))
        cached = self._static.get(cache_key)
        if cached is not None:
            return cached
        tree: TemplateNode = env.parse(source, info.file, str(info.path))
        names = set(meta.find_undeclared_variables(tree))
        lines: dict[str, int] = {}
        for node in tree.find_all(nodes.Name):
            if node.ctx == "load" and node.name in names:
                lines[node.name] = min(lines.get(node.name, node.lineno), node.lineno)
        alone = not any(True for _ in meta.find_referenced_templates(tree))
        with self._lock:
            if len(self._static) > 4 * MAX_CACHED_VERSIONS:
                self._static.clear()
            self._static[cache_key] = (names, lines, alone)
        return names, lines, alone


def _read(path: Path) -> tuple[str | None, str | None]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None, f"{path}: not found"
    except OSError as exc:
        return None, f"{path}: cannot be read ({exc.strerror})"
    if len(raw) > MAX_TEMPLATE_BYTES:
        return None, f"{path}: larger than {MAX_TEMPLATE_BYTES // 1024} KiB; not rendered"
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return None, f"{path}: is not UTF-8 text (byte {exc.start})"


def _one_line(text: str) -> str:
    return clean(text, max_len=300)
