"""Transitional: the old name of :mod:`warroom.sources.dbpoll` (and of the error-rate criterion, now
:mod:`warroom.sources.error_rate`). Nothing new imports it; it goes once ui/ and the tests import
``warroom.sources.dbpoll``."""

from warroom.sources.dbpoll import (
    MAX_TABLE_ROWS,
    BlockedQuery,
    ConnectionState,
    Criterion,
    DbPoll,
    DbSize,
    ErrorRateSnapshot,
    FailureKind,
    HealthSnapshot,
    LongQuery,
    PaneData,
    QueryFailure,
    RateMinute,
    SmsRow,
    SmsSnapshot,
    Status,
    TablePane,
    pretty_bytes,
)
from warroom.sources.error_rate import RateTracker, rate_from_series

__all__ = [
    "MAX_TABLE_ROWS",
    "BlockedQuery",
    "ConnectionState",
    "Criterion",
    "DbPoll",
    "DbSize",
    "ErrorRateSnapshot",
    "FailureKind",
    "HealthSnapshot",
    "LongQuery",
    "PaneData",
    "QueryFailure",
    "RateMinute",
    "RateTracker",
    "SmsRow",
    "SmsSnapshot",
    "Status",
    "TablePane",
    "pretty_bytes",
    "rate_from_series",
]
