"""Now, in UTC: the database source's default clock.

One definition for the source (to become ``warroom.durations.utc_now``, shared by every module that
asks "now in UTC"; then this module goes)."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)
