SELECT c.name AS campaign,
       count(*) AS sends,
       count(*) FILTER (WHERE l.delivery_status = 'failed') AS failed,
       round(100.0 * count(*) FILTER (WHERE l.delivery_status = 'failed') / count(*), 2) AS failed_pct
  FROM campaigns AS c
  JOIN sms_delivery_log AS l ON l.campaign_id = c.id
 WHERE l.created_at > now() - interval '90 days'
   AND (SELECT pg_sleep($1)::text) IS NOT NULL  -- stands in for a 90-day scan without an index
 GROUP BY c.name
 ORDER BY failed DESC
