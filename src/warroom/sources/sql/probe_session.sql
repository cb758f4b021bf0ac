-- probe_session (internal, `warroom check`): what the console's session is.
--
-- Parameters: none.
-- Returns exactly one row:
--   server_version     text     e.g. "18.4"
--   version_num        integer  e.g. 180004
--   read_only          text     transaction_read_only: "on" for the console's session
--   statement_timeout  text
--   application_name   text
--   database           text
--   user_name          text
SELECT current_setting('server_version') AS server_version,
       current_setting('server_version_num')::integer AS version_num,
       current_setting('transaction_read_only') AS read_only,
       current_setting('statement_timeout') AS statement_timeout,
       current_setting('application_name') AS application_name,
       current_database() AS database,
       current_user AS user_name
