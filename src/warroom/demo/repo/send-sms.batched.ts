import { createClient } from "jsr:@supabase/supabase-js@2";
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
