-- Per-campaign send counters for the live delivery funnel (#418).
alter table campaigns add column if not exists sent_count integer not null default 0;
alter table campaigns add column if not exists failed_count integer not null default 0;

create or replace function bump_campaign_counters() returns trigger
language plpgsql as $$
begin
  update campaigns
     set sent_count = sent_count + 1,
         failed_count = failed_count + (new.delivery_status = 'failed')::int
   where id = new.campaign_id;
  return new;
end;
$$;

create trigger sms_delivery_log_bump_counters
  after insert on sms_delivery_log
  for each row execute function bump_campaign_counters();
