-- Initial schema: organisations, contacts, campaigns, delivery log, error log.
create table organizations (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  created_at timestamptz not null default now()
);

create table campaigns (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references organizations (id),
  name text not null,
  status text not null default 'draft'
    check (status in ('draft', 'scheduled', 'active', 'paused', 'completed')),
  scheduled_at timestamptz,
  created_at timestamptz not null default now()
);

create table sms_delivery_log (
  id bigint generated always as identity primary key,
  campaign_id uuid references campaigns (id),
  phone_number text not null,
  delivery_status text not null,
  error_code integer,
  error_message text,
  twilio_sid text,
  created_at timestamptz not null default now()
);

create table error_logs (
  id bigint generated always as identity primary key,
  error_type text not null,
  error_message text not null,
  source text,
  occurred_at timestamptz not null default now()
);
create index error_logs_occurred_at_idx on error_logs (occurred_at);
