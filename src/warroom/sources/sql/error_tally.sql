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
-- Parameters:
--   $1 timestamptz  only rows with time > $1 (exclusive, as the playbook's
--                   "occurred_at > NOW() - INTERVAL '1 hour'")
--   $2 timestamptz  and time <= $2; NULL: no upper bound
--   $3 timestamptz  a whole minute: the rows before it are also listed in `times`; NULL: none
-- Returns one row per (error_type, error_message, minute):
--   error_type     text           (NULL allowed; grouped as one value, as GROUP BY does)
--   error_message  text           (NULL allowed)
--   minute         timestamptz    date_trunc('minute', time)
--   count          bigint         rows in the group
--   first_at       timestamptz    the earliest time in the group
--   times          timestamptz[]  the times of the group's rows before $3 (all of them, in any
--                                 order; NULL for a minute at or after $3)
-- {{table}} and {{time_column}} are replaced by [errors] table and time_column (double-quoted).
SELECT error_type,
       error_message,
       date_trunc('minute', {{time_column}})::timestamptz AS minute,
       count(*) AS count,
       min({{time_column}})::timestamptz AS first_at,
       array_agg({{time_column}}::timestamptz) FILTER (WHERE {{time_column}} < $3::timestamptz) AS times
FROM {{table}}
WHERE {{time_column}} > $1::timestamptz
  AND {{time_column}} <= COALESCE($2::timestamptz, 'infinity')
GROUP BY 1, 2, 3
