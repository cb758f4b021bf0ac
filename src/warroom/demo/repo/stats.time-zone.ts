/** The calendar day of a timestamp in the viewer's time zone (not UTC: #412). */
export function dayKey(ts: string, timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone }).format(new Date(ts));
}
