"""The sandbox a template runs in: bounded in time, output, and the size of every value it builds.

A team's template is untrusted (a found warroom.toml can name a folder of them): it may loop for
ever or build a gigabyte string, and must only ever cost one line of error.

- :class:`Budget` enforces a deadline from inside the rendering thread (a per-thread trace,
  checked on every call and every 256 lines) and caps the output as it is generated;
- :func:`make_environment` is Jinja2's :class:`~jinja2.sandbox.SandboxedEnvironment` with the
  operators that can build huge values (``*``, ``**``, ``+``, ``%``, ``~``), calls and filters
  bounded to :data:`MAX_VALUE` (and, being intercepted, never folded at compile time);
- :func:`describe_failure` and :func:`template_frame` turn anything a template raises into one line
  naming its file and line.
"""

from __future__ import annotations

import functools
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from warroom.text import clean

if TYPE_CHECKING:
    from jinja2 import Environment

MAX_VALUE = 1024 * 1024  # characters (or items) of any one value a template builds
SUFFIX = ".j2"  # a template file's name ends so


def _one_line(text: str) -> str:
    return clean(text, max_len=300)


class OverBudget(BaseException):
    """A template ran out of time or output; the message says which."""


class Budget:
    """The time and output a render may use, enforced from inside the rendering thread.

    The deadline is checked by a trace function (``sys.settrace`` in this thread only, restored
    afterwards): on every function call and every 256 lines, so a template that loops for ever in
    its own code or in a filter stops within milliseconds of its deadline. Raising from the trace
    function unwinds the template like any exception, and the thread is free again.
    """

    def __init__(self, seconds: float, max_output: int, cancel: threading.Event | None = None) -> None:
        self.seconds = seconds
        self.max_output = max_output
        self.cancel = cancel
        self._end = 0.0
        self._lines = 0
        self._previous: Any = None

    def __enter__(self) -> Budget:
        self._end = time.monotonic() + self.seconds
        self._previous = sys.gettrace()
        sys.settrace(self._on_call)
        return self

    def __exit__(self, *exc: object) -> None:
        sys.settrace(self._previous)

    def _check(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            sys.settrace(self._previous)
            raise OverBudget("stopped (the console is closing)")
        if time.monotonic() > self._end:
            sys.settrace(self._previous)
            raise OverBudget(f"took longer than {self.seconds:g} s (a loop that does not end?)")

    def _on_call(self, frame: Any, event: str, arg: Any) -> Any:
        self._check()
        return self._on_line

    def _on_line(self, frame: Any, event: str, arg: Any) -> Any:
        self._lines += 1
        if not self._lines & 0xFF:
            self._check()
        return self._on_line

    def collect(self, chunks: Iterable[str]) -> str:
        """The template's output, stopped as soon as it is longer than allowed."""
        out: list[str] = []
        size = 0
        for chunk in chunks:
            size += len(chunk)
            if size > self.max_output:
                raise OverBudget(f"its output is longer than {self.max_output // 1024} K characters")
            out.append(chunk)
        return "".join(out)


def _too_big(value: Any) -> bool:
    try:
        return isinstance(value, str | bytes | list | tuple | dict) and len(value) > MAX_VALUE
    except TypeError:
        return False


def _size_guard(what: str) -> Callable[..., Any]:
    """A check of a value a template is about to build."""

    def check(value: Any) -> Any:
        if _too_big(value):
            from jinja2.exceptions import SecurityError

            raise SecurityError(f"{what} would be longer than {MAX_VALUE // 1024} K")
        return value

    return check


def _bounded_int(value: Any, what: str) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_VALUE:
        from jinja2.exceptions import SecurityError

        raise SecurityError(f"{what}: {value} is too large")


# Width or precision of more than 6 digits in a format string ("%100000000d", "{:>99999999}").
_BIG_WIDTH = re.compile(r"\d{7,}")


def _bounded_filter(func: Callable[..., Any], name: str) -> Callable[..., Any]:
    """A filter whose integer arguments and result are bounded (``center(10**8)``, ``indent``,
    ``format("%99999999d")``, a ``replace`` growing its input)."""

    @functools.wraps(func)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        for value in (*args, *kwargs.values()):
            _bounded_int(value, f"filter {name!r}")
            if name == "format" and isinstance(value, str) and _BIG_WIDTH.search(value):
                from jinja2.exceptions import SecurityError

                raise SecurityError(f"filter {name!r}: a width of 7 digits or more")
        return _size_guard(f"the result of filter {name!r}")(func(*args, **kwargs))

    return bounded


_SEQUENCE = (str, bytes, list, tuple)


def _binop_problem(operator: str, left: Any, right: Any) -> str:
    """Why ``left <operator> right`` must not be computed ("" when it may): its result would be
    too big to build (a string repeated 50 million times, 2 ** 100000)."""
    ints = isinstance(left, int) and isinstance(right, int)
    if operator == "**" and isinstance(left, int | float) and isinstance(right, int | float):
        return f"{left!r} ** {right!r} is too large" if abs(right) > 64 and abs(left) > 1 else ""
    if operator == "*":
        for count, seq in ((left, right), (right, left)):
            if isinstance(count, int) and isinstance(seq, _SEQUENCE) and count * len(seq) > MAX_VALUE:
                return f"a value of {count * len(seq):,} characters or items is too long"
        return "the product is too large" if ints and left.bit_length() + right.bit_length() > 4096 else ""
    if operator == "%" and isinstance(left, str) and _BIG_WIDTH.search(left):
        return "a format width of 7 digits or more"
    if operator == "+" and isinstance(left, _SEQUENCE) and isinstance(right, _SEQUENCE):
        return "the sum would be too long" if len(left) + len(right) > MAX_VALUE else ""
    return ""


def _bounded_codegen() -> type:
    """Jinja's code generator with ``~`` (concatenation) going through a size check."""
    from jinja2.compiler import CodeGenerator

    class BoundedCodeGenerator(CodeGenerator):
        def visit_Concat(self, node: Any, frame: Any) -> None:
            self.write("environment.bounded_concat((")
            for arg in node.nodes:
                self.visit(arg, frame)
                self.write(", ")
            self.write("))")

    return BoundedCodeGenerator


def make_environment(
    search_path: list[Path],
    filters: Mapping[str, Callable[..., Any]],
    tests: Mapping[str, Callable[..., Any]],
) -> Environment:
    """A sandboxed Jinja2 environment over ``search_path`` whose operators, calls and filters are
    bounded (see the module docstring), with warroom's own ``filters`` and ``tests`` added."""
    from jinja2 import FileSystemLoader, StrictUndefined, Undefined
    from jinja2.sandbox import SandboxedEnvironment

    class _Undefined(StrictUndefined):
        """StrictUndefined that remembers what was missing, for a precise message."""

        __slots__ = ()

        def _fail_with_undefined_error(self, *args: Any, **kwargs: Any) -> Any:
            exc = self._undefined_exception(self._undefined_message)
            exc.warroom_name = self._undefined_name  # type: ignore[attr-defined]
            exc.warroom_obj = self._undefined_obj  # type: ignore[attr-defined]
            raise exc

        __add__ = __radd__ = __sub__ = __rsub__ = _fail_with_undefined_error
        __mul__ = __rmul__ = __div__ = __rdiv__ = _fail_with_undefined_error
        __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = _fail_with_undefined_error
        __mod__ = __rmod__ = __pos__ = __neg__ = _fail_with_undefined_error
        __call__ = __getitem__ = __lt__ = __le__ = __gt__ = __ge__ = _fail_with_undefined_error
        __int__ = __float__ = __complex__ = __pow__ = __rpow__ = _fail_with_undefined_error
        __str__ = __len__ = __iter__ = __bool__ = __contains__ = _fail_with_undefined_error
        __eq__ = __ne__ = __hash__ = _fail_with_undefined_error

        def __getattr__(self, name: str) -> Any:
            if name[:2] == "__" and name[-2:] == "__":
                raise AttributeError(name)
            return self._fail_with_undefined_error()

    class _Sandbox(SandboxedEnvironment):
        """Any access on a failed value reports the first failure (``''.__class__`` rather than
        the ``__init__`` of the undefined it left behind). Operators that can build huge values
        (``*``, ``**``, ``+``, ``%``, ``~``), calls and filters are bounded (see :data:`MAX_VALUE`);
        being intercepted, they are also never folded at compile time."""

        intercepted_binops = frozenset({"*", "**", "+", "%"})
        code_generator_class = _bounded_codegen()

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            problem = _binop_problem(operator, left, right)
            if problem:
                from jinja2.exceptions import SecurityError

                raise SecurityError(problem)
            result = super().call_binop(context, operator, left, right)
            return _size_guard(f"the result of {operator!r}")(result)

        def bounded_concat(self, parts: Iterable[Any]) -> str:
            items = [str(p) for p in parts]
            if sum(len(i) for i in items) > MAX_VALUE:
                from jinja2.exceptions import SecurityError

                raise SecurityError(f"a value would be longer than {MAX_VALUE // 1024} K")
            return "".join(items)

        def wrap_str_format(self, value: Any) -> Any:
            wrapped = super().wrap_str_format(value)
            if wrapped is not None and _BIG_WIDTH.search(value.__self__):
                from jinja2.exceptions import SecurityError

                def refuse(*args: Any, **kwargs: Any) -> str:
                    raise SecurityError("a format width of 7 digits or more")

                return refuse
            return wrapped

        def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
            for value in (*args, *kwargs.values()):
                _bounded_int(value, "a call")
            return _size_guard("the result of a call")(super().call(__context, __obj, *args, **kwargs))

        def getattr(self, obj: Any, attribute: str) -> Any:
            if isinstance(obj, Undefined):
                return obj._fail_with_undefined_error()
            return super().getattr(obj, attribute)

        def getitem(self, obj: Any, argument: Any) -> Any:
            if isinstance(obj, Undefined):
                return obj._fail_with_undefined_error()
            return super().getitem(obj, argument)

    env = _Sandbox(
        loader=FileSystemLoader([str(p) for p in search_path], encoding="utf-8"),
        undefined=_Undefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=True,
    )
    for name in ("lipsum", "cycler", "joiner"):
        env.globals.pop(name, None)
    for name, func in list(env.filters.items()):
        env.filters[name] = _bounded_filter(func, name)
    env.filters.update(filters)
    env.tests.update(tests)
    return env


def template_frame(tb: TracebackType | None, default: str) -> tuple[str, int | None]:
    """The innermost template file and line in a traceback Jinja rewrote."""
    found: tuple[str, int | None] = (default, None)
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if name.endswith(SUFFIX) or name == "<template>":
            found = (name if name.endswith(SUFFIX) else default, tb.tb_lineno)
        tb = tb.tb_next
    return found


def describe_failure(exc: BaseException) -> str:
    from jinja2.exceptions import SecurityError, TemplateNotFound, UndefinedError

    if isinstance(exc, SecurityError):
        return f"blocked by the sandbox: {_one_line(str(exc)).rstrip('.')}"
    if isinstance(exc, UndefinedError):
        name = getattr(exc, "warroom_name", None)
        obj = getattr(exc, "warroom_obj", None)
        from jinja2.utils import missing

        if name is None:
            return _one_line(str(exc))
        if obj is missing or obj is None:
            return f"unknown variable {name!r}"
        what = type(obj).__name__
        if isinstance(name, str) and name.startswith("_"):
            return f"blocked by the sandbox: access to attribute {name!r} of {what!r} object"
        if isinstance(name, int):
            return f"no item {name} in {what} (it has {len(obj) if hasattr(obj, '__len__') else 'no'} items)"
        return f"unknown attribute {name!r} of {what}"
    if isinstance(exc, TemplateNotFound):
        return f"includes {exc.name!r}, which does not exist"
    if isinstance(exc, RecursionError):
        return "recursion too deep (a macro calling itself?)"
    return f"{type(exc).__name__}: {_one_line(str(exc))}"
