-- probe_session (internal, `warroom check`): what the console's session is.
--
-- Parameters: none.
-- Returns exactly one row (every text at most 100 characters):
--   server_version     text     e.g. "18.4"
--   version_num        integer  e.g. 180004
--   read_only          text     transaction_read_only: "on" for the console's session
--   statement_timeout  text
--   application_name   text
--   database           text
--   user_name          text
SELECT left(current_setting('server_version'), 100) AS server_version,
       current_setting('server_version_num')::integer AS version_num,
       left(current_setting('transaction_read_only'), 100) AS read_only,
       left(current_setting('statement_timeout'), 100) AS statement_timeout,
       left(current_setting('application_name'), 100) AS application_name,
       left(current_database(), 100) AS database,
       left(current_user, 100) AS user_name
