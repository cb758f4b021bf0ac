-- error_tally: the error tallies, aggregated (never raw rows). Used for
--   * the full read: at start, every [database] resync_interval and after every reconnect, in one
--     REPEATABLE READ read-only transaction together with error_tally_ids;
--     $1 = window start, $2 = NULL, $3 = the end of the "exact" region at the old end of the window;
--   * the declaration baseline, once: $1 = declared_at - window, $2 = declared_at, $3 = NULL;
--   * each poll's re-read of the newest rows when [errors] id_column = "" (no id column):
--     $1 = the overlap start, $2 = NULL, $3 = a far-future time (every row grouped exactly).
--
-- Parameters:
--   $1 timestamptz  only rows with time > $1 (exclusive, as the playbook's
--                   "occurred_at > NOW() - INTERVAL '1 hour'")
--   $2 timestamptz  and time <= $2; NULL: no upper bound
--   $3 timestamptz  rows with time < $3 are grouped by their exact time, later rows by minute;
--                   NULL: every row by minute
-- Returns one row per (error_type, error_message, at):
--   error_type     text         (NULL allowed; the grouping treats NULL as one value, like GROUP BY)
--   error_message  text         (NULL allowed)
--   at             timestamptz  the exact time (before $3) or date_trunc('minute', time)
--   count          bigint       rows in the group
--   first_at       timestamptz  the earliest time in the group
-- {{table}} and {{time_column}} are replaced by [errors] table and time_column (double-quoted).
SELECT error_type,
       error_message,
       (CASE WHEN {{time_column}} < $3::timestamptz THEN {{time_column}}
             ELSE date_trunc('minute', {{time_column}}) END)::timestamptz AS at,
       count(*) AS count,
       min({{time_column}})::timestamptz AS first_at
FROM {{table}}
WHERE {{time_column}} > $1::timestamptz
  AND {{time_column}} <= COALESCE($2::timestamptz, 'infinity')
GROUP BY 1, 2, 3
