-- error_tally: the error tallies, aggregated per error and minute (never one row per error row).
-- Used for
--   * the full read: at start, every [database] resync_interval and after every reconnect, in one
--     REPEATABLE READ read-only transaction together with error_tally_ids (run with
--     enable_sort = off and work_mem = 16MB, so the grouping is a hash aggregate);
--     $1 = window start, $2 = NULL, $3 = the end of the "exact" region at the old end of the window
--     (the rows that will leave the window before the next full read: the console needs their
--     exact times to age them out at the right microsecond);
--   * the declaration baseline, once: $1 = declared_at - window, $2 = declared_at, $3 = NULL;
--   * each poll's re-read of the newest rows when [errors] id_column = "" (no id column):
--     $1 = the overlap start, $2 = NULL, $3 = a far-future time (every row's exact time).
--
-- Bounded, whatever the data: error_type is cut to its first 200 characters and error_message to
-- its first 1000 (left(); the rows are grouped by the cut values, as the console keys them; a value
-- of at most that many bytes is taken as it is, which octet_length() tells without reading it:
-- left() on every one of a million rows would cost the full read half as much again), and
-- only the $4 largest keys (by rows in the period; ties by type then message) come one by one:
-- the rows of every other key come as one "other" row per minute (other = true, NULL type and
-- message), so the totals per minute stay exact.
--
-- Parameters:
--   $1 timestamptz  only rows with time > $1 (exclusive, as the playbook's
--                   "occurred_at > NOW() - INTERVAL '1 hour'")
--   $2 timestamptz  and time <= $2; NULL: no upper bound
--   $3 timestamptz  a whole minute: the rows before it are also listed in `times`; NULL: none
--   $4 integer      at most this many keys one by one (the console's MAX_KEYS, 500)
-- Returns one row per (error_type, error_message, minute) of the $4 largest keys, and one per
-- minute for the others:
--   error_type     text           at most 200 characters (NULL allowed; grouped as one value, as
--                                 GROUP BY does)
--   error_message  text           at most 1000 characters (NULL allowed)
--   minute         timestamptz    date_trunc('minute', time)
--   count          bigint         rows in the group
--   first_at       timestamptz    the earliest time in the group
--   times          timestamptz[]  the times of the group's rows before $3 (all of them, in any
--                                 order; NULL for a minute at or after $3)
--   other          boolean        the group holds the rows of every key past the $4 largest
--                                 (optional in a team's own query: false when missing)
-- {{table}} and {{time_column}} are replaced by [errors] table and time_column (double-quoted).
WITH g AS (
    SELECT CASE WHEN octet_length(error_type::text) > 200
                THEN left(error_type::text, 200) ELSE error_type::text END AS error_type,
           CASE WHEN octet_length(error_message::text) > 1000
                THEN left(error_message::text, 1000) ELSE error_message::text END AS error_message,
           date_trunc('minute', {{time_column}})::timestamptz AS minute,
           count(*) AS count,
           min({{time_column}})::timestamptz AS first_at,
           array_agg({{time_column}}::timestamptz) FILTER (WHERE {{time_column}} < $3::timestamptz) AS times
    FROM {{table}}
    WHERE {{time_column}} > $1::timestamptz
      AND {{time_column}} <= COALESCE($2::timestamptz, 'infinity')
    GROUP BY 1, 2, 3
), top AS (
    -- An array compares NULL elements as equal (and hashes): a NULL-safe join key.
    SELECT ARRAY[error_type, error_message] AS key
    FROM g
    GROUP BY error_type, error_message
    ORDER BY sum(count) DESC, error_type COLLATE "C" NULLS LAST, error_message COLLATE "C" NULLS LAST
    LIMIT $4::integer
), split AS (
    SELECT g.*, top.key IS NULL AS other
    FROM g LEFT JOIN top ON ARRAY[g.error_type, g.error_message] = top.key
)
SELECT error_type, error_message, minute, count, first_at, times, false AS other
FROM split
WHERE NOT other
UNION ALL
SELECT NULL, NULL, c.minute, c.count, c.first_at, t.times, true
FROM (SELECT minute, sum(count)::bigint AS count, min(first_at) AS first_at
        FROM split WHERE other GROUP BY minute) AS c
LEFT JOIN (SELECT s.minute, array_agg(x) AS times
             FROM split AS s, unnest(s.times) AS x WHERE s.other GROUP BY s.minute) AS t USING (minute)
