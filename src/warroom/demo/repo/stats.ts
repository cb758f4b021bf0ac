export function dayKey(ts: string): string {
  return new Date(ts).toISOString().slice(0, 10);
}
