-- error_tally_since: each poll's incremental read of the tallies (with an id column): the rows
-- added since the previous poll, plus the few ids that were not visible then (still in flight).
-- With a primary key on the id this is two short index scans, whatever the table's size.
-- error_type and error_message are cut to their first 200 and 1000 characters (left(), as
-- error_tally cuts and groups them): a 30 MB message costs what a short one does.
--
-- Parameters:
--   $1 bigint    the watermark: rows with id > $1
--   $2 bigint[]  ids at or below the watermark to look at again (may be empty)
--   $3 integer   at most this many rows with id > $1, the lowest ids first (more than that and the
--                poll does a full read instead)
-- Returns one row per error row:
--   id             bigint
--   at             timestamptz  the row's time (NULL rows are skipped, as the playbook's filter does)
--   error_type     text         at most 200 characters
--   error_message  text         at most 1000 characters
-- {{table}}, {{id_column}} and {{time_column}} are replaced by [errors] table, id_column and
-- time_column (double-quoted).
(SELECT {{id_column}}::bigint AS id, {{time_column}}::timestamptz AS at,
        left(error_type::text, 200) AS error_type, left(error_message::text, 1000) AS error_message
   FROM {{table}}
  WHERE {{id_column}} > $1::bigint
  ORDER BY {{id_column}}
  LIMIT $3::integer)
UNION ALL
(SELECT {{id_column}}::bigint AS id, {{time_column}}::timestamptz AS at,
        left(error_type::text, 200) AS error_type, left(error_message::text, 1000) AS error_message
   FROM {{table}}
  WHERE {{id_column}} = ANY($2::bigint[]) AND {{id_column}} <= $1::bigint)
