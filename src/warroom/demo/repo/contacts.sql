-- Contacts imported from CSV, phone numbers normalised to E.164.
create table contacts (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references organizations (id),
  phone_e164 text not null check (phone_e164 ~ '^\+[1-9][0-9]{7,14}$'),
  first_name text,
  opted_out_at timestamptz,
  created_at timestamptz not null default now(),
  unique (org_id, phone_e164)
);
