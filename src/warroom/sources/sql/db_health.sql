-- db_health: connections by state against max_connections, running and blocked queries, and the
-- longest-running query, from pg_stat_activity. One row.
-- Counts cover client connections to every database of the server (max_connections is per
-- server); background workers and the console's own connection (pg_backend_pid()) are excluded.
-- Without superuser or pg_read_all_stats, other users' query texts read "<insufficient privilege>".
-- Query texts are cut to their first 1000 characters (left(); track_activity_query_size may
-- be up to 1 MB per connection).
--
-- Parameters: none.
-- Returns exactly one row:
--   max_connections      integer
--   total                bigint   client connections (the console's own excluded)
--   active               bigint   state 'active' and not waiting on a lock
--   waiting              bigint   waiting on a lock (wait_event_type 'Lock')
--   idle                 bigint   state 'idle'
--   idle_in_transaction  bigint   'idle in transaction' and 'idle in transaction (aborted)'
--   longest_pid          integer  the longest-running active query (NULL when none)
--   longest_seconds      float8
--   longest_query        text     at most 1000 characters
--   blocked              json     up to 5 waiting queries, longest wait first, as
--                                 [{"pid", "seconds", "query", "blocked_by": [pid, ...]}]
--                                 (`waiting` is how many there are in all)
--   blockers             json     the connections those wait for, as [{"pid", "state", "query",
--                                 "seconds"}] (queries at most 1000 characters, states at most 40;
--                                 seconds: since their transaction, else their query, began)
--   sessions             json     up to 10 connections that are not idle (running, waiting, idle
--                                 in a transaction), the oldest transaction first, as
--                                 [{"pid", "state", "seconds", "query"}] (the backends the
--                                 runbooks' actions can pick; queries at most 1000 characters)
WITH a AS (
    SELECT pid, left(state, 40) AS state, wait_event_type, query_start, xact_start,
           left(query, 1000) AS query
    FROM pg_stat_activity
    WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'
), longest AS (
    SELECT pid, extract(epoch FROM clock_timestamp() - query_start)::float8 AS seconds, query
    FROM a
    WHERE state = 'active' AND query_start IS NOT NULL
    ORDER BY query_start
    LIMIT 1
), blocked AS (
    SELECT pid, extract(epoch FROM clock_timestamp() - query_start)::float8 AS seconds, query,
           pg_blocking_pids(pid) AS blocked_by
    FROM a
    WHERE wait_event_type = 'Lock'
    ORDER BY query_start
    LIMIT 5
), sessions AS (
    SELECT pid, state, query,
           extract(epoch FROM clock_timestamp() - coalesce(xact_start, query_start))::float8 AS seconds
    FROM a
    WHERE state IS DISTINCT FROM 'idle'
    ORDER BY coalesce(xact_start, query_start) NULLS LAST
    LIMIT 10
)
SELECT current_setting('max_connections')::integer AS max_connections,
       (SELECT count(*) FROM a) AS total,
       (SELECT count(*) FROM a WHERE state = 'active' AND wait_event_type IS DISTINCT FROM 'Lock') AS active,
       (SELECT count(*) FROM a WHERE wait_event_type = 'Lock') AS waiting,
       (SELECT count(*) FROM a WHERE state = 'idle') AS idle,
       (SELECT count(*) FROM a WHERE state LIKE 'idle in transaction%') AS idle_in_transaction,
       (SELECT pid FROM longest) AS longest_pid,
       (SELECT seconds FROM longest) AS longest_seconds,
       (SELECT query FROM longest) AS longest_query,
       (SELECT coalesce(json_agg(json_build_object('pid', pid, 'seconds', seconds, 'query', query,
                                                   'blocked_by', blocked_by)
                                 ORDER BY seconds DESC), '[]'::json)
          FROM blocked) AS blocked,
       (SELECT coalesce(json_agg(json_build_object('pid', s.pid, 'state', left(s.state, 40),
                                                   'query', left(s.query, 1000),
                                                   'seconds', extract(epoch FROM clock_timestamp()
                                                       - coalesce(s.xact_start, s.query_start))::float8)
                                 ORDER BY s.pid), '[]'::json)
          FROM pg_stat_activity AS s
         WHERE s.pid IN (SELECT unnest(blocked_by) FROM blocked)) AS blockers,
       (SELECT coalesce(json_agg(json_build_object('pid', pid, 'state', state, 'seconds', seconds,
                                                   'query', query)
                                 ORDER BY seconds DESC NULLS LAST), '[]'::json)
          FROM sessions) AS sessions
