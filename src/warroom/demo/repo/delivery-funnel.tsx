"use client";
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
