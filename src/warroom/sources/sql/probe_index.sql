-- probe_index (internal, `warroom check`): is there an index that starts with a given column?
--
-- Parameters:
--   $1 text  the table, as SQL would name it (e.g. "error_logs" or "public"."error_logs")
--   $2 text  the column name
-- Returns exactly one row:
--   table_exists  boolean
--   indexed       boolean  an index whose first column is $2
SELECT to_regclass($1::text) IS NOT NULL AS table_exists,
       EXISTS (SELECT 1
                 FROM pg_index AS i
                 JOIN pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                WHERE i.indrelid = to_regclass($1::text) AND a.attname = $2::text) AS indexed
