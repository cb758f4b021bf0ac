-- Rollback for <stamp>_campaign_send_counters.sql
drop trigger if exists sms_delivery_log_bump_counters on sms_delivery_log;
drop function if exists bump_campaign_counters();
alter table campaigns drop column if exists failed_count;
alter table campaigns drop column if exists sent_count;
