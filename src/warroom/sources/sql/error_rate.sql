-- error_rate: the error rate behind the playbook's resolution criterion "Error rate < 1% for
-- 30 minutes" ([errors] rate_threshold and rate_sustain). By default: the share of SMS deliveries
-- that failed, per minute.
--
-- Parameters:
--   $1 interval  how far back to look (rate_sustain + 10 minutes), from the server's now()
-- Returns, in one of two shapes:
--   a per-minute series (preferred: "below the threshold since" is then exact to the minute),
--   one row per minute that had traffic:
--     minute  timestamptz  date_trunc('minute', ...)
--     failed  bigint       failures in that minute
--     total   bigint       attempts in that minute (the rate is 100 * failed / total)
--   or (a team's own query) one row whose first column is the current rate in percent; it may take
--   no parameter. "Below since" is then tracked from the polls and shown as approximate.
SELECT date_trunc('minute', created_at)::timestamptz AS minute,
       count(*) FILTER (WHERE delivery_status = 'failed') AS failed,
       count(*) AS total
FROM sms_delivery_log
WHERE created_at > now() - $1::interval
GROUP BY 1
ORDER BY 1
