import { createClient } from "jsr:@supabase/supabase-js@2";
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
