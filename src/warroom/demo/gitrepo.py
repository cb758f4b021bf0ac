"""The demo's git repository: twelve days of a small team's history, ending in the bad deploy.

The repository looks like the ACE Engage monorepo (Next.js dashboard + Supabase edge functions and
migrations). Its story, relative to the deploy commit ``D`` (about 12 minutes before the error
spike):

- feature work, fixes, dependency bumps and a production deploy every day or two;
- ``D - 1h40m``: a migration, ``supabase/migrations/<ts>_campaign_send_counters.sql`` (a trigger
  that bumps ``campaigns.sent_count`` on every send, so sends contend on the campaign's row), with
  its rollback script under ``scripts/sql/rollbacks/``;
- ``D - 1h05m``: the edge function change, ``supabase/functions/send-sms/index.ts`` (Twilio sends
  batched 50 at a time, no backoff, a database connection held per send);
- ``D``: ``deploy: production 2026.11.26-2 (...)`` by the CI bot, tagged ``release-2026.11.26-2``;
- ``D + 8m``: a docs commit that was merged but not deployed.

During the demo the generator adds a commit that lands during the P0's deploy freeze (see
:func:`commit_freeze_breach`) and, once the incident is mitigated, the revert of the send-sms change
and a hotfix deploy (:func:`commit_rollback`).

The history is written in one ``git fast-import`` stream with the author and committer dates in it
(the same thing ``GIT_AUTHOR_DATE``/``GIT_COMMITTER_DATE`` do for ``git commit``), so building it
takes one process and a few tens of milliseconds; the live commits use ``git commit`` with those
variables. git runs with the user's global and system configuration ignored (no signing prompts,
no hooks) and with a timeout; an asyncio caller's cancellation kills the git process.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

GIT_TIMEOUT = 30.0
BRANCH = "main"


class RepoError(Exception):
    """The demo repository could not be built or changed (one line)."""


@dataclass(frozen=True)
class Author:
    name: str
    email: str
    offset_minutes: int  # the author's UTC offset, as git records it

    @property
    def tz(self) -> timezone:
        return timezone(timedelta(minutes=self.offset_minutes))

    def ident(self, at: datetime) -> str:
        sign = "+" if self.offset_minutes >= 0 else "-"
        hours, minutes = divmod(abs(self.offset_minutes), 60)
        return f"{self.name} <{self.email}> {int(at.timestamp())} {sign}{hours:02d}{minutes:02d}"

    def git_date(self, at: datetime) -> str:
        return at.astimezone(self.tz).isoformat(timespec="seconds")


MAYA = Author("Maya Patel", "48213377+mpatel@users.noreply.github.com", -8 * 60)
DIEGO = Author("Diego Fernández", "51920443+dfernandez-dev@users.noreply.github.com", -3 * 60)
AISHA = Author("Aisha Okafor", "60341298+aokafor@users.noreply.github.com", 60)
TOMASZ = Author("Tomasz Kowalczyk", "39175520+tkowalczyk@users.noreply.github.com", 60)
PRIYA = Author("Priya Raman", "72058814+priyaraman@users.noreply.github.com", 5 * 60 + 30)
SAM = Author("Sam O'Connor", "45509127+samoconnor@users.noreply.github.com", 0)
DEPENDABOT = Author("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com", 0)
ACTIONS = Author("github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com", 0)

# Subjects the rest of the demo (and its tests) refer to.
SEND_SMS_SUBJECT = "feat(send-sms): batch Twilio sends, 50 concurrent requests per invocation (#420)"
MIGRATION_SUBJECT = "feat(db): per-campaign send counters updated by trigger (#418)"
FREEZE_BREACH_SUBJECT = "feat(dashboard): CSV export of campaign recipients (#423)"


def release_name(at: datetime, number: int) -> str:
    return f"{at.astimezone(UTC):%Y.%m.%d}-{number}"


def deploy_subject(at: datetime, number: int, what: str) -> str:
    return f"deploy: production {release_name(at, number)} ({what})"


def migration_stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y%m%d%H%M%S")


# -- file contents --------------------------------------------------------------------------------

_PACKAGE_JSON = """{
  "name": "ace-engage",
  "private": true,
  "version": "0.0.0",
  "scripts": {
    "dev": "next dev",
    "build": "next build",
    "lint": "next lint",
    "test": "vitest run",
    "functions:serve": "supabase functions serve --env-file supabase/.env.local",
    "db:diff": "supabase db diff --use-migra"
  },
  "dependencies": {
    "@supabase/ssr": "^0.5.2",
    "@supabase/supabase-js": "^%(supabase_js)s",
    "libphonenumber-js": "^1.11.14",
    "next": "%(next)s",
    "react": "19.0.0-rc-66855b96-20241106",
    "react-dom": "19.0.0-rc-66855b96-20241106",
    "zod": "^3.23.8"
  },
  "devDependencies": {
    "@types/node": "^22.9.0",
    "supabase": "^1.219.2",
    "typescript": "^5.6.3",
    "vitest": "^2.1.5"
  }
}
"""

_README = """# ACE Engage

Campaign messaging for community organisations: contacts, campaigns, SMS delivery through Twilio.

- `src/` — the Next.js dashboard
- `supabase/functions/` — edge functions (`send-sms`, `twilio-webhook`, `campaign-scheduler`)
- `supabase/migrations/` — database migrations (`supabase db push`)
- `scripts/sql/rollbacks/` — hand-written rollbacks, one per migration

Deploys run from CI on `main` (see `deploy/production.json`). During an incident: no deploys until
the all-clear (see `docs/runbooks/`).
"""

_CONFIG_TOML = """project_id = "ace-engage"

[api]
port = 54321
schemas = ["public"]
max_rows = 1000

[db]
port = 54322
major_version = 15

[db.pooler]
enabled = true
pool_mode = "transaction"
default_pool_size = 20
max_client_conn = 100

[functions.send-sms]
verify_jwt = true

[functions.twilio-webhook]
verify_jwt = false
"""

_INITIAL_MIGRATION = """-- Initial schema: organisations, contacts, campaigns, delivery log, error log.
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
"""

_CONTACTS_MIGRATION = """-- Contacts imported from CSV, phone numbers normalised to E.164.
create table contacts (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references organizations (id),
  phone_e164 text not null check (phone_e164 ~ '^\\+[1-9][0-9]{7,14}$'),
  first_name text,
  opted_out_at timestamptz,
  created_at timestamptz not null default now(),
  unique (org_id, phone_e164)
);
"""

_SMS_INDEX_MIGRATION = """-- The campaign page reads deliveries by campaign, newest first.
create index concurrently if not exists sms_delivery_log_campaign_created_idx
  on sms_delivery_log (campaign_id, created_at desc);
"""

_COUNTERS_MIGRATION = """-- Per-campaign send counters for the live delivery funnel (#418).
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
"""

_COUNTERS_ROLLBACK = """-- Rollback for <ts>_campaign_send_counters.sql
drop trigger if exists sms_delivery_log_bump_counters on sms_delivery_log;
drop function if exists bump_campaign_counters();
alter table campaigns drop column if exists failed_count;
alter table campaigns drop column if exists sent_count;
"""

_TWILIO_SHARED = """// Shared Twilio client for edge functions.
const ACCOUNT_SID = Deno.env.get("TWILIO_ACCOUNT_SID")!;
const AUTH_TOKEN = Deno.env.get("TWILIO_AUTH_TOKEN")!;
const MESSAGING_SERVICE_SID = Deno.env.get("TWILIO_MESSAGING_SERVICE_SID")!;

export class TwilioTimeout extends Error {
  name = "TwilioTimeout";
}

export async function sendMessage(to: string, body: string, timeoutMs = 10_000) {
  const url = `https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`;
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), timeoutMs);
  try {
    const res = await fetch(url, {
      method: "POST",
      signal: ctrl.signal,
      headers: {
        Authorization: "Basic " + btoa(`${ACCOUNT_SID}:${AUTH_TOKEN}`),
        "Content-Type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams({ To: to, Body: body, MessagingServiceSid: MESSAGING_SERVICE_SID }),
    });
    const json = await res.json();
    if (!res.ok) return { ok: false as const, code: json.code as number, message: json.message as string };
    return { ok: true as const, sid: json.sid as string };
  } catch (err) {
    if (ctrl.signal.aborted) {
      throw new TwilioTimeout(`POST ${new URL(url).pathname} timed out after ${timeoutMs}ms`);
    }
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
"""

_SEND_SMS_V1 = """import { createClient } from "jsr:@supabase/supabase-js@2";
import { sendMessage } from "../_shared/twilio.ts";

// Sends one campaign's pending messages. Invoked by campaign-scheduler every minute.
Deno.serve(async (req) => {
  const { campaign_id } = await req.json();
  const db = createClient(Deno.env.get("SUPABASE_URL")!, Deno.env.get("SUPABASE_SERVICE_ROLE_KEY")!);

  const { data: recipients, error } = await db.rpc("next_campaign_recipients", { campaign_id, batch: 200 });
  if (error) return new Response(error.message, { status: 500 });

  let sent = 0;
  for (const r of recipients) {
    const result = await sendMessage(r.phone_e164, r.body);
    await db.from("sms_delivery_log").insert({
      campaign_id,
      phone_number: r.phone_e164,
      delivery_status: result.ok ? "queued" : "failed",
      error_code: result.ok ? null : result.code,
      error_message: result.ok ? null : result.message,
      twilio_sid: result.ok ? result.sid : null,
    });
    if (result.ok) sent++;
  }
  return Response.json({ campaign_id, sent });
});
"""

_SEND_SMS_V2 = """import { createClient } from "jsr:@supabase/supabase-js@2";
import postgres from "https://deno.land/x/postgresjs@v3.4.4/mod.js";
import { sendMessage } from "../_shared/twilio.ts";

// Sends one campaign's pending messages. Invoked by campaign-scheduler every minute.
// Sends are batched: up to CONCURRENCY Twilio requests in flight per invocation (#420).
const CONCURRENCY = 50;

Deno.serve(async (req) => {
  const { campaign_id } = await req.json();
  const db = createClient(Deno.env.get("SUPABASE_URL")!, Deno.env.get("SUPABASE_SERVICE_ROLE_KEY")!);

  const { data: recipients, error } = await db.rpc("next_campaign_recipients", { campaign_id, batch: 1000 });
  if (error) return new Response(error.message, { status: 500 });

  let sent = 0;
  for (let i = 0; i < recipients.length; i += CONCURRENCY) {
    const chunk = recipients.slice(i, i + CONCURRENCY);
    await Promise.all(
      chunk.map(async (r) => {
        // A direct connection per send keeps the log insert off the REST round trip.
        const sql = postgres(Deno.env.get("SUPABASE_DB_URL")!, { max: 1 });
        try {
          const result = await sendMessage(r.phone_e164, r.body);
          await sql`insert into sms_delivery_log
            (campaign_id, phone_number, delivery_status, error_code, error_message, twilio_sid)
            values (${campaign_id}, ${r.phone_e164}, ${result.ok ? "queued" : "failed"},
                    ${result.ok ? null : result.code}, ${result.ok ? null : result.message},
                    ${result.ok ? result.sid : null})`;
          if (result.ok) sent++;
        } finally {
          await sql.end();
        }
      }),
    );
  }
  return Response.json({ campaign_id, sent });
});
"""

_WEBHOOK = """import { createClient } from "jsr:@supabase/supabase-js@2";
import { validateTwilioSignature } from "./signature.ts";

// Twilio status callbacks: queued -> sent -> delivered | undelivered | failed.
Deno.serve(async (req) => {
  const form = await req.formData();
  if (!(await validateTwilioSignature(req, form))) return new Response("invalid signature", { status: 403 });
  const db = createClient(Deno.env.get("SUPABASE_URL")!, Deno.env.get("SUPABASE_SERVICE_ROLE_KEY")!);
  const status = String(form.get("MessageStatus"));
  await db
    .from("sms_delivery_log")
    .update({
      delivery_status: status === "undelivered" ? "failed" : status,
      error_code: form.get("ErrorCode") ? Number(form.get("ErrorCode")) : null,
    })
    .eq("twilio_sid", String(form.get("MessageSid")));
  return new Response(null, { status: 204 });
});
"""

_SIGNATURE_V1 = """// X-Twilio-Signature: HMAC-SHA1 of the URL followed by the sorted POST parameters.
export async function validateTwilioSignature(req: Request, form: FormData): Promise<boolean> {
  const signature = req.headers.get("X-Twilio-Signature") ?? "";
  const url = new URL(req.url).pathname;
  return await hmacMatches(url, form, signature);
}
"""

_SIGNATURE_V2 = _SIGNATURE_V1.replace(
    "const url = new URL(req.url).pathname;",
    "// Twilio signs the full public URL, including the query string (#394).\n"
    "  const { pathname, search } = new URL(req.url);\n"
    '  const url = Deno.env.get("PUBLIC_FUNCTIONS_URL") + pathname + search;',
)

_SCHEDULER = """import { createClient } from "jsr:@supabase/supabase-js@2";

// Every minute: start campaigns whose time has come and fan out to send-sms.
Deno.serve(async () => {
  const db = createClient(Deno.env.get("SUPABASE_URL")!, Deno.env.get("SUPABASE_SERVICE_ROLE_KEY")!);
  const { data: due } = await db
    .from("campaigns")
    .select("id")
    .eq("status", "scheduled")
    .lte("scheduled_at", new Date().toISOString());
  for (const c of due ?? []) {
    await db.from("campaigns").update({ status: "active" }).eq("id", c.id);
    await db.functions.invoke("send-sms", { body: { campaign_id: c.id } });
  }
  return Response.json({ started: due?.length ?? 0 });
});
"""

_SCHEDULER_TZ = _SCHEDULER.replace(
    '.lte("scheduled_at", new Date().toISOString());',
    '.lte("scheduled_at", new Date().toISOString());\n'
    "  // Recipients in other time zones are queued by next_campaign_recipients (#402).",
)

_PHONE_TS = """import { parsePhoneNumberFromString } from "libphonenumber-js/max";

/** Normalise a phone number typed by a person to E.164, or null when it cannot be a mobile. */
export function toE164(input: string, defaultCountry: "US" | "GB" = "US"): string | null {
  const parsed = parsePhoneNumberFromString(input.trim(), defaultCountry);
  if (!parsed?.isValid()) return null;
  const type = parsed.getType();
  if (type && type !== "MOBILE" && type !== "FIXED_LINE_OR_MOBILE") return null;
  return parsed.number;
}
"""

_CAMPAIGN_PAGE_V1 = """import { CampaignTable } from "@/components/campaign-table";
import { createClient } from "@/lib/supabase/server";

export default async function CampaignsPage({ searchParams }: { searchParams: { status?: string } }) {
  const supabase = await createClient();
  let query = supabase
    .from("campaigns")
    .select("id, name, status, scheduled_at")
    .order("created_at", { ascending: false });
  if (searchParams.status) query = query.eq("status", searchParams.status);
  const { data } = await query;
  return <CampaignTable campaigns={data ?? []} />;
}
"""

_STATS_TS_V1 = """export function dayKey(ts: string): string {
  return new Date(ts).toISOString().slice(0, 10);
}
"""

_STATS_TS_V2 = """/** The calendar day of a timestamp in the viewer's time zone (not UTC: #412). */
export function dayKey(ts: string, timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone }).format(new Date(ts));
}
"""

_FUNNEL_TSX = """"use client";
import { useEffect, useState } from "react";
import { createClient } from "@/lib/supabase/client";

/** Live delivery funnel: queued -> sent -> delivered, refreshed from Realtime. */
export function DeliveryFunnel({ campaignId }: { campaignId: string }) {
  const [counts, setCounts] = useState({ queued: 0, sent: 0, delivered: 0, failed: 0 });
  useEffect(() => {
    const supabase = createClient();
    const channel = supabase
      .channel(`funnel:${campaignId}`)
      .on(
        "postgres_changes",
        { event: "UPDATE", schema: "public", table: "campaigns", filter: `id=eq.${campaignId}` },
        ({ new: row }) => setCounts((c) => ({ ...c, sent: row.sent_count, failed: row.failed_count })),
      )
      .subscribe();
    return () => void supabase.removeChannel(channel);
  }, [campaignId]);
  return <ol className="funnel">{Object.entries(counts).map(([k, v]) => <li key={k}>{k}: {v}</li>)}</ol>;
}
"""

_EXPORT_ROUTE = """import { createClient } from "@/lib/supabase/server";

// GET /api/campaigns/:id/export -> CSV of recipients and their delivery status (#423).
export async function GET(_req: Request, { params }: { params: { id: string } }) {
  const supabase = await createClient();
  const { data, error } = await supabase
    .from("sms_delivery_log")
    .select("phone_number, delivery_status, error_code, created_at")
    .eq("campaign_id", params.id)
    .order("created_at");
  if (error) return new Response(error.message, { status: 500 });
  const rows = data.map((r) =>
    [r.phone_number, r.delivery_status, r.error_code ?? "", r.created_at].join(","),
  );
  return new Response(["phone_number,delivery_status,error_code,created_at", ...rows].join("\\n"), {
    headers: { "Content-Type": "text/csv; charset=utf-8" },
  });
}
"""

_RUNBOOK_TWILIO = """# Twilio error codes we see

| Code  | Meaning                          | What to do                                      |
|-------|----------------------------------|-------------------------------------------------|
| 21211 | Invalid 'To' Phone Number        | Fix the contact; import should have caught it   |
| 21610 | Unsubscribed recipient (STOP)    | Never retry; mark the contact opted out         |
| 20429 | Too Many Requests                | We are over the account's API concurrency: back off |
| 30001 | Queue overflow                   | Sending faster than the Messaging Service rate  |
| 30003 | Unreachable destination handset  | Phone off / out of coverage; retry later        |
| 30005 | Unknown destination handset      | Number no longer exists; stop sending           |
| 30006 | Landline or unreachable carrier  | Not a mobile; stop sending                      |
| 30008 | Unknown error                    | Retry once with jitter                          |
"""

_RUNBOOK_POOL = """# Connection pool sizing

Edge functions must reach Postgres through the pooler (port 6543, transaction mode), never with a
direct connection per request: the database allows 60 direct connections on our tier and
`remaining connection slots are reserved for non-replication superuser connections` means we ran
out. `default_pool_size = 20` in `supabase/config.toml`.
"""

_CI = """name: deploy
on:
  push:
    branches: [main]
    paths: ["deploy/production.json"]
jobs:
  deploy:
    runs-on: ubuntu-latest
    environment: production
    steps:
      - uses: actions/checkout@v4
      - uses: supabase/setup-cli@v1
      - run: supabase db push --linked
      - run: supabase functions deploy --project-ref ${{ secrets.SUPABASE_PROJECT_REF }}
      - run: npx vercel deploy --prod --token ${{ secrets.VERCEL_TOKEN }}
"""


def _manifest(release: str, functions: Sequence[str], migrations: int) -> str:
    names = ", ".join(f'"{f}"' for f in functions)
    return (
        "{\n"
        f'  "release": "{release}",\n'
        f'  "functions": [{names}],\n'
        f'  "migrations_applied": {migrations},\n'
        '  "dashboard": "vercel:ace-engage-prod"\n'
        "}\n"
    )


def _changelog(entries: list[tuple[str, list[str]]]) -> str:
    out = ["# Changelog", ""]
    for release, lines in reversed(entries):
        out.append(f"## {release}")
        out.append("")
        out += [f"- {line}" for line in lines]
        out.append("")
    return "\n".join(out)


@dataclass
class _Step:
    at: datetime
    author: Author
    subject: str
    body: str
    files: dict[str, str | None]  # path -> new content (None: delete)
    tag: str | None = None


def _history(deploy_at: datetime) -> list[_Step]:
    """Every commit of the demo history, oldest first."""
    d = deploy_at.astimezone(UTC).replace(microsecond=0)

    def ago(days: float = 0, hours: float = 0, minutes: float = 0) -> datetime:
        return d - timedelta(days=days, hours=hours, minutes=minutes)

    m0 = migration_stamp(ago(days=12, hours=3))
    m1 = migration_stamp(ago(days=8, hours=1, minutes=12))
    m2 = migration_stamp(ago(days=5, hours=2, minutes=40))
    m3 = migration_stamp(ago(hours=1, minutes=41))
    steps: list[_Step] = []
    changelog: list[tuple[str, list[str]]] = []
    pending: list[str] = []
    deploys = 0
    migrations = 1

    def step(
        at: datetime, author: Author, subject: str, files: dict[str, str | None], body: str = ""
    ) -> None:
        steps.append(_Step(at, author, subject, body, files))
        if not subject.startswith(("deploy:", "docs", "test", "chore(release)")):
            pending.append(subject)

    def deploy(at: datetime, what: str | None = None, *, tag: bool = True) -> None:
        nonlocal deploys
        deploys += 1
        number = 1 + sum(1 for s in steps if s.subject.startswith("deploy:") and s.at.date() == at.date())
        release = release_name(at, number)
        count = len(pending)
        changelog.append((release, list(pending) or ["maintenance"]))
        pending.clear()
        functions = ["send-sms", "twilio-webhook", "campaign-scheduler"]
        files = {
            "deploy/production.json": _manifest(release, functions, migrations),
            "CHANGELOG.md": _changelog(changelog),
        }
        summary = what or f"{count} commit{'s' if count != 1 else ''}"
        body = (
            f"Release {release} from main. Triggered by the merge queue.\n\nRun: deploy #{400 + deploys * 7}"
        )
        steps.append(_Step(at, ACTIONS, deploy_subject(at, number, summary), body, files))
        if tag:
            steps[-1].tag = f"release-{release}"

    # -- twelve days ago: the monorepo is imported -----------------------------------------------
    step(
        ago(days=12, hours=3),
        MAYA,
        "chore: import ace-engage monorepo (Next.js dashboard + Supabase)",
        {
            "README.md": _README,
            "package.json": _PACKAGE_JSON % {"supabase_js": "2.45.4", "next": "15.0.3"},
            ".gitignore": "node_modules/\n.next/\nsupabase/.env.local\n.env*.local\n",
            "supabase/config.toml": _CONFIG_TOML,
            f"supabase/migrations/{m0}_initial_schema.sql": _INITIAL_MIGRATION,
            "supabase/functions/_shared/twilio.ts": _TWILIO_SHARED,
            "supabase/functions/twilio-webhook/index.ts": _WEBHOOK,
            "supabase/functions/twilio-webhook/signature.ts": _SIGNATURE_V1,
            "src/app/(dashboard)/campaigns/page.tsx": _CAMPAIGN_PAGE_V1,
            "src/lib/stats.ts": _STATS_TS_V1,
            ".github/workflows/deploy.yml": _CI,
        },
        "Squashed history of the old repository; see the archive for earlier commits.",
    )
    step(
        ago(days=11, hours=22, minutes=14),
        AISHA,
        "feat(dashboard): campaign list with status filters (#388)",
        {
            "src/app/(dashboard)/campaigns/page.tsx": _CAMPAIGN_PAGE_V1.replace(
                "ascending: false", "ascending: false, nullsFirst: false"
            )
        },
    )
    step(
        ago(days=11, hours=5, minutes=2),
        DIEGO,
        "feat(send-sms): send campaign messages through Twilio Messaging Services (#390)",
        {
            "supabase/functions/send-sms/index.ts": _SEND_SMS_V1,
            "supabase/functions/campaign-scheduler/index.ts": _SCHEDULER,
        },
        "Moves sending out of the Next.js API route into an edge function invoked by the scheduler.",
    )
    deploy(ago(days=10, hours=23, minutes=30))
    step(
        ago(days=9, hours=4, minutes=51),
        PRIYA,
        "fix(twilio-webhook): verify X-Twilio-Signature against the full URL (#394)",
        {"supabase/functions/twilio-webhook/signature.ts": _SIGNATURE_V2},
        "Twilio signs the public URL including the query string; we hashed only the path, so every\n"
        "callback with ?org= was rejected with 403.",
    )
    step(
        ago(days=8, hours=6, minutes=3),
        DEPENDABOT,
        "chore(deps): bump next from 15.0.3 to 15.0.4 (#396)",
        {"package.json": _PACKAGE_JSON % {"supabase_js": "2.45.4", "next": "15.0.4"}},
        "Bumps [next](https://github.com/vercel/next.js) from 15.0.3 to 15.0.4.",
    )
    migrations += 1
    step(
        ago(days=8, hours=1, minutes=12),
        TOMASZ,
        "feat(db): contacts import with E.164 normalisation (#397)",
        {f"supabase/migrations/{m1}_contacts.sql": _CONTACTS_MIGRATION, "src/lib/phone.ts": _PHONE_TS},
    )
    step(
        ago(days=7, hours=20, minutes=40),
        SAM,
        "docs: on-call runbook for Twilio error codes (#399)",
        {"docs/runbooks/twilio-errors.md": _RUNBOOK_TWILIO},
    )
    deploy(ago(days=7, hours=3, minutes=15))
    step(
        ago(days=6, hours=2, minutes=27),
        AISHA,
        "feat(campaigns): schedule sends in the recipient's time zone (#402)",
        {"supabase/functions/campaign-scheduler/index.ts": _SCHEDULER_TZ},
    )
    migrations += 1
    step(
        ago(days=5, hours=2, minutes=40),
        MAYA,
        "perf(db): index sms_delivery_log (campaign_id, created_at) (#404)",
        {f"supabase/migrations/{m2}_sms_delivery_log_campaign_idx.sql": _SMS_INDEX_MIGRATION},
        "The campaign page's delivery list did a sequential scan over 40M rows.",
    )
    deploy(ago(days=5, hours=1, minutes=5))
    step(
        ago(days=4, hours=3, minutes=38),
        DIEGO,
        "fix(send-sms): retry 30008 Unknown error once with jitter (#407)",
        {
            "supabase/functions/send-sms/index.ts": _SEND_SMS_V1.replace(
                "    const result = await sendMessage(r.phone_e164, r.body);",
                "    let result = await sendMessage(r.phone_e164, r.body);\n"
                "    if (!result.ok && result.code === 30008) {\n"
                "      await new Promise((ok) => setTimeout(ok, 250 + Math.random() * 500));\n"
                "      result = await sendMessage(r.phone_e164, r.body);\n"
                "    }",
            )
        },
    )
    step(
        ago(days=3, hours=5, minutes=9),
        PRIYA,
        "feat(auth): SAML single sign-on for enterprise organisations (#409)",
        {"src/app/(auth)/sso/route.ts": 'export { GET, POST } from "@/lib/auth/saml";\n'},
    )
    step(
        ago(days=2, hours=7, minutes=44),
        DEPENDABOT,
        "chore(deps): bump @supabase/supabase-js from 2.45.4 to 2.46.1 (#410)",
        {"package.json": _PACKAGE_JSON % {"supabase_js": "2.46.1", "next": "15.0.4"}},
        "Bumps [@supabase/supabase-js](https://github.com/supabase/supabase-js) from 2.45.4 to 2.46.1.",
    )
    deploy(ago(days=2, hours=1, minutes=58))
    step(
        ago(days=1, hours=4, minutes=16),
        SAM,
        "fix(dashboard): campaign stats off by one day east of UTC (#412)",
        {"src/lib/stats.ts": _STATS_TS_V2},
    )
    step(
        ago(days=1, hours=2, minutes=3),
        TOMASZ,
        "test(send-sms): cover opt-out (21610) handling (#413)",
        {"supabase/functions/send-sms/index.test.ts": 'import { assertEquals } from "jsr:@std/assert";\n'},
    )
    deploy(ago(hours=20, minutes=12))
    step(
        ago(hours=5, minutes=22),
        AISHA,
        "feat(dashboard): live delivery funnel on the campaign page (#415)",
        {"src/components/delivery-funnel.tsx": _FUNNEL_TSX},
    )
    # -- the incident's ingredients ---------------------------------------------------------------
    migrations += 1
    step(
        ago(hours=1, minutes=41),
        TOMASZ,
        MIGRATION_SUBJECT,
        {
            f"supabase/migrations/{m3}_campaign_send_counters.sql": _COUNTERS_MIGRATION,
            f"scripts/sql/rollbacks/{m3}_campaign_send_counters.sql": _COUNTERS_ROLLBACK.replace("<ts>", m3),
        },
        "The live funnel (#415) needs counts without scanning the log: a trigger keeps\n"
        "campaigns.sent_count and failed_count up to date on every insert.",
    )
    step(
        ago(hours=1, minutes=5),
        DIEGO,
        SEND_SMS_SUBJECT,
        {"supabase/functions/send-sms/index.ts": _SEND_SMS_V2},
        "Large campaigns took 20+ minutes to go out one message at a time. Send 50 at a time and\n"
        "log each result with a direct connection instead of a REST round trip.",
    )
    step(
        ago(minutes=52),
        PRIYA,
        "fix(auth): refresh the session before it expires on idle tabs (#421)",
        {
            "src/lib/supabase/client.ts": (
                'export { createBrowserClient as createClient } from "@supabase/ssr";\n'
            )
        },
    )
    step(
        ago(minutes=37),
        MAYA,
        "chore(release): changelog for the afternoon release",
        {"docs/releases.md": "Afternoon release: send-sms batching, campaign send counters, auth fix.\n"},
    )
    deploy(d, "send-sms batching, campaign send counters")
    step(
        d + timedelta(minutes=8),
        SAM,
        "docs(runbook): connection pool sizing for edge functions (#422)",
        {"docs/runbooks/connection-pool.md": _RUNBOOK_POOL},
    )
    return steps


# -- running git ----------------------------------------------------------------------------------


def git_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment git runs in: the user's global/system config ignored, never a prompt."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        {
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_OPTIONAL_LOCKS": "0",
            "LC_ALL": "C",
        }
    )
    if extra:
        env.update(extra)
    return env


_BASE_ARGS = (
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "commit.gpgsign=false",
    "-c",
    "tag.gpgsign=false",
    "-c",
    "init.defaultBranch=main",
    "-c",
    "core.autocrlf=false",
    "-c",
    "gc.auto=0",
    "-c",
    "maintenance.auto=false",
)


def _git_program() -> str:
    program = shutil.which("git")
    if program is None:
        raise RepoError("git is not installed (the demo repository needs it)")
    return program


def _git(repo: Path, *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> str:
    cmd = [_git_program(), *_BASE_ARGS, "-C", str(repo), *args]
    try:
        done = subprocess.run(
            cmd,
            input=stdin,
            capture_output=True,
            timeout=GIT_TIMEOUT,
            check=False,
            env=git_env(env),
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise RepoError(f"git {args[0]} failed: {exc}") from None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).decode("utf-8", "replace").strip().splitlines()[-1:]
        raise RepoError(f"git {args[0]} failed: {tail[0] if tail else f'exit status {done.returncode}'}")
    return done.stdout.decode("utf-8", "replace")


def _data(text: str) -> bytes:
    raw = text.encode("utf-8")
    return b"data %d\n" % len(raw) + raw + b"\n"


def _stream(steps: list[_Step]) -> bytes:
    out = bytearray()
    for mark, s in enumerate(steps, start=1):
        out += f"commit refs/heads/{BRANCH}\nmark :{mark}\n".encode()
        out += f"author {s.author.ident(s.at)}\n".encode()
        out += f"committer {s.author.ident(s.at)}\n".encode()
        message = s.subject + ("\n\n" + s.body if s.body else "") + "\n"
        out += _data(message)
        if mark > 1:
            out += f"from :{mark - 1}\n".encode()
        for path, content in s.files.items():
            if content is None:
                out += f"D {path}\n".encode()
            else:
                raw = content.encode("utf-8")
                out += f"M 100644 inline {path}\n".encode() + b"data %d\n" % len(raw) + raw + b"\n"
        out += b"\n"
        if s.tag:
            out += f"tag {s.tag}\nfrom :{mark}\ntagger {s.author.ident(s.at)}\n".encode()
            out += _data(f"Release {s.tag.removeprefix('release-')}\n")
    out += b"done\n"
    return bytes(out)


def build(path: Path, deploy_at: datetime) -> None:
    """(Re)create the demo repository at ``path`` with its history ending after ``deploy_at``."""
    path = Path(path)
    try:
        if path.exists():
            shutil.rmtree(path)
        path.mkdir(parents=True)
    except OSError as exc:
        raise RepoError(f"cannot create the demo repository in {path}: {exc.strerror or exc}") from None
    try:
        _git(path, "init", "-q", "-b", BRANCH)
        _git(path, "fast-import", "--quiet", "--done", stdin=_stream(_history(deploy_at)))
        _git(path, "checkout", "-q", "-f", BRANCH)
    except RepoError:
        with contextlib.suppress(OSError):
            shutil.rmtree(path)
        raise


def is_valid(path: Path) -> bool:
    """Whether ``path`` holds a demo repository with commits (cheap: reads files, runs nothing)."""
    git_dir = Path(path) / ".git"
    head = git_dir / "HEAD"
    try:
        ref = head.read_text().strip()
    except OSError:
        return False
    if not ref.startswith("ref: "):
        return False
    ref_path = git_dir / ref[5:]
    if ref_path.is_file():
        return True
    try:
        packed = (git_dir / "packed-refs").read_text()
    except OSError:
        return False
    return any(line.endswith(" " + ref[5:]) for line in packed.splitlines())


def head_subjects(path: Path, count: int = 50) -> list[str]:
    """The subjects of the last ``count`` commits, newest first (for tests and checks)."""
    return _git(Path(path), "log", f"-n{count}", "--format=%s").splitlines()


def find_commit(path: Path, subject: str) -> str | None:
    """The full sha of the newest commit with exactly this subject."""
    out = _git(Path(path), "log", "--format=%H%x00%s")
    for line in out.splitlines():
        sha, _, s = line.partition("\x00")
        if s == subject:
            return sha
    return None


# -- live commits (async, for the generator) ------------------------------------------------------------


async def _agit(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Run git without blocking the event loop; cancelling the caller kills git."""
    proc = await asyncio.create_subprocess_exec(
        _git_program(),
        *_BASE_ARGS,
        "-C",
        str(repo),
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=git_env(env),
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), GIT_TIMEOUT)
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        with contextlib.suppress(BaseException):
            await asyncio.shield(proc.wait())
        raise
    if proc.returncode != 0:
        tail = (err or out).decode("utf-8", "replace").strip().splitlines()[-1:]
        raise RepoError(f"git {args[0]} failed: {tail[0] if tail else f'exit status {proc.returncode}'}")
    return out.decode("utf-8", "replace")


def _dates(author: Author, at: datetime) -> dict[str, str]:
    return {
        "GIT_AUTHOR_NAME": author.name,
        "GIT_AUTHOR_EMAIL": author.email,
        "GIT_AUTHOR_DATE": author.git_date(at),
        "GIT_COMMITTER_NAME": author.name,
        "GIT_COMMITTER_EMAIL": author.email,
        "GIT_COMMITTER_DATE": author.git_date(at),
    }


async def commit_freeze_breach(repo: Path, at: datetime) -> str:
    """A feature merged while the P0's deploy freeze holds (the commits pane flags it). Returns its sha."""
    target = Path(repo) / "src/app/api/campaigns/[id]/export/route.ts"
    await asyncio.to_thread(_write, target, _EXPORT_ROUTE)
    await _agit(repo, "add", "--", str(target.relative_to(repo)))
    await _agit(
        repo,
        "commit",
        "-q",
        "--no-verify",
        "-m",
        FREEZE_BREACH_SUBJECT,
        "-m",
        "Customers asked for a way to see which recipients failed. Reads sms_delivery_log by campaign.",
        env=_dates(AISHA, at),
    )
    return (await _agit(repo, "rev-parse", "HEAD")).strip()


async def commit_rollback(repo: Path, at: datetime) -> list[str]:
    """The mitigation as it lands in git: revert the send-sms batching, then a hotfix deploy."""
    target = await asyncio.to_thread(find_commit, repo, SEND_SMS_SUBJECT)
    if target is None:
        raise RepoError("the send-sms batching commit is not in the demo repository")
    await _agit(repo, "revert", "--no-edit", target, env=_dates(DIEGO, at - timedelta(seconds=50)))
    subjects = await asyncio.to_thread(head_subjects, repo, 60)
    prefix = f"deploy: production {at.astimezone(UTC):%Y.%m.%d}-"
    number = 1 + sum(1 for s in subjects if s.startswith(prefix))
    release = release_name(at, number)
    manifest = Path(repo) / "deploy/production.json"
    await asyncio.to_thread(
        _write, manifest, _manifest(release, ["send-sms", "twilio-webhook", "campaign-scheduler"], 4)
    )
    await _agit(repo, "add", "--", "deploy/production.json")
    await _agit(
        repo,
        "commit",
        "-q",
        "--no-verify",
        "-m",
        deploy_subject(at, number, "hotfix: revert send-sms batching"),
        "-m",
        f"Release {release} from main. Triggered manually during the incident (rollback).",
        env=_dates(ACTIONS, at),
    )
    await _agit(repo, "tag", "-a", f"release-{release}", "-m", f"Release {release}", env=_dates(ACTIONS, at))
    return [
        (await _agit(repo, "rev-parse", "HEAD~1")).strip(),
        (await _agit(repo, "rev-parse", "HEAD")).strip(),
    ]


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
