-- sms_failures: the playbook's "Check recent SMS delivery failures", ordered and bounded.
-- Phone numbers are masked to their last 4 digits by the console, not here.
-- Bounded, whatever the data: phone_number is cut to its first 100 characters and error_message
-- to its first 1000 (left(); a value of at most that many bytes is taken as it is, which
-- octet_length() tells without reading it), and the rows are grouped by the cut values.
--
-- Parameters:
--   $1 interval  how far back (the [errors] window, default 1 hour), from the server's now()
--   $2 integer   at most this many rows
-- Returns one row per (phone_number, error_message), most failures first:
--   phone_number   text    at most 100 characters
--   error_message  text    at most 1000 characters
--   count          bigint
--   total_failed   bigint  failed deliveries in the whole period (every group, not only these rows)
--   groups         bigint  how many (phone_number, error_message) groups there are in all
SELECT CASE WHEN octet_length(phone_number::text) > 100
            THEN left(phone_number::text, 100) ELSE phone_number::text END AS phone_number,
       CASE WHEN octet_length(error_message::text) > 1000
            THEN left(error_message::text, 1000) ELSE error_message::text END AS error_message,
       count(*) AS count,
       sum(count(*)) OVER ()::bigint AS total_failed,
       count(*) OVER () AS groups
FROM sms_delivery_log
WHERE delivery_status = 'failed'
  AND created_at > now() - $1::interval
GROUP BY 1, 2  -- the cut values (a name here would mean the table's column)
ORDER BY 3 DESC, 1, 2
LIMIT $2::integer
