-- The playbook's schema (ACE Engage on Supabase), as far as the playbook's queries see it.
-- Shared by the test suite and `warroom demo`; idempotent (safe to run again).
--
--   error_logs        "Top errors in last hour": error_type, error_message, occurred_at
--   sms_delivery_log  "SMS delivery failures": phone_number, error_message, delivery_status,
--                     created_at; also the default error-rate query (failed / all deliveries)
--   campaigns         the playbook's mitigation "UPDATE campaigns SET status = 'paused'
--                     WHERE id = 'PROBLEMATIC_CAMPAIGN'"

CREATE TABLE IF NOT EXISTS campaigns (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    status      text NOT NULL DEFAULT 'active'
                CHECK (status IN ('draft', 'scheduled', 'active', 'paused', 'completed')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS error_logs (
    id             bigserial PRIMARY KEY,
    occurred_at    timestamptz NOT NULL DEFAULT now(),
    error_type     text,
    error_message  text,
    source         text,          -- the edge function or service that logged it
    campaign_id    text,          -- no foreign key: logging must not fail with the campaign
    user_id        text,
    context        jsonb
);
-- The playbook's tally filters on occurred_at; without this index every full read scans the table
-- (`warroom check` warns about it).
CREATE INDEX IF NOT EXISTS error_logs_occurred_at_idx ON error_logs (occurred_at);

CREATE TABLE IF NOT EXISTS sms_delivery_log (
    id                   bigserial PRIMARY KEY,
    created_at           timestamptz NOT NULL DEFAULT now(),
    campaign_id          text,
    phone_number         text NOT NULL,
    delivery_status      text NOT NULL
                         CHECK (delivery_status IN ('queued', 'sent', 'delivered', 'failed', 'undelivered')),
    error_code           text,    -- the provider's code, e.g. Twilio 30003
    error_message        text,
    provider_message_id  text
);
CREATE INDEX IF NOT EXISTS sms_delivery_log_created_at_idx ON sms_delivery_log (created_at);
CREATE INDEX IF NOT EXISTS sms_delivery_log_failed_idx
    ON sms_delivery_log (created_at) WHERE delivery_status = 'failed';
