import { createClient } from "jsr:@supabase/supabase-js@2";

// Every minute: start campaigns whose time has come and fan out to send-sms.
Deno.serve(async () => {
  const db = createClient(Deno.env.get("SUPABASE_URL")!, Deno.env.get("SUPABASE_SERVICE_ROLE_KEY")!);
  const { data: due } = await db
    .from("campaigns")
    .select("id")
    .eq("status", "scheduled")
    .lte("scheduled_at", new Date().toISOString());
  // Recipients in other time zones are queued by next_campaign_recipients (#402).
  for (const c of due ?? []) {
    await db.from("campaigns").update({ status: "active" }).eq("id", c.id);
    await db.functions.invoke("send-sms", { body: { campaign_id: c.id } });
  }
  return Response.json({ started: due?.length ?? 0 });
});
