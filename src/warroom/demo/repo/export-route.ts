import { createClient } from "@/lib/supabase/server";

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
  return new Response(["phone_number,delivery_status,error_code,created_at", ...rows].join("\n"), {
    headers: { "Content-Type": "text/csv; charset=utf-8" },
  });
}
