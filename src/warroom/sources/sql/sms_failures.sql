-- sms_failures: the playbook's "Check recent SMS delivery failures", ordered and bounded.
-- Phone numbers are masked to their last 4 digits by the console, not here.
--
-- Parameters:
--   $1 interval  how far back (the [errors] window, default 1 hour), from the server's now()
--   $2 integer   at most this many rows
-- Returns one row per (phone_number, error_message), most failures first:
--   phone_number   text
--   error_message  text
--   count          bigint
--   total_failed   bigint  failed deliveries in the whole period (every group, not only these rows)
--   groups         bigint  how many (phone_number, error_message) groups there are in all
SELECT phone_number,
       error_message,
       count(*) AS count,
       sum(count(*)) OVER ()::bigint AS total_failed,
       count(*) OVER () AS groups
FROM sms_delivery_log
WHERE delivery_status = 'failed'
  AND created_at > now() - $1::interval
GROUP BY phone_number, error_message
ORDER BY count DESC, phone_number, error_message
LIMIT $2::integer
