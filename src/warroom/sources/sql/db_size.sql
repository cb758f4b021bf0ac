-- db_size: the size of the current database (the playbook's "Check disk space / database size").
-- pg_database_size() walks every file of the database, so it runs at most every
-- [database] size_interval (default 5 minutes).
--
-- Parameters: none.
-- Returns exactly one row:
--   bytes  bigint
SELECT pg_database_size(current_database())::bigint AS bytes
