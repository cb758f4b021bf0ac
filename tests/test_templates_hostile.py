"""A team's template is untrusted (a found warroom.toml can point at a folder of them): whatever
it does costs at most its deadline and one line of error, and nothing it writes reaches the
terminal raw."""

from __future__ import annotations

import resource
import time
from pathlib import Path

import pytest

from warroom.comms.context import blank_context
from warroom.comms.templates import MAX_MESSAGE_OUTPUT, MESSAGE_DEADLINE, TemplateSet

HOSTILE = {
    "nested_loops": "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}x",
    "loop_output": "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
    "repeat": "{{ 'a' * 50000000 }}",
    "power": "{{ (2**100000)|string }}",
    "power_float": "{{ 10.0 ** 400 }}",
    "doubling_concat": (
        "{% set ns = namespace(s='a') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}"
        "{% endfor %}{{ ns.s|length }}"
    ),
    "doubling_plus": (
        "{% set ns = namespace(s='a') %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}"
        "{% endfor %}{{ ns.s|length }}"
    ),
    "growing_replace": (
        "{% set ns = namespace(s='a') %}{% for i in range(30) %}"
        "{% set ns.s = ns.s|replace('a', 'aaaa') %}{% endfor %}{{ ns.s|length }}"
    ),
    "center": "{{ 'x'|center(100000000) }}",
    "percent_width": "{{ '%100000000d' % 1 }}",
    "format_method_width": "{{ '{:>99999999}'.format(1) }}",
    "format_filter_width": "{{ '%99999999d'|format(1) }}",
    "list_repeat": "{{ ([1] * 1000) * 1000 }}",
    "recursion": "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
    "output": "{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}",
}


@pytest.fixture
def team(tmp_path: Path) -> Path:
    d = tmp_path / "team"
    d.mkdir()
    for name, source in HOSTILE.items():
        (d / f"{name}.txt.j2").write_text(source)
    return d


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_template_costs_one_line_and_its_deadline(team: Path, name: str) -> None:
    ts = TemplateSet(team)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    result = ts.render(name, blank_context())
    took = time.monotonic() - started
    grew_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert not result.ok, result.text
    assert result.error is not None and "\n" not in result.error
    assert str(team / f"{name}.txt.j2") in result.error
    assert took < MESSAGE_DEADLINE + 1.0, f"{name} took {took:.1f} s"
    assert grew_mb < 100, f"{name} grew the process by {grew_mb:.0f} MB"
    # the set still renders the other templates afterwards
    assert ts.render("internal_declaration", blank_context()).ok


def test_the_errors_say_what_happened(team: Path) -> None:
    ts = TemplateSet(team)
    ctx = blank_context()
    assert "took longer than" in ts.render("nested_loops", ctx).error  # type: ignore[operator]
    assert f"longer than {MAX_MESSAGE_OUTPUT // 1024} K" in ts.render("output", ctx).error  # type: ignore[operator]
    assert "too large" in ts.render("power", ctx).error  # type: ignore[operator]
    assert "recursion too deep" in ts.render("recursion", ctx).error  # type: ignore[operator]


def test_what_a_template_writes_is_inert(tmp_path: Path) -> None:
    """Escape sequences and control characters a template writes (literally or through a value)
    never reach the preview or the clipboard; the placeholders are still found."""
    d = tmp_path / "team"
    d.mkdir()
    (d / "evil.txt.j2").write_text(
        "hi \x1b]52;c;SElKQUNL\x07 there \x1b[31mred\x1b[0m\x07 {{ '\\x1b]0;title\\x07' }} {{ theory }} end\x9b2J"
    )
    result = TemplateSet(d).render("evil", blank_context())
    assert result.ok and result.text is not None
    assert not any((ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) < 0xA0 for c in result.text)
    assert result.text.startswith("hi  there red")
    assert result.unfilled == ("[ROOT_CAUSE_THEORY]",)
    span = result.spans[0]
    assert result.text[span.start : span.end] == "[ROOT_CAUSE_THEORY]"


def test_the_builtin_messages_render_well_within_their_bounds() -> None:
    ts = TemplateSet()
    ctx = blank_context()
    for info in ts.messages():
        started = time.monotonic()
        result = ts.render(info, ctx)
        assert result.ok, result.error
        assert time.monotonic() - started < 0.5
