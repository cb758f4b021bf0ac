-- The campaign page reads deliveries by campaign, newest first.
create index concurrently if not exists sms_delivery_log_campaign_created_idx
  on sms_delivery_log (campaign_id, created_at desc);
