import { createClient } from "jsr:@supabase/supabase-js@2";
import { sendMessage } from "../_shared/twilio.ts";

// Sends one campaign's pending messages. Invoked by campaign-scheduler every minute.
Deno.serve(async (req) => {
  const { campaign_id } = await req.json();
  const db = createClient(Deno.env.get("SUPABASE_URL")!, Deno.env.get("SUPABASE_SERVICE_ROLE_KEY")!);

  const { data: recipients, error } = await db.rpc("next_campaign_recipients", { campaign_id, batch: 200 });
  if (error) return new Response(error.message, { status: 500 });

  let sent = 0;
  for (const r of recipients) {
    let result = await sendMessage(r.phone_e164, r.body);
    if (!result.ok && result.code === 30008) {
      await new Promise((ok) => setTimeout(ok, 250 + Math.random() * 500));
      result = await sendMessage(r.phone_e164, r.body);
    }
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
