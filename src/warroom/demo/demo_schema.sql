-- warroom demo: what the demo needs beyond the playbook's schema (sources/sql/schema.sql, which
-- runs first). Only the story's bookkeeping, in its own schema so the playbook's tables and the
-- console's queries never see it: the moments of the story (deploy, spike, mitigation), the random
-- seed of its data, the demo incident's id and the live commits already made, so a reused demo
-- continues the same story (and a demo whose journal lost its incident starts over).
CREATE SCHEMA IF NOT EXISTS warroom_demo;

CREATE TABLE IF NOT EXISTS warroom_demo.story (
    id            integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    version       integer NOT NULL,
    schema        text NOT NULL,          -- fingerprint of schema.sql + this file when seeded
    origin        timestamptz NOT NULL,   -- when the demo was created
    deploy_at     timestamptz NOT NULL,   -- the bad deploy (origin - 30 min)
    spike_at      timestamptz NOT NULL,   -- the error spike begins (deploy + 12 min)
    seed          bigint NOT NULL,        -- random seed of the demo's data
    mitigated_at  timestamptz,            -- when the console first reported a mitigation
    incident_id   text,                   -- the demo P0 in the demo journal
    breach_at     timestamptz,            -- the commit made during the deploy freeze
    rollback_at   timestamptz             -- the revert + hotfix deploy commits
);
