-- slow_queries_schema (internal, not replaceable): where pg_stat_statements is installed in the
-- monitored database (Supabase keeps extensions in the "extensions" schema), for the playbook's
-- "Review performance metrics". No row: the extension is not installed in this database.
--
-- Parameters: none.
-- Returns at most one row:
--   schema  text
SELECT n.nspname::text AS schema
FROM pg_extension AS e
JOIN pg_namespace AS n ON n.oid = e.extnamespace
WHERE e.extname = 'pg_stat_statements'
