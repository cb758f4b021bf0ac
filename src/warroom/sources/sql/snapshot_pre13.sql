-- snapshot for PostgreSQL before 13 (internal, not replaceable): see snapshot.sql.
--
-- Parameters: none.
-- Returns exactly one row: now timestamptz, xmin bigint, xmax bigint.
SELECT now() AS now,
       txid_snapshot_xmin(txid_current_snapshot())::bigint AS xmin,
       txid_snapshot_xmax(txid_current_snapshot())::bigint AS xmax
