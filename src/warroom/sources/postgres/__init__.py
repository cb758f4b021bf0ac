"""The PostgreSQL source: one read-only connection, a poll loop that survives outages, the panes.

Its modules, one job each:

- :mod:`~warroom.sources.postgres.source`: the poll loop (:class:`PostgresSource`): what runs
  when (cheap queries first), reconnecting, what is emitted;
- :mod:`~warroom.sources.postgres.tally_reader`: the errors pane's reads (full read, incremental
  read, declaration baseline);
- :mod:`~warroom.sources.postgres.session`: the connection and the one way to run a query on it
  (read-only transaction, statement timeout, failures classified);
- :mod:`~warroom.sources.postgres.failures`: what a failure means (the pane's own, or the
  connection's) and its one clean line;
- :mod:`~warroom.sources.postgres.rows`: the rows of each pane's query as its typed snapshot;
- :mod:`~warroom.sources.postgres.queries`: the ``.sql`` files, their placeholders and
  parameters, and which pane runs which query;
- :mod:`~warroom.sources.postgres.watermark`: which ids the tallies have counted;
- :mod:`~warroom.sources.postgres.probe`: ``warroom check``.

What the source emits is in :mod:`warroom.sources.dbpoll` (with the names of a team's extra
panes: ``query-1``, ``query-2``...); the tallies themselves (pure, in memory) in
:mod:`warroom.sources.tallies`.
"""

from warroom.sources.dbpoll import query_pane_index, query_pane_name
from warroom.sources.postgres.failures import ConnectionLost
from warroom.sources.postgres.probe import ProbeLines, probe, run_probe
from warroom.sources.postgres.queries import (
    PANES,
    Query,
    load_queries,
    render,
    schema_sql,
    sql_text,
)
from warroom.sources.postgres.session import connect
from warroom.sources.postgres.source import PostgresSource

#: Transitional: the old name of :func:`query_pane_name` (ui/panes/database.py imports it); remove
#: once the UI uses ``query_pane_name``.
pane_name = query_pane_name

__all__ = [
    "PANES",
    "ConnectionLost",
    "PostgresSource",
    "ProbeLines",
    "Query",
    "connect",
    "load_queries",
    "pane_name",
    "probe",
    "query_pane_index",
    "query_pane_name",
    "render",
    "run_probe",
    "schema_sql",
    "sql_text",
]
