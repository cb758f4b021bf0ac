"""The trend of errors per minute: increasing, steady or decreasing (the one rule, shown by the errors pane
and answering the decision tree's "Is error rate increasing?" through
:func:`warroom.sources.correlation.error_trend`). Pure: no I/O, no clock."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

#: The trend's words (one word per concept: these, everywhere the trend is named).
TrendDirection = Literal["increasing", "steady", "decreasing"]
TRENDS: tuple[TrendDirection, ...] = ("increasing", "steady", "decreasing")


@dataclass(frozen=True)
class Trend:
    """Errors per minute now against just before.

    ``recent_per_minute`` is the mean of the last ``span`` complete minutes, ``previous_per_minute``
    the mean of the ``span`` minutes before those. ``increasing`` when recent >= 1.25 x previous and
    at least 1/min more; ``decreasing`` when recent <= 0.8 x previous and at least 1/min less; else
    ``steady``. ``change_pct`` is the relative change in percent (``None`` when previous is 0).
    """

    direction: TrendDirection
    recent_per_minute: float
    previous_per_minute: float
    change_pct: float | None
    span: int = 5

    def describe(self) -> str:
        """``increasing +240% (38/min, was 11/min)``."""
        if self.change_pct is None:
            pct = "new" if self.recent_per_minute > 0 else "±0%"
        else:
            pct = f"{self.change_pct:+.0f}%"
        return (
            f"{self.direction} {pct} ({self.recent_per_minute:.0f}/min, "
            f"was {self.previous_per_minute:.0f}/min)"
        )


def trend_of(counts: Sequence[int], span: int = 5) -> Trend:
    """The :class:`Trend` of complete per-minute counts (oldest first)."""
    recent = list(counts[-span:])
    previous = list(counts[-2 * span : -span]) if len(counts) > span else []
    r = sum(recent) / len(recent) if recent else 0.0
    p = sum(previous) / len(previous) if previous else 0.0
    change = None if p == 0 else (r - p) / p * 100.0
    if r >= p * 1.25 and r - p >= 1.0:
        direction: TrendDirection = "increasing"
    elif r <= p * 0.8 and p - r >= 1.0:
        direction = "decreasing"
    else:
        direction = "steady"
    return Trend(direction, r, p, change, span)
