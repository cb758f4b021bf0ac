-- error_tally_since: each poll's incremental read of the tallies (with an id column): the rows
-- added since the previous poll, plus the few ids that were not visible then (still in flight).
-- With a primary key on the id this is two short index scans, whatever the table's size.
--
-- Parameters:
--   $1 bigint    the watermark: rows with id > $1
--   $2 bigint[]  ids at or below the watermark to look at again (may be empty)
--   $3 integer   at most this many rows with id > $1, the lowest ids first (more than that and the
--                poll does a full read instead)
-- Returns one row per error row:
--   id             bigint
--   at             timestamptz  the row's time (NULL rows are skipped, as the playbook's filter does)
--   error_type     text
--   error_message  text
-- {{table}}, {{id_column}} and {{time_column}} are replaced by [errors] table, id_column and
-- time_column (double-quoted).
(SELECT {{id_column}}::bigint AS id, {{time_column}}::timestamptz AS at, error_type, error_message
   FROM {{table}}
  WHERE {{id_column}} > $1::bigint
  ORDER BY {{id_column}}
  LIMIT $3::integer)
UNION ALL
(SELECT {{id_column}}::bigint AS id, {{time_column}}::timestamptz AS at, error_type, error_message
   FROM {{table}}
  WHERE {{id_column}} = ANY($2::bigint[]) AND {{id_column}} <= $1::bigint)
