-- slow_queries (internal, not replaceable): this database's statements by total execution time,
-- from pg_stat_statements (the playbook's "Review performance metrics"). The console keeps the
-- first reading as the baseline and shows the differences since: the statements that took the most
-- time since it started watching, not since the statistics were last reset.
-- {{schema}} is the extension's schema; {{total}} its total time column (total_exec_time from
-- PostgreSQL 13, total_time before). Without pg_read_all_stats, other roles' statements read
-- "<insufficient privilege>". Texts lose their leading "--" comment lines (within their first
-- 4000 characters) and are cut to 300 characters; the head is the text as it starts (the console
-- leaves out its own queries by it). The baseline's reading ($2 false) reads numbers only.
--
-- Parameters: $1 integer  how many statements (the most total time first)
--             $2 boolean  with their texts
-- Returns:
--   key       text     userid:queryid (one statement of one role)
--   calls     bigint
--   total_ms  float8   total execution time, milliseconds
--   query     text     at most 300 characters (NULL when $2 is false)
--   head      text     the first 100 characters as they are (NULL when $2 is false)
SELECT s.userid::text || ':' || s.queryid::text AS key,
       s.calls::bigint AS calls,
       s.{{total}}::float8 AS total_ms,
       CASE WHEN $2 THEN left(regexp_replace(left(s.query, 4000), '^(\s*--[^\n]*(\n|$))+', ''), 300)
       END AS query,
       CASE WHEN $2 THEN left(s.query, 100) END AS head
FROM {{schema}}.pg_stat_statements AS s
WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND s.queryid IS NOT NULL
ORDER BY s.{{total}} DESC
LIMIT $1
