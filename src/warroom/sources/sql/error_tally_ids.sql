-- error_tally_ids: the id watermark of the tallies' full read, in the same REPEATABLE READ
-- snapshot as error_tally. The ids listed tell which ids below the watermark were not visible
-- (transactions still in flight, rolled back or deleted rows): those are looked at again by the
-- following polls until no transaction that could hold them is left.
--
-- Parameters:
--   $1 bigint  how far below the highest id to list ids (the gap lookback)
-- Returns exactly one row:
--   high  bigint    the highest id in the table (NULL when the table is empty)
--   ids   bigint[]  the ids in (high - $1, high], ascending
-- {{table}} and {{id_column}} are replaced by [errors] table and id_column (double-quoted).
SELECT m.high::bigint AS high,
       ARRAY(SELECT {{id_column}}::bigint FROM {{table}}
             WHERE {{id_column}} > m.high - $1::bigint
             ORDER BY {{id_column}}) AS ids
FROM (SELECT max({{id_column}}) AS high FROM {{table}}) AS m
