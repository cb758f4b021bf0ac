import { CampaignTable } from "@/components/campaign-table";
import { createClient } from "@/lib/supabase/server";

export default async function CampaignsPage({ searchParams }: { searchParams: { status?: string } }) {
  const supabase = await createClient();
  let query = supabase
    .from("campaigns")
    .select("id, name, status, scheduled_at")
    .order("created_at", { ascending: false, nullsFirst: false });
  if (searchParams.status) query = query.eq("status", searchParams.status);
  const { data } = await query;
  return <CampaignTable campaigns={data ?? []} />;
}
