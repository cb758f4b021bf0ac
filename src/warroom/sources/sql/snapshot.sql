-- snapshot (internal, not replaceable): the server's clock and the transaction horizon.
-- now() is the instant the tallies' window ends at (the playbook's NOW()); xmin and xmax tell
-- when every transaction that was in flight during an earlier poll has ended, so an id gap below
-- the watermark can be given up (PostgreSQL 13 and later; snapshot_pre13.sql before that).
--
-- Parameters: none.
-- Returns exactly one row:
--   now   timestamptz
--   xmin  bigint  the oldest transaction still running
--   xmax  bigint  one past the newest transaction that has started
SELECT now() AS now,
       pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin,
       pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS xmax
